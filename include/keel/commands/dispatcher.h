#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "keel/commands/client.h"
#include "keel/commands/command_meta.h"
#include "keel/commands/server_state.h"
#include "keel/keyspace/keyspace.h"
#include "keel/protocol/reply.h"

namespace keel {

// What a command handler receives. Handlers parse their arguments, call keyspace operations and
// write exactly one reply. The dispatcher has already checked that the command exists, its arity,
// authentication, and (for key commands) locked the shards of its keys.
struct CommandContext {
  ServerState& server;
  Client& client;
  std::span<const std::string_view> args;  // args[0] is the command name as sent
  ReplyBuilder& reply;
  const CommandMeta& meta;

  Keyspace& keyspace() { return *server.keyspace; }
  int db() const { return client.db.load(std::memory_order_relaxed); }
};

using CommandHandler = void (*)(CommandContext& ctx);

// What a command did. Recorded while it runs, never read back from its reply: kError when the
// handler replied an error (ReplyBuilder::Error), kChanged when it reported at least one change
// to the write path (keel/commands/write.h), else kNoChange (every read, and a write that did
// nothing: SET NX on an existing key, DEL of a missing key, SADD of members already there).
enum class CommandOutcome : uint8_t { kNoChange, kChanged, kError };

// CommandObserver sees every command whose outcome is kChanged, with its arguments, right after
// it ran: under the shard locks the dispatcher took for it (LockMode::kKeys) or the EXEC took,
// but after the handler released its own (LockMode::kSelf and kDatabase: MOVE, COPY, SWAPDB,
// FLUSHDB, FLUSHALL; another thread may have changed one of their keys in between, so a log
// that needs their exact place in a key's history takes it from their ChangeObserver calls). Its
// Keyspace::Changed reports (the key-level ChangeObserver) all came before. This is where the AOF
// and replication turn a command into its replayable form (relative expiry as absolute, SPOP as
// SREM, INCRBYFLOAT as SET KEEPTTL): `args` and `meta` say what ran, the ChangeObserver calls said
// what it changed. Commands of an EXEC come with `in_exec` set, then the EXEC itself (args
// {"exec"}), all before the transaction's locks are released (a transaction is one unit: a writer
// wraps them in MULTI/EXEC). A served blocking pop is reported only at the key level (the pushing
// command's changes include it), as the pop it became. Set once at start-up; no observer costs
// one branch per command.
class CommandObserver {
 public:
  virtual ~CommandObserver() = default;
  virtual void OnCommand(const Client& client, int db, const CommandMeta& meta,
                         std::span<const std::string_view> args, bool in_exec) = 0;
};

// Who takes the shard locks of a command, and what an EXEC containing it must hold.
enum class LockMode {
  // The dispatcher locks the shards of the keys its key specs name (the usual case; a command
  // without keys, such as PING, TIME or INFO, takes none). In EXEC: those shards.
  kKeys,
  // Touches no key at all (PUBLISH, the SUBSCRIBE family, PUBSUB): no lock, in EXEC neither.
  kNone,
  // Reads or empties the client's whole current database (DBSIZE, KEYS, SCAN, RANDOMKEY,
  // FLUSHDB): the handler locks shard by shard (or all) itself; in EXEC every shard of that
  // database is held, so the command sees none of another client's changes.
  kDatabase,
  // Changes the client's database (SELECT): no lock; in EXEC the commands after it are locked
  // in the database it selects.
  kSelectDb,
  // Locks what it needs itself, beyond its key specs and the current database (MOVE, COPY
  // ... DB, SWAPDB, FLUSHALL): in EXEC the whole keyspace is held.
  kSelf,
};

// CommandRegistry maps command metadata to handlers. Built once before the server starts, then
// read-only, so lookups need no lock.
class CommandRegistry {
 public:
  struct Entry {
    CommandHandler handler = nullptr;
    size_t index = 0;  // dense, for per-command statistics
    LockMode lock_mode = LockMode::kKeys;
  };

  // `name` is "get" or "config|get". REQUIRES: the name is in the metadata table.
  void Register(std::string_view name, CommandHandler handler,
                LockMode lock_mode = LockMode::kKeys);
  const Entry* Find(const CommandMeta* meta) const;
  // True for a container (CONFIG, CLIENT) with at least one registered subcommand.
  bool HasRegisteredSubcommands(const CommandMeta* container) const {
    return containers_.count(container) != 0;
  }
  size_t size() const { return entries_.size(); }
  // For INFO commandstats: calls fn(name, index) for each registered command.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [meta, entry] : entries_) fn(*meta, entry.index);
  }

 private:
  std::unordered_map<const CommandMeta*, Entry> entries_;
  std::unordered_set<const CommandMeta*> containers_;
};

// The process-wide registry, filled by RegisterAllCommands().
CommandRegistry& GlobalCommandRegistry();
void RegisterAllCommands();

// Dispatcher executes parsed commands for a client. Thread-safe: one instance is shared by all io
// threads (it holds no mutable state of its own beyond thread-local scratch).
class Dispatcher {
 public:
  explicit Dispatcher(ServerState* server);
  // Executes one command and appends its reply (if any, see CLIENT REPLY) to *out. Inside
  // MULTI the command is queued instead.
  //
  // `clock_us`, when given, chains the clock of back-to-back commands: a non-zero value is taken
  // as this command's start time (the previous one's end, when nothing ran in between), and the
  // command's end time is stored there. That saves a clock read per pipelined command.
  void Execute(Client& client, std::span<const std::string_view> args, std::string* out,
               int64_t* clock_us = nullptr);

  // Transactions (see docs/architecture.md): EXEC runs the queued commands with every shard they
  // touch locked; WATCH registers the client on keys; both on the client's io thread.
  void Exec(Client& client, ReplyBuilder& reply);
  void Watch(Client& client, std::span<const std::string_view> keys);
  void Unwatch(Client& client);
  void DiscardTransaction(Client& client);

  // Called by the net layer when a connection closes: drops its transaction, WATCHes and
  // subscriptions.
  void OnClose(Client& client);

  // Writes the MONITOR line of `args` run by `client` (in its current database) to every
  // monitor. The dispatcher calls it after each command not flagged skip_monitor or admin;
  // EVAL and FCALL (skip_monitor) call it themselves as the script starts.
  void FeedMonitors(Client& client, std::span<const std::string_view> args);

 private:
  const CommandRegistry::Entry* Resolve(std::span<const std::string_view> args,
                                        const CommandMeta** meta, ReplyBuilder& reply);
  void Run(Client& client, const CommandMeta& meta, const CommandRegistry::Entry& entry,
           std::span<const std::string_view> args, ReplyBuilder& reply,
           int64_t* clock_us = nullptr);
  static void KeysOf(const CommandMeta& meta, std::span<const std::string_view> args,
                     std::vector<std::string_view>* keys);
  // The shards (flat indexes, unsorted, possibly repeated) a batch of commands run in order
  // from database `db` must hold so that nothing can interleave with it (EXEC; later EVAL): the
  // shards of their keys in the database each runs in (following SELECTs), every shard of a
  // database a kDatabase command reads, the whole keyspace for a kSelf command, nothing for
  // kNone. Commands that do not resolve are skipped (they fail when run).
  void BatchLockSet(int db, const std::vector<std::vector<std::string>>& commands,
                    std::vector<size_t>* flat);
  static std::vector<int>& positions_scratch();
  ServerState* server_;
  const CommandRegistry& registry_;
  const CommandMeta* exec_meta_;
  static thread_local std::string scratch_;
};

}  // namespace keel
