// keel-server [config-file] [--option value ...]
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/client_eviction.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/pubsub.h"
#include "keel/commands/server_bridge.h"
#include "keel/commands/server_state.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/daemon.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/supervisor.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"
#include "keel/net/server.h"

namespace {

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ keel::NowUnixUs());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (char& c : s) c = kHex[rng() & 15];
  return s;
}

std::string AbsolutePath(const char* path) {
  char buf[PATH_MAX];
  if (path != nullptr && realpath(path, buf) != nullptr) return buf;
  return path ? path : "";
}

// maxmemory and its policy's parameters, from the config into the keyspace's evictor (at start-up
// and after each CONFIG SET of one of them).
void ApplyEvictionConfig(const keel::Config& c, keel::Evictor& ev) {
  ev.set_maxmemory(c.maxmemory());
  ev.set_policy(static_cast<keel::EvictionPolicy>(c.IntOption("maxmemory-policy")));
  ev.set_samples(static_cast<int>(c.IntOption("maxmemory-samples")));
  ev.set_tenacity(static_cast<int>(c.IntOption("maxmemory-eviction-tenacity")));
  ev.set_lfu_log_factor(c.IntOption("lfu-log-factor"));
  ev.set_lfu_decay_time(c.IntOption("lfu-decay-time"));
}

void PrintUsage() {
  std::fprintf(stderr,
               "Usage: ./keel-server [/path/to/keel.conf] [options] [-]\n"
               "       ./keel-server - (read config from stdin)\n"
               "       ./keel-server -v or --version\n"
               "       ./keel-server -h or --help\n\n"
               "Examples:\n"
               "       ./keel-server (run the server with default config)\n"
               "       ./keel-server /etc/keel/6379.conf\n"
               "       ./keel-server --port 7777\n"
               "       ./keel-server /etc/mykeel.conf --loglevel verbose\n");
}

}  // namespace

namespace keel {

// Under systemd, while the start-up load runs: a STATUS= line with its progress every second
// (`systemctl status` shows it) and, every 5 s, 15 s more of start timeout, so that the unit's
// TimeoutStartSec= stops a load that is stuck, not one that is big. Stops when the load ends.
class LoadProgressNotifier {
 public:
  explicit LoadProgressNotifier(const PersistenceInfo& p) : p_(p) {
    if (Supervision() != SupervisedMode::kSystemd) return;
    thread_ = std::thread([this] { Run(); });
  }
  ~LoadProgressNotifier() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (int tick = 1; !cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; });
         ++tick) {
      if (!p_.loading.load()) continue;
      uint64_t total = p_.loading_total_bytes.load();
      uint64_t loaded = p_.loading_loaded_bytes.load();
      uint64_t perc = total == 0 ? 0 : loaded * 100 / total;
      NotifyStatus(fmt::format("Loading the dataset: {}% ({} of {} bytes)", perc, loaded, total));
      if (tick % 5 == 1) ExtendStartTimeout(15'000'000);
    }
  }

  const PersistenceInfo& p_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace keel

int main(int argc, char** argv) {
  using namespace keel;
  memory::RegisterThisThread();
  signal(SIGPIPE, SIG_IGN);
  // A file over RLIMIT_FSIZE is a failed write (EFBIG) for the AOF writer to report, not a kill.
  signal(SIGXFSZ, SIG_IGN);
  if (argc >= 2) {
    std::string a = argv[1];
    if (a == "-v" || a == "--version") {
      std::printf("Keel server v=%s (Redis %s compatible) bits=64\n", kKeelVersionString,
                  kRedisCompatVersion);
      return 0;
    }
    if (a == "-h" || a == "--help") {
      PrintUsage();
      return 0;
    }
  }

  // Before the configuration: rename-command lines edit the command table.
  RegisterAllCommands();
  Config::SetRenameHandler(RenameCommand);
  Config::SetUserHandler(AclConfigUser);
  Config config;
  if (Status st = config.LoadFromCommandLine(argc, argv); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  LogOptions log_options;
  log_options.logfile = config.logfile();
  log_options.level = config.loglevel();
  log_options.syslog_enabled = config.syslog_enabled();
  log_options.syslog_ident = config.syslog_ident();
  log_options.syslog_facility = config.syslog_facility();
  if (Status st = InitLogging(log_options); !st.ok()) {
    std::fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Keel) ***\n%s\n", st.message().c_str());
    return 1;
  }
  // As Redis: a supervised server stays in the foreground whatever `daemonize` says.
  SupervisedMode supervised = InitSupervision(config.supervised());
  bool background = config.daemonize() && supervised == SupervisedMode::kNo;
  if (background) Daemonize();
  KEEL_LOG_WARNING("oO0OoO0OoO0Oo Keel is starting oO0OoO0OoO0Oo");
  KEEL_LOG_WARNING("Keel version={} (Redis {} compatible), bits=64, pid={}, just started",
                   kKeelVersionString, kRedisCompatVersion, static_cast<int>(getpid()));
  if (config.config_file().empty()) {
    KEEL_LOG_WARNING(
        "Warning: no config file specified, using the default config. In order to specify a "
        "config file use {} /path/to/keel.conf",
        argv[0]);
  } else {
    KEEL_LOG_WARNING("Configuration loaded");
  }
  AclSetRequirePass(config.requirepass());
  AclUseConfig(config);
  {
    std::vector<std::pair<std::string, std::string>> aclfile;
    std::string_view name = "aclfile";
    config.Get(std::span<const std::string_view>(&name, 1), &aclfile);
    if (std::string err = AclLoadAtStartup(aclfile.empty() ? "" : aclfile[0].second);
        !err.empty()) {
      for (size_t b = 0, e; b < err.size(); b = e + 1) {
        e = err.find('\n', b);
        if (e == std::string::npos) e = err.size();
        KEEL_LOG_WARNING("{}", err.substr(b, e - b));
      }
      return 1;
    }
  }
  config.SetApplyHook("requirepass", [](const Config& c) {
    AclSetRequirePass(c.requirepass());
    return Status::Ok();
  });
  config.SetApplyHook("loglevel", [](const Config& c) {
    SetLogLevel(c.loglevel());
    return Status::Ok();
  });

  Keyspace keyspace(config.databases());
  ServerState state;
  state.config = &config;
  state.keyspace = &keyspace;
  state.run_id = RandomHex(40);
  state.executable = AbsolutePath(argv[0]);
  state.argv.assign(argv, argv + argc);
  state.config_file = config.config_file();
  state.start_time_ms = NowUnixMs();
  state.tcp_port = config.port();
  state.io_threads = config.io_threads();
  Tracking tracking(&state);
  state.tracking = &tracking;
  keyspace.SetTracker(&tracking);
  // Keyspace notifications for keys removed by expiry, lazily or by the active cycle.
  keyspace.SetExpiredHook([&state](int db, std::string_view key) {
    NotifyKeyspaceEvent(state, 'x', "expired", key, db);
  });
  // ... and for keys removed by maxmemory eviction.
  keyspace.SetEvictedHook([&state](int db, std::string_view key) {
    NotifyKeyspaceEvent(state, 'e', "evicted", key, db);
  });
  ApplyEvictionConfig(config, keyspace.evictor());
  for (std::string_view name :
       {"maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor",
        "lfu-decay-time"}) {
    config.SetApplyHook(name, [&keyspace](const Config& c) {
      ApplyEvictionConfig(c, keyspace.evictor());
      return Status::Ok();
    });
  }
  auto apply_lazy_free = [&keyspace](const Config& c) {
    Keyspace::LazyFree& lf = keyspace.lazy_free();
    lf.eviction = c.IntOption("lazyfree-lazy-eviction") != 0;
    lf.expire = c.IntOption("lazyfree-lazy-expire") != 0;
    lf.server_del = c.IntOption("lazyfree-lazy-server-del") != 0;
    lf.user_del = c.IntOption("lazyfree-lazy-user-del") != 0;
    lf.user_flush = c.IntOption("lazyfree-lazy-user-flush") != 0;
    return Status::Ok();
  };
  (void)apply_lazy_free(config);  // always Ok
  for (std::string_view name :
       {"lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del",
        "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"}) {
    config.SetApplyHook(name, apply_lazy_free);
  }
  // maxmemory-clients: bytes, or a percentage of maxmemory (keel/commands/client_eviction.h).
  client_eviction::ApplyConfig(config, &state.client_memory);
  config.SetApplyHook("maxmemory-clients", [&state](const Config& c) {
    client_eviction::ApplyConfig(c, &state.client_memory);
    return Status::Ok();
  });
  config.SetApplyHook("maxmemory", [&keyspace, &state](const Config& c) {
    ApplyEvictionConfig(c, keyspace.evictor());
    client_eviction::ApplyConfig(c, &state.client_memory);
    uint64_t used = memory::Calibrate();
    if (c.maxmemory() != 0 && c.maxmemory() < used) {
      KEEL_LOG_WARNING(
          "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current "
          "memory usage ({}). This will result in key eviction and/or the inability to accept "
          "new write commands depending on the maxmemory-policy.",
          c.maxmemory(), used);
    }
    return Status::Ok();
  });
  if (config.maxmemory() != 0 && config.maxmemory() < 1024 * 1024) {
    KEEL_LOG_WARNING(
        "WARNING: You specified a maxmemory value that is less than 1MB (current value is {} "
        "bytes). Are you sure this is what you really want?",
        config.maxmemory());
  }
  state.persistence.lastsave.store(NowUnixMs() / 1000);
  state.cron_hook = [&state] {
    PersistenceCron(state);
    aof::Cron(state);
    state.keyspace->evictor().Cron();
    client_eviction::Cron(state);
  };
  state.before_signal_shutdown = [&state](bool sigterm) {
    return PrepareSignalShutdown(state, sigterm);
  };
  memory::MarkStartup();
  Server::Options options;
  options.bind = config.bind();
  options.port = config.port();
  options.io_threads = config.io_threads();
  options.tcp_keepalive = config.tcp_keepalive();
  options.unixsocket = config.unixsocket();
  options.unixsocketperm = config.unixsocketperm();
  // READY=1 goes out when the data is loaded (below), as Redis's does.
  options.on_shutdown = [] { NotifyStopping(); };
  options.watchdog_usec = WatchdogUsec();
  options.watchdog_ping = [] { NotifyWatchdog(); };
  aof::CreateLog(state);  // read by every io thread; the loader thread only fills it in
  Server server(&state, options);
  if (Status st = server.Listen(); !st.ok()) {
    KEEL_LOG_WARNING("{}", st.message());  // Redis logs it only; so does Keel
    return 1;
  }
  // CONFIG SET bind / port rebind the TCP listeners, as Redis 7.0 does (its error texts; the
  // reason is logged).
  config.SetApplyHook("bind", [&server](const Config& c) {
    if (server.Rebind(c.bind(), c.port()).ok()) return Status::Ok();
    return Status::Error("Failed to bind to specified addresses.");
  });
  config.SetApplyHook("port", [&server](const Config& c) {
    if (server.Rebind(c.bind(), c.port()).ok()) return Status::Ok();
    return Status::Error("Unable to listen on this port. Check server logs.");
  });
  // As Redis: written when daemonized (a default path if none is set) or when set; best effort.
  std::string pidfile = config.pidfile();
  if (pidfile.empty() && background) pidfile = kDefaultPidFile;
  if (!pidfile.empty() && !WritePidFile(pidfile)) {
    KEEL_LOG_WARNING("Failed to write PID file: {}", std::strerror(errno));
  }
  KEEL_LOG_NOTICE("Running mode=standalone, port={}, io-threads={}.", config.port(),
                  config.io_threads());
  KEEL_LOG_WARNING("Server initialized");
  // The data comes back while the listeners are open: as in Redis, clients that connect meanwhile
  // get -LOADING for every command not flagged "loading" (INFO shows the progress).
  // Marked before the listeners open, so that no client sees an empty dataset answer before the
  // loader thread has started.
  // INFO's loading_total_bytes is there from the first moment `loading` is (the RDB reader sets
  // it again when it opens the file).
  if (config.IntOption("appendonly") == 0) {
    struct stat sb;
    if (::stat(config.dbfilename().c_str(), &sb) == 0) {
      state.persistence.loading_total_bytes.store(static_cast<uint64_t>(sb.st_size));
    }
  }
  state.persistence.loading.store(true);
  std::thread loader([&state, &options, &config] {
    memory::RegisterThisThread();
    // With appendonly yes only the AOF is read, as in Redis (docs/persistence.md). The AOF log
    // starts before the flag drops, so no write a client makes after the load escapes it.
    LoadProgressNotifier progress(state.persistence);
    Status loaded =
        config.IntOption("appendonly") != 0 ? aof::LoadAppendOnly(state) : LoadDatabase(state);
    if (loaded.ok()) loaded = aof::StartAppendOnly(state);
    state.persistence.loading.store(false);
    progress.Stop();
    if (Status st = loaded; !st.ok()) {
      if (state.persistence.load_abort.load()) return;  // a shutdown during the load
      KEEL_LOG_WARNING("{}", st.message());
      KEEL_LOG_WARNING("Fatal error loading the DB, exiting.");
      spdlog::shutdown();
      std::_Exit(1);
    }
    KEEL_LOG_NOTICE("Ready to accept connections");
    if (!options.unixsocket.empty()) {
      KEEL_LOG_NOTICE("The server is now ready to accept connections at {}", options.unixsocket);
    }
    NotifyReady();
  });
  server.Run();
  StopRdbTransfers(state);
  state.persistence.load_abort.store(true);
  loader.join();
  aof::StopAppendOnly();  // writes and fsyncs what is buffered
  if (!options.unixsocket.empty()) {
    KEEL_LOG_NOTICE("Removing the unix socket file.");
    unlink(options.unixsocket.c_str());
  }
  if (!pidfile.empty()) {
    KEEL_LOG_NOTICE("Removing the pid file.");
    unlink(pidfile.c_str());
  }
  KEEL_LOG_WARNING("Keel is now ready to exit, bye bye...");
  spdlog::shutdown();
  return 0;
}
