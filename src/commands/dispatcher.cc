#include "keel/commands/dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>

#include "blocking.h"
#include "command_meta_table.h"
#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/families.h"
#include "keel/commands/owned_args.h"
#include "keel/commands/scripting.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/name_cache.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "pause.h"

namespace keel {

CommandRegistry& GlobalCommandRegistry() {
  static CommandRegistry registry;
  return registry;
}

void CommandRegistry::Register(std::string_view name, CommandHandler handler, LockMode lock_mode) {
  Add(name, handler, lock_mode);
}

CommandRegistry::Entry& CommandRegistry::Add(std::string_view name, CommandHandler handler,
                                             LockMode lock_mode) {
  const CommandMeta* meta = nullptr;
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) {
    meta = FindCommandMeta(name);
  } else if (const CommandMeta* container = FindCommandMeta(name.substr(0, bar))) {
    meta = FindSubcommandMeta(*container, name.substr(bar + 1));
    containers_.insert(container);
  }
  if (meta == nullptr) {
    std::fprintf(stderr, "BUG: command '%.*s' has a handler but no metadata\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  Entry entry{handler, entries_.size(), lock_mode};
  // Where its first key is (Dispatcher::FirstKeyPosition): the legacy (first, last) pair
  // describes keys that do not move exactly; movable keys take the key-spec walk.
  if (!(meta->flags & kCmdMovableKeys) && meta->first_key > 0 && meta->key_step > 0) {
    entry.first_key = meta->first_key;
    entry.last_key = meta->last_key;
  } else {
    entry.key_walk = CommandHasKeys(*meta);
  }
  return entries_[meta] = entry;
}

void CommandRegistry::Register(std::string_view name, CommandHandler handler, LockPlan plan) {
  Add(name, handler, LockMode::kSelf).lock_plan = plan;
}

const CommandRegistry::Entry* CommandRegistry::Find(const CommandMeta* meta) const {
  auto it = entries_.find(meta);
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {

void ReplyUnknownCommand(std::span<const std::string_view> args, ReplyBuilder& reply) {
  reply.Error(errors::UnknownCommand(args[0], args.subspan(1)));
}

void ReplyUnknownSubcommand(std::span<const std::string_view> args, ReplyBuilder& reply) {
  reply.Error(errors::UnknownSubcommand(args[1], args[0]));
}

bool ArityOk(int arity, size_t argc) {
  return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// The quoting MONITOR uses for arguments (printable bytes as is, others escaped).
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out->push_back(static_cast<char>(c));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out->append(buf);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

void Dispatcher::KeysOf(const CommandMeta& meta, std::span<const std::string_view> args,
                        std::vector<std::string_view>* keys) {
  std::vector<int>& positions = positions_scratch();
  positions.clear();
  GetKeyPositions(meta, args, &positions);
  for (int p : positions) keys->push_back(args[static_cast<size_t>(p)]);
}

std::vector<int>& Dispatcher::positions_scratch() {
  thread_local std::vector<int> v;
  return v;
}

void Dispatcher::FeedMonitors(Client& client, std::span<const std::string_view> args) {
  int64_t us = NowUnixUs();
  char head[96];
  int n = std::snprintf(head, sizeof(head), "%lld.%06lld [%d ",
                        static_cast<long long>(us / 1000000), static_cast<long long>(us % 1000000),
                        client.db.load(std::memory_order_relaxed));
  std::string text(head, static_cast<size_t>(n));
  text += client.addr;
  text += "]";
  for (std::string_view a : args) {
    text.push_back(' ');
    AppendQuoted(&text, a);  // escapes CR and LF: the line is one simple string
  }
  // A simple string, the same in RESP2 and RESP3, so one line serves every monitor.
  std::string line = ReplyBuilder::SimpleStringLine(text);
  server_->clients.FeedMonitors(line);
}

namespace {

// Commands that run at once inside MULTI instead of being queued.
bool IsTransactionControl(std::string_view name) {
  return name == "exec" || name == "discard" || name == "multi" || name == "watch" ||
         name == "quit" || name == "reset";
}

// Whether a command is refused while memory is over maxmemory (Redis's reject_cmd_on_oom).
bool RejectOnOom(const Client& client, const CommandMeta& meta, std::string_view name) {
  if (MetaFlags(meta) & kCmdDenyOom) return true;
  if (name == "exec") {
    for (const auto& cmd : client.extras_view().queued) {
      const CommandMeta* m = cmd.empty() ? nullptr : LookupCommand(cmd[0]);
      if (m != nullptr && MetaHasSubcommands(*m) && cmd.size() >= 2) {
        m = FindSubcommandMeta(*m, cmd[1]);
      }
      if (m != nullptr && (MetaFlags(*m) & kCmdDenyOom)) return true;
    }
    return false;
  }
  return client.in_multi && name != "discard" && name != "quit" && name != "reset";
}

// What a RESP2 client in subscribed mode may still run.
bool IsSubscriptionCommand(std::string_view name) {
  return name == "subscribe" || name == "unsubscribe" || name == "psubscribe" ||
         name == "punsubscribe" || name == "ssubscribe" || name == "sunsubscribe";
}

bool AllowedWhileSubscribed(std::string_view name) {
  return name == "subscribe" || name == "unsubscribe" || name == "psubscribe" ||
         name == "punsubscribe" || name == "ssubscribe" || name == "sunsubscribe" ||
         name == "ping" || name == "quit" || name == "reset";
}

}  // namespace

Dispatcher::Dispatcher(ServerState* server)
    : server_(server), registry_(GlobalCommandRegistry()), exec_meta_(FindCommandMeta("exec")) {
  server_->command_stats = std::make_unique<CommandStats[]>(registry_.size() + 1);
  server_->dispatcher = this;
  if (server_->config != nullptr) {
    if (const auto* cell = server_->config->IntOptionCell("notify-keyspace-events")) {
      server_->notify_flags = cell;
    }
  }
}

const CommandRegistry::Entry* Dispatcher::Resolve(std::span<const std::string_view> args,
                                                  const CommandMeta** meta_out,
                                                  ReplyBuilder* reply) const {
  // Each thread remembers the command names it resolved, byte for byte as the client sent them
  // (NameCache): a pipeline mostly repeats a handful of commands, and this skips both table
  // lookups for them. Containers (CONFIG GET ...) always take the full path. The entries belong
  // to the process-wide registry, so they outlive any cache slot.
  struct Cached {
    const CommandMeta* meta = nullptr;
    const CommandRegistry::Entry* entry = nullptr;
  };
  thread_local NameCache<Cached> cache;
  std::string_view name = args[0];
  if (const Cached* hit = cache.Find(name)) {
    *meta_out = hit->meta;
    return hit->entry;
  }
  const CommandMeta* meta = LookupCommand(name);
  const CommandRegistry::Entry* entry = meta ? registry_.Find(meta) : nullptr;
  if (entry != nullptr) cache.Put(name, Cached{meta, entry});
  if (entry == nullptr && meta != nullptr && MetaHasSubcommands(*meta) && args.size() >= 2) {
    const CommandMeta* sub = FindSubcommandMeta(*meta, args[1]);
    const CommandRegistry::Entry* sub_entry = sub ? registry_.Find(sub) : nullptr;
    if (sub_entry == nullptr) {
      if (reply != nullptr) ReplyUnknownSubcommand(args, *reply);
      return nullptr;
    }
    meta = sub;
    entry = sub_entry;
  }
  if (entry == nullptr) {
    if (reply == nullptr) {
      // Only looked up (Lookup): nothing to say.
    } else if (meta != nullptr && MetaHasSubcommands(*meta) && args.size() < 2) {
      // A container alone ("CONFIG") fails its arity check, like Redis.
      reply->Error(errors::WrongArity(MetaName(*meta)));
    } else {
      ReplyUnknownCommand(args, *reply);
    }
    return nullptr;
  }
  *meta_out = meta;
  return entry;
}

int Dispatcher::FirstKeyBySpecs(const Resolved& cmd, std::span<const std::string_view> args) {
  return keel::FirstKeyPosition(*cmd.meta, args);
}

void Dispatcher::Execute(Client& client, std::span<const std::string_view> args, std::string* out,
                         int64_t* clock_us, const Resolved* resolved) {
  size_t reply_start = out->size();
  if (client.reply_mode == ReplyMode::kSkipNext) client.reply_mode = ReplyMode::kSkipThis;
  ReplyBuilder reply(out, client.protocol);
  const CommandMeta* meta = nullptr;
  const CommandRegistry::Entry* entry = nullptr;
  if (resolved != nullptr && resolved->entry != nullptr) {
    meta = resolved->meta;
    entry = resolved->entry;
  } else {
    entry = Resolve(args, &meta, &reply);  // an unknown name: Resolve replies why
  }
  if (entry == nullptr) {
    server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
    if (client.in_multi) client.multi_error = true;
    goto done;
  }
  {
    CommandStats& cs = server_->command_stats[entry->index];
    std::string_view name = MetaName(*meta);
    auto reject = [&](std::string_view msg) {
      if (name == "exec") {
        // A rejected EXEC aborts the transaction, saying why (Redis's execCommandAbort).
        std::string_view why = msg.substr(0, 4) == "ERR " ? msg.substr(4) : msg;
        reply.Error(std::string(errors::kExecAbortPrefix) + std::string(why));
        DiscardTransaction(client);
      } else {
        reply.Error(msg);
      }
      cs.rejected_calls.fetch_add(1, std::memory_order_relaxed);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
      if (client.in_multi) client.multi_error = true;
    };
    if (!ArityOk(MetaArity(*meta), args.size())) {
      reject(errors::WrongArity(name));
      goto done;
    }
    if (!client.authenticated && !(MetaFlags(*meta) & kCmdNoAuth)) {
      reject(errors::kNoAuth);
      goto done;
    }
    // ACL: one relaxed load while no user is restricted (the default user alone, all allowed).
    // Commands that need no authentication (AUTH, HELLO, RESET) are not checked either.
    if (__builtin_expect(AclRestricted(), 0) && !(MetaFlags(*meta) & kCmdNoAuth) &&
        !client.acl_checked_by_caller) {
      if (std::string denied = AclCheckCommand(*server_, client, *meta, args); !denied.empty()) {
        reject(denied);
        goto done;
      }
    }
    // A script that has run past busy-reply-threshold: everyone else gets -BUSY, except for the
    // commands flagged allow_busy (SCRIPT KILL, ...). The script's own commands (in_exec) run.
    if (__builtin_expect(scripting::g_running_since_us.load(std::memory_order_relaxed) != 0, 0) &&
        !client.in_exec && !(MetaFlags(*meta) & kCmdAllowBusy) && scripting::BusyNow(*server_)) {
      reject(scripting::g_running_is_function.load(std::memory_order_relaxed)
                 ? errors::kBusyFunction
                 : errors::kBusyScript);
      goto done;
    }
    // maxmemory, as Redis's processCommand: evict first (every command, reads included); if
    // memory is still over the limit and nothing could be evicted, refuse denyoom commands,
    // an EXEC whose queue holds one, and anything but EXEC/DISCARD/QUIT/RESET inside MULTI.
    if (!client.in_exec && server_->keyspace->evictor().maxmemory() != 0 &&
        server_->keyspace->evictor().Perform() == Evictor::Result::kFail &&
        RejectOnOom(client, *meta, name)) {
      reject(errors::kOom);
      goto done;
    }
    // Redis refuses writes, and PING, while the last BGSAVE failed (stop-writes-on-bgsave-error).
    if ((MetaFlags(*meta) & kCmdWrite || name == "ping") && WritesDeniedByBgsaveError(*server_)) {
      reject(errors::kMisconf);
      goto done;
    }
    // An AOF that cannot be written (appendfsync everysec or no): writes are refused until it can.
    if (MetaFlags(*meta) & kCmdWrite) {
      if (std::string aof_error = aof::WriteError(); !aof_error.empty()) {
        reject(aof_error);
        goto done;
      }
    }
    if (client.pubsub_count > 0 && client.protocol == ReplyBuilder::kResp2 &&
        !AllowedWhileSubscribed(name.substr(0, name.find('|')))) {
      reject(errors::NotInSubscribedContext(name));
      goto done;
    }
    // While the start-up load runs, only commands Redis flags "loading" are served.
    if (server_->persistence.loading.load(std::memory_order_acquire) &&
        !(MetaFlags(*meta) & kCmdLoading) && !client.loading_client) {
      reject(errors::kLoading);
      goto done;
    }
    // CLIENT PAUSE: the command runs (or is queued) when the pause is over.
    if (PostponeIfPaused(*server_, client, *meta, args)) goto done;
    if (client.in_multi && !IsTransactionControl(name)) {
      // The queue owns copies of the arguments; a big one the connection received into its own
      // string is moved there instead (its bytes stay in place).
      std::vector<std::string>& queued = client.extras().queued.emplace_back();
      queued.reserve(args.size());
      for (std::string_view a : args) {
        std::unique_ptr<std::string> owned;
        if (a.size() > kMaxInlineString) owned = owned_args::Take(a);
        if (owned != nullptr) {
          queued.push_back(std::move(*owned));
        } else {
          queued.emplace_back(a);
        }
      }
      // multi-mem (CLIENT LIST; counted in the client's memory for maxmemory-clients).
      uint64_t bytes = sizeof(queued) + queued.capacity() * sizeof(std::string);
      for (const std::string& a : queued) bytes += a.capacity() > 15 ? a.capacity() + 1 : 0;
      client.multi_mem.fetch_add(bytes, std::memory_order_relaxed);
      reply.SimpleString("QUEUED");
      goto done;
    }
    Run(client, *meta, *entry, args, reply, clock_us);
    clock_us = nullptr;  // consumed by Run
  }
done:
  if (clock_us != nullptr) *clock_us = 0;  // no command ran: the next one reads the clock
  if (reply.failed()) {
    server_->error_stats.Count(std::string_view(*out).substr(reply.error_offset() + 1, 64));
  }
  if (client.reply_mode == ReplyMode::kOff || client.reply_mode == ReplyMode::kSkipThis) {
    // Subscription confirmations are pub/sub traffic, sent whatever CLIENT REPLY says (as
    // messages are), as in Redis 7.0.
    if (meta == nullptr || reply.failed() || !IsSubscriptionCommand(MetaName(*meta))) {
      out->resize(reply_start);
    }
    if (client.reply_mode == ReplyMode::kSkipThis) client.reply_mode = ReplyMode::kOn;
  }
  // CLIENT CACHING counts for the next command only (any CLIENT subcommand keeps it, and so
  // does a transaction until EXEC, as in Redis).
  if (__builtin_expect(client.tracking_caching, 0) && !client.in_multi &&
      (meta == nullptr || MetaName(*meta).substr(0, 7) != "client|")) {
    client.tracking_caching = false;
  }
  // Invalidations this command caused (tracking clients' keys, BCAST prefixes, a flush): the
  // client's own go after its reply, even with CLIENT REPLY OFF, as pushes do in Redis.
  if (__builtin_expect(Tracking::HasPending(), 0) && server_->tracking != nullptr) {
    server_->tracking->Flush(&client, out);
  }
}

void Dispatcher::Run(Client& client, const CommandMeta& meta, const CommandRegistry::Entry& entry,
                     std::span<const std::string_view> args, ReplyBuilder& reply,
                     int64_t* clock_us) {
  CommandStats& cs = server_->command_stats[entry.index];
  std::string_view name = MetaName(meta);
  client.last_cmd_len.store(name.size(), std::memory_order_relaxed);
  client.last_cmd.store(name.data(), std::memory_order_release);
  int64_t start = clock_us != nullptr && *clock_us != 0 ? *clock_us : CommandClockUs();
  CommandTimeScope key_time;
  CommandContext ctx{*server_, client, args, reply, meta};
  const uint64_t changes_before = Keyspace::CommandChangesOnThisThread();
  const uint64_t taken_before = owned_args::TakenCount();
  CommandOutcome outcome = CommandOutcome::kNoChange;
  // The statistics, the slowlog and MONITOR, after the command.
  auto finish = [&] {
    int64_t end = CommandClockUs();
    if (clock_us != nullptr) *clock_us = end;
    // Never negative, even if the time-stamp counter stepped back (a CPU whose counter the
    // kernel stopped trusting after start-up): the statistics below are unsigned sums and maxima.
    int64_t elapsed = std::max<int64_t>(end - start, 0);
    ServerStats::RaiseMax(server_->stats.max_command_usec, static_cast<uint64_t>(elapsed));
    cs.calls.fetch_add(1, std::memory_order_relaxed);
    cs.usec.fetch_add(static_cast<uint64_t>(elapsed), std::memory_order_relaxed);
    server_->stats.total_commands_processed.fetch_add(1, std::memory_order_relaxed);
    RecordCommand(*server_, client, meta, entry.index, args, elapsed);
    if (outcome == CommandOutcome::kError) {
      cs.failed_calls.fetch_add(1, std::memory_order_relaxed);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
    }
    if (server_->clients.HasMonitors() && !(MetaFlags(meta) & (kCmdSkipMonitor | kCmdAdmin))) {
      FeedMonitors(client, args);
    }
  };
  bool finished = false;
  {
    KeyLocks locks;
    // Scratch for the key list without a heap allocation per command; EXEC nests Run, hence a
    // stack of vectors (a deque, so that growing it keeps the outer ones in place).
    thread_local std::deque<std::vector<std::string_view>> key_stack;
    thread_local size_t depth = 0;
    if (key_stack.size() <= depth) key_stack.emplace_back();
    std::vector<std::string_view>& keys = key_stack[depth++];
    keys.clear();
    struct Pop {
      size_t& d;
      ~Pop() { --d; }
    } pop{depth};
    if (entry.lock_mode == LockMode::kKeys && CommandHasKeys(meta)) {
      KeysOf(meta, args, &keys);
      if (!keys.empty()) locks = KeyLocks(*server_->keyspace, ctx.db(), keys);
      // A snapshot in progress (the before-change hook) must see each key's entry before the
      // handler edits it in place, which no keyspace method would tell it.
      if ((MetaFlags(meta) & kCmdWrite) && server_->keyspace->has_before_change_hook()) {
        for (std::string_view k : keys) server_->keyspace->BeforeWrite(ctx.db(), k);
      }
    }
    // Read once: a handler that turns tracking on or off is not a read-only command.
    const bool tracking = client.tracking;
    if (__builtin_expect(tracking, 0)) Tracking::SetWriter(client.id);
    entry.handler(ctx);
    // Client-side caching: a tracking client's read-only command remembers its keys while their
    // shard locks are still held, so a write to them comes after and invalidates. Others pay
    // the one branch on their own flag.
    if (__builtin_expect(tracking, 0)) {
      if (!client.tracking_bcast && (MetaFlags(meta) & kCmdReadonly) && !keys.empty() &&
          server_->tracking != nullptr) {
        server_->tracking->Remember(client, keys);
      }
      Tracking::SetWriter(0);
    }
    // WATCH, the dirty counter and notifications were served by the handler's own reports to
    // the write path, change by change; what is left is the command as a whole.
    outcome = reply.failed() ? CommandOutcome::kError
              : Keyspace::CommandChangesOnThisThread() != changes_before
                  ? CommandOutcome::kChanged
                  : CommandOutcome::kNoChange;
    // (EXEC is reported by Exec itself, still under the transaction's locks.)
    if (outcome == CommandOutcome::kChanged && server_->command_observer != nullptr &&
        &meta != exec_meta_) {
      server_->command_observer->OnCommand(client, ctx.db(), meta, args, client.in_exec);
    }
    // A handler that took a big argument into an entry (keel/commands/owned_args.h) left the
    // argument's bytes to that entry: once the locks are released, another client may free it.
    // So the slowlog and MONITOR read the arguments now. Such a command makes no key ready
    // (only pushes do).
    if (owned_args::TakenCount() != taken_before) {
      finish();
      finished = true;
    }
  }
  if (!finished) {
    // A push may have made keys ready for blocked clients: serve them now that this command's
    // locks are released (ServeReadyKeys takes the locks it needs). Inside EXEC this waits for
    // the end of the transaction, so nobody sees its middle.
    if (!client.in_exec && !Keyspace::ReadyKeys().empty()) ServeReadyKeys(*server_);
    finish();
  }
}

void Dispatcher::Unwatch(Client& client) {
  if (!client.has_extras()) return;
  ClientExtras& x = client.extras();
  Keyspace& ks = *server_->keyspace;
  for (const auto& [db, key] : x.watched) {
    size_t shard = ShardOf(key);
    ShardGuard guard = ks.LockShard(db, shard);
    ShardRegistries& s = ks.registries(db, shard);
    auto it = s.watchers.find(key);
    if (it == s.watchers.end()) continue;
    size_t removed = std::erase(it->second, x.watch);
    ks.AddWatchers(-static_cast<int64_t>(removed));
    if (it->second.empty()) s.watchers.erase(it);
  }
  x.watched.clear();
  x.watch.reset();
}

void Dispatcher::Watch(Client& client, std::span<const std::string_view> keys) {
  Keyspace& ks = *server_->keyspace;
  int db = client.db.load(std::memory_order_relaxed);
  ClientExtras& x = client.extras();
  if (!x.watch) x.watch = std::make_shared<WatchFlag>();
  for (std::string_view key : keys) {
    bool already = false;
    for (const auto& [d, k] : x.watched) already = already || (d == db && k == key);
    if (already) continue;
    size_t shard = ShardOf(key);
    ShardGuard guard = ks.LockShard(db, shard);
    // A key whose TTL already passed is deleted now, so its expiry does not count later.
    ks.Lookup(db, key);
    ks.registries(db, shard).watchers[std::string(key)].push_back(x.watch);
    ks.AddWatchers(1);
    x.watched.emplace_back(db, std::string(key));
  }
}

void Dispatcher::DiscardTransaction(Client& client) {
  client.in_multi = false;
  client.multi_error = false;
  if (client.has_extras()) client.extras().queued.clear();
  client.multi_mem.store(0, std::memory_order_relaxed);
  Unwatch(client);
}

void Dispatcher::Exec(Client& client, ReplyBuilder& reply) {
  PinKeyTime();  // the queued commands see one instant, the time EXEC started
  if (!client.in_multi) {
    reply.Error(errors::kExecWithoutMulti);
    return;
  }
  if (client.multi_error) {
    DiscardTransaction(client);
    reply.Error(errors::kExecAbortPrevious);
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(client.extras().queued);
  client.extras().queued.clear();
  client.multi_mem.store(0, std::memory_order_relaxed);
  client.in_multi = false;
  Keyspace& ks = *server_->keyspace;
  int db = client.db.load(std::memory_order_relaxed);

  // Lock every shard the transaction touches (plus the watched keys'), in ascending order, once.
  std::vector<size_t> flat;
  BatchLockSet(db, queued, &flat);
  for (const auto& [d, k] : client.extras_view().watched) {
    flat.push_back(static_cast<size_t>(d) * kShards + ShardOf(k));
  }
  std::vector<std::string_view> views;
  {
    KeyLocks locks;
    locks.LockFlat(ks, std::move(flat));
    // A watched key whose TTL passed since WATCH counts as changed: the lookup deletes it and
    // that touches the watchers.
    for (const auto& [d, k] : client.extras_view().watched) ks.Lookup(d, k);
    const std::shared_ptr<WatchFlag>& watch = client.extras_view().watch;
    bool dirty = watch && watch->dirty.load();
    Unwatch(client);
    if (dirty) {
      reply.NullArray();
      return;
    }
    reply.ArrayHeader(queued.size());
    const uint64_t changes_before = Keyspace::CommandChangesOnThisThread();
    client.in_exec = true;
    aof::BeginExec();  // the transaction's records are written as one MULTI ... EXEC
    for (const auto& cmd : queued) {
      views.assign(cmd.begin(), cmd.end());
      Execute(client, views, reply.buffer());
    }
    aof::EndExec();
    client.in_exec = false;
    // The end of the transaction's unit, before anyone else can touch its keys.
    if (server_->command_observer != nullptr &&
        Keyspace::CommandChangesOnThisThread() != changes_before) {
      static constexpr std::string_view kExecArgs[] = {"exec"};
      server_->command_observer->OnCommand(client, client.db.load(std::memory_order_relaxed),
                                           *exec_meta_, kExecArgs, false);
    }
  }
  if (!Keyspace::ReadyKeys().empty()) ServeReadyKeys(*server_);
}

void Dispatcher::BatchLockSet(int db, const std::vector<std::vector<std::string>>& commands,
                              std::vector<size_t>* flat) {
  const int databases = server_->keyspace->databases();
  std::vector<bool> whole_db(static_cast<size_t>(databases), false);
  std::vector<std::string_view> views, keys;
  for (const auto& cmd : commands) {
    views.assign(cmd.begin(), cmd.end());
    ReplyBuilder scratch_reply(&scratch_);
    const CommandMeta* meta = nullptr;
    const CommandRegistry::Entry* entry = Resolve(views, &meta, &scratch_reply);
    scratch_.clear();
    if (entry == nullptr) continue;
    switch (entry->lock_mode) {
      case LockMode::kNone:
        continue;
      case LockMode::kSelf:
        if (entry->lock_plan != nullptr && entry->lock_plan(views, db, databases, flat)) continue;
        // Other databases, by arguments no plan reads: the whole keyspace.
        flat->clear();
        for (size_t f = 0; f < static_cast<size_t>(databases) * kShards; ++f) flat->push_back(f);
        return;
      case LockMode::kDatabase:
        whole_db[static_cast<size_t>(db)] = true;
        continue;
      case LockMode::kSelectDb: {
        // The same test CmdSelect makes (its arity was checked when it was queued): the
        // commands after a SELECT that will succeed run in its database.
        std::optional<int64_t> index = ParseInt64(views[1]);
        if (index && *index >= 0 && *index < databases) db = static_cast<int>(*index);
        continue;
      }
      case LockMode::kKeys:
        break;
    }
    if (!CommandHasKeys(*meta)) continue;
    keys.clear();
    KeysOf(*meta, views, &keys);
    for (std::string_view k : keys) flat->push_back(static_cast<size_t>(db) * kShards + ShardOf(k));
  }
  for (size_t d = 0; d < whole_db.size(); ++d) {
    if (!whole_db[d]) continue;
    for (size_t i = 0; i < kShards; ++i) flat->push_back(d * kShards + i);
  }
}

void Dispatcher::OnClose(Client& client) {
  DiscardTransaction(client);
  if (client.tracking && server_->tracking != nullptr) server_->tracking->Disable(client);
  PubsubUnsubscribeAll(*server_, client, /*reply=*/nullptr);
}

thread_local std::string Dispatcher::scratch_;

}  // namespace keel
