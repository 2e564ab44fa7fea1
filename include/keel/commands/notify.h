#pragma once

// Keyspace notifications from command handlers (notify-keyspace-events). Every helper returns at
// once, building no string and allocating nothing, when no event class is enabled (the default),
// so calling them on the write path costs one relaxed atomic load.

#include <string_view>

#include "keel/commands/dispatcher.h"
#include "keel/commands/pubsub.h"
#include "keel/commands/server_state.h"
#include "keel/config/config.h"

namespace keel {

// True when notify-keyspace-events enables anything. Handlers use it to skip work done only to
// decide which events to send (e.g. an extra lookup to tell a new key from an overwrite).
inline bool NotifyOn(const ServerState& server) {
  return server.config->notify_keyspace_flags() != 0;
}
inline bool NotifyOn(const CommandContext& ctx) { return NotifyOn(ctx.server); }

// Publishes `event` for `key` in database `db`; `type` is the class letter ('g', '$', 'l', 's',
// 'h', 'x', 'm', 'n').
inline void KeyEvent(ServerState& server, char type, std::string_view event, std::string_view key,
                     int db) {
  if (!NotifyOn(server)) return;
  NotifyKeyspaceEvent(server, type, event, key, db);
}

// The same, in the client's current database.
inline void KeyEvent(CommandContext& ctx, char type, std::string_view event, std::string_view key) {
  KeyEvent(ctx.server, type, event, key, ctx.db());
}

// 'n' "new": a key was added to the database (Redis's dbAdd).
inline void NewKeyEvent(ServerState& server, std::string_view key, int db) {
  KeyEvent(server, 'n', "new", key, db);
}
inline void NewKeyEvent(CommandContext& ctx, std::string_view key) {
  NewKeyEvent(ctx.server, key, ctx.db());
}

// 'g' "del": a command removed a key (DEL, or a collection left empty).
inline void DelEvent(ServerState& server, std::string_view key, int db) {
  KeyEvent(server, 'g', "del", key, db);
}
inline void DelEvent(CommandContext& ctx, std::string_view key) {
  DelEvent(ctx.server, key, ctx.db());
}

// 'm' "keymiss": a read command's lookup found no key.
inline void KeyMissEvent(CommandContext& ctx, std::string_view key) {
  KeyEvent(ctx, 'm', "keymiss", key);
}

}  // namespace keel
