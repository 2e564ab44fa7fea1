#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/server_state.h"
#include "keel/common/status.h"

namespace keel {

// Server runs the network side: `io_threads` threads, each with its own asio::io_context. An
// accepted connection is assigned round-robin to one io_context and lives there for its whole
// life: read, parse, execute, write, with no hand-off. Other threads reach a connection only by
// posting to its io_context (ClientHandle).
//
// Shutdown: SIGINT/SIGTERM or SHUTDOWN call RequestShutdown(), which stops accepting, lets every
// connection flush the replies it already has, closes them, and makes Run() return.
class Server {
 public:
  struct Options {
    std::vector<std::string> bind;  // addresses; a leading '-' means "skip if unavailable"
    int port = 6379;
    int io_threads = 1;
    int tcp_keepalive = 300;
    std::string unixsocket;  // path of a Unix socket to listen on too; "" = none
    int unixsocketperm = 0;  // its mode; 0 leaves what the umask gives
    // Called once on io thread 0 when the loops run, after the acceptors started (main sends
    // systemd's READY=1 there).
    std::function<void()> on_ready;
    // Called once when shutdown begins, from the thread that requested it (STOPPING=1).
    std::function<void()> on_shutdown;
    // systemd's WatchdogSec in microseconds (WATCHDOG_USEC); 0 = no watchdog. When set,
    // `watchdog_ping` is called while every io loop makes progress (see net/watchdog.h).
    uint64_t watchdog_usec = 0;
    std::function<void()> watchdog_ping;
  };

  Server(ServerState* state, Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening sockets. Errors name the address and port.
  Status Listen();
  // Runs the io threads until shutdown completes. Call once, from the main thread.
  void Run();
  // Thread-safe, idempotent.
  void RequestShutdown();
  // CONFIG SET bind / port (Redis 7.0 changes them at run time): closes the TCP listeners and
  // opens new ones on `bind` and `port`; if one cannot be opened, the old ones are opened again
  // and the error is returned (its reason is in the log, as Redis's). Thread-safe: called from
  // any io thread while io thread 0 accepts. The Unix socket is not touched.
  Status Rebind(const std::vector<std::string>& bind, int port);

  struct Impl;  // server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel
