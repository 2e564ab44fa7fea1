#pragma once

// spdlog sinks with Redis's logging behaviour (private to keel_common; logging.cc installs them).

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/types.h>

#include <mutex>
#include <string>

#include "keel/common/status.h"

namespace keel {

// Appends to `path` and survives log rotation without a signal: before each line it compares
// the open file with what the path names now (stat vs fstat: device and inode) and reopens the
// path when they differ or the file is gone. Redis gets the same property by opening the file
// for every line; one stat(2) per line costs less and keeps the file open between lines.
class ReopeningFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopeningFileSink(std::string path);
  ~ReopeningFileSink() override;
  // Opens the file the first time; the error text is strerror's.
  Status Open();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  bool OpenFd();
  std::string path_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// syslog(3) with Redis's priorities: debug -> LOG_DEBUG, verbose -> LOG_INFO,
// notice -> LOG_NOTICE, warning -> LOG_WARNING. The message alone is sent (syslog adds the time,
// ident and pid).
class RedisSyslogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RedisSyslogSink(std::string ident, int facility);
  ~RedisSyslogSink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::string ident_;  // openlog keeps the pointer
};

}  // namespace keel
