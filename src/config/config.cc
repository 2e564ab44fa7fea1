#include "keel/config/config.h"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/protocol/parser.h"

namespace keel {

namespace {

enum class Kind {
  kBool,        // yes/no
  kInt,         // integer in [min, max]
  kMemory,      // memory value in [min, max]
  kEnum,        // one of `choices`, stored as its index
  kString,      // any single string
  kBind,        // one or more addresses
  kSave,        // "" or <seconds> <changes> pairs (save points, see PersistenceCron)
  kAppendOnly,  // yes/no (appendonly: turning it on at run time writes a base first)
  kDir,         // the working directory: chdir() at load, protected at run time
  kFilename,    // a file name (dbfilename; no directory: its validator), protected at run time
  kNotify,      // notify-keyspace-events class letters, stored as NotifyFlag bits
  kObufLimit,   // client-output-buffer-limit <class> <hard> <soft> <seconds> groups
  kOctal,       // octal integer in [min, max] (unixsocketperm), shown in octal
  kFlags,       // "default" (choices[0]) or any of the other choices, stored as bits 1 << (i-1)
};

// Kinds whose value is several words (a config line's arguments, or one CONFIG SET string).
bool MultiWord(Kind k) { return k == Kind::kBind || k == Kind::kObufLimit || k == Kind::kFlags; }

constexpr std::string_view kNotifyLetters = "g$lshzxetdmnKE";
constexpr std::string_view kObufClasses[] = {"normal", "slave", "pubsub"};

// Option ids: the index of each option in the table below.
enum Id : size_t {
  kBindId,
  kPortId,
  kIoThreadsId,
  kDatabasesId,
  kTimeoutId,
  kTcpKeepaliveId,
  kMaxclientsId,
  kRequirepassId,
  kLoglevelId,
  kLogfileId,
  kPidfileId,
  kDaemonizeId,
  kDirId,
  kProtoMaxBulkLenId,
  kClientQueryBufferLimitId,
  kSaveId,
  kAppendonlyId,
  kMaxmemoryId,
  kMaxmemoryPolicyId,
  kReplicaReadOnlyId,
  kListMaxListpackSizeId,
  kSetMaxIntsetEntriesId,
  kHashMaxListpackEntriesId,
  kHashMaxListpackValueId,
  kNotifyKeyspaceEventsId,
  kClientOutputBufferLimitId,
  kIoThreadsServingId,
  kDbfilenameId,
  kRdbcompressionId,
  kRdbchecksumId,
  kRdbDelSyncFilesId,
  kSanitizeDumpPayloadId,
  kStopWritesOnBgsaveErrorId,
  kEnableDebugCommandId,
  kRdbSaveIncrementalFsyncId,
  kSupervisedId,
  kSyslogEnabledId,
  kSyslogIdentId,
  kSyslogFacilityId,
  kProtectedModeId,
  kUnixsocketId,
  kUnixsocketpermId,
  kEnableProtectedConfigsId,
  kBgsaveShardDelayUsId,
  kShutdownOnSigintId,
  kShutdownOnSigtermId,
  kLoadKeyDelayUsId,
  kAppendfilenameId,
  kAppenddirnameId,
  kAppendfsyncId,
  kNoAppendfsyncOnRewriteId,
  kAutoAofRewritePercentageId,
  kAutoAofRewriteMinSizeId,
  kAofUseRdbPreambleId,
  kAofLoadTruncatedId,
  kAofTimestampEnabledId,
  kAofRewriteIncrementalFsyncId,
  kAofDisableAutoGcId,
  kAofRewriteCpulistId,
  kMaxmemorySamplesId,
  kMaxmemoryEvictionTenacityId,
  kLfuLogFactorId,
  kLfuDecayTimeId,
  kTrackingTableMaxKeysId,
  kZsetMaxListpackEntriesId,
  kZsetMaxListpackValueId,
  kClientOutputPauseLimitId,
  kShutdownFlushTimeoutId,
  kListCompressDepthId,
};

constexpr int64_t kIntMax = INT_MAX;
constexpr int64_t kLongMax = LLONG_MAX;
constexpr int64_t kMiB = 1024 * 1024;

const std::vector<std::string_view> kLogLevels = {"debug", "verbose", "notice", "warning"};
// acl-pubsub-default: acl_family.cc reads index 0 as allchannels.
const std::vector<std::string_view> kAclPubsubDefault = {"allchannels", "resetchannels"};
const std::vector<std::string_view> kSanitizeChoices = {"no", "yes", "clients"};
// Redis's order (its error text lists them so); Config::supervised() maps to SupervisedMode.
const std::vector<std::string_view> kSupervisedModes = {"upstart", "systemd", "auto", "no"};
const std::vector<std::string_view> kSyslogFacilities = {
    "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
// enable-protected-configs, enable-debug-command, enable-module-command: in ProtectedAccess's
// order.
const std::vector<std::string_view> kProtectedAccess = {"no", "yes", "local"};
const std::vector<std::string_view> kShutdownOnSignal = {"default", "save", "nosave", "now",
                                                         "force"};
// appendfsync, in Redis's order (its error text lists them so; AofFsync in aof.h maps them).
const std::vector<std::string_view> kAppendfsyncChoices = {"everysec", "always", "no"};
// Placeholder enumerations, in Redis's order (its error text lists them so). oom-score-adj's
// "relative" is Redis's other name for "yes" (CONFIG GET shows "yes").
const std::vector<std::string_view> kOomScoreAdj = {"no", "yes", "relative", "absolute"};
const std::vector<std::string_view> kTlsAuthClients = {"no", "yes", "optional"};
const std::vector<std::string_view> kEndpointTypes = {"ip", "hostname", "unknown-endpoint"};
const std::vector<std::string_view> kPropagationErrorBehavior = {"ignore", "panic",
                                                                 "panic-on-replicas"};
const std::vector<std::string_view> kReplDisklessLoad = {"disabled", "on-empty-db", "swapdb"};
const std::vector<std::string_view> kMaxmemoryPolicies = {
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    "allkeys-lru",  "allkeys-lfu",  "allkeys-random",  "noeviction"};

std::string JoinChoices(const std::vector<std::string_view>& choices) {
  std::string s;
  for (std::string_view c : choices) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

// Quotes a value for a config line the way redis-cli and redis.conf read it back.
std::string QuoteIfNeeded(std::string_view v) {
  bool plain = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c >= 0x7f) plain = false;
  }
  if (plain) return std::string(v);
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < ' ' || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += '"';
  return out;
}

std::string CurrentDir() {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

// The multiplier of a memory unit (b, k, kb, m, mb, g, gb, any case; "" is bytes), 0 if unknown.
int64_t UnitMultiplier(std::string_view unit_text) {
  std::string unit = ToLower(unit_text);
  if (unit.empty() || unit == "b") return 1;
  if (unit == "k") return 1000;
  if (unit == "kb") return 1024;
  if (unit == "m") return 1000 * 1000;
  if (unit == "mb") return 1024 * 1024;
  if (unit == "g") return 1000LL * 1000 * 1000;
  if (unit == "gb") return 1024LL * 1024 * 1024;
  return 0;
}

// Option checks (OptionSpec::validate): each runs after its kind's own parse, on the parsed
// number `n` and string `s`; it refuses the value with Redis's reason text, or normalizes `s` to
// the form CONFIG GET shows.
using Validator = Status (*)(std::string_view name, int64_t* n, std::string* s);
// Option adjusters (OptionSpec::adjust): a silent change of a number that passed the range
// check, just before it is stored.
using Adjuster = int64_t (*)(int64_t n);

// latency-tracking-info-percentiles: numbers separated by single spaces, each in [0, 100];
// stored as Redis shows them (printf's %f without trailing zeros).
Status CheckPercentiles(std::string_view, int64_t*, std::string* out) {
  const std::string given = std::move(*out);
  std::string_view v = given;
  out->clear();
  if (v.empty()) return Status::Ok();
  size_t pos = 0;
  while (true) {
    size_t end = v.find(' ', pos);
    std::string word(
        v.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    char* stop = nullptr;
    errno = 0;
    double d = word.empty() || std::isspace(static_cast<unsigned char>(word[0]))
                   ? std::nan("")
                   : std::strtod(word.c_str(), &stop);
    if (std::isnan(d) || errno == ERANGE || stop == nullptr || *stop != '\0') {
      return Status::Error("Invalid latency-tracking-info-percentiles parameters");
    }
    if (d < 0.0 || d > 100.0) {
      return Status::Error(
          "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%f", d);
    std::string text = buf;
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    if (!out->empty()) *out += ' ';
    *out += text;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return Status::Ok();
}

// oom-score-adj-values: three integers in [-2000, 2000] (any blanks between), shown normalized.
Status CheckOomScoreAdjValues(std::string_view, int64_t*, std::string* out) {
  std::string copy = *out;
  std::vector<std::string_view> words;
  if (!SplitArgsInPlace(copy.data(), copy.size(), &words) || words.size() != 3) {
    return Status::Error("wrong number of arguments");
  }
  out->clear();
  for (std::string_view w : words) {
    std::string text(w);
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || x < -2000 || x > 2000) {
      return Status::Error(
          "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    }
    if (!out->empty()) *out += ' ';
    *out += std::to_string(x);
  }
  return Status::Ok();
}

// proc-title-template: {name} variables among Redis's, "{{" and "}}" for braces; the expansion
// may not be blank.
Status CheckProcTitleTemplate(std::string_view, int64_t*, std::string* out) {
  std::string_view v = *out;
  static constexpr std::string_view kVars[] = {"title",    "listen-addr", "server-mode", "port",
                                               "tls-port", "unixsocket",  "config-file"};
  const Status bad = Status::Error("template format is invalid or contains unknown variables");
  std::string expanded;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '{' && i + 1 < v.size() && v[i + 1] == '{') {
      expanded += '{';
      ++i;
    } else if (v[i] == '{') {
      size_t close = v.find('}', i + 1);
      if (close == std::string_view::npos) return bad;
      std::string_view var = v.substr(i + 1, close - i - 1);
      if (std::find(std::begin(kVars), std::end(kVars), var) == std::end(kVars)) return bad;
      // The variables that can expand to nothing in Keel: server-mode (standalone), and the
      // socket and config file when unset; counted as empty here.
      if (var != "server-mode" && var != "unixsocket" && var != "config-file") expanded += 'x';
      i = close;
    } else if (v[i] == '}' && i + 1 < v.size() && v[i + 1] == '}') {
      expanded += '}';
      ++i;
    } else {
      expanded += v[i];
    }
  }
  if (expanded.find_first_not_of(' ') == std::string::npos) return bad;
  return Status::Ok();
}

// maxmemory-clients: a memory value, or a percentage of maxmemory ("10%", 0..100), shown as
// Redis shows it (bytes, or "<n>%"; "0%" is 0).
Status CheckMaxmemoryClients(std::string_view, int64_t*, std::string* out) {
  const std::string given = std::move(*out);
  std::string_view v = given;
  const Status bad = Status::Error("argument must be a memory or percent value");
  if (!v.empty() && v.back() == '%') {
    auto pct = ParseInt64(v.substr(0, v.size() - 1));
    if (!pct || *pct < 0) return bad;
    if (*pct > 100) return Status::Error("percentage argument must be less or equal to 100");
    *out = *pct == 0 ? "0" : std::to_string(*pct) + "%";
    return Status::Ok();
  }
  int64_t bytes = 0;
  if (!ParseMemoryValue(v, &bytes, MemoryValueSyntax::kRedisConfig) || bytes < 0) return bad;
  *out = std::to_string(bytes);
  return Status::Ok();
}

// tls-port, tls-replication, tls-cluster: Keel has no TLS, so turning it on fails as Redis's
// does when TLS cannot be configured.
Status RefuseTls(std::string_view name, int64_t* n, std::string*) {
  if (*n == 0) return Status::Ok();
  KEEL_LOG_WARNING("'{}' cannot be enabled: Keel has no TLS support", name);
  return Status::Error("Unable to update TLS configuration. Check server logs.");
}

// activedefrag: needs a jemalloc with Redis's defrag hint, which Debian's (Keel's and Redis's)
// lacks.
Status RefuseActiveDefrag(std::string_view, int64_t* n, std::string*) {
  if (*n == 0) return Status::Ok();
  return Status::Error(
      "Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
      "modified Jemalloc like the one shipped by default with the Redis source distribution");
}

// shutdown-on-sigint, shutdown-on-sigterm: save and nosave (bits 1 and 2) exclude each other.
Status CheckShutdownFlags(std::string_view, int64_t* n, std::string*) {
  if ((*n & 3) == 3) {
    return Status::Error("shutdown options SAVE and NOSAVE can't be used simultaneously");
  }
  return Status::Ok();
}

// dbfilename, appendfilename (a "filename") and appenddirname (a "dirname"): no directory part.
Status NoPath(std::string_view name, const std::string& s, std::string_view what) {
  if (s.find('/') == std::string::npos) return Status::Ok();
  return Status::Error(std::string(name) + " can't be a path, just a " + std::string(what));
}
Status CheckFilename(std::string_view name, int64_t*, std::string* s) {
  return NoPath(name, *s, "filename");
}
Status CheckDirname(std::string_view name, int64_t*, std::string* s) {
  return NoPath(name, *s, "dirname");
}

// oom-score-adj: "relative" (index 2) is Redis's other name for "yes" (CONFIG GET shows "yes").
int64_t RelativeIsYes(int64_t n) { return n == 2 ? 1 : n; }

// Redis adjusts these after the range check: hz to [1, 500], the backlog to 16 KiB at least.
int64_t ClampHz(int64_t n) { return std::clamp<int64_t>(n, 1, 500); }
int64_t AtLeast16KiB(int64_t n) { return std::max<int64_t>(n, 16 * 1024); }

}  // namespace

struct Config::Option {
  std::string_view name;
  std::string_view alias;  // empty, or a second name (slave-read-only)
  Kind kind;
  int64_t min = 0;
  int64_t max = 0;
  const std::vector<std::string_view>* choices = nullptr;
  bool immutable = false;
  bool placebo = false;        // see OptionSpec
  bool default_known = false;  // default_text is set (after the default was stored)
  std::atomic<int64_t> num{0};
  mutable std::mutex mu;  // guards str
  std::string str;
  std::string default_text;           // the value as CONFIG GET shows it before any change
  std::atomic<int64_t> obuf[9] = {};  // kObufLimit: hard, soft, seconds for each class
  int save_lines = 0;                 // kSave: config lines with save points read so far
  Validator validate = nullptr;       // see OptionSpec
  Adjuster adjust = nullptr;          // see OptionSpec
  std::function<Status(const Config&)> hook;

  // Parses `args` (one value, or several for bind) into a number or a string without applying
  // it. The message is Redis's reason text.
  Status Parse(std::span<const std::string_view> args, int64_t* n, std::string* s) const {
    Status st = ParseValue(args, n, s);
    if (st.ok() && validate != nullptr) st = validate(name, n, s);
    return st;
  }

  Status ParseValue(std::span<const std::string_view> args, int64_t* n, std::string* s) const {
    if (!MultiWord(kind) && kind != Kind::kSave && args.size() != 1) {
      return Status::Error("wrong number of arguments");
    }
    // A multi-word option given as one argument ("--bind '1.2.3.4 ::1'") is split on spaces, as
    // Redis does.
    std::string joined;
    std::vector<std::string_view> split;
    if (MultiWord(kind) && args.size() == 1 && !args[0].empty()) {
      joined = std::string(args[0]);
      if (!SplitArgsInPlace(joined.data(), joined.size(), &split)) {
        return Status::Error("wrong number of arguments");
      }
      args = split;
    }
    std::string_view v = args.empty() ? std::string_view() : args[0];
    switch (kind) {
      case Kind::kBool:
      case Kind::kAppendOnly:
        if (EqualsIgnoreCase(v, "yes")) {
          *n = 1;
        } else if (EqualsIgnoreCase(v, "no")) {
          *n = 0;
        } else {
          return Status::Error("argument must be 'yes' or 'no'");
        }
        return Status::Ok();
      case Kind::kOctal: {
        char* end = nullptr;
        std::string text(v);
        errno = 0;
        long long value = std::strtoll(text.c_str(), &end, 8);
        if (text.empty() || *end != '\0' || errno != 0) {
          return Status::Error("argument couldn't be parsed as an octal number");
        }
        if (value < min || value > max) {
          return Status::Error("argument must be between 0 and 777 inclusive");
        }
        *n = value;
        return Status::Ok();
      }
      case Kind::kInt:
      case Kind::kMemory: {
        int64_t value = 0;
        if (kind == Kind::kInt) {
          auto parsed = ParseInt64(v);
          if (!parsed) return Status::Error("argument couldn't be parsed into an integer");
          value = *parsed;
        } else if (!ParseMemoryValue(v, &value, MemoryValueSyntax::kRedisConfig)) {
          return Status::Error("argument must be a memory value");
        }
        if (value < min || value > max) {
          return Status::Error("argument must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + " inclusive");
        }
        *n = value;
        return Status::Ok();
      }
      case Kind::kFlags: {
        if (args.empty()) {
          return Status::Error("argument(s) must be one of the following: " +
                               JoinChoices(*choices));
        }
        int64_t bits = 0;
        for (std::string_view word : args) {
          size_t i = 0;
          while (i < choices->size() && !EqualsIgnoreCase((*choices)[i], word)) ++i;
          if (i == choices->size()) {
            return Status::Error("argument(s) must be one of the following: " +
                                 JoinChoices(*choices));
          }
          if (i > 0) bits |= int64_t{1} << (i - 1);
        }
        *n = bits;
        return Status::Ok();
      }
      case Kind::kEnum:
        for (size_t i = 0; i < choices->size(); ++i) {
          if (EqualsIgnoreCase((*choices)[i], v)) {
            *n = static_cast<int64_t>(i);
            return Status::Ok();
          }
        }
        return Status::Error("argument(s) must be one of the following: " + JoinChoices(*choices));
      case Kind::kString:
      case Kind::kDir:
        *s = std::string(v);
        return Status::Ok();
      case Kind::kFilename:  // checked by the row's validator (CheckFilename, CheckDirname)
        *s = std::string(v);
        return Status::Ok();
      case Kind::kBind: {
        if (args.empty() || args.size() > 16) return Status::Error("wrong number of arguments");
        std::string joined;
        for (std::string_view a : args) {
          if (!joined.empty()) joined += ' ';
          joined += a;
        }
        *s = joined;
        return Status::Ok();
      }
      case Kind::kNotify: {
        uint32_t flags = 0;
        for (char c : v) {
          if (c == 'A') {
            flags |= kNotifyAll;
          } else if (kNotifyLetters.find(c) != std::string_view::npos) {
            flags |= NotifyFlag(c);
          } else {
            return Status::Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
          }
        }
        *n = flags;
        return Status::Ok();
      }
      case Kind::kObufLimit: {
        if (args.empty() || args.size() % 4 != 0) {
          return Status::Error("Wrong number of arguments in buffer limit configuration.");
        }
        int64_t values[9];
        for (int i = 0; i < 9; ++i) values[i] = obuf[i].load();
        for (size_t i = 0; i < args.size(); i += 4) {
          int cls = -1;
          std::string_view name = args[i];
          if (EqualsIgnoreCase(name, "replica")) name = "slave";
          for (int c = 0; c < 3; ++c) {
            if (EqualsIgnoreCase(kObufClasses[c], name)) cls = c;
          }
          if (cls < 0) {
            return Status::Error("Invalid client class specified in buffer limit configuration.");
          }
          int64_t hard, soft;
          auto secs = ParseInt64(args[i + 3]);
          if (!ParseMemoryValue(args[i + 1], &hard) || !ParseMemoryValue(args[i + 2], &soft) ||
              !secs || hard < 0 || soft < 0 || *secs < 0) {
            return Status::Error(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
          }
          values[cls * 3] = hard;
          values[cls * 3 + 1] = soft;
          values[cls * 3 + 2] = *secs;
        }
        std::string text;
        for (int c = 0; c < 3; ++c) {
          if (!text.empty()) text += ' ';
          text += std::string(kObufClasses[c]) + " " + std::to_string(values[c * 3]) + " " +
                  std::to_string(values[c * 3 + 1]) + " " + std::to_string(values[c * 3 + 2]);
        }
        *s = text;
        return Status::Ok();
      }
      case Kind::kSave: {
        // "" disables snapshots; otherwise pairs of <seconds> (at least 1) <changes>, given as
        // one string (CONFIG SET) or as words (a config line). Stored normalized, as Redis
        // shows it: "3600 1 300 100".
        std::string joined;
        for (std::string_view a : args) {
          if (!joined.empty()) joined += ' ';
          joined += a;
        }
        std::vector<std::string_view> words;
        if (!SplitArgsInPlace(joined.data(), joined.size(), &words)) {
          return Status::Error("Invalid save parameters");
        }
        if (words.size() == 1 && words[0].empty()) words.clear();
        if (words.size() % 2 != 0) return Status::Error("Invalid save parameters");
        std::string norm;
        for (size_t i = 0; i < words.size(); ++i) {
          // strtoll, as Redis reads them: leading zeros, '+' and blanks are fine.
          std::string w(words[i]);
          char* end = nullptr;
          errno = 0;
          long long x = std::strtoll(w.c_str(), &end, 10);
          if (w.empty() || *end != '\0' || errno == ERANGE || x < (i % 2 == 0 ? 1 : 0)) {
            return Status::Error("Invalid save parameters");
          }
          if (!norm.empty()) norm += ' ';
          norm += std::to_string(x);
        }
        *s = norm;
        return Status::Ok();
      }
    }
    return Status::Error("unknown option kind");
  }

  std::string Format() const {
    switch (kind) {
      case Kind::kBool:
      case Kind::kAppendOnly:
        return num.load() ? "yes" : "no";
      case Kind::kInt:
      case Kind::kMemory:
        return std::to_string(num.load());
      case Kind::kOctal: {
        char buf[24];
        std::snprintf(buf, sizeof(buf), "%llo", static_cast<unsigned long long>(num.load()));
        return buf;
      }
      case Kind::kEnum:
        return std::string((*choices)[static_cast<size_t>(num.load())]);
      case Kind::kFlags: {
        std::string out;
        for (size_t i = 1; i < choices->size(); ++i) {
          if ((num.load() & (int64_t{1} << (i - 1))) == 0) continue;
          if (!out.empty()) out += ' ';
          out += (*choices)[i];
        }
        return out.empty() ? std::string((*choices)[0]) : out;
      }
      case Kind::kDir:
        return CurrentDir();
      case Kind::kNotify:
        return NotifyFlagsToString(static_cast<uint32_t>(num.load()));
      case Kind::kObufLimit:
      case Kind::kString:
      case Kind::kFilename:
      case Kind::kBind:
      case Kind::kSave: {
        std::lock_guard<std::mutex> lock(mu);
        return str;
      }
    }
    return "";
  }

  // The value as it is written to a config file.
  std::string FormatForFile() const {
    std::string v = Format();
    if (MultiWord(kind)) return v;  // several plain words
    return QuoteIfNeeded(v);
  }

  // Stores a parsed value. Dir changes the process's working directory.
  Status Store(int64_t n, const std::string& s) {
    Status st = StoreValue(n, s);
    // default_text is set once the default is stored, so defaults never warn.
    if (st.ok() && placebo && default_known && Format() != default_text) {
      KEEL_LOG_WARNING("'{}' is accepted but has no effect in Keel yet (set to '{}')", name,
                       Format());
    }
    return st;
  }
  Status StoreValue(int64_t n, const std::string& s) {
    switch (kind) {
      case Kind::kObufLimit: {
        std::string copy = s;
        std::vector<std::string_view> words;
        SplitArgsInPlace(copy.data(), copy.size(), &words);
        for (size_t i = 0; i + 3 < words.size(); i += 4) {
          int cls = words[i] == "normal" ? 0 : words[i] == "slave" ? 1 : 2;
          for (int k = 0; k < 3; ++k) obuf[cls * 3 + k] = *ParseInt64(words[i + 1 + k]);
        }
        std::lock_guard<std::mutex> lock(mu);
        str = s;
        return Status::Ok();
      }
      case Kind::kString:
      case Kind::kFilename:
      case Kind::kBind:
      case Kind::kSave: {
        std::lock_guard<std::mutex> lock(mu);
        str = s;
        return Status::Ok();
      }
      case Kind::kDir:
        if (chdir(s.c_str()) != 0) return Status::Error(std::strerror(errno));
        return Status::Ok();
      default:
        if (adjust != nullptr) n = adjust(n);
        num.store(n);
        return Status::Ok();
    }
  }
};

namespace {

struct OptionSpec {
  std::string_view name;
  std::string_view alias;
  Kind kind;
  int64_t min;
  int64_t max;
  const std::vector<std::string_view>* choices;
  bool immutable;
  std::string_view default_value;  // in config-file syntax
  bool placebo = false;            // accepted, no effect yet: a non-default value warns
  // The option's own check of a parsed value (Redis's per-option validation), or none.
  Validator validate = nullptr;
  // The option's own silent change of a parsed number before it is stored, or none.
  Adjuster adjust = nullptr;
};

// The table order must match enum Id above. Defaults are Redis 7.0's, except io-threads, which
// Keel sets to the CPU count at start-up (see Config::Config).
const OptionSpec kSpecs[] = {
    {"bind", "", Kind::kBind, 0, 0, nullptr, false, "* -::*"},
    {"port", "", Kind::kInt, 0, 65535, nullptr, false, "6379"},
    {"io-threads", "", Kind::kInt, 1, 128, nullptr, true, "1"},
    {"databases", "", Kind::kInt, 1, kIntMax, nullptr, true, "16"},
    {"timeout", "", Kind::kInt, 0, kIntMax, nullptr, false, "0"},
    {"tcp-keepalive", "", Kind::kInt, 0, kIntMax, nullptr, false, "300"},
    {"maxclients", "", Kind::kInt, 1, 4294967295LL, nullptr, false, "10000"},
    {"requirepass", "", Kind::kString, 0, 0, nullptr, false, ""},
    {"loglevel", "", Kind::kEnum, 0, 0, &kLogLevels, false, "notice"},
    {"logfile", "", Kind::kString, 0, 0, nullptr, true, ""},
    {"pidfile", "", Kind::kString, 0, 0, nullptr, true, ""},
    {"daemonize", "", Kind::kBool, 0, 0, nullptr, true, "no"},
    {"dir", "", Kind::kDir, 0, 0, nullptr, false, ""},
    {"proto-max-bulk-len", "", Kind::kMemory, kMiB, kLongMax, nullptr, false, "536870912"},
    {"client-query-buffer-limit", "", Kind::kMemory, kMiB, kLongMax, nullptr, false, "1073741824"},
    {"save", "", Kind::kSave, 0, 0, nullptr, false, "3600 1 300 100 60 10000"},
    {"appendonly", "", Kind::kAppendOnly, 0, 0, nullptr, false, "no"},
    {"maxmemory", "", Kind::kMemory, 0, kLongMax, nullptr, false, "0"},
    {"maxmemory-policy", "", Kind::kEnum, 0, 0, &kMaxmemoryPolicies, false, "noeviction"},
    {"replica-read-only", "slave-read-only", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"list-max-listpack-size", "list-max-ziplist-size", Kind::kInt, INT_MIN, kIntMax, nullptr,
     false, "-2"},
    {"set-max-intset-entries", "", Kind::kInt, 0, kLongMax, nullptr, false, "512"},
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", Kind::kInt, 0, kLongMax, nullptr,
     false, "512"},
    {"hash-max-listpack-value", "hash-max-ziplist-value", Kind::kMemory, 0, kLongMax, nullptr,
     false, "64"},
    {"notify-keyspace-events", "", Kind::kNotify, 0, 0, nullptr, false, ""},
    {"client-output-buffer-limit", "", Kind::kObufLimit, 0, 0, nullptr, false,
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
    // Keel's own: how many io threads serve connections; 0 lets the server decide from load.
    {"io-threads-serving", "", Kind::kInt, 0, 128, nullptr, false, "0"},
    // RDB persistence (docs/persistence.md).
    {"dbfilename", "", Kind::kFilename, 0, 0, nullptr, false, "dump.rdb", false, CheckFilename},
    {"rdbcompression", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"rdbchecksum", "", Kind::kBool, 0, 0, nullptr, true, "yes"},
    {"rdb-del-sync-files", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    {"sanitize-dump-payload", "", Kind::kEnum, 0, 0, &kSanitizeChoices, false, "no"},
    {"stop-writes-on-bgsave-error", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"enable-debug-command", "", Kind::kEnum, 0, 0, &kProtectedAccess, true, "no"},
    {"rdb-save-incremental-fsync", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"supervised", "", Kind::kEnum, 0, 0, &kSupervisedModes, true, "no"},
    {"syslog-enabled", "", Kind::kBool, 0, 0, nullptr, true, "no"},
    {"syslog-ident", "", Kind::kString, 0, 0, nullptr, true, "keel"},
    {"syslog-facility", "", Kind::kEnum, 0, 0, &kSyslogFacilities, true, "local0"},
    {"protected-mode", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"unixsocket", "", Kind::kString, 0, 0, nullptr, true, ""},
    {"unixsocketperm", "", Kind::kOctal, 0, 0777, nullptr, true, "0"},
    {"enable-protected-configs", "", Kind::kEnum, 0, 0, &kProtectedAccess, true, "no"},
    // Keel's test knob: BGSAVE sleeps this long after each shard (docs/persistence.md).
    {"keel-bgsave-shard-delay-us", "", Kind::kInt, 0, 1000000, nullptr, false, "0"},
    // Any of Redis 7.0's words (save, nosave, now, force), or default.
    {"shutdown-on-sigint", "", Kind::kFlags, 0, 0, &kShutdownOnSignal, false, "default", false,
     CheckShutdownFlags},
    {"shutdown-on-sigterm", "", Kind::kFlags, 0, 0, &kShutdownOnSignal, false, "default", false,
     CheckShutdownFlags},
    // Keel's test knob: the start-up load sleeps this long after each key (docs/persistence.md).
    {"keel-load-key-delay-us", "", Kind::kInt, 0, 1000000, nullptr, false, "0"},
    // AOF (docs/persistence.md, "AOF"); names immutable as in 7.0.
    {"appendfilename", "", Kind::kFilename, 0, 0, nullptr, true, "appendonly.aof", false,
     CheckFilename},
    {"appenddirname", "", Kind::kFilename, 0, 0, nullptr, true, "appendonlydir", false,
     CheckDirname},
    {"appendfsync", "", Kind::kEnum, 0, 0, &kAppendfsyncChoices, false, "everysec"},
    {"no-appendfsync-on-rewrite", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    {"auto-aof-rewrite-percentage", "", Kind::kInt, 0, kIntMax, nullptr, false, "100"},
    {"auto-aof-rewrite-min-size", "", Kind::kMemory, 0, kLongMax, nullptr, false, "67108864"},
    {"aof-use-rdb-preamble", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"aof-load-truncated", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"aof-timestamp-enabled", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    {"aof-rewrite-incremental-fsync", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"aof-disable-auto-gc", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    // Accepted for compatibility: Keel's rewrite runs on a thread, not a forked child to pin.
    {"aof_rewrite_cpulist", "", Kind::kString, 0, 0, nullptr, true, ""},
    // Eviction (keel/keyspace/eviction.h, docs/configuration.md).
    {"maxmemory-samples", "", Kind::kInt, 1, kIntMax, nullptr, false, "5"},
    {"maxmemory-eviction-tenacity", "", Kind::kInt, 0, 100, nullptr, false, "10"},
    {"lfu-log-factor", "", Kind::kInt, 0, kIntMax, nullptr, false, "10"},
    {"lfu-decay-time", "", Kind::kInt, 0, kIntMax, nullptr, false, "1"},
    {"tracking-table-max-keys", "", Kind::kInt, 0, kLongMax, nullptr, false, "1000000"},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", Kind::kInt, 0, kLongMax, nullptr,
     false, "128"},
    {"zset-max-listpack-value", "zset-max-ziplist-value", Kind::kMemory, 0, kLongMax, nullptr,
     false, "64"},
    // (ids above; the entries below are read by name)
    // Keel's own (docs/configuration.md): a client's pipelined commands stop running while more
    // than this much of its output is unsent; and how long a shutdown waits for clients to take
    // the output they already have (0: close at once, as Redis does).
    {"client-output-pause-limit", "", Kind::kMemory, 1024, kLongMax, nullptr, false, "4mb"},
    {"shutdown-flush-timeout", "", Kind::kInt, 0, 3600000, nullptr, false, "3000"},
    {"list-compress-depth", "", Kind::kInt, 0, kIntMax, nullptr, false, "0"},
    // Lazy freeing (Keyspace::LazyFree). Keel's defaults for the three server-side ones are yes
    // (Redis 7.0 has no): Keel frees big values off the io threads unless told otherwise.
    {"lazyfree-lazy-eviction", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"lazyfree-lazy-expire", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"lazyfree-lazy-server-del", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"lazyfree-lazy-user-del", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    {"lazyfree-lazy-user-flush", "", Kind::kBool, 0, 0, nullptr, false, "no"},
    // Active defragmentation needs a jemalloc with Redis's defrag hint, which Debian's (Keel's
    // and Redis's) lacks: activedefrag yes is refused with Redis's text (RefuseActiveDefrag); the
    // tuning parameters are accepted with their ranges.
    {"activedefrag", "", Kind::kBool, 0, 0, nullptr, false, "no", false, RefuseActiveDefrag},
    // Client eviction (keel/commands/client_eviction.h): bytes, or a percentage of maxmemory.
    {"maxmemory-clients", "", Kind::kString, 0, 0, nullptr, false, "0", false,
     CheckMaxmemoryClients},
    {"active-defrag-cycle-max", "", Kind::kInt, 1, 99, nullptr, false, "25", true},
    {"active-defrag-cycle-min", "", Kind::kInt, 1, 99, nullptr, false, "1", true},
    {"active-defrag-ignore-bytes", "", Kind::kMemory, 1, kLongMax, nullptr, false, "104857600",
     true},
    {"active-defrag-max-scan-fields", "", Kind::kInt, 1, kLongMax, nullptr, false, "1000", true},
    {"active-defrag-threshold-lower", "", Kind::kInt, 0, 1000, nullptr, false, "10", true},
    {"active-defrag-threshold-upper", "", Kind::kInt, 0, 1000, nullptr, false, "100", true},
    // Keel's own (docs/commands.md, Scripting): the most a Lua state may hold while a script
    // runs; 0: no limit, as in Redis.
    {"lua-memory-limit", "", Kind::kMemory, 0, kLongMax, nullptr, false, "1gb"},
    // The slow log and the latency monitor (diagnostics_family.cc).
    {"slowlog-log-slower-than", "", Kind::kInt, -1, kLongMax, nullptr, false, "10000"},
    {"slowlog-max-len", "", Kind::kInt, 0, kLongMax, nullptr, false, "128"},
    {"latency-monitor-threshold", "", Kind::kInt, 0, kLongMax, nullptr, false, "0"},
    {"latency-tracking", "", Kind::kBool, 0, 0, nullptr, false, "yes"},
    {"latency-tracking-info-percentiles", "", Kind::kString, 0, 0, nullptr, false, "50 99 99.9",
     false, CheckPercentiles},
    // ACL (acl_family.cc): the channels of new users and selectors, and the ACL LOG's length.
    {"acl-pubsub-default", "", Kind::kEnum, 0, 0, &kAclPubsubDefault, false, "resetchannels"},
    {"acllog-max-len", "", Kind::kInt, 0, kLongMax, nullptr, false, "128"},
    // Redis 7.0 parameters of features Keel does not have yet (replication, cluster, TLS, ACL
    // files, modules, streams, process tuning): accepted with Redis's default and
    // mutability, so that tools and test suites that set them at start work; they change
    // nothing, and a value other than the default logs a warning naming the parameter
    // (docs/configuration.md). Generated from redis-server 7.0.15's CONFIG GET *.
    {"aclfile", "", Kind::kString, 0, 0, nullptr, true, ""},
    {"active-expire-effort", "", Kind::kInt, 1, 10, nullptr, false, "1", true},
    {"activerehashing", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"always-show-logo", "", Kind::kBool, 0, 0, nullptr, true, "no", true},
    {"bgsave_cpulist", "", Kind::kString, 0, 0, nullptr, true, "", true},
    {"bind-source-addr", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"bio_cpulist", "", Kind::kString, 0, 0, nullptr, true, "", true},
    {"busy-reply-threshold", "lua-time-limit", Kind::kInt, 0, kLongMax, nullptr, false, "5000"},
    {"cluster-allow-pubsubshard-when-down", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"cluster-allow-reads-when-down", "", Kind::kBool, 0, 0, nullptr, false, "no", true},
    {"cluster-allow-replica-migration", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"cluster-announce-bus-port", "", Kind::kInt, 0, 65535, nullptr, false, "0", true},
    {"cluster-announce-hostname", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"cluster-announce-ip", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"cluster-announce-port", "", Kind::kInt, 0, 65535, nullptr, false, "0", true},
    {"cluster-announce-tls-port", "", Kind::kInt, 0, 65535, nullptr, false, "0", true},
    {"cluster-config-file", "", Kind::kString, 0, 0, nullptr, true, "nodes.conf", true},
    {"cluster-enabled", "", Kind::kBool, 0, 0, nullptr, true, "no", true},
    {"cluster-link-sendbuf-limit", "", Kind::kMemory, 0, kLongMax, nullptr, false, "0", true},
    {"cluster-migration-barrier", "", Kind::kInt, 0, kIntMax, nullptr, false, "1", true},
    {"cluster-node-timeout", "", Kind::kInt, 0, kLongMax, nullptr, false, "15000", true},
    {"cluster-port", "", Kind::kInt, 0, 65535, nullptr, true, "0", true},
    {"cluster-preferred-endpoint-type", "", Kind::kEnum, 0, 0, &kEndpointTypes, false, "ip", true},
    {"cluster-replica-no-failover", "cluster-slave-no-failover", Kind::kBool, 0, 0, nullptr, false,
     "no", true},
    {"cluster-replica-validity-factor", "cluster-slave-validity-factor", Kind::kInt, 0, kIntMax,
     nullptr, false, "10", true},
    {"cluster-require-full-coverage", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"crash-log-enabled", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"crash-memcheck-enabled", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"disable-thp", "", Kind::kBool, 0, 0, nullptr, true, "yes", true},
    {"dynamic-hz", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"enable-module-command", "", Kind::kEnum, 0, 0, &kProtectedAccess, true, "no"},
    {"hll-sparse-max-bytes", "", Kind::kMemory, 0, kLongMax, nullptr, false, "3000"},
    {"hz", "", Kind::kInt, 0, kIntMax, nullptr, false, "10", true, nullptr, ClampHz},
    {"ignore-warnings", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"io-threads-do-reads", "", Kind::kBool, 0, 0, nullptr, true, "no", true},
    {"jemalloc-bg-thread", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"masterauth", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"masteruser", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"min-replicas-max-lag", "min-slaves-max-lag", Kind::kInt, 0, kIntMax, nullptr, false, "10",
     true},
    {"min-replicas-to-write", "min-slaves-to-write", Kind::kInt, 0, kIntMax, nullptr, false, "0",
     true},
    {"oom-score-adj", "", Kind::kEnum, 0, 0, &kOomScoreAdj, false, "no", true, nullptr,
     RelativeIsYes},
    {"oom-score-adj-values", "", Kind::kString, 0, 0, nullptr, false, "0 200 800", true,
     CheckOomScoreAdjValues},
    {"proc-title-template", "", Kind::kString, 0, 0, nullptr, false,
     "{title} {listen-addr} {server-mode}", true, CheckProcTitleTemplate},
    {"propagation-error-behavior", "", Kind::kEnum, 0, 0, &kPropagationErrorBehavior, false,
     "ignore", true},
    {"repl-backlog-size", "", Kind::kMemory, 1, kLongMax, nullptr, false, "1048576", true, nullptr,
     AtLeast16KiB},
    {"repl-backlog-ttl", "", Kind::kInt, 0, kLongMax, nullptr, false, "3600", true},
    {"repl-disable-tcp-nodelay", "", Kind::kBool, 0, 0, nullptr, false, "no", true},
    {"repl-diskless-load", "", Kind::kEnum, 0, 0, &kReplDisklessLoad, false, "disabled", true},
    {"repl-diskless-sync", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"repl-diskless-sync-delay", "", Kind::kInt, 0, kIntMax, nullptr, false, "5", true},
    {"repl-diskless-sync-max-replicas", "", Kind::kInt, 0, kIntMax, nullptr, false, "0", true},
    {"repl-ping-replica-period", "repl-ping-slave-period", Kind::kInt, 1, kIntMax, nullptr, false,
     "10", true},
    {"repl-timeout", "", Kind::kInt, 1, kIntMax, nullptr, false, "60", true},
    {"replica-announce-ip", "slave-announce-ip", Kind::kString, 0, 0, nullptr, false, "", true},
    {"replica-announce-port", "slave-announce-port", Kind::kInt, 0, 65535, nullptr, false, "0",
     true},
    {"replica-announced", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
    {"replica-ignore-disk-write-errors", "", Kind::kBool, 0, 0, nullptr, false, "no", true},
    {"replica-ignore-maxmemory", "slave-ignore-maxmemory", Kind::kBool, 0, 0, nullptr, false, "yes",
     true},
    {"replica-lazy-flush", "slave-lazy-flush", Kind::kBool, 0, 0, nullptr, false, "no", true},
    {"replica-priority", "slave-priority", Kind::kInt, 0, kIntMax, nullptr, false, "100", true},
    {"replica-serve-stale-data", "slave-serve-stale-data", Kind::kBool, 0, 0, nullptr, false, "yes",
     true},
    {"replicaof", "slaveof", Kind::kString, 0, 0, nullptr, true, "", true},
    {"server_cpulist", "", Kind::kString, 0, 0, nullptr, true, "", true},
    {"set-proc-title", "", Kind::kBool, 0, 0, nullptr, true, "yes", true},
    {"shutdown-timeout", "", Kind::kInt, 0, kIntMax, nullptr, false, "10", true},
    {"socket-mark-id", "", Kind::kInt, 0, 4294967295LL, nullptr, true, "0", true},
    {"stream-node-max-bytes", "", Kind::kMemory, 0, kLongMax, nullptr, false, "4096", true},
    {"stream-node-max-entries", "", Kind::kInt, 0, kLongMax, nullptr, false, "100", true},
    {"tcp-backlog", "", Kind::kInt, 0, kIntMax, nullptr, true, "511", true},
    {"tls-auth-clients", "", Kind::kEnum, 0, 0, &kTlsAuthClients, false, "yes", true},
    {"tls-ca-cert-dir", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-ca-cert-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-cert-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-ciphers", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-ciphersuites", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-client-cert-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-client-key-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-client-key-file-pass", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-cluster", "", Kind::kBool, 0, 0, nullptr, false, "no", true, RefuseTls},
    {"tls-dh-params-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-key-file", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-key-file-pass", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-port", "", Kind::kInt, 0, 65535, nullptr, false, "0", true, RefuseTls},
    {"tls-prefer-server-ciphers", "", Kind::kBool, 0, 0, nullptr, false, "no", true},
    {"tls-protocols", "", Kind::kString, 0, 0, nullptr, false, "", true},
    {"tls-replication", "", Kind::kBool, 0, 0, nullptr, false, "no", true, RefuseTls},
    {"tls-session-cache-size", "", Kind::kInt, 0, kIntMax, nullptr, false, "20480", true},
    {"tls-session-cache-timeout", "", Kind::kInt, 0, kIntMax, nullptr, false, "300", true},
    {"tls-session-caching", "", Kind::kBool, 0, 0, nullptr, false, "yes", true},
};

}  // namespace

bool ParseMemoryValue(std::string_view s, int64_t* out, MemoryValueSyntax syntax) {
  const bool is_signed = syntax == MemoryValueSyntax::kSigned;
  size_t digits_end = is_signed && !s.empty() && s[0] == '-' ? 1 : 0;
  while (digits_end < s.size() && s[digits_end] >= '0' && s[digits_end] <= '9') ++digits_end;
  const std::string_view number = s.substr(0, digits_end);
  const int64_t mul = UnitMultiplier(s.substr(digits_end));
  if (mul == 0) return false;
  if (is_signed) {
    auto n = ParseInt64(number);
    if (!n) return false;
    if (*n != 0 && (*n > LLONG_MAX / mul || *n < LLONG_MIN / mul)) return false;
    *out = *n * mul;
    return true;
  }
  // Redis's memtoull: "" is 0, a number past 2^64-1 becomes 2^64-1 and the product wraps.
  uint64_t x = 0;
  bool saturated = false;
  for (char c : number) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) saturated = true;
    x = saturated ? UINT64_MAX : x * 10 + d;
  }
  *out = static_cast<int64_t>(x * static_cast<uint64_t>(mul));  // two's complement, as Redis's
  return true;
}

Config::Config() {
  static std::atomic<uint64_t> next_serial{1};
  serial_ = next_serial.fetch_add(1);
  for (const OptionSpec& spec : kSpecs) {
    auto o = std::make_unique<Option>();
    o->name = spec.name;
    o->alias = spec.alias;
    o->kind = spec.kind;
    o->min = spec.min;
    o->max = spec.max;
    o->choices = spec.choices;
    o->immutable = spec.immutable;
    o->placebo = spec.placebo;
    o->validate = spec.validate;
    o->adjust = spec.adjust;
    if (spec.kind != Kind::kDir) {
      std::string text(spec.default_value);
      std::vector<std::string_view> words;
      if (MultiWord(spec.kind)) {
        SplitArgsInPlace(text.data(), text.size(), &words);
      } else {
        words.push_back(text);
      }
      int64_t n = 0;
      std::string s;
      Status st = o->Parse(words, &n, &s);
      if (st.ok()) st = o->Store(n, s);
      if (!st.ok()) {
        std::fprintf(stderr, "BUG: bad default for %.*s: %s\n", static_cast<int>(spec.name.size()),
                     spec.name.data(), st.message().c_str());
        std::abort();
      }
    }
    options_.push_back(std::move(o));
  }
  // Keel's io-threads default is one thread per CPU.
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  options_[kIoThreadsId]->num = std::clamp<long>(cpus, 1, 128);
  for (auto& o : options_) {
    o->default_text = o->Format();
    o->default_known = true;
  }
}

Config::~Config() = default;

namespace {

// Orders a name against a lower-case one as if both were lower case.
int CompareFolded(std::string_view name, std::string_view lower) {
  size_t n = std::min(name.size(), lower.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char a = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(name[i])));
    unsigned char b = static_cast<unsigned char>(lower[i]);
    if (a != b) return a < b ? -1 : 1;
  }
  return name.size() == lower.size() ? 0 : (name.size() < lower.size() ? -1 : 1);
}

// Every option name and alias, lower-cased and sorted, with its index in kSpecs (which is its
// index in every Config's options_): built once per process, so a lookup is a binary search
// instead of a walk over the ~200 options (CONFIG SET of many parameters, CONFIG REWRITE, the
// config file's load). Where a name is also an earlier option's alias, the earlier option wins,
// as in table order.
struct NameIndexEntry {
  std::string lower;
  size_t id;
};
const std::vector<NameIndexEntry>& NameIndex() {
  static const std::vector<NameIndexEntry>* index = [] {
    auto* v = new std::vector<NameIndexEntry>;
    for (size_t id = 0; id < std::size(kSpecs); ++id) {
      v->push_back({ToLower(kSpecs[id].name), id});
      if (!kSpecs[id].alias.empty()) v->push_back({ToLower(kSpecs[id].alias), id});
    }
    std::stable_sort(v->begin(), v->end(),
                     [](const auto& a, const auto& b) { return a.lower < b.lower; });
    v->erase(std::unique(v->begin(), v->end(),
                         [](const auto& a, const auto& b) { return a.lower == b.lower; }),
             v->end());
    return v;
  }();
  return *index;
}

}  // namespace

Config::Option* Config::Find(std::string_view name) const {
  const std::vector<NameIndexEntry>& index = NameIndex();
  auto it = std::lower_bound(
      index.begin(), index.end(), name,
      [](const auto& e, std::string_view n) { return CompareFolded(n, e.lower) > 0; });
  if (it == index.end() || CompareFolded(name, it->lower) != 0) return nullptr;
  return options_[it->id].get();
}

int64_t Config::Int(size_t id) const { return options_[id]->num.load(std::memory_order_relaxed); }

std::string Config::String(size_t id) const { return options_[id]->Format(); }

int64_t Config::IntOption(std::string_view name) const {
  Option* o = Find(name);
  return o ? o->num.load(std::memory_order_relaxed) : 0;
}

const std::atomic<int64_t>* Config::IntOptionCell(std::string_view name) const {
  Option* o = Find(name);
  return o ? &o->num : nullptr;
}

std::vector<std::string> Config::bind() const {
  std::string s = String(kBindId);
  std::vector<std::string_view> words;
  SplitArgsInPlace(s.data(), s.size(), &words);
  return std::vector<std::string>(words.begin(), words.end());
}
int Config::port() const { return static_cast<int>(Int(kPortId)); }
int Config::io_threads() const { return static_cast<int>(Int(kIoThreadsId)); }
int Config::io_threads_serving() const { return static_cast<int>(Int(kIoThreadsServingId)); }
int Config::databases() const { return static_cast<int>(Int(kDatabasesId)); }
int64_t Config::timeout() const { return Int(kTimeoutId); }
int Config::tcp_keepalive() const { return static_cast<int>(Int(kTcpKeepaliveId)); }
int64_t Config::maxclients() const { return Int(kMaxclientsId); }
std::string Config::requirepass() const { return String(kRequirepassId); }
LogLevel Config::loglevel() const { return static_cast<LogLevel>(Int(kLoglevelId)); }
std::string Config::logfile() const { return String(kLogfileId); }
std::string Config::pidfile() const { return String(kPidfileId); }
bool Config::daemonize() const { return Int(kDaemonizeId) != 0; }
namespace {
bool AccessAllowed(int64_t access, bool local_client) {
  auto a = static_cast<Config::ProtectedAccess>(access);
  return a == Config::ProtectedAccess::kYes ||
         (a == Config::ProtectedAccess::kLocal && local_client);
}
}  // namespace
bool Config::ProtectedConfigsAllowed(bool local_client) const {
  return AccessAllowed(Int(kEnableProtectedConfigsId), local_client);
}
bool Config::DebugCommandAllowed(bool local_client) const {
  return AccessAllowed(Int(kEnableDebugCommandId), local_client);
}
bool Config::ModuleCommandAllowed(bool local_client) const {
  return AccessAllowed(IntOption("enable-module-command"), local_client);
}
std::string Config::unixsocket() const { return String(kUnixsocketId); }
int Config::unixsocketperm() const { return static_cast<int>(Int(kUnixsocketpermId)); }
bool Config::protected_mode() const { return Int(kProtectedModeId) != 0; }
bool Config::syslog_enabled() const { return Int(kSyslogEnabledId) != 0; }
std::string Config::syslog_ident() const { return String(kSyslogIdentId); }
int Config::syslog_facility() const {
  static constexpr int kFacilities[] = {LOG_USER,   LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
                                        LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
  return kFacilities[Int(kSyslogFacilityId)];
}
SupervisedMode Config::supervised() const {
  static constexpr SupervisedMode kModes[] = {SupervisedMode::kUpstart, SupervisedMode::kSystemd,
                                              SupervisedMode::kAuto, SupervisedMode::kNo};
  return kModes[Int(kSupervisedId)];
}
int64_t Config::proto_max_bulk_len() const { return Int(kProtoMaxBulkLenId); }
int64_t Config::client_query_buffer_limit() const { return Int(kClientQueryBufferLimitId); }
uint64_t Config::maxmemory() const { return static_cast<uint64_t>(Int(kMaxmemoryId)); }
std::string Config::maxmemory_policy() const { return String(kMaxmemoryPolicyId); }
int64_t Config::list_max_listpack_size() const { return Int(kListMaxListpackSizeId); }
int64_t Config::list_compress_depth() const { return Int(kListCompressDepthId); }
int64_t Config::set_max_intset_entries() const { return Int(kSetMaxIntsetEntriesId); }
std::string Config::dbfilename() const { return String(kDbfilenameId); }
std::string Config::sanitize_dump_payload() const { return String(kSanitizeDumpPayloadId); }
bool Config::rdbcompression() const { return Int(kRdbcompressionId) != 0; }
bool Config::rdbchecksum() const { return Int(kRdbchecksumId) != 0; }
std::string Config::save_params() const { return String(kSaveId); }
bool Config::stop_writes_on_bgsave_error() const { return Int(kStopWritesOnBgsaveErrorId) != 0; }
int64_t Config::bgsave_shard_delay_us() const { return Int(kBgsaveShardDelayUsId); }
int64_t Config::load_key_delay_us() const { return Int(kLoadKeyDelayUsId); }
int64_t Config::tracking_table_max_keys() const { return Int(kTrackingTableMaxKeysId); }
int64_t Config::client_output_pause_limit() const { return Int(kClientOutputPauseLimitId); }
int64_t Config::shutdown_flush_timeout_ms() const { return Int(kShutdownFlushTimeoutId); }
std::string Config::shutdown_on_signal(bool sigterm) const {
  return String(sigterm ? kShutdownOnSigtermId : kShutdownOnSigintId);
}
int64_t Config::hash_max_listpack_entries() const { return Int(kHashMaxListpackEntriesId); }
int64_t Config::hash_max_listpack_value() const { return Int(kHashMaxListpackValueId); }
int64_t Config::zset_max_listpack_entries() const { return Int(kZsetMaxListpackEntriesId); }
int64_t Config::zset_max_listpack_value() const { return Int(kZsetMaxListpackValueId); }
uint32_t Config::notify_keyspace_flags() const {
  return static_cast<uint32_t>(Int(kNotifyKeyspaceEventsId));
}
void Config::output_buffer_limit(ClientClass cls, int64_t* hard, int64_t* soft,
                                 int64_t* seconds) const {
  const Option& o = *options_[kClientOutputBufferLimitId];
  int c = static_cast<int>(cls);
  *hard = o.obuf[c * 3].load(std::memory_order_relaxed);
  *soft = o.obuf[c * 3 + 1].load(std::memory_order_relaxed);
  *seconds = o.obuf[c * 3 + 2].load(std::memory_order_relaxed);
}

uint32_t NotifyFlag(char c) {
  size_t i = kNotifyLetters.find(c);
  return i == std::string_view::npos ? 0 : 1u << i;
}

std::string NotifyFlagsToString(uint32_t flags) {
  // Redis's order: A (or its letters, with n), then K, E, m.
  std::string out;
  if ((flags & kNotifyAll) == kNotifyAll) {
    out += 'A';
  } else {
    for (char c : std::string_view("g$lshzxetdn")) {
      if (flags & NotifyFlag(c)) out += c;
    }
  }
  for (char c : std::string_view("KEm")) {
    if (flags & NotifyFlag(c)) out += c;
  }
  return out;
}

namespace {
Config::RenameHandler rename_handler = nullptr;
Config::UserHandler user_handler = nullptr;
}  // namespace

void Config::SetRenameHandler(RenameHandler handler) { rename_handler = handler; }
void Config::SetUserHandler(UserHandler handler) { user_handler = handler; }

Status Config::ApplyLine(std::span<const std::string_view> args) {
  if (EqualsIgnoreCase(args[0], "rename-command") && args.size() == 3 &&
      rename_handler != nullptr) {
    std::string error = rename_handler(args[1], args[2]);
    return error.empty() ? Status::Ok() : Status::Error(error);
  }
  if (EqualsIgnoreCase(args[0], "user") && args.size() >= 2 && user_handler != nullptr) {
    std::string error = user_handler(args.subspan(1));
    return error.empty() ? Status::Ok() : Status::Error(error);
  }
  Option* o = Find(args[0]);
  if (o == nullptr) return Status::Error("Bad directive or wrong number of arguments");
  int64_t n = 0;
  std::string s;
  if (Status st = o->Parse(args.subspan(1), &n, &s); !st.ok()) return st;
  // Save points accumulate over the lines of a file ("save 3600 1" then "save 300 100"), as in
  // Redis; `save ""` clears them.
  if (o->kind == Kind::kSave && !s.empty() && o->save_lines++ > 0) {
    std::string prev = o->Format();
    if (!prev.empty()) s = prev + " " + s;
  }
  return o->Store(n, s);
}

Status Config::LoadFromString(std::string_view text, std::string_view source) {
  std::lock_guard<std::mutex> lock(mu_);
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    // Trim, as Redis does, then skip comments and blank lines.
    std::string trimmed(Trim(line, " \t\r\n"));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    std::string work = trimmed;
    std::vector<std::string_view> args;
    Status st;
    if (!SplitArgsInPlace(work.data(), work.size(), &args)) {
      st = Status::Error("Unbalanced quotes in configuration line");
    } else if (!args.empty()) {
      st = ApplyLine(args);
    }
    if (!st.ok()) {
      return Status::Error("\n*** FATAL CONFIG FILE ERROR (Keel) ***\nReading the configuration " +
                           std::string(source) + ", at line " + std::to_string(line_no) +
                           "\n>>> '" + trimmed + "'\n" + st.message());
    }
  }
  return Status::Ok();
}

Status Config::LoadFromCommandLine(int argc, char** argv) {
  std::string text;
  std::string source = "command line";
  int j = 1;
  if (argc >= 2 && argv[1][0] != '-') {
    char resolved[PATH_MAX];
    config_file_ = realpath(argv[1], resolved) != nullptr ? resolved : argv[1];
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
      return Status::Error(std::string("Fatal error, can't open config file '") + argv[1] +
                           "': " + std::strerror(errno));
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    source = "file " + config_file_;
    j = 2;
  }
  // `-` as the first or last argument reads more configuration from standard input.
  std::string options;
  bool have_option = false;
  for (; j < argc; ++j) {
    std::string_view a = argv[j];
    if (a == "-" && (j == 1 || j == argc - 1)) {
      std::string more((std::istreambuf_iterator<char>(std::cin)),
                       std::istreambuf_iterator<char>());
      text += "\n" + more;
    } else if (a.size() > 2 && a.substr(0, 2) == "--") {
      if (!options.empty()) options += "\n";
      options += a.substr(2);
      options += " ";
      have_option = true;
      // "--save" with no value means save "".
      if (j + 1 >= argc || std::string_view(argv[j + 1]).substr(0, 2) == "--") {
        if (a == "--save") options += "\"\"";
      }
    } else if (have_option) {
      // Always quoted, as redis-server does, so a start-up error shows `maxmemory "10zz"`.
      std::string quoted = QuoteIfNeeded(a);
      options += quoted.size() > a.size() ? quoted : "\"" + quoted + "\"";
      options += " ";
    } else {
      return Status::Error("\n*** FATAL CONFIG FILE ERROR (Keel) ***\nInvalid argument '" +
                           std::string(a) + "': options are given as --name value");
    }
  }
  if (!options.empty()) {
    if (!text.empty() && text.back() != '\n') text += "\n";
    text += options;
    if (config_file_.empty()) {
      source = "command line";
    } else {
      source += " (with the command line's options appended)";
    }
  }
  return LoadFromString(text, source);
}

void Config::Get(std::span<const std::string_view> patterns,
                 std::vector<std::pair<std::string, std::string>>* out) const {
  std::vector<const Option*> seen;
  auto add = [&](const Option* o, std::string_view name) {
    out->emplace_back(std::string(name), o->Format());
  };
  for (std::string_view p : patterns) {
    bool glob = p.find_first_of("*?[") != std::string_view::npos;
    for (const auto& o : options_) {
      for (std::string_view name : {o->name, o->alias}) {
        if (name.empty()) continue;
        bool match = glob ? GlobMatch(p, name, /*nocase=*/true) : EqualsIgnoreCase(p, name);
        if (!match) continue;
        // A plain name is echoed as the client spelled it, as Redis does.
        std::string key(glob ? name : p);
        bool dup = false;
        for (const auto& [k, v] : *out) dup = dup || EqualsIgnoreCase(k, key);
        if (!dup) add(o.get(), key);
      }
    }
  }
}

Status Config::Set(std::span<const std::string_view> args, bool local_client) {
  if (args.size() % 2 != 0) return Status::Error("ERR syntax error");
  auto failed = [](std::string_view name, const std::string& why) {
    return Status::Error("ERR CONFIG SET failed (possibly related to argument '" +
                         std::string(name) + "') - " + why);
  };
  std::lock_guard<std::mutex> lock(mu_);
  struct Change {
    Option* option;
    std::string_view given_name;
    int64_t num;
    std::string str;
    int64_t old_num;
    std::string old_str;
  };
  std::vector<Change> changes;
  for (size_t i = 0; i < args.size(); i += 2) {
    Option* o = Find(args[i]);
    if (o == nullptr) {
      // Quoted as Redis's %s quotes it: up to the first NUL.
      return Status::Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                           std::string(args[i].substr(0, args[i].find('\0'))) + "'");
    }
    for (const Change& c : changes) {
      if (c.option == o) return failed(args[i], "duplicate parameter");
    }
    if (o->immutable) return failed(args[i], "can't set immutable config");
    if ((o->kind == Kind::kDir || o->kind == Kind::kFilename) &&
        !ProtectedConfigsAllowed(local_client)) {
      return failed(args[i], "can't set protected config");
    }
    Change c{o, args[i], 0, "", o->num.load(), o->Format()};
    std::vector<std::string_view> value{args[i + 1]};
    std::string bind_copy;
    if (MultiWord(o->kind)) {
      bind_copy = std::string(args[i + 1]);
      value.clear();
      SplitArgsInPlace(bind_copy.data(), bind_copy.size(), &value);
    }
    if (Status st = o->Parse(value, &c.num, &c.str); !st.ok()) return failed(args[i], st.message());
    changes.push_back(std::move(c));
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    Change& c = changes[i];
    Status st = c.option->Store(c.num, c.str);
    if (st.ok() && c.option->hook) st = c.option->hook(*this);
    if (!st.ok()) {
      for (size_t k = 0; k <= i; ++k) {
        changes[k].option->Store(changes[k].old_num, changes[k].old_str).ok();
        if (changes[k].option->hook) changes[k].option->hook(*this).ok();
      }
      return failed(c.given_name, st.message());
    }
  }
  return Status::Ok();
}

void Config::SetApplyHook(std::string_view name, std::function<Status(const Config&)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Option* o = Find(name)) o->hook = std::move(hook);
}

Status Config::Rewrite(bool force_all) {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_file_.empty()) return Status::Error("ERR The server is running without a config file");
  std::ifstream in(config_file_, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  in.close();

  std::vector<bool> written(options_.size(), false);
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    std::string work = line;
    std::vector<std::string_view> args;
    size_t b = work.find_first_not_of(" \t\r");
    if (b == std::string::npos || work[b] == '#' ||
        !SplitArgsInPlace(work.data(), work.size(), &args) || args.empty()) {
      out.push_back(line);
      continue;
    }
    Option* o = Find(args[0]);
    if (o == nullptr) {
      out.push_back(line);
      continue;
    }
    size_t id = 0;
    while (options_[id].get() != o) ++id;
    if (written[id]) continue;  // later duplicates of an option are dropped
    written[id] = true;
    out.push_back(std::string(o->name) + " " + o->FormatForFile());
  }
  bool header = false;
  for (size_t id = 0; id < options_.size(); ++id) {
    const Option& o = *options_[id];
    if (written[id]) continue;
    if (!force_all && (o.kind == Kind::kDir || o.Format() == o.default_text)) continue;
    if (!header) {
      out.push_back("# Generated by CONFIG REWRITE");
      header = true;
    }
    out.push_back(std::string(o.name) + " " + o.FormatForFile());
  }
  std::string tmp = config_file_ + ".tmp-keel";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    for (const std::string& l : out) f << l << '\n';
    f.flush();
    if (!f) {
      return Status::Error(std::string("ERR Rewriting config file: ") + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), config_file_.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Status::Error(std::string("ERR Rewriting config file: ") + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace keel
