// Start-up failures read as Redis's and exit as Redis does: a port in use, an address that is
// not there, a bad value in the configuration, an unwritable log file. Each case runs Keel and
// the real redis-server with the same arguments and compares the exit code and the message.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

struct Outcome {
  std::optional<int> exit_code;
  std::vector<std::string> messages;  // log lines from `markers`, without pid/time prefixes
};

// Runs `binary` with `args` until it exits and keeps the lines that contain any of `markers`,
// from the first marker on (the log prefix and "(Keel)"/"(Redis 7.0.15)" are not compared).
Outcome RunUntilExit(const std::string& binary, std::vector<std::string> args,
                     const std::vector<std::string>& markers) {
  ServerOptions options;
  options.binary = binary;
  options.args = std::move(args);
  options.wait_until_ready = false;
  ServerProcess p(options);
  Outcome out;
  if (!p.Start() || !p.WaitForExit(milliseconds(20000))) return out;
  out.exit_code = p.exit_code();
  std::istringstream log(p.ReadLog());
  for (std::string line; std::getline(log, line);) {
    for (const std::string& m : markers) {
      size_t at = line.find(m);
      if (at != std::string::npos) out.messages.push_back(line.substr(at));
    }
  }
  return out;
}

class BadInputTest : public ServerTest {
 protected:
  void ExpectSameAsRedis(const std::vector<std::string>& args,
                         const std::vector<std::string>& markers) {
    Outcome redis = RunUntilExit(RedisServerBinary(), args, markers);
    Outcome keel = RunUntilExit(KeelServerBinary(), args, markers);
    ASSERT_TRUE(redis.exit_code.has_value());
    EXPECT_EQ(redis.exit_code, 1);
    ASSERT_FALSE(redis.messages.empty()) << "the oracle printed none of the markers";
    EXPECT_EQ(keel.exit_code, redis.exit_code);
    EXPECT_EQ(keel.messages, redis.messages);
  }
};

TEST_F(BadInputTest, PortInUse) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string port = std::to_string(ntohs(addr.sin_port));
  ExpectSameAsRedis({"--port", port}, {"Warning: Could not create", "Failed listening"});
  // A '-' address is skipped only when it is unavailable; a port in use still fails.
  ExpectSameAsRedis({"--port", port, "--bind", "-127.0.0.1"},
                    {"Warning: Could not create", "Failed listening"});
  ::close(fd);
}

TEST_F(BadInputTest, AddressNotOnThisMachine) {
  std::string port = std::to_string(PickFreePort());
  ExpectSameAsRedis({"--port", port, "--bind", "192.0.2.1"},
                    {"Warning: Could not create", "Failed listening"});
}

TEST_F(BadInputTest, BadValuesInTheConfiguration) {
  ExpectSameAsRedis({"--maxmemory", "10zz"}, {"argument must", ">>> "});
  ExpectSameAsRedis({"--supervised", "bogus"}, {"argument(s) must", ">>> "});
  ExpectSameAsRedis({"--syslog-facility", "local9"}, {"argument(s) must", ">>> "});
  ExpectSameAsRedis({"--protected-mode", "maybe"}, {"argument must", ">>> "});
  ExpectSameAsRedis({"--unixsocketperm", "999"}, {"argument couldn't", ">>> "});
  ExpectSameAsRedis({"--unixsocketperm", "1000"}, {"argument must", ">>> "});
}

TEST_F(BadInputTest, UnwritableLogFile) {
  ExpectSameAsRedis({"--logfile", "/nonexistent-dir/keel.log"}, {"Can't open the log file"});
}

}  // namespace
}  // namespace keel::test
