#include "support/resp_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "support/resp.h"

namespace keel::test {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

RespConnection::~RespConnection() { Close(); }

RespConnection::RespConnection(RespConnection&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

RespConnection& RespConnection::operator=(RespConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

void RespConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

::testing::AssertionResult RespConnection::Connect(int port, milliseconds timeout,
                                                   const std::string& host) {
  Close();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ::testing::AssertionFailure() << "socket: " << std::strerror(errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return ::testing::AssertionFailure() << "bad IPv4 address " << host;
  }
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return ::testing::AssertionFailure()
           << "connect " << host << ":" << port << ": " << std::strerror(err);
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = 0;
    socklen_t len = sizeof(err);
    if (n <= 0) {
      ::close(fd);
      return ::testing::AssertionFailure() << "connect " << host << ":" << port << ": timed out";
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      return ::testing::AssertionFailure()
             << "connect " << host << ":" << port << ": " << std::strerror(err);
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RespConnection::Send(std::string_view bytes, milliseconds timeout) {
  if (fd_ < 0) return ::testing::AssertionFailure() << "send on a closed connection";
  auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) <= 0) {
        return ::testing::AssertionFailure()
               << "send timed out after " << sent << " of " << bytes.size() << " bytes";
      }
      continue;
    }
    return ::testing::AssertionFailure() << "send: " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

int RespConnection::Fill(milliseconds timeout) {
  if (fd_ < 0) return -2;
  auto deadline = Clock::now() + timeout;
  while (true) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return 0;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -2;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, RemainingMs(deadline));
    if (ready == 0) return -1;
    if (ready < 0 && errno != EINTR) return -2;
  }
}

::testing::AssertionResult RespConnection::ReadReply(std::string* reply, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    size_t length = 0;
    FrameStatus status = FindReplyEnd(buffer_, &length);
    if (status == FrameStatus::kComplete) {
      reply->assign(buffer_, 0, length);
      buffer_.erase(0, length);
      return ::testing::AssertionSuccess();
    }
    if (status == FrameStatus::kMalformed) {
      return ::testing::AssertionFailure()
             << "not a RESP reply: \"" << EscapeBytes(buffer_) << "\"";
    }
    int n = Fill(milliseconds(RemainingMs(deadline)));
    if (n == 0) {
      return ::testing::AssertionFailure()
             << "connection closed before a complete reply; got \"" << EscapeBytes(buffer_) << "\"";
    }
    if (n == -1) {
      return ::testing::AssertionFailure() << "no complete reply within " << timeout.count()
                                           << " ms; got \"" << EscapeBytes(buffer_) << "\"";
    }
    if (n == -2) return ::testing::AssertionFailure() << "recv: " << std::strerror(errno);
  }
}

std::string RespConnection::Call(const std::vector<std::string>& args, milliseconds timeout) {
  if (auto r = Send(EncodeArgs(args)); !r) {
    ADD_FAILURE() << r.message();
    return "<error: " + std::string(r.message()) + ">";
  }
  std::string reply;
  if (auto r = ReadReply(&reply, timeout); !r) {
    ADD_FAILURE() << r.message();
    return "<error: " + std::string(r.message()) + ">";
  }
  return reply;
}

RespConnection::Drained RespConnection::ReadUntilClose(milliseconds idle_timeout,
                                                       milliseconds total_timeout) {
  Drained out;
  auto deadline = Clock::now() + total_timeout;
  while (fd_ >= 0) {
    int wait = RemainingMs(deadline);
    if (wait == 0) break;
    int n = Fill(milliseconds(std::min<int64_t>(wait, idle_timeout.count())));
    if (n > 0) continue;
    if (n == 0 || n == -2) out.closed = true;
    break;
  }
  out.bytes = std::move(buffer_);
  buffer_.clear();
  return out;
}

bool RespConnection::WaitForClose(milliseconds timeout, std::string* extra) {
  auto deadline = Clock::now() + timeout;
  size_t before = buffer_.size();
  bool closed = false;
  while (fd_ >= 0) {
    int n = Fill(milliseconds(RemainingMs(deadline)));
    if (n > 0) continue;
    closed = n == 0 || n == -2;
    break;
  }
  if (extra != nullptr) extra->append(buffer_, before, std::string::npos);
  return closed;
}

std::string RespConnection::EncodeArgs(const std::vector<std::string>& args) {
  return EncodeCommand(args);
}

}  // namespace keel::test
