#pragma once

// Shared fixture for the integration tests: a fresh keel-server (KEEL_SERVER_BIN) per test.

#include <gtest/gtest.h>

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

  std::unique_ptr<ServerProcess> server_;
};

}  // namespace keel::test
