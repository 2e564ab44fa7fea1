#pragma once

// A small blocking TCP client that speaks raw bytes, for tests that must see exactly what a
// server sends: byte-for-byte reply comparison, malformed input, connection closes.
//
// Not thread-safe: one thread uses a connection at a time (it may be moved between threads).

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace keel::test {

using std::chrono::milliseconds;

inline constexpr milliseconds kDefaultIoTimeout{10000};

class RespConnection {
 public:
  RespConnection() = default;
  ~RespConnection();
  RespConnection(const RespConnection&) = delete;
  RespConnection& operator=(const RespConnection&) = delete;
  RespConnection(RespConnection&& other) noexcept;
  RespConnection& operator=(RespConnection&& other) noexcept;

  // Connects to host:port (closing any previous connection first).
  ::testing::AssertionResult Connect(int port, milliseconds timeout = kDefaultIoTimeout,
                                     const std::string& host = "127.0.0.1");
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close();

  // Writes all of `bytes` (looping over partial writes).
  ::testing::AssertionResult Send(std::string_view bytes, milliseconds timeout = kDefaultIoTimeout);
  ::testing::AssertionResult SendCommand(const std::vector<std::string>& args) {
    return Send(EncodeArgs(args));
  }

  // Reads exactly one complete reply (nested aggregates included) and returns its raw bytes in
  // *reply. Bytes after it stay buffered for the next read. Fails on timeout, on close before
  // the reply is complete, or on bytes that are not RESP.
  ::testing::AssertionResult ReadReply(std::string* reply,
                                       milliseconds timeout = kDefaultIoTimeout);

  // Sends a command and returns its raw reply. On any failure it records a non-fatal gtest
  // failure and returns "<error: ...>", so it can be used directly inside EXPECT_EQ.
  std::string Call(const std::vector<std::string>& args, milliseconds timeout = kDefaultIoTimeout);

  // Reads everything until the peer closes the connection or nothing arrives for idle_timeout
  // (or total_timeout passes). Includes bytes buffered by earlier reads.
  struct Drained {
    std::string bytes;
    bool closed = false;  // true if the peer closed (EOF or reset)
  };
  Drained ReadUntilClose(milliseconds idle_timeout,
                         milliseconds total_timeout = milliseconds(30000));

  // True if the peer has closed the connection (waits up to timeout for the EOF). Any bytes
  // that arrive meanwhile are appended to *extra when it is given.
  bool WaitForClose(milliseconds timeout, std::string* extra = nullptr);

  // Bytes received but not yet returned by ReadReply.
  const std::string& buffered() const { return buffer_; }

 private:
  static std::string EncodeArgs(const std::vector<std::string>& args);
  // Reads what is available into buffer_, waiting up to `timeout`. Returns >0 bytes read,
  // 0 on EOF, -1 on timeout, -2 on error (errno describes it).
  int Fill(milliseconds timeout);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace keel::test
