// math.random and math.randomseed as Redis 7.0 has them (see lua_libs.h): Lua 5.1's argument
// rules over the rand48 generator (POSIX lrand48: a 48-bit linear congruential generator,
// x' = 0x5DEECE66D * x + 11 mod 2^48, returning the top 31 bits) in place of the C library's
// rand(). Redis keeps one generator for the whole process, never reseeded between scripts and
// starting from lrand48's default state, so the numbers a script draws after math.randomseed(n)
// are Redis's (the differential case scripting.txt checks them against redis-server 7.0.15).
//
// Lua errors are longjmps: no C++ object with a destructor lives in these frames.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <atomic>
#include <cmath>
#include <cstdint>

#include "lua_libs.h"

namespace keel::lua_libs {

namespace {

constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
constexpr uint64_t kIncrement = 0xB;
constexpr uint64_t kMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kLowWord = 0x330E;  // the low 16 bits of every seeded state
constexpr uint64_t kDefaultState = 0x1234ABCD0000ULL | kLowWord;
constexpr int32_t kRange = INT32_MAX;

// Every io thread's EVAL and function states draw from this one stream (scripts on distinct
// shards may run at once: a compare-and-swap step keeps each draw whole).
std::atomic<uint64_t> g_state{kDefaultState};

int32_t NextDraw() {
  uint64_t cur = g_state.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    next = (cur * kMultiplier + kIncrement) & kMask;
  } while (!g_state.compare_exchange_weak(cur, next, std::memory_order_relaxed));
  return static_cast<int32_t>(next >> 17);
}

// The width of [l, u] as a C int computes it (u - l + 1, wrapping past INT_MAX as Redis's build
// does) without the signed overflow.
int32_t Width(int l, int u) {
  return static_cast<int32_t>(static_cast<uint32_t>(u) - static_cast<uint32_t>(l) + 1u);
}

int Random(lua_State* L) {
  lua_Number r = static_cast<lua_Number>(NextDraw() % kRange) / static_cast<lua_Number>(kRange);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      return 1;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * u) + 1);
      return 1;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * Width(l, u)) + l);
      return 1;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
}

int RandomSeed(lua_State* L) {
  auto seed = static_cast<uint32_t>(luaL_checkint(L, 1));
  g_state.store((uint64_t{seed} << 16) | kLowWord, std::memory_order_relaxed);
  return 0;
}

}  // namespace

void InstallRand48(lua_State* L) {
  lua_getglobal(L, "math");
  lua_pushcfunction(L, Random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, RandomSeed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
}

}  // namespace keel::lua_libs
