#pragma once
// What function_family.cc (FUNCTION, FCALL) shares with scripting_family.cc (EVAL): the Lua
// environment, the error handler, and the locked run of a script. Private to src/commands.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" {
#include <lua.h>
}

#include "keel/commands/dispatcher.h"

namespace keel::scripting_internal {

// The "#!lua flags=a,b" first line of an EVAL script (scripting_family.cc): sets *flags, returns
// an error text (without "ERR ") or empty. A body without "#!" has no flags.
std::string ParseShebang(std::string_view body, uint32_t* flags);
// The "#!lua name=<lib>" first line of a function library (function_family.cc): sets *name,
// returns an error reply or empty. Both are pure (tests/fuzz/scripts_fuzz.cc reads them).
std::string ParseMetadata(std::string_view code, std::string* name);

// A new Lua state with the EVAL environment: the libraries, the `redis` table, KEYS and ARGV,
// the protected globals. The caller owns it (lua_close).
lua_State* NewState();
// The error handler to pass to lua_pcall (turns an error into {err=, source=, line=}).
lua_CFunction ErrorHandlerFunction();
// redis.log.
lua_CFunction LogFunction();

// Runs the function at L's top, its `nargs` arguments above it and the error handler at stack
// index `handler`, as FCALL does: every shard lock, the kill hook (FUNCTION KILL), the busy clock
// (the -BUSY text names FUNCTION KILL), its writes logged as one MULTI ... EXEC; then writes its
// reply (a failure names `name`). `read_only` refuses write commands (FCALL_RO, no-writes).
// REQUIRES: called on an io thread from a command handler, L made on this thread.
void Run(CommandContext& ctx, lua_State* L, int handler, int nargs, const std::string& name,
         bool read_only);

// After a script (EVAL or FCALL) on L: one garbage collection step of kGcPeriod every
// kGcPeriod scripts, as Redis does (`count` is the caller's counter for L). A step after every
// script did twice the collection work: a third of an EVALSHA's CPU in a profile.
inline constexpr int kGcPeriod = 50;
inline void CollectAfterScript(lua_State* L, int& count) {
  if (++count < kGcPeriod) return;
  count = 0;
  lua_gc(L, LUA_GCSTEP, kGcPeriod);
}

// Whether memory is over maxmemory with nothing left to evict (Redis's pre_command_oom_state).
bool OverMaxmemory(CommandContext& ctx);

// The MONITOR line of EVAL/FCALL (skip_monitor commands that write it themselves, as the script
// starts, so that it comes before the lines of the commands the script runs).
void FeedMonitors(CommandContext& ctx);

// What the loaded libraries hold, for INFO memory (function_family.cc).
struct FunctionsMemory {
  size_t functions = 0;
  size_t libraries = 0;
  size_t bytes = 0;  // the libraries' code, names, descriptions and records
};
FunctionsMemory LoadedFunctionsMemory();

// SCRIPT KILL (is_eval) and FUNCTION KILL: stops the running script of its kind, or replies
// Redis's error (NOTBUSY, UNKILLABLE, or -BUSY naming the other KILL).
void Kill(CommandContext& ctx, bool is_eval);

}  // namespace keel::scripting_internal
