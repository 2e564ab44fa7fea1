// daemonize, pidfile and logfile: the process detaches and keeps serving, the pidfile names it
// and goes away at exit, and a renamed log file is replaced by a new one without a signal.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `done` every 10 ms, up to `timeout`; true once it holds.
template <typename F>
bool WaitFor(F done, milliseconds timeout = milliseconds(20000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// A daemonized server is not our child: this kills it at the end of a failed test.
struct DaemonGuard {
  pid_t pid = -1;
  ~DaemonGuard() {
    if (pid > 0 && ::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  }
};

class DaemonTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    dir_ = (fs::temp_directory_path() / "keel-daemon-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // PING's reply once the daemon has loaded its data: the pidfile is written before the load
  // (as in Redis), and until the load ends PING gets -LOADING.
  static std::string PingWhenLoaded(RespConnection& c) {
    std::string pong;
    WaitFor([&] { return (pong = c.Call({"PING"})).rfind("-LOADING", 0) != 0; });
    return pong;
  }

  std::string dir_;
};

TEST_F(DaemonTest, DaemonizeWritesThePidfileServesAndRemovesItOnSigterm) {
  std::string pidfile = dir_ + "/keel.pid";
  std::string logfile = dir_ + "/keel.log";
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--daemonize", "yes", "--pidfile", pidfile, "--logfile", logfile};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  // The process we started is the parent of the fork: it exits 0 at once.
  ASSERT_TRUE(server_->WaitForExit(milliseconds(20000)));
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();

  DaemonGuard daemon;
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(pidfile).empty(); })) << pidfile;
  daemon.pid = std::stoi(ReadFile(pidfile));
  EXPECT_NE(daemon.pid, server_->pid());
  EXPECT_EQ(ReadFile(pidfile), std::to_string(daemon.pid) + "\n");
  EXPECT_EQ(::getsid(daemon.pid), daemon.pid) << "the daemon leads its own session";

  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));
  EXPECT_EQ(PingWhenLoaded(c), "+PONG\r\n");
  c.Close();

  ASSERT_EQ(::kill(daemon.pid, SIGTERM), 0);
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(pidfile); })) << pidfile << " is still there";
  EXPECT_TRUE(WaitFor([&] { return ::kill(daemon.pid, 0) != 0; })) << "still running";
  std::string log = ReadFile(logfile);
  EXPECT_NE(log.find("Ready to accept connections"), std::string::npos) << log;
  EXPECT_NE(log.find("Removing the pid file."), std::string::npos) << log;
  EXPECT_NE(log.find("bye bye"), std::string::npos) << log;
}

TEST_F(DaemonTest, DaemonizedWithoutLogfileWritesNothingToTheTerminal) {
  std::string pidfile = dir_ + "/keel.pid";
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--daemonize", "yes", "--pidfile", pidfile, "--loglevel", "verbose"};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(20000)));
  DaemonGuard daemon;
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(pidfile).empty(); })) << pidfile;
  daemon.pid = std::stoi(ReadFile(pidfile));
  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));
  EXPECT_EQ(PingWhenLoaded(c), "+PONG\r\n");
  ASSERT_EQ(::kill(daemon.pid, SIGTERM), 0);
  EXPECT_TRUE(WaitFor([&] { return ::kill(daemon.pid, 0) != 0; })) << "still running";
  // stdout and stderr of the process we started went to the test's log; the daemon's went to
  // /dev/null, so nothing after the fork (the start-up banner included) reached it.
  EXPECT_EQ(server_->ReadLog().find("Ready to accept connections"), std::string::npos)
      << server_->ReadLog();
}

TEST_F(DaemonTest, RenamedLogfileIsReplacedByANewOneWithoutASignal) {
  std::string logfile = dir_ + "/keel.log";
  StartServer({"--logfile", logfile, "--loglevel", "verbose"});
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(logfile).find("Ready to accept connections") != std::string::npos; }));
  // What logrotate does without copytruncate: rename, and no signal.
  fs::rename(logfile, logfile + ".1");
  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));  // logged at verbose: "Accepted 127.0.0.1:<port>"
  EXPECT_EQ(c.Call({"PING"}), "+PONG\r\n");
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  ASSERT_EQ(::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len), 0);
  std::string line = "Accepted 127.0.0.1:" + std::to_string(ntohs(local.sin_port));
  ASSERT_TRUE(WaitFor([&] { return fs::exists(logfile); })) << "no new log file";
  EXPECT_TRUE(WaitFor([&] { return ReadFile(logfile).find(line) != std::string::npos; }))
      << ReadFile(logfile);
  EXPECT_EQ(ReadFile(logfile + ".1").find(line), std::string::npos)
      << "the line went to the rotated file";
}

TEST_F(DaemonTest, UnwritableLogfileStopsStartupWithRedisMessage) {
  ServerOptions options;
  options.binary = KeelServerBinary();
  options.args = {"--logfile", dir_ + "/no-such-dir/keel.log"};
  options.wait_until_ready = false;
  server_ = std::make_unique<ServerProcess>(options);
  ASSERT_TRUE(server_->Start());
  ASSERT_TRUE(server_->WaitForExit(milliseconds(20000)));
  EXPECT_EQ(server_->exit_code(), 1) << server_->DescribeStatus();
  EXPECT_NE(server_->ReadLog().find("Can't open the log file: No such file or directory"),
            std::string::npos)
      << server_->ReadLog();
}

}  // namespace
}  // namespace keel::test
