#pragma once

// CLIENT PAUSE (pause_family.cc): while a pause is on, the dispatcher postpones the commands it
// covers (every command for ALL; for WRITE the write and may-replicate commands, and an EXEC
// that queued one) until the pause ends or CLIENT UNPAUSE. A postponed client is blocked
// (Client::blocked) with a copy of its command and polls the pause on its own io thread.

#include <span>
#include <string_view>

namespace keel {

struct Client;
struct CommandMeta;
struct ServerState;

// Called by the dispatcher before running (or queueing) a command. Returns true when the
// command was postponed: it will run when the pause ends, and its reply comes then. Costs one
// relaxed load while no pause is on.
bool PostponeIfPaused(ServerState& server, Client& client, const CommandMeta& meta,
                      std::span<const std::string_view> args);

}  // namespace keel
