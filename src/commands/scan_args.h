#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/keyspace/entry.h"

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

// The common start of SSCAN and HSCAN (`key cursor [MATCH p] [COUNT n]`): parses the cursor and
// options and looks the key up. Returns the entry to scan, or nullptr when the reply is already
// written (an error, or an empty result for a missing key).
Entry* StartKeyScan(CommandContext& ctx, ObjType type, uint64_t* cursor, ScanOptions* opts);

// Walks a table's reverse-binary cursor from `cursor` until COUNT items were seen (or 10*COUNT
// buckets were visited): `bucket(c)` scans the bucket(s) at c, returns the next cursor and adds
// what it saw to `*seen`. Returns the cursor to hand back, 0 when the scan is complete.
template <typename Bucket>
uint64_t ScanCount(uint64_t cursor, int64_t count, Bucket&& bucket) {
  uint64_t seen = 0;
  uint64_t steps = static_cast<uint64_t>(count) * 10;
  uint64_t next = cursor;
  do {
    next = bucket(next, &seen);
  } while (next != 0 && --steps > 0 && seen < static_cast<uint64_t>(count));
  return next;
}

// The reply of SSCAN and HSCAN: the next cursor and the items found.
void ReplyKeyScan(ReplyBuilder& reply, uint64_t next, const std::vector<std::string>& items);

}  // namespace keel
