// Differential tests: every script under cases/ runs against keel-server and redis-server
// (Debian's 7.0, the oracle) and the raw reply bytes must agree. See script.h for the format.
//
// Each side runs once per test binary, on its own free port; a second pair started with
// --requirepass serves scripts that ask for it. Before each script: fresh connections, FLUSHALL,
// SELECT 0. Binaries come from KEEL_SERVER_BIN and REDIS_SERVER_BIN; pointing KEEL_SERVER_BIN at
// redis-server checks the harness and the scripts themselves.

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
};

std::unique_ptr<ServerPair> g_pairs[2];  // [0] plain, [1] --requirepass

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

// Returns an empty string when the replies agree under `mode`, else why they do not.
std::string CompareReplies(const ScriptStep& step, const std::string& a, const std::string& b) {
  if (step.compare == CompareMode::kExact) return a == b ? "" : "bytes differ";
  RespValue va, vb;
  if (!ParseReply(a, &va) || !ParseReply(b, &vb)) return "unparsable reply";
  switch (step.compare) {
    case CompareMode::kType:
      return ReplyType(va) == ReplyType(vb)
                 ? ""
                 : "types differ: " + ReplyType(va) + " vs " + ReplyType(vb);
    case CompareMode::kShape:
      return ReplyShape(va) == ReplyShape(vb)
                 ? ""
                 : "shapes differ: " + ReplyShape(va) + " vs " + ReplyShape(vb);
    case CompareMode::kUnordered: {
      if (ReplyType(va) != ReplyType(vb)) return "types differ";
      if (va.elements.empty() && vb.elements.empty()) return a == b ? "" : "bytes differ";
      std::vector<std::string> ea, eb;
      for (auto& e : va.elements) ea.push_back(e.raw);
      for (auto& e : vb.elements) eb.push_back(e.raw);
      std::sort(ea.begin(), ea.end());
      std::sort(eb.begin(), eb.end());
      return ea == eb ? "" : "element multisets differ";
    }
    case CompareMode::kFieldsIgnore: {
      if (va.type != '*' || vb.type != '*') return a == b ? "" : "not field arrays";
      if (va.elements.size() != vb.elements.size()) return "field counts differ";
      for (size_t i = 0; i + 1 < va.elements.size(); i += 2) {
        const RespValue& key = va.elements[i];
        if (key.raw != vb.elements[i].raw) return "field names differ at " + std::to_string(i);
        std::string name = key.text;
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        const RespValue& x = va.elements[i + 1];
        const RespValue& y = vb.elements[i + 1];
        if (step.ignored_fields.count(name) != 0) {
          if (ReplyShape(x) != ReplyShape(y)) return "field '" + name + "' shapes differ";
        } else if (x.raw != y.raw) {
          return "field '" + name + "' differs";
        }
      }
      return "";
    }
    default:
      return a == b ? "" : "bytes differ";
  }
}

class ScriptRunner {
 public:
  ScriptRunner(std::string file, const Script& script, ServerPair* pair)
      : file_(std::move(file)), script_(script), pair_(pair) {}

  void Run() {
    for (Side* side : Sides()) side->clients.clear();
    if (!PrepareServers()) return;
    current_ = "default";
    for (const ScriptStep& step : script_.steps) {
      if (!RunStep(step)) return;  // a lost reply desynchronizes everything after it
    }
  }

 private:
  std::vector<Side*> Sides() { return {&pair_->keel, &pair_->redis}; }

  std::string Where(const ScriptStep& step) const {
    return file_ + ":" + std::to_string(step.line) + ": " + step.source;
  }

  bool Connect(Side* side, const std::string& name) {
    RespConnection& c = side->clients[name];
    auto r = c.Connect(side->server->port(), ReplyTimeout());
    if (!r) ADD_FAILURE() << side->label << ": " << r.message();
    return static_cast<bool>(r);
  }

  // Runs one setup command on a side and requires +OK.
  bool Setup(Side* side, RespConnection& c, const std::vector<std::string>& args) {
    std::string reply;
    auto sent = c.SendCommand(args);
    auto got = sent ? c.ReadReply(&reply, ReplyTimeout()) : sent;
    if (!got || reply != "+OK\r\n") {
      ADD_FAILURE() << side->label << ": setup command " << args[0]
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
          ADD_FAILURE() << side->label << ": " << r.message();
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
      case StepKind::kCommand:
        return RunCommand(step);
    }
    return false;
  }

  bool RunCommand(const ScriptStep& step) {
    std::string wire = EncodeCommand(step.args);
    for (Side* side : Sides()) {
      if (auto r = side->clients[current_].Send(wire); !r) {
        ADD_FAILURE() << Where(step) << "\n  " << side->label << ": " << r.message();
        return false;
      }
    }
    if (step.compare == CompareMode::kNoReply) return true;
    std::string replies[2];
    int i = 0;
    for (Side* side : Sides()) {
      auto r = side->clients[current_].ReadReply(&replies[i++], ReplyTimeout());
      if (!r) {
        ADD_FAILURE() << Where(step) << "\n  " << side->label << ": " << r.message();
        return false;
      }
    }
    std::string why = step.compare == CompareMode::kDelta
                          ? CompareDelta(step, replies)
                          : CompareReplies(step, replies[0], replies[1]);
    if (!why.empty()) {
      ADD_FAILURE() << Where(step) << "\n  compared as " << CompareModeName(step.compare) << ": "
                    << why << "\n  keel : " << Quote(replies[0])
                    << "\n  redis: " << Quote(replies[1]);
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
    if (keel.bytes != redis.bytes || keel.closed != redis.closed) {
      auto describe = [](const RespConnection::Drained& d) {
        return Quote(d.bytes) + (d.closed ? " then closed" : " and kept open");
      };
      ADD_FAILURE() << Where(step) << "\n  sent " << step.raw.size()
                    << " raw bytes: " << Quote(step.raw.substr(0, 200))
                    << "\n  keel : " << describe(keel) << "\n  redis: " << describe(redis);
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
  ScriptRunner(name, script, pair).Run();
}

INSTANTIATE_TEST_SUITE_P(Cases, Differential, ::testing::ValuesIn(CaseFiles()), TestName);

}  // namespace
}  // namespace keel::test
