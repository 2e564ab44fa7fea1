// Server commands: INFO, CONFIG, COMMAND, DBSIZE, TIME, SHUTDOWN, MONITOR.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/client_eviction.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/pubsub.h"
#include "keel/commands/scripting.h"
#include "keel/commands/server_bridge.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/strings.h"
#include "keel/common/supervisor.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// ---- INFO ----

struct InfoWriter {
  // INFO's text separates its lines with CR LF (the text is then sent as one bulk string).
  static constexpr std::string_view kEol = "\r\n";  // not RESP: INFO's line ending
  std::string out;
  int sections = 0;
  void Section(std::string_view name) {
    if (sections++) out += kEol;
    out += "# ";
    out += name;
    out += kEol;
  }
  template <typename T>
  void Field(std::string_view name, const T& value) {
    out += name;
    out += ':';
    if constexpr (std::is_convertible_v<T, std::string_view>) {
      out += std::string_view(value);
    } else {
      out += std::to_string(value);
    }
    out += kEol;
  }
};

using memory::HumanBytes;

}  // namespace

uint64_t ServerUsedMemory() { return memory::Calibrate(); }

// Redis's "local" client (enable-protected-configs, enable-debug-command): 127.0.0.1, ::1 or a
// Unix socket (whose clients show the socket path as both addr and laddr).
bool IsLocalClient(const Client& c) {
  return c.addr.starts_with("127.0.0.1:") || c.addr.starts_with("[::1]:") || c.addr == c.laddr;
}

namespace {

void InfoServer(ServerState& s, InfoWriter& w) {
  struct utsname name;
  uname(&name);
  int64_t now_us = NowUnixUs();
  int64_t uptime = (now_us / 1000 - s.start_time_ms) / 1000;
  w.Section("Server");
  w.Field("redis_version", kRedisCompatVersion);
  w.Field("keel_version", kKeelVersionString);
  w.Field("redis_git_sha1", "00000000");
  w.Field("redis_git_dirty", 0);
  w.Field("redis_build_id", "0");
  w.Field("redis_mode", "standalone");
  w.Field("os", std::string(name.sysname) + " " + name.release + " " + name.machine);
  w.Field("arch_bits", 64);
  w.Field("monotonic_clock", "POSIX clock_gettime");
  w.Field("multiplexing_api", "epoll");
  w.Field("atomicvar_api", "c11-builtin");
  w.Field("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                             std::to_string(__GNUC_PATCHLEVEL__));
  w.Field("process_id", static_cast<int64_t>(getpid()));
  w.Field("process_supervised", SupervisionName(Supervision()));
  w.Field("run_id", s.run_id);
  w.Field("tcp_port", s.tcp_port);
  w.Field("server_time_usec", now_us);
  w.Field("uptime_in_seconds", uptime);
  w.Field("uptime_in_days", uptime / 86400);
  w.Field("hz", 10);
  w.Field("configured_hz", 10);
  w.Field("lru_clock", (now_us / 1000000) & ((1 << 24) - 1));
  w.Field("executable", s.executable);
  w.Field("config_file", s.config_file);
  int serving = s.io_threads_serving.load(std::memory_order_relaxed);
  w.Field("io_threads_active", serving > 1 ? 1 : 0);
  w.Field("keel_io_threads", s.io_threads);
  w.Field("keel_io_threads_serving", serving);
  std::string per_thread;
  for (int i = 0; s.io_thread_clients && i < s.io_threads; ++i) {
    if (i > 0) per_thread.push_back(',');
    per_thread += std::to_string(s.io_thread_clients[i].load(std::memory_order_relaxed));
  }
  w.Field("keel_io_thread_clients", per_thread);
}

void InfoClients(ServerState& s, InfoWriter& w) {
  w.Section("Clients");
  w.Field("connected_clients", s.clients.size());
  w.Field("cluster_connections", 0);
  w.Field("maxclients", s.config->maxclients());
  w.Field("client_recent_max_input_buffer", client_eviction::RecentMaxInput(s.client_memory));
  w.Field("client_recent_max_output_buffer", client_eviction::RecentMaxOutput(s.client_memory));
  w.Field("blocked_clients", s.stats.blocked_clients.load(std::memory_order_relaxed));
  w.Field("tracking_clients", s.tracking != nullptr ? s.tracking->tracking_clients() : 0);
  w.Field("clients_in_timeout_table",
          s.stats.clients_in_timeout_table.load(std::memory_order_relaxed));
}

void InfoMemory(ServerState& s, InfoWriter& w) {
  MemoryOverview mo = ServerMemoryOverview(s);  // calibrates: exact, and it raises the peak
  uint64_t used = mo.used, rss = mo.rss, peak = mo.peak, active = mo.active;
  uint64_t resident = mo.resident;
  uint64_t total = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  auto ratio = [](uint64_t a, uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", b ? static_cast<double>(a) / b : 0.0);
    return std::string(buf);
  };
  char peak_perc[32];
  std::snprintf(peak_perc, sizeof(peak_perc), "%.2f%%", peak ? 100.0 * used / peak : 0.0);
  const Evictor& ev = s.keyspace->evictor();
  uint64_t maxmemory = ev.maxmemory();
  LazyFreer& freer = s.keyspace->lazy_freer();
  w.Section("Memory");
  w.Field("used_memory", used);
  w.Field("used_memory_human", HumanBytes(used));
  w.Field("used_memory_rss", rss);
  w.Field("used_memory_rss_human", HumanBytes(rss));
  w.Field("used_memory_peak", peak);
  w.Field("used_memory_peak_human", HumanBytes(peak));
  w.Field("used_memory_peak_perc", peak_perc);
  w.Field("used_memory_overhead", mo.overhead);
  w.Field("used_memory_startup", mo.startup);
  w.Field("used_memory_dataset", mo.dataset);
  char dataset_perc[32];
  std::snprintf(dataset_perc, sizeof(dataset_perc), "%.2f%%", mo.dataset_percentage);
  w.Field("used_memory_dataset_perc", dataset_perc);
  w.Field("allocator_allocated", used);
  w.Field("allocator_active", active);
  w.Field("allocator_resident", resident);
  w.Field("total_system_memory", total);
  w.Field("total_system_memory_human", HumanBytes(total));
  for (const auto& [name, value] : scripting::InfoMemoryFields()) w.Field(name, value);
  w.Field("maxmemory", maxmemory);
  w.Field("maxmemory_human", HumanBytes(maxmemory));
  w.Field("maxmemory_policy", s.config->maxmemory_policy());
  w.Field("allocator_frag_ratio", ratio(active, used));
  w.Field("allocator_frag_bytes", active > used ? active - used : 0);
  w.Field("allocator_rss_ratio", ratio(resident, active));
  w.Field("allocator_rss_bytes", resident > active ? resident - active : 0);
  w.Field("rss_overhead_ratio", ratio(rss, resident));
  w.Field("rss_overhead_bytes", static_cast<int64_t>(rss) - static_cast<int64_t>(resident));
  w.Field("mem_fragmentation_ratio", ratio(rss, used));
  w.Field("mem_fragmentation_bytes", static_cast<int64_t>(rss) - static_cast<int64_t>(used));
  w.Field("mem_not_counted_for_evict", 0);
  w.Field("mem_replication_backlog", 0);
  w.Field("mem_total_replication_buffers", 0);
  // Keel has no replicas; MONITOR clients are counted with the normal ones.
  w.Field("mem_clients_slaves", 0);
  w.Field("mem_clients_normal", mo.clients_normal);
  w.Field("mem_cluster_links", 0);
  w.Field("mem_aof_buffer", mo.aof_buffer);
  w.Field("mem_allocator", memory::AllocatorName());
  w.Field("active_defrag_running", 0);
  w.Field("lazyfree_pending_objects", freer.pending());
  w.Field("lazyfreed_objects", freer.freed());
}

void InfoPersistence(ServerState& s, InfoWriter& w) {
  w.Section("Persistence");
  const PersistenceInfo& p = s.persistence;
  w.Field("loading", p.loading.load() ? 1 : 0);
  w.Field("async_loading", 0);
  w.Field("current_cow_peak", 0);
  w.Field("current_cow_size", 0);
  w.Field("current_cow_size_age", 0);
  w.Field("current_fork_perc", "0.00");
  bool bgsave = p.bgsave_in_progress.load();
  w.Field("current_save_keys_processed", bgsave ? p.bgsave_keys_processed.load() : 0);
  w.Field("current_save_keys_total", bgsave ? p.bgsave_keys_total.load() : 0);
  w.Field("rdb_changes_since_last_save", s.keyspace->dirty());
  w.Field("rdb_bgsave_in_progress", bgsave ? 1 : 0);
  w.Field("rdb_last_save_time", p.lastsave.load());
  w.Field("rdb_last_bgsave_status", p.last_bgsave_ok.load() ? "ok" : "err");
  w.Field("rdb_last_bgsave_time_sec", p.last_bgsave_time_sec.load());
  w.Field("rdb_current_bgsave_time_sec",
          bgsave ? (NowUnixMs() - p.bgsave_start_ms.load()) / 1000 : -1);
  w.Field("rdb_saves", p.saves.load());
  w.Field("rdb_last_cow_size", p.last_cow_size.load());
  w.Field("rdb_last_load_keys_expired", p.last_load_keys_expired.load());
  w.Field("rdb_last_load_keys_loaded", p.last_load_keys_loaded.load());
  for (const auto& [name, value] : aof::InfoFields(false)) w.Field(name, value);
  w.Field("module_fork_in_progress", 0);
  w.Field("module_fork_last_cow_size", 0);
  for (const auto& [name, value] : aof::InfoFields(true)) w.Field(name, value);
  if (p.loading.load()) {
    // Redis's progress fields, at the section's end while the start-up load runs.
    int64_t now = NowUnixMs() / 1000;
    int64_t elapsed = now - p.loading_start_s.load();
    uint64_t total = p.loading_total_bytes.load();
    uint64_t loaded = p.loading_loaded_bytes.load();
    double perc = total > 0 ? 100.0 * static_cast<double>(loaded) / static_cast<double>(total) : 0;
    int64_t eta = loaded == 0 ? 1
                              : static_cast<int64_t>(static_cast<double>(elapsed) *
                                                     static_cast<double>(total - loaded) /
                                                     static_cast<double>(loaded));
    w.Field("loading_start_time", p.loading_start_s.load());
    w.Field("loading_total_bytes", total);
    w.Field("loading_rdb_used_mem", 0);
    w.Field("loading_loaded_bytes", loaded);
    char perc_text[32];
    std::snprintf(perc_text, sizeof(perc_text), "%.2f", perc);
    w.Field("loading_loaded_perc", perc_text);
    w.Field("loading_eta_seconds", eta);
  }
}

// Redis's kbps: the integer mean rate in bytes per second over 1024, with two decimals.
std::string Kbps(uint64_t bytes_per_second) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(bytes_per_second) / 1024);
  return buf;
}

void InfoStats(ServerState& s, InfoWriter& w) {
  auto& st = s.stats;
  auto ld = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  w.Section("Stats");
  w.Field("total_connections_received", ld(st.total_connections_received));
  w.Field("total_commands_processed", ld(st.total_commands_processed));
  w.Field("instantaneous_ops_per_sec", ld(st.instantaneous_ops_per_sec));
  w.Field("total_net_input_bytes", ld(st.total_net_input_bytes));
  w.Field("total_net_output_bytes", ld(st.total_net_output_bytes));
  w.Field("total_net_repl_input_bytes", 0);
  w.Field("total_net_repl_output_bytes", 0);
  w.Field("instantaneous_input_kbps", Kbps(ld(st.instantaneous_input_bps)));
  w.Field("instantaneous_output_kbps", Kbps(ld(st.instantaneous_output_bps)));
  w.Field("instantaneous_input_repl_kbps", "0.00");
  w.Field("instantaneous_output_repl_kbps", "0.00");
  w.Field("rejected_connections", ld(st.rejected_connections));
  w.Field("sync_full", 0);
  w.Field("sync_partial_ok", 0);
  w.Field("sync_partial_err", 0);
  w.Field("expired_keys", ServerExpiredKeys(s));
  w.Field("expired_stale_perc", "0.00");
  w.Field("expired_time_cap_reached_count", 0);
  w.Field("expire_cycle_cpu_milliseconds", ld(st.expire_cycle_us) / 1000);
  w.Field("evicted_keys", s.keyspace->evictor().evicted_keys());
  w.Field("evicted_clients", s.stats.evicted_clients.load(std::memory_order_relaxed));
  w.Field("total_eviction_exceeded_time", s.keyspace->evictor().total_exceeded_ms());
  w.Field("current_eviction_exceeded_time", s.keyspace->evictor().current_exceeded_ms());
  w.Field("keyspace_hits", ld(st.keyspace_hits));
  w.Field("keyspace_misses", ld(st.keyspace_misses));
  w.Field("pubsub_channels", GlobalPubsub().NumChannels());
  w.Field("pubsub_patterns", GlobalPubsub().NumPat());
  w.Field("pubsubshard_channels", GlobalShardPubsub().NumChannels());
  w.Field("latest_fork_usec", 0);
  w.Field("total_forks", 0);
  w.Field("migrate_cached_sockets", 0);
  w.Field("slave_expires_tracked_keys", 0);
  for (const char* name :
       {"active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
        "active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time"}) {
    w.Field(name, 0);
  }
  Tracking* tracking = s.tracking;
  w.Field("tracking_total_keys", tracking != nullptr ? tracking->tracked_keys() : 0);
  w.Field("tracking_total_items", tracking != nullptr ? tracking->tracked_items() : 0);
  w.Field("tracking_total_prefixes", tracking != nullptr ? tracking->tracked_prefixes() : 0);
  w.Field("unexpected_error_replies", ld(st.unexpected_error_replies));
  w.Field("total_error_replies", ld(st.total_error_replies));
  w.Field("dump_payload_sanitizations", ld(st.dump_payload_sanitizations));
  w.Field("total_reads_processed", ld(st.total_reads_processed));
  w.Field("total_writes_processed", ld(st.total_writes_processed));
  // Redis's io-threads counters and its reply buffer's resizes: Keel has neither mechanism
  // (every read and write is an io thread's own; replies go to a growing string).
  w.Field("io_threaded_reads_processed", 0);
  w.Field("io_threaded_writes_processed", 0);
  w.Field("reply_buffer_shrinks", 0);
  w.Field("reply_buffer_expands", 0);
  w.Field("keel_max_command_usec", ld(st.max_command_usec));
  w.Field("keel_max_housekeeping_usec", ld(st.max_housekeeping_usec));
  w.Field("keel_io_thread_moves", ld(st.io_thread_moves));
  w.Field("keel_shard_lock_wait_usec", ShardMutex::WaitNs() / 1000);
}

void InfoReplication(ServerState& s, InfoWriter& w) {
  w.Section("Replication");
  w.Field("role", "master");
  w.Field("connected_slaves", 0);
  w.Field("master_failover_state", "no-failover");
  w.Field("master_replid", s.run_id);
  w.Field("master_replid2", "0000000000000000000000000000000000000000");
  w.Field("master_repl_offset", 0);
  w.Field("second_repl_offset", -1);
  w.Field("repl_backlog_active", 0);
  w.Field("repl_backlog_size", 1048576);
  w.Field("repl_backlog_first_byte_offset", 0);
  w.Field("repl_backlog_histlen", 0);
}

std::string Seconds(const timeval& tv) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                static_cast<long>(tv.tv_usec));
  return buf;
}

void InfoCpu(ServerState& s, InfoWriter& w) {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  w.Section("CPU");
  w.Field("used_cpu_sys", Seconds(self.ru_stime));
  w.Field("used_cpu_user", Seconds(self.ru_utime));
  w.Field("used_cpu_sys_children", Seconds(children.ru_stime));
  w.Field("used_cpu_user_children", Seconds(children.ru_utime));
  // Keel has no main thread: the io thread answering INFO stands in for it.
  rusage thread{};
  getrusage(RUSAGE_THREAD, &thread);
  w.Field("used_cpu_sys_main_thread", Seconds(thread.ru_stime));
  w.Field("used_cpu_user_main_thread", Seconds(thread.ru_utime));
}

void InfoCommandStats(ServerState& s, InfoWriter& w) {
  w.Section("Commandstats");
  GlobalCommandRegistry().ForEach([&](const CommandMeta& meta, size_t index) {
    const CommandStats& cs = s.command_stats[index];
    uint64_t calls = cs.calls.load(), usec = cs.usec.load();
    uint64_t rejected = cs.rejected_calls.load(), failed = cs.failed_calls.load();
    if (calls == 0 && rejected == 0 && failed == 0) return;
    std::string name(MetaName(meta));
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "calls=%" PRIu64 ",usec=%" PRIu64 ",usec_per_call=%.2f,rejected_calls=%" PRIu64
                  ",failed_calls=%" PRIu64,
                  calls, usec, calls ? static_cast<double>(usec) / calls : 0.0, rejected, failed);
    w.Field("cmdstat_" + name, buf);
  });
}

void InfoModules(ServerState& s, InfoWriter& w) { w.Section("Modules"); }

void InfoErrorStats(ServerState& s, InfoWriter& w) {
  w.Section("Errorstats");
  for (const auto& [code, n] : s.error_stats.Snapshot()) {
    w.Field("errorstat_" + code, "count=" + std::to_string(n));
  }
}

void InfoLatencyStats(ServerState& s, InfoWriter& w) {
  w.Section("Latencystats");
  for (const auto& [name, value] : LatencyStatsFields(s)) w.Field(name, value);
}

void InfoCluster(ServerState& s, InfoWriter& w) {
  w.Section("Cluster");
  w.Field("cluster_enabled", 0);
}

void InfoKeyspace(ServerState& s, InfoWriter& w) {
  w.Section("Keyspace");
  int dbs = ServerDatabases(s);
  for (int db = 0; db < dbs; ++db) {
    uint64_t keys = 0, expires = 0, avg_ttl = 0;
    ServerDbStats(s, db, &keys, &expires, &avg_ttl);
    if (keys == 0) continue;
    w.Field("db" + std::to_string(db), "keys=" + std::to_string(keys) +
                                           ",expires=" + std::to_string(expires) +
                                           ",avg_ttl=" + std::to_string(avg_ttl));
  }
}

struct InfoSection {
  std::string_view name;
  void (*fn)(ServerState&, InfoWriter&);
  bool in_default;
};

constexpr InfoSection kSections[] = {
    {"server", InfoServer, true},
    {"clients", InfoClients, true},
    {"memory", InfoMemory, true},
    {"persistence", InfoPersistence, true},
    {"stats", InfoStats, true},
    {"replication", InfoReplication, true},
    {"cpu", InfoCpu, true},
    {"modules", InfoModules, true},
    {"commandstats", InfoCommandStats, false},
    {"errorstats", InfoErrorStats, true},
    {"latencystats", InfoLatencyStats, false},
    {"cluster", InfoCluster, true},
    {"keyspace", InfoKeyspace, true},
};

// INFO [section [section ...]]
void CmdInfo(CommandContext& ctx) {
  bool all = false, defaults = ctx.args.size() == 1;
  std::vector<std::string> wanted;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string s = ToLower(ctx.args[i]);
    if (s == "all" || s == "everything") {
      all = true;
    } else if (s == "default") {
      defaults = true;
    } else {
      wanted.push_back(std::move(s));
    }
  }
  InfoWriter w;
  for (const InfoSection& sec : kSections) {
    bool pick = all || (defaults && sec.in_default) ||
                std::find(wanted.begin(), wanted.end(), sec.name) != wanted.end();
    if (pick) sec.fn(ctx.server, w);
  }
  ctx.reply.Verbatim(w.out);
}

// DBSIZE
void CmdDbSize(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<int64_t>(ServerDbSize(ctx.server, ctx.client.db.load())));
}

// TIME
void CmdTime(CommandContext& ctx) {
  int64_t us = NowUnixUs();
  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(us / 1000000));
  ctx.reply.Bulk(std::to_string(us % 1000000));
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
void CmdShutdown(CommandContext& ctx) {
  bool save = false, nosave = false, abort = false, force = false;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    if (EqualsIgnoreCase(a, "nosave")) {
      nosave = true;
    } else if (EqualsIgnoreCase(a, "save")) {
      save = true;
    } else if (EqualsIgnoreCase(a, "now")) {
      // Nothing to wait for: no replicas.
    } else if (EqualsIgnoreCase(a, "force")) {
      force = true;
    } else if (EqualsIgnoreCase(a, "abort")) {
      abort = true;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  if ((save && nosave) || (abort && ctx.args.size() > 2)) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (abort) {
    ctx.reply.Error(errors::kNoShutdown);
    return;
  }
  // A script past busy-reply-threshold holds the keyspace. As in Redis, only SHUTDOWN NOSAVE
  // gets through then: it stops the script, whatever it wrote, and exits without saving (any
  // other form would wait for the script's locks to save).
  if (scripting::BusyNow(ctx.server)) {
    if (!nosave) {
      ctx.reply.Error(scripting::g_running_is_function.load(std::memory_order_relaxed)
                          ? errors::kBusyFunction
                          : errors::kBusyScript);
      return;
    }
    scripting::KillForShutdown();
  }
  KEEL_LOG_WARNING("User requested shutdown...");
  if (scripting::t_serving_while_busy) {
    // Answered from inside this thread's own script's hook: nothing here may wait for the
    // keyspace the script holds (PrepareShutdown waits for a BGSAVE's walker). The walker stops
    // at its next shard once the script has.
    ctx.server.persistence.bgsave_abort.store(true);
  } else if (!PrepareShutdown(ctx.server, save, nosave, force).ok()) {
    ctx.reply.Error(errors::kShutdownFailed);
    return;
  }
  ctx.client.close_after_reply = true;
  if (ctx.server.request_shutdown) ctx.server.request_shutdown();
}

// MONITOR
void CmdMonitor(CommandContext& ctx) {
  if (ctx.client.flags.load() & kClientMonitor) return;
  ctx.client.flags.fetch_or(kClientMonitor);
  if (auto self = ctx.server.clients.Find(ctx.client.id)) ctx.server.clients.AddMonitor(self);
  ctx.reply.Ok();
}

// COMMAND [subcommand ...]
bool Implemented(const CommandMeta& meta) {
  if (CommandDisabled(meta)) return false;  // rename-command ... ""
  const CommandRegistry& r = GlobalCommandRegistry();
  if (r.Find(&meta) != nullptr || r.HasRegisteredSubcommands(&meta)) return true;
  // A subcommand of a container whose own handler serves every subcommand (COMMAND).
  std::string_view name = MetaName(meta);
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return false;
  const CommandMeta* container = FindCommandMeta(name.substr(0, bar));
  return container != nullptr && r.Find(container) != nullptr;
}

void CmdCommand(CommandContext& ctx) { ReplyCommandCommand(ctx.args, Implemented, &ctx.reply); }

// ---- CONFIG ----

// CONFIG GET parameter [parameter ...]
void CmdConfigGet(CommandContext& ctx) {
  std::vector<std::pair<std::string, std::string>> pairs;
  ctx.server.config->Get(ctx.args.subspan(2), &pairs);
  ctx.reply.MapHeader(pairs.size());
  for (const auto& [k, v] : pairs) {
    ctx.reply.Bulk(k);
    ctx.reply.Bulk(v);
  }
}

// CONFIG SET parameter value [parameter value ...]
void CmdConfigSet(CommandContext& ctx) {
  Status st = ctx.server.config->Set(ctx.args.subspan(2), IsLocalClient(ctx.client));
  if (!st.ok()) {
    ctx.reply.Error(st.message());
    return;
  }
  ctx.reply.Ok();
}

// CONFIG RESETSTAT
void CmdConfigResetStat(CommandContext& ctx) {
  ctx.server.stats.Reset();
  ctx.server.error_stats.Reset();
  ResetLatencyHistograms();
  GlobalCommandRegistry().ForEach([&](const CommandMeta&, size_t index) {
    CommandStats& cs = ctx.server.command_stats[index];
    cs.calls = 0;
    cs.usec = 0;
    cs.rejected_calls = 0;
    cs.failed_calls = 0;
  });
  ctx.reply.Ok();
}

// CONFIG REWRITE
void CmdConfigRewrite(CommandContext& ctx) {
  Status st = ctx.server.config->Rewrite();
  if (!st.ok()) {
    ctx.reply.Error(st.message());
    return;
  }
  ctx.reply.Ok();
}

// CONFIG HELP
void CmdConfigHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return the parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset the statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Print this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

void RegisterServerFamily(CommandRegistry* r) {
  r->Register("info", CmdInfo);
  r->Register("dbsize", CmdDbSize, LockMode::kDatabase);
  r->Register("time", CmdTime);
  r->Register("shutdown", CmdShutdown);
  r->Register("monitor", CmdMonitor);
  r->Register("command", CmdCommand);
  r->Register("config|get", CmdConfigGet);
  r->Register("config|set", CmdConfigSet);
  r->Register("config|resetstat", CmdConfigResetStat);
  r->Register("config|rewrite", CmdConfigRewrite);
  r->Register("config|help", CmdConfigHelp);
}

void RegisterAllCommands() {
  CommandRegistry* r = &GlobalCommandRegistry();
  RegisterConnectionFamily(r);
  RegisterServerFamily(r);
  RegisterKeyspaceFamily(r);
  RegisterStringFamily(r);
  RegisterGenericFamily(r);
  RegisterListFamily(r);
  RegisterSetFamily(r);
  RegisterHashFamily(r);
  RegisterZsetFamily(r);
  RegisterGeoFamily(r);
  RegisterTransactionFamily(r);
  RegisterPubsubFamily(r);
  RegisterPersistenceFamily(r);
  RegisterAofFamily(r);
  RegisterMemoryFamily(r);
  RegisterTrackingFamily(r);
  RegisterSortFamily(r);
  RegisterDiagnosticsFamily(r);
  RegisterPauseFamily(r);
  RegisterBitfieldFamily(r);
  RegisterHllFamily(r);
  RegisterStandaloneFamily(r);
  RegisterScriptingFamily(r);
  RegisterFunctionFamily(r);
  RegisterAclFamily(r);
}

}  // namespace keel
