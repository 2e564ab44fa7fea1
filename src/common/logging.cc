#include "keel/common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "keel/common/strings.h"
#include "log_sinks.h"

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

namespace {

// %* in the pattern: Redis's level mark (. debug, - verbose, * notice, # warning).
class RedisLevelMark final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char c = '#';
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        c = '.';
        break;
      case spdlog::level::info:
        c = '-';
        break;
      case spdlog::level::warn:
        c = '*';
        break;
      default:
        break;
    }
    dest.push_back(c);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RedisLevelMark>();
  }
};

}  // namespace

Status InitLogging(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.logfile.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::stdout_sink_mt>());
  } else {
    auto file = std::make_shared<ReopeningFileSink>(options.logfile);
    if (Status st = file->Open(); !st.ok()) {
      return Status::Error("Can't open the log file: " + st.message());
    }
    sinks.push_back(std::move(file));
  }
  if (options.syslog_enabled) {
    sinks.push_back(
        std::make_shared<RedisSyslogSink>(options.syslog_ident, options.syslog_facility));
  }
  auto logger = std::make_shared<spdlog::logger>("keel", sinks.begin(), sinks.end());
  // pid:role date time level-mark message, as Redis writes its log lines.
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<RedisLevelMark>('*').set_pattern("%P:M %d %b %Y %H:%M:%S.%e %* %v");
  logger->set_formatter(std::move(formatter));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  SetLogLevel(options.level);
  return Status::Ok();
}

Status InitLogging(const std::string& logfile, LogLevel level) {
  LogOptions options;
  options.logfile = logfile;
  options.level = level;
  return InitLogging(options);
}

void SetLogLevel(LogLevel level) { spdlog::set_level(ToSpdlog(level)); }

}  // namespace keel
