#pragma once

// Shared fixture for the integration tests: a fresh keel-server (KEEL_SERVER_BIN) per test.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/hiredis_util.h"
#include "support/resp_connection.h"
#include "support/server_process.h"

namespace keel::test {

class ServerTest : public ::testing::Test {
 protected:
  // Starts the server with the default arguments plus `extra`.
  void StartServer(std::vector<std::string> extra = {}) {
    ServerOptions options;
    options.binary = KeelServerBinary();
    options.args = std::move(extra);
    server_ = std::make_unique<ServerProcess>(options);
    ASSERT_TRUE(server_->Start());
  }

  void SetUp() override {
    ASSERT_FALSE(KeelServerBinary().empty()) << "KEEL_SERVER_BIN is not set";
  }

  // A raw connection to the server, failing the test if it cannot connect.
  RespConnection Connect() {
    RespConnection c;
    EXPECT_TRUE(c.Connect(server_->port()));
    return c;
  }

  bool TestingRedis() const { return IsRedisBinary(KeelServerBinary()); }

  // Arguments for n io threads that all take connections from the start (Keel's
  // io-threads-serving; Redis has no such option and gets io-threads alone).
  std::vector<std::string> ThreadedArgs(int n) const {
    std::vector<std::string> args = {"--io-threads", std::to_string(n)};
    if (!TestingRedis()) {
      args.push_back("--io-threads-serving");
      args.push_back(std::to_string(n));
    }
    return args;
  }

  // A hiredis connection to the server (generous timeout: tests run under sanitizers too),
  // failing the test if it cannot connect.
  RedisContextPtr Client(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::string error;
    auto c = HiredisConnect(server_->port(), timeout, &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  // Runs one command and returns its reply, failing the test on an I/O error.
  RedisReplyPtr Run(redisContext* ctx, const std::vector<std::string>& args) {
    auto r = HiredisCommand(ctx, args);
    EXPECT_NE(r, nullptr) << args[0] << ": " << ctx->errstr;
    return r;
  }

  std::unique_ptr<ServerProcess> server_;
};

// A server with four io threads all serving (Keel would otherwise keep a light load on one), so
// that concurrent clients land on different threads.
class ThreadedServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer(ThreadedArgs(4));
  }
};

}  // namespace keel::test
