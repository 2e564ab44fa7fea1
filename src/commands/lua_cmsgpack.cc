// The `cmsgpack` Lua library as Redis 7.0 offers it to scripts (see lua_libs.h).
//
// Packing goes through msgpack-c's packer (Debian's libmsgpack-dev): it picks the same shortest
// encodings Redis writes (fixint/uint8..64/int8..64, fixstr/str8/16/32, fixarray/array16/32,
// fixmap/map16/32, float32/float64, nil, true, false); what to pack each Lua value as is Redis's
// rule, decided here. Unpacking is this file's own decoder: msgpack-c's unpacker accepts bin,
// ext and the other types Redis refuses ("Bad data format in input."), classifies some of those
// errors differently, and stops at 32 levels of nesting where Redis goes on to the Lua stack's
// limit, so its verdicts would not be Redis's.
//
// Lua errors are longjmps: no C++ object with a destructor lives in a frame that calls Lua. The
// pack buffer is a thread_local reset at each call, so an error in the middle leaks nothing.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <msgpack.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lua_libs.h"

namespace keel::lua_libs {

namespace {

// Tables nested deeper than this are packed as nil, as Redis does.
constexpr int kMaxNesting = 16;

// ---- pack ----

struct PackBuffer {
  msgpack_sbuffer sbuf{};
  PackBuffer() { msgpack_sbuffer_init(&sbuf); }
  ~PackBuffer() { msgpack_sbuffer_destroy(&sbuf); }
};

thread_local PackBuffer t_pack;

// True when `d` is an integer a 64-bit int holds exactly (Redis packs those as integers).
bool IsInt64(double d) {
  return std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
         static_cast<double>(static_cast<int64_t>(d)) == d;
}

void PackNumber(msgpack_packer* pk, double d) {
  if (IsInt64(d)) {
    msgpack_pack_int64(pk, static_cast<int64_t>(d));
    return;
  }
  // float32 when it holds the value exactly (infinities included), else float64.
  if (std::isnan(d) || (std::isfinite(d) && std::fabs(d) > 3.4028234663852886e38)) {
    msgpack_pack_double(pk, d);
    return;
  }
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d) {
    msgpack_pack_float(pk, f);
  } else {
    msgpack_pack_double(pk, d);
  }
}

// A table is packed as an array when its keys are exactly 1..n (the empty table included).
bool TableIsArray(lua_State* L) {
  int top = lua_gettop(L);
  long count = 0;
  double max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    double n = 0;
    if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || n > INT_MAX ||
        static_cast<double>(static_cast<int>(n)) != n) {
      lua_settop(L, top);
      return false;
    }
    if (n > max) max = n;
    ++count;
  }
  lua_settop(L, top);
  return max == static_cast<double>(count);
}

void PackTop(lua_State* L, msgpack_packer* pk, int level);

void PackTable(lua_State* L, msgpack_packer* pk, int level) {
  luaL_checkstack(L, 3, "in function mp_encode_lua_table");
  if (TableIsArray(L)) {
    size_t len = lua_objlen(L, -1);
    msgpack_pack_array(pk, len);
    for (size_t j = 1; j <= len; ++j) {
      lua_pushnumber(L, static_cast<lua_Number>(j));
      lua_gettable(L, -2);
      PackTop(L, pk, level + 1);
      lua_pop(L, 1);
    }
    return;
  }
  size_t len = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    ++len;
  }
  msgpack_pack_map(pk, len);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pushvalue(L, -2);
    PackTop(L, pk, level + 1);  // the key
    lua_pop(L, 1);
    PackTop(L, pk, level + 1);  // the value
    lua_pop(L, 1);
  }
}

// Packs the value on top of the stack (left there).
void PackTop(lua_State* L, msgpack_packer* pk, int level) {
  int type = lua_type(L, -1);
  if (type == LUA_TTABLE && level == kMaxNesting) type = LUA_TNIL;
  switch (type) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      msgpack_pack_str(pk, len);
      msgpack_pack_str_body(pk, s, len);
      return;
    }
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, -1)) {
        msgpack_pack_true(pk);
      } else {
        msgpack_pack_false(pk);
      }
      return;
    case LUA_TNUMBER:
      PackNumber(pk, lua_tonumber(L, -1));
      return;
    case LUA_TTABLE:
      PackTable(L, pk, level);
      return;
    default:  // nil, functions, userdata, threads
      msgpack_pack_nil(pk);
  }
}

// cmsgpack.pack(v1, v2, ...): the values' encodings, concatenated.
int Pack(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  msgpack_sbuffer_clear(&t_pack.sbuf);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &t_pack.sbuf, msgpack_sbuffer_write);
  luaL_checkstack(L, 1, "in function mp_pack");
  for (int i = 1; i <= argc; ++i) {
    lua_pushvalue(L, i);
    PackTop(L, &pk, 0);
    lua_pop(L, 1);
  }
  lua_pushlstring(L, t_pack.sbuf.data, t_pack.sbuf.size);
  return 1;
}

// ---- unpack ----

enum class DecodeError { kNone, kMissingBytes, kBadFormat };

struct Cursor {
  const unsigned char* p;
  size_t left;
  DecodeError err = DecodeError::kNone;
};

bool Need(Cursor* c, size_t n) {
  if (c->left >= n) return true;
  c->err = DecodeError::kMissingBytes;
  return false;
}

void Consume(Cursor* c, size_t n) {
  c->p += n;
  c->left -= n;
}

uint64_t BigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

void DecodeValue(lua_State* L, Cursor* c);

void DecodeArray(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  for (size_t i = 1; i <= len; ++i) {
    lua_pushnumber(L, static_cast<lua_Number>(i));
    DecodeValue(L, c);
    if (c->err != DecodeError::kNone) return;
    lua_settable(L, -3);
  }
}

void DecodeMap(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 2, "in function mp_decode_to_lua_hash");
  for (size_t i = 0; i < len; ++i) {
    DecodeValue(L, c);  // the key
    if (c->err != DecodeError::kNone) return;
    DecodeValue(L, c);  // the value
    if (c->err != DecodeError::kNone) return;
    lua_settable(L, -3);  // a nil key raises "table index is nil", as in Redis
  }
}

// A string whose length is in the `len_bytes` bytes after the type byte.
void DecodeString(lua_State* L, Cursor* c, int len_bytes) {
  if (!Need(c, 1 + static_cast<size_t>(len_bytes))) return;
  size_t len = BigEndian(c->p + 1, len_bytes);
  size_t head = 1 + static_cast<size_t>(len_bytes);
  if (!Need(c, head + len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p + head), len);
  Consume(c, head + len);
}

// Pushes the next value, or sets c->err (a partial value may then be left on the stack).
void DecodeValue(lua_State* L, Cursor* c) {
  if (!Need(c, 1)) return;
  unsigned char type = c->p[0];
  switch (type) {
    case 0xcc:  // uint 8/16/32/64
    case 0xcd:
    case 0xce:
    case 0xcf: {
      int bytes = 1 << (type - 0xcc);
      if (!Need(c, 1 + static_cast<size_t>(bytes))) return;
      uint64_t v = BigEndian(c->p + 1, bytes);
      // Redis reads a uint 64 as a signed 64-bit integer (0xff..ff is -1).
      lua_pushnumber(L, bytes == 8 ? static_cast<lua_Number>(static_cast<int64_t>(v))
                                   : static_cast<lua_Number>(v));
      Consume(c, 1 + static_cast<size_t>(bytes));
      return;
    }
    case 0xd0:  // int 8/16/32/64
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      int bytes = 1 << (type - 0xd0);
      if (!Need(c, 1 + static_cast<size_t>(bytes))) return;
      uint64_t raw = BigEndian(c->p + 1, bytes);
      int64_t v = 0;
      switch (bytes) {
        case 1:
          v = static_cast<int8_t>(raw);
          break;
        case 2:
          v = static_cast<int16_t>(raw);
          break;
        case 4:
          v = static_cast<int32_t>(raw);
          break;
        default:
          v = static_cast<int64_t>(raw);
      }
      lua_pushnumber(L, static_cast<lua_Number>(v));
      Consume(c, 1 + static_cast<size_t>(bytes));
      return;
    }
    case 0xc0:
      lua_pushnil(L);
      Consume(c, 1);
      return;
    case 0xc2:
    case 0xc3:
      lua_pushboolean(L, type == 0xc3);
      Consume(c, 1);
      return;
    case 0xca: {
      if (!Need(c, 5)) return;
      uint32_t bits = static_cast<uint32_t>(BigEndian(c->p + 1, 4));
      float f = 0;
      std::memcpy(&f, &bits, sizeof(f));
      lua_pushnumber(L, static_cast<lua_Number>(f));
      Consume(c, 5);
      return;
    }
    case 0xcb: {
      if (!Need(c, 9)) return;
      uint64_t bits = BigEndian(c->p + 1, 8);
      double d = 0;
      std::memcpy(&d, &bits, sizeof(d));
      lua_pushnumber(L, d);
      Consume(c, 9);
      return;
    }
    case 0xd9:
      DecodeString(L, c, 1);
      return;
    case 0xda:
      DecodeString(L, c, 2);
      return;
    case 0xdb:
      DecodeString(L, c, 4);
      return;
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
      int bytes = (type == 0xdc || type == 0xde) ? 2 : 4;
      if (!Need(c, 1 + static_cast<size_t>(bytes))) return;
      size_t len = BigEndian(c->p + 1, bytes);
      Consume(c, 1 + static_cast<size_t>(bytes));
      if (type <= 0xdd) {
        DecodeArray(L, c, len);
      } else {
        DecodeMap(L, c, len);
      }
      return;
    }
    default:
      break;
  }
  if ((type & 0x80) == 0) {  // positive fixint
    lua_pushnumber(L, type);
    Consume(c, 1);
  } else if ((type & 0xe0) == 0xe0) {  // negative fixint
    lua_pushnumber(L, static_cast<int8_t>(type));
    Consume(c, 1);
  } else if ((type & 0xe0) == 0xa0) {  // fixstr
    size_t len = type & 0x1f;
    if (!Need(c, 1 + len)) return;
    lua_pushlstring(L, reinterpret_cast<const char*>(c->p + 1), len);
    Consume(c, 1 + len);
  } else if ((type & 0xf0) == 0x90) {  // fixarray
    Consume(c, 1);
    DecodeArray(L, c, type & 0x0f);
  } else if ((type & 0xf0) == 0x80) {  // fixmap
    Consume(c, 1);
    DecodeMap(L, c, type & 0x0f);
  } else {  // 0xc1, bin, ext and fixext: Redis's decoder knows none of them
    c->err = DecodeError::kBadFormat;
  }
}

// Decodes up to `limit` values from byte `offset` of argument 1 (limit 0 and offset 0: every
// value, and no offset returned). Otherwise the results are the next offset (-1 at the end of
// the input) followed by the values.
int UnpackFull(lua_State* L, int limit, int offset) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  bool decode_all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset,
                      static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", offset,
                      static_cast<int>(len));
  }
  if (decode_all) limit = INT_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - static_cast<size_t>(offset)};
  int count = 0;
  for (; c.left > 0 && count < limit; ++count) {
    luaL_checkstack(L, 1,
                    "too many return values at once; use unpack_one or unpack_limit instead.");
    DecodeValue(L, &c);
    if (c.err == DecodeError::kMissingBytes) return luaL_error(L, "Missing bytes in input.");
    if (c.err == DecodeError::kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (decode_all) return count;
  lua_pushinteger(L, c.left == 0 ? -1 : static_cast<lua_Integer>(len - c.left));
  lua_insert(L, lua_gettop(L) - count);
  return count + 1;
}

// cmsgpack.unpack(s): every value s holds.
int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

// cmsgpack.unpack_one(s [, offset]): the next offset and one value.
int UnpackOne(lua_State* L) {
  int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_settop(L, 1);
  return UnpackFull(L, 1, offset);
}

// cmsgpack.unpack_limit(s, limit [, offset]): the next offset and up to `limit` values.
int UnpackLimit(lua_State* L) {
  int limit = static_cast<int>(luaL_checkinteger(L, 2));
  int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_settop(L, 1);
  return UnpackFull(L, limit, offset);
}

void SetString(lua_State* L, const char* name, const char* value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

}  // namespace

int OpenCmsgpack(lua_State* L) {
  static constexpr luaL_Reg kFunctions[] = {{"pack", Pack},
                                            {"unpack", Unpack},
                                            {"unpack_one", UnpackOne},
                                            {"unpack_limit", UnpackLimit},
                                            {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  SetString(L, "_NAME", "cmsgpack");
  SetString(L, "_VERSION", "lua-cmsgpack 0.4.0");
  SetString(L, "_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo");
  SetString(L, "_DESCRIPTION", "MessagePack C implementation for Lua");
  return 1;
}

}  // namespace keel::lua_libs
