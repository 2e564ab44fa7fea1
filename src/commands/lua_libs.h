#pragma once
// Libraries Redis 7.0 embeds in its Lua state beyond Lua's own, cjson and bit: cmsgpack
// (lua_cmsgpack.cc) and struct (lua_struct.cc), Redis's math.random (lua_random.cc), and the
// allocator that bounds a state's memory (lua_memory.cc). Private to src/commands:
// scripting_family.cc opens them in each io thread's state.
//
// The open functions follow Lua's luaopen_* convention (one result: the library's table, not
// yet a global). Everything here runs on the thread that owns the lua_State.

#include <atomic>
#include <cstddef>

struct lua_State;

namespace keel::lua_libs {

// cmsgpack: pack(...), unpack(s), unpack_one(s [,offset]), unpack_limit(s, limit [,offset]), with
// Redis 7.0's encodings and error texts.
int OpenCmsgpack(lua_State* L);

// struct: pack(fmt, ...), unpack(fmt, s [,init]), size(fmt), Roberto Ierusalimschy's format
// language as Redis embeds it (native little-endian x86-64 sizes: int 4, long and size_t 8).
int OpenStruct(lua_State* L);

// Replaces math.random and math.randomseed (the math library must be open, as the global `math`)
// by Redis 7.0's: one rand48 stream for the whole process (lua_random.cc).
void InstallRand48(lua_State* L);

// Makes the library tables named in names[0..count) read-only, as Redis 7.0's are: each global
// becomes a proxy that reads through and refuses assignments ("Attempt to modify a readonly
// table"), and rawset, setmetatable, getmetatable, next, pairs and ipairs are replaced by
// versions that know the proxies (rawset and setmetatable also refuse the globals table). Call
// once, after the libraries are open and before the globals table gets its own metatable.
void ProtectLibraries(lua_State* L, const char* const* names, size_t count);

// A lua_Alloc that counts the bytes the state holds and refuses to grow it past `limit` (0: no
// limit). `ud` is a MemoryAccount owned by whoever owns the state; it must outlive it. Only the
// state's thread writes an account; `used` is atomic so that INFO may read it from any thread.
struct MemoryAccount {
  std::atomic<size_t> used{0};
  size_t limit = 0;
  size_t peak = 0;
  bool refused = false;    // set when a request was refused since the flag was last cleared
  bool functions = false;  // a FUNCTION/FCALL state's account, else EVAL's
};
// A new account, never freed (so a state closed at thread exit never outlives it), counted by
// StatesMemory. Any thread.
MemoryAccount* NewAccount(bool functions);
// The bytes held by every EVAL state (functions false) or every function state, for INFO's
// used_memory_vm_eval and used_memory_vm_functions. Any thread.
size_t StatesMemory(bool functions);
void* CountingAlloc(void* ud, void* ptr, size_t old_size, size_t new_size);

}  // namespace keel::lua_libs
