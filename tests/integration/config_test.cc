// Start-up configuration: config files, command-line options, and how bad ones are reported.
// Needs keel-server's config module.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
  // Starts the server on the config file alone and waits for it to exit.
  void RunUntilExit(const std::string& path) {
    ServerOptions options;
    options.binary = KeelServerBinary();
    options.config_file = path;
    options.default_args = false;
    options.wait_until_ready = false;
    server_ = std::make_unique<ServerProcess>(options);
    ASSERT_TRUE(server_->Start());
    ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

// CONFIG SET port and bind move the TCP listeners at run time, as Redis 7.0 does: the new port
// takes connections and the old one none; an address that cannot be bound, or a port another
// socket holds, is refused with Redis's texts and the listeners stay as they were.
TEST_F(ConfigTest, ConfigSetPortAndBindMoveTheListeners) {
  StartServer();
  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));
  int old_port = server_->port();
  int new_port = PickFreePort();
  EXPECT_EQ(c.Call({"CONFIG", "SET", "port", std::to_string(new_port)}), "+OK\r\n");
  EXPECT_EQ(c.Call({"PING"}), "+PONG\r\n");  // a connection made before stays
  RespConnection moved;
  ASSERT_TRUE(moved.Connect(new_port));
  EXPECT_EQ(moved.Call({"CONFIG", "GET", "port"}),
            "*2\r\n$4\r\nport\r\n$" + std::to_string(std::to_string(new_port).size()) + "\r\n" +
                std::to_string(new_port) + "\r\n");
  RespConnection old;
  EXPECT_FALSE(old.Connect(old_port));
  // An address this machine does not have: refused, still served on 127.0.0.1.
  EXPECT_EQ(c.Call({"CONFIG", "SET", "bind", "192.0.2.1"}),
            "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to "
            "specified addresses.\r\n");
  RespConnection again;
  ASSERT_TRUE(again.Connect(new_port));
  EXPECT_EQ(again.Call({"PING"}), "+PONG\r\n");
  // A port another socket listens on: refused, and the listener on new_port is back.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int taken = ntohs(addr.sin_port);
  EXPECT_EQ(c.Call({"CONFIG", "SET", "port", std::to_string(taken)}),
            "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on "
            "this port. Check server logs.\r\n");
  ::close(holder);
  RespConnection after;
  ASSERT_TRUE(after.Connect(new_port));
  EXPECT_EQ(after.Call({"CONFIG", "GET", "port"}), moved.Call({"CONFIG", "GET", "port"}));
}

TEST_F(ConfigTest, UnknownOptionInConfigFileExitsWithCodeOneNamingFileLineAndOption) {
  std::string path = WriteConfig("# comment\nport 0\nno-such-option yes\n");
  RunUntilExit(path);
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

// rename-command: the command answers to its new name only, still reports its own name, and a
// command renamed to "" is gone; CONFIG GET does not know the directive.
TEST_F(ConfigTest, RenameCommandRenamesAndDisablesCommands) {
  std::string path = WriteConfig(
      "rename-command get myget\nrename-command flushall \"\"\n"
      "rename-command config cfg\nrename-command cfg conf2\n");
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.config_file = path;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "k"}), "-ERR unknown command 'GET', with args beginning with: 'k' \r\n");
  EXPECT_EQ(c.Call({"MyGet", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(c.Call({"FLUSHALL"}),
            "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n");
  // A renamed command keeps its own name in COMMAND INFO; the old name is unknown there.
  EXPECT_EQ(c.Call({"COMMAND", "INFO", "get"}), "*1\r\n$-1\r\n");
  EXPECT_EQ(c.Call({"COMMAND", "INFO", "flushall"}), "*1\r\n$-1\r\n");
  EXPECT_EQ(c.Call({"COMMAND", "INFO", "myget"}).substr(0, 16), "*1\r\n*10\r\n$3\r\nget");
  EXPECT_EQ(c.Call({"COMMAND", "GETKEYS", "myget", "k"}), "*1\r\n$1\r\nk\r\n");
  EXPECT_EQ(c.Call({"COMMAND", "LIST", "FILTERBY", "PATTERN", "flushall"}), "*0\r\n");
  EXPECT_EQ(c.Call({"COMMAND", "LIST", "FILTERBY", "PATTERN", "get"}), "*1\r\n$3\r\nget\r\n");
  // Renames chain: config -> cfg -> conf2.
  EXPECT_EQ(c.Call({"CFG", "GET", "port"}).substr(0, 1), "-");
  EXPECT_EQ(c.Call({"CONF2", "GET", "rename-command"}), "*0\r\n");
  EXPECT_EQ(c.Call({"CONF2", "NOSUCH"}), "-ERR unknown subcommand 'NOSUCH'. Try CONF2 HELP.\r\n");
  EXPECT_EQ(c.Call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"MYGET", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Call({"EXEC"}), "*1\r\n$1\r\nv\r\n");
}

// Redis's start-up errors for bad rename-command lines.
TEST_F(ConfigTest, RenameCommandErrorsStopTheServer) {
  const std::pair<std::string, std::string> cases[] = {
      {"rename-command nosuch foo", "No such command in rename-command"},
      {"rename-command get set", "Target command name already exists"},
      {"rename-command get", "Bad directive or wrong number of arguments"},
  };
  for (const auto& [line, error] : cases) {
    RunUntilExit(WriteConfig("port 0\n" + line + "\n"));
    EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
    std::string log = server_->ReadLog();
    EXPECT_NE(log.find(">>> '" + line + "'\n" + error), std::string::npos) << log;
    EXPECT_NE(log.find("line 2"), std::string::npos) << log;
    std::filesystem::remove_all(dir_);
  }
}

}  // namespace
}  // namespace keel::test
