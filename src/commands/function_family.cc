// Redis 7.0 functions: FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/DUMP/RESTORE/KILL/HELP and
// FCALL/FCALL_RO, on the Lua scripting of scripting_family.cc (scripting_internal.h).
//
// Design (docs/architecture.md, "Functions"):
// * The libraries (name -> code and the functions it registered) are one process-wide map under
//   a mutex, with a generation bumped by every change. A library is checked when it is loaded:
//   its code runs in a scratch Lua state, where `redis.register_function` records the functions.
// * Each io thread runs functions in its own Lua state, built from the libraries the first time
//   it runs FCALL after a change (every library's code is run again there; the callbacks are kept
//   in the state's registry by function name). A `lua_State` is only touched by its thread.
// * Library code runs with one environment table for all its functions: while the library loads,
//   it offers only the loading API (`redis.register_function`, `redis.log`, the LOG_ and version
//   constants); while a function runs, it reads the real globals (the libraries, `redis`). Both
//   refuse new globals. This is what Redis 7.0 shows: `string` is unknown to a library's top
//   level but known to its functions and to the local helpers they call.
// * FCALL runs as EVAL does (every shard lock, the kill hook, -BUSY, effects to the AOF); FUNCTION
//   LOAD/DELETE/FLUSH/RESTORE go to the AOF as themselves, and the libraries to RDB files as
//   FUNCTION2 records (rdb::SetFunctionCodesSource).
//
// Lua errors use longjmp: as in scripting_family.cc, a C function called from Lua raises only from
// a thin entry point with no C++ object alive.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "functions.h"
#include "keel/commands/aof.h"
#include "keel/commands/families.h"
#include "keel/commands/scripting.h"
#include "keel/common/clock.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"
#include "keel/protocol/errors.h"
#include "scripting_internal.h"

namespace keel {

namespace {

// ---- libraries (process-wide) ----

// Function flags, in the order Redis lists them.
struct FlagName {
  uint32_t bit;
  const char* name;
};
constexpr uint32_t kFlagNoWrites = 1u << 0;
constexpr uint32_t kFlagAllowOom = 1u << 1;
constexpr FlagName kFlagNames[] = {
    {kFlagNoWrites, "no-writes"}, {kFlagAllowOom, "allow-oom"},       {1u << 2, "allow-stale"},
    {1u << 3, "no-cluster"},      {1u << 4, "allow-cross-slot-keys"},
};

struct FunctionInfo {
  std::string name;
  std::optional<std::string> description;
  uint32_t flags = 0;
};

struct Library {
  std::string name;
  std::string code;
  std::vector<FunctionInfo> functions;  // in the order the code registered them
};

using LibraryMap = std::map<std::string, std::shared_ptr<const Library>>;

struct Registry {
  std::mutex mu;
  LibraryMap libs;                      // GUARDED_BY(mu)
  std::atomic<uint64_t> generation{1};  // bumped (under mu) by every change
};

Registry& Libs() {
  static Registry r;
  return r;
}

LibraryMap SnapshotLibraries(uint64_t* generation = nullptr) {
  Registry& r = Libs();
  std::lock_guard<std::mutex> lock(r.mu);
  if (generation != nullptr) *generation = r.generation.load();
  return r.libs;
}

}  // namespace

namespace scripting_internal {

FunctionsMemory LoadedFunctionsMemory() {
  FunctionsMemory m;
  Registry& r = Libs();
  std::lock_guard<std::mutex> lock(r.mu);
  m.libraries = r.libs.size();
  for (const auto& [name, lib] : r.libs) {
    m.bytes += sizeof(Library) + name.capacity() + lib->name.capacity() + lib->code.capacity();
    m.functions += lib->functions.size();
    for (const FunctionInfo& f : lib->functions) {
      m.bytes += sizeof(FunctionInfo) + f.name.capacity();
      if (f.description) m.bytes += f.description->capacity();
    }
  }
  return m;
}

}  // namespace scripting_internal

namespace {

// The codes RDB files save (rdb::SetFunctionCodesSource).
std::vector<std::string> LibraryCodes() {
  std::vector<std::string> out;
  for (const auto& [name, lib] : SnapshotLibraries()) out.push_back(lib->code);
  return out;
}

// Letters, digits and underscores, at least one.
bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

// The "#!lua name=<lib>" first line. Returns an error reply or empty.
std::string scripting_internal::ParseMetadata(std::string_view code, std::string* name) {
  if (code.substr(0, 2) != "#!") return std::string(errors::kMissingLibraryMetadata);
  size_t nl = code.find('\n');
  if (nl == std::string_view::npos) return std::string(errors::kInvalidLibraryMetadata);
  std::string_view line = code.substr(0, nl);
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) parts.push_back(line.substr(i, j - i));
    i = j;
  }
  std::string_view engine = parts[0].substr(2);
  bool has_name = false;
  for (size_t p = 1; p < parts.size(); ++p) {
    if (parts[p].substr(0, 5) != "name=") {
      return "ERR Invalid metadata value given: " + std::string(parts[p]);
    }
    if (has_name) return std::string(errors::kDuplicateLibraryName);
    has_name = true;
    *name = std::string(parts[p].substr(5));
  }
  if (!has_name) return std::string(errors::kLibraryNameNotGiven);
  if (!EqualsIgnoreCase(engine, "lua")) return "ERR Engine '" + std::string(engine) + "' not found";
  if (!ValidName(*name)) return std::string(errors::kBadLibraryName);
  return {};
}

namespace {

using scripting_internal::ParseMetadata;

// ---- the Lua side: loading a library into a state ----

constexpr const char* kEnvKey = "keel_fenv";             // the libraries' environment table
constexpr const char* kLoadApiKey = "keel_load_api";     // `redis` while a library loads
constexpr const char* kFunctionsKey = "keel_functions";  // function name -> callback
constexpr const char* kPendingKey = "keel_pending";      // the loading library's callbacks

// The library being loaded on this thread (null outside a load): register_function adds here.
thread_local std::vector<FunctionInfo>* t_loading = nullptr;

int RaiseNonexistent(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name != nullptr ? name : "?");
}

// __index of the libraries' environment: the loading API while loading, else the globals.
int EnvIndex(lua_State* L) {
  if (t_loading != nullptr) {
    if (lua_type(L, 2) == LUA_TSTRING && std::strcmp(lua_tostring(L, 2), "redis") == 0) {
      lua_getfield(L, LUA_REGISTRYINDEX, kLoadApiKey);
      return 1;
    }
    return RaiseNonexistent(L);
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, LUA_GLOBALSINDEX);
  if (lua_isnil(L, -1)) return RaiseNonexistent(L);
  return 1;
}

int ReadonlyNewIndex(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

// Raises `msg` with no position (the load's error reply adds "ERR ").
int RaisePlain(lua_State* L, const char* msg) {
  lua_pushstring(L, msg);
  return lua_error(L);
}

// Reads a flags table (at `idx`) into *flags. Returns an error text or null.
const char* ReadFlags(lua_State* L, int idx, uint32_t* flags) {
  constexpr const char* kBad =
      "flags argument to redis.register_function must be a table representing function flags";
  if (!lua_istable(L, idx)) return kBad;
  for (int i = 1;; ++i) {
    lua_rawgeti(L, idx, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return nullptr;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      return "unknown flag given";
    }
    const char* f = lua_tostring(L, -1);
    bool known = false;
    for (const FlagName& fl : kFlagNames) {
      if (std::strcmp(f, fl.name) == 0) {
        *flags |= fl.bit;
        known = true;
      }
    }
    lua_pop(L, 1);
    if (!known) return "unknown flag given";
  }
}

// redis.register_function(name, callback) or redis.register_function{function_name=...,
// callback=..., flags={...}, description=...}. Leaves the callback at the stack's top on
// success. Returns an error text or null. No lua_error in here (C++ objects live).
const char* DoRegister(lua_State* L, int argc) {
  if (t_loading == nullptr) {
    return "redis.register_function can only be called on FUNCTION LOAD command";
  }
  if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
  FunctionInfo fi;
  if (argc == 1) {
    if (!lua_istable(L, 1)) {
      return "calling redis.register_function with a single argument is only applicable to Lua "
             "table (representing named arguments).";
    }
    bool has_name = false, has_callback = false;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {  // key at -2, value at -1
      if (!lua_isstring(L, -2)) {
        return "named argument key given to redis.register_function is not a string";
      }
      // (A copy: lua_tostring on a number key itself would confuse lua_next.)
      lua_pushvalue(L, -2);
      std::string key = lua_tostring(L, -1);
      lua_pop(L, 1);
      if (key == "function_name") {
        if (!lua_isstring(L, -1)) {
          return "function_name argument given to redis.register_function must be a string";
        }
        fi.name = lua_tostring(L, -1);
        has_name = true;
      } else if (key == "description") {
        if (!lua_isstring(L, -1)) {
          return "description argument given to redis.register_function must be a string";
        }
        fi.description = lua_tostring(L, -1);
      } else if (key == "callback") {
        if (!lua_isfunction(L, -1)) {
          return "callback argument given to redis.register_function must be a function";
        }
        lua_pushvalue(L, -1);
        lua_replace(L, 2);  // keep it in slot 2 (argc was 1: the slot is free)
        has_callback = true;
      } else if (key == "flags") {
        if (const char* err = ReadFlags(L, lua_gettop(L), &fi.flags)) return err;
      } else {
        return "unknown argument given to redis.register_function";
      }
      lua_pop(L, 1);
    }
    if (!has_name) return "redis.register_function must get a function name argument";
    if (!has_callback) return "redis.register_function must get a callback argument";
  } else {
    if (!lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2)) {
      return "second argument to redis.register_function must be a function";
    }
    fi.name = lua_tostring(L, 1);
  }
  // (Redis 7.0 names libraries in this error, for function names too.)
  if (!ValidName(fi.name)) {
    return "Library names can only contain letters, numbers, or underscores(_) and must be at "
           "least one character long";
  }
  for (const FunctionInfo& f : *t_loading) {
    if (f.name == fi.name) return "Function already exists in the library";
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kPendingKey);
  lua_pushlstring(L, fi.name.data(), fi.name.size());
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  t_loading->push_back(std::move(fi));
  return nullptr;
}

int LuaRegisterFunction(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc == 1) lua_pushnil(L);  // slot 2 receives the named form's callback
  if (const char* err = DoRegister(L, argc)) return RaisePlain(L, err);
  return 0;
}

// Gives the table at L's top a metatable: reads of missing fields go to `index`, writes of new
// ones fail.
void SetReadonlyMetatable(lua_State* L, lua_CFunction index) {
  lua_newtable(L);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
}

// A Lua state for functions: the EVAL environment without KEYS and ARGV, plus the libraries'
// environment table, the loading API and the function table.
lua_State* NewFunctionState() {
  lua_State* L = scripting_internal::NewState();
  for (const char* name : {"KEYS", "ARGV"}) {
    lua_pushstring(L, name);
    lua_pushnil(L);
    lua_rawset(L, LUA_GLOBALSINDEX);
  }
  // The environment: empty, everything through its metatable.
  lua_newtable(L);
  SetReadonlyMetatable(L, EnvIndex);
  lua_setfield(L, LUA_REGISTRYINDEX, kEnvKey);
  // The loading API: register_function, log and the constants of the real `redis` table.
  lua_newtable(L);
  lua_pushcfunction(L, LuaRegisterFunction);
  lua_setfield(L, -2, "register_function");
  lua_pushcfunction(L, scripting_internal::LogFunction());
  lua_setfield(L, -2, "log");
  lua_getfield(L, LUA_GLOBALSINDEX, "redis");
  for (const char* name : {"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION",
                           "REDIS_VERSION_NUM"}) {
    lua_getfield(L, -1, name);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 1);
  SetReadonlyMetatable(L, RaiseNonexistent);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadApiKey);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kFunctionsKey);
  return L;
}

// Runs a library's code in L, collecting its functions into *functions and their callbacks
// into L's function table. Returns an error reply or empty (then nothing was added).
std::string LoadInto(lua_State* L, std::string_view code, std::vector<FunctionInfo>* functions) {
  // The metadata line becomes a comment, so line numbers stay those of the code.
  std::string body = "--";
  body.append(code);
  if (luaL_loadbuffer(L, body.data(), body.size(), "@user_function") != 0) {
    const char* msg = lua_tostring(L, -1);
    std::string err = std::string("ERR Error compiling function: ") + (msg != nullptr ? msg : "");
    lua_settop(L, 0);
    return err;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kEnvKey);
  lua_setfenv(L, -2);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kPendingKey);
  functions->clear();
  t_loading = functions;
  int rc = lua_pcall(L, 0, 0, 0);
  t_loading = nullptr;
  std::string err;
  if (rc != 0) {
    const char* msg = lua_tostring(L, -1);
    err = std::string("ERR Error registering functions: ERR ") + (msg != nullptr ? msg : "");
  } else if (functions->empty()) {
    err = std::string(errors::kNoFunctionsRegistered);
  } else {
    // Move the callbacks into the function table.
    lua_getfield(L, LUA_REGISTRYINDEX, kFunctionsKey);
    lua_getfield(L, LUA_REGISTRYINDEX, kPendingKey);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    }
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kPendingKey);
  lua_settop(L, 0);
  if (!err.empty()) functions->clear();
  return err;
}

// ---- installing libraries ----

enum class Policy { kAppend, kReplace, kFlush };

// Checks codes (metadata, compiles and runs each in a scratch state) into libraries. Returns an
// error reply or empty.
std::string CheckLibraries(const std::vector<std::string>& codes,
                           std::vector<std::shared_ptr<Library>>* out) {
  lua_State* L = nullptr;
  std::string err;
  for (const std::string& code : codes) {
    auto lib = std::make_shared<Library>();
    if (err = ParseMetadata(code, &lib->name); !err.empty()) break;
    if (L == nullptr) L = NewFunctionState();
    lib->code = code;
    if (err = LoadInto(L, code, &lib->functions); !err.empty()) break;
    out->push_back(std::move(lib));
  }
  if (L != nullptr) lua_close(L);
  return err;
}

// Adds checked libraries to the registry under `policy`, all or none. `already_exists` is the
// text for a library that is there without REPLACE (FUNCTION LOAD quotes the name, RESTORE does
// not). Logs `log_args` to the AOF (under the registry's lock, so the log's order is the order of
// the changes) when given. Returns an error reply or empty.
std::string Install(std::vector<std::shared_ptr<Library>> libs, Policy policy, bool quoted_exists,
                    int db, std::span<const std::string_view> log_args) {
  Registry& r = Libs();
  std::lock_guard<std::mutex> lock(r.mu);
  LibraryMap next;
  if (policy != Policy::kFlush) next = r.libs;
  std::unordered_map<std::string, std::string> owner;  // function -> library, after the change
  for (const auto& lib : libs) {
    auto it = next.find(lib->name);
    if (it != next.end()) {
      if (policy != Policy::kReplace) {
        return quoted_exists ? "ERR Library '" + lib->name + "' already exists"
                             : "ERR Library " + lib->name + " already exists";
      }
      next.erase(it);
    }
    next.emplace(lib->name, lib);
  }
  for (const auto& [name, lib] : next) {
    for (const FunctionInfo& f : lib->functions) {
      if (!owner.emplace(f.name, name).second) {
        return "ERR Function " + f.name + " already exists";
      }
    }
  }
  r.libs.swap(next);
  r.generation.fetch_add(1);
  if (!log_args.empty()) aof::LogCommand(db, log_args);
  return {};
}

// ---- the functions' Lua state (per thread) ----

struct ThreadFunctions {
  lua_State* L = nullptr;
  uint64_t generation = 0;
  std::unordered_map<std::string, uint32_t> flags;  // the functions this state has
  ~ThreadFunctions() {
    if (L != nullptr) lua_close(L);
  }
};

// This thread's state, rebuilt from the libraries if they changed since it was built.
ThreadFunctions& ThisThreadFunctions() {
  thread_local ThreadFunctions t;
  Registry& r = Libs();
  if (t.L != nullptr && t.generation == r.generation.load()) return t;
  uint64_t gen = 0;
  LibraryMap libs = SnapshotLibraries(&gen);
  if (t.L != nullptr) lua_close(t.L);
  t.L = NewFunctionState();
  t.generation = gen;
  t.flags.clear();
  std::vector<FunctionInfo> functions;
  for (const auto& [name, lib] : libs) {
    // The code loaded once already; a failure here would be a bug, and leaves the function out.
    if (!LoadInto(t.L, lib->code, &functions).empty()) continue;
    for (const FunctionInfo& f : functions) t.flags[f.name] = f.flags;
  }
  return t;
}

// ---- the running function, for FUNCTION STATS ----

struct RunningFunction {
  std::mutex mu;
  std::string name;               // GUARDED_BY(mu)
  std::vector<std::string> argv;  // GUARDED_BY(mu)
  int64_t start_us = 0;           // GUARDED_BY(mu); 0: none
};

RunningFunction& Running() {
  static RunningFunction r;
  return r;
}

// ---- FCALL ----

void PushArgTable(lua_State* L, std::span<const std::string_view> items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

// FCALL function numkeys [key ...] [arg ...], and FCALL_RO.
void FcallGeneric(CommandContext& ctx, bool read_only_cmd) {
  ThreadFunctions& t = ThisThreadFunctions();
  std::string name(ctx.args[1]);
  auto it = t.flags.find(name);
  // Over maxmemory, a function that may write and has no allow-oom flag is refused before it
  // starts (Redis derives FCALL's command flags from the function's), with no MONITOR line.
  if (it != t.flags.end() && !(it->second & (kFlagNoWrites | kFlagAllowOom)) &&
      scripting_internal::OverMaxmemory(ctx)) {
    ctx.reply.Error(errors::kOom);
    return;
  }
  scripting_internal::FeedMonitors(ctx);
  if (it == t.flags.end()) {
    ctx.reply.Error(errors::kFunctionNotFound);
    return;
  }
  uint32_t flags = it->second;
  std::optional<int64_t> numkeys = ParseInt64(ctx.args[2]);
  if (!numkeys) {
    ctx.reply.Error(errors::kBadNumkeys);
    return;
  }
  if (*numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
    ctx.reply.Error(errors::kTooManyNumkeys);
    return;
  }
  if (*numkeys < 0) {
    ctx.reply.Error(errors::kNegativeNumkeys);
    return;
  }
  if (read_only_cmd && !(flags & kFlagNoWrites)) {
    ctx.reply.Error(errors::kFunctionWriteInRo);
    return;
  }
  size_t nk = static_cast<size_t>(*numkeys);
  lua_State* L = t.L;
  lua_pushcfunction(L, scripting_internal::ErrorHandlerFunction());
  int handler = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kFunctionsKey);
  lua_getfield(L, -1, name.c_str());
  lua_remove(L, -2);
  PushArgTable(L, ctx.args.subspan(3, nk));
  PushArgTable(L, ctx.args.subspan(3 + nk));
  RunningFunction& running = Running();
  {
    std::lock_guard<std::mutex> lock(running.mu);
    running.name = name;
    running.argv.assign(ctx.args.begin(), ctx.args.end());
    running.start_us = NowMonotonicUs();
  }
  scripting_internal::Run(ctx, L, handler, 2, name, read_only_cmd || (flags & kFlagNoWrites));
  {
    std::lock_guard<std::mutex> lock(running.mu);
    running.start_us = 0;
  }
  lua_settop(L, 0);
  thread_local int calls_since_gc = 0;
  scripting_internal::CollectAfterScript(L, calls_since_gc);
}

// FCALL function numkeys [key [key ...]] [arg [arg ...]]
void CmdFcall(CommandContext& ctx) { FcallGeneric(ctx, false); }
// FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]
void CmdFcallRo(CommandContext& ctx) { FcallGeneric(ctx, true); }

// ---- FUNCTION ----

// FUNCTION LOAD [REPLACE] function-code
void CmdFunctionLoad(CommandContext& ctx) {
  bool replace = false;
  for (size_t i = 2; i + 1 < ctx.args.size(); ++i) {
    if (!EqualsIgnoreCase(ctx.args[i], "replace")) {
      ctx.reply.Error("ERR Unknown option given: " + std::string(ctx.args[i]));
      return;
    }
    replace = true;
  }
  std::string code(ctx.args.back());
  std::string name;
  if (std::string err = ParseMetadata(code, &name); !err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  if (!replace) {
    Registry& r = Libs();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.libs.count(name) != 0) {
      ctx.reply.Error("ERR Library '" + name + "' already exists");
      return;
    }
  }
  std::vector<std::shared_ptr<Library>> libs;
  std::string err = CheckLibraries({code}, &libs);
  if (err.empty()) {
    err = Install(std::move(libs), replace ? Policy::kReplace : Policy::kAppend, true, ctx.db(),
                  ctx.args);
  }
  if (!err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  ctx.reply.Bulk(name);
}

// FUNCTION DELETE library-name
void CmdFunctionDelete(CommandContext& ctx) {
  Registry& r = Libs();
  std::shared_ptr<const Library> old;  // freed outside the lock
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.libs.find(std::string(ctx.args[2]));
    if (it == r.libs.end()) {
      ctx.reply.Error(errors::kLibraryNotFound);
      return;
    }
    old = std::move(it->second);
    r.libs.erase(it);
    r.generation.fetch_add(1);
    aof::LogCommand(ctx.db(), ctx.args);
  }
  ctx.reply.Ok();
}

// FUNCTION FLUSH [ASYNC|SYNC]
void CmdFunctionFlush(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::SubcommandSyntax(ctx.args[1], "function"));
    return;
  }
  if (ctx.args.size() == 3 && !EqualsIgnoreCase(ctx.args[2], "sync") &&
      !EqualsIgnoreCase(ctx.args[2], "async")) {
    ctx.reply.Error(errors::kFunctionFlushOption);
    return;
  }
  Registry& r = Libs();
  LibraryMap old;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    old.swap(r.libs);
    r.generation.fetch_add(1);
    aof::LogCommand(ctx.db(), ctx.args);
  }
  ctx.reply.Ok();
}

void WriteFlags(ReplyBuilder& reply, uint32_t flags) {
  size_t n = 0;
  for (const FlagName& f : kFlagNames) n += (flags & f.bit) ? 1 : 0;
  reply.SetHeader(n);
  for (const FlagName& f : kFlagNames) {
    if (flags & f.bit) reply.SimpleString(f.name);
  }
}

// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
void CmdFunctionList(CommandContext& ctx) {
  bool with_code = false;
  std::optional<std::string_view> pattern;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (!with_code && EqualsIgnoreCase(ctx.args[i], "withcode")) {
      with_code = true;
      continue;
    }
    if (!pattern && EqualsIgnoreCase(ctx.args[i], "libraryname")) {
      if (i + 1 >= ctx.args.size()) {
        ctx.reply.Error(errors::kLibraryNameMissing);
        return;
      }
      pattern = ctx.args[++i];
      continue;
    }
    ctx.reply.Error("ERR Unknown argument " + std::string(ctx.args[i]));
    return;
  }
  LibraryMap libs = SnapshotLibraries();
  std::vector<const Library*> shown;
  for (const auto& [name, lib] : libs) {
    if (!pattern || GlobMatch(*pattern, name, /*nocase=*/true)) shown.push_back(lib.get());
  }
  ctx.reply.ArrayHeader(shown.size());
  for (const Library* lib : shown) {
    ctx.reply.MapHeader(with_code ? 4 : 3);
    ctx.reply.Bulk("library_name");
    ctx.reply.Bulk(lib->name);
    ctx.reply.Bulk("engine");
    ctx.reply.Bulk("LUA");
    ctx.reply.Bulk("functions");
    ctx.reply.ArrayHeader(lib->functions.size());
    for (const FunctionInfo& f : lib->functions) {
      ctx.reply.MapHeader(3);
      ctx.reply.Bulk("name");
      ctx.reply.Bulk(f.name);
      ctx.reply.Bulk("description");
      if (f.description) {
        ctx.reply.Bulk(*f.description);
      } else {
        ctx.reply.NullBulk();
      }
      ctx.reply.Bulk("flags");
      WriteFlags(ctx.reply, f.flags);
    }
    if (with_code) {
      ctx.reply.Bulk("library_code");
      ctx.reply.Bulk(lib->code);
    }
  }
}

// FUNCTION STATS
void CmdFunctionStats(CommandContext& ctx) {
  if (!scripting::g_running_is_function.load() && scripting::PastBusyThreshold(ctx.server)) {
    ctx.reply.Error(errors::kBusyScript);
    return;
  }
  LibraryMap libs = SnapshotLibraries();
  size_t functions = 0;
  for (const auto& [name, lib] : libs) functions += lib->functions.size();
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("running_script");
  {
    RunningFunction& running = Running();
    std::lock_guard<std::mutex> lock(running.mu);
    if (running.start_us == 0) {
      ctx.reply.NullBulk();
    } else {
      ctx.reply.MapHeader(3);
      ctx.reply.Bulk("name");
      ctx.reply.Bulk(running.name);
      ctx.reply.Bulk("command");
      ctx.reply.ArrayHeader(running.argv.size());
      for (const std::string& a : running.argv) ctx.reply.Bulk(a);
      ctx.reply.Bulk("duration_ms");
      ctx.reply.Integer((NowMonotonicUs() - running.start_us) / 1000);
    }
  }
  ctx.reply.Bulk("engines");
  ctx.reply.MapHeader(1);
  ctx.reply.Bulk("LUA");
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("libraries_count");
  ctx.reply.Integer(static_cast<int64_t>(libs.size()));
  ctx.reply.Bulk("functions_count");
  ctx.reply.Integer(static_cast<int64_t>(functions));
}

// FUNCTION DUMP
void CmdFunctionDump(CommandContext& ctx) {
  ctx.reply.Bulk(rdb::FunctionsPayload(LibraryCodes(), ctx.server.config->rdbcompression()));
}

// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
void CmdFunctionRestore(CommandContext& ctx) {
  if (ctx.args.size() > 4) {
    ctx.reply.Error(errors::SubcommandSyntax(ctx.args[1], "function"));
    return;
  }
  Policy policy = Policy::kAppend;
  if (ctx.args.size() == 4) {
    if (EqualsIgnoreCase(ctx.args[3], "flush")) {
      policy = Policy::kFlush;
    } else if (EqualsIgnoreCase(ctx.args[3], "append")) {
      policy = Policy::kAppend;
    } else if (EqualsIgnoreCase(ctx.args[3], "replace")) {
      policy = Policy::kReplace;
    } else {
      ctx.reply.Error(errors::kFunctionRestorePolicy);
      return;
    }
  }
  std::vector<std::string> codes;
  if (Status st = rdb::ReadFunctionsPayload(ctx.args[2], &codes); !st.ok()) {
    ctx.reply.Error("ERR " + st.message());
    return;
  }
  std::vector<std::shared_ptr<Library>> libs;
  std::string err = CheckLibraries(codes, &libs);
  if (err.empty()) err = Install(std::move(libs), policy, false, ctx.db(), ctx.args);
  if (!err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  ctx.reply.Ok();
}

// FUNCTION KILL
void CmdFunctionKill(CommandContext& ctx) { scripting_internal::Kill(ctx, /*is_eval=*/false); }

// FUNCTION HELP
void CmdFunctionHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored using "
      "FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a "
      "restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
      "abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
      "replace the old",
      "      libraries with the new libraries (notice that even on this option there is a "
      "chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

namespace functions {

Status ReplaceAllFromRdb(const std::vector<std::string>& codes) {
  std::vector<std::shared_ptr<Library>> libs;
  std::string err = CheckLibraries(codes, &libs);
  if (err.empty()) err = Install(std::move(libs), Policy::kFlush, false, 0, {});
  if (!err.empty()) return Status::Error("Failed loading library: " + err);
  return Status::Ok();
}

}  // namespace functions

void RegisterFunctionFamily(CommandRegistry* r) {
  rdb::SetFunctionCodesSource(LibraryCodes);
  // FCALL locks every shard itself, as EVAL (kSelf: inside EXEC the whole keyspace is held).
  r->Register("fcall", CmdFcall, LockMode::kSelf);
  r->Register("fcall_ro", CmdFcallRo, LockMode::kSelf);
  // The libraries are not keyspace data: their own mutex orders the FUNCTION commands.
  r->Register("function|load", CmdFunctionLoad, LockMode::kNone);
  r->Register("function|delete", CmdFunctionDelete, LockMode::kNone);
  r->Register("function|flush", CmdFunctionFlush, LockMode::kNone);
  r->Register("function|list", CmdFunctionList, LockMode::kNone);
  r->Register("function|stats", CmdFunctionStats, LockMode::kNone);
  r->Register("function|dump", CmdFunctionDump, LockMode::kNone);
  r->Register("function|restore", CmdFunctionRestore, LockMode::kNone);
  r->Register("function|kill", CmdFunctionKill, LockMode::kNone);
  r->Register("function|help", CmdFunctionHelp, LockMode::kNone);
}

}  // namespace keel
