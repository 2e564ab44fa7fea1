// Differential tests: every script under cases/ runs against keel-server and redis-server
// (Debian's 7.0, the oracle) and the raw reply bytes must agree. See script.h for the format.
//
// Each side runs once per test binary, on its own free port; a second pair started with
// --requirepass serves scripts that ask for it. Before each script: fresh connections, FLUSHALL,
// SELECT 0. Binaries come from KEEL_SERVER_BIN and REDIS_SERVER_BIN; pointing KEEL_SERVER_BIN at
// redis-server checks the harness and the scripts themselves. Keel runs with three io threads,
// all serving, so that a script's connections are served by different threads.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "differential/script.h"
#include "support/resp.h"
#include "support/resp_connection.h"
#include "support/server_process.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

#ifndef KEEL_DIFF_CASES_DIR
#error "KEEL_DIFF_CASES_DIR must name the directory of the case scripts"
#endif

int EnvMs(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// How long a reply may take (generous: sanitizer builds are slow on a shared machine).
milliseconds ReplyTimeout() { return milliseconds(EnvMs("KEEL_DIFF_REPLY_TIMEOUT_MS", 10000)); }
// The protocol the scripts run in: 2, or 3 (KEEL_DIFF_PROTOCOL=3: every connection sends
// HELLO 3 first; the ctest entry differential_resp3).
int Protocol() { return EnvMs("KEEL_DIFF_PROTOCOL", 2) == 3 ? 3 : 2; }

// After !raw, how long the server must stay quiet before we stop reading.
milliseconds RawIdleTimeout() { return milliseconds(EnvMs("KEEL_DIFF_RAW_IDLE_MS", 500)); }

// One server under comparison plus the connections a script opened to it.
struct Side {
  explicit Side(std::string name) : label(std::move(name)) {}
  std::string label;
  std::unique_ptr<ServerProcess> server;
  std::map<std::string, RespConnection> clients;
};

// The two servers a script runs against, started on first use and kept for the whole binary.
struct ServerPair {
  Side keel{"keel"};
  Side redis{"redis"};
  bool started = false;
  std::string start_error;
  // False when another server plays Keel's part (-DKEEL_TEST_SERVER_BIN=redis-server): the
  // scripts marked !skip-until then run as plain scripts, since Redis must pass them.
  bool keel_is_keel = true;
};

std::unique_ptr<ServerPair> g_pairs[2];  // [0] plain, [1] --requirepass

// The oracle must really be Redis 7.0: with keel-server (or another Redis) in its place every
// script would compare Keel with itself and pass.
std::string InfoServer(Side& side, bool requirepass, std::string* reply) {
  RespConnection c;
  if (auto r = c.Connect(side.server->port(), ReplyTimeout()); !r) return r.message();
  if (requirepass) {
    if (auto r = c.SendCommand({"AUTH", kScriptPassword}); !r) return r.message();
    if (auto r = c.ReadReply(reply, ReplyTimeout()); !r) return r.message();
  }
  if (auto r = c.SendCommand({"INFO", "server"}); !r) return r.message();
  if (auto r = c.ReadReply(reply, ReplyTimeout()); !r) return r.message();
  return "";
}

std::string CheckOracle(Side& side, bool requirepass) {
  std::string reply;
  if (std::string e = InfoServer(side, requirepass, &reply); !e.empty()) return e + "\n";
  std::string why = CheckOracleInfo(reply);
  return why.empty() ? "" : "REDIS_SERVER_BIN is not a usable oracle: " + why + "\n";
}

ServerPair* GetPair(bool requirepass) {
  auto& pair = g_pairs[requirepass ? 1 : 0];
  if (pair != nullptr) return pair.get();
  pair = std::make_unique<ServerPair>();
  std::vector<std::string> extra;
  if (requirepass) extra = {"--requirepass", kScriptPassword};
  auto start = [&](Side* side, const std::string& binary) {
    ServerOptions options;
    options.binary = binary;
    options.args = extra;
    if (side == &pair->keel && !IsRedisBinary(binary)) {
      // Three io threads, all serving: a script's connections land on different threads, so
      // the cross-thread paths (pub/sub and keyspace-event delivery, blocked clients served by
      // another thread's push, WATCH touched from another thread) really run. A light load
      // would otherwise stay on one thread (docs/architecture.md, Threads).
      options.args.insert(options.args.end(), {"--io-threads", "3", "--io-threads-serving", "3"});
    }
    side->server = std::make_unique<ServerProcess>(options);
    auto r = side->server->Start();
    if (!r) pair->start_error += side->label + ": " + r.message() + "\n";
  };
  std::string keel_bin = KeelServerBinary();
  if (keel_bin.empty()) {
    pair->start_error = "KEEL_SERVER_BIN is not set (run through ctest, or export it)\n";
  } else {
    start(&pair->keel, keel_bin);
    start(&pair->redis, RedisServerBinary());
  }
  if (pair->start_error.empty()) pair->start_error = CheckOracle(pair->redis, requirepass);
  std::string info;
  if (pair->start_error.empty()) pair->start_error = InfoServer(pair->keel, requirepass, &info);
  pair->keel_is_keel = info.find("keel_version:") != std::string::npos;
  pair->started = pair->start_error.empty();
  return pair.get();
}

class StopServersAtExit : public ::testing::Environment {
 public:
  void TearDown() override {
    for (auto& p : g_pairs) p.reset();
  }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new StopServersAtExit);

std::string Quote(std::string_view bytes) { return "\"" + EscapeBytes(bytes) + "\""; }

// KEEL_DIFF_REPLY_LOG=path appends every reply Keel gave to a step to that file, for
// tests/tools/unreached_errors.py (which error strings no script reaches).
void LogReply(const std::string& reply) {
  static std::ofstream* log = [] {
    const char* path = std::getenv("KEEL_DIFF_REPLY_LOG");
    return path != nullptr && *path != '\0' ? new std::ofstream(path, std::ios::app) : nullptr;
  }();
  if (log != nullptr && !reply.empty()) *log << reply << std::flush;
}

class ScriptRunner {
 public:
  ScriptRunner(std::string file, const Script& script, ServerPair* pair)
      : file_(std::move(file)), script_(script), pair_(pair) {}

  // Runs the script; returns every mismatch found (empty if the servers agreed throughout).
  std::vector<std::string> Run() {
    for (Side* side : Sides()) side->clients.clear();
    if (!PrepareServers()) return failures_;
    current_ = "default";
    for (const ScriptStep& step : script_.steps) {
      if (!RunStep(step)) return failures_;  // a lost reply desynchronizes everything after it
    }
    DrainPending();
    return failures_;
  }

 private:
  std::vector<Side*> Sides() { return {&pair_->keel, &pair_->redis}; }

  // Collects one failure message; streamed into like ADD_FAILURE().
  class Message {
   public:
    explicit Message(std::vector<std::string>* out) : out_(out) {}
    ~Message() { out_->push_back(text_.str()); }
    template <typename T>
    Message& operator<<(const T& v) {
      text_ << v;
      return *this;
    }

   private:
    std::vector<std::string>* out_;
    std::ostringstream text_;
  };
  Message Fail() { return Message(&failures_); }

  std::string Where(const ScriptStep& step) const {
    return file_ + ":" + std::to_string(step.line) + ": " + step.source;
  }

  bool Connect(Side* side, const std::string& name) {
    RespConnection& c = side->clients[name];
    auto r = c.Connect(side->server->port(), ReplyTimeout());
    if (!r) {
      Fail() << side->label << ": " << r.message();
      return false;
    }
    return Protocol() == 2 || Hello3(side, c);
  }

  // The RESP3 run: switch a fresh connection to RESP3. Only an unauthenticated connection of a
  // !requirepass script may refuse (NOAUTH), and then it stays RESP2 on both servers; a
  // connection refused past maxclients gets its error here instead of in the next step.
  bool Hello3(Side* side, RespConnection& c) {
    std::string reply;
    auto r = c.SendCommand({"HELLO", "3"});
    if (r) r = c.ReadReply(&reply, ReplyTimeout());
    if (!r) {
      Fail() << side->label << ": HELLO 3: " << r.message();
      return false;
    }
    bool ok = reply.compare(0, 4, "%7\r\n") == 0 ||
              (script_.requirepass && reply.compare(0, 8, "-NOAUTH ") == 0) ||
              reply == "-ERR max number of clients reached\r\n";
    if (!ok) Fail() << side->label << ": HELLO 3 was refused: " << Quote(reply);
    return ok;
  }

  // Runs one setup command on a side and requires +OK.
  bool Setup(Side* side, RespConnection& c, const std::vector<std::string>& args) {
    std::string reply;
    auto sent = c.SendCommand(args);
    auto got = sent ? c.ReadReply(&reply, ReplyTimeout()) : sent;
    if (!got || reply != "+OK\r\n") {
      Fail() << side->label << ": setup command " << args[0]
             << " failed: " << (got ? Quote(reply) : std::string(got.message()));
      return false;
    }
    return true;
  }

  bool PrepareServers() {
    for (Side* side : Sides()) {
      if (script_.requirepass) {
        // The script's own connections must start unauthenticated, so flush from another.
        RespConnection admin;
        if (auto r = admin.Connect(side->server->port(), ReplyTimeout()); !r) {
          Fail() << side->label << ": " << r.message();
          return false;
        }
        if (!Setup(side, admin, {"AUTH", kScriptPassword}) || !Setup(side, admin, {"FLUSHALL"})) {
          return false;
        }
        if (!Connect(side, "default")) return false;
      } else {
        if (!Connect(side, "default")) return false;
        RespConnection& c = side->clients["default"];
        if (!Setup(side, c, {"FLUSHALL"}) || !Setup(side, c, {"SELECT", "0"})) return false;
      }
    }
    return true;
  }

  bool RunStep(const ScriptStep& step) {
    switch (step.kind) {
      case StepKind::kSleep:
        std::this_thread::sleep_for(milliseconds(step.sleep_ms));
        return true;
      case StepKind::kReconnect:
        for (Side* side : Sides()) {
          if (!Connect(side, current_)) return false;
        }
        return true;
      case StepKind::kClient:
        current_ = step.client;
        for (Side* side : Sides()) {
          if (!side->clients[current_].connected() && !Connect(side, current_)) return false;
        }
        return true;
      case StepKind::kRaw:
        return RunRaw(step);
      case StepKind::kWait:
        return RunWait(step);
      case StepKind::kRead:
        if (pending_[current_] > 0) --pending_[current_];
        return ReadAndCompare(step);
      case StepKind::kCommand:
        return RunCommand(step);
    }
    return false;
  }

  bool RunCommand(const ScriptStep& step) {
    std::string wire = EncodeCommand(step.args);
    for (Side* side : Sides()) {
      if (auto r = side->clients[current_].Send(wire); !r) {
        Fail() << Where(step) << "\n  " << side->label << ": " << r.message();
        return false;
      }
    }
    if (step.compare == CompareMode::kNoReply) {
      ++pending_[current_];
      return true;
    }
    return ReadAndCompare(step);
  }

  // Reads one reply on the current connection of each side and compares them.
  bool ReadAndCompare(const ScriptStep& step) {
    std::string replies[2];
    struct Log {
      const std::string* reply;
      ~Log() { LogReply(*reply); }
    } log{&replies[0]};
    int i = 0;
    for (Side* side : Sides()) {
      auto r = side->clients[current_].ReadReply(&replies[i++], ReplyTimeout());
      if (!r) {
        Fail() << Where(step) << "\n  " << side->label << ": " << r.message();
        return false;
      }
    }
    std::string why = step.compare == CompareMode::kDelta
                          ? CompareDelta(step, replies)
                          : CompareReplies(step, replies[0], replies[1]);
    if (why.empty() && step.compare == CompareMode::kScanSet) {
      return CompareScan(step, replies[0], replies[1]);
    }
    if (!why.empty()) {
      Fail() << Where(step) << "\n  compared as " << CompareModeName(step.compare) << ": " << why
             << "\n  keel : " << Quote(replies[0]) << "\n  redis: " << Quote(replies[1]);
    }
    return true;
  }

  // !delta: each side's change of the field since the previous !delta of it must agree.
  std::string CompareDelta(const ScriptStep& step, const std::string (&replies)[2]) {
    int64_t now[2];
    for (int i = 0; i < 2; ++i) {
      std::optional<int64_t> v = InfoField(replies[i], step.field);
      if (!v) return "no integer field '" + step.field + "' in the reply";
      now[i] = *v;
    }
    auto [it, first] = last_delta_.try_emplace(step.field, std::array<int64_t, 2>{now[0], now[1]});
    if (first) return "";
    int64_t keel = now[0] - it->second[0], redis = now[1] - it->second[1];
    it->second = {now[0], now[1]};
    if (keel == redis) return "";
    return step.field + " moved by " + std::to_string(keel) + " on keel, " + std::to_string(redis) +
           " on redis";
  }

  // The integer value of `field` in an INFO reply ("field:value" lines), if any.
  static std::optional<int64_t> InfoField(const std::string& reply, const std::string& field) {
    std::string needle = "\n" + field + ":";
    size_t at = reply.find(needle);
    if (at == std::string::npos) return std::nullopt;
    at += needle.size();
    size_t end = reply.find_first_of("\r\n", at);
    try {
      return std::stoll(reply.substr(at, end - at));
    } catch (...) {
      return std::nullopt;
    }
  }

  // !scan-set: both first pages are in; iterate each side to cursor 0 and compare the sets.
  bool CompareScan(const ScriptStep& step, const std::string& keel_first,
                   const std::string& redis_first) {
    if (!keel_first.empty() && keel_first[0] == '-') return true;  // same error on both sides
    std::string name = step.args[0];
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool pairs = name == "hscan" || name == "zscan";
    std::set<std::string> sets[2];
    const std::string* first[2] = {&keel_first, &redis_first};
    int i = 0;
    for (Side* side : Sides()) {
      std::string reply = *first[i];
      std::vector<std::string> args = step.args;
      for (int page = 0;; ++page) {
        std::string cursor;
        if (!AddScanPage(reply, pairs, &cursor, &sets[i])) {
          Fail() << Where(step) << "\n  " << side->label << ": not a SCAN reply: " << Quote(reply);
          return false;
        }
        if (cursor == "0") break;
        if (page > 100000) {
          Fail() << Where(step) << "\n  " << side->label << ": SCAN never returned cursor 0";
          return false;
        }
        args[ScanCursorIndex(args)] = cursor;
        RespConnection& c = side->clients[current_];
        auto r = c.SendCommand(args);
        if (r) r = c.ReadReply(&reply, ReplyTimeout());
        if (!r) {
          Fail() << Where(step) << "\n  " << side->label << ": " << r.message();
          return false;
        }
      }
      ++i;
    }
    if (sets[0] != sets[1]) {
      auto show = [](const std::set<std::string>& s) {
        std::string out;
        for (const auto& e : s) out += Quote(e) + " ";
        return out;
      };
      Fail() << Where(step) << "\n  compared as " << CompareModeName(step.compare)
             << ": sets differ\n  keel : " << show(sets[0]) << "\n  redis: " << show(sets[1]);
    }
    return true;
  }

  // !wait: repeats the command on each side until the reply contains the text.
  bool RunWait(const ScriptStep& step) {
    auto deadline = std::chrono::steady_clock::now() + ReplyTimeout();
    for (Side* side : Sides()) {
      RespConnection& c = side->clients[current_];
      std::string reply;
      for (;;) {
        auto r = c.SendCommand(step.args);
        if (r) r = c.ReadReply(&reply, ReplyTimeout());
        if (!r) {
          Fail() << Where(step) << "\n  " << side->label << ": " << r.message();
          return false;
        }
        if (reply.find(step.wait_for) != std::string::npos) break;
        if (std::chrono::steady_clock::now() > deadline) {
          Fail() << Where(step) << "\n  " << side->label << ": still no " << Quote(step.wait_for)
                 << " after " << ReplyTimeout().count() << " ms; last reply " << Quote(reply);
          return false;
        }
        std::this_thread::sleep_for(milliseconds(5));
      }
    }
    return true;
  }

  // After the last step: what connections with !noreply steps received since must agree.
  void DrainPending() {
    for (const auto& [name, count] : pending_) {
      if (count == 0) continue;
      auto drain = [&](Side* side) {
        return side->clients[name].ReadUntilClose(RawIdleTimeout(), ReplyTimeout());
      };
      auto keel_future = std::async(std::launch::async, drain, &pair_->keel);
      RespConnection::Drained redis = drain(&pair_->redis);
      RespConnection::Drained keel = keel_future.get();
      if (keel.bytes != redis.bytes) {
        Fail() << file_ << ": end of script, connection " << name
               << ": replies still pending after the last step differ"
               << "\n  keel : " << Quote(keel.bytes) << "\n  redis: " << Quote(redis.bytes);
      }
    }
  }

  bool RunRaw(const ScriptStep& step) {
    for (Side* side : Sides()) {
      // A send error is not a failure by itself: the server may close mid-way through a large
      // send, and what it replied before closing is compared below.
      (void)side->clients[current_].Send(step.raw);
    }
    // Read both sides at once so the quiet-period waits overlap.
    auto drain = [&](Side* side) {
      return side->clients[current_].ReadUntilClose(RawIdleTimeout(), ReplyTimeout());
    };
    auto keel_future = std::async(std::launch::async, drain, &pair_->keel);
    RespConnection::Drained redis = drain(&pair_->redis);
    RespConnection::Drained keel = keel_future.get();
    // A side that has so far answered only part of what the other did may just be slow (a loaded
    // machine, a sanitizer build): it gets up to the reply timeout to catch up before the two
    // are compared. Only a mismatch pays this wait.
    auto catch_up = [&](Side* side, RespConnection::Drained& shorter,
                        const RespConnection::Drained& longer) {
      auto deadline = std::chrono::steady_clock::now() + ReplyTimeout();
      while (!shorter.closed && shorter.bytes.size() < longer.bytes.size() &&
             longer.bytes.compare(0, shorter.bytes.size(), shorter.bytes) == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        RespConnection::Drained more = drain(side);
        shorter.bytes += more.bytes;
        shorter.closed = more.closed;
      }
    };
    catch_up(&pair_->keel, keel, redis);
    catch_up(&pair_->redis, redis, keel);
    LogReply(keel.bytes);
    if (keel.bytes != redis.bytes || keel.closed != redis.closed) {
      auto describe = [](const RespConnection::Drained& d) {
        return Quote(d.bytes) + (d.closed ? " then closed" : " and kept open");
      };
      Fail() << Where(step) << "\n  sent " << step.raw.size()
             << " raw bytes: " << Quote(step.raw.substr(0, 200)) << "\n  keel : " << describe(keel)
             << "\n  redis: " << describe(redis);
    }
    for (Side* side : Sides()) {
      if (!Connect(side, current_)) return false;
    }
    return true;
  }

  std::string file_;
  const Script& script_;
  ServerPair* pair_;
  std::string current_;
  std::map<std::string, std::array<int64_t, 2>> last_delta_;  // !delta: field -> [keel, redis]
  std::map<std::string, int> pending_;  // !noreply steps per connection not yet !read
  std::vector<std::string> failures_;
};

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  // KEEL_DIFF_CASES_DIR in the environment runs another set of scripts (e.g. while writing one).
  const char* dir = std::getenv("KEEL_DIFF_CASES_DIR");
  if (dir == nullptr || *dir == '\0') dir = KEEL_DIFF_CASES_DIR;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class Differential : public ::testing::TestWithParam<std::string> {};

TEST_P(Differential, RepliesMatchRedis) {
  const std::string& path = GetParam();
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  Script script;
  std::string error;
  ASSERT_TRUE(ParseScript(text.str(), &script, &error)) << path << ": " << error;
  ServerPair* pair = GetPair(script.requirepass);
  ASSERT_TRUE(pair->started) << pair->start_error;
  std::string name = std::filesystem::path(path).filename().string();
  if (Protocol() == 3 && !script.resp2_only.empty()) {
    GTEST_SKIP() << name << " runs in RESP2 only: " << script.resp2_only;
  }
  if (Protocol() == 2 && script.resp3_only) GTEST_SKIP() << name << " runs in RESP3 only";
  std::vector<std::string> failures = ScriptRunner(name, script, pair).Run();
  if (!script.skip_until.empty() && pair->keel_is_keel) {
    // A known difference: skipped while it fails, a failure once it passes.
    if (failures.empty()) {
      ADD_FAILURE() << name << " passes now: remove its !skip-until " << script.skip_until;
    } else {
      GTEST_SKIP() << name << ": known difference until " << script.skip_until << " ("
                   << failures.size() << " mismatches; first: " << failures[0] << ")";
    }
    return;
  }
  for (const std::string& f : failures) ADD_FAILURE() << f;
}

INSTANTIATE_TEST_SUITE_P(Cases, Differential, ::testing::ValuesIn(CaseFiles()), TestName);

}  // namespace
}  // namespace keel::test
