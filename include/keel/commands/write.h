#pragma once

// The command side of the write path (keel/keyspace/changes.h, Keyspace::Changed). A handler
// reports each change it made, right after making it and under the key's lock, with the amount
// Redis adds to its dirty counter for it (SADD: the members added; DEL: one per key removed;
// most others 1). A write that changed nothing reports nothing: WATCH then does not fire, the
// dirty counter stays, and the dispatcher records the command's outcome as "no change".

#include <cstdint>
#include <string_view>

#include "keel/commands/dispatcher.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

// `key` in database `db` was written (stored, edited, re-timed; even to the same value).
inline void KeyChanged(ServerState& server, int db, std::string_view key, uint64_t dirty = 1) {
  server.keyspace->Changed(db, key, ChangeKind::kWrite, dirty);
}
inline void KeyChanged(CommandContext& ctx, std::string_view key, uint64_t dirty = 1) {
  KeyChanged(ctx.server, ctx.db(), key, dirty);
}

// `key` in database `db` was removed by the command.
inline void KeyDeleted(ServerState& server, int db, std::string_view key, uint64_t dirty = 1) {
  server.keyspace->Changed(db, key, ChangeKind::kDelete, dirty);
}
inline void KeyDeleted(CommandContext& ctx, std::string_view key, uint64_t dirty = 1) {
  KeyDeleted(ctx.server, ctx.db(), key, dirty);
}

}  // namespace keel
