#pragma once

// Keyspace notifications (notify-keyspace-events), the command side.
//
// A change's event travels with the change: a handler reports a write with
// KeyChanged(ctx, key, Event{'$', "set"}, dirty) or a removal with KeyDeleted (keel/commands/
// write.h), and that one call both feeds the write path's seam (WATCH, dirty counter, AOF) and
// publishes the event, so a change cannot be reported without its event or the other way
// round. "expired" and "evicted" come from the keyspace's own seam (main.cc's hooks). Only the
// two events that are not changes are sent on their own, from here: "new" (a key was added;
// Redis's dbAdd, sent just before the change that added it) and "keymiss" (a read found no key).
//
// Every helper returns at once, building no string and allocating nothing, when no event class
// is enabled (the default), so the write path pays one relaxed atomic load per change for them.

#include <string_view>

#include "keel/commands/dispatcher.h"
#include "keel/commands/pubsub.h"
#include "keel/commands/server_state.h"
#include "keel/config/config.h"

namespace keel {

// One keyspace event: its class letter ('g' generic, '$' string, 'l' list, 's' set, 'h' hash,
// 'z' sorted set; 'x', 'e', 'm' and 'n' are sent by the seam and the helpers below) and its
// name. A change that Redis reports with no event (SMOVE's destination that already held the
// member, PFCOUNT refreshing its cache, DEBUG) passes kNoEvent, which says so at the call.
struct Event {
  char type = 0;  // 0: no event
  std::string_view name;
};
inline constexpr Event kNoEvent{};
// 'g' "del": a command removed a key (DEL, or a collection left empty). KeyDeleted's default.
inline constexpr Event kDelEvent{'g', "del"};

// True when notify-keyspace-events enables anything. Handlers use it to skip work done only to
// decide which events to send (e.g. an extra lookup to tell a new key from an overwrite).
inline bool NotifyOn(const ServerState& server) {
  return server.notify_flags->load(std::memory_order_relaxed) != 0;
}
inline bool NotifyOn(const CommandContext& ctx) { return NotifyOn(ctx.server); }

namespace notify_internal {
// Publishes `event` for `key` in `db` if it is an event and notifications are on. Handlers do
// not call it: their events go with their changes (write.h).
inline void Publish(ServerState& server, int db, std::string_view key, Event event) {
  if (event.type != 0) NotifyKeyspaceEvent(server, event.type, event.name, key, db);
}
}  // namespace notify_internal

// 'n' "new": `key` is being added to database `db` (Redis's dbAdd). Not a change of its own:
// call it just before reporting the change that adds the key, so that it comes first.
inline void NewKeyEvent(ServerState& server, std::string_view key, int db) {
  if (!NotifyOn(server)) return;
  notify_internal::Publish(server, db, key, Event{'n', "new"});
}
inline void NewKeyEvent(CommandContext& ctx, std::string_view key) {
  NewKeyEvent(ctx.server, key, ctx.db());
}

// 'm' "keymiss": a read command's lookup of `key` in `db` found no key. Not a change.
inline void KeyMissEvent(ServerState& server, std::string_view key, int db) {
  if (!NotifyOn(server)) return;
  notify_internal::Publish(server, db, key, Event{'m', "keymiss"});
}
inline void KeyMissEvent(CommandContext& ctx, std::string_view key) {
  KeyMissEvent(ctx.server, key, ctx.db());
}

}  // namespace keel
