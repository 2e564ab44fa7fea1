// Start-up configuration: config files, command-line options, and how bad ones are reported.
// Needs keel-server's config module.

#include <filesystem>
#include <fstream>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class ConfigTest : public ServerTest {
 protected:
  // Writes `text` as a config file in a fresh temp dir and returns its path.
  std::string WriteConfig(const std::string& text) {
    dir_ = (std::filesystem::temp_directory_path() / "keel-conf-XXXXXX").string();
    EXPECT_NE(::mkdtemp(dir_.data()), nullptr);
    std::string path = dir_ + "/test.conf";
    std::ofstream(path) << text;
    return path;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(ConfigTest, UnknownOptionInConfigFileExitsWithCodeOneNamingFileLineAndOption) {
  std::string path = WriteConfig("# comment\nport 0\nno-such-option yes\n");
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.config_file = path;
  options.default_args = false;
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
  std::string log = server_->ReadLog();
  EXPECT_NE(log.find("line 3"), std::string::npos) << log;
  EXPECT_NE(log.find("no-such-option"), std::string::npos) << log;
  // Redis 7.0 does not name the file; Keel does.
  if (!TestingRedis()) {
    EXPECT_NE(log.find(path), std::string::npos) << log;
  }
}

TEST_F(ConfigTest, UnknownCommandLineOptionExitsWithCodeOne) {
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--no-such-option", "yes"};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
  EXPECT_NE(server_->ReadLog().find("no-such-option"), std::string::npos) << server_->ReadLog();
}

TEST_F(ConfigTest, ServerStartsFromAConfigFileAlone) {
  int port = PickFreePort();
  std::string path = WriteConfig("bind 127.0.0.1\nport " + std::to_string(port) +
                                 "\nsave \"\"\nappendonly no\ndatabases 4\n"
                                 "requirepass \"secret pw\"\n");
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.config_file = path;
  options.default_args = false;
  options.port = port;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"PING"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(c.Call({"AUTH", "secret pw"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"SELECT", "3"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"SELECT", "4"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(c.Call({"CONFIG", "GET", "databases"}), "*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n");
}

TEST_F(ConfigTest, CommandLineOptionsOverrideTheConfigFile) {
  std::string path = WriteConfig("databases 4\n");
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.config_file = path;
  options.args = {"--databases", "8"};
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"SELECT", "7"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"SELECT", "8"}), "-ERR DB index is out of range\r\n");
}

}  // namespace
}  // namespace keel::test
