#pragma once
// Placeholder: the hash value type lands here.
