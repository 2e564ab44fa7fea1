#pragma once

// Accepting clients: the TCP listeners and the Unix socket, maxclients and protected mode at
// the door, TCP keepalive, the thread each new connection starts on, CONFIG SET bind/port, and
// accepting from a busy script's hook.

#include <asio.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connection.h"
#include "io_threads.h"
#include "keel/common/status.h"
#include "keel/net/server.h"

namespace keel {

class Listeners {
 public:
  // `options` (bind, port, the Unix socket, tcp-keepalive) is the server's; Rebind updates its
  // bind and port.
  Listeners(IoThreads* io, ConnectionEnv* env, Server::Options* options)
      : io_(io), env_(env), options_(options) {}

  // Binds the listening sockets, on io thread 0's context. Errors read as Redis's.
  Status Listen();
  // Starts accepting (io thread 0 runs the handlers).
  void Start();
  // Closes every listener; their pending accepts end as aborted. On io thread 0.
  void Close();
  // See Server::Rebind. Thread-safe.
  Status Rebind(const std::vector<std::string>& bind, int port);
  // On io thread 0 from the hook of a script running there (scripting::g_serve_while_busy): the
  // acceptors' handlers cannot run, so the TCP clients waiting are accepted here (as Redis
  // accepts from its script's hook), so that a new client can send SCRIPT KILL. One that lands
  // on this thread starts at once, its first read waiting for epoll (AnswerWhileBusy answers it
  // from its socket); others start on their own thread, avoiding threads inside a busy script.
  // Unix-socket clients wait.
  void AcceptWhileBusy();

 private:
  // Accepted descriptors become sockets on the thread that serves them, never on io thread 0:
  // the contexts run without the reactor's per-descriptor locks (ASIO_CONCURRENCY_HINT_UNSAFE_IO,
  // io_threads.cc), so registering a descriptor with another thread's reactor would race with
  // that thread's event loop (it may still hold a recycled descriptor state). Each listener
  // only waits for readability on io thread 0; its handler accepts the raw descriptors and
  // posts each to its thread (Dispatch), where Serve wraps, checks and starts it.
  static constexpr int kAcceptsPerWakeup = 64;

  // Waits for clients on `acceptor`; its handler accepts them and waits again, unless Rebind
  // has replaced the acceptor meanwhile. REQUIRES: mu_ held.
  void Accept(asio::ip::tcp::acceptor* acceptor);
  void AcceptUnix();
  // Accepts up to kAcceptsPerWakeup waiting clients of the (non-blocking) listening `listen_fd`.
  void AcceptPending(int listen_fd, asio::ip::tcp protocol, bool unix_socket);
  // The next serving thread, avoiding threads inside a busy script.
  size_t PickThread();
  static asio::ip::tcp ProtocolOf(asio::ip::tcp::acceptor& acceptor);
  // Hands `fd` to io thread `index`, which serves it (closes it when shutting down).
  void Dispatch(int fd, asio::ip::tcp protocol, size_t index, bool unix_socket);
  // On io thread `index`: wraps `fd` (a Unix-socket client as TCP v4: asio's calls are the same
  // for any stream socket, the TCP-only options simply fail), refuses it at maxclients or by
  // protected mode, sets TCP keepalive, logs it and starts its connection.
  void Serve(int fd, asio::ip::tcp protocol, size_t index, bool unix_socket, bool speculative_read);
  // Answers a refused client at once and closes it, as Redis does (a short blocking write).
  bool RefusedByProtectedMode(asio::ip::tcp::socket& socket);

  IoThreads* io_;
  ConnectionEnv* env_;
  Server::Options* options_;
  std::atomic<size_t> next_context_{0};
  // The TCP listeners. CONFIG SET bind/port replaces them from the caller's io thread (Rebind)
  // while io thread 0 accepts on them: mu_ guards the vector and every call into an acceptor (a
  // leaf lock: nothing else is taken while it is held).
  std::mutex mu_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;        // GUARDED_BY(mu_)
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor_;  // unixsocket, if set
};

}  // namespace keel
