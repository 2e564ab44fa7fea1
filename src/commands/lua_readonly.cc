// Read-only library tables (see lua_libs.h). Redis 7.0's Lua has a read-only flag on tables;
// Debian's Lua 5.1 does not, so each library global becomes an empty proxy whose metatable
// reads through to the real table and refuses assignments, and the base functions that bypass
// metatables (rawset, setmetatable) or would show the proxy (getmetatable, next, pairs, ipairs)
// are replaced by versions that know the proxies (rawget too). The registry's kReadonlyKey table
// maps each protected table (every proxy, and the globals table) to its real table.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "lua_libs.h"

namespace keel::lua_libs {

namespace {

constexpr const char* kReadonlyKey = "keel_readonly";
constexpr const char* kReadonlyError = "Attempt to modify a readonly table";

// Pushes the real table behind the protected table at `idx`, or nil if it is not protected.
void PushReal(lua_State* L, int idx) {
  if (idx < 0) idx = lua_gettop(L) + idx + 1;
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
}

bool IsReadonly(lua_State* L, int idx) {
  PushReal(L, idx);
  bool readonly = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return readonly;
}

// Replaces the table argument 1 by its real table when it is a proxy (globals stay themselves).
void UnwrapFirst(lua_State* L) {
  PushReal(L, 1);
  if (lua_istable(L, -1)) {
    lua_replace(L, 1);
  } else {
    lua_pop(L, 1);
  }
}

// Raised with no position (as Redis's VM raises it from rawset and setmetatable).
int RaiseReadonly(lua_State* L) {
  lua_pushstring(L, kReadonlyError);
  return lua_error(L);
}

// A proxy's __newindex: with the script's position, as an assignment in Redis.
int ProxyNewIndex(lua_State* L) { return luaL_error(L, "%s", kReadonlyError); }

int Rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsReadonly(L, 1)) return RaiseReadonly(L);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int Rawget(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  UnwrapFirst(L);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

int Setmetatable(lua_State* L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
  if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
  if (IsReadonly(L, 1)) return RaiseReadonly(L);
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

int Getmetatable(lua_State* L) {
  luaL_checkany(L, 1);
  if (lua_istable(L, 1)) {
    PushReal(L, 1);
    bool proxy = lua_istable(L, -1) && !lua_rawequal(L, -1, 1);  // the globals map to themselves
    lua_pop(L, 1);
    if (proxy) {  // a library table has no metatable in Redis
      lua_pushnil(L);
      return 1;
    }
  }
  if (!lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  luaL_getmetafield(L, 1, "__metatable");
  return 1;
}

int Next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  UnwrapFirst(L);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

// pairs(t): the original next (upvalue 1) over the real table.
int Pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  UnwrapFirst(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// ipairs(t): the original ipairs (upvalue 1) over the real table.
int Ipairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  UnwrapFirst(L);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 1, 3);
  return 3;
}

// Sets global `name` to `fn` with the current value of global `upvalue_of` as its upvalue.
void ReplaceGlobal(lua_State* L, const char* name, lua_CFunction fn, const char* upvalue_of) {
  if (upvalue_of != nullptr) {
    lua_getfield(L, LUA_GLOBALSINDEX, upvalue_of);
    lua_pushcclosure(L, fn, 1);
  } else {
    lua_pushcfunction(L, fn);
  }
  lua_setfield(L, LUA_GLOBALSINDEX, name);
}

}  // namespace

void ProtectLibraries(lua_State* L, const char* const* names, size_t count) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  // The originals are captured before the replacements (pairs and ipairs keep them).
  ReplaceGlobal(L, "pairs", Pairs, "next");
  ReplaceGlobal(L, "ipairs", Ipairs, "ipairs");
  ReplaceGlobal(L, "next", Next, nullptr);
  ReplaceGlobal(L, "rawset", Rawset, nullptr);
  ReplaceGlobal(L, "rawget", Rawget, nullptr);
  ReplaceGlobal(L, "setmetatable", Setmetatable, nullptr);
  ReplaceGlobal(L, "getmetatable", Getmetatable, nullptr);
  lua_getfield(L, LUA_REGISTRYINDEX, kReadonlyKey);
  int registry = lua_gettop(L);
  for (size_t i = 0; i < count; ++i) {
    lua_getfield(L, LUA_GLOBALSINDEX, names[i]);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    int real = lua_gettop(L);
    lua_newtable(L);  // the proxy
    int proxy = lua_gettop(L);
    lua_newtable(L);  // its metatable
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ProxyNewIndex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, proxy);
    lua_pushvalue(L, proxy);
    lua_pushvalue(L, real);
    lua_rawset(L, registry);
    lua_pushvalue(L, proxy);
    lua_setfield(L, LUA_GLOBALSINDEX, names[i]);
    lua_settop(L, registry);
  }
  // The globals table itself (its metatable refuses new globals; rawset must refuse too).
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_rawset(L, registry);
  // String methods ("s"):upper() look up the string metatable's __index: the proxy, so that
  // getmetatable('').__index is the global `string`, as in Redis. The metatable itself must
  // stay a plain table (the VM reads its __index raw): a metatable of its own refuses new
  // fields, though its existing __index could still be overwritten (Redis refuses that too).
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_getfield(L, LUA_GLOBALSINDEX, "string");
    lua_setfield(L, -2, "__index");
    lua_newtable(L);
    lua_pushcfunction(L, ProxyNewIndex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
  }
  lua_settop(L, registry - 1);
}

}  // namespace keel::lua_libs
