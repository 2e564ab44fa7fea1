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

// Installs the default logger: stdout when `logfile` is empty, else appends to the file.
Status InitLogging(const std::string& logfile, LogLevel level);
void SetLogLevel(LogLevel level);

}  // namespace keel

#define KEEL_LOG_DEBUG(...) spdlog::debug(__VA_ARGS__)
#define KEEL_LOG_VERBOSE(...) spdlog::info(__VA_ARGS__)
#define KEEL_LOG_NOTICE(...) spdlog::warn(__VA_ARGS__)
#define KEEL_LOG_WARNING(...) spdlog::error(__VA_ARGS__)
