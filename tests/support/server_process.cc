#include "support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "support/resp_connection.h"

namespace keel::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kStartAttempts = 5;
constexpr size_t kLogTailBytes = 64 * 1024;

bool CurrentTestFailed() {
  auto* unit = ::testing::UnitTest::GetInstance();
  if (const auto* info = unit->current_test_info()) return info->result()->Failed();
  return unit->Failed() || unit->ad_hoc_test_result().Failed();
}

bool KeepLogs() {
  const char* v = std::getenv("KEEL_TEST_KEEP_LOGS");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

std::string KeelServerBinary() {
  const char* v = std::getenv("KEEL_SERVER_BIN");
  return v != nullptr ? v : "";
}

std::string RedisServerBinary() {
  const char* v = std::getenv("REDIS_SERVER_BIN");
  return v != nullptr && *v != '\0' ? v : "/usr/bin/redis-server";
}

bool IsRedisBinary(const std::string& binary) {
  return std::filesystem::path(binary).filename().string().find("redis") != std::string::npos;
}

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "keel-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) {
    dir_ = tmpl;
    log_path_ = dir_ + "/server.log";
  }
}

ServerProcess::~ServerProcess() {
  auto stopped = Stop();
  EXPECT_TRUE(stopped) << "server " << options_.binary << " on port " << port_;
  bool failed = CurrentTestFailed() || !stopped;
  if (failed) DumpLog();
  if (!dir_.empty()) {
    if (failed || KeepLogs()) {
      std::cerr << "[server log kept in " << dir_ << "]\n";
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
}

::testing::AssertionResult ServerProcess::Start() {
  if (pid_ > 0 && IsRunning()) return ::testing::AssertionFailure() << "already running";
  if (dir_.empty()) return ::testing::AssertionFailure() << "could not create a temp directory";
  if (options_.binary.empty()) {
    return ::testing::AssertionFailure()
           << "no server binary given (is KEEL_SERVER_BIN / REDIS_SERVER_BIN set?)";
  }
  if (::access(options_.binary.c_str(), X_OK) != 0) {
    return ::testing::AssertionFailure()
           << "server binary " << options_.binary << " is not executable: " << std::strerror(errno);
  }
  ::testing::AssertionResult result = ::testing::AssertionFailure();
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = options_.port != 0 ? options_.port : PickFreePort();
    result = StartOnce();
    if (result) return result;
    // Retry only what looks like a lost race for the port: the child exited early.
    if (options_.port != 0 || IsRunning()) break;
  }
  if (IsRunning()) (void)Stop(milliseconds(2000));
  DumpLog();
  return result;
}

::testing::AssertionResult ServerProcess::StartOnce() {
  exit_code_.reset();
  term_signal_.reset();
  exited_ = false;
  argv_.clear();
  argv_.push_back(options_.binary);
  if (!options_.config_file.empty()) argv_.push_back(options_.config_file);
  if (options_.default_args) {
    for (const char* a : {"--port"}) argv_.push_back(a);
    argv_.push_back(std::to_string(port_));
    for (const char* a :
         {"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"}) {
      argv_.push_back(a);
    }
  }
  for (const auto& a : options_.args) argv_.push_back(a);

  std::vector<char*> cargv;
  for (auto& a : argv_) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return ::testing::AssertionFailure() << "open " << log_path_ << ": " << std::strerror(errno);
  }
  {
    std::string banner = "=== exec:";
    for (const auto& a : argv_) banner += " '" + a + "'";
    banner += "\n";
    (void)!::write(log_fd, banner.data(), banner.size());
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    // Die with the test binary, so a test killed by a ctest timeout leaves no server behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    ::execv(cargv[0], cargv.data());
    const char msg[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  pid_ = pid;
  if (!options_.wait_until_ready) return ::testing::AssertionSuccess();
  return WaitReady();
}

::testing::AssertionResult ServerProcess::WaitReady() {
  auto deadline = Clock::now() + options_.ready_timeout;
  std::string last_error = "never connected";
  while (Clock::now() < deadline) {
    if (!IsRunning()) {
      return ::testing::AssertionFailure() << options_.binary << " exited before it was ready ("
                                           << DescribeStatus() << "), port " << port_;
    }
    RespConnection conn;
    if (auto r = conn.Connect(port_, milliseconds(500)); r) {
      std::string reply;
      if (auto s = conn.Send("*1\r\n$4\r\nPING\r\n"); !s) {
        last_error = s.message();
      } else if (auto rr = conn.ReadReply(&reply, milliseconds(2000)); !rr) {
        last_error = rr.message();
      } else if (reply.rfind("-LOADING", 0) != 0) {
        return ::testing::AssertionSuccess();
      }
    } else {
      last_error = r.message();
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return ::testing::AssertionFailure()
         << options_.binary << " did not answer PING on port " << port_ << " within "
         << options_.ready_timeout.count() << " ms: " << last_error;
}

void ServerProcess::RecordStatus(int status) {
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
}

bool ServerProcess::Reap(bool block) {
  if (pid_ <= 0 || exited_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    RecordStatus(status);
    exited_ = true;
    return true;
  }
  if (r < 0) exited_ = true;  // ECHILD: nothing left to wait for
  return r < 0;
}

bool ServerProcess::IsRunning() { return pid_ > 0 && !exited_ && !Reap(false); }

void ServerProcess::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

::testing::AssertionResult ServerProcess::WaitForExit(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (IsRunning()) {
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << options_.binary << " still running after " << timeout.count() << " ms";
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServerProcess::Stop(milliseconds timeout) {
  if (!IsRunning()) return ::testing::AssertionSuccess();
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + timeout;
  while (IsRunning() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  if (IsRunning()) {
    ::kill(pid_, SIGKILL);
    Reap(true);
    return ::testing::AssertionFailure()
           << options_.binary << " ignored SIGTERM for " << timeout.count() << " ms; killed";
  }
  if (exit_code_ != 0) {
    // A clean SIGTERM shutdown exits 0; anything else (a crash, a sanitizer report) is a bug.
    return ::testing::AssertionFailure()
           << options_.binary << " " << DescribeStatus() << " after SIGTERM";
  }
  return ::testing::AssertionSuccess();
}

std::string ServerProcess::DescribeStatus() const {
  if (exit_code_) return "exited with code " + std::to_string(*exit_code_);
  if (term_signal_) {
    return "killed by signal " + std::to_string(*term_signal_) + " (" + ::strsignal(*term_signal_) +
           ")";
  }
  return pid_ > 0 && !exited_ ? "running" : "not started";
}

std::string ServerProcess::ReadLog() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ServerProcess::DumpLog() const {
  std::string log = ReadLog();
  std::cerr << "----- log of " << options_.binary << " (port " << port_ << ", " << DescribeStatus()
            << ", " << log_path_ << ") -----\n";
  if (log.size() > kLogTailBytes) {
    std::cerr << "...(" << log.size() - kLogTailBytes << " earlier bytes omitted)\n";
    log.erase(0, log.size() - kLogTailBytes);
  }
  std::cerr << log;
  if (!log.empty() && log.back() != '\n') std::cerr << "\n";
  std::cerr << "----- end of log -----\n";
}

}  // namespace keel::test
