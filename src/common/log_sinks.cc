#include "log_sinks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keel {

ReopeningFileSink::ReopeningFileSink(std::string path) : path_(std::move(path)) {}

ReopeningFileSink::~ReopeningFileSink() {
  if (fd_ >= 0) ::close(fd_);
}

bool ReopeningFileSink::OpenFd() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return true;
}

Status ReopeningFileSink::Open() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!OpenFd()) return Status::Error(std::strerror(errno));
  return Status::Ok();
}

void ReopeningFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  struct stat st;
  if (fd_ < 0 || ::stat(path_.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
    OpenFd();  // on failure the old file (if any) keeps the line, as the best left to do
  }
  if (fd_ < 0) return;
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  const char* p = formatted.data();
  size_t left = formatted.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

RedisSyslogSink::RedisSyslogSink(std::string ident, int facility) : ident_(std::move(ident)) {
  ::openlog(ident_.c_str(), LOG_PID | LOG_NDELAY | LOG_NOWAIT, facility);
}

RedisSyslogSink::~RedisSyslogSink() { ::closelog(); }

void RedisSyslogSink::sink_it_(const spdlog::details::log_msg& msg) {
  int priority = LOG_NOTICE;
  switch (msg.level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      priority = LOG_DEBUG;
      break;
    case spdlog::level::info:
      priority = LOG_INFO;
      break;
    case spdlog::level::warn:
      priority = LOG_NOTICE;
      break;
    default:
      priority = LOG_WARNING;
      break;
  }
  ::syslog(priority, "%.*s", static_cast<int>(msg.payload.size()), msg.payload.data());
}

}  // namespace keel
