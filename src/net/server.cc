#include "keel/net/server.h"

#include <pthread.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "connection.h"
#include "cron.h"
#include "io_balancer.h"
#include "io_threads.h"
#include "keel/commands/scripting.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/config/config.h"
#include "keel/net/watchdog.h"
#include "listeners.h"

namespace keel {

namespace {

// The connections of this io thread (IoThreads::live[index]), for a script running on it past
// busy-reply-threshold: scripting::g_serve_while_busy answers them from the script's hook.
thread_local std::vector<std::weak_ptr<Connection>>* t_live = nullptr;
// Starts the clients handed to this io thread and not started yet (Listeners::
// ServePendingWhileBusy).
thread_local std::function<void()> t_serve_pending_while_busy;
// This thread's cell of IoThreads::busy_seen_us.
thread_local std::atomic<int64_t>* t_busy_seen_us = nullptr;

void AnswerThisThreadWhileBusy() {
  if (t_busy_seen_us != nullptr) t_busy_seen_us->store(NowMonotonicUs(), std::memory_order_relaxed);
  if (t_serve_pending_while_busy) t_serve_pending_while_busy();
  if (t_live == nullptr) return;
  // By index: nothing answered here adds a connection, but stay safe if the list grew.
  for (size_t i = 0; i < t_live->size(); ++i) {
    if (auto c = (*t_live)[i].lock()) c->AnswerWhileBusy();
  }
}

}  // namespace

// The server's pieces, each in its own file: the io threads and their connections
// (io_threads.cc), accepting (listeners.cc), which threads serve (io_balancer.cc), the timers
// (cron.cc); what is here is the start, the signals and the shutdown.
struct Server::Impl {
  ServerState* state;
  Options options;
  Dispatcher dispatcher;
  IoThreads io;
  ConnectionEnv env;
  Listeners listeners;
  IoBalancer balancer;
  ServerCron cron;
  asio::signal_set signals;     // on io thread 0
  asio::steady_timer shutdown;  // on io thread 0: polls for the clients' flush at shutdown
  std::unique_ptr<LoopWatchdog> watchdog;  // set in Run() when systemd asked for one
  int64_t shutdown_deadline_us = 0;

  Impl(ServerState* s, Options o)
      : state(s),
        options(std::move(o)),
        dispatcher(s),
        io(s, options.io_threads),
        env{s, &dispatcher, {}},
        listeners(&io, &env, &options),
        balancer(&io),
        cron(&io, &balancer),
        signals(*io.contexts[0]),
        shutdown(*io.contexts[0]) {
    for (auto& c : io.contexts) env.contexts.push_back(c.get());
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
    if (io.shutting_down.exchange(true)) return;
    KEEL_LOG_NOTICE("Received shutdown request, closing connections...");
    if (options.on_shutdown) options.on_shutdown();
    if (watchdog) watchdog->Stop();
    asio::post(*io.contexts[0], [this] {
      listeners.Close();
      asio::error_code ec;
      signals.cancel(ec);
      cron.Stop();
      for (size_t i = 0; i < io.size(); ++i) {
        asio::post(*io.contexts[i], [this, i] {
          for (auto& w : io.live[i]) {
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
      for (auto& g : io.guards) g.reset();
      for (auto& c : io.contexts) c->stop();
      return;
    }
    shutdown.expires_after(std::chrono::milliseconds(5));
    shutdown.async_wait([this](const asio::error_code&) { WaitForClients(); });
  }
};

Server::Server(ServerState* state, Options options)
    : impl_(std::make_unique<Impl>(state, std::move(options))) {
  state->request_shutdown = [this] { RequestShutdown(); };
}

Server::~Server() { impl_->state->request_shutdown = nullptr; }

Status Server::Listen() { return impl_->listeners.Listen(); }

void Server::Run() {
  Impl& d = *impl_;
  IoThreads& io = d.io;
  d.signals.add(SIGINT);
  d.signals.add(SIGTERM);
  d.ArmSignals(this);
  // Set before the listener thread starts: it reads it to keep new clients off busy threads.
  io.busy_seen_us = std::make_unique<std::atomic<int64_t>[]>(io.size());
  d.listeners.Start();
  d.cron.Start();
  if (d.options.on_ready) asio::post(*io.contexts[0], d.options.on_ready);
  if (d.options.watchdog_usec > 0 && d.options.watchdog_ping) {
    d.watchdog = std::make_unique<LoopWatchdog>(d.env.contexts,
                                                std::chrono::microseconds(d.options.watchdog_usec),
                                                d.options.watchdog_ping);
    d.watchdog->Start();
  }
  scripting::g_serve_while_busy = &AnswerThisThreadWhileBusy;
  std::vector<std::thread> threads;
  io.thread_ids.push_back(pthread_self());
  for (size_t i = 1; i < io.size(); ++i) {
    threads.emplace_back([&d, &io, i] {
      memory::RegisterThisThread();
      t_live = &io.live[i];
      t_busy_seen_us = &io.busy_seen_us[i];
      t_serve_pending_while_busy = [&d, i] { d.listeners.ServePendingWhileBusy(i); };
      io.contexts[i]->run();
      t_serve_pending_while_busy = nullptr;
    });
    io.thread_ids.push_back(threads.back().native_handle());
  }
  t_live = &io.live[0];
  t_busy_seen_us = &io.busy_seen_us[0];
  t_serve_pending_while_busy = [&d] { d.listeners.ServePendingWhileBusy(0); };
  io.contexts[0]->run();
  t_serve_pending_while_busy = nullptr;
  t_live = nullptr;
  for (auto& t : threads) t.join();
  d.listeners.Close();  // (already closed by the shutdown; also when the loops stopped otherwise)
  d.listeners.Join();
}

void Server::RequestShutdown() { impl_->BeginShutdown(); }

Status Server::Rebind(const std::vector<std::string>& bind, int port) {
  return impl_->listeners.Rebind(bind, port);
}

}  // namespace keel
