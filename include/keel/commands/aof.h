#pragma once

// The append-only file (docs/persistence.md, "AOF"; docs/architecture.md, "The AOF"). The log is
// fed from the write seams (CommandObserver, ChangeObserver), always under the shard locks of the
// keys a record touches, into one global sequence; a writer thread writes and fsyncs it. This
// header is what other modules call: handlers whose replayable form differs from their arguments,
// the dispatcher's EXEC, the network layer's reply flush (appendfsync always) and start-up.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/common/status.h"

namespace keel {

struct ServerState;
class CommandRegistry;

// BGREWRITEAOF.
void RegisterAofFamily(CommandRegistry* registry);

namespace aof {

// Logs `args` as the replayable form of what the running command did (SPOP as SREM, INCRBYFLOAT
// as SET KEEPTTL, MOVE and COPY at their place in the keys' history), instead of its arguments.
// REQUIRES: the shard locks of the keys. A no-op while the AOF is off.
void LogAs(int db, std::span<const std::string_view> args);
inline void LogAs(int db, std::initializer_list<std::string_view> args) {
  LogAs(db, std::span<const std::string_view>(args.begin(), args.size()));
}
// Logs a served blocking pop as the pop it became (no command of its own is running).
void LogServed(int db, std::initializer_list<std::string_view> args);
// Logs a command that changed no key but must be replayed as itself (FUNCTION LOAD, DELETE,
// FLUSH, RESTORE), whatever the dispatcher records for it. A no-op while the AOF is off.
void LogCommand(int db, std::span<const std::string_view> args);
bool Enabled();
// While one lives, this thread's changes are not logged (DEBUG RELOAD).
class NotLogged {
 public:
  NotLogged();
  ~NotLogged();
  NotLogged(const NotLogged&) = delete;
  NotLogged& operator=(const NotLogged&) = delete;
};
// A reply made on another thread was delivered to this one (a served blocking pop): its record
// is in the log already, and with appendfsync always this thread's replies now wait for it too.
void NoteDelivered();
// An AOF rewrite holds the keyspace's before-change hook: BGSAVE waits for it (and it for BGSAVE).
bool RewriteInProgress();
// The 10 Hz cron: a rewrite scheduled behind a BGSAVE, automatic rewrites
// (auto-aof-rewrite-percentage / -min-size).
void Cron(ServerState& state);

// EXEC: the records of the commands between these calls are written as one MULTI ... EXEC.
// Called by the dispatcher under the transaction's locks.
void BeginExec();
void EndExec();
// Ends it without writing any of its records (a script stopped by SHUTDOWN NOSAVE).
void EndExecDiscarding();

// appendfsync always: true when this thread's replies must wait for the group fsync that covers
// the records it appended; `resume` is then called (from the writer thread) once they are
// durable. False when they may go now.
bool HoldReplies(std::function<void()> resume);

// The same per reply: the log's end after this thread's last record (what a reply made now
// must wait for), how far the log is released (written, or with always fsynced; UINT64_MAX
// while the log is off or, except with always, unwritable), and HoldReplies for the records up
// to `need` only. The net layer keeps `need` per connection, so that a group fsync releases the
// connections it covers and not only whole threads (Connection::RunFlushList).
uint64_t ThisThreadAppended();
uint64_t ReleasedUpTo();
bool HoldRepliesUntil(uint64_t need, std::function<void()> resume);

// Bytes appended to the log and not yet handed to the file (INFO's mem_aof_buffer, MEMORY
// STATS' aof.buffer); 0 while the AOF is off.
uint64_t BufferBytes();

// -MISCONF text while the AOF cannot be written (everysec, no), else empty.
std::string WriteError();

// Start-up (main), before any thread that serves clients starts: creates the log object every
// thread reads (so the loader thread's LoadAppendOnly/StartAppendOnly only fill it in).
void CreateLog(ServerState& state);

// Start-up (main): with appendonly yes, loads the AOF (and only the AOF) into the keyspace,
// then opens it for appending and starts the writer. Errors are fatal and name the file.
// CONFIG SET appendonly made during the load is recorded only; StartAppendOnly applies it.
Status LoadAppendOnly(ServerState& state);
Status StartAppendOnly(ServerState& state);
// DEBUG LOADAOF: writes what the log holds, empties every database and replays the AOF's files
// (the base, then the increments, as the manifest lists them) without logging any of it; other
// clients get -LOADING meanwhile. An error when the AOF is off.
Status ReloadAppendOnly(ServerState& state);
// DEBUG AOF-FLUSH-SLEEP: the writer sleeps this long before each write of the log (0: never).
void SetFlushSleepUs(int64_t us);
// Stops the writer after writing and fsyncing what is buffered (shutdown).
void StopAppendOnly();

// INFO persistence's aof_* fields in Redis's order: `tail` false for the ones before
// module_fork_in_progress, true for the ones after it (only while the AOF is on).
std::vector<std::pair<std::string, std::string>> InfoFields(bool tail);

}  // namespace aof
}  // namespace keel
