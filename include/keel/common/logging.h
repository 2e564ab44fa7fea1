#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "keel/common/status.h"

namespace keel {

// Redis's log levels, from most to least verbose, mapped onto spdlog levels:
// debug -> debug, verbose -> info... see SetLogLevel. Logging goes through spdlog's default logger.
enum class LogLevel { kDebug, kVerbose, kNotice, kWarning, kNothing };

// Parses "debug|verbose|notice|warning|nothing"; returns false for anything else.
bool ParseLogLevel(std::string_view name, LogLevel* level);
std::string_view LogLevelName(LogLevel level);

struct LogOptions {
  std::string logfile;  // "" = standard output
  LogLevel level = LogLevel::kNotice;
  bool syslog_enabled = false;
  std::string syslog_ident = "keel";
  int syslog_facility = 1 << 3;  // LOG_USER
};

// Installs the default logger, with Redis's line format
// (`pid:M 02 Dec 2026 06:37:25.553 * message`, level marks . - * #): standard output when
// `logfile` is empty, else the file, appended to and reopened when it was renamed or removed
// (logrotate needs no signal); and syslog(3) as well when `syslog_enabled`. Failure to open the
// file reads as Redis's "Can't open the log file: <strerror>".
Status InitLogging(const LogOptions& options);
Status InitLogging(const std::string& logfile, LogLevel level);
void SetLogLevel(LogLevel level);

}  // namespace keel

#define KEEL_LOG_DEBUG(...) spdlog::debug(__VA_ARGS__)
#define KEEL_LOG_VERBOSE(...) spdlog::info(__VA_ARGS__)
#define KEEL_LOG_NOTICE(...) spdlog::warn(__VA_ARGS__)
#define KEEL_LOG_WARNING(...) spdlog::error(__VA_ARGS__)
