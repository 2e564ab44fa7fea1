#pragma once
// Placeholder: the list value type lands here.
