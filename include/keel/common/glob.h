#pragma once

#include <string_view>

namespace keel {

// Matches `str` against a Redis glob pattern: '*', '?', '[...]' classes with ranges and '^'
// negation, and '\' escapes. Used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE and CLIENT KILL.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace keel
