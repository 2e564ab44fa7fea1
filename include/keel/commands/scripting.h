#pragma once
// What the dispatcher needs to know about a running Lua script (src/commands/scripting_family.cc):
// whether one has run past busy-reply-threshold, so that other clients get -BUSY.

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace keel {

struct ServerState;

namespace scripting {

// The monotonic start time (microseconds, NowMonotonicUs) of the oldest script running now, 0
// while none runs (scripts on distinct shards run at the same time on different io threads).
// Written by scripts' threads under the scripting family's registry mutex; any thread reads it
// (one relaxed load per command).
extern std::atomic<int64_t> g_running_since_us;
// Whether the script running now is a function (FCALL): -BUSY then names FUNCTION KILL.
extern std::atomic<bool> g_running_is_function;

// True when a script is running and has run for longer than busy-reply-threshold (a threshold
// of 0 or less never makes one busy). Any thread.
bool PastBusyThreshold(ServerState& server);

// Events while a script runs (Redis answers them from its script's hook,
// processEventsWhileBlocked). Set once by the net layer before the io threads start: on the calling
// io thread, answers what the thread's other idle connections sent (-BUSY, SCRIPT KILL, FUNCTION
// KILL, FUNCTION STATS). The script's Lua hook calls it, on the script's thread, every few
// milliseconds once the script is past busy-reply-threshold. Null: nothing is answered (unit tests
// without a server).
extern void (*g_serve_while_busy)();
// True on an io thread while it answers from inside its script's hook: the dispatcher then
// answers -BUSY to every command not flagged allow_busy, whatever the threshold says now (a
// CONFIG SET raising it meanwhile must not let a command wait for the shard locks this thread's
// script holds).
extern thread_local bool t_serving_while_busy;

// Whether commands not flagged allow_busy get -BUSY now: a script is past busy-reply-threshold,
// or this thread answers from inside its own script's hook. Any thread.
inline bool BusyNow(ServerState& server) {
  return g_running_since_us.load(std::memory_order_relaxed) != 0 &&
         (t_serving_while_busy || PastBusyThreshold(server));
}

// SHUTDOWN NOSAVE while BusyNow: every running script stops at its next hook call whether or not
// it has written (SCRIPT KILL would answer -UNKILLABLE), and its writes are not logged to the AOF,
// as Redis exits from inside the script before propagating them. Any thread.
void KillForShutdown();

// INFO memory's scripting fields, in Redis 7.0's order (used_memory_lua ...
// used_memory_scripts_human): the Lua states' bytes (EVAL's and the functions', every io
// thread's), the script cache's and the function libraries' bytes and counts. Any thread.
std::vector<std::pair<std::string, std::string>> InfoMemoryFields();
// The caches' bytes behind INFO's used_memory_scripts_eval and used_memory_functions (MEMORY
// STATS' lua.caches and functions.caches).
struct CachesMemory {
  size_t eval_scripts = 0;
  size_t functions = 0;
};
CachesMemory CachesMemoryNow();

}  // namespace scripting
}  // namespace keel
