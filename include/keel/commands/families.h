#pragma once

namespace keel {

class CommandRegistry;
struct ServerState;

// Drops every channel and pattern subscription of the client (pubsub_family.cc): on RESET and
// when the connection closes. With a reply builder, writes the unsubscribe replies.
class ReplyBuilder;
struct Client;
void PubsubUnsubscribeAll(ServerState& server, Client& client, ReplyBuilder* reply);
// After HELLO changed a subscribed client's protocol: its messages are encoded in the new one.
void PubsubProtocolChanged(Client& client);

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
void RegisterZsetFamily(CommandRegistry* registry);         // zset_family.cc
void RegisterGeoFamily(CommandRegistry* registry);          // geo_family.cc: GEOADD, GEOSEARCH...
void RegisterTransactionFamily(CommandRegistry* registry);  // MULTI, EXEC, DISCARD, WATCH
void RegisterPubsubFamily(CommandRegistry* registry);       // pubsub_family.cc
void RegisterPersistenceFamily(CommandRegistry* registry);  // SAVE, DUMP, RESTORE, DEBUG
void RegisterMemoryFamily(CommandRegistry* registry);       // memory_family.cc: MEMORY
void RegisterTrackingFamily(CommandRegistry* registry);     // CLIENT TRACKING, CACHING...
void RegisterSortFamily(CommandRegistry* registry);         // sort_family.cc: SORT, SORT_RO
void RegisterDiagnosticsFamily(CommandRegistry* registry);  // SLOWLOG, LATENCY
void RegisterPauseFamily(CommandRegistry* registry);        // CLIENT PAUSE/UNPAUSE, WAIT, LOLWUT
void RegisterBitfieldFamily(CommandRegistry* registry);     // BITFIELD, BITFIELD_RO
void RegisterScriptingFamily(CommandRegistry* registry);    // EVAL family, SCRIPT
void RegisterFunctionFamily(CommandRegistry* registry);     // FUNCTION, FCALL, FCALL_RO
void RegisterStandaloneFamily(CommandRegistry* registry);   // ROLE, CLUSTER..., MODULE
void RegisterHllFamily(CommandRegistry* registry);  // hll_family.cc: PFADD, PFCOUNT, PFMERGE, ...
                                                    // // BITFIELD, BITFIELD_RO

// Writes dbfilename in dir now (SAVE), updating INFO persistence; logs a failure.
class Status;
Status SaveDatabase(ServerState& server);
// Starts a BGSAVE of dbfilename in dir on a snapshot thread (keel/persistence/bgsave.h); an
// error (already running) is Redis's reply text. Logs as Redis does.
Status StartBackgroundSave(ServerState& server);
// SYNC / PSYNC from a REPLCONF rdb-only client: a thread streams one snapshot on `fd` (which it
// then owns and closes) as Redis's diskless sync does, once no BGSAVE or AOF rewrite runs.
struct RdbTransfer {
  bool psync = false;         // +FULLRESYNC first
  bool exclude_data = false;  // REPLCONF rdb-filter-only: functions only, or nothing
  bool exclude_functions = false;
};
void StartRdbTransfer(ServerState& server, int fd, RdbTransfer what);
// At exit, after the io threads stopped: stops the transfers still running and waits for them.
void StopRdbTransfers(ServerState& server);
// The save points' check, from the server's cron: starts a BGSAVE when one is due (Redis's
// serverCron rule, with its 5 s retry delay after a failed BGSAVE).
void PersistenceCron(ServerState& server);
// The retry rule PersistenceCron applies: a save point may start a BGSAVE if the last one
// succeeded or more than 5 s (Redis's CONFIG_BGSAVE_RETRY_DELAY) passed since it started.
bool BgsaveRetryAllowed(bool last_bgsave_ok, int64_t now_ms, int64_t last_try_ms);
// Redis's rule for -MISCONF: the last BGSAVE failed, stop-writes-on-bgsave-error is yes and
// save points are set. Cheap when the last BGSAVE succeeded.
bool WritesDeniedByBgsaveError(ServerState& server);
// Before exiting (SHUTDOWN, SIGTERM/SIGINT): stops a running BGSAVE, then saves when save
// points are set and not `nosave`, or when `save`. A failed save is an error (the server keeps
// running) unless `force`. Logs as Redis does.
Status PrepareShutdown(ServerState& server, bool save, bool nosave, bool force);
// FLUSHALL with save points set saves the (now empty) dataset, as Redis does; a running BGSAVE
// is stopped from replacing the file.
void SaveAfterFlushAll(ServerState& server);
// SIGTERM (sigterm) or SIGINT: PrepareShutdown with the flags of shutdown-on-sigterm/-sigint.
bool PrepareSignalShutdown(ServerState& server, bool sigterm);
// Loads dbfilename from dir at start-up (before connections are accepted), logging what was
// loaded. A missing file is fine; a damaged one is an error naming the file and offset.
Status LoadDatabase(ServerState& server);

}  // namespace keel
