#pragma once

namespace keel {

class CommandRegistry;
struct ServerState;

// Serves clients blocked on the keys this thread marked ready (list_family.cc).
void ServeReadyKeys(ServerState& server);

// Each command family registers its handlers; adding a command touches its family file, its
// line in the metadata table and its tests.
void RegisterConnectionFamily(CommandRegistry* registry);
void RegisterServerFamily(CommandRegistry* registry);
void RegisterKeyspaceFamily(CommandRegistry* registry);  // FLUSHDB, FLUSHALL
void RegisterStringFamily(CommandRegistry* registry);    // string_family.cc
void RegisterGenericFamily(CommandRegistry* registry);   // generic_family.cc: keys and expiry
void RegisterListFamily(CommandRegistry* registry);      // list_family.cc
void RegisterSetFamily(CommandRegistry* registry);       // set_family.cc
void RegisterHashFamily(CommandRegistry* registry);      // hash_family.cc

}  // namespace keel
