#include "listeners.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/reply.h"
#include "protected_mode.h"

namespace keel {

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
    if (!ec) acceptor->native_non_blocking(true, ec);  // AcceptPending drains it
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

Status Listeners::Listen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Status st = OpenTcpListeners(context_, options_->bind, options_->port, &acceptors_);
        !st.ok()) {
      return st;
    }
  }
  if (!options_->unixsocket.empty()) {
    // As Redis: a stale socket file is replaced; the mode applies when unixsocketperm is set.
    const std::string& path = options_->unixsocket;
    ::unlink(path.c_str());
    auto acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(context_);
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
    if (!ec) acceptor->native_non_blocking(true, ec);
    if (!ec && options_->unixsocketperm != 0 &&
        ::chmod(path.c_str(), static_cast<mode_t>(options_->unixsocketperm)) != 0) {
      step = "chmod";
      ec = asio::error_code(errno, asio::error::get_system_category());
    }
    if (ec)
      return Status::Error(std::string("Failed opening Unix socket: ") + step + ": " +
                           ec.message());
    std::lock_guard<std::mutex> lock(mu_);
    unix_acceptor_ = std::move(acceptor);
  }
  // Redis's check: a server nobody can reach stops.
  if (acceptors_.empty() && !unix_acceptor_) {
    return Status::Error("Configured to not listen anywhere, exiting.");
  }
  return Status::Ok();
}

Listeners::Listeners(IoThreads* io, ConnectionEnv* env, Server::Options* options)
    : io_(io), env_(env), options_(options), guard_(asio::make_work_guard(context_)) {
  for (size_t i = 0; i < io_->contexts.size(); ++i) pending_.push_back(std::make_unique<Pending>());
}

Listeners::~Listeners() { Join(); }

void Listeners::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& a : acceptors_) Accept(a.get());
    if (unix_acceptor_) AcceptUnix();
  }
  thread_ = std::thread([this] {
    memory::RegisterThisThread();
    context_.run();
  });
}

void Listeners::Close() {
  asio::error_code ec;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& a : acceptors_) a->close(ec);
  if (unix_acceptor_) unix_acceptor_->close(ec);
  guard_.reset();  // the listener thread ends once the aborted waits have run
}

void Listeners::Join() {
  if (thread_.joinable()) thread_.join();
}

size_t Listeners::PickThread() {
  size_t index = next_context_.fetch_add(1) % io_->Serving();
  return io_->busy_seen_us != nullptr ? io_->AvoidBusy(index) : index;
}

void Listeners::Accept(asio::ip::tcp::acceptor* acceptor) {
  acceptor->async_wait(asio::socket_base::wait_read, [this, acceptor](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted || io_->shutting_down.load()) return;
    std::lock_guard<std::mutex> lock(mu_);
    // Rebind may have replaced the acceptor after this handler was queued: its pointer is then
    // only compared, never used.
    bool current = false;
    for (auto& a : acceptors_) current = current || a.get() == acceptor;
    if (!current) return;
    if (!ec) AcceptPending(acceptor->native_handle(), /*unix_socket=*/false);
    Accept(acceptor);
  });
}

void Listeners::AcceptUnix() {
  unix_acceptor_->async_wait(asio::socket_base::wait_read, [this](const asio::error_code& ec) {
    if (ec == asio::error::operation_aborted || io_->shutting_down.load()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!ec) AcceptPending(unix_acceptor_->native_handle(), /*unix_socket=*/true);
    AcceptUnix();
  });
}

void Listeners::AcceptPending(int listen_fd, bool unix_socket) {
  // Every waiting client, until EAGAIN: the listener thread does nothing else. (Redis takes at
  // most 1000 per event, so that its one thread also serves.)
  for (;;) {
    Accepted a{-1, unix_socket, {}};
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    a.fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (a.fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        KEEL_LOG_WARNING("Accepting client connection: {}", std::strerror(errno));
      }
      return;
    }
    // The peer's address comes with the accept: no getpeername for protected mode or CLIENT
    // LIST. (A Unix-socket client is wrapped as TCP v4 and named by its path.)
    if (!unix_socket && len <= a.peer.capacity()) {
      std::memcpy(a.peer.data(), &peer, len);
      a.peer.resize(len);
    }
    Dispatch(a, PickThread());
  }
}

void Listeners::Dispatch(const Accepted& accepted, size_t index) {
  {
    std::lock_guard<std::mutex> lock(pending_[index]->mu);
    pending_[index]->fds.push_back(accepted);
  }
  asio::post(*io_->contexts[index],
             [this, index] { ServePending(index, /*speculative_read=*/true); });
}

void Listeners::ServePending(size_t index, bool speculative_read) {
  std::vector<Accepted> fds;
  {
    std::lock_guard<std::mutex> lock(pending_[index]->mu);
    if (pending_[index]->fds.empty()) return;
    fds.swap(pending_[index]->fds);
  }
  for (const Accepted& a : fds) {
    if (io_->shutting_down.load()) {
      ::close(a.fd);
    } else {
      Serve(a, index, speculative_read);
    }
  }
}

void Listeners::Serve(const Accepted& a, size_t index, bool speculative_read) {
  asio::ip::tcp::socket socket(*io_->contexts[index]);
  asio::error_code ec;
  socket.assign(a.unix_socket ? asio::ip::tcp::v4() : a.peer.protocol(), a.fd, ec);
  if (ec) {
    ::close(a.fd);
    return;
  }
  if (io_->state->clients.size() >= static_cast<size_t>(io_->state->config->maxclients())) {
    return Refuse(socket, errors::kMaxClients);
  }
  if (!a.unix_socket && ProtectedModeRefuses(*io_->state->config, a.peer.address())) {
    return Refuse(socket, errors::kProtectedModeDenied);
  }
  if (!a.unix_socket && options_->tcp_keepalive > 0) {
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    int idle = options_->tcp_keepalive;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    int interval = std::max(1, idle / 3);
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  }
  if (a.unix_socket) {
    KEEL_LOG_VERBOSE("Accepted connection to {}", options_->unixsocket);
  } else if (spdlog::should_log(spdlog::level::info)) {  // verbose, as Redis logs each accept
    KEEL_LOG_VERBOSE("Accepted {}:{}", a.peer.address().to_string(), a.peer.port());
  }
  auto conn = std::make_shared<Connection>(std::move(socket), index, env_);
  if (a.unix_socket) {
    conn->SetUnixSocketPath(options_->unixsocket);
  } else {
    conn->SetPeer(a.peer);
  }
  io_->AddLive(index, conn);
  conn->Start(speculative_read);
}

void Listeners::Refuse(asio::ip::tcp::socket& socket, std::string_view error) {
  asio::error_code ec;
  asio::write(socket, asio::buffer(ReplyBuilder::ErrorLine(error)), ec);
  io_->state->stats.rejected_connections.fetch_add(1, std::memory_order_relaxed);
  socket.close(ec);
}

Status Listeners::Rebind(const std::vector<std::string>& bind, int port) {
  std::lock_guard<std::mutex> lock(mu_);
  if (io_->shutting_down.load()) return Status::Ok();
  // The old listeners go first (a new one on the same address and port could not bind while
  // they listen); their pending accepts end as aborted.
  for (auto& a : acceptors_) {
    asio::error_code ec;
    a->close(ec);
  }
  acceptors_.clear();
  Status st = OpenTcpListeners(context_, bind, port, &acceptors_);
  if (st.ok()) {
    options_->bind = bind;
    options_->port = port;
  } else {
    // As Redis: back to the listeners it had.
    acceptors_.clear();
    if (!OpenTcpListeners(context_, options_->bind, options_->port, &acceptors_).ok()) {
      KEEL_LOG_WARNING("Failed to restore the old listening sockets after a failed rebind");
    }
  }
  for (auto& a : acceptors_) Accept(a.get());
  return st;
}

}  // namespace keel
