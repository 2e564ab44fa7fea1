#pragma once

#include <cstdint>
#include <string_view>

#include "keel/commands/dispatcher.h"

namespace keel {

// SCAN, SSCAN and HSCAN share their argument syntax and errors.
inline constexpr std::string_view kInvalidCursor = "ERR invalid cursor";

// Parses a cursor as Redis does (strtoul semantics: optional sign, no leading space, the whole
// string, no overflow; an empty string is 0).
bool ParseScanCursor(std::string_view s, uint64_t* out);

struct ScanOptions {
  std::string_view pattern;
  bool use_pattern = false;  // false for no MATCH or MATCH *
  int64_t count = 10;
  std::string_view type;
  bool has_type = false;
};

// Parses [MATCH pattern] [COUNT count] (and [TYPE type] when allow_type) from args[first...],
// replying with Redis's error and returning false on bad input.
bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanOptions* out);

}  // namespace keel
