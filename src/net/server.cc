#include "keel/net/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "connection.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/scripting.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"
#include "keel/net/balance.h"
#include "keel/net/watchdog.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/reply.h"
#include "protected_mode.h"

namespace keel {

namespace {

// The connections of this io thread (Impl::live[index]), for a script running on it past
// busy-reply-threshold: scripting::g_serve_while_busy answers them from the script's hook.
thread_local std::vector<std::weak_ptr<Connection>>* t_live = nullptr;
// On io thread 0 (the acceptors' thread): accepts the clients waiting (Impl::AcceptWhileBusy).
thread_local std::function<void()> t_accept_while_busy;
// This thread's cell of Impl::busy_seen_us.
thread_local std::atomic<int64_t>* t_busy_seen_us = nullptr;

void AnswerThisThreadWhileBusy() {
  if (t_busy_seen_us != nullptr) t_busy_seen_us->store(NowMonotonicUs(), std::memory_order_relaxed);
  if (t_accept_while_busy) t_accept_while_busy();
  if (t_live == nullptr) return;
  // By index: nothing answered here adds a connection, but stay safe if the list grew.
  for (size_t i = 0; i < t_live->size(); ++i) {
    if (auto c = (*t_live)[i].lock()) c->AnswerWhileBusy();
  }
}

}  // namespace

struct Server::Impl {
  ServerState* state;
  Options options;
  Dispatcher dispatcher;
  ConnectionEnv env;
  // contexts[0] also runs the acceptors, the signal set and the once-a-second cron.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  // The TCP listeners. CONFIG SET bind/port replaces them from the caller's io thread
  // (Server::Rebind) while io thread 0 accepts on them: acceptor_mu guards the vector and every
  // call into an acceptor (a leaf lock: nothing else is taken while it is held).
  std::mutex acceptor_mu;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;        // GUARDED_BY(acceptor_mu)
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor;  // unixsocket, if set
  asio::signal_set signals;
  asio::steady_timer cron;
  // One housekeeping timer per io thread: active expiry and rehashing of that thread's shards.
  std::vector<std::unique_ptr<asio::steady_timer>> housekeeping;
  std::atomic<size_t> next_context{0};
  std::vector<pthread_t> thread_ids;       // per io thread, for its CPU clock
  std::unique_ptr<LoopWatchdog> watchdog;  // set in Run() when systemd asked for one
  std::atomic<bool> shutting_down{false};
  int64_t shutdown_deadline_us = 0;

  // Connections per io thread, so shutdown can reach each on its own thread. Each list is
  // touched only by its thread.
  std::vector<std::vector<std::weak_ptr<Connection>>> live;

  Impl(ServerState* s, Options o)
      : state(s),
        options(std::move(o)),
        dispatcher(s),
        env{s, &dispatcher, {}},
        contexts(MakeContexts(options.io_threads)),
        signals(*contexts[0]),
        cron(*contexts[0]),
        live(contexts.size()) {
    for (auto& c : contexts) {
      guards.emplace_back(asio::make_work_guard(*c));
      housekeeping.push_back(std::make_unique<asio::steady_timer>(*c));
      env.contexts.push_back(c.get());
    }
    state->io_thread_clients = std::make_unique<std::atomic<int64_t>[]>(contexts.size());
    size_t pinned = PinnedServing();
    state->io_threads_serving = static_cast<int>(pinned > 0 ? pinned : 1);
  }

  // New connections go to the first state->io_threads_serving io threads; Balance() sets it.
  size_t Serving() const {
    return static_cast<size_t>(state->io_threads_serving.load(std::memory_order_relaxed));
  }
  // io-threads-serving, bounded by the threads there are; 0 when automatic.
  size_t PinnedServing() const {
    return std::min<size_t>(state->config->io_threads_serving(), contexts.size());
  }

  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < std::max(1, n); ++i) {
      // Each context is run by exactly one thread, and every socket operation of a connection
      // (reads, writes, close) is started on its own context's thread, so the reactor's
      // per-socket locking is not needed. Posting from other threads (ClientHandle) and timers
      // stay locked: UNSAFE_IO keeps the scheduler and registration locks.
      v.push_back(std::make_unique<asio::io_context>(ASIO_CONCURRENCY_HINT_UNSAFE_IO));
    }
    return v;
  }

  // Starts one accept on `acceptor`; its handler serves the client and starts the next one,
  // unless Rebind has replaced the acceptor meanwhile (its pointer is then only compared, never
  // used). REQUIRES: acceptor_mu held.
  void Accept(asio::ip::tcp::acceptor* acceptor) {
    size_t index = next_context.fetch_add(1) % Serving();
    asio::io_context& target = *contexts[index];
    acceptor->async_accept(
        target, [this, acceptor, index](const asio::error_code& ec, asio::ip::tcp::socket socket) {
          if (ec == asio::error::operation_aborted || shutting_down.load()) return;
          if (!ec) OnAccepted(std::move(socket), index);
          std::lock_guard<std::mutex> lock(acceptor_mu);
          for (auto& a : acceptors) {
            if (a.get() == acceptor) return Accept(acceptor);
          }
        });
  }

  // Answers a refused client at once and closes it, as Redis does (a short blocking write).
  bool RefusedByProtectedMode(asio::ip::tcp::socket& socket) {
    asio::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec || !ProtectedModeRefuses(*state->config, peer.address())) return false;
    std::string line = ReplyBuilder::ErrorLine(errors::kProtectedModeDenied);
    asio::write(socket, asio::buffer(line), ec);
    state->stats.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    socket.close(ec);
    return true;
  }

  // Unix-socket clients: the accepted descriptor is wrapped in a tcp::socket (asio's socket
  // calls are the same for any stream socket; the TCP-only options simply fail), so the rest of
  // the connection code has one socket type.
  void AcceptUnix() {
    size_t index = next_context.fetch_add(1) % Serving();
    asio::io_context& target = *contexts[index];
    unix_acceptor->async_accept(
        target, [this, index](const asio::error_code& ec, asio::local::stream_protocol::socket s) {
          if (ec == asio::error::operation_aborted || shutting_down.load()) return;
          if (!ec) {
            asio::error_code err;
            int fd = s.release(err);
            asio::ip::tcp::socket socket(*contexts[index]);
            if (!err) socket.assign(asio::ip::tcp::v4(), fd, err);
            if (!err) {
              OnAccepted(std::move(socket), index, /*unix_socket=*/true);
            } else if (fd >= 0) {
              ::close(fd);
            }
          }
          AcceptUnix();
        });
  }

  // On io thread 0 from the hook of a script running there (scripting::g_serve_while_busy): the
  // acceptors' handlers cannot run, so the TCP clients waiting are accepted here (as Redis
  // accepts from its script's hook), so that a new client can send SCRIPT KILL. One that lands
  // on this thread starts at once, its first read waiting for epoll (AnswerWhileBusy answers it
  // from its socket); others start on their own thread. Unix-socket clients wait.
  // When each io thread last answered from a busy script's hook (AnswerThisThreadWhileBusy):
  // a thread that did in the last 20 ms is inside a script past busy-reply-threshold, and a
  // client started there would wait for the script's end (its start is a post the thread cannot
  // run), so new clients go to another thread while one is not busy too.
  std::unique_ptr<std::atomic<int64_t>[]> busy_seen_us;
  bool ThreadBusy(size_t i) const {
    return busy_seen_us != nullptr &&
           NowMonotonicUs() - busy_seen_us[i].load(std::memory_order_relaxed) < 20000;
  }
  size_t AvoidBusy(size_t index) const {
    if (!ThreadBusy(index)) return index;
    for (size_t k = 1; k < contexts.size(); ++k) {
      size_t i = (index + k) % contexts.size();
      if (!ThreadBusy(i)) return i;
    }
    return index;
  }

  void AcceptWhileBusy() {
    std::unique_lock<std::mutex> lock(acceptor_mu, std::try_to_lock);
    if (!lock.owns_lock() || shutting_down.load()) return;  // a Rebind is running: next time
    for (auto& a : acceptors) {
      for (int k = 0; k < 16; ++k) {
        pollfd p{a->native_handle(), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
        int fd = ::accept4(a->native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        size_t index = AvoidBusy(next_context.fetch_add(1) % Serving());
        asio::error_code ec;
        asio::ip::tcp protocol = a->local_endpoint(ec).protocol();
        asio::ip::tcp::socket socket(*contexts[index]);
        if (!ec) socket.assign(protocol, fd, ec);
        if (ec) {
          ::close(fd);
          continue;
        }
        OnAccepted(std::move(socket), index, /*unix_socket=*/false, /*start_here=*/index == 0);
      }
    }
  }

  void OnAccepted(asio::ip::tcp::socket socket, size_t index, bool unix_socket = false,
                  bool start_here = false) {
    if (state->clients.size() >= static_cast<size_t>(state->config->maxclients())) {
      // Redis answers and closes; a small blocking write is fine for one short line.
      asio::error_code ec;
      asio::write(socket, asio::buffer(ReplyBuilder::ErrorLine(errors::kMaxClients)), ec);
      state->stats.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      socket.close(ec);
      return;
    }
    if (!unix_socket && RefusedByProtectedMode(socket)) return;
    if (!unix_socket && options.tcp_keepalive > 0) {
      asio::error_code ec;
      socket.set_option(asio::socket_base::keep_alive(true), ec);
      int idle = options.tcp_keepalive;
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
      int interval = std::max(1, idle / 3);
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    }
    if (unix_socket) {
      KEEL_LOG_VERBOSE("Accepted connection to {}", options.unixsocket);
    } else if (spdlog::should_log(spdlog::level::info)) {  // verbose, as Redis logs each accept
      asio::error_code ec;
      auto peer = socket.remote_endpoint(ec);
      if (!ec) KEEL_LOG_VERBOSE("Accepted {}:{}", peer.address().to_string(), peer.port());
    }
    if (!start_here && busy_seen_us != nullptr) {
      if (size_t to = AvoidBusy(index); to != index) {
        // Re-homed: the descriptor joins the other thread's context.
        // (A Unix-socket client is wrapped as TCP v4, as AcceptUnix does.)
        asio::error_code ec;
        asio::ip::tcp protocol =
            unix_socket ? asio::ip::tcp::v4() : socket.local_endpoint(ec).protocol();
        int fd = ec ? -1 : socket.release(ec);
        if (fd >= 0 && !ec) {
          asio::ip::tcp::socket moved(*contexts[to]);
          moved.assign(protocol, fd, ec);
          if (ec) {
            ::close(fd);
            return;
          }
          socket = std::move(moved);
          index = to;
        }
      }
    }
    // The socket already belongs to contexts[index]; start it there.
    auto conn = std::make_shared<Connection>(std::move(socket), index, &env);
    if (unix_socket) conn->SetUnixSocketPath(options.unixsocket);
    if (start_here) {  // AcceptWhileBusy on this (busy) thread
      AddLive(index, conn);
      conn->Start(/*speculative_read=*/false);
      return;
    }
    asio::post(*contexts[index], [this, conn, index] {
      AddLive(index, conn);
      if (shutting_down.load()) return;  // dropped: conn is released here
      conn->Start();
    });
  }

  // On io thread `index`.
  void AddLive(size_t index, const std::shared_ptr<Connection>& conn) {
    if (live[index].size() > 64 && live[index].size() >= 2 * live_pruned_size[index]) {
      PruneLive(index);
    }
    live[index].push_back(conn);
  }
  // On io thread `index`: drops the connections gone, or moved to another thread.
  void PruneLive(size_t index) {
    std::erase_if(live[index], [index](const std::weak_ptr<Connection>& w) {
      auto c = w.lock();
      return !c || !c->ServedBy(index);
    });
    live_pruned_size[index] = live[index].size();
  }
  std::vector<size_t> live_pruned_size = std::vector<size_t>(live.size());

  // Which io threads serve connections. A thread is worth serving from only if it gets a core:
  // on a machine whose cores are all busy (a client on the same two cores, say), connections
  // spread over more threads only mean each thread finds fewer of them ready per wake-up, and
  // every extra sleep and wake-up costs the client's send. So connections start on one thread
  // and spread to another only while the serving threads are busy and a core is mostly idle; they
  // come back when the load would fit on fewer threads, or the cores are taken. Every 0.5 s on
  // context 0, from the io threads' CPU clocks and /proc/stat.
  static constexpr int kBalanceTicks = 5;  // cron ticks of 100 ms
  int balance_tick = 0;
  int64_t balance_wall_ns = 0;
  std::vector<int64_t> balance_thread_ns;
  uint64_t balance_idle = 0, balance_total = 0;
  uint64_t balance_lock_wait_ns = 0;
  GrowthHold growth_hold;
  size_t balance_cursor = 0;

  static bool ReadCpuTimes(uint64_t* idle, uint64_t* total) {
    FILE* f = std::fopen("/proc/stat", "r");
    if (!f) return false;
    unsigned long long v[8] = {};
    int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                        &v[3], &v[4], &v[5], &v[6], &v[7]);
    std::fclose(f);
    if (n < 5) return false;
    *idle = v[3] + v[4];
    *total = 0;
    for (unsigned long long x : v) *total += x;
    return true;
  }

  static int64_t ThreadCpuNs(pthread_t t) {
    clockid_t cid;
    timespec ts{};
    if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0) return 0;
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }

  void Balance() {
    size_t n = contexts.size();
    if (n == 1 || thread_ids.size() != n || ++balance_tick < kBalanceTicks) return;
    balance_tick = 0;
    int64_t wall = NowMonotonicUs() * 1000;
    std::vector<int64_t> cpu(n);
    for (size_t i = 0; i < n; ++i) cpu[i] = ThreadCpuNs(thread_ids[i]);
    uint64_t idle = 0, total = 0;
    bool have_stat = ReadCpuTimes(&idle, &total);
    uint64_t lock_wait = ShardMutex::WaitNs();
    size_t want = Serving();
    if (size_t pinned = PinnedServing(); pinned > 0) {
      want = pinned;
    } else if (balance_wall_ns > 0 && have_stat && total > balance_total &&
               wall > balance_wall_ns) {
      double used = 0;  // cores the io threads used
      for (size_t i = 0; i < n; ++i) used += static_cast<double>(cpu[i] - balance_thread_ns[i]);
      used /= static_cast<double>(wall - balance_wall_ns);
      long cpus = sysconf(_SC_NPROCESSORS_ONLN);
      double idle_cores = static_cast<double>(idle - balance_idle) /
                          static_cast<double>(total - balance_total) * static_cast<double>(cpus);
      IoLoad load;
      load.used_cores = used;
      load.idle_cores = idle_cores;
      for (size_t i = 0; i < n; ++i) load.connections += state->io_thread_clients[i].load();
      load.lock_wait_cores = static_cast<double>(lock_wait - balance_lock_wait_ns) /
                             static_cast<double>(wall - balance_wall_ns);
      double now_s = static_cast<double>(wall) / 1e9;
      load.may_grow = growth_hold.MayGrow(now_s);
      bool contended = ThreadsContended(want, load);
      growth_hold.Period(now_s, contended, want > 1);
      if (contended) {
        KEEL_LOG_VERBOSE("io threads waited {:.2f} cores for each other's shard locks",
                         load.lock_wait_cores);
      }
      want = NextServingCount(want, n, load);
    }
    balance_lock_wait_ns = lock_wait;
    balance_wall_ns = wall;
    balance_thread_ns = cpu;
    balance_idle = idle;
    balance_total = total;
    if (want != Serving()) {
      KEEL_LOG_VERBOSE("io threads serving connections: {} -> {}", Serving(), want);
      state->io_threads_serving = static_cast<int>(want);
    }
    Rebalance(want);
  }

  // Moves connections so the first `want` threads serve them all, in even shares.
  void Rebalance(size_t want) {
    // No moves while a thread is inside a busy script: one moved there would wait for its end.
    for (size_t i = 0; i < contexts.size(); ++i) {
      if (ThreadBusy(i)) return;
    }
    std::vector<int64_t> counts(contexts.size());
    for (size_t i = 0; i < counts.size(); ++i) {
      counts[i] = state->io_thread_clients[i].load(std::memory_order_relaxed);
    }
    for (MovePlan& plan : PlanMoves(counts, want, &balance_cursor)) {
      size_t from = plan.from;
      asio::post(*contexts[from],
                 [this, from, targets = std::move(plan.to)] { MoveFrom(from, targets); });
    }
  }

  // On io thread `from`: moves idle connections to `targets`, one each. When too few are idle,
  // it tries once more from the back of the thread's queue: a connection that is never idle
  // when this runs (its client sends the next batch as soon as it has the replies, and this was
  // posted while the batch ran, so it comes before the batch's flush) is idle right after that
  // flush. What is still busy then is tried again on the next round.
  void MoveFrom(size_t from, const std::vector<size_t>& targets, int retries = 1) {
    if (shutting_down.load()) return;
    size_t next = 0;
    for (auto& w : live[from]) {
      if (next == targets.size()) break;
      auto c = w.lock();
      if (!c || !c->ServedBy(from)) continue;
      size_t to = targets[next];
      if (ThreadBusy(to)) {  // (a script there passed its threshold since the plan)
        ++next;
        continue;
      }
      if (c->MoveTo(to, [this, to](const std::shared_ptr<Connection>& conn) {
            AddLive(to, conn);
            if (shutting_down.load()) conn->ShutdownGracefully();
          })) {
        ++next;
      }
    }
    PruneLive(from);
    if (next < targets.size() && next < live[from].size() && retries > 0) {
      asio::post(*contexts[from],
                 [this, from, rest = std::vector<size_t>(targets.begin() + next, targets.end()),
                  retries] { MoveFrom(from, rest, retries - 1); });
    }
  }

  void ScheduleCron() {
    cron.expires_after(std::chrono::milliseconds(100));
    cron.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      if (CronRunning()) Cron();
      ScheduleCron();
    });
  }

  // Each io thread owns shards index, index + count, ... of the flat (db, shard) list. Every
  // slice is bounded to about a millisecond so no event loop stalls; while many sampled keys
  // turn out expired the next slice comes after 2 ms instead of 100 ms, so a thread gives at most
  // a third of its time to expiry (adaptive, like Redis's fast and slow cycles; Redis's slow
  // cycle alone may take a quarter of its one thread, in slices of up to 25 ms).
  static constexpr int64_t kSliceBudgetUs = 1000;
  void ScheduleHousekeeping(size_t index, std::chrono::milliseconds delay) {
    asio::steady_timer& t = *housekeeping[index];
    t.expires_after(delay);
    t.async_wait([this, index](const asio::error_code& ec) {
      if (ec || shutting_down.load()) return;
      if (!CronRunning()) return ScheduleHousekeeping(index, std::chrono::milliseconds(100));
      Keyspace& ks = *state->keyspace;
      int64_t start = NowMonotonicUs();
      double expired_ratio = ActiveExpireEnabled()
                                 ? ks.ActiveExpireSlice(index, contexts.size(), kSliceBudgetUs)
                                 : 0.0;
      // Invalidations of the keys that expired, for client-side caching.
      if (Tracking::HasPending() && state->tracking != nullptr) {
        state->tracking->Flush(nullptr, nullptr);
      }
      ks.RehashSlice(index, contexts.size(), kSliceBudgetUs / 4);
      ServerStats::RaiseMax(state->stats.max_housekeeping_usec,
                            static_cast<uint64_t>(NowMonotonicUs() - start));
      // Memory over maxmemory (a lowered limit, writes between commands' own eviction passes):
      // evict a slice and come back in a millisecond, on every io thread (one evicts at a time).
      bool evicting = ks.evictor().BackgroundSlice(kSliceBudgetUs / 2);
      bool busy = expired_ratio > 0.10;
      ScheduleHousekeeping(index, std::chrono::milliseconds(evicting ? 1 : busy ? 2 : 100));
    });
  }

  // instantaneous_ops_per_sec: the mean rate over the last 16 cron periods, as Redis reports.
  uint64_t ops_samples[16] = {};
  size_t ops_index = 0;
  uint64_t last_ops = 0;
  int64_t last_ops_us = 0;
  void SampleOps() {
    int64_t now = NowMonotonicUs();
    uint64_t ops = state->stats.total_commands_processed.load(std::memory_order_relaxed);
    if (last_ops_us != 0 && now > last_ops_us && ops >= last_ops) {
      ops_samples[ops_index++ % 16] = (ops - last_ops) * 1000000 / (now - last_ops_us);
      uint64_t sum = 0;
      for (uint64_t v : ops_samples) sum += v;
      state->stats.instantaneous_ops_per_sec.store(sum / 16, std::memory_order_relaxed);
    }
    last_ops = ops;
    last_ops_us = now;
  }

  // Housekeeping at 10 Hz on context 0: statistics, idle-client timeouts.
  void Cron() {
    if (state->cron_hook) state->cron_hook();
    SampleOps();
    Balance();
    int64_t timeout_s = state->config->timeout();
    if (timeout_s <= 0) return;
    int64_t now = NowUnixMs();
    state->clients.ForEach([&](Client& c) {
      // As in Redis, MONITOR clients, subscribers and clients blocked in BLPOP and friends are
      // never idle: they wait for the server, not the other way round. (A served blocked client
      // counts as active from the moment it is served: see FinishWaiter.)
      if (c.flags.load(std::memory_order_relaxed) & (kClientMonitor | kClientPubsub)) return;
      if (now - c.last_interaction_ms.load(std::memory_order_relaxed) <= timeout_s * 1000) return;
      {
        std::lock_guard<std::mutex> lock(c.mu);
        if (c.waiter != nullptr) return;
      }
      if (auto h = c.handle.lock()) h->Kill();
    });
  }

  // SIGINT/SIGTERM: the final save (ServerState::before_signal_shutdown) and then a shutdown;
  // when the save fails the server keeps running and waits for the next signal.
  void ArmSignals(Server* server) {
    signals.async_wait([this, server](const asio::error_code& ec, int sig) {
      if (ec) return;
      const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      KEEL_LOG_WARNING("Received {} scheduling shutdown...", name);
      KEEL_LOG_WARNING("User requested shutdown...");
      if (state->before_signal_shutdown && !state->before_signal_shutdown(sig == SIGTERM)) {
        KEEL_LOG_WARNING(
            "{} received but errors trying to shut down the server, check the logs for more "
            "information",
            name);
        ArmSignals(server);
        return;
      }
      server->RequestShutdown();
    });
  }

  void BeginShutdown() {
    if (shutting_down.exchange(true)) return;
    KEEL_LOG_NOTICE("Received shutdown request, closing connections...");
    if (options.on_shutdown) options.on_shutdown();
    if (watchdog) watchdog->Stop();
    asio::post(*contexts[0], [this] {
      asio::error_code ec;
      {
        std::lock_guard<std::mutex> lock(acceptor_mu);
        for (auto& a : acceptors) a->close(ec);
      }
      if (unix_acceptor) unix_acceptor->close(ec);
      signals.cancel(ec);
      cron.cancel();
      for (size_t i = 0; i < contexts.size(); ++i) {
        asio::post(*contexts[i], [this, i] { housekeeping[i]->cancel(); });
      }
      for (size_t i = 0; i < contexts.size(); ++i) {
        asio::post(*contexts[i], [this, i] {
          for (auto& w : live[i]) {
            auto c = w.lock();
            if (c && c->ServedBy(i)) c->ShutdownGracefully();
          }
        });
      }
      // shutdown-flush-timeout: how long clients get to take the output they already have (a
      // client that never reads would otherwise hold the exit up forever; 0 drops it at once,
      // as Redis does).
      shutdown_deadline_us = NowMonotonicUs() + state->config->shutdown_flush_timeout_ms() * 1000;
      WaitForClients();
    });
  }

  // Polls until every connection has flushed and closed (or a deadline passes), then lets the io
  // threads finish.
  void WaitForClients() {
    if (state->clients.size() == 0 || NowMonotonicUs() > shutdown_deadline_us) {
      for (auto& g : guards) g.reset();
      for (auto& c : contexts) c->stop();
      return;
    }
    cron.expires_after(std::chrono::milliseconds(5));
    cron.async_wait([this](const asio::error_code&) { WaitForClients(); });
  }
};

Server::Server(ServerState* state, Options options)
    : impl_(std::make_unique<Impl>(state, std::move(options))) {
  state->request_shutdown = [this] { RequestShutdown(); };
}

Server::~Server() { impl_->state->request_shutdown = nullptr; }

namespace {

// Opens listeners on `bind` (addresses; a leading '-' means "skip if unavailable") and `port`
// (0: none), bound to `context`. Errors read as Redis's: each failing address is logged
// ("Warning: Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already
// in use") and the returned status is "Failed listening on port 6379 (TCP), aborting.". As in
// Redis, a '-' address is skipped only when the address or its family is not available here,
// not when the port is taken.
Status OpenTcpListeners(asio::io_context& context, const std::vector<std::string>& bind, int port,
                        std::vector<std::unique_ptr<asio::ip::tcp::acceptor>>* out) {
  std::string port_text = std::to_string(port);
  auto failed = [&](const std::string& shown, const std::string& reason) {
    KEEL_LOG_WARNING("Warning: Could not create server TCP listening socket {}:{}: {}", shown,
                     port_text, reason);
    return Status::Error("Failed listening on port " + port_text + " (TCP), aborting.");
  };
  // Like Redis: port 0 means no TCP listener.
  for (std::string shown : port == 0 ? std::vector<std::string>{} : bind) {
    bool optional = !shown.empty() && shown[0] == '-';
    if (optional) shown.erase(0, 1);
    std::string addr = shown == "*" ? "0.0.0.0" : shown == "::*" ? "::" : shown;
    asio::error_code ec;
    asio::ip::address ip = asio::ip::make_address(addr, ec);
    if (ec) return failed(shown, "Name or service not known");
    asio::ip::tcp::endpoint ep(ip, static_cast<uint16_t>(port));
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(context);
    const char* step = "socket";
    acceptor->open(ep.protocol(), ec);
    if (!ec) {
      step = "setsockopt SO_REUSEADDR";
      acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec && ip.is_v6()) {
      step = "setsockopt IPV6_V6ONLY";
      acceptor->set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) {
      step = "bind";
      acceptor->bind(ep, ec);
    }
    if (!ec) {
      step = "listen";
      acceptor->listen(511, ec);
    }
    if (ec) {
      bool unavailable = ec == asio::error::address_family_not_supported ||
                         ec.value() == EADDRNOTAVAIL || ec.value() == EPROTONOSUPPORT;
      if (optional && unavailable) continue;
      return failed(shown, std::string(step) + ": " + ec.message());
    }
    out->push_back(std::move(acceptor));
  }
  return Status::Ok();
}

}  // namespace

Status Server::Listen() {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.acceptor_mu);
    if (Status st = OpenTcpListeners(*d.contexts[0], d.options.bind, d.options.port, &d.acceptors);
        !st.ok()) {
      return st;
    }
  }
  if (!d.options.unixsocket.empty()) {
    // As Redis: a stale socket file is replaced; the mode applies when unixsocketperm is set.
    const std::string& path = d.options.unixsocket;
    ::unlink(path.c_str());
    auto acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(*d.contexts[0]);
    asio::error_code ec;
    const char* step = "socket";
    acceptor->open(asio::local::stream_protocol(), ec);
    if (!ec) {
      step = "bind";
      acceptor->bind(asio::local::stream_protocol::endpoint(path), ec);
    }
    if (!ec) {
      step = "listen";
      acceptor->listen(511, ec);
    }
    if (!ec && d.options.unixsocketperm != 0 &&
        ::chmod(path.c_str(), static_cast<mode_t>(d.options.unixsocketperm)) != 0) {
      step = "chmod";
      ec = asio::error_code(errno, asio::error::get_system_category());
    }
    if (ec)
      return Status::Error(std::string("Failed opening Unix socket: ") + step + ": " +
                           ec.message());
    d.unix_acceptor = std::move(acceptor);
  }
  // Redis's check: a server nobody can reach stops.
  if (d.acceptors.empty() && !d.unix_acceptor) {
    return Status::Error("Configured to not listen anywhere, exiting.");
  }
  return Status::Ok();
}

void Server::Run() {
  Impl& d = *impl_;
  d.signals.add(SIGINT);
  d.signals.add(SIGTERM);
  d.ArmSignals(this);
  {
    std::lock_guard<std::mutex> lock(d.acceptor_mu);
    for (auto& a : d.acceptors) d.Accept(a.get());
  }
  if (d.unix_acceptor) d.AcceptUnix();
  d.ScheduleCron();
  for (size_t i = 0; i < d.contexts.size(); ++i) {
    d.ScheduleHousekeeping(i, std::chrono::milliseconds(100));
  }
  if (d.options.on_ready) asio::post(*d.contexts[0], d.options.on_ready);
  if (d.options.watchdog_usec > 0 && d.options.watchdog_ping) {
    d.watchdog = std::make_unique<LoopWatchdog>(d.env.contexts,
                                                std::chrono::microseconds(d.options.watchdog_usec),
                                                d.options.watchdog_ping);
    d.watchdog->Start();
  }
  d.busy_seen_us = std::make_unique<std::atomic<int64_t>[]>(d.contexts.size());
  scripting::g_serve_while_busy = &AnswerThisThreadWhileBusy;
  std::vector<std::thread> threads;
  d.thread_ids.push_back(pthread_self());
  for (size_t i = 1; i < d.contexts.size(); ++i) {
    threads.emplace_back([&d, i] {
      memory::RegisterThisThread();
      t_live = &d.live[i];
      t_busy_seen_us = &d.busy_seen_us[i];
      d.contexts[i]->run();
    });
    d.thread_ids.push_back(threads.back().native_handle());
  }
  t_live = &d.live[0];
  t_busy_seen_us = &d.busy_seen_us[0];
  t_accept_while_busy = [&d] { d.AcceptWhileBusy(); };
  d.contexts[0]->run();
  t_accept_while_busy = nullptr;
  t_live = nullptr;
  for (auto& t : threads) t.join();
}

void Server::RequestShutdown() { impl_->BeginShutdown(); }

Status Server::Rebind(const std::vector<std::string>& bind, int port) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.acceptor_mu);
  if (d.shutting_down.load()) return Status::Ok();
  // The old listeners go first (a new one on the same address and port could not bind while
  // they listen); their pending accepts end as aborted.
  for (auto& a : d.acceptors) {
    asio::error_code ec;
    a->close(ec);
  }
  d.acceptors.clear();
  Status st = OpenTcpListeners(*d.contexts[0], bind, port, &d.acceptors);
  if (st.ok()) {
    d.options.bind = bind;
    d.options.port = port;
  } else {
    // As Redis: back to the listeners it had.
    d.acceptors.clear();
    if (!OpenTcpListeners(*d.contexts[0], d.options.bind, d.options.port, &d.acceptors).ok()) {
      KEEL_LOG_WARNING("Failed to restore the old listening sockets after a failed rebind");
    }
  }
  for (auto& a : d.acceptors) d.Accept(a.get());
  return st;
}

}  // namespace keel
