#pragma once

// What the geo commands (geo_family.cc) share with the sorted set commands (zset_family.cc):
// the packed-encoding limits and the end of every command that stores a sorted set.

#include <cstdint>
#include <string_view>

#include "keel/commands/dispatcher.h"
#include "keel/keyspace/zset_object.h"

namespace keel {

struct ServerState;

// zset-max-listpack-entries and zset-max-listpack-value, as the encoding limits.
ZsetRef::Limits ZsetLimits(ServerState& server);

// Stores `out` (a detached sorted set for `dst`, owned; the sources are no longer read, as
// storing may free an entry they point into) in place of whatever dst holds, dropping its TTL,
// or deletes dst when `out` is empty. Notifies "new" and `event` (or "del"), counts `dirty`
// changes and replies the size.
void StoreZset(CommandContext& ctx, std::string_view dst, ZsetRef out, std::string_view event,
               uint64_t dirty = 1);

// ZADD with ctx.args as its arguments (GEOADD runs it on the ZADD form of its own).
void ZaddCommand(CommandContext& ctx);

}  // namespace keel
