#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/common/logging.h"
#include "keel/common/status.h"
#include "keel/common/supervisor.h"

namespace keel {

// Config holds every option keel-server understands, with redis.conf syntax and Redis 7.0's
// names, ranges and error texts.
//
// Sources, in order: the config file (if any), then the command line's `--name value` pairs,
// which are appended to the file's text as lines, as redis-server does. CONFIG SET changes
// mutable options at run time; CONFIG REWRITE writes the live values back into the file.
//
// Thread-safety: the typed getters may be called from any thread at any time (numbers are
// atomics, strings are copied under a mutex). Load*, Set and Rewrite serialize on the same
// mutex. Apply hooks run under it and must not call back into Set.
class Config {
 public:
  Config();
  ~Config();
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  // argv as main() gets it: [config-file | -] [--name value ...]. A failure's message is the
  // whole report to print (file, line, the offending line and the reason).
  Status LoadFromCommandLine(int argc, char** argv);
  // Parses config text (redis.conf syntax). `source` names it in error messages.
  Status LoadFromString(std::string_view text, std::string_view source);

  // CONFIG GET: the options matching any of the glob patterns (case-insensitive), each once.
  void Get(std::span<const std::string_view> patterns,
           std::vector<std::pair<std::string, std::string>>* out) const;
  // CONFIG SET name value [name value ...]: all or nothing. The message is the reply text.
  // Protected options (dir) are refused unless enable-protected-configs is yes, or local and
  // `local_client` (the caller is on 127.0.0.1, ::1 or a Unix socket).
  Status Set(std::span<const std::string_view> name_value_pairs, bool local_client = false);
  // CONFIG REWRITE; with `force_all` (DEBUG CONFIG-REWRITE-FORCE-ALL) every option is written,
  // defaults and dir included.
  Status Rewrite(bool force_all = false);

  // Runs after `name` changed through CONFIG SET; a failure undoes the whole SET.
  void SetApplyHook(std::string_view name, std::function<Status(const Config&)> hook);

  const std::string& config_file() const { return config_file_; }
  // Unique per Config made in this process: caches of option cells key on it (an address may be
  // reused by the next Config, a serial is not).
  uint64_t serial() const { return serial_; }

  std::vector<std::string> bind() const;
  int port() const;
  int io_threads() const;
  // io-threads-serving: 0 (automatic) or how many of the io threads serve connections.
  int io_threads_serving() const;
  int databases() const;
  int64_t timeout() const;
  int tcp_keepalive() const;
  int64_t maxclients() const;
  std::string requirepass() const;
  bool protected_mode() const;
  // enable-protected-configs / enable-debug-command (no, yes, local), as Redis 7.0: whether a
  // client may change protected configs / run DEBUG; `local_client`: the client connects from
  // 127.0.0.1, ::1 or a Unix socket.
  enum class ProtectedAccess { kNo = 0, kYes = 1, kLocal = 2 };
  bool ProtectedConfigsAllowed(bool local_client) const;
  bool DebugCommandAllowed(bool local_client) const;
  bool ModuleCommandAllowed(bool local_client) const;
  // unixsocket: the Unix socket path to listen on ("" = none); unixsocketperm: its mode (0 =
  // as the umask leaves it).
  std::string unixsocket() const;
  int unixsocketperm() const;
  LogLevel loglevel() const;
  std::string logfile() const;
  std::string pidfile() const;
  bool daemonize() const;
  // syslog-enabled, syslog-ident, syslog-facility (as a syslog(3) LOG_* facility value).
  bool syslog_enabled() const;
  std::string syslog_ident() const;
  int syslog_facility() const;
  // supervised no|upstart|systemd|auto.
  SupervisedMode supervised() const;
  int64_t proto_max_bulk_len() const;
  int64_t client_query_buffer_limit() const;
  uint64_t maxmemory() const;
  std::string maxmemory_policy() const;
  // Compact-encoding thresholds (Redis's names).
  int64_t list_max_listpack_size() const;
  // list-compress-depth: used by lists as they become quicklists (see ListObject).
  int64_t list_compress_depth() const;
  int64_t set_max_intset_entries() const;
  int64_t hash_max_listpack_entries() const;
  int64_t hash_max_listpack_value() const;
  int64_t zset_max_listpack_entries() const;
  int64_t zset_max_listpack_value() const;
  // RDB persistence: dbfilename, rdbcompression, rdbchecksum, the save points as CONFIG GET
  // shows them ("" or "<seconds> <changes> ...").
  std::string dbfilename() const;
  std::string sanitize_dump_payload() const;  // no, yes, clients
  bool rdbcompression() const;
  bool rdbchecksum() const;
  std::string save_params() const;
  bool stop_writes_on_bgsave_error() const;
  int64_t bgsave_shard_delay_us() const;    // keel-bgsave-shard-delay-us (a test knob)
  int64_t load_key_delay_us() const;        // keel-load-key-delay-us (a test knob)
  int64_t tracking_table_max_keys() const;  // client-side caching's remembered keys, 0: no limit
  std::string shutdown_on_signal(bool sigterm) const;  // shutdown-on-sigterm / -sigint
  int64_t client_output_pause_limit() const;           // bytes (Keel's own)
  int64_t shutdown_flush_timeout_ms() const;           // shutdown-flush-timeout (Keel's own)
  // notify-keyspace-events as NotifyFlag bits.
  uint32_t notify_keyspace_flags() const;
  // client-output-buffer-limit for one class (0 = no limit).
  enum class ClientClass { kNormal = 0, kReplica = 1, kPubsub = 2 };
  void output_buffer_limit(ClientClass cls, int64_t* hard, int64_t* soft, int64_t* seconds) const;
  // Any integer-valued option (bool: 0/1, enum: index) by name; for options added by later
  // modules (encodings thresholds, ...). REQUIRES: the option exists.
  int64_t IntOption(std::string_view name) const;
  // The live cell of an integer option, for readers on the hot path that must not search the
  // table per call (slowlog-log-slower-than). REQUIRES: the option exists; the cell lives as long
  // as this Config.
  const std::atomic<int64_t>* IntOptionCell(std::string_view name) const;

  struct Option;  // one registered option (config.cc)

  // Config-file directives that are not options (CONFIG GET does not know them), handled above
  // this library: `rename-command from to` (exactly two arguments) and `user name rule...`.
  // Each handler returns the error reason or "". main sets them before loading; without one
  // the line is refused.
  using RenameHandler = std::string (*)(std::string_view from, std::string_view to);
  static void SetRenameHandler(RenameHandler handler);
  using UserHandler = std::string (*)(std::span<const std::string_view> args);
  static void SetUserHandler(UserHandler handler);

 private:
  int64_t Int(size_t id) const;
  std::string String(size_t id) const;
  Option* Find(std::string_view name) const;
  // Applies one config line (already split); the message is the reason only.
  Status ApplyLine(std::span<const std::string_view> args);

  std::vector<std::unique_ptr<Option>> options_;
  mutable std::mutex mu_;
  std::string config_file_;  // absolute path, empty without a file
  uint64_t serial_;
};

// notify-keyspace-events letters: g $ l s h z x e t d m n K E, one bit each; 'A' is the
// alias of g$lshzxetd.
uint32_t NotifyFlag(char c);
inline constexpr uint32_t kNotifyAll = 0x3ff;  // g $ l s h z x e t d
std::string NotifyFlagsToString(uint32_t flags);

// How ParseMemoryValue reads the number in front of the unit.
enum class MemoryValueSyntax {
  // An optional '-' and an integer as ParseInt64 takes it; a value whose product with the unit
  // leaves int64 is refused. (DEBUG QUICKLIST-PACKED-THRESHOLD, client-output-buffer-limit.)
  kSigned,
  // Redis 7.0's memtoull, as its memory-valued options read values: digits only (no sign), ""
  // is 0, a number past 2^64-1 becomes 2^64-1, the product with the unit wraps, and the result
  // is seen as signed (so an option's range check refuses it, as Redis's does).
  kRedisConfig,
};

// Redis's memory-value syntax: a number and an optional unit, "" or b (bytes), k (1000), kb
// (1024), m, mb, g, gb, in any case. Returns false for anything else (see MemoryValueSyntax for
// the number).
bool ParseMemoryValue(std::string_view s, int64_t* out,
                      MemoryValueSyntax syntax = MemoryValueSyntax::kSigned);

}  // namespace keel
