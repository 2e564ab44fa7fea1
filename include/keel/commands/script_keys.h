#pragma once
// Which Lua scripts may run holding only their declared keys' shard locks (docs/architecture.md,
// "Scripting"). A script that passes this check provably touches, whatever its arguments and
// whatever path it takes, no key other than the elements of KEYS, in the database it was called
// in, and no whole database or keyspace: so locking the shards of KEYS before it starts makes it
// atomic, with no lock ever taken during its run. Any other script holds every shard lock.

#include <string_view>

namespace keel {

// True when every way `body` (a script's source, shebang line included) can reach a command is
// a `redis.call(...)` / `redis.pcall(...)` whose command is a string literal naming a command the
// dispatcher locks by its keys (LockMode::kKeys, with keys found by position alone) or that
// takes no lock (kNone), and every argument in a key position is `KEYS[...]` or a local bound
// once to `KEYS[...]`; and the script cannot reach the `redis` table, KEYS or the globals any
// other way (no _G, getfenv, setfenv, loadstring, load, rawset, rawget, setmetatable,
// getmetatable, no assignment into KEYS or of `redis`). Conservative: false means "not proven",
// never "escapes". REQUIRES: the command registry is filled (RegisterAllCommands). Any thread.
bool ScriptStaysInDeclaredKeys(std::string_view body);

}  // namespace keel
