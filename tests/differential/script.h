#pragma once

// The differential script format. One step per line; blank lines and lines starting with '#'
// are ignored. A plain line is a command, split like redis-cli splits its input (see SplitArgs),
// sent as a RESP multibulk; its reply must match byte for byte. Lines starting with '!' are
// directives:
//
//   !requirepass              (before any step) run against the server pair started with
//                             --requirepass; the password is kScriptPassword
//   !unordered CMD...         reply is compared as a multiset of elements (SMEMBERS, KEYS...)
//   !ignore CMD...            only the reply's type must match (content ignored)
//   !type CMD...              only the reply's shape must match: types and aggregate lengths,
//                             recursively
//   !fields-ignore a,b CMD... reply is a flat field/value array (HELLO); fields and order must
//                             match, values of the listed fields only in shape
//   !noreply CMD...           send without reading a reply (CLIENT REPLY OFF/SKIP)
//   !delta FIELD CMD...       reply is INFO text; the change of the integer FIELD since the
//                             previous !delta of that FIELD in the script must match (the
//                             first one only sets the base). For counters like
//                             rdb_changes_since_last_save that earlier scripts also moved.
//   !sleep MS                 pause
//   !raw TOKEN...             send the concatenated tokens as raw bytes, then compare
//                             everything received until the server closes the connection or
//                             stays quiet, and whether it closed; reconnects afterwards. An
//                             unquoted token xN repeats the previous token to N copies in all.
//   !reconnect                replace the current connection with a fresh one
//   !client NAME              switch to connection NAME (opened on first use); the first
//                             connection is called "default"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keel::test {

inline constexpr char kScriptPassword[] = "keel-test-pw";

enum class StepKind { kCommand, kRaw, kSleep, kReconnect, kClient };
enum class CompareMode { kExact, kUnordered, kType, kShape, kFieldsIgnore, kNoReply, kDelta };

struct ScriptStep {
  int line = 0;
  std::string source;  // the line as written, for messages
  StepKind kind = StepKind::kCommand;
  CompareMode compare = CompareMode::kExact;
  std::vector<std::string> args;         // kCommand
  std::string raw;                       // kRaw
  int sleep_ms = 0;                      // kSleep
  std::string client;                    // kClient
  std::set<std::string> ignored_fields;  // kFieldsIgnore, lower-cased
  std::string field;                     // kDelta
};

struct Script {
  bool requirepass = false;
  std::vector<ScriptStep> steps;
};

// Parses a whole script. On error, *error names the line and the problem.
bool ParseScript(std::string_view text, Script* script, std::string* error);

const char* CompareModeName(CompareMode mode);

}  // namespace keel::test
