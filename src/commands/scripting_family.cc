// Lua scripting (Redis 7.0's EVAL family): EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT
// LOAD/EXISTS/FLUSH/KILL/HELP, on Debian's Lua 5.1 with lua-cjson and LuaBitOp linked in.
//
// Design (docs/architecture.md, "Scripting"):
// * The script cache (SHA1 -> body and shebang flags) is one process-wide map under a mutex.
//   Each io thread has its own lua_State, which compiles a cached script the first time that
//   thread runs it (the function is kept in the state's registry under "f_<sha>"). SCRIPT FLUSH
//   empties the map and bumps a generation; a thread whose state is older closes it and builds
//   a new one before its next script.
// * Atomicity: a script takes all its shard locks before it starts and releases them after
//   its reply (the locks are re-entrant per thread, as for EXEC), so no client on any thread
//   sees its middle. Which locks: the shards of its declared keys (KEYS, in the caller's
//   database) when its source is proven to touch nothing else (ScriptStaysInDeclaredKeys,
//   keel/commands/script_keys.h, decided once per script when it is cached); every shard of
//   every database otherwise. redis.call runs each command through the dispatcher on a
//   per-thread script client (`in_exec` set: blocking commands act as their non-blocking form,
//   the command's own locking is a no-op); under declared locks it first checks that the
//   command's shards are held (a second line of defence: the proof says they always are).
//   Scripts on distinct shards run at the same time on different io threads.
// * Effects replication: the commands a script ran reach the AOF as themselves, wrapped as one
//   MULTI ... EXEC (aof::BeginExec/EndExec around the script); EVAL itself is never logged.
//
// Lua errors use longjmp (the C build of Lua 5.1): a C function called from Lua never raises
// while a C++ object with a destructor lives in its frame. The work is done in helpers that
// return, and lua_error is called only by the thin entry points.
// Lua 5.1's headers have no extern "C" of their own (lua.hpp adds it for the three core ones).
extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
// These two need lua.h first.
// clang-format off
#include <lua-bitop.h>
#include <lua-cjson.h>
// clang-format on
}

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "command_meta_table.h"
#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/script_keys.h"
#include "keel/commands/scripting.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/name_cache.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "lua_libs.h"
#include "scripting_internal.h"
#include "sha1.h"

namespace keel {

namespace {

// ---- shebang flags ----

enum ScriptFlag : uint32_t {
  kScriptNoWrites = 1u << 0,
  kScriptAllowOom = 1u << 1,
  kScriptAllowStale = 1u << 2,
  kScriptNoCluster = 1u << 3,
  kScriptAllowCrossSlot = 1u << 4,
  kScriptHasShebang = 1u << 31,
};

}  // namespace

// Parses a "#!lua flags=a,b" first line. Returns an error text (without "ERR ") or empty.
std::string scripting_internal::ParseShebang(std::string_view body, uint32_t* flags) {
  *flags = 0;
  if (body.substr(0, 2) != "#!") return {};
  *flags = kScriptHasShebang;
  std::string_view line = body.substr(0, body.find('\n'));
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) parts.push_back(line.substr(i, j - i));
    i = j;
  }
  if (parts.empty() || parts[0] != "#!lua") {
    return "Unexpected engine in script shebang: " + std::string(parts.empty() ? line : parts[0]);
  }
  for (size_t p = 1; p < parts.size(); ++p) {
    std::string_view opt = parts[p];
    if (opt.substr(0, 6) != "flags=") {
      return "Unknown lua shebang option: " + std::string(opt);
    }
    std::string_view list = opt.substr(6);
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view f = list.substr(0, comma);
      if (f == "no-writes") {
        *flags |= kScriptNoWrites;
      } else if (f == "allow-oom") {
        *flags |= kScriptAllowOom;
      } else if (f == "allow-stale") {
        *flags |= kScriptAllowStale;
      } else if (f == "no-cluster") {
        *flags |= kScriptNoCluster;
      } else if (f == "allow-cross-slot-keys") {
        *flags |= kScriptAllowCrossSlot;
      } else if (!f.empty()) {
        return "Unexpected flag in script shebang: " + std::string(f);
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(comma + 1);
    }
  }
  return {};
}

namespace {

using scripting_internal::ParseShebang;

// ---- the script cache (process-wide) ----

struct CachedScript {
  std::string body;
  uint32_t flags = 0;
  // Runs holding only its declared keys' shards (ScriptStaysInDeclaredKeys), else every shard.
  bool declared_only = false;
};

struct ScriptCache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const CachedScript>> scripts;  // GUARDED_BY(mu)
  std::atomic<uint64_t> generation{0};  // bumped by SCRIPT FLUSH
};

ScriptCache& Cache() {
  static ScriptCache cache;
  return cache;
}

std::shared_ptr<const CachedScript> FindScript(const std::string& sha) {
  ScriptCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.scripts.find(sha);
  return it == c.scripts.end() ? nullptr : it->second;
}

// ---- the running script (per thread) ----

constexpr int kReplAof = 1;
constexpr int kReplReplica = 2;
constexpr int kReplAll = kReplAof | kReplReplica;

struct RunState {
  ServerState* server = nullptr;
  Client* caller = nullptr;
  Client* script_client = nullptr;
  const std::string* sha = nullptr;
  bool read_only = false;
  bool declared_only = false;  // holds only the declared keys' shards, in database `db`
  int db = 0;
  int resp = 2;
  int repl = kReplAll;
  // maxmemory (Redis 7.0's rule): memory was over the limit when the script started, and the
  // script may not ignore it (no allow-oom flag); then a denyoom command is refused until the
  // script has run a write command (it cannot be stopped half-way after that).
  bool oom = false;
  bool write_dirty = false;
};

thread_local RunState* t_run = nullptr;

// The scripts running now, one at most per io thread (scripts on distinct shards run at the
// same time): their start times (for -BUSY, through scripting::g_running_since_us, the oldest)
// and whether each has written (then SCRIPT KILL answers -UNKILLABLE). SCRIPT KILL bumps the
// kill epoch; a script whose start epoch is older stops at its next hook call. The registry's
// mutex is a leaf lock, taken twice per script (start, end).
struct RunningScript {
  int64_t start_us = 0;
  bool is_function = false;  // FCALL (FUNCTION KILL stops it), else EVAL (SCRIPT KILL)
  std::atomic<bool> wrote{false};
};

struct RunningScripts {
  std::mutex mu;
  std::vector<RunningScript*> running;  // GUARDED_BY(mu)
  std::atomic<uint64_t> kill_epoch{0};
  // Set once, by SHUTDOWN NOSAVE during a busy script: the killed scripts' writes are dropped
  // from the AOF (scripting::KillForShutdown).
  std::atomic<bool> shutting_down{false};

  // Stores the oldest start in g_running_since_us (0 when none runs) and its kind in
  // g_running_is_function (the -BUSY text names its KILL). REQUIRES: mu held.
  void PublishOldest() {
    int64_t oldest = 0;
    bool is_function = false;
    for (RunningScript* r : running) {
      if (oldest == 0 || r->start_us < oldest) {
        oldest = r->start_us;
        is_function = r->is_function;
      }
    }
    scripting::g_running_is_function.store(is_function, std::memory_order_relaxed);
    scripting::g_running_since_us.store(oldest, std::memory_order_relaxed);
  }
};

RunningScripts& Running() {
  static RunningScripts r;
  return r;
}

thread_local RunningScript t_running;
thread_local uint64_t t_kill_epoch = 0;  // the kill epoch when this thread's script started

// Registers this thread's script as running, from now until the object dies.
class RunningScope {
 public:
  explicit RunningScope(bool is_function) {
    RunningScripts& r = Running();
    std::lock_guard<std::mutex> lock(r.mu);
    t_running.start_us = NowMonotonicUs();
    t_running.is_function = is_function;
    t_running.wrote.store(false, std::memory_order_relaxed);
    t_kill_epoch = r.kill_epoch.load(std::memory_order_relaxed);
    r.running.push_back(&t_running);
    r.PublishOldest();
  }
  ~RunningScope() {
    RunningScripts& r = Running();
    std::lock_guard<std::mutex> lock(r.mu);
    std::erase(r.running, &t_running);
    r.PublishOldest();
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;
};

// How often (in Lua VM instructions) a running script looks at the kill epoch.
constexpr int kKillCheckInstructions = 100000;

// ---- Lua state (per thread) ----

constexpr const char* kChunkName = "@user_script";

// A table with one string field: {err=...} or {ok=...}.
void PushFieldTable(lua_State* L, const char* field, std::string_view value) {
  lua_newtable(L);
  lua_pushstring(L, field);
  lua_pushlstring(L, value.data(), value.size());
  lua_rawset(L, -3);
}

// Reading a global that does not exist, or writing any global, is an error (Redis 7.0's
// protection of the globals table).
int GlobalsIndex(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name != nullptr ? name : "?");
}

int GlobalsNewIndex(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

// The error handler of every script call: turns any error into a table {err=..., source=...,
// line=...} naming where in the script it happened (a C function's error, such as error() or
// redis.call, is placed at its Lua caller).
int ErrorHandler(lua_State* L) {
  lua_Debug ar;
  int level = 1;
  bool found = false;
  while (lua_getstack(L, level, &ar)) {
    lua_getinfo(L, "Sl", &ar);
    if (std::strcmp(ar.what, "C") != 0) {
      found = true;
      break;
    }
    ++level;
  }
  if (!lua_istable(L, 1)) {
    const char* msg = lua_tostring(L, 1);
    lua_newtable(L);
    lua_pushstring(L, "err");
    lua_pushfstring(L, "ERR %s", msg != nullptr ? msg : "unknown error");
    lua_rawset(L, -3);
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  if (found) {
    lua_pushstring(L, "source");
    lua_pushstring(L, ar.source);
    lua_rawset(L, 1);
    lua_pushstring(L, "line");
    lua_pushinteger(L, ar.currentline);
    lua_rawset(L, 1);
  }
  return 1;
}

// ---- RESP reply -> Lua value ----

// Pushes the Lua form of the next reply `in` holds (Redis's conversion rules) and consumes it.
void PushReply(lua_State* L, ReplyReader& in) {
  lua_checkstack(L, 8);
  ReplyReader::Item item;
  if (!in.Next(&item)) {
    lua_pushboolean(L, 0);
    return;
  }
  switch (item.type) {
    case '+':
      PushFieldTable(L, "ok", item.line);
      return;
    case '-':
      PushFieldTable(L, "err", item.line);
      return;
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(ParseInt64(item.line).value_or(0)));
      return;
    case '$':
      if (item.count < 0) {
        lua_pushboolean(L, 0);
      } else {
        lua_pushlstring(L, item.data.data(), item.data.size());
      }
      return;
    case '=': {
      // "txt:text": {verbatim_string={format="txt", string="text"}}
      std::string_view format = item.data.substr(0, 3);
      std::string_view text = item.data.size() > 4 ? item.data.substr(4) : std::string_view();
      lua_newtable(L);
      lua_pushstring(L, "verbatim_string");
      lua_newtable(L);
      lua_pushstring(L, "format");
      lua_pushlstring(L, format.data(), format.size());
      lua_rawset(L, -3);
      lua_pushstring(L, "string");
      lua_pushlstring(L, text.data(), text.size());
      lua_rawset(L, -3);
      lua_rawset(L, -3);
      return;
    }
    case '*':
    case '>':
      if (item.count < 0) {
        lua_pushboolean(L, 0);
        return;
      }
      lua_newtable(L);
      for (int64_t i = 0; i < item.count; ++i) {
        PushReply(L, in);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
    case '_':
      lua_pushnil(L);
      return;
    case '#':
      lua_pushboolean(L, item.line == "t");
      return;
    case ',': {
      lua_newtable(L);
      lua_pushstring(L, "double");
      lua_pushnumber(L, std::strtod(std::string(item.line).c_str(), nullptr));
      lua_rawset(L, -3);
      return;
    }
    case '(':
      PushFieldTable(L, "big_number", item.line);
      return;
    case '%':
    case '~':
    case '|': {
      lua_newtable(L);
      lua_pushstring(L, item.type == '~' ? "set" : "map");
      lua_newtable(L);
      for (int64_t i = 0; i < item.count; ++i) {
        PushReply(L, in);
        if (item.type == '~') {
          lua_pushboolean(L, 1);
        } else {
          PushReply(L, in);
        }
        if (lua_isnil(L, -2)) {
          lua_pop(L, 2);
        } else {
          lua_rawset(L, -3);
        }
      }
      lua_rawset(L, -3);
      return;
    }
    default:
      lua_pushboolean(L, 0);
  }
}

// ---- Lua value -> reply ----

// The string field `name` of the table at `idx`, if it is a string.
std::optional<std::string_view> StringField(lua_State* L, int idx, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, idx);
  std::optional<std::string_view> out;
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out = std::string_view(s, len);  // the table keeps the string alive
  }
  lua_pop(L, 1);
  return out;
}

void WriteLuaValue(lua_State* L, int idx, ReplyBuilder& reply, int depth) {
  if (idx < 0) idx = lua_gettop(L) + idx + 1;
  lua_checkstack(L, 4);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      reply.Bulk(std::string_view(s, len));
      return;
    }
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) {
        reply.Integer(1);
      } else {
        reply.NullBulk();
      }
      return;
    case LUA_TNUMBER:
      reply.Integer(static_cast<int64_t>(lua_tonumber(L, idx)));
      return;
    case LUA_TTABLE: {
      if (depth > 1000) {
        reply.Error("ERR reached lua stack limit");
        return;
      }
      if (auto err = StringField(L, idx, "err")) {
        reply.Error(*err);
        return;
      }
      if (auto ok = StringField(L, idx, "ok")) {
        reply.SimpleString(*ok);
        return;
      }
      lua_pushstring(L, "double");
      lua_rawget(L, idx);
      if (lua_type(L, -1) == LUA_TNUMBER) {
        reply.Double(lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
      }
      lua_pop(L, 1);
      // The length first (up to the first nil), so the header is written once: an error
      // reply inside the array keeps its offset in the output.
      int n = 0;
      for (;; ++n) {
        lua_rawgeti(L, idx, n + 1);
        bool end = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (end) break;
      }
      reply.ArrayHeader(static_cast<size_t>(n));
      for (int j = 1; j <= n; ++j) {
        lua_rawgeti(L, idx, j);
        WriteLuaValue(L, -1, reply, depth + 1);
        lua_pop(L, 1);
      }
      return;
    }
    default:
      reply.NullBulk();
  }
}

// The reply of a script that failed: the error table ErrorHandler built.
void WriteScriptError(lua_State* L, const std::string& sha, ReplyBuilder& reply) {
  if (!lua_istable(L, -1)) {
    const char* msg = lua_tostring(L, -1);
    reply.Error(std::string("ERR ") + (msg != nullptr ? msg : "unknown error"));
    return;
  }
  int idx = lua_gettop(L);
  std::string msg(StringField(L, idx, "err").value_or("ERR unknown error"));
  std::optional<std::string_view> source = StringField(L, idx, "source");
  lua_pushstring(L, "line");
  lua_rawget(L, idx);
  bool has_line = lua_type(L, -1) == LUA_TNUMBER;
  int64_t line = has_line ? static_cast<int64_t>(lua_tonumber(L, -1)) : 0;
  lua_pop(L, 1);
  if (source && has_line) {
    msg += " script: " + sha + ", on " + std::string(*source) + ":" + std::to_string(line) + ".";
  }
  reply.Error(msg);
}

// ---- redis.* ----

// Raises `msg` as the error, with no "user_script:N:" prefix (the error handler adds "ERR "
// and the position), as Redis's redis.* functions raise their argument errors.
int RaiseRaw(lua_State* L, const char* msg) {
  lua_pushstring(L, msg);
  return lua_error(L);
}

bool ArityOk(int arity, size_t argc) {
  return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// What redis.call needs to know of a command name, all of it fixed once the server runs (the
// tables and rename-command are set up at start-up): the command as scripts name it
// (FindCommandMeta) and whether it runs, and the command as the dispatcher will resolve it
// (LookupCommand, which knows renames) with its registry entry, for HoldsShardsOf.
struct ScriptName {
  const CommandMeta* meta = nullptr;
  bool runs = false;  // registered, or a container with registered subcommands
  const CommandMeta* dispatched = nullptr;
  const CommandRegistry::Entry* dispatched_entry = nullptr;
};

ScriptName DescribeScriptName(std::string_view name) {
  const CommandRegistry& registry = GlobalCommandRegistry();
  ScriptName d;
  d.meta = FindCommandMeta(name);
  d.runs = d.meta != nullptr &&
           (registry.Find(d.meta) != nullptr || registry.HasRegisteredSubcommands(d.meta));
  d.dispatched = LookupCommand(name);
  d.dispatched_entry = d.dispatched != nullptr ? registry.Find(d.dispatched) : nullptr;
  return d;
}

// DescribeScriptName, remembered per thread (NameCache) for the names byte for byte as the
// script wrote them (a script calls a handful of commands over and over): two hash lookups and
// a rename check less per redis.call.
const ScriptName& LookupScriptName(std::string_view name) {
  thread_local NameCache<ScriptName> cache;
  if (const ScriptName* hit = cache.Find(name)) return *hit;
  thread_local ScriptName described;
  described = DescribeScriptName(name);
  cache.Put(name, described);
  return described;
}

// Under declared locks: does this thread hold every shard the command will need, by the rules
// EXEC uses (Dispatcher::BatchLockSet)? The command is resolved as the dispatcher will resolve
// it. ScriptStaysInDeclaredKeys proved that it does; this keeps a flaw in that proof from
// becoming a torn script (the command fails instead of running unlocked).
bool HoldsShardsOf(const RunState& run, const ScriptName& name,
                   std::span<const std::string_view> args) {
  const CommandMeta* meta = name.dispatched;
  if (meta == nullptr) return true;  // fails in the dispatcher, running nothing
  const CommandRegistry::Entry* entry = name.dispatched_entry;
  if (entry == nullptr) return !MetaHasSubcommands(*meta);
  if (entry->lock_mode == LockMode::kNone) return true;
  if (entry->lock_mode != LockMode::kKeys) return false;
  if (run.script_client->db.load(std::memory_order_relaxed) != run.db) return false;
  thread_local std::vector<int> positions;
  positions.clear();
  GetKeyPositions(*meta, args, &positions);
  size_t base = static_cast<size_t>(run.db) * kShards;
  for (int p : positions) {
    if (!ShardGuard::HeldByThisThread(base + ShardOf(args[static_cast<size_t>(p)]))) return false;
  }
  return true;
}

// A Lua number as redis.call passes it to the command: "%.17g", as Redis formats it. An integral
// value below 1e15 in magnitude (what scripts pass: counts, TTLs, increments) has no exponent and
// no fraction in that format, so a plain integer conversion gives the same digits, without
// printf's floating-point path (8% of the CPU of a ten-command script).
size_t FormatCallNumber(double d, char* buf, size_t cap) {
  if (d == std::trunc(d) && std::fabs(d) < 1e15 && !(d == 0 && std::signbit(d))) {
    return static_cast<size_t>(std::to_chars(buf, buf + cap, static_cast<int64_t>(d)).ptr - buf);
  }
  return static_cast<size_t>(std::snprintf(buf, cap, "%.17g", d));
}

// Runs redis.call / redis.pcall's command. Pushes its result, or an error table and returns
// true (the caller raises it for redis.call). No lua_error in here (C++ objects live).
bool DoRedisCall(lua_State* L) {
  RunState& run = *t_run;
  int argc = lua_gettop(L);
  if (argc == 0) {
    PushFieldTable(L, "err", errors::kScriptNoArgs);
    return true;
  }
  thread_local std::vector<std::string> argv;
  thread_local std::vector<std::string_view> views;
  argv.resize(static_cast<size_t>(argc));
  views.clear();
  for (int j = 1; j <= argc; ++j) {
    std::string& a = argv[static_cast<size_t>(j - 1)];
    if (lua_type(L, j) == LUA_TNUMBER) {
      char buf[64];
      a.assign(buf, FormatCallNumber(static_cast<double>(lua_tonumber(L, j)), buf, sizeof(buf)));
    } else if (lua_type(L, j) == LUA_TSTRING) {
      size_t len = 0;
      const char* s = lua_tolstring(L, j, &len);
      a.assign(s, len);
    } else {
      PushFieldTable(L, "err", errors::kScriptArgType);
      return true;
    }
    views.emplace_back(a);
  }
  const ScriptName& name = LookupScriptName(views[0]);
  const CommandMeta* meta = name.meta;
  if (!name.runs) {
    PushFieldTable(L, "err", errors::kScriptUnknownCommand);
    return true;
  }
  if (!ArityOk(MetaArity(*meta), views.size())) {
    PushFieldTable(L, "err", errors::kScriptWrongArity);
    return true;
  }
  if (MetaHasSubcommands(*meta) && views.size() >= 2) {
    if (const CommandMeta* sub = FindSubcommandMeta(*meta, views[1])) meta = sub;
  }
  if (MetaFlags(*meta) & kCmdNoscript) {
    PushFieldTable(L, "err", errors::kScriptNotAllowed);
    return true;
  }
  // ACL: the caller's user, as Redis checks it after the noscript flag.
  if (AclRestricted()) {
    std::string denied = AclCheckScriptCommand(*run.server, *run.caller, *meta, views);
    if (!denied.empty()) {
      PushFieldTable(L, "err", denied);
      return true;
    }
  }
  if ((MetaFlags(*meta) & kCmdWrite) && run.read_only) {
    PushFieldTable(L, "err", errors::kScriptWriteInReadOnly);
    return true;
  }
  if (run.oom && !run.write_dirty && (MetaFlags(*meta) & kCmdDenyOom)) {
    PushFieldTable(L, "err", errors::kOom);
    return true;
  }
  if (run.declared_only && !HoldsShardsOf(run, name, views)) {
    PushFieldTable(L, "err", errors::kScriptUndeclaredKey);
    return true;
  }
  if (MetaFlags(*meta) & kCmdWrite) run.write_dirty = true;
  thread_local std::string out;
  out.clear();
  run.script_client->protocol.store(run.resp, std::memory_order_relaxed);
  {
    std::optional<aof::NotLogged> not_logged;
    if (!(run.repl & kReplAof)) not_logged.emplace();
    run.server->dispatcher->Execute(*run.script_client, views, &out);
  }
  bool error = !out.empty() && out[0] == '-';
  if ((MetaFlags(*meta) & kCmdWrite) && !error) {
    t_running.wrote.store(true, std::memory_order_relaxed);
  }
  ReplyReader reader(out);
  PushReply(L, reader);
  return error;
}

int LuaRedisCall(lua_State* L) {
  if (DoRedisCall(L)) return lua_error(L);
  return 1;
}

int LuaRedisPcall(lua_State* L) {
  DoRedisCall(L);
  return 1;
}

// redis.error_reply(msg) and redis.status_reply(msg): the table {err=msg} / {ok=msg}, or
// {err="ERR wrong number or type of arguments"} (returned, not raised, as Redis does).
int ReplyTable(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
    PushFieldTable(L, "err", errors::kScriptReplyArgs);
    return 1;
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  PushFieldTable(L, field, std::string_view(s, len));
  return 1;
}

int LuaErrorReply(lua_State* L) { return ReplyTable(L, "err"); }
int LuaStatusReply(lua_State* L) { return ReplyTable(L, "ok"); }

bool DoSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) return false;
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  std::string hex = Sha1Hex(std::string_view(s != nullptr ? s : "", s != nullptr ? len : 0));
  lua_pushlstring(L, hex.data(), hex.size());
  return true;
}

int LuaSha1Hex(lua_State* L) {
  if (!DoSha1Hex(L)) return RaiseRaw(L, "wrong number of arguments");
  return 1;
}

// redis.log(level, msg, ...): raises (returns non-null) on bad arguments.
const char* DoLog(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc < 2) return "redis.log() requires two arguments or more.";
  if (!lua_isnumber(L, 1)) return "First argument must be a number (log level).";
  int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) return "Invalid debug level.";
  std::string msg;
  for (int j = 2; j <= argc; ++j) {
    size_t len = 0;
    const char* s = lua_tolstring(L, j, &len);
    if (s == nullptr) continue;
    if (j > 2) msg.push_back(' ');
    msg.append(s, len);
  }
  switch (level) {
    case 0:
      KEEL_LOG_DEBUG("{}", msg);
      break;
    case 1:
      KEEL_LOG_VERBOSE("{}", msg);
      break;
    case 2:
      KEEL_LOG_NOTICE("{}", msg);
      break;
    default:
      KEEL_LOG_WARNING("{}", msg);
  }
  return nullptr;
}

int LuaLog(lua_State* L) {
  if (const char* err = DoLog(L)) return RaiseRaw(L, err);
  return 0;
}

int LuaSetResp(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseRaw(L, "redis.setresp() requires one argument.");
  int resp = static_cast<int>(lua_tonumber(L, 1));
  if (resp != 2 && resp != 3) return RaiseRaw(L, "RESP version must be 2 or 3.");
  t_run->resp = resp;
  return 0;
}

int LuaSetRepl(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseRaw(L, "redis.set_repl() requires one argument.");
  int flags = static_cast<int>(lua_tonumber(L, 1));
  if ((flags & ~kReplAll) != 0) {
    return RaiseRaw(
        L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  }
  t_run->repl = flags;
  return 0;
}

int LuaReturnTrue(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

int LuaNothing(lua_State*) { return 0; }

int LuaAclCheckCmd(lua_State* L) {
  if (lua_gettop(L) < 1 || lua_type(L, 1) != LUA_TSTRING) {
    return RaiseRaw(L, "Please specify at least one argument for this redis lib call");
  }
  // The command (a subcommand when it has them) as the caller's user would run it. The C++
  // objects live in a scope that ends before a Lua error is raised (lua_error longjmps past
  // destructors).
  int allowed = -1;  // -1: not a command
  {
    std::vector<std::string_view> views;
    for (int j = 1; j <= lua_gettop(L); ++j) {
      size_t len = 0;
      const char* s = lua_tolstring(L, j, &len);  // the string stays on the stack meanwhile
      views.emplace_back(s != nullptr ? s : "", s != nullptr ? len : 0);
    }
    const CommandMeta* meta = FindCommandMeta(views[0]);
    if (meta != nullptr && MetaHasSubcommands(*meta) && views.size() >= 2) {
      meta = FindSubcommandMeta(*meta, views[1]);
    }
    if (meta != nullptr) allowed = AclAllows(*t_run->caller, *meta, views) ? 1 : 0;
  }
  if (allowed < 0) return RaiseRaw(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, allowed);
  return 1;
}

void SetFunction(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushstring(L, name);
  lua_pushcfunction(L, fn);
  lua_rawset(L, -3);
}

void SetNumber(lua_State* L, const char* name, lua_Number v) {
  lua_pushstring(L, name);
  lua_pushnumber(L, v);
  lua_rawset(L, -3);
}

// Opens a library and makes it the global `name` (lua-cjson returns its table without
// registering it).
void OpenLibrary(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (*name != '\0' && lua_istable(L, -1)) {
    lua_setglobal(L, name);
  } else {
    lua_pop(L, 1);
  }
}

// Redis's version as scripts see it ("7.0.15" and 0x00070f).
constexpr const char* kScriptRedisVersion = "7.0.15";
constexpr lua_Number kScriptRedisVersionNum = 0x07000f;

// Every kKillCheckInstructions instructions: SCRIPT KILL stops the script here with Redis's
// error (a script stuck inside one C function, such as a huge string.rep, is not stopped).
// Once killed, the script fails at every line it reaches, so a pcall inside the script cannot
// keep it alive.
thread_local bool t_killed = false;
// When this thread's script last answered its thread's other connections (ServeWhileBusy).
thread_local int64_t t_served_us = 0;
// How often a script past busy-reply-threshold answers them (Redis: at every hook call).
constexpr int64_t kServeWhileBusyUs = 2000;

// Past busy-reply-threshold, the other connections of this io thread cannot be served by its
// event loop (the thread is here, inside the script): the net layer answers them from here, as
// Redis answers its clients from its script's hook. Only what needs no shard lock runs (the
// locks are this script's): -BUSY to everything but allow_busy commands, and SCRIPT KILL,
// FUNCTION KILL, FUNCTION STATS; anything else waits in its socket for the script's end.
void ServeWhileBusy() {
  if (scripting::g_serve_while_busy == nullptr || t_run == nullptr) return;
  int64_t now = NowMonotonicUs();
  if (now - t_served_us < kServeWhileBusyUs || !scripting::PastBusyThreshold(*t_run->server)) {
    return;
  }
  t_served_us = now;
  scripting::t_serving_while_busy = true;
  scripting::g_serve_while_busy();
  scripting::t_serving_while_busy = false;
}

void KillHook(lua_State* L, lua_Debug*) {
  if (!t_killed) ServeWhileBusy();  // a SCRIPT KILL it answers stops the script just below
  if (!t_killed && Running().kill_epoch.load(std::memory_order_relaxed) == t_kill_epoch) return;
  if (!t_killed) {
    t_killed = true;
    lua_sethook(L, KillHook, LUA_MASKLINE, 0);
  }
  RaiseRaw(L, "Script killed by user with SCRIPT KILL...");
}

void ArmKillHook(lua_State* L) {
  t_killed = false;
  lua_sethook(L, KillHook, LUA_MASKCOUNT, kKillCheckInstructions);
}

// ---- Lua memory (lua_memory.cc) ----

// The most a thread's Lua state may hold while a script runs: `lua-memory-limit` (Keel's own,
// default 1gb; 0: none). Redis 7.0 sets no limit (its Lua heap grows until the process runs out
// of memory); Keel refuses to grow a state past it, so a runaway script gets Lua's memory error
// (ScriptOutOfMemory) instead of taking the server down.
size_t LuaMemoryLimit(ServerState& server) {
  static const std::atomic<int64_t>* limit = server.config->IntOptionCell("lua-memory-limit");
  return limit != nullptr ? static_cast<size_t>(limit->load(std::memory_order_relaxed)) : 0;
}

// The reply to a script stopped by the limit (Keel's own error).
std::string ScriptOutOfMemory(size_t limit) {
  return "ERR Lua script ran out of memory (lua-memory-limit is " + std::to_string(limit) +
         " bytes)";
}

int LuaPanic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  KEEL_LOG_WARNING("Lua panic: {}", msg != nullptr ? msg : "?");
  std::abort();
}

lua_State* NewLuaState(lua_libs::MemoryAccount* account) {
  // The limit applies only while a script runs (EvalGeneric): a memory error outside a
  // protected call would abort the process.
  account->limit = 0;
  lua_State* L = lua_newstate(lua_libs::CountingAlloc, account);
  lua_atpanic(L, LuaPanic);
  OpenLibrary(L, luaopen_base, "");
  OpenLibrary(L, luaopen_table, LUA_TABLIBNAME);
  OpenLibrary(L, luaopen_string, LUA_STRLIBNAME);
  OpenLibrary(L, luaopen_math, LUA_MATHLIBNAME);
  lua_libs::InstallRand48(L);
  OpenLibrary(L, luaopen_cjson, "cjson");
  OpenLibrary(L, luaopen_bit, "bit");
  OpenLibrary(L, lua_libs::OpenCmsgpack, "cmsgpack");
  OpenLibrary(L, lua_libs::OpenStruct, "struct");
  // What Redis leaves out of the base library: no file access, no printing to stdout.
  for (const char* name : {"loadfile", "dofile", "print"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_newtable(L);
  SetFunction(L, "call", LuaRedisCall);
  SetFunction(L, "pcall", LuaRedisPcall);
  SetFunction(L, "error_reply", LuaErrorReply);
  SetFunction(L, "status_reply", LuaStatusReply);
  SetFunction(L, "sha1hex", LuaSha1Hex);
  SetFunction(L, "log", LuaLog);
  SetFunction(L, "setresp", LuaSetResp);
  SetFunction(L, "set_repl", LuaSetRepl);
  SetFunction(L, "replicate_commands", LuaReturnTrue);
  SetFunction(L, "breakpoint", LuaNothing);
  SetFunction(L, "debug", LuaNothing);
  SetFunction(L, "acl_check_cmd", LuaAclCheckCmd);
  SetNumber(L, "LOG_DEBUG", 0);
  SetNumber(L, "LOG_VERBOSE", 1);
  SetNumber(L, "LOG_NOTICE", 2);
  SetNumber(L, "LOG_WARNING", 3);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", kReplAof);
  SetNumber(L, "REPL_SLAVE", kReplReplica);
  SetNumber(L, "REPL_REPLICA", kReplReplica);
  SetNumber(L, "REPL_ALL", kReplAll);
  lua_pushstring(L, "REDIS_VERSION");
  lua_pushstring(L, kScriptRedisVersion);
  lua_rawset(L, -3);
  SetNumber(L, "REDIS_VERSION_NUM", kScriptRedisVersionNum);
  lua_setglobal(L, "redis");
  // KEYS and ARGV exist from the start, so setting them per call never adds a global.
  lua_newtable(L);
  lua_setglobal(L, "KEYS");
  lua_newtable(L);
  lua_setglobal(L, "ARGV");
  // The library tables are read-only (lua_readonly.cc), as in Redis 7.0.
  static constexpr const char* kLibraries[] = {"string",   "table",  "math",  "cjson",    "bit",
                                               "cmsgpack", "struct", "redis", "coroutine"};
  lua_libs::ProtectLibraries(L, kLibraries, std::size(kLibraries));
  // Last: protect the globals table.
  lua_newtable(L);
  lua_pushcfunction(L, GlobalsIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, GlobalsNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, LUA_GLOBALSINDEX);
  return L;
}

// The client a script's redis.call commands run as (one per thread, shared by EVAL and FCALL).
Client* ThreadScriptClient() {
  thread_local std::unique_ptr<Client> client;
  if (!client) {
    client = std::make_unique<Client>();
    client->addr = "lua";
    client->authenticated = true;
    client->in_exec = true;
    client->acl_checked_by_caller = true;
  }
  return client.get();
}

struct ThreadLua {
  lua_libs::MemoryAccount* memory = lua_libs::NewAccount(false);  // never freed: outlives L
  lua_State* L = nullptr;
  uint64_t generation = 0;
  // The scripts this thread has run, so EVALSHA does not take the cache's mutex (shared by
  // every io thread) each time, with the registry reference of their compiled function in L
  // (LUA_NOREF until compiled here), so it does not build and look up "f_<sha>" each time;
  // emptied with the state when SCRIPT FLUSH bumps the generation.
  struct Seen {
    std::shared_ptr<const CachedScript> script;
    int ref = LUA_NOREF;
  };
  std::unordered_map<std::string, Seen> seen;
  // The error handler's registry reference in L (one closure per state, not one per call).
  int handler_ref = LUA_NOREF;
  ~ThreadLua() {
    if (L != nullptr) lua_close(L);
  }
};

ThreadLua& ThisThreadLua() {
  thread_local ThreadLua t;
  uint64_t gen = Cache().generation.load(std::memory_order_acquire);
  if (t.L == nullptr || t.generation != gen) {
    if (t.L != nullptr) lua_close(t.L);
    t.L = NewLuaState(t.memory);
    t.generation = gen;
    t.seen.clear();
    t.handler_ref = LUA_NOREF;
  }
  return t;
}

// Compiles `body` as the function "f_<sha>" in L's registry unless it is there. Returns an error
// text or empty.
std::string Compile(lua_State* L, const std::string& sha, std::string_view body, uint32_t flags) {
  std::string fname = "f_" + sha;
  lua_getfield(L, LUA_REGISTRYINDEX, fname.c_str());
  bool present = lua_isfunction(L, -1);
  lua_pop(L, 1);
  if (present) return {};
  std::string code;
  if (flags & kScriptHasShebang) {
    // The shebang line becomes a comment, so line numbers stay those of the body.
    code = "--";
    code.append(body);
    body = code;
  }
  if (luaL_loadbuffer(L, body.data(), body.size(), kChunkName) != 0) {
    std::string err(errors::kScriptCompile);
    const char* msg = lua_tostring(L, -1);
    err += msg != nullptr ? msg : "";
    lua_pop(L, 1);
    return err;
  }
  lua_setfield(L, LUA_REGISTRYINDEX, fname.c_str());
  return {};
}

// Adds a script to the cache after checking its shebang and compiling it on this thread.
// Returns its SHA1, or replies the error and returns empty.
std::string LoadScript(std::string_view body, ReplyBuilder& reply,
                       std::shared_ptr<const CachedScript>* out = nullptr) {
  std::string sha = Sha1Hex(body);
  std::shared_ptr<const CachedScript> cached = FindScript(sha);
  ThreadLua& t = ThisThreadLua();
  if (cached == nullptr) {
    uint32_t flags = 0;
    if (std::string err = ParseShebang(body, &flags); !err.empty()) {
      reply.Error("ERR " + err);
      return {};
    }
    if (std::string err = Compile(t.L, sha, body, flags); !err.empty()) {
      reply.Error(err);
      return {};
    }
    auto script = std::make_shared<CachedScript>(
        CachedScript{std::string(body), flags, ScriptStaysInDeclaredKeys(body)});
    ScriptCache& c = Cache();
    std::lock_guard<std::mutex> lock(c.mu);
    cached = c.scripts.emplace(sha, std::move(script)).first->second;
  } else if (std::string err = Compile(t.L, sha, cached->body, cached->flags); !err.empty()) {
    reply.Error(err);
    return {};
  }
  if (out != nullptr) *out = cached;
  return sha;
}

void SetArgTable(lua_State* L, const char* name, std::span<const std::string_view> items) {
  lua_pushstring(L, name);
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  lua_rawset(L, LUA_GLOBALSINDEX);
}

// ---- maxmemory (Redis 7.0's rules) ----

// Whether memory is over maxmemory with nothing left to evict as the script starts (Redis's
// pre_command_oom_state). Inside EXEC the shard locks are held, so no eviction is tried.
bool OverMaxmemory(CommandContext& ctx) {
  Evictor& evictor = ctx.keyspace().evictor();
  if (evictor.maxmemory() == 0) return false;
  if (ctx.client.in_exec) return evictor.CountedMemory() > evictor.maxmemory();
  return evictor.Perform() == Evictor::Result::kFail;
}

// A script with a shebang that may write and has no allow-oom flag counts as a denyoom command:
// over maxmemory it is refused before it starts, with the plain OOM error (Redis derives EVAL's
// command flags from the shebang). A script whose shebang cannot be read is not refused here.
bool RefusedForOom(CommandContext& ctx, bool by_sha) {
  uint32_t flags = 0;
  if (by_sha) {
    std::shared_ptr<const CachedScript> script =
        ctx.args[1].size() == 40 ? FindScript(ToLower(ctx.args[1])) : nullptr;
    if (script != nullptr) flags = script->flags;
  } else if (!ParseShebang(ctx.args[1], &flags).empty()) {
    flags = 0;
  }
  return (flags & kScriptHasShebang) && !(flags & (kScriptNoWrites | kScriptAllowOom));
}

// How a script or function runs (RunLocked).
struct RunOptions {
  bool read_only = false;    // EVAL_RO, FCALL_RO, no-writes: write commands are refused
  bool is_function = false;  // FCALL: the -BUSY text and the KILL that stops it name FUNCTION
  bool oom = false;          // over maxmemory as it starts: its first denyoom write fails
  // A script proven to stay in its declared keys (script_keys.h) locks only their shards in
  // `db`; everything else locks every shard of every database.
  bool declared_only = false;
  std::span<const std::string_view> keys;
  // The state's memory account: lua-memory-limit applies while it runs (null: no limit).
  lua_libs::MemoryAccount* memory = nullptr;
};

// Runs the function at L's top (its `nargs` arguments above it, the error handler at `handler`)
// as a script: its locks (all taken before it starts, released after it ends), the kill hook,
// the running-scripts registry (busy clock, SCRIPT/FUNCTION KILL), the AOF's MULTI ... EXEC;
// then writes its reply. `name` names it in error positions (the SHA1, or FCALL's function).
void RunLocked(CommandContext& ctx, lua_State* L, int handler, int nargs, const std::string& name,
               const RunOptions& o) {
  PinKeyTime();  // keys do not expire in the middle of a script, as in Redis
  RunState run;
  run.server = &ctx.server;
  run.caller = &ctx.client;
  run.script_client = ThreadScriptClient();
  run.sha = &name;
  run.read_only = o.read_only;
  run.oom = o.oom;
  run.declared_only = o.declared_only;
  run.db = ctx.db();
  run.script_client->db.store(ctx.db(), std::memory_order_relaxed);
  Keyspace& ks = ctx.keyspace();
  KeyLocks locks;
  if (o.declared_only) {
    if (!o.keys.empty()) locks = KeyLocks(ks, ctx.db(), o.keys);
  } else {
    std::vector<size_t> flat(static_cast<size_t>(ks.databases()) * kShards);
    std::iota(flat.begin(), flat.end(), size_t{0});
    locks.LockFlat(ks, std::move(flat));
  }
  RunState* outer = t_run;  // always null: EVAL and FCALL are noscript
  t_run = &run;
  if (outer == nullptr) ArmKillHook(L);
  RunningScope running(o.is_function);
  aof::BeginExec();  // the script's writes reach the AOF as one MULTI ... EXEC
  size_t memory_limit = 0;
  if (o.memory != nullptr) {
    o.memory->refused = false;
    memory_limit = LuaMemoryLimit(ctx.server);
    o.memory->limit = memory_limit;
  }
  int rc = lua_pcall(L, nargs, 1, handler);
  if (o.memory != nullptr) o.memory->limit = 0;
  if (t_killed && Running().shutting_down.load()) {
    aof::EndExecDiscarding();  // stopped by SHUTDOWN NOSAVE: none of it reaches the AOF
  } else {
    aof::EndExec();
  }
  t_run = outer;
  if (o.memory != nullptr && (rc == LUA_ERRMEM || (rc == LUA_ERRERR && o.memory->refused))) {
    ctx.reply.Error(ScriptOutOfMemory(memory_limit));
  } else if (rc != 0) {
    WriteScriptError(L, name, ctx.reply);
  } else {
    WriteLuaValue(L, -1, ctx.reply, 0);
  }
}

// EVAL script numkeys [key ...] [arg ...], and its SHA, read-only forms.
void EvalGeneric(CommandContext& ctx, bool by_sha, bool read_only_cmd) {
  bool oom = OverMaxmemory(ctx);
  if (oom && RefusedForOom(ctx, by_sha)) {
    ctx.reply.Error(errors::kOom);
    return;
  }
  scripting_internal::FeedMonitors(ctx);
  // Redis answers NOSCRIPT for a name that cannot be a SHA1 before it reads numkeys.
  if (by_sha && ctx.args[1].size() != 40) {
    ctx.reply.Error(errors::kNoScript);
    return;
  }
  std::optional<int64_t> numkeys = ParseInt64(ctx.args[2]);
  if (!numkeys) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*numkeys < 0) {
    ctx.reply.Error(errors::kNegativeNumkeys);
    return;
  }
  if (*numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
    ctx.reply.Error(errors::kTooManyNumkeys);
    return;
  }
  std::shared_ptr<const CachedScript> script;
  // The SHA, lower-cased (EVALSHA: into a per-thread buffer, no allocation per call).
  thread_local std::string by_sha_name;
  std::string eval_name;
  int ref = LUA_NOREF;  // EVALSHA: the compiled function's registry reference
  if (by_sha) {
    std::string_view given = ctx.args[1];
    by_sha_name.resize(given.size());
    for (size_t i = 0; i < given.size(); ++i) {
      char c = given[i];
      by_sha_name[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
  } else {
    eval_name = LoadScript(ctx.args[1], ctx.reply, &script);
    if (eval_name.empty()) return;
  }
  const std::string& sha = by_sha ? by_sha_name : eval_name;
  // (After LoadScript for EVAL: a SCRIPT FLUSH on another thread may have renewed this thread's
  // state meanwhile.)
  ThreadLua& t = ThisThreadLua();
  lua_State* L = t.L;
  ThreadLua::Seen* seen = nullptr;
  if (by_sha) {
    auto it = t.seen.find(sha);
    if (it == t.seen.end()) {
      std::shared_ptr<const CachedScript> found = FindScript(sha);
      if (found == nullptr) {
        ctx.reply.Error(errors::kNoScript);
        return;
      }
      it = t.seen.emplace(sha, ThreadLua::Seen{std::move(found), LUA_NOREF}).first;
    }
    seen = &it->second;
    script = seen->script;
    ref = seen->ref;
  }
  if (ref == LUA_NOREF) {
    if (std::string err = Compile(L, sha, script->body, script->flags); !err.empty()) {
      ctx.reply.Error(err);
      return;
    }
    if (seen != nullptr) {
      lua_getfield(L, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
      seen->ref = ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
  }
  size_t nk = static_cast<size_t>(*numkeys);
  SetArgTable(L, "KEYS", ctx.args.subspan(3, nk));
  SetArgTable(L, "ARGV", ctx.args.subspan(3 + nk));

  if (t.handler_ref == LUA_NOREF) {
    lua_pushcfunction(L, ErrorHandler);
    t.handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, t.handler_ref);
  int handler = lua_gettop(L);
  if (ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
  }
  RunOptions o;
  o.read_only = read_only_cmd || (script->flags & kScriptNoWrites);
  o.oom = oom && !(script->flags & kScriptAllowOom);
  o.declared_only = script->declared_only;
  o.keys = ctx.args.subspan(3, nk);
  o.memory = t.memory;
  RunLocked(ctx, L, handler, 0, sha, o);
  lua_settop(L, 0);
  if (t.memory->refused) {
    // A script stopped at the limit left its garbage: give it back now.
    lua_gc(L, LUA_GCCOLLECT, 0);
  } else {
    thread_local int scripts_since_gc = 0;
    scripting_internal::CollectAfterScript(L, scripts_since_gc);
  }
}

// EVAL script numkeys [key [key ...]] [arg [arg ...]]
void CmdEval(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
// EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]
void CmdEvalsha(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
// EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]
void CmdEvalRo(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
// EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]
void CmdEvalshaRo(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

// SCRIPT LOAD script
void CmdScriptLoad(CommandContext& ctx) {
  std::string sha = LoadScript(ctx.args[2], ctx.reply);
  if (!sha.empty()) ctx.reply.Bulk(sha);
}

// SCRIPT EXISTS sha1 [sha1 ...]
void CmdScriptExists(CommandContext& ctx) {
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ctx.reply.Integer(FindScript(ToLower(ctx.args[i])) != nullptr ? 1 : 0);
  }
}

// SCRIPT FLUSH [ASYNC|SYNC]
void CmdScriptFlush(CommandContext& ctx) {
  if (ctx.args.size() > 3 || (ctx.args.size() == 3 && !EqualsIgnoreCase(ctx.args[2], "sync") &&
                              !EqualsIgnoreCase(ctx.args[2], "async"))) {
    ctx.reply.Error(errors::kScriptFlushOption);
    return;
  }
  // Each io thread closes its own Lua state when it next runs a script (the generation says
  // it is stale); the bodies are freed here, outside the shard locks.
  std::unordered_map<std::string, std::shared_ptr<const CachedScript>> old;
  {
    ScriptCache& c = Cache();
    std::lock_guard<std::mutex> lock(c.mu);
    old.swap(c.scripts);
    c.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  ctx.reply.Ok();
}

// SCRIPT KILL
void CmdScriptKill(CommandContext& ctx) { scripting_internal::Kill(ctx, /*is_eval=*/true); }

}  // namespace

namespace scripting {

std::atomic<int64_t> g_running_since_us{0};
std::atomic<bool> g_running_is_function{false};
void (*g_serve_while_busy)() = nullptr;
thread_local bool t_serving_while_busy = false;

void KillForShutdown() {
  RunningScripts& r = Running();
  std::lock_guard<std::mutex> lock(r.mu);
  r.shutting_down.store(true);
  r.kill_epoch.fetch_add(1, std::memory_order_relaxed);
}

bool PastBusyThreshold(ServerState& server) {
  static const std::atomic<int64_t>* threshold =
      server.config->IntOptionCell("busy-reply-threshold");
  int64_t since = g_running_since_us.load(std::memory_order_relaxed);
  int64_t limit_ms = threshold != nullptr ? threshold->load(std::memory_order_relaxed) : 5000;
  return since != 0 && limit_ms > 0 && NowMonotonicUs() - since > limit_ms * 1000;
}

namespace {

// The eval scripts' cache: its entries and their bytes.
std::pair<size_t, size_t> ScriptCacheMemory() {
  ScriptCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  size_t bytes = 0;
  for (const auto& [sha, script] : c.scripts) {
    // The map node (key, pointer, hash link), the shared record and the body.
    bytes += sha.capacity() + sizeof(std::string) + 4 * sizeof(void*) + sizeof(CachedScript) +
             script->body.capacity();
  }
  return {c.scripts.size(), bytes};
}

}  // namespace

CachesMemory CachesMemoryNow() {
  return {ScriptCacheMemory().second, scripting_internal::LoadedFunctionsMemory().bytes};
}

std::vector<std::pair<std::string, std::string>> InfoMemoryFields() {
  size_t vm_eval = lua_libs::StatesMemory(false);
  size_t vm_functions = lua_libs::StatesMemory(true);
  auto [scripts, scripts_bytes] = ScriptCacheMemory();
  scripting_internal::FunctionsMemory f = scripting_internal::LoadedFunctionsMemory();
  auto n = [](size_t v) { return std::to_string(v); };
  return {
      {"used_memory_lua", n(vm_eval)},
      {"used_memory_vm_eval", n(vm_eval)},
      {"used_memory_lua_human", memory::HumanBytes(vm_eval)},
      {"used_memory_scripts_eval", n(scripts_bytes)},
      {"number_of_cached_scripts", n(scripts)},
      {"number_of_functions", n(f.functions)},
      {"number_of_libraries", n(f.libraries)},
      {"used_memory_vm_functions", n(vm_functions)},
      {"used_memory_vm_total", n(vm_eval + vm_functions)},
      {"used_memory_vm_total_human", memory::HumanBytes(vm_eval + vm_functions)},
      {"used_memory_functions", n(f.bytes)},
      {"used_memory_scripts", n(scripts_bytes + f.bytes)},
      {"used_memory_scripts_human", memory::HumanBytes(scripts_bytes + f.bytes)},
  };
}

}  // namespace scripting

namespace {

// SCRIPT HELP
void CmdScriptHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

// ---- shared with function_family.cc (scripting_internal.h) ----

namespace scripting_internal {

// Function states get a memory account of their thread (no limit is armed for them: RunLocked
// arms it only for EVAL). The accounts live in a list that is never freed, so a state closed at
// thread exit never outlives its account.
lua_libs::MemoryAccount* FunctionStateAccount() {
  thread_local lua_libs::MemoryAccount* mine = lua_libs::NewAccount(true);
  return mine;
}

lua_State* NewState() { return NewLuaState(FunctionStateAccount()); }
lua_CFunction ErrorHandlerFunction() { return ErrorHandler; }
lua_CFunction LogFunction() { return LuaLog; }

void Run(CommandContext& ctx, lua_State* L, int handler, int nargs, const std::string& name,
         bool read_only) {
  RunOptions o;
  o.read_only = read_only;
  o.is_function = true;
  RunLocked(ctx, L, handler, nargs, name, o);
}

bool OverMaxmemory(CommandContext& ctx) { return keel::OverMaxmemory(ctx); }

void FeedMonitors(CommandContext& ctx) {
  // EVAL and FCALL are skip_monitor: their line is written here, as the script starts (after
  // the maxmemory refusal, before any other error), so that it precedes the lines of the
  // commands the script runs, which the dispatcher writes as each ends (as `[db lua]`).
  if (ctx.server.clients.HasMonitors()) ctx.server.dispatcher->FeedMonitors(ctx.client, ctx.args);
}

void Kill(CommandContext& ctx, bool is_eval) {
  // SCRIPT KILL and FUNCTION KILL take no lock (kNone), so they run on any io thread not itself
  // waiting for the script's locks. The scripts stop at their next hook call (KillHook). Each
  // kills only its own kind, as Redis (the other kind's -BUSY text says which one to use);
  // several scripts may run at once on distinct shards: all of them stop, unless one of them
  // has written (-UNKILLABLE) or one is of the other kind.
  RunningScripts& r = Running();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.running.empty() || ctx.client.in_exec) {
    ctx.reply.Error(errors::kNotBusy);
    return;
  }
  for (RunningScript* s : r.running) {
    if (s->wrote.load(std::memory_order_relaxed)) {
      ctx.reply.Error(errors::kUnkillable);
      return;
    }
  }
  for (RunningScript* s : r.running) {
    if (s->is_function == is_eval) {
      ctx.reply.Error(s->is_function ? errors::kBusyFunction : errors::kBusyScript);
      return;
    }
  }
  r.kill_epoch.fetch_add(1, std::memory_order_relaxed);
  ctx.reply.Ok();
}

}  // namespace scripting_internal

void RegisterScriptingFamily(CommandRegistry* r) {
  // The EVAL family locks every shard itself (kSelf: inside EXEC the whole keyspace is held).
  r->Register("eval", CmdEval, LockMode::kSelf);
  r->Register("evalsha", CmdEvalsha, LockMode::kSelf);
  r->Register("eval_ro", CmdEvalRo, LockMode::kSelf);
  r->Register("evalsha_ro", CmdEvalshaRo, LockMode::kSelf);
  r->Register("script|load", CmdScriptLoad, LockMode::kNone);
  r->Register("script|exists", CmdScriptExists, LockMode::kNone);
  r->Register("script|flush", CmdScriptFlush, LockMode::kNone);
  r->Register("script|kill", CmdScriptKill, LockMode::kNone);
  r->Register("script|help", CmdScriptHelp, LockMode::kNone);
}

}  // namespace keel
