#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "keel/commands/client.h"
#include "keel/commands/client_eviction.h"
#include "keel/common/stat_counter.h"
#include "keel/persistence/snapshot.h"

namespace keel {

class CommandObserver;
class Config;
class Dispatcher;
class Keyspace;
class Tracking;

// Server-wide counters reported by INFO stats. Relaxed atomics: they are statistics. The ones
// counted per command or per read/write are StatCounters.
struct ServerStats {
  std::atomic<int64_t> blocked_clients{0};  // a gauge: not reset by CONFIG RESETSTAT
  std::atomic<uint64_t> total_connections_received{0};
  StatCounter total_commands_processed;
  std::atomic<uint64_t> rejected_connections{0};
  StatCounter total_net_input_bytes;
  StatCounter total_net_output_bytes;
  StatCounter total_error_replies;
  std::atomic<uint64_t> unexpected_error_replies{0};
  StatCounter keyspace_hits;
  StatCounter keyspace_misses;
  // The longest single command execution and the longest housekeeping slice (expiry, rehash)
  // seen, in microseconds: Keel's own stall indicators (INFO stats keel_max_command_usec,
  // keel_max_housekeeping_usec; reset by CONFIG RESETSTAT).
  std::atomic<uint64_t> max_command_usec{0};
  std::atomic<uint64_t> max_housekeeping_usec{0};
  // Connections moved from one io thread to another (keel_io_thread_moves).
  std::atomic<uint64_t> io_thread_moves{0};
  // Clients closed by maxmemory-clients (keel/commands/client_eviction.h).
  std::atomic<uint64_t> evicted_clients{0};
  static void RaiseMax(std::atomic<uint64_t>& m, uint64_t v) {
    uint64_t cur = m.load(std::memory_order_relaxed);
    while (v > cur && !m.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
  }
  // Read and write completions on client sockets (total_reads_processed,
  // total_writes_processed).
  StatCounter total_reads_processed;
  StatCounter total_writes_processed;
  // Blocked clients with a timeout (clients_in_timeout_table): a gauge, as blocked_clients.
  std::atomic<int64_t> clients_in_timeout_table{0};
  // Time spent in active expiry slices, in microseconds (expire_cycle_cpu_milliseconds).
  std::atomic<uint64_t> expire_cycle_us{0};
  // Packed blobs (ziplists, listpacks, intsets, zipmaps) RESTORE checked while
  // sanitize-dump-payload asked for it (dump_payload_sanitizations).
  std::atomic<uint64_t> dump_payload_sanitizations{0};
  // Maintained by the net layer's cron from samples of total_commands_processed and the net
  // byte counters: the mean rates over the last 16 cron periods, per second.
  std::atomic<uint64_t> instantaneous_ops_per_sec{0};
  std::atomic<uint64_t> instantaneous_input_bps{0};
  std::atomic<uint64_t> instantaneous_output_bps{0};
  void Reset();
};

// Error replies counted by their first word (INFO errorstats). At most 128 distinct codes are
// tracked, like Redis, so clients cannot make the table grow without bound.
class ErrorStats {
 public:
  void Count(std::string_view reply_line);
  void Reset();
  std::vector<std::pair<std::string, uint64_t>> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, uint64_t>> counts_;  // GUARDED_BY(mu_)
};

// Per-command counters for INFO commandstats, indexed by the command's dense index.
struct CommandStats {
  StatCounter calls;
  StatCounter usec;
  StatCounter rejected_calls;
  StatCounter failed_calls;
};

// ClientRegistry knows every connected client, for CLIENT LIST/KILL, INFO clients, MONITOR and
// the idle-timeout cron. Thread-safe; its mutex is a leaf lock (nothing else is locked while
// holding it, except a Client's own `mu` for reading names).
class ClientRegistry {
 public:
  void Add(std::shared_ptr<Client> c);
  void Remove(uint64_t id);
  size_t size() const { return count_.load(std::memory_order_relaxed); }
  // Calls fn for each client connected when the call began, in id order. The registry lock is
  // not held while fn runs.
  void ForEach(const std::function<void(Client&)>& fn) const;
  std::shared_ptr<Client> Find(uint64_t id) const;

  // MONITOR: clients receiving a line per executed command.
  void AddMonitor(std::shared_ptr<Client> c);
  bool HasMonitors() const { return monitor_count_.load(std::memory_order_relaxed) > 0; }
  void FeedMonitors(const std::string& line) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Client>> clients_;  // GUARDED_BY(mu_)
  std::vector<std::weak_ptr<Client>> monitors_;                    // GUARDED_BY(mu_)
  std::atomic<size_t> count_{0};
  std::atomic<size_t> monitor_count_{0};
};

// What ServerState::notify_flags reads until a Dispatcher points it at the configuration: zero
// (keyspace notifications off).
inline const std::atomic<int64_t> kNotifyFlagsOff{0};

// ServerState is the shared context every command handler receives: configuration, keyspace,
// clients, statistics and server-level actions. One instance per process, created by main.
struct ServerState {
  Config* config = nullptr;
  Keyspace* keyspace = nullptr;
  Dispatcher* dispatcher = nullptr;  // set by the Dispatcher (EXEC runs queued commands)
  // Sees every command that changed the keyspace (see CommandObserver in dispatcher.h). Set
  // once at start-up, before any command runs; nullptr for none.
  CommandObserver* command_observer = nullptr;
  // Client-side caching (CLIENT TRACKING): set once at start-up, before any command runs.
  Tracking* tracking = nullptr;
  // notify-keyspace-events' live cell in `config`, so that NotifyOn (src/commands/notify.h),
  // asked on every change, is one relaxed load. Set by the Dispatcher's constructor.
  const std::atomic<int64_t>* notify_flags = &kNotifyFlagsOff;
  ClientRegistry clients;
  // The clients' memory and maxmemory-clients (keel/commands/client_eviction.h).
  ClientMemory client_memory;
  ServerStats stats;
  ErrorStats error_stats;
  std::unique_ptr<CommandStats[]> command_stats;  // sized by the dispatcher
  std::atomic<uint64_t> next_client_id{1};

  // Facts for INFO server.
  std::string run_id;
  std::string executable;
  std::vector<std::string> argv;  // the command line, as DEBUG RESTART executes it again
  std::string config_file;
  int64_t start_time_ms = 0;
  int tcp_port = 0;
  int io_threads = 1;
  // Set and kept by the net layer: how many io threads take connections now (the first
  // io_threads_serving of them), and how many connections each serves (io_threads entries).
  std::atomic<int> io_threads_serving{1};
  std::unique_ptr<std::atomic<int64_t>[]> io_thread_clients;

  // RDB persistence: INFO persistence, LASTSAVE, SAVE (persistence_family.cc).
  PersistenceInfo persistence;

  // Called by the net layer's 10 Hz cron (save points: PersistenceCron). Set once at start-up.
  std::function<void()> cron_hook;

  // Called by the net layer on SIGTERM/SIGINT before shutting down (the final save); false
  // keeps the server running. Set once at start-up.
  std::function<bool(bool sigterm)> before_signal_shutdown;

  // Set by the net layer. Thread-safe; begins a graceful shutdown.
  std::function<void()> request_shutdown;
};

}  // namespace keel
