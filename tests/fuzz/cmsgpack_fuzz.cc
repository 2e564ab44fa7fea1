// libFuzzer target: cmsgpack's decoder (src/commands/lua_cmsgpack.cc), driven as a script calls
// it, in a Lua state with the scripts' counting allocator and a memory limit (as scripts run
// under lua-memory-limit: a huge length must fail, not allocate).
//
// The first input byte picks the call: unpack(s), unpack_one(s, offset) in a loop, or
// unpack_limit(s, limit, offset), offset and limit from the first two bytes. Values that decode
// are packed again and that encoding must decode (pack's output is always valid msgpack). One
// state serves every input (a new state per input costs more than the input) and is collected
// fully after each one, so garbage never nears the limit and libFuzzer's leak check sees each
// input free what it allocated.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../../src/commands/lua_libs.h"

namespace {

constexpr size_t kLimit = 64u << 20;

constexpr const char* kChunks[] = {
    // unpack: every value; pack them again and decode that.
    "local s = ...\n"
    "local t = {cmsgpack.unpack(s)}\n"
    "if #t > 0 then\n"
    "  local ok, e = pcall(cmsgpack.unpack, cmsgpack.pack(unpack(t)))\n"
    "  if not ok then error('REPACK: ' .. tostring(e)) end\n"
    "end\n"
    "return #t",
    // unpack_one from an offset, then on from the offset it returns.
    "local s, off = ...\n"
    "local n = 0\n"
    "while off ~= -1 and n < 64 do\n"
    "  local v\n"
    "  off, v = cmsgpack.unpack_one(s, off)\n"
    "  local ok, e = pcall(cmsgpack.unpack, cmsgpack.pack(v))\n"
    "  if not ok then error('REPACK: ' .. tostring(e)) end\n"
    "  n = n + 1\n"
    "end\n"
    "return n",
    // unpack_limit with a small limit and an offset.
    "local s, off, limit = ...\n"
    "local t = {cmsgpack.unpack_limit(s, limit, off)}\n"
    "return #t",
};

keel::lua_libs::MemoryAccount g_account;
lua_State* g_L = nullptr;
int g_refs[3];

void Init() {
  g_account.limit = kLimit;
  g_L = lua_newstate(keel::lua_libs::CountingAlloc, &g_account);
  if (g_L == nullptr) std::abort();
  lua_pushcfunction(g_L, luaopen_base);
  lua_call(g_L, 0, 0);
  keel::lua_libs::OpenCmsgpack(g_L);
  lua_setglobal(g_L, "cmsgpack");
  for (int i = 0; i < 3; ++i) {
    if (luaL_loadstring(g_L, kChunks[i]) != 0) std::abort();
    g_refs[i] = luaL_ref(g_L, LUA_REGISTRYINDEX);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_L == nullptr) Init();
  lua_State* L = g_L;
  uint8_t mode = size > 0 ? data[0] % 3 : 0;
  int off = size > 0 ? (data[0] >> 2) % 8 : 0;
  int limit = size > 1 ? data[1] % 16 : 0;
  size_t skip = size < 2 ? size : 2;
  lua_rawgeti(L, LUA_REGISTRYINDEX, g_refs[mode]);
  lua_pushlstring(L, reinterpret_cast<const char*>(data + skip), size - skip);
  lua_pushinteger(L, off);
  lua_pushinteger(L, limit);
  if (lua_pcall(L, 3, 1, 0) != 0) {
    // Any other error is an answer (the harness looks for crashes, leaks and UB); a repacked
    // value that does not decode is a bug, unless the memory limit stopped it.
    const char* err = lua_tostring(L, -1);
    if (err != nullptr && std::strncmp(err, "REPACK: ", 8) == 0 &&
        std::strstr(err, "memory") == nullptr) {
      std::fprintf(stderr, "cmsgpack_fuzz: %s\n", err);
      std::abort();
    }
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
