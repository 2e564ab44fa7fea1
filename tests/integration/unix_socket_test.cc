// unixsocket and unixsocketperm: clients over a Unix socket are served like TCP ones, show
// addr=<path>:0 in CLIENT LIST as in Redis, and the socket file takes the mode and goes away at
// exit.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

// Sends `request` over the Unix socket at `path` and returns the first reply line(s) received
// (up to the first "\r\n" of a simple reply, or everything within a few seconds).
std::string ExchangeUnix(const std::string& path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return "<connect failed: " + err + ">";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    // A bulk reply is complete once its length is there; simple replies end at the first CRLF.
    if (out[0] != '$' && out.find("\r\n") != std::string::npos) break;
    if (out[0] == '$') {
      size_t eol = out.find("\r\n");
      if (eol != std::string::npos &&
          out.size() >= eol + 2 + std::stoul(out.substr(1, eol - 1)) + 2) {
        break;
      }
    }
  }
  ::close(fd);
  return out;
}

class UnixSocketTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    dir_ = (fs::temp_directory_path() / "keel-unix-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/keel.sock";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(UnixSocketTest, ServesLikeTcpAndShowsThePathAsAddress) {
  StartServer({"--unixsocket", path_, "--unixsocketperm", "700", "--bind", "*"});
  EXPECT_EQ(ExchangeUnix(path_, "PING\r\n"), "+PONG\r\n");
  EXPECT_EQ(ExchangeUnix(path_, "SET k v\r\n"), "+OK\r\n");
  EXPECT_EQ(ExchangeUnix(path_, "GET k\r\n"), "$1\r\nv\r\n");
  std::string list = ExchangeUnix(path_, "CLIENT LIST\r\n");
  std::string addr = "addr=" + path_ + ":0 laddr=" + path_ + ":0 ";
  EXPECT_NE(list.find(addr), std::string::npos) << list;
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(ExchangeUnix(path_, "CONFIG GET unixsocketperm\r\n"),
            "*2\r\n$14\r\nunixsocketperm\r\n$3\r\n700\r\n");
  server_->Signal(SIGTERM);
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();
  EXPECT_FALSE(fs::exists(path_)) << "the socket file is still there";
}

// A client arriving over the Unix socket while a script runs on the only io thread is started
// from the script's hook: it gets -BUSY and its SCRIPT KILL stops the script (as in Redis,
// whose script hook accepts on every listener).
TEST_F(UnixSocketTest, ClientArrivingDuringABusyScriptCanKillIt) {
  StartServer({"--unixsocket", path_, "--io-threads", "1", "--busy-reply-threshold", "100"});
  RespConnection runner = Connect();
  ASSERT_TRUE(runner.SendCommand({"EVAL", "local i = 0 while true do i = i + 1 end", "0"}));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(ExchangeUnix(path_, "GET x\r\n"),
            "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
            "NOSAVE.\r\n");
  EXPECT_EQ(ExchangeUnix(path_, "SCRIPT KILL\r\n"), "+OK\r\n");
  std::string killed;
  ASSERT_TRUE(runner.ReadReply(&killed));
  EXPECT_EQ(killed.rfind("-ERR Script killed by user with SCRIPT KILL...", 0), 0u) << killed;
  EXPECT_EQ(ExchangeUnix(path_, "PING\r\n"), "+PONG\r\n");
}

TEST_F(UnixSocketTest, PortZeroListensOnTheUnixSocketOnly) {
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--port", "0", "--unixsocket", path_};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  std::string reply;
  for (int i = 0; i < 2000 && reply != "+PONG\r\n" && server_->IsRunning(); ++i) {
    reply = ExchangeUnix(path_, "PING\r\n");
    if (reply != "+PONG\r\n") std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(reply, "+PONG\r\n") << server_->DescribeStatus();
}

TEST_F(UnixSocketTest, UnreachableSocketPathStopsStartup) {
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--unixsocket", dir_ + "/no-such-dir/keel.sock"};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(20000)));
  EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
  EXPECT_NE(server_->ReadLog().find("Failed opening Unix socket: bind: No such file or directory"),
            std::string::npos)
      << server_->ReadLog();
}

TEST_F(UnixSocketTest, NothingToListenOnExits) {
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--port", "0"};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(20000)));
  EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
  EXPECT_NE(server_->ReadLog().find("Configured to not listen anywhere, exiting."),
            std::string::npos)
      << server_->ReadLog();
}

}  // namespace
}  // namespace keel::test
