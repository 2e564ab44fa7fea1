// BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (signed) or 1 to 63 bits (unsigned) at any
// bit offset of a string, read (GET), written (SET) or incremented (INCRBY), with the overflow
// policy (OVERFLOW WRAP|SAT|FAIL) in force for the operations after it. Bit 0 is the most
// significant bit of byte 0, as for SETBIT. All operations are parsed before any runs; a write
// first grows the string with zero bytes up to the highest bit any write touches (creating the
// key if needed), as Redis does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "write.h"

namespace keel {

namespace {

enum class BfOp { kGet, kSet, kIncrby };
enum class Overflow { kWrap, kSat, kFail };

struct BitfieldOp {
  BfOp op;
  Overflow overflow;
  bool is_signed;
  int bits;
  uint64_t offset;
  int64_t value;  // SET's value or INCRBY's increment
};

// "i<1..64>" or "u<1..63>" (lower case, as Redis).
bool ParseBfType(std::string_view s, bool* is_signed, int* bits) {
  if (s.empty() || (s[0] != 'i' && s[0] != 'u')) return false;
  *is_signed = s[0] == 'i';
  std::optional<int64_t> n = ParseInt64(s.substr(1, s.find('\0', 1) - 1));
  if (!n || *n < 1 || *n > (*is_signed ? 64 : 63)) return false;
  *bits = static_cast<int>(*n);
  return true;
}

// A bit offset, or "#<n>" for the n-th field of this width.
bool ParseBfOffset(std::string_view s, int bits, int64_t max_bulk_len, uint64_t* out) {
  bool hash = !s.empty() && s[0] == '#';
  std::optional<int64_t> n = ParseInt64(hash ? s.substr(1) : s);
  if (!n || *n < 0) return false;
  int64_t v = *n;
  if (hash && __builtin_mul_overflow(v, static_cast<int64_t>(bits), &v)) return false;
  if ((v >> 3) >= max_bulk_len) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

uint64_t GetUnsigned(const std::string& s, uint64_t offset, int bits) {
  uint64_t v = 0;
  for (int i = 0; i < bits; ++i) {
    uint64_t bit = offset + static_cast<uint64_t>(i);
    size_t byte = bit >> 3;
    int b = byte < s.size() ? (static_cast<uint8_t>(s[byte]) >> (7 - (bit & 7))) & 1 : 0;
    v = (v << 1) | static_cast<uint64_t>(b);
  }
  return v;
}

int64_t GetSigned(const std::string& s, uint64_t offset, int bits) {
  uint64_t v = GetUnsigned(s, offset, bits);
  if (bits < 64 && (v & (uint64_t{1} << (bits - 1)))) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

// REQUIRES: the string covers the field.
void SetBits(std::string* s, uint64_t offset, int bits, uint64_t v) {
  for (int i = 0; i < bits; ++i) {
    uint64_t bit = offset + static_cast<uint64_t>(i);
    uint8_t mask = static_cast<uint8_t>(0x80u >> (bit & 7));
    char& c = (*s)[bit >> 3];
    if ((v >> (bits - 1 - i)) & 1) {
      c = static_cast<char>(static_cast<uint8_t>(c) | mask);
    } else {
      c = static_cast<char>(static_cast<uint8_t>(c) & ~mask);
    }
  }
}

// Redis's overflow rules for value + incr in a signed field of `bits`: 0 when it fits, else
// +1/-1 with *limit set to the wrapped or saturated result (FAIL leaves it unset).
int SignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t* limit) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  // Computed as unsigned: only used once `value` is known to be in range.
  const int64_t maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) - value);
  const int64_t minincr = static_cast<int64_t>(static_cast<uint64_t>(min) - value);
  int dir = 0;
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    dir = 1;
  } else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr)) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (ow == Overflow::kSat) {
    *limit = dir > 0 ? max : min;
  } else if (ow == Overflow::kWrap) {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      uint64_t mask = ~uint64_t{0} << bits;
      c = (c & (uint64_t{1} << (bits - 1))) ? (c | mask) : (c & ~mask);
    }
    *limit = static_cast<int64_t>(c);
  }
  return dir;
}

int UnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t* limit) {
  const uint64_t max = (uint64_t{1} << bits) - 1;  // bits <= 63
  const int64_t maxincr = static_cast<int64_t>(max - value);
  const int64_t minincr = static_cast<int64_t>(0 - value);
  int dir = 0;
  if (value > max || (incr > 0 && incr > maxincr)) {
    dir = 1;
  } else if (incr < 0 && incr < minincr) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (ow == Overflow::kSat) {
    *limit = dir > 0 ? max : 0;
  } else if (ow == Overflow::kWrap) {
    *limit = (value + static_cast<uint64_t>(incr)) & max;
  }
  return dir;
}

// Parses every operation; replies the error and returns false on the first bad one.
bool ParseOps(CommandContext& ctx, std::vector<BitfieldOp>* ops) {
  const int64_t max_bulk = ctx.server.config->proto_max_bulk_len();
  Overflow ow = Overflow::kWrap;
  const size_t argc = ctx.args.size();
  for (size_t j = 2; j < argc; ++j) {
    std::string_view sub = ctx.args[j];
    size_t left = argc - j - 1;
    BfOp op;
    if (EqualsIgnoreCase(sub, "get") && left >= 2) {
      op = BfOp::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && left >= 3) {
      op = BfOp::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && left >= 3) {
      op = BfOp::kIncrby;
    } else if (EqualsIgnoreCase(sub, "overflow") && left >= 1) {
      std::string_view t = ctx.args[++j];
      if (EqualsIgnoreCase(t, "wrap")) {
        ow = Overflow::kWrap;
      } else if (EqualsIgnoreCase(t, "sat")) {
        ow = Overflow::kSat;
      } else if (EqualsIgnoreCase(t, "fail")) {
        ow = Overflow::kFail;
      } else {
        ctx.reply.Error(errors::kBitfieldOverflow);
        return false;
      }
      continue;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
    BitfieldOp o{op, ow, false, 0, 0, 0};
    if (!ParseBfType(ctx.args[j + 1], &o.is_signed, &o.bits)) {
      ctx.reply.Error(errors::kBitfieldType);
      return false;
    }
    if (!ParseBfOffset(ctx.args[j + 2], o.bits, max_bulk, &o.offset)) {
      ctx.reply.Error(errors::kBitOffset);
      return false;
    }
    if (op != BfOp::kGet) {
      std::optional<int64_t> v = ParseInt64(ctx.args[j + 3]);
      if (!v) {
        ctx.reply.Error(errors::kNotInteger);
        return false;
      }
      o.value = *v;
    }
    ops->push_back(o);
    j += op == BfOp::kGet ? 2 : 3;
  }
  return true;
}

// Applies one write operation to a field whose current value is `old` (T: int64_t for signed
// fields, uint64_t for unsigned ones; `overflowed` is the matching rule) and replies its result.
// Returns whether it wrote.
template <typename T, typename OverflowFn>
bool ApplyWrite(CommandContext& ctx, const BitfieldOp& o, std::string* s, T old,
                OverflowFn overflowed) {
  T base = o.op == BfOp::kSet ? static_cast<T>(o.value) : old;
  int64_t incr = o.op == BfOp::kSet ? 0 : o.value;
  T wrapped = 0;
  int of = overflowed(base, incr, o.bits, o.overflow, &wrapped);
  if (of != 0 && o.overflow == Overflow::kFail) {
    ctx.reply.NullBulk();
    return false;
  }
  T now =
      of != 0 ? wrapped : static_cast<T>(static_cast<uint64_t>(base) + static_cast<uint64_t>(incr));
  SetBits(s, o.offset, o.bits, static_cast<uint64_t>(now));
  ctx.reply.Integer(static_cast<int64_t>(o.op == BfOp::kSet ? old : now));
  return true;
}

bool RunWrite(CommandContext& ctx, const BitfieldOp& o, std::string* s) {
  if (o.is_signed) {
    return ApplyWrite<int64_t>(ctx, o, s, GetSigned(*s, o.offset, o.bits), SignedOverflow);
  }
  return ApplyWrite<uint64_t>(ctx, o, s, GetUnsigned(*s, o.offset, o.bits), UnsignedOverflow);
}

void ReplyGet(CommandContext& ctx, const BitfieldOp& o, const std::string& s) {
  if (o.is_signed) {
    ctx.reply.Integer(GetSigned(s, o.offset, o.bits));
  } else {
    ctx.reply.Integer(static_cast<int64_t>(GetUnsigned(s, o.offset, o.bits)));
  }
}

void BitfieldGeneric(CommandContext& ctx, bool readonly_command) {
  std::vector<BitfieldOp> ops;
  if (!ParseOps(ctx, &ops)) return;
  bool writes = false;
  uint64_t highest = 0;
  for (const BitfieldOp& o : ops) {
    if (o.op == BfOp::kGet) continue;
    writes = true;
    highest = std::max(highest, o.offset + static_cast<uint64_t>(o.bits) - 1);
  }
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();
  if (!writes) {
    Entry* e = ReadLookup(ctx, key);
    if (WrongType(ctx, e, ObjType::kString)) return;
    char buf[32];
    std::string s = e != nullptr ? std::string(e->StringValue(buf)) : std::string();
    ctx.reply.ArrayHeader(ops.size());
    for (const BitfieldOp& o : ops) ReplyGet(ctx, o, s);
    return;
  }
  if (readonly_command) {
    ctx.reply.Error(errors::kBitfieldRoGetOnly);
    return;
  }
  Entry** link = ks.LookupLink(ctx.db(), key);
  if (link != nullptr && WrongType(ctx, *link, ObjType::kString)) return;
  const size_t need = static_cast<size_t>(highest >> 3) + 1;
  // A heap string is edited in place; anything else is copied out and stored back raw.
  std::string copy;
  std::string* s = &copy;
  bool in_place = link != nullptr && (*link)->storage == Entry::kHeap;
  if (in_place) {
    s = (*link)->heap();
  } else if (link != nullptr) {
    char buf[32];
    copy = std::string((*link)->StringValue(buf));
  }
  bool grown = s->size() < need;
  if (grown) s->resize(need, '\0');
  uint64_t changes = 0;
  ctx.reply.ArrayHeader(ops.size());
  for (const BitfieldOp& o : ops) {
    if (o.op == BfOp::kGet) {
      ReplyGet(ctx, o, *s);
    } else if (RunWrite(ctx, o, s)) {
      ++changes;
    }
  }
  if (link == nullptr) {
    ks.Put(ctx.db(), NewRawStringEntry(key, copy, -1));
    NewKeyEvent(ctx, key);
  } else if (in_place) {
    (*link)->enc = Encoding::kRaw;
  } else if (grown || changes > 0) {
    Entry* e = *link;
    ks.ReplaceAt(ctx.db(), link, NewRawStringEntry(e->key(), copy, e->expire_ms()));
  }
  if (changes > 0) {
    KeyChanged(ctx, key, Event{'$', "setbit"}, changes);
  } else if (link == nullptr || grown) {
    // Created or padded: WATCH sees it; the dirty counter and the subscribers do not.
    KeyChanged(ctx, key, kNoEvent, 0);
  }
}

// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
//          [OVERFLOW WRAP|SAT|FAIL] ...
void CmdBitfield(CommandContext& ctx) { BitfieldGeneric(ctx, false); }

// BITFIELD_RO key [GET type offset] ...
void CmdBitfieldRo(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

}  // namespace

void RegisterBitfieldFamily(CommandRegistry* r) {
  r->Register("bitfield", CmdBitfield);
  r->Register("bitfield_ro", CmdBitfieldRo);
}

}  // namespace keel
