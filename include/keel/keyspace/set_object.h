#pragma once
// Placeholder: the set value type lands here.
