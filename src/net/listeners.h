#pragma once

// Accepting clients: the TCP listeners and the Unix socket, maxclients and protected mode at
// the door, TCP keepalive, the thread each new connection starts on, CONFIG SET bind/port, and
// accepting from a busy script's hook.

#include <asio.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  Listeners(IoThreads* io, ConnectionEnv* env, Server::Options* options);
  ~Listeners();  // joins the listener thread (Close first, or it never ends)

  // Binds the listening sockets. Errors read as Redis's.
  Status Listen();
  // Starts the listener thread, which accepts.
  void Start();
  // Closes every listener; the listener thread then ends. Any thread.
  void Close();
  // Waits for the listener thread to end (after Close).
  void Join();
  // See Server::Rebind. Thread-safe.
  Status Rebind(const std::vector<std::string>& bind, int port);
  // On io thread `index`, from the hook of a script running there (scripting::
  // g_serve_while_busy): starts the clients handed to this thread and not yet started (their
  // posted start cannot run until the script ends), so that a new client can send SCRIPT KILL.
  // Their first read waits for epoll (AnswerWhileBusy answers it from its socket). The
  // listener thread keeps accepting meanwhile and gives new clients to other threads when it
  // can.
  void ServePendingWhileBusy(size_t index) { ServePending(index, /*speculative_read=*/false); }

 private:
  // The listeners live on their own io_context, run by a thread of their own (the listener
  // thread), with asio's locking on: CONFIG SET bind/port replaces them from whichever io
  // thread runs it. The io threads' contexts run without the reactor's per-descriptor locks
  // (ASIO_CONCURRENCY_HINT_UNSAFE_IO, io_threads.cc), so no other thread may register, wait
  // on or close a descriptor of theirs: the listener thread only accepts raw descriptors and
  // hands each to its io thread (Dispatch), which makes the socket there (Serve).
  struct Accepted {
    int fd;
    bool unix_socket;
    asio::ip::tcp::endpoint peer;  // TCP: the client's address, from accept4
  };
  // The descriptors handed to one io thread and not yet started there.
  struct Pending {
    std::mutex mu;  // a leaf lock
    std::vector<Accepted> fds;
  };

  // Waits for clients on `acceptor`; its handler accepts them and waits again, unless Rebind
  // has replaced the acceptor meanwhile. REQUIRES: mu_ held.
  void Accept(asio::ip::tcp::acceptor* acceptor);
  void AcceptUnix();  // REQUIRES: mu_ held
  // Accepts every client waiting on the (non-blocking) listening `listen_fd`.
  void AcceptPending(int listen_fd, bool unix_socket);
  // The next serving thread, avoiding threads inside a busy script.
  size_t PickThread();
  // Hands `fd` to io thread `index`: queues it and posts ServePending there.
  void Dispatch(const Accepted& accepted, size_t index);
  // On io thread `index`: serves what was handed to it (closes it when shutting down).
  void ServePending(size_t index, bool speculative_read);
  // On io thread `index`: wraps the descriptor (a Unix-socket client as TCP v4: asio's calls are
  // the same for any stream socket, the TCP-only options simply fail), refuses it at maxclients or
  // by protected mode, sets TCP keepalive, logs it and starts its connection.
  void Serve(const Accepted& accepted, size_t index, bool speculative_read);
  // Answers a client refused at the door (maxclients, protected mode) with `error` and closes
  // it, as Redis does: a short blocking write.
  void Refuse(asio::ip::tcp::socket& socket, std::string_view error);

  IoThreads* io_;
  ConnectionEnv* env_;
  Server::Options* options_;
  std::atomic<size_t> next_context_{0};
  asio::io_context context_;  // the listeners', locking
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;                             // the listener thread
  std::vector<std::unique_ptr<Pending>> pending_;  // one per io thread
  // mu_ guards the listeners and every call into one: the listener thread accepts on them
  // while CONFIG SET bind/port (Rebind) replaces the TCP ones from an io thread and the
  // shutdown closes them from io thread 0. Taken after the config lock, never before it; only
  // a Pending lock is taken while it is held.
  std::mutex mu_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;        // GUARDED_BY(mu_)
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor_;  // GUARDED_BY(mu_)
};

}  // namespace keel
