#pragma once

// Lookups and type checks that the data-type families share.

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/server_state.h"
#include "keel/common/strings.h"
#include "keel/keyspace/keyspace.h"
#include "keel/protocol/errors.h"
#include "notify.h"
#include "write.h"

namespace keel {

// Counts a read command's lookup of `key` in `db` as a keyspace hit or miss and, for a miss,
// notifies "keymiss" (unless `notify_miss` is false: OBJECT's lookups, Redis's LOOKUP_NONOTIFY).
inline void CountRead(CommandContext& ctx, int db, std::string_view key, bool hit,
                      bool notify_miss = true) {
  (hit ? ctx.server.stats.keyspace_hits : ctx.server.stats.keyspace_misses)
      .fetch_add(1, std::memory_order_relaxed);
  if (!hit && notify_miss) KeyMissEvent(ctx.server, key, db);
}

// A read lookup, as Redis's lookupKeyRead (see CountRead). Returns the link to the entry (for
// replacing or deleting it), or nullptr.
inline Entry** ReadLookupLink(CommandContext& ctx, std::string_view key) {
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  CountRead(ctx, ctx.db(), key, link != nullptr);
  return link;
}
inline Entry* ReadLookup(CommandContext& ctx, std::string_view key) {
  Entry** link = ReadLookupLink(ctx, key);
  return link != nullptr ? *link : nullptr;
}

// Replies WRONGTYPE and returns true when `e` exists and is not of `type`.
inline bool WrongType(CommandContext& ctx, const Entry* e, ObjType type) {
  if (e != nullptr && e->type != type) {
    ctx.reply.Error(errors::kWrongType);
    return true;
  }
  return false;
}

// The end of a removal from a collection (SREM, HDEL): reports the change with `event` when
// something was removed, deletes the key ("del") when that left it empty, and replies the
// count.
inline void FinishRemoval(CommandContext& ctx, std::string_view key, Event event, int64_t removed,
                          bool now_empty) {
  if (removed > 0) {
    KeyChanged(ctx, key, event, static_cast<uint64_t>(removed));
    if (now_empty && ctx.keyspace().Delete(ctx.db(), key)) KeyDeleted(ctx, key, 0);
  }
  ctx.reply.Integer(removed);
}

// The count argument of SRANDMEMBER and HRANDFIELD (args[2]): an integer whose negation fits.
inline bool ParseRandomCount(CommandContext& ctx, int64_t* count) {
  std::optional<int64_t> v = ParseInt64(ctx.args[2]);
  if (!v) {
    ctx.reply.Error(errors::kNotInteger);
    return false;
  }
  if (*v == INT64_MIN) {
    ctx.reply.Error(errors::kCountRange);
    return false;
  }
  *count = *v;
  return true;
}

// Parses "numkeys key [key ...] A|B [COUNT count]" from args[first] (LMPOP/BLMPOP with LEFT and
// RIGHT, ZMPOP/BZMPOP with MIN and MAX): *is_a tells which word came. Returns false after
// replying Redis's error.
inline bool ParseMPopArgs(CommandContext& ctx, size_t first, std::string_view a, std::string_view b,
                          std::vector<std::string_view>* keys, bool* is_a, int64_t* count) {
  std::optional<int64_t> n = ParseInt64(ctx.args[first]);
  if (!n || *n <= 0) {
    ctx.reply.Error(errors::kNumkeysPositive);
    return false;
  }
  size_t where = first + 1 + static_cast<size_t>(*n);
  if (*n > static_cast<int64_t>(ctx.args.size()) || where >= ctx.args.size()) {
    ctx.reply.Error(errors::kSyntax);
    return false;
  }
  for (size_t i = first + 1; i < where; ++i) keys->push_back(ctx.args[i]);
  *is_a = EqualsIgnoreCase(ctx.args[where], a);
  if (!*is_a && !EqualsIgnoreCase(ctx.args[where], b)) {
    ctx.reply.Error(errors::kSyntax);
    return false;
  }
  *count = 1;
  bool seen_count = false;
  for (size_t i = where + 1; i < ctx.args.size(); i += 2) {
    if (seen_count || !EqualsIgnoreCase(ctx.args[i], "count") || i + 1 >= ctx.args.size()) {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
    std::optional<int64_t> c = ParseInt64(ctx.args[i + 1]);
    if (!c || *c <= 0) {
      ctx.reply.Error(errors::kCountPositive);
      return false;
    }
    *count = *c;
    seen_count = true;
  }
  return true;
}

// The "[LIMIT limit]" tail of SINTERCARD and ZINTERCARD, from args[from]; 0 is no limit.
// Returns false after replying Redis's error.
inline bool ParseCardLimit(CommandContext& ctx, size_t from, int64_t* limit) {
  *limit = 0;
  for (size_t i = from; i < ctx.args.size(); i += 2) {
    if (!EqualsIgnoreCase(ctx.args[i], "limit") || i + 1 >= ctx.args.size()) {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
    std::optional<int64_t> l = ParseInt64(ctx.args[i + 1]);
    if (!l || *l < 0) {
      ctx.reply.Error(errors::kLimitNegative);
      return false;
    }
    *limit = *l;
  }
  return true;
}

// The random source of the commands that pick at random (SPOP, HRANDFIELD, RANDOMKEY, ...).
inline std::mt19937_64& CommandRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace keel
