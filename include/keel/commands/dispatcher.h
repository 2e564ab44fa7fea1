#pragma once

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
// to the write path (src/commands/write.h), else kNoChange (every read, and a write that did
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
  // ... DB, SWAPDB, FLUSHALL): in EXEC the whole keyspace is held, unless the command has a
  // LockPlan that names the shards it will lock (MOVE, COPY, SWAPDB).
  kSelf,
};

// For a kSelf command inside EXEC: appends to *flat the flat shard indexes (db * kShards +
// shard) its handler will lock for `args` when the client's database is `db`, and returns true;
// returns false when it cannot tell (EXEC then holds the whole keyspace). Arguments the handler
// will refuse before locking anything add nothing. It must agree with the handler exactly: a
// shard the handler locks that the plan left out would be taken out of order.
using LockPlan = bool (*)(std::span<const std::string_view> args, int db, int databases,
                          std::vector<size_t>* flat);

// CommandRegistry maps command metadata to handlers. Built once before the server starts, then
// read-only, so lookups need no lock.
class CommandRegistry {
 public:
  struct Entry {
    CommandHandler handler = nullptr;
    size_t index = 0;  // dense, for per-command statistics
    LockMode lock_mode = LockMode::kKeys;
    // Where the first key is (Dispatcher::FirstKeyPosition): at first_key (> 0, with the legacy
    // last_key: keys that do not move), found by walking the key specs (key_walk: movable
    // keys), or nowhere (neither).
    int first_key = 0;
    int last_key = 0;
    bool key_walk = false;
    LockPlan lock_plan = nullptr;  // kSelf only
  };

  // `name` is "get" or "config|get". REQUIRES: the name is in the metadata table.
  void Register(std::string_view name, CommandHandler handler,
                LockMode lock_mode = LockMode::kKeys);
  // A kSelf command whose locks inside EXEC `plan` names.
  void Register(std::string_view name, CommandHandler handler, LockPlan plan);
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
  Entry& Add(std::string_view name, CommandHandler handler, LockMode lock_mode);

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

  // A command looked up ahead of running it. The net layer looks up a batch's commands once, to
  // find their first keys (FirstKeyPosition), and hands each back to Execute, which then does
  // not look it up again. `entry` is nullptr for a name that is no command (Execute replies the
  // error). Looking up reads only the start-up tables: the result stays valid.
  struct Resolved {
    const CommandMeta* meta = nullptr;
    const CommandRegistry::Entry* entry = nullptr;
  };
  Resolved Lookup(std::span<const std::string_view> args) const {
    Resolved r;
    if (!args.empty()) r.entry = Resolve(args, &r.meta, nullptr);
    return r;
  }
  // Executes one command and appends its reply (if any, see CLIENT REPLY) to *out. Inside
  // MULTI the command is queued instead.
  //
  // `clock_us`, when given, chains the clock of back-to-back commands: a non-zero value is taken
  // as this command's start time (the previous one's end, when nothing ran in between), and the
  // command's end time is stored there. That saves a clock read per pipelined command.
  //
  // `resolved`, when given, is Lookup(args), done by the caller.
  void Execute(Client& client, std::span<const std::string_view> args, std::string* out,
               int64_t* clock_us = nullptr, const Resolved* resolved = nullptr);

  // Transactions (see docs/architecture.md): EXEC runs the queued commands with every shard they
  // touch locked; WATCH registers the client on keys; both on the client's io thread.
  void Exec(Client& client, ReplyBuilder& reply);
  void Watch(Client& client, std::span<const std::string_view> keys);
  void Unwatch(Client& client);
  void DiscardTransaction(Client& client);

  // Called by the net layer when a connection closes: drops its transaction, WATCHes and
  // subscriptions.
  void OnClose(Client& client);

  // Where the first key of the command `args` names is (an index into args), by its key specs:
  // 1 for GET and SET, the destination for ZUNIONSTORE, the first key after numkeys for EVAL,
  // the first stream after STREAMS for XREAD, 2 for OBJECT ENCODING. 0 when the command names
  // no key in these arguments (PING, PUBLISH, EVAL with numkeys 0), is unknown, or its
  // arguments are too malformed to find one. The net layer asks it which key to prefetch; it
  // replies nothing and changes nothing. Any thread.
  int FirstKeyPosition(std::span<const std::string_view> args) const {
    return FirstKeyPosition(Lookup(args), args);
  }
  static int FirstKeyPosition(const Resolved& cmd, std::span<const std::string_view> args) {
    if (cmd.entry == nullptr) return 0;
    const CommandRegistry::Entry& e = *cmd.entry;
    if (e.first_key > 0) {  // inline for the usual command (keel::FirstKeyPosition's shortcut)
      int argc = static_cast<int>(args.size());
      int last = e.last_key < 0 ? argc + e.last_key : e.last_key;
      return e.first_key <= last && e.first_key < argc ? e.first_key : 0;
    }
    return e.key_walk ? FirstKeyBySpecs(cmd, args) : 0;
  }

  // Writes the MONITOR line of `args` run by `client` (in its current database) to every
  // monitor. The dispatcher calls it after each command not flagged skip_monitor or admin;
  // EVAL and FCALL (skip_monitor) call it themselves as the script starts.
  void FeedMonitors(Client& client, std::span<const std::string_view> args);

 private:
  // Finds the command `args` names (renames, subcommands); nullptr after replying the error to
  // *reply (if given) when there is none.
  const CommandRegistry::Entry* Resolve(std::span<const std::string_view> args,
                                        const CommandMeta** meta, ReplyBuilder* reply) const;
  void Run(Client& client, const CommandMeta& meta, const CommandRegistry::Entry& entry,
           std::span<const std::string_view> args, ReplyBuilder& reply,
           int64_t* clock_us = nullptr);
  static int FirstKeyBySpecs(const Resolved& cmd, std::span<const std::string_view> args);
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
