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
//   !noreply CMD...           send without reading a reply now (CLIENT REPLY OFF/SKIP, a
//                             blocking command); whatever it answers later is read by the next
//                             step on that connection, or by the drain at the end of the script,
//                             and compared byte for byte
//   !scan-set CMD...          a SCAN-family command: iterates from the given cursor back to
//                             cursor 0 on each server, then compares the sorted, de-duplicated
//                             union of elements (HSCAN's field/value pairs stay pairs); an error
//                             on the first call is compared byte for byte
//   !info-fields CMD...       an INFO reply: the section headers and field names must match, in
//                             order (Keel's own keel_* fields left out); the values are not
//                             compared
//   !acl-rules CMD...         ACL LIST / GETUSER: compared byte for byte except that each run of
//                             single-command rules (+get -set|x, not +@cat) is compared as a
//                             multiset: Redis writes them in its command table's hash order,
//                             which changes with every start
//   !wait TEXT CMD...         repeats CMD on each server until its reply contains TEXT (fails
//                             after a generous deadline); nothing else is compared. Synchronizes
//                             on a condition (a blocked client, an expired key) instead of time
//   !read                     reads one reply on the current connection (one a !noreply step
//                             left pending, e.g. a blocked BLPOP served since) and compares it
//   !delta FIELD CMD...       reply is INFO text; the change of the integer FIELD since the
//                             previous !delta of that FIELD in the script must match (the
//                             first one only sets the base). For counters like
//                             rdb_changes_since_last_save that earlier scripts also moved.
//   !sleep MS                 pause (only where no condition can be waited on)
//   !raw TOKEN...             send the concatenated tokens as raw bytes, then compare
//                             everything received until the server closes the connection or
//                             stays quiet, and whether it closed; reconnects afterwards. An
//                             unquoted token xN repeats the previous token to N copies in all.
//   !reconnect                replace the current connection with a fresh one
//   !client NAME              switch to connection NAME (opened on first use); the first
//                             connection is called "default"
//   !resp2-only REASON        (before any step) the script is about RESP2 itself (HELLO 2's
//                             reply, RESP2's subscribed-mode limits): skipped by the RESP3 run
//   !resp3                    (before any step) the script is about RESP3 (tracking, push
//                             messages): it runs only in the RESP3 run
//   !skip-until REASON        (before any step) a known difference, tracked by REASON (e.g.
//                             issue-17): the test is skipped while the script fails, and fails
//                             once the script passes, so that the marker cannot outlive its cause
//
// Every script runs twice, in the ctest entries `differential` (RESP2) and `differential_resp3`
// (KEEL_DIFF_PROTOCOL=3): in the RESP3 run each connection the harness opens sends HELLO 3
// first (on both servers; a !requirepass script's connections stay RESP2 until they
// authenticate, as HELLO 3 needs authentication) and then the same steps compare RESP3 bytes.
//
// A script must have at least one command step. After the last step, every connection that had a
// !noreply step is drained until quiet and what arrived is compared.

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace keel::test {

inline constexpr char kScriptPassword[] = "keel-test-pw";

enum class StepKind { kCommand, kRaw, kSleep, kReconnect, kClient, kWait, kRead };
enum class CompareMode {
  kExact,
  kUnordered,
  kType,
  kShape,
  kFieldsIgnore,
  kNoReply,
  kScanSet,
  kInfoFields,
  kDelta,
  kAclRules
};

struct ScriptStep {
  int line = 0;
  std::string source;  // the line as written, for messages
  StepKind kind = StepKind::kCommand;
  CompareMode compare = CompareMode::kExact;
  std::vector<std::string> args;         // kCommand, kWait
  std::string wait_for;                  // kWait: the text the reply must contain
  std::string raw;                       // kRaw
  int sleep_ms = 0;                      // kSleep
  std::string client;                    // kClient
  std::set<std::string> ignored_fields;  // kFieldsIgnore, lower-cased
  std::string field;                     // kDelta
};

struct Script {
  bool requirepass = false;
  std::string resp2_only;   // !resp2-only REASON
  bool resp3_only = false;  // !resp3
  std::string skip_until;   // !skip-until REASON
  std::vector<ScriptStep> steps;
};

// Parses a whole script. On error, *error names the line and the problem.
bool ParseScript(std::string_view text, Script* script, std::string* error);

const char* CompareModeName(CompareMode mode);

// Returns an empty string when two raw replies agree under `mode`, else why they do not.
// (kNoReply compares bytes; kScanSet only errors, the runner iterates before comparing the rest.)
std::string CompareReplies(const ScriptStep& step, const std::string& a, const std::string& b);

// For !scan-set: the index of the cursor argument of a SCAN-family command (1 for SCAN, 2 for
// SSCAN/HSCAN/ZSCAN), or -1 if `args` is not one.
int ScanCursorIndex(const std::vector<std::string>& args);
// Adds the elements of one SCAN reply to *out (HSCAN/ZSCAN pairs as "field\0value") and sets
// *cursor. Returns false if the reply is not a well-formed [cursor, [elements]] array.
bool AddScanPage(const std::string& reply, bool pairs, std::string* cursor,
                 std::set<std::string>* out);

// Checks that `info` (an INFO server reply's text) comes from a Redis 7.0 server and not from
// Keel. Returns an empty string if it does, else what is wrong.
std::string CheckOracleInfo(std::string_view info);

}  // namespace keel::test
