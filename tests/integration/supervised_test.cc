// supervised systemd: the sd_notify messages keel-server sends to a fake NOTIFY_SOCKET, and
// their order (READY=1 only once connections are accepted, STOPPING=1 on SIGTERM, WATCHDOG=1
// pings when WATCHDOG_USEC is set).

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

// A unix datagram socket standing in for systemd's notify socket: a file in a private
// temporary directory, or a name in the abstract namespace ("@...").
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr;
    std::memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    socklen_t len;
    if (abstract) {
      name_ = "@keel-notify-test-" + std::to_string(::getpid());
      std::memcpy(addr.sun_path + 1, name_.data() + 1, name_.size() - 1);
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    } else {
      dir_ = (std::filesystem::temp_directory_path() / "keel-notify-XXXXXX").string();
      if (::mkdtemp(dir_.data()) == nullptr) dir_.clear();
      name_ = dir_ + "/notify.sock";
      std::memcpy(addr.sun_path, name_.data(), name_.size());
      len = sizeof(addr);
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  ~FakeNotifySocket() {
    ::close(fd_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool bound() const { return bound_; }
  // The NOTIFY_SOCKET value.
  const std::string& name() const { return name_; }

  // The next datagram, or nothing if none arrives within `timeout`.
  std::optional<std::string> Receive(milliseconds timeout = milliseconds(20000)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

  // Receives datagrams until one equals `wanted`; the ones before it go to *before.
  bool ReceiveUntil(const std::string& wanted, std::vector<std::string>* before) {
    while (auto m = Receive()) {
      if (*m == wanted) return true;
      before->push_back(*m);
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
  std::string dir_;
  std::string name_;
};

// Sets an environment variable for the servers this test starts (they inherit it at exec), and
// removes it at the end of the test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

class SupervisedTest : public ServerTest {
 protected:
  // Starts `--supervised systemd` without waiting for PING: the test itself watches for READY.
  void StartSupervised(std::vector<std::string> extra = {}) {
    ServerOptions options;
    options.binary = KeelServerBinary();
    options.args = {"--supervised", "systemd"};
    options.args.insert(options.args.end(), extra.begin(), extra.end());
    options.wait_until_ready = false;
    server_ = std::make_unique<ServerProcess>(options);
    ASSERT_TRUE(server_->Start());
  }

  // After READY=1 the port must take connections and answer at once.
  void ExpectServing() {
    RespConnection c;
    ASSERT_TRUE(c.Connect(server_->port()));
    EXPECT_EQ(c.Call({"PING"}), "+PONG\r\n");
  }

  void ExpectStoppingOnSigterm(FakeNotifySocket& notify) {
    server_->Signal(SIGTERM);
    std::vector<std::string> before;
    EXPECT_TRUE(notify.ReceiveUntil("STOPPING=1\n", &before)) << server_->DescribeStatus();
    for (const std::string& m : before) {
      // Only watchdog pings may come between READY and STOPPING here.
      EXPECT_EQ(m, "WATCHDOG=1\n");
    }
    ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
    EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();
  }
};

TEST_F(SupervisedTest, ReadyComesAfterTheStatusLineAndOnceThePortAccepts) {
  FakeNotifySocket notify(/*abstract=*/false);
  ASSERT_TRUE(notify.bound()) << notify.name();
  ScopedEnv env("NOTIFY_SOCKET", notify.name());
  StartSupervised();
  std::vector<std::string> before;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1\n", &before)) << server_->DescribeStatus();
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back(), "STATUS=Ready to accept connections\n");
  ExpectServing();
  ExpectStoppingOnSigterm(notify);
  EXPECT_EQ(notify.Receive(milliseconds(0)), std::nullopt) << "a message after STOPPING=1";
}

TEST_F(SupervisedTest, AbstractNotifySocketIsReached) {
  FakeNotifySocket notify(/*abstract=*/true);
  ASSERT_TRUE(notify.bound()) << notify.name();
  ScopedEnv env("NOTIFY_SOCKET", notify.name());
  StartSupervised();
  std::vector<std::string> before;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1\n", &before)) << server_->DescribeStatus();
  ExpectServing();
  ExpectStoppingOnSigterm(notify);
}

TEST_F(SupervisedTest, AutoDetectsSystemdFromTheEnvironment) {
  FakeNotifySocket notify(/*abstract=*/false);
  ASSERT_TRUE(notify.bound());
  ScopedEnv env("NOTIFY_SOCKET", notify.name());
  StartSupervised({"--supervised", "auto"});
  std::vector<std::string> before;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1\n", &before)) << server_->DescribeStatus();
  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));
  std::string info = c.Call({"INFO", "server"});
  EXPECT_NE(info.find("process_supervised:systemd\r\n"), std::string::npos) << info;
  ExpectStoppingOnSigterm(notify);
}

TEST_F(SupervisedTest, WatchdogPingsWhileTheLoopsRun) {
  if (TestingRedis()) GTEST_SKIP() << "Keel's own: Redis sends no WATCHDOG=1";
  FakeNotifySocket notify(/*abstract=*/false);
  ASSERT_TRUE(notify.bound());
  ScopedEnv env("NOTIFY_SOCKET", notify.name());
  ScopedEnv usec("WATCHDOG_USEC", "200000");
  StartSupervised({"--io-threads", "3", "--io-threads-serving", "3"});
  std::vector<std::string> before;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1\n", &before)) << server_->DescribeStatus();
  ExpectServing();
  // Pings keep coming: the first at start, then one per beat check while all loops move.
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> others;
    ASSERT_TRUE(notify.ReceiveUntil("WATCHDOG=1\n", &others)) << "ping " << i;
    EXPECT_TRUE(others.empty()) << others.front();
  }
  ExpectStoppingOnSigterm(notify);
}

// A start-up load that takes a while (300 keys, slowed to 10 ms each by a test knob) reports its
// progress in STATUS= lines and extends systemd's start timeout before READY=1 comes.
TEST_F(SupervisedTest, ALongLoadReportsProgressAndExtendsTheStartTimeout) {
  if (TestingRedis()) GTEST_SKIP() << "Keel's own: the load-progress STATUS lines";
  ServerOptions first_options;
  first_options.binary = KeelServerBinary();
  ServerProcess first(first_options);  // its directory lives as long as it does
  ASSERT_TRUE(first.Start());
  {
    RespConnection c;
    ASSERT_TRUE(c.Connect(first.port()));
    for (int i = 0; i < 300; ++i) c.Call({"SET", "key:" + std::to_string(i), "v"});
    ASSERT_EQ(c.Call({"SAVE"}), "+OK\r\n");
  }
  ASSERT_TRUE(first.Stop());

  FakeNotifySocket notify(/*abstract=*/false);
  ASSERT_TRUE(notify.bound());
  ScopedEnv env("NOTIFY_SOCKET", notify.name());
  StartSupervised({"--dir", first.dir(), "--keel-load-key-delay-us", "10000"});
  std::vector<std::string> before;
  ASSERT_TRUE(notify.ReceiveUntil("READY=1\n", &before)) << server_->DescribeStatus();
  int progress_lines = 0;
  int extensions = 0;
  for (const std::string& m : before) {
    if (m.rfind("STATUS=Loading the dataset: ", 0) == 0) ++progress_lines;
    if (m == "EXTEND_TIMEOUT_USEC=15000000\n") ++extensions;
  }
  EXPECT_GE(progress_lines, 2);
  EXPECT_GE(extensions, 1);
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back(), "STATUS=Ready to accept connections\n");
  RespConnection c;
  ASSERT_TRUE(c.Connect(server_->port()));
  EXPECT_EQ(c.Call({"DBSIZE"}), ":300\r\n");
  ExpectStoppingOnSigterm(notify);
}

TEST_F(SupervisedTest, WithoutNotifySocketTheServerStillStarts) {
  ::unsetenv("NOTIFY_SOCKET");
  StartServer({"--supervised", "systemd"});
  ExpectServing();
  EXPECT_NE(server_->ReadLog().find("NOTIFY_SOCKET not found"), std::string::npos);
}

}  // namespace
}  // namespace keel::test
