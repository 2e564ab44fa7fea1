#include "keel/common/supervisor.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "keel/common/logging.h"
#include "keel/common/strings.h"

namespace keel {

namespace {

// Written once by InitSupervision before threads start, read-only afterwards.
SupervisedMode g_mode = SupervisedMode::kNo;
std::string g_notify_socket;  // NOTIFY_SOCKET as read at start-up
uint64_t g_watchdog_usec = 0;

// Fills `addr` from NOTIFY_SOCKET: a path, or '@name' for the abstract namespace. Returns the
// address length, 0 when the value is unusable.
socklen_t NotifyAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() < 2 || path.size() >= sizeof(addr->sun_path)) return 0;
  if (path[0] != '/' && path[0] != '@') return 0;
  std::memcpy(addr->sun_path, path.data(), path.size());
  if (path[0] == '@') addr->sun_path[0] = '\0';  // abstract: no trailing NUL counts
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
}

}  // namespace

SupervisedMode InitSupervision(SupervisedMode requested) {
  const char* notify = std::getenv("NOTIFY_SOCKET");
  const char* upstart = std::getenv("UPSTART_JOB");
  SupervisedMode mode = requested;
  if (mode == SupervisedMode::kAuto) {
    if (upstart != nullptr) {
      mode = SupervisedMode::kUpstart;
    } else if (notify != nullptr) {
      mode = SupervisedMode::kSystemd;
    } else {
      mode = SupervisedMode::kNo;
    }
  }
  if (mode == SupervisedMode::kUpstart) {
    if (upstart == nullptr) {
      KEEL_LOG_WARNING("upstart supervision requested, but UPSTART_JOB not found!");
      mode = SupervisedMode::kNo;
    } else {
      KEEL_LOG_NOTICE("supervised by upstart, will stop to signal readiness.");
      unsetenv("UPSTART_JOB");
    }
  } else if (mode == SupervisedMode::kSystemd) {
    if (notify == nullptr) {
      KEEL_LOG_WARNING("systemd supervision error: NOTIFY_SOCKET not found!");
      mode = SupervisedMode::kNo;
    } else {
      g_notify_socket = notify;
      KEEL_LOG_NOTICE(
          "Supervised by systemd. Please make sure you set appropriate values for "
          "TimeoutStartSec and TimeoutStopSec in your service unit.");
      // WATCHDOG_PID, when present, names the process the watchdog is meant for.
      const char* wd_pid = std::getenv("WATCHDOG_PID");
      const char* wd_usec = std::getenv("WATCHDOG_USEC");
      bool ours = wd_pid == nullptr || ParseInt64(wd_pid) == static_cast<int64_t>(getpid());
      if (wd_usec != nullptr && ours) {
        auto usec = ParseInt64(wd_usec);
        if (usec && *usec > 0) g_watchdog_usec = static_cast<uint64_t>(*usec);
      }
    }
  }
  g_mode = mode;
  return mode;
}

SupervisedMode Supervision() { return g_mode; }

std::string_view SupervisionName(SupervisedMode mode) {
  switch (mode) {
    case SupervisedMode::kNo:
      return "no";
    case SupervisedMode::kUpstart:
      return "upstart";
    case SupervisedMode::kSystemd:
      return "systemd";
    case SupervisedMode::kAuto:
      break;
  }
  return "unknown";
}

bool SystemdNotify(std::string_view state) {
  if (g_mode != SupervisedMode::kSystemd) return false;
  sockaddr_un addr;
  socklen_t len = NotifyAddress(g_notify_socket, &addr);
  if (len == 0) return false;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  ::close(fd);
  if (n != static_cast<ssize_t>(state.size())) {
    KEEL_LOG_WARNING("systemd supervision error: sd_notify: {}", n < 0 ? -errno : 0);
    return false;
  }
  return true;
}

bool NotifyStatus(std::string_view text) {
  std::string msg = "STATUS=";
  msg += text;
  msg += '\n';
  return SystemdNotify(msg);
}

void NotifyReady() {
  if (g_mode == SupervisedMode::kSystemd) {
    NotifyStatus("Ready to accept connections");
    SystemdNotify("READY=1\n");
  } else if (g_mode == SupervisedMode::kUpstart) {
    raise(SIGSTOP);
  }
}

bool NotifyStopping() { return SystemdNotify("STOPPING=1\n"); }

bool ExtendStartTimeout(uint64_t usec) {
  return SystemdNotify("EXTEND_TIMEOUT_USEC=" + std::to_string(usec) + "\n");
}

uint64_t WatchdogUsec() { return g_mode == SupervisedMode::kSystemd ? g_watchdog_usec : 0; }

bool NotifyWatchdog() { return SystemdNotify("WATCHDOG=1\n"); }

}  // namespace keel
