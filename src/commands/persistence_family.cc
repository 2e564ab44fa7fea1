// Persistence commands: SAVE, LASTSAVE, DUMP, RESTORE, and DEBUG (RELOAD, OBJECT); the snapshot
// transfer of SYNC for REPLCONF rdb-only clients.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "functions.h"
#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_bridge.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/list_object.h"
#include "keel/persistence/bgsave.h"
#include "keel/persistence/rdb_format.h"
#include "keel/persistence/rdb_writer.h"
#include "keel/persistence/snapshot.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/parser.h"
#include "keel/protocol/reply.h"
#include "notify.h"
#include "write.h"

namespace keel {

namespace {

SaveOptions SaveOptionsOf(ServerState& s) {
  SaveOptions o;
  o.compress = s.config->rdbcompression();
  o.checksum = s.config->rdbchecksum();
  o.used_mem = ServerUsedMemory();
  SetAccessToSave(*s.keyspace, &o);
  return o;
}

// SAVE's work: writes dbfilename in dir and updates the counters INFO reports. Logs failures
// as Redis does. `count`: whether rdb_saves counts it (Redis 7.0.15 leaves FLUSHALL's save out).
Status SaveNow(ServerState& s, bool count = true) {
  std::lock_guard<std::mutex> lock(s.persistence.save_mu);
  uint64_t dirty_before = s.keyspace->dirty();
  Status st = SaveRdbFile(*s.keyspace, s.config->dbfilename(), SaveOptionsOf(s));
  if (!st.ok()) {
    KEEL_LOG_WARNING("{}", st.message());
    return st;
  }
  KEEL_LOG_NOTICE("DB saved on disk");
  s.keyspace->SubtractDirty(dirty_before);  // keep what changed while saving
  s.persistence.lastsave.store(NowUnixMs() / 1000);
  s.persistence.last_save_ok.store(true);
  s.persistence.last_bgsave_ok.store(true);  // as Redis: a good SAVE clears a BGSAVE error
  if (count) s.persistence.saves.fetch_add(1);
  return Status::Ok();
}

// The snapshot thread's work: write the file, then report as Redis's child-exit handler does.
void RunBackgroundSave(ServerState& s, std::unique_ptr<BackgroundSnapshot> snap, uint64_t dirty) {
  memory::RegisterThisThread();
  PersistenceInfo& p = s.persistence;
  std::string file = s.config->dbfilename();
  // A SAVE that must win (FLUSHALL, shutdown) sets bgsave_abort first and renames under save_mu:
  // this file never replaces that one.
  Status st = WriteRdbFileAtomically(
      file, "temp-bgsave-", [&](rdb::Sink* sink) { return snap->Write(sink); },
      [&](const std::string& tmp) {
        std::lock_guard<std::mutex> lock(p.save_mu);
        if (p.bgsave_abort.load()) return Status::Error("background save aborted");
        return RenameRdbFile(tmp, file);
      });
  snap->Stop();
  int64_t now = NowUnixMs();
  p.last_cow_size.store(snap->peak_side_bytes());
  p.last_bgsave_time_sec.store((now - p.bgsave_start_ms.load()) / 1000);
  if (st.ok()) {
    KEEL_LOG_NOTICE("DB saved on disk");
    KEEL_LOG_NOTICE("Fork CoW for RDB: current 0 MB, peak {} MB, average 0 MB",
                    snap->peak_side_bytes() >> 20);
    KEEL_LOG_NOTICE(
        "BGSAVE stalls: the walker held a shard lock at most {} us, a writer saving an old value "
        "at most {} us",
        snap->longest_walk_us(), snap->longest_hook_us());
    KEEL_LOG_NOTICE("BGSAVE walker CPU in one shard-lock hold: at most {} us",
                    snap->longest_walk_cpu_us());
    s.keyspace->SubtractDirty(dirty);
    p.lastsave.store(now / 1000);
    p.last_bgsave_ok.store(true);
    p.saves.fetch_add(1);
    KEEL_LOG_NOTICE("Background saving terminated with success");
  } else if (p.bgsave_abort.load()) {
    // Stopped by us (FLUSHALL, shutdown), as Redis's killed child: the status stays.
    KEEL_LOG_WARNING("Background saving terminated by signal 10");
  } else {
    KEEL_LOG_WARNING("{}", st.message());
    p.last_bgsave_ok.store(false);
    KEEL_LOG_WARNING("Background saving error");
  }
  p.bgsave_in_progress.store(false);
}

// Transfers running, and the flag StopRdbTransfers raises at exit: a transfer thread is detached
// and must be gone before the server state it reads is.
std::atomic<int> g_transfers_running{0};
std::atomic<bool> g_transfers_stop{false};

// The socket SYNC's transfer writes to: the connection's descriptor is non-blocking (its file
// description is the one the io thread used), so a full send buffer waits in poll, at most
// kStallMs with nothing written (Redis's repl-timeout default), then the transfer gives up; so
// does a server on its way out.
class SocketSink final : public rdb::Sink {
 public:
  explicit SocketSink(int fd) : fd_(fd) {}
  Status Write(std::string_view bytes) override {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (WaitWritable()) continue;
        return Status::Error("the client read nothing for 60 seconds, or the server is exiting");
      }
      return Status::Error(std::string("write error: ") + std::strerror(errno));
    }
    return Status::Ok();
  }
  static constexpr int kStallMs = 60000;

 private:
  bool WaitWritable() const {
    for (int waited = 0; waited < kStallMs && !g_transfers_stop.load(); waited += 100) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 100) == 1) return true;
    }
    return false;
  }

  int fd_;
};

// Starts a point-in-time snapshot for BGSAVE or a SYNC transfer: the hook registered, the
// progress fields INFO reads reset, bgsave_in_progress set. REQUIRES: save_mu held, and no
// BGSAVE, AOF rewrite or transfer running.
std::unique_ptr<BackgroundSnapshot> StartSnapshotLocked(ServerState& s) {
  PersistenceInfo& p = s.persistence;
  p.bgsave_abort.store(false);
  BgsaveOptions o;
  o.save = SaveOptionsOf(s);
  o.shard_delay_us = s.config->bgsave_shard_delay_us();
  o.abort = &p.bgsave_abort;
  o.keys_processed = &p.bgsave_keys_processed;
  auto snap = std::make_unique<BackgroundSnapshot>(*s.keyspace, o);
  p.bgsave_keys_processed.store(0);
  p.bgsave_start_ms.store(NowUnixMs());
  p.bgsave_in_progress.store(true);
  p.bgsave_keys_total.store(snap->Start());
  return snap;
}

// 40 random hex digits: the end mark of a diskless transfer ($EOF:<mark>, as Redis sends it).
std::string TransferMark() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string mark;
  for (int i = 0; i < 40; ++i) mark.push_back(kHex[rd() & 15]);
  return mark;
}

// The transfer thread: waits for the snapshot slot (one BGSAVE, AOF rewrite or transfer at a
// time; a newline each second meanwhile, as Redis keeps a waiting replica's link alive), then
// streams the snapshot as Redis's diskless sync does: a $EOF:<mark> line, the RDB, the mark. Then
// closes the socket. No lastsave, dirty counter or save status changes: it is not a save.
void RunRdbTransfer(ServerState& s, int fd, RdbTransfer what) {
  memory::RegisterThisThread();
  PersistenceInfo& p = s.persistence;
  SocketSink sink(fd);
  std::unique_ptr<BackgroundSnapshot> snap;
  Status st = Status::Ok();
  for (int waited_ms = 0; st.ok(); waited_ms += 10) {
    if (what.exclude_data) break;  // functions only: nothing to walk
    if (g_transfers_stop.load() || waited_ms > SocketSink::kStallMs) {
      st = Status::Error("no snapshot could start (a BGSAVE or AOF rewrite ran on)");
      break;
    }
    {
      std::lock_guard<std::mutex> lock(p.save_mu);
      if (!p.bgsave_in_progress.load() && !aof::RewriteInProgress() && !p.loading.load()) {
        snap = StartSnapshotLocked(s);
        break;
      }
    }
    if (waited_ms > 0 && waited_ms % 1000 == 0) st = sink.Write("\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  KEEL_LOG_NOTICE("Starting an RDB transfer to a REPLCONF rdb-only client{}",
                  what.exclude_data ? " (functions only)" : "");
  std::string mark = TransferMark();
  if (st.ok() && what.psync) {
    std::string line;
    ReplyBuilder(&line).SimpleString("FULLRESYNC " + s.run_id + " 0");
    st = sink.Write(line);
  }
  // The replication preamble of a diskless transfer, where a disk-based one has a bulk length.
  if (st.ok()) st = sink.Write("$EOF:" + mark + "\r\n");  // not RESP
  if (st.ok() && snap != nullptr) {
    st = snap->Write(&sink);
  } else if (st.ok()) {
    SaveOptions so = SaveOptionsOf(s);
    rdb::RdbWriter w(&sink, so.compress, so.checksum);
    rdb::AuxInfo aux;
    aux.ctime = NowUnixMs() / 1000;
    aux.used_mem = so.used_mem;
    aux.functions = !what.exclude_functions;
    st = w.Begin(aux);
    if (st.ok()) st = w.Finish();
  }
  if (snap != nullptr) snap->Stop();
  if (st.ok()) st = sink.Write(mark);
  ::close(fd);
  if (st.ok()) {
    KEEL_LOG_NOTICE("RDB transfer to a REPLCONF rdb-only client succeeded");
  } else {
    KEEL_LOG_WARNING("RDB transfer to a REPLCONF rdb-only client failed: {}", st.message());
  }
  if (snap != nullptr) p.bgsave_in_progress.store(false);
  g_transfers_running.fetch_sub(1);  // last: nothing of `s` is touched after this
}

}  // namespace

void StartRdbTransfer(ServerState& s, int fd, RdbTransfer what) {
  g_transfers_running.fetch_add(1);
  std::thread(RunRdbTransfer, std::ref(s), fd, what).detach();
}

void StopRdbTransfers(ServerState& s) {
  g_transfers_stop.store(true);
  s.persistence.bgsave_abort.store(true);  // a snapshot being walked stops at its next shard
  while (g_transfers_running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Status StartBackgroundSave(ServerState& s) {
  PersistenceInfo& p = s.persistence;
  std::lock_guard<std::mutex> lock(p.save_mu);
  if (p.bgsave_in_progress.load()) return Status::Error(std::string(errors::kBgsaveInProgress));
  if (aof::RewriteInProgress()) return Status::Error(std::string(errors::kAofRewriteActive));
  if (p.bgsave_thread.joinable()) p.bgsave_thread.join();  // the last one, finished
  p.last_bgsave_try_ms.store(NowUnixMs());
  uint64_t dirty = s.keyspace->dirty();
  std::unique_ptr<BackgroundSnapshot> snap = StartSnapshotLocked(s);
  KEEL_LOG_NOTICE("Background saving started by thread");
  p.bgsave_thread = std::thread(RunBackgroundSave, std::ref(s), std::move(snap), dirty);
  return Status::Ok();
}

namespace {

// The save points, from the normalized "<seconds> <changes> ..." string.
std::vector<std::pair<int64_t, int64_t>> SavePoints(const Config& c) {
  std::vector<std::pair<int64_t, int64_t>> points;
  std::string s = c.save_params();
  std::vector<std::string_view> words;
  SplitArgsInPlace(s.data(), s.size(), &words);
  for (size_t i = 0; i + 1 < words.size(); i += 2) {
    points.emplace_back(ParseInt64(words[i]).value_or(0), ParseInt64(words[i + 1]).value_or(0));
  }
  return points;
}

// Redis waits this long after a failed BGSAVE before a save point may start another.
constexpr int64_t kBgsaveRetryDelayMs = 5000;

}  // namespace

bool BgsaveRetryAllowed(bool last_bgsave_ok, int64_t now_ms, int64_t last_try_ms) {
  return last_bgsave_ok || now_ms - last_try_ms > kBgsaveRetryDelayMs;
}

void PersistenceCron(ServerState& s) {
  PersistenceInfo& p = s.persistence;
  if (p.bgsave_in_progress.load() || p.loading.load()) return;
  int64_t now = NowUnixMs();
  uint64_t dirty = s.keyspace->dirty();
  if (dirty == 0) return;
  if (!BgsaveRetryAllowed(p.last_bgsave_ok.load(), now, p.last_bgsave_try_ms.load())) return;
  for (const auto& [seconds, changes] : SavePoints(*s.config)) {
    if (dirty >= static_cast<uint64_t>(changes) && now / 1000 - p.lastsave.load() > seconds) {
      KEEL_LOG_NOTICE("{} changes in {} seconds. Saving...", changes, seconds);
      (void)StartBackgroundSave(s);
      return;
    }
  }
}

Status PrepareShutdown(ServerState& s, bool save, bool nosave, bool force) {
  PersistenceInfo& p = s.persistence;
  if (p.bgsave_in_progress.load()) {
    KEEL_LOG_WARNING("There is a child saving an .rdb. Killing it!");
  }
  p.bgsave_abort.store(true);  // no shard lock is held here: waiting for the thread is safe
  while (p.bgsave_in_progress.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (p.loading.load()) {
    // As Redis: a shutdown during the start-up load never saves (the data is not all there).
    p.load_abort.store(true);
    return Status::Ok();
  }
  if ((!SavePoints(*s.config).empty() && !nosave) || save) {
    KEEL_LOG_NOTICE("Saving the final RDB snapshot before exiting.");
    if (Status st = SaveNow(s); !st.ok()) {
      if (!force) {
        KEEL_LOG_WARNING("Error trying to save the DB, can't exit.");
        return st;
      }
      KEEL_LOG_WARNING("Error trying to save the DB. Exit anyway.");
    }
  }
  return Status::Ok();
}

bool PrepareSignalShutdown(ServerState& s, bool sigterm) {
  // "default" or any of save, nosave, now, force (now waits for no replica: Keel has none).
  std::string how = s.config->shutdown_on_signal(sigterm);
  std::vector<std::string_view> words;
  SplitArgsInPlace(how.data(), how.size(), &words);
  auto has = [&](std::string_view w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  return PrepareShutdown(s, has("save"), has("nosave"), has("force")).ok();
}

void SaveAfterFlushAll(ServerState& s) {
  if (SavePoints(*s.config).empty()) return;
  // Stop a running BGSAVE from replacing this file with the data before the flush (without
  // waiting for it: inside an EXEC this thread holds every shard lock, which it may need).
  s.persistence.bgsave_abort.store(true);
  (void)SaveNow(s, /*count=*/false);
}

bool WritesDeniedByBgsaveError(ServerState& s) {
  if (__builtin_expect(s.persistence.last_bgsave_ok.load(std::memory_order_relaxed), 1)) {
    return false;
  }
  return s.config->stop_writes_on_bgsave_error() && !s.config->save_params().empty();
}

namespace {

// BGSAVE [SCHEDULE]
void CmdBgsave(CommandContext& ctx) {
  if (ctx.args.size() > 2 || (ctx.args.size() == 2 && !EqualsIgnoreCase(ctx.args[1], "schedule"))) {
    return ctx.reply.Error(errors::kSyntax);
  }
  // SCHEDULE waits for an AOF rewrite (the cron starts it after); with none it starts at once.
  if (ctx.args.size() == 2 && aof::RewriteInProgress()) {
    ctx.server.persistence.bgsave_scheduled.store(true);
    return ctx.reply.SimpleString("Background saving scheduled");
  }
  Status st = StartBackgroundSave(ctx.server);
  if (!st.ok()) return ctx.reply.Error(st.message());
  ctx.reply.SimpleString("Background saving started");
}

// SAVE
void CmdSave(CommandContext& ctx) {
  if (ctx.server.persistence.bgsave_in_progress.load()) {
    return ctx.reply.Error(errors::kBgsaveInProgress);
  }
  if (SaveNow(ctx.server).ok()) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Error(errors::kBareErr);
  }
}

// LASTSAVE
void CmdLastSave(CommandContext& ctx) { ctx.reply.Integer(ctx.server.persistence.lastsave.load()); }

rdb::ValueLimits LimitsOf(const Config& c) {
  rdb::ValueLimits l;
  l.list_max_listpack_size = c.list_max_listpack_size();
  l.list_compress_depth = c.list_compress_depth();
  l.set_max_intset_entries = static_cast<size_t>(c.set_max_intset_entries());
  l.hash_max_listpack_entries = static_cast<size_t>(c.hash_max_listpack_entries());
  l.hash_max_listpack_value = static_cast<size_t>(c.hash_max_listpack_value());
  l.zset_max_listpack_entries = static_cast<size_t>(c.zset_max_listpack_entries());
  l.zset_max_listpack_value = static_cast<size_t>(c.zset_max_listpack_value());
  return l;
}

// DUMP key
void CmdDump(CommandContext& ctx) {
  Entry* e = ctx.keyspace().Lookup(ctx.db(), ctx.args[1]);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  ctx.reply.Bulk(rdb::DumpPayload(*e, ctx.server.config->rdbcompression()));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void CmdRestore(CommandContext& ctx) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t j = 4; j < ctx.args.size(); ++j) {
    std::string_view a = ctx.args[j];
    bool more = j + 1 < ctx.args.size();
    if (EqualsIgnoreCase(a, "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(a, "absttl")) {
      absttl = true;
    } else if (EqualsIgnoreCase(a, "idletime") && more && freq == -1) {
      auto v = ParseInt64(ctx.args[++j]);
      if (!v) return ctx.reply.Error(errors::kNotInteger);
      if (*v < 0) return ctx.reply.Error(errors::kInvalidIdletime);
      idle = *v;
    } else if (EqualsIgnoreCase(a, "freq") && more && idle == -1) {
      auto v = ParseInt64(ctx.args[++j]);
      if (!v) return ctx.reply.Error(errors::kNotInteger);
      if (*v < 0 || *v > 255) {
        return ctx.reply.Error(errors::kInvalidFreq);
      }
      freq = *v;
    } else {
      return ctx.reply.Error(errors::kSyntax);
    }
  }
  Keyspace& ks = ctx.keyspace();
  std::string_view key = ctx.args[1];
  bool exists = ks.Lookup(ctx.db(), key) != nullptr;
  if (!replace && exists) return ctx.reply.Error(errors::kBusyKey);
  auto ttl = ParseInt64(ctx.args[2]);
  if (!ttl) return ctx.reply.Error(errors::kNotInteger);
  if (*ttl < 0) return ctx.reply.Error(errors::kInvalidTtl);
  Entry* e = nullptr;
  uint64_t packed_blobs = 0;
  Status st = rdb::RestorePayload(ctx.args[3], key, LimitsOf(*ctx.server.config), &e,
                                  SkipChecksumValidation(), &packed_blobs);
  // Keel always checks a payload fully; INFO counts the packed blobs as sanitized where Redis
  // would have sanitized them (sanitize-dump-payload yes, or clients unless the user skips).
  std::string sanitize = ctx.server.config->sanitize_dump_payload();
  if (sanitize == "yes" || (sanitize == "clients" && !AclSkipsSanitizePayload(ctx.client))) {
    ctx.server.stats.dump_payload_sanitizations.fetch_add(packed_blobs, std::memory_order_relaxed);
  }
  if (!st.ok()) return ctx.reply.Error("ERR " + st.message());
  int64_t expire = -1;
  if (*ttl > 0) expire = absttl ? *ttl : NowUnixMs() + *ttl;
  if (expire >= 0 && expire <= NowUnixMs()) {
    // Already expired: the old key goes (if replaced), the new one never appears.
    FreeEntry(e);
    if (replace && exists) {
      ks.Delete(ctx.db(), key);
      KeyDeleted(ctx, key);
    }
    return ctx.reply.Ok();
  }
  if (expire >= 0) e = Keyspace::Rekey(e, key, expire);
  // Redis deletes a replaced key and adds the restored one anew, so "new" always comes.
  NewKeyEvent(ctx, key);
  ks.Put(ctx.db(), e);
  ks.ApplySavedAccess(e, freq, idle);
  KeyChanged(ctx, key, Event{'g', "restore"});
  ctx.reply.Ok();
}

// ---- DEBUG ----

// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back, all under every shard lock.
void DebugReload(CommandContext& ctx) {
  bool merge = false, flush = true, save = true;
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "merge")) {
      merge = true;
    } else if (EqualsIgnoreCase(ctx.args[j], "noflush")) {
      flush = false;
    } else if (EqualsIgnoreCase(ctx.args[j], "nosave")) {
      save = false;
    } else {
      return ctx.reply.Error(errors::kDebugReloadOptions);
    }
  }
  ServerState& s = ctx.server;
  Keyspace& ks = ctx.keyspace();
  std::vector<ShardGuard> locks = LockAllShards(ks);
  if (save && !SaveNow(s).ok()) return ctx.reply.Error(errors::kBareErr);
  // As in Redis, a reload writes nothing to the AOF (the FLUSHDBs below would lose the data).
  aof::NotLogged not_logged;
  if (flush) {
    for (int db = 0; db < ks.databases(); ++db) {
      // A reload is not a change to the data: it marks WATCHers but adds nothing to the dirty
      // counter (the save before it has just reset it).
      ks.ChangedDb(db, -1, ChangeKind::kFlush, 0);
      ks.FreeDetached(ks.DetachAll(db), /*async=*/false);
    }
  }
  rdb::LoadOptions opt;
  opt.limits = LimitsOf(*s.config);
  opt.verify_checksum = s.config->rdbchecksum() && !SkipChecksumValidation();
  opt.now_ms = NowUnixMs();
  rdb::LoadStats stats;
  bool found;
  Status st = LoadRdbFile(ks, s.config->dbfilename(), opt, merge, &stats, &found);
  if (st.ok() && !found) st = Status::Error("No such file or directory");
  if (st.ok()) st = functions::ReplaceAllFromRdb(stats.function_codes);  // the file's libraries
  if (!st.ok()) {
    KEEL_LOG_WARNING("{}", st.message());
    return ctx.reply.Error(errors::kDebugReloadFailed);
  }
  s.persistence.last_load_keys_loaded.store(stats.keys_loaded);
  s.persistence.last_load_keys_expired.store(stats.keys_expired);
  KEEL_LOG_WARNING("DB reloaded by DEBUG RELOAD");
  ctx.reply.Ok();
}

// DEBUG OBJECT key
void DebugObject(CommandContext& ctx) {
  if (ctx.args.size() != 3) return ctx.reply.Error(errors::kSyntax);
  Keyspace& ks = ctx.keyspace();
  ShardGuard g = ks.LockShard(ctx.db(), ShardOf(ctx.args[2]));
  Entry* e = ks.FindEvenExpired(ctx.db(), ctx.args[2]);  // as Redis: even past its TTL
  if (e == nullptr) return ctx.reply.Error(errors::kNoSuchKey);
  std::string body;
  rdb::AppendValueBody(&body, *e, ctx.server.config->rdbcompression());
  uint32_t now = Keyspace::LruClock();
  uint64_t idle = (now - static_cast<uint32_t>(e->lru)) & Entry::kLruMask;
  std::string extra;
  if (e->type == ObjType::kList) {
    size_t nodes = 1, elements = 0, bytes = e->val_len, depth = 0;
    if (e->storage == Entry::kObject) {
      const auto* l = static_cast<const ListObject*>(e->object());
      depth = l->compress_depth();
      nodes = l->nodes().size();
      elements = l->size();
      bytes = 0;
      for (const auto& n : l->nodes()) bytes += n->bytes;
    } else {
      elements = packed::CountElems(e->packed());
      // A Redis 7.0 list is a quicklist from the start, with the depth in force then; a packed
      // list here takes it when it grows into nodes.
      depth = static_cast<size_t>(ctx.server.config->list_compress_depth());
    }
    char buf[200];
    std::snprintf(buf, sizeof(buf),
                  " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%" PRId64
                  " ql_compressed:%d ql_uncompressed_size:%zu",
                  nodes, nodes ? static_cast<double>(elements) / nodes : 0.0,
                  ctx.server.config->list_max_listpack_size(), depth != 0 ? 1 : 0, bytes);
    extra = buf;
  }
  char buf[300];
  std::snprintf(buf, sizeof(buf),
                "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u "
                "lru_seconds_idle:%" PRIu64 "%s",
                static_cast<void*>(e), std::string(EncodingName(e->enc)).c_str(), body.size(),
                static_cast<unsigned>(e->lru), idle, extra.c_str());
  ctx.reply.SimpleString(buf);
}

// DEBUG <subcommand> ...: only what Redis's test suites and tools use most is here.
void CmdDebug(CommandContext& ctx) {
  if (!ctx.server.config->DebugCommandAllowed(IsLocalClient(ctx.client))) {
    return ctx.reply.Error(errors::kDebugNotAllowed);
  }
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "reload")) return DebugReload(ctx);
  if (EqualsIgnoreCase(sub, "object")) return DebugObject(ctx);
  if (EqualsIgnoreCase(sub, "help")) {
    static constexpr std::string_view kHelp[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "OBJECT <key>",
        "    Show low level info about the key and associated value.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Options: MERGE, NOFLUSH, NOSAVE.",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "LISTPACK <key>, QUICKLIST <key> [<0|1>]",
        "    Describe the layout of a listpack hash or of a list on standard output.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create string keys <prefix>:0 .. <prefix>:<count-1> (prefix 'key'), values",
        "    value:<n> padded or cut to <size> bytes; existing keys are kept.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "ERROR <string>",
        "    Return a protocol error with <string> as message.",
        "LEAK <string>",
        "    Create a memory leak of the input string.",
        "MALLCTL <key> [<val>], MALLCTL-STR <key> [<val>]",
        "    Get or set a jemalloc control (integer or string).",
        "PAUSE-CRON <0|1>",
        "    Stop or resume the periodic work (active expiry, statistics, timeouts).",
        "SDSLEN <key>",
        "    Show the lengths and block sizes of a string key and its value.",
        "CLIENT-EVICTION",
        "    Show the evictable clients' memory in Redis's buckets (maxmemory-clients).",
        "QUICKLIST-PACKED-THRESHOLD, CHANGE-REPL-ID, SET-DISABLE-DENY-SCRIPTS, REPLYBUFFER",
        "    Accepted for compatibility; they change nothing in Keel yet.",
        "REPLICATE <string>, DROP-CLUSTER-PACKET-FILTER <packet-type>",
        "    Accepted for compatibility: Keel has no replicas and no cluster bus yet.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the glob pattern matcher.",
        "HTSTATS <dbid>",
        "    Return hash table statistics of the specified database (its shards' tables summed).",
        "HTSTATS-KEY <key>",
        "    Like HTSTATS but for the hash table stored at <key>'s value.",
        "STRUCTSIZE",
        "    Return the size of Keel's core structures.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "AOF-FLUSH-SLEEP <microsec>",
        "    Server will sleep before flushing the AOF, this is used for testing.",
        "CONFIG-REWRITE-FORCE-ALL",
        "    Like CONFIG REWRITE but writes all configuration options, including",
        "    keywords not listed in original configuration file or default values.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "RESTART [<milliseconds>]",
        "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
        "CRASH-AND-RECOVER [<milliseconds>]",
        "    Hard crash and restart after a <milliseconds> delay (default 0).",
        "ASSERT, PANIC, OOM, SEGFAULT",
        "    Crash the server on purpose (abort; SEGFAULT with SIGSEGV).",
        "HELP",
        "    Print this help."};
    ctx.reply.StatusLines(kHelp);
    return;
  }
  if (RunDebugSubcommand(ctx)) return;  // debug_family.cc
  ctx.reply.Error(errors::SubcommandSyntax(sub, "debug"));
}

}  // namespace

Status SaveDatabase(ServerState& server) { return SaveNow(server); }

Status LoadDatabase(ServerState& s) {
  Keyspace& ks = *s.keyspace;
  rdb::LoadOptions opt;
  opt.limits = LimitsOf(*s.config);
  opt.verify_checksum = s.config->rdbchecksum() && !SkipChecksumValidation();
  opt.now_ms = NowUnixMs();
  rdb::LoadStats stats;
  bool found = false;
  int64_t start = NowMonotonicUs();
  PersistenceInfo& p = s.persistence;
  opt.total_bytes = &p.loading_total_bytes;
  opt.loaded_bytes = &p.loading_loaded_bytes;
  opt.loaded_keys = &p.last_load_keys_loaded;
  p.last_load_keys_loaded.store(0);
  opt.abort = &p.load_abort;
  opt.key_delay_us = s.config->load_key_delay_us();
  p.loading_start_s.store(NowUnixMs() / 1000);
  p.loading_loaded_bytes.store(0);
  p.loading.store(true);
  // The caller clears `loading` once the server may take writes (after the AOF log starts).
  Status st = LoadRdbFile(ks, s.config->dbfilename(), opt, /*replace=*/false, &stats, &found,
                          /*background_insert=*/true);
  if (!st.ok() || !found) return st;
  if (Status fs = functions::ReplaceAllFromRdb(stats.function_codes); !fs.ok()) return fs;
  s.persistence.last_load_keys_loaded.store(stats.keys_loaded);
  s.persistence.last_load_keys_expired.store(stats.keys_expired);
  KEEL_LOG_NOTICE("Loading RDB produced by version {} (RDB version {})", rdb::kRedisVersionAux,
                  stats.version);
  KEEL_LOG_NOTICE("Done loading RDB, keys loaded: {}, keys expired: {}.", stats.keys_loaded,
                  stats.keys_expired);
  if (stats.empty_keys_skipped > 0) {
    KEEL_LOG_NOTICE("Done loading RDB, empty keys skipped: {}.", stats.empty_keys_skipped);
  }
  KEEL_LOG_NOTICE("DB loaded from disk: {:.3f} seconds",
                  static_cast<double>(NowMonotonicUs() - start) / 1e6);
  return Status::Ok();
}

void RegisterPersistenceFamily(CommandRegistry* r) {
  r->Register("save", CmdSave, LockMode::kSelf);
  // kSelf: inside an EXEC the batch then holds every shard, so the snapshot's start (which locks
  // each shard once) never takes a lock below one the transaction holds.
  r->Register("bgsave", CmdBgsave, LockMode::kSelf);
  r->Register("lastsave", CmdLastSave);
  r->Register("dump", CmdDump);
  r->Register("restore", CmdRestore);
  r->Register("debug", CmdDebug, LockMode::kSelf);
}

}  // namespace keel
