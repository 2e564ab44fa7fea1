#include "keel/common/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "keel/common/strings.h"

namespace keel {

namespace {
spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kVerbose:
      return spdlog::level::info;
    case LogLevel::kNotice:
      return spdlog::level::warn;
    case LogLevel::kWarning:
      return spdlog::level::err;
    case LogLevel::kNothing:
      return spdlog::level::off;
  }
  return spdlog::level::warn;
}
}  // namespace

// Redis has four levels where spdlog has six, so Keel logs "notice" messages at spdlog's warn
// level and "warning" messages at err; the KEEL_LOG_* call sites below use Redis's names.
bool ParseLogLevel(std::string_view name, LogLevel* level) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"debug", LogLevel::kDebug},     {"verbose", LogLevel::kVerbose},
      {"notice", LogLevel::kNotice},   {"warning", LogLevel::kWarning},
      {"nothing", LogLevel::kNothing},
  };
  for (const auto& [n, l] : kLevels) {
    if (EqualsIgnoreCase(n, name)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kVerbose:
      return "verbose";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNothing:
      return "nothing";
  }
  return "notice";
}

Status InitLogging(const std::string& logfile, LogLevel level) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (logfile.empty()) {
      logger = spdlog::stdout_logger_mt("keel");
    } else {
      logger = spdlog::basic_logger_mt("keel", logfile, /*truncate=*/false);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status::Error(std::string("Can't open the log file: ") + e.what());
  }
  // pid:role date time level-mark message, close to Redis's log line.
  logger->set_pattern("%P:M %d %b %Y %H:%M:%S.%e %^%L%$ %v");
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  SetLogLevel(level);
  return Status::Ok();
}

void SetLogLevel(LogLevel level) { spdlog::set_level(ToSpdlog(level)); }

}  // namespace keel
