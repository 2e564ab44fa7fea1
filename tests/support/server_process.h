#pragma once

// ServerProcess runs a Redis-compatible server binary (keel-server, or redis-server as the
// oracle) as a child process for the length of a test, on a free port of 127.0.0.1.
//
// Its stdout and stderr go to a log file in a private temporary directory, which is also the
// child's working directory (so a stray dump file never lands in the source tree). The log is
// printed to stderr when the process is stopped while the current test has failed, or when the
// server died on its own, and the directory is removed afterwards unless KEEL_TEST_KEEP_LOGS=1.
//
// A ServerProcess is used from one thread. The destructor always stops the child.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keel::test {

// The binary under test: $KEEL_SERVER_BIN (ctest sets it to keel-server, or to whatever
// -DKEEL_TEST_SERVER_BIN names). Empty if unset.
std::string KeelServerBinary();
// The oracle: $REDIS_SERVER_BIN, else /usr/bin/redis-server.
std::string RedisServerBinary();
// True when `binary` is a Redis server rather than Keel (the file name says "redis"). Tests of
// behaviour where Keel deliberately differs from Redis skip themselves in that case.
bool IsRedisBinary(const std::string& binary);

// Returns a TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
// Another process may still take it before the server binds; ServerProcess retries then.
int PickFreePort();

struct ServerOptions {
  std::string binary;
  // Passed as the first argument when not empty, like `keel-server /path/keel.conf`.
  std::string config_file;
  // When true the command line starts with --port <port> --bind 127.0.0.1 --save "" --appendonly
  // no --daemonize no; `args` follow and may override any of them.
  bool default_args = true;
  std::vector<std::string> args;
  // 0 picks a free port. With default_args == false the port must be set (and be what the
  // config or args make the server listen on) for Start() to wait for readiness.
  int port = 0;
  // Start() returns once the server answers PING (any complete reply counts: with requirepass
  // the answer is -NOAUTH). When false, Start() returns right after exec.
  bool wait_until_ready = true;
  std::chrono::milliseconds ready_timeout{10000};
};

class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Forks and execs the server, then waits until it is ready (see ServerOptions). If the child
  // exits before becoming ready on a port this object picked, it retries on a new port a few
  // times, since a port collision is the usual cause.
  ::testing::AssertionResult Start();

  // SIGTERM, then waits up to `timeout` for the exit, then SIGKILL. Records the exit status.
  // Returns failure only if the process had to be killed. No-op if not running.
  ::testing::AssertionResult Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // Sends `signal` without waiting.
  void Signal(int signal);

  // Waits for the process to exit on its own (after SHUTDOWN, a config error...).
  ::testing::AssertionResult WaitForExit(std::chrono::milliseconds timeout);

  // True while the child has not exited (reaps it if it has).
  bool IsRunning();

  int port() const { return port_; }
  // The child's pid (still set after it exited, for messages); -1 before Start().
  pid_t pid() const { return pid_; }
  // Set once the process has exited: the exit code if it exited normally...
  std::optional<int> exit_code() const { return exit_code_; }
  // ...or the signal that ended it.
  std::optional<int> term_signal() const { return term_signal_; }
  // "exited with code 0", "killed by signal 9", "running".
  std::string DescribeStatus() const;

  // The private temporary directory (the child's cwd) and the log inside it.
  const std::string& dir() const { return dir_; }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;
  // Prints the log (its last 64 KiB) to stderr with a header naming the server.
  void DumpLog() const;
  const std::vector<std::string>& argv() const { return argv_; }

 private:
  ::testing::AssertionResult StartOnce();
  ::testing::AssertionResult WaitReady();
  void RecordStatus(int status);
  bool Reap(bool block);

  ServerOptions options_;
  std::vector<std::string> argv_;
  std::string dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::optional<int> term_signal_;
  bool exited_ = false;  // reaped; pid_ keeps the number for messages
};

}  // namespace keel::test
