#pragma once
// Libraries Redis 7.0 embeds in its Lua state beyond Lua's own, cjson and bit: cmsgpack
// (lua_cmsgpack.cc) and struct (lua_struct.cc), and the allocator that bounds a state's memory
// (lua_memory.cc). Private to src/commands: scripting_family.cc opens them in each io thread's
// state.
//
// The open functions follow Lua's luaopen_* convention (one result: the library's table, not
// yet a global). Everything here runs on the thread that owns the lua_State.

#include <cstddef>

struct lua_State;

namespace keel::lua_libs {

// cmsgpack: pack(...), unpack(s), unpack_one(s [,offset]), unpack_limit(s, limit [,offset]), with
// Redis 7.0's encodings and error texts.
int OpenCmsgpack(lua_State* L);

// struct: pack(fmt, ...), unpack(fmt, s [,init]), size(fmt), Roberto Ierusalimschy's format
// language as Redis embeds it (native little-endian x86-64 sizes: int 4, long and size_t 8).
int OpenStruct(lua_State* L);

// Makes the library tables named in names[0..count) read-only, as Redis 7.0's are: each global
// becomes a proxy that reads through and refuses assignments ("Attempt to modify a readonly
// table"), and rawset, setmetatable, getmetatable, next, pairs and ipairs are replaced by
// versions that know the proxies (rawset and setmetatable also refuse the globals table). Call
// once, after the libraries are open and before the globals table gets its own metatable.
void ProtectLibraries(lua_State* L, const char* const* names, size_t count);

// A lua_Alloc that counts the bytes the state holds and refuses to grow it past `limit` (0: no
// limit). `ud` is a MemoryAccount owned by whoever owns the state; it must outlive it.
struct MemoryAccount {
  size_t used = 0;
  size_t limit = 0;
  size_t peak = 0;
  bool refused = false;  // set when a request was refused since the flag was last cleared
};
void* CountingAlloc(void* ud, void* ptr, size_t old_size, size_t new_size);

}  // namespace keel::lua_libs
