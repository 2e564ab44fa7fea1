// protected-mode: a client from 127.0.0.2 (loopback, but not 127.0.0.1) stands in for a remote
// one. Keel must refuse it with Redis's exact DENIED text while no password is set, and the test
// checks that text against the real redis-server as well.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

// Connects from `source` to 127.0.0.1:port, sends `request` (if any) and returns everything the
// server sends until it closes the connection or stays silent for a few seconds.
std::string ExchangeFrom(const char* source, int port, const std::string& request = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  std::string out;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    ::close(fd);
    return "<connect failed: " + std::string(std::strerror(errno)) + ">";
  }
  if (!request.empty()) (void)!::write(fd, request.data(), request.size());
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;  // silent: the connection stays open
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      out += "<closed>";
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    if (!request.empty() && out.find("\r\n") != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

constexpr const char* kDeniedStart = "-DENIED Redis is running in protected mode because";

class ProtectedModeTest : public ServerTest {};

TEST_F(ProtectedModeTest, ClientFrom127002IsRefusedAndClosed) {
  StartServer({"--bind", "*"});
  std::string got = ExchangeFrom("127.0.0.2", server_->port());
  EXPECT_EQ(got.rfind(kDeniedStart, 0), 0u) << got;
  EXPECT_TRUE(got.ends_with("from the outside.\r\n<closed>")) << got;
  // 127.0.0.1 itself is served.
  EXPECT_EQ(ExchangeFrom("127.0.0.1", server_->port(), "PING\r\n"), "+PONG\r\n");
}

TEST_F(ProtectedModeTest, RefusalIsByteForByteRedis) {
  StartServer({"--bind", "*"});
  ServerOptions oracle_options;
  oracle_options.binary = RedisServerBinary();
  oracle_options.args = {"--bind", "*"};
  ServerProcess oracle(oracle_options);
  ASSERT_TRUE(oracle.Start());
  std::string redis = ExchangeFrom("127.0.0.2", oracle.port());
  ASSERT_EQ(redis.rfind(kDeniedStart, 0), 0u) << redis;
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port()), redis);
}

TEST_F(ProtectedModeTest, OffServesEveryone) {
  StartServer({"--bind", "*", "--protected-mode", "no"});
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port(), "PING\r\n"), "+PONG\r\n");
}

TEST_F(ProtectedModeTest, PasswordLiftsTheRefusal) {
  StartServer({"--bind", "*", "--requirepass", "secret"});
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port(), "PING\r\n"),
            "-NOAUTH Authentication required.\r\n");
}

// Protected mode looks at the default user, not at requirepass: a password given by ACL lifts
// the refusal as well, and nopass brings it back.
TEST_F(ProtectedModeTest, DefaultUserPasswordFromAclLiftsTheRefusal) {
  StartServer({"--bind", "*"});
  ASSERT_EQ(ExchangeFrom("127.0.0.1", server_->port(), "ACL SETUSER default >secret\r\n"),
            "+OK\r\n");
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port(), "PING\r\n"),
            "-NOAUTH Authentication required.\r\n");
  // Both commands go in one send; the reply read may hold one or both +OK.
  std::string both =
      ExchangeFrom("127.0.0.1", server_->port(), "AUTH secret\r\nACL SETUSER default nopass\r\n");
  ASSERT_EQ(both.rfind("+OK\r\n", 0), 0u) << both;
  std::string got = ExchangeFrom("127.0.0.2", server_->port());
  EXPECT_EQ(got.rfind(kDeniedStart, 0), 0u) << got;
}

TEST_F(ProtectedModeTest, ConfigSetTurnsItOffAtRunTime) {
  StartServer({"--bind", "*"});
  ASSERT_EQ(ExchangeFrom("127.0.0.1", server_->port(), "CONFIG SET protected-mode no\r\n"),
            "+OK\r\n");
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port(), "PING\r\n"), "+PONG\r\n");
}

// enable-protected-configs: CONFIG SET dir is refused by default, allowed with yes, and with
// local only from 127.0.0.1 (127.0.0.2 is not local, as in Redis).
std::string SetDirFrom(const char* source, int port, const std::string& dir) {
  std::string cmd = "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$3\r\ndir\r\n$" +
                    std::to_string(dir.size()) + "\r\n" + dir + "\r\n";
  return ExchangeFrom(source, port, cmd);
}

constexpr const char* kProtectedRefusal =
    "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n";

TEST_F(ProtectedModeTest, ProtectedConfigsAreRefusedByDefault) {
  StartServer();
  EXPECT_EQ(SetDirFrom("127.0.0.1", server_->port(), server_->dir()), kProtectedRefusal);
}

TEST_F(ProtectedModeTest, EnableProtectedConfigsYesAllowsThem) {
  StartServer({"--enable-protected-configs", "yes"});
  EXPECT_EQ(SetDirFrom("127.0.0.1", server_->port(), server_->dir()), "+OK\r\n");
}

TEST_F(ProtectedModeTest, EnableProtectedConfigsLocalAllowsLoopbackOnly) {
  StartServer({"--enable-protected-configs", "local", "--bind", "*", "--protected-mode", "no"});
  EXPECT_EQ(SetDirFrom("127.0.0.1", server_->port(), server_->dir()), "+OK\r\n");
  EXPECT_EQ(SetDirFrom("127.0.0.2", server_->port(), server_->dir()), kProtectedRefusal);
}

// enable-module-command local: MODULE LOAD and UNLOAD run from 127.0.0.1 (and fail: no such
// library, no such module) and are refused from 127.0.0.2, byte for byte as redis-server.
TEST_F(ProtectedModeTest, EnableModuleCommandLocalMatchesRedis) {
  const std::vector<std::string> args = {"--enable-module-command", "local", "--bind", "*",
                                         "--protected-mode",        "no"};
  StartServer(args);
  ServerOptions oracle_options;
  oracle_options.binary = RedisServerBinary();
  oracle_options.args = args;
  ServerProcess oracle(oracle_options);
  ASSERT_TRUE(oracle.Start());
  const std::string load = "*3\r\n$6\r\nMODULE\r\n$4\r\nLOAD\r\n$19\r\n/nonexistent/mod.so\r\n";
  const std::string unload = "*3\r\n$6\r\nMODULE\r\n$6\r\nUNLOAD\r\n$6\r\nnosuch\r\n";
  for (const std::string& cmd : {load, unload}) {
    for (const char* source : {"127.0.0.1", "127.0.0.2"}) {
      std::string redis = ExchangeFrom(source, oracle.port(), cmd);
      ASSERT_EQ(redis.rfind("-ERR ", 0), 0u) << redis;
      EXPECT_EQ(ExchangeFrom(source, server_->port(), cmd), redis) << source << " " << cmd;
    }
  }
  EXPECT_EQ(ExchangeFrom("127.0.0.2", server_->port(), load).rfind("-ERR MODULE command not", 0),
            0u);
}

}  // namespace
}  // namespace keel::test
