#pragma once

namespace keel {

class CommandRegistry;
struct ServerState;

// Drops every channel and pattern subscription of the client (pubsub_family.cc): on RESET and
// when the connection closes. With a reply builder, writes the unsubscribe replies.
class ReplyBuilder;
struct Client;
void PubsubUnsubscribeAll(ServerState& server, Client& client, ReplyBuilder* reply);

// Each command family registers its handlers; adding a command touches its family file, its
// line in the metadata table and its tests.
void RegisterConnectionFamily(CommandRegistry* registry);
void RegisterServerFamily(CommandRegistry* registry);
void RegisterKeyspaceFamily(CommandRegistry* registry);     // FLUSHDB, FLUSHALL
void RegisterStringFamily(CommandRegistry* registry);       // string_family.cc
void RegisterGenericFamily(CommandRegistry* registry);      // generic_family.cc: keys and expiry
void RegisterListFamily(CommandRegistry* registry);         // list_family.cc
void RegisterSetFamily(CommandRegistry* registry);          // set_family.cc
void RegisterHashFamily(CommandRegistry* registry);         // hash_family.cc
void RegisterTransactionFamily(CommandRegistry* registry);  // MULTI, EXEC, DISCARD, WATCH
void RegisterPubsubFamily(CommandRegistry* registry);       // pubsub_family.cc
void RegisterPersistenceFamily(CommandRegistry* registry);  // SAVE, DUMP, RESTORE, DEBUG

// Writes dbfilename in dir now (SAVE), updating INFO persistence; logs a failure.
class Status;
Status SaveDatabase(ServerState& server);
// Loads dbfilename from dir at start-up (before connections are accepted), logging what was
// loaded. A missing file is fine; a damaged one is an error naming the file and offset.
Status LoadDatabase(ServerState& server);

}  // namespace keel
