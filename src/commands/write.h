#pragma once

// The command side of the write path (keel/keyspace/changes.h, Keyspace::Changed). A handler
// reports each change it made, right after making it and under the key's lock, with its
// keyspace event (notify.h) and the amount Redis adds to its dirty counter for it
// (SADD: the members added; DEL: one per key removed; most others 1). One call does both: the
// change reaches the seam (WATCH, the dirty counter, the observers: AOF, tracking) and then the
// event is published, so events come in the order the changes were made. A write that changed
// nothing reports nothing: WATCH then does not fire, the dirty counter stays, no event is sent,
// and the dispatcher records the command's outcome as "no change".
//
// Some changes carry two events (SET ... EX: "set" then "expire"; an SPOP that empties the set:
// "spop" then "del"); they pass both, in the order Redis sends them. With notifications off
// (the default) the events cost one relaxed load per call.

#include <cstdint>
#include <string_view>

#include "keel/commands/dispatcher.h"
#include "keel/keyspace/keyspace.h"
#include "notify.h"

namespace keel {

namespace write_internal {
// One change to the seam, then its events (kNoEvent ones are skipped).
inline void Report(ServerState& server, int db, std::string_view key, ChangeKind kind, Event event,
                   Event then, uint64_t dirty) {
  server.keyspace->Changed(db, key, kind, dirty);
  if (!NotifyOn(server)) return;
  notify_internal::Publish(server, db, key, event);
  notify_internal::Publish(server, db, key, then);
}
}  // namespace write_internal

// `key` in database `db` was written (stored, edited, re-timed; even to the same value);
// publishes `event` (then `then`, if given).
inline void KeyChanged(ServerState& server, int db, std::string_view key, Event event,
                       uint64_t dirty = 1) {
  write_internal::Report(server, db, key, ChangeKind::kWrite, event, kNoEvent, dirty);
}
inline void KeyChanged(ServerState& server, int db, std::string_view key, Event event, Event then,
                       uint64_t dirty = 1) {
  write_internal::Report(server, db, key, ChangeKind::kWrite, event, then, dirty);
}
inline void KeyChanged(CommandContext& ctx, std::string_view key, Event event, uint64_t dirty = 1) {
  write_internal::Report(ctx.server, ctx.db(), key, ChangeKind::kWrite, event, kNoEvent, dirty);
}
inline void KeyChanged(CommandContext& ctx, std::string_view key, Event event, Event then,
                       uint64_t dirty = 1) {
  write_internal::Report(ctx.server, ctx.db(), key, ChangeKind::kWrite, event, then, dirty);
}

// `key` in database `db` was removed by the command; publishes "del" unless told otherwise
// (RENAME's source sends "rename_from", MOVE's "move_from"; an SPOP that empties the set sends
// "spop" then "del").
inline void KeyDeleted(ServerState& server, int db, std::string_view key, uint64_t dirty = 1) {
  write_internal::Report(server, db, key, ChangeKind::kDelete, kDelEvent, kNoEvent, dirty);
}
inline void KeyDeleted(ServerState& server, int db, std::string_view key, Event event,
                       uint64_t dirty = 1) {
  write_internal::Report(server, db, key, ChangeKind::kDelete, event, kNoEvent, dirty);
}
inline void KeyDeleted(CommandContext& ctx, std::string_view key, uint64_t dirty = 1) {
  write_internal::Report(ctx.server, ctx.db(), key, ChangeKind::kDelete, kDelEvent, kNoEvent,
                         dirty);
}
inline void KeyDeleted(CommandContext& ctx, std::string_view key, Event event, uint64_t dirty = 1) {
  write_internal::Report(ctx.server, ctx.db(), key, ChangeKind::kDelete, event, kNoEvent, dirty);
}
inline void KeyDeleted(CommandContext& ctx, std::string_view key, Event event, Event then,
                       uint64_t dirty = 1) {
  write_internal::Report(ctx.server, ctx.db(), key, ChangeKind::kDelete, event, then, dirty);
}

}  // namespace keel
