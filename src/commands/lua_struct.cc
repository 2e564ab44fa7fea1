// The `struct` Lua library as Redis 7.0 embeds it (see lua_libs.h), written here from its
// documented format language and checked against redis-server 7.0.15 (the differential case
// scripting_struct.txt):
//
//   >  <      big / little endian from here on (native, little, at the start)
//   ![n]      maximum alignment n (a power of 2; alone: 8, a double's alignment); 1 at the start
//   x         one padding byte (packs '\0', unpack skips it)
//   b B       signed / unsigned char       h H   short (2)      l L   long (8)
//   T         size_t (8)                   i[n] I[n]   int of n bytes (default 4, at most 32)
//   f d       float / double               s     zero-terminated string
//   c[n]      n characters (default 1); c0 packs the whole string, unpacks as many bytes as
//             the previous result says
//   ' '       ignored
//
// An option of size k is aligned to min(k, maximum alignment) bytes (c and zero sizes never).
// Integers pack as the low bytes of the value taken as a 64-bit integer (bytes past the eighth
// are zero); signed ones unpack sign-extended from their top bit.
//
// Lua errors are longjmps: no C++ object with a destructor lives in these frames.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lua_libs.h"

namespace keel::lua_libs {

namespace {

constexpr int kMaxIntSize = 32;
constexpr int kMaxAlign = 8;  // a double's alignment on x86-64
constexpr int kIntSize = 4;
constexpr int kLongSize = 8;
constexpr int kSizeTSize = 8;

struct Header {
  bool little = true;  // x86-64 is little-endian
  int align = 1;
};

// Reads an optional decimal size after an option; `fallback` when there is none.
int ReadNumber(lua_State* L, const char** fmt, int fallback) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return fallback;
  int a = 0;
  do {
    int digit = **fmt - '0';
    if (a > INT_MAX / 10 || a * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
    a = a * 10 + digit;
    ++*fmt;
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

// The size of option `opt` (reading its number, if it takes one); 0 for options without data.
size_t OptionSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
    case 'x':
      return 1;
    case 'H':
    case 'h':
      return 2;
    case 'L':
    case 'l':
      return kLongSize;
    case 'T':
      return kSizeTSize;
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'c':
      return static_cast<size_t>(ReadNumber(L, fmt, 1));
    case 'i':
    case 'I': {
      int size = ReadNumber(L, fmt, kIntSize);
      if (size > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", size, kMaxIntSize);
      }
      return static_cast<size_t>(size);
    }
    default:
      return 0;
  }
}

// Padding before an option of `size` bytes at offset `len` (the arithmetic holds for sizes
// that are not powers of 2 too, as the original's does).
size_t PaddingFor(size_t len, const Header& h, char opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(h.align)) size = static_cast<size_t>(h.align);
  return (size - (len & (size - 1))) & (size - 1);
}

// The options that change the header, and the error for every unknown option.
void ControlOption(lua_State* L, char opt, const char** fmt, Header* h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h->little = false;
      return;
    case '<':
      h->little = true;
      return;
    case '!': {
      int a = ReadNumber(L, fmt, kMaxAlign);
      if (a <= 0 || (a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
      h->align = a;
      return;
    }
    default: {
      lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, lua_tostring(L, -1));
    }
  }
}

bool IsInteger(char opt) { return std::strchr("bBhHlLTiI", opt) != nullptr && opt != '\0'; }

// The double as a 64-bit pattern, as x86-64's conversions give it (NaN and out of range
// negatives: 2^63's pattern; [2^63, 2^64) wrapped; 0 above).
uint64_t ToBits(double n) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(n)) return uint64_t{1} << 63;
  if (n < 0) {
    return n >= -kTwo63 ? static_cast<uint64_t>(static_cast<int64_t>(n)) : uint64_t{1} << 63;
  }
  if (n < kTwo63) return static_cast<uint64_t>(static_cast<int64_t>(n));
  if (n < 2 * kTwo63) {
    return static_cast<uint64_t>(static_cast<int64_t>(n - kTwo63)) ^ (uint64_t{1} << 63);
  }
  return 0;
}

void PutInteger(luaL_Buffer* b, uint64_t value, bool little, size_t size) {
  char buf[kMaxIntSize];
  for (size_t i = 0; i < size; ++i) {
    buf[little ? i : size - 1 - i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  luaL_addlstring(b, buf, size);
}

// Reverses `size` bytes unless the header's order is little-endian (x86-64's own).
void ToOrder(char* buf, size_t size, bool little) {
  if (little) return;
  for (size_t i = 0; i < size / 2; ++i) {
    char t = buf[i];
    buf[i] = buf[size - 1 - i];
    buf[size - 1 - i] = t;
  }
}

// Adds the `size` bytes of a float or double, in the header's byte order.
void PutFloatBytes(luaL_Buffer* b, const void* native, size_t size, bool little) {
  char buf[8];
  std::memcpy(buf, native, size);
  ToOrder(buf, size, little);
  luaL_addlstring(b, buf, size);
}

// struct.pack(fmt, v1, v2, ...)
int Pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t total = 0;
  // A nil between the arguments and the buffer's pieces (so the first missing argument is
  // "got nil", as in Redis).
  lua_pushnil(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    size_t pad = PaddingFor(total, h, opt, size);
    total += pad;
    for (; pad > 0; --pad) luaL_addchar(&b, '\0');
    if (IsInteger(opt)) {
      lua_Number n = luaL_checknumber(L, arg++);
      PutInteger(&b, ToBits(n), h.little, size);
    } else if (opt == 'x') {
      luaL_addchar(&b, '\0');
    } else if (opt == 'f') {
      float f = static_cast<float>(luaL_checknumber(L, arg++));
      PutFloatBytes(&b, &f, sizeof(f), h.little);
    } else if (opt == 'd') {
      double d = luaL_checknumber(L, arg++);
      PutFloatBytes(&b, &d, sizeof(d), h.little);
    } else if (opt == 'c' || opt == 's') {
      size_t len = 0;
      const char* s = luaL_checklstring(L, arg++, &len);
      if (size == 0) size = len;
      luaL_argcheck(L, len >= size, arg, "string too short");
      luaL_addlstring(&b, s, size);
      if (opt == 's') {
        luaL_addchar(&b, '\0');
        ++size;
      }
    } else {
      ControlOption(L, opt, &fmt, &h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

uint64_t GetBytes(const char* p, bool little, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) {
    v = (v << 8) | static_cast<unsigned char>(p[little ? size - 1 - i : i]);
  }
  return v;
}

lua_Number GetInteger(const char* p, bool little, bool is_signed, size_t size) {
  uint64_t v = GetBytes(p, little, size);
  if (!is_signed) return static_cast<lua_Number>(v);
  // The sign bit is the top bit of the field (taken modulo 64, as x86-64 shifts do, so fields
  // wider than 8 bytes use bit 63 or lower ones as the original does).
  uint64_t mask = ~uint64_t{0} << ((size * 8 - 1) & 63);
  if ((v & mask) != 0) v |= mask;
  return static_cast<lua_Number>(static_cast<int64_t>(v));
}

void GetFloatBytes(const char* p, void* native, size_t size, bool little) {
  char buf[8];
  std::memcpy(buf, p, size);
  ToOrder(buf, size, little);
  std::memcpy(native, buf, size);
}

// struct.unpack(fmt, s [, init]): the values, then the position after them (1-based).
int Unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t ld = 0;
  const char* data = luaL_checklstring(L, 2, &ld);
  // A negative init wraps to a huge position (then "data string too short"), as in Redis.
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  Header h;
  int results = 0;
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    pos += PaddingFor(pos, h, opt, size);
    luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    if (IsInteger(opt)) {
      lua_pushnumber(L, GetInteger(data + pos, h.little, std::islower(opt) != 0, size));
      ++results;
    } else if (opt == 'x') {
      // padding: nothing to return
    } else if (opt == 'f') {
      float f = 0;
      GetFloatBytes(data + pos, &f, sizeof(f), h.little);
      lua_pushnumber(L, static_cast<lua_Number>(f));
      ++results;
    } else if (opt == 'd') {
      double d = 0;
      GetFloatBytes(data + pos, &d, sizeof(d), h.little);
      lua_pushnumber(L, d);
      ++results;
    } else if (opt == 'c') {
      if (size == 0) {
        if (results == 0 || !lua_isnumber(L, -1))
          luaL_error(L, "format 'c0' needs a previous size");
        size = static_cast<size_t>(lua_tonumber(L, -1));
        lua_pop(L, 1);
        --results;
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
      }
      lua_pushlstring(L, data + pos, size);
      ++results;
    } else if (opt == 's') {
      const void* end = std::memchr(data + pos, '\0', ld - pos);
      if (end == nullptr) luaL_error(L, "unfinished string in data");
      size = static_cast<size_t>(static_cast<const char*>(end) - (data + pos)) + 1;
      lua_pushlstring(L, data + pos, size - 1);
      ++results;
    } else {
      ControlOption(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return results + 1;
}

// struct.size(fmt): the bytes pack(fmt, ...) makes; 's' and 'c0' have no fixed size. Unknown
// letters count 0 here (only pack and unpack refuse them); unknown other characters fail.
int Size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  size_t total = 0;
  while (*fmt != '\0') {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    if (!std::isalnum(static_cast<unsigned char>(opt))) ControlOption(L, opt, &fmt, &h);
    total += PaddingFor(total, h, opt, size) + size;
  }
  lua_pushnumber(L, static_cast<lua_Number>(total));
  return 1;
}

}  // namespace

int OpenStruct(lua_State* L) {
  static constexpr luaL_Reg kFunctions[] = {
      {"pack", Pack}, {"unpack", Unpack}, {"size", Size}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  return 1;
}

}  // namespace keel::lua_libs
