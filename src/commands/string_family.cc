// String commands: GET, SET and its variants, MGET/MSET, APPEND, ranges, counters, LCS and the
// bit commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/owned_args.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"

namespace keel {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the handlers.

// Puts a string entry for `key` (args or entry bytes that outlive the call) and reports it with
// `event`, after "new" when it did not exist. The existence check is only made when
// notifications are on; it also expires a stale key first, as Redis's setKey does.
void PutNotify(CommandContext& ctx, Entry* fresh, std::string_view key, std::string_view event) {
  Keyspace& ks = ctx.keyspace();
  if (NotifyOn(ctx) && ks.Lookup(ctx.db(), key) == nullptr) NewKeyEvent(ctx, key);
  ks.Put(ctx.db(), fresh);
  KeyChanged(ctx, key, Event{'$', event});
}

bool WrongType(CommandContext& ctx, const Entry* e) {
  return keel::WrongType(ctx, e, ObjType::kString);
}

// Holds the formatted digits of an integer-encoded value.
struct ValueBuf {
  char data[32];
};

std::string_view StringOf(const Entry* e, ValueBuf* buf) { return e->StringValue(buf->data); }

size_t StringLength(const Entry* e) {
  switch (e->storage) {
    case Entry::kInline:
      return e->val_len;
    case Entry::kHeap:
      return e->heap()->size();
    default: {
      ValueBuf buf;
      return StringOf(e, &buf).size();
    }
  }
}

int64_t MaxBulkLen(CommandContext& ctx) { return ctx.server.config->proto_max_bulk_len(); }

// True (after replying the error) when a string of `size` bytes growing by `extra` bytes would
// exceed proto-max-bulk-len.
bool TooLong(CommandContext& ctx, uint64_t size, uint64_t extra) {
  uint64_t limit = static_cast<uint64_t>(MaxBulkLen(ctx));
  if (size > limit || extra > limit - size) {
    ctx.reply.Error(errors::kStringTooLong);
    return true;
  }
  return false;
}

void ReplyInvalidExpire(CommandContext& ctx, std::string_view command) {
  ctx.reply.Error(errors::InvalidExpire(command));
}

// Replaces the string value of the entry at `link` with `value` (reported as "raw"), keeping the
// TTL. Heap strings are changed in place.
void StoreRaw(CommandContext& ctx, Entry** link, std::string value) {
  Entry* e = *link;
  if (e->storage == Entry::kHeap && value.size() > kMaxGrowableInline) {
    *e->heap() = std::move(value);
    e->enc = Encoding::kRaw;
    return;
  }
  ctx.keyspace().ReplaceAt(ctx.db(), link, NewRawStringEntry(e->key(), value, e->expire_ms()));
}

// ---------------------------------------------------------------------------------------------
// SET and friends.

enum SetFlag : unsigned {
  kNx = 1u << 0,
  kXx = 1u << 1,
  kGetOld = 1u << 2,
  kKeepTtl = 1u << 3,
  kPersist = 1u << 4,
  kEx = 1u << 5,
  kPx = 1u << 6,
  kExAt = 1u << 7,
  kPxAt = 1u << 8,
};
constexpr unsigned kAnyExpire = kEx | kPx | kExAt | kPxAt;

struct ExpireOptions {
  unsigned flags = 0;
  std::optional<std::string_view> expire;  // the argument after EX/PX/EXAT/PXAT
};

// Parses SET's options (for_set) or GETEX's, starting at args[first]. Replies a syntax error and
// returns false on a bad or conflicting option.
bool ParseExpireOptions(CommandContext& ctx, size_t first, bool for_set, ExpireOptions* out) {
  auto& args = ctx.args;
  unsigned& f = out->flags;
  for (size_t j = first; j < args.size(); ++j) {
    std::string_view opt = args[j];
    bool has_next = j + 1 < args.size();
    auto expire_opt = [&](unsigned flag) {
      // An expire option conflicts with KEEPTTL, PERSIST and the other three units.
      if (!has_next || (f & (kKeepTtl | kPersist | (kAnyExpire & ~flag)))) return false;
      f |= flag;
      out->expire = args[++j];
      return true;
    };
    bool ok;
    if (EqualsIgnoreCase(opt, "nx")) {
      ok = for_set && !(f & kXx);
      if (ok) f |= kNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      ok = for_set && !(f & kNx);
      if (ok) f |= kXx;
    } else if (EqualsIgnoreCase(opt, "get")) {
      ok = for_set;
      if (ok) f |= kGetOld;
    } else if (EqualsIgnoreCase(opt, "keepttl")) {
      ok = for_set && !(f & (kPersist | kAnyExpire));
      if (ok) f |= kKeepTtl;
    } else if (EqualsIgnoreCase(opt, "persist")) {
      ok = !for_set && !(f & (kKeepTtl | kAnyExpire));
      if (ok) f |= kPersist;
    } else if (EqualsIgnoreCase(opt, "ex")) {
      ok = expire_opt(kEx);
    } else if (EqualsIgnoreCase(opt, "px")) {
      ok = expire_opt(kPx);
    } else if (EqualsIgnoreCase(opt, "exat")) {
      ok = expire_opt(kExAt);
    } else if (EqualsIgnoreCase(opt, "pxat")) {
      ok = expire_opt(kPxAt);
    } else {
      ok = false;
    }
    if (!ok) {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Turns an expire argument into an absolute unix time in ms. `seconds` selects the unit and
// `relative` adds the current time. Replies the error and returns false when invalid.
bool ExpireToUnixMs(CommandContext& ctx, std::string_view arg, bool seconds, bool relative,
                    std::string_view command, int64_t* out) {
  auto v = ParseInt64(arg);
  if (!v) {
    ctx.reply.Error(errors::kNotInteger);
    return false;
  }
  int64_t ms = *v;
  if (ms <= 0 || (seconds && ms > kInt64Max / 1000)) {
    ReplyInvalidExpire(ctx, command);
    return false;
  }
  if (seconds) ms *= 1000;
  if (relative) {
    int64_t now = NowUnixMs();
    if (ms > kInt64Max - now) {
      ReplyInvalidExpire(ctx, command);
      return false;
    }
    ms += now;
  }
  *out = ms;
  return true;
}

bool ExpireFromOptions(CommandContext& ctx, const ExpireOptions& o, std::string_view command,
                       int64_t* out) {
  return ExpireToUnixMs(ctx, *o.expire, (o.flags & (kEx | kExAt)) != 0,
                        (o.flags & (kEx | kPx)) != 0, command, out);
}

enum class SetReply { kOk, kOneZero };

// The entry for `value` stored whole under `key`. A big argument the connection received into a
// string of its own is taken into the entry instead of copied (keel/commands/owned_args.h: the
// caller stores the entry and never frees it before the command ends). Small values pay one
// comparison.
Entry* NewValueEntry(std::string_view key, std::string_view value, int64_t expire_ms) {
  if (value.size() > kMaxInlineString) {
    if (auto owned = owned_args::Take(value)) {
      return NewHeapStringEntry(key, std::move(owned), expire_ms);
    }
  }
  return NewStringEntry(key, value, expire_ms);
}

// The common part of SET, SETNX, SETEX and PSETEX.
void SetGeneric(CommandContext& ctx, const ExpireOptions& o, std::string_view key,
                std::string_view value, std::string_view command, SetReply style) {
  int64_t when = -1;
  if (o.expire && !ExpireFromOptions(ctx, o, command, &when)) return;
  Keyspace& ks = ctx.keyspace();
  // One hash of the key and one walk of its chain for the lookup and the store.
  Keyspace::WriteSlot slot = ks.LookupForWrite(ctx.db(), key);
  Entry* old = slot.link != nullptr ? *slot.link : nullptr;
  if (o.flags & kGetOld) {
    CountRead(ctx, ctx.db(), key, old != nullptr);
    if (WrongType(ctx, old)) return;
    if (old == nullptr) {
      ctx.reply.NullBulk();
    } else {
      ValueBuf buf;
      ctx.reply.Bulk(StringOf(old, &buf));
    }
  }
  bool found = old != nullptr;
  if (((o.flags & kNx) && found) || ((o.flags & kXx) && !found)) {
    if (!(o.flags & kGetOld)) {
      if (style == SetReply::kOk) {
        ctx.reply.NullBulk();
      } else {
        ctx.reply.Integer(0);
      }
    }
    return;
  }
  if ((o.flags & kKeepTtl) && found) when = old->expire_ms();
  if (!found) NewKeyEvent(ctx, key);
  ks.Store(ctx.db(), slot, NewValueEntry(key, value, when));
  KeyChanged(ctx, key, Event{'$', "set"}, o.expire ? Event{'g', "expire"} : kNoEvent);
  if (!(o.flags & kGetOld)) {
    if (style == SetReply::kOk) {
      ctx.reply.Ok();
    } else {
      ctx.reply.Integer(1);
    }
  }
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
void CmdSet(CommandContext& ctx) {
  ExpireOptions o;
  if (!ParseExpireOptions(ctx, 3, true, &o)) return;
  SetGeneric(ctx, o, ctx.args[1], ctx.args[2], "set", SetReply::kOk);
}

// SETNX key value
void CmdSetNx(CommandContext& ctx) {
  ExpireOptions o;
  o.flags = kNx;
  SetGeneric(ctx, o, ctx.args[1], ctx.args[2], "setnx", SetReply::kOneZero);
}

// SETEX key seconds value
void CmdSetEx(CommandContext& ctx) {
  ExpireOptions o;
  o.flags = kEx;
  o.expire = ctx.args[2];
  SetGeneric(ctx, o, ctx.args[1], ctx.args[3], "setex", SetReply::kOk);
}

// PSETEX key milliseconds value
void CmdPSetEx(CommandContext& ctx) {
  ExpireOptions o;
  o.flags = kPx;
  o.expire = ctx.args[2];
  SetGeneric(ctx, o, ctx.args[1], ctx.args[3], "psetex", SetReply::kOk);
}

// Replies the string value of `key`: nil when there is none, WRONGTYPE when it is no string.
// Returns true when it replied a value.
bool ReplyStringValue(CommandContext& ctx, std::string_view key) {
  Entry* e = ReadLookup(ctx, key);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return false;
  }
  if (WrongType(ctx, e)) return false;
  ValueBuf buf;
  ctx.reply.Bulk(StringOf(e, &buf));
  return true;
}

// The string at the command's key for a read-only command that answers 0 for a missing key:
// nullptr after replying 0, or WRONGTYPE.
Entry* ReadStringOrZero(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return nullptr;
  }
  return WrongType(ctx, e) ? nullptr : e;
}

// GET key
void CmdGet(CommandContext& ctx) { ReplyStringValue(ctx, ctx.args[1]); }

// GETSET key value
void CmdGetSet(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.NullBulk();
  } else {
    ValueBuf buf;
    ctx.reply.Bulk(StringOf(e, &buf));
  }
  if (e == nullptr) NewKeyEvent(ctx, ctx.args[1]);
  ctx.keyspace().Put(ctx.db(), NewValueEntry(ctx.args[1], ctx.args[2], -1));
  KeyChanged(ctx, ctx.args[1], Event{'$', "set"});
}

// GETDEL key
void CmdGetDel(CommandContext& ctx) {
  if (!ReplyStringValue(ctx, ctx.args[1])) return;
  ctx.keyspace().Delete(ctx.db(), ctx.args[1]);
  KeyDeleted(ctx, ctx.args[1]);
}

// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
void CmdGetEx(CommandContext& ctx) {
  ExpireOptions o;
  if (!ParseExpireOptions(ctx, 2, false, &o)) return;
  Entry** link = ReadLookupLink(ctx, ctx.args[1]);
  if (link == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  if (WrongType(ctx, *link)) return;
  int64_t when = -1;
  if (o.expire && !ExpireFromOptions(ctx, o, "getex", &when)) return;
  {
    ValueBuf buf;
    ctx.reply.Bulk(StringOf(*link, &buf));
  }
  Keyspace& ks = ctx.keyspace();
  if ((o.flags & (kExAt | kPxAt)) && when <= NowUnixMs()) {
    ks.Delete(ctx.db(), ctx.args[1]);
    KeyDeleted(ctx, ctx.args[1]);
  } else if (o.expire) {
    ks.SetExpire(ctx.db(), link, when);
    KeyChanged(ctx, ctx.args[1], Event{'g', "expire"});
  } else if ((o.flags & kPersist) && (*link)->has_expire()) {
    ks.SetExpire(ctx.db(), link, -1);
    KeyChanged(ctx, ctx.args[1], Event{'g', "persist"});
  }
}

// MGET key [key ...]
void CmdMGet(CommandContext& ctx) {
  ctx.reply.ArrayHeader(ctx.args.size() - 1);
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    Entry* e = ReadLookup(ctx, ctx.args[i]);
    if (e == nullptr || e->type != ObjType::kString) {
      ctx.reply.NullBulk();
    } else {
      ValueBuf buf;
      ctx.reply.Bulk(StringOf(e, &buf));
    }
  }
}

// Stores MSET's and MSETNX's pairs, in order. A big value is taken without a copy only for the
// last pair of its key: an earlier entry is replaced (and freed) by the later one while the
// command still needs its argument's bytes.
void PutPairs(CommandContext& ctx) {
  std::unordered_map<std::string_view, size_t> last;  // only with big arguments lent
  if (owned_args::Any()) {
    for (size_t i = 1; i < ctx.args.size(); i += 2) last[ctx.args[i]] = i;
  }
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    std::string_view key = ctx.args[i];
    bool take = !last.empty() && last[key] == i;
    Entry* e =
        take ? NewValueEntry(key, ctx.args[i + 1], -1) : NewStringEntry(key, ctx.args[i + 1], -1);
    PutNotify(ctx, e, key, "set");
  }
}

// MSET key value [key value ...]
void CmdMSet(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) {
    ctx.reply.Error(errors::WrongArity("mset"));
    return;
  }
  PutPairs(ctx);
  ctx.reply.Ok();
}

// MSETNX key value [key value ...]
void CmdMSetNx(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) {
    ctx.reply.Error(errors::WrongArity("msetnx"));
    return;
  }
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    if (ctx.keyspace().Lookup(ctx.db(), ctx.args[i]) != nullptr) {
      ctx.reply.Integer(0);
      return;
    }
  }
  PutPairs(ctx);
  ctx.reply.Integer(1);
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE.

// Writes `patch` at `offset` into the string at `link` (of `old_len` bytes), zero-filling any
// gap, and returns the new length. Heap strings change in place; inline and integer ones are
// copied and stored back as "raw", as APPEND and SETRANGE leave them in Redis.
size_t WritePatch(CommandContext& ctx, Entry** link, size_t old_len, size_t offset,
                  std::string_view patch) {
  Entry* e = *link;
  size_t new_len = std::max<size_t>(old_len, offset + patch.size());
  if (e->storage == Entry::kHeap) {
    std::string* s = e->heap();
    if (s->size() < new_len) s->resize(new_len, '\0');
    std::memcpy(s->data() + offset, patch.data(), patch.size());
    e->enc = Encoding::kRaw;
  } else {
    ValueBuf buf;
    std::string value(StringOf(e, &buf));
    value.resize(new_len, '\0');
    std::memcpy(value.data() + offset, patch.data(), patch.size());
    StoreRaw(ctx, link, std::move(value));
  }
  return new_len;
}

// Adds the key that APPEND or SETRANGE created, with its events, and replies its length.
void AddPatchedKey(CommandContext& ctx, Entry* e, std::string_view event) {
  std::string_view key = ctx.args[1];
  size_t len = StringLength(e);
  NewKeyEvent(ctx, key);
  ctx.keyspace().Put(ctx.db(), e);
  KeyChanged(ctx, key, Event{'$', event});
  ctx.reply.Integer(static_cast<int64_t>(len));
}

// APPEND key value
void CmdAppend(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  std::string_view tail = ctx.args[2];
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  if (link == nullptr) {
    AddPatchedKey(ctx, NewValueEntry(key, tail, -1), "append");
    return;
  }
  Entry* e = *link;
  if (WrongType(ctx, e)) return;
  size_t old_len = StringLength(e);
  if (TooLong(ctx, old_len, tail.size())) return;
  WritePatch(ctx, link, old_len, old_len, tail);
  KeyChanged(ctx, key, Event{'$', "append"});
  ctx.reply.Integer(static_cast<int64_t>(old_len + tail.size()));
}

// STRLEN key
void CmdStrLen(CommandContext& ctx) {
  Entry* e = ReadStringOrZero(ctx);
  if (e == nullptr) return;
  ctx.reply.Integer(static_cast<int64_t>(StringLength(e)));
}

// GETRANGE key start end (and SUBSTR)
void CmdGetRange(CommandContext& ctx) {
  auto start = ParseInt64(ctx.args[2]);
  auto end = ParseInt64(ctx.args[3]);
  if (!start || !end) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (e == nullptr) {
    ctx.reply.Bulk("");
    return;
  }
  if (WrongType(ctx, e)) return;
  ValueBuf buf;
  std::string_view s = StringOf(e, &buf);
  int64_t len = static_cast<int64_t>(s.size());
  int64_t from = *start, to = *end;
  if (from < 0 && to < 0 && from > to) {
    ctx.reply.Bulk("");
    return;
  }
  if (from < 0) from += len;
  if (to < 0) to += len;
  if (from < 0) from = 0;
  if (to < 0) to = 0;
  if (to >= len) to = len - 1;
  if (len == 0 || from > to) {
    ctx.reply.Bulk("");
    return;
  }
  ctx.reply.Bulk(s.substr(static_cast<size_t>(from), static_cast<size_t>(to - from + 1)));
}

// SETRANGE key offset value
void CmdSetRange(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  std::string_view patch = ctx.args[3];
  auto offset_arg = ParseInt64(ctx.args[2]);
  if (!offset_arg) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*offset_arg < 0) {
    ctx.reply.Error(errors::kOffsetRange);
    return;
  }
  uint64_t offset = static_cast<uint64_t>(*offset_arg);
  Keyspace& ks = ctx.keyspace();
  Entry** link = ks.LookupLink(ctx.db(), key);
  if (link == nullptr) {
    if (patch.empty()) {
      ctx.reply.Integer(0);
      return;
    }
    if (TooLong(ctx, offset, patch.size())) return;
    std::string value(offset + patch.size(), '\0');
    std::memcpy(value.data() + offset, patch.data(), patch.size());
    AddPatchedKey(ctx, NewRawStringEntry(key, value, -1), "setrange");
    return;
  }
  Entry* e = *link;
  if (WrongType(ctx, e)) return;
  size_t old_len = StringLength(e);
  if (patch.empty()) {
    ctx.reply.Integer(static_cast<int64_t>(old_len));
    return;
  }
  if (TooLong(ctx, offset, patch.size())) return;
  size_t new_len = WritePatch(ctx, link, old_len, offset, patch);
  KeyChanged(ctx, key, Event{'$', "setrange"});
  ctx.reply.Integer(static_cast<int64_t>(new_len));
}

// ---------------------------------------------------------------------------------------------
// Counters.

// The number a counter command starts from: 0 for a missing key, else the string parsed by
// `parse` (integers stored as such are taken directly). Replies `error` and returns false when
// the value is not a number.
template <typename T, typename Parse>
bool CounterValue(CommandContext& ctx, const Entry* e, Parse parse, std::string_view error,
                  T* value) {
  if (e == nullptr) return true;
  if (e->storage == Entry::kInt) {
    *value = static_cast<T>(e->int_value());
    return true;
  }
  ValueBuf buf;
  auto parsed = parse(StringOf(e, &buf));
  if (!parsed) {
    ctx.reply.Error(error);
    return false;
  }
  *value = *parsed;
  return true;
}

void IncrBy(CommandContext& ctx, int64_t incr) {
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();
  Entry** link = ks.LookupLink(ctx.db(), key);
  Entry* e = link != nullptr ? *link : nullptr;
  if (WrongType(ctx, e)) return;
  int64_t value = 0;
  if (!CounterValue(ctx, e, ParseInt64, errors::kNotInteger, &value)) return;
  if ((incr < 0 && value < 0 && incr < kInt64Min - value) ||
      (incr > 0 && value > 0 && incr > kInt64Max - value)) {
    ctx.reply.Error(errors::kOverflow);
    return;
  }
  value += incr;
  if (e == nullptr) {
    ks.Put(ctx.db(), NewIntEntry(key, value, -1));
    NewKeyEvent(ctx, key);
  } else if (e->storage == Entry::kInt) {
    e->set_int_value(value);
  } else {
    ks.ReplaceAt(ctx.db(), link, NewIntEntry(key, value, e->expire_ms()));
  }
  // INCR, DECR and DECRBY all report "incrby", as in Redis.
  KeyChanged(ctx, key, Event{'$', "incrby"});
  ctx.reply.Integer(value);
}

void CmdIncr(CommandContext& ctx) { IncrBy(ctx, 1); }
void CmdDecr(CommandContext& ctx) { IncrBy(ctx, -1); }

void CmdIncrBy(CommandContext& ctx) {
  auto incr = ParseInt64(ctx.args[2]);
  if (!incr) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  IncrBy(ctx, *incr);
}

void CmdDecrBy(CommandContext& ctx) {
  auto decr = ParseInt64(ctx.args[2]);
  if (!decr) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*decr == kInt64Min) {
    ctx.reply.Error(errors::kDecrOverflow);
    return;
  }
  IncrBy(ctx, -*decr);
}

// INCRBYFLOAT key increment
void CmdIncrByFloat(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();
  Entry** link = ks.LookupLink(ctx.db(), key);
  Entry* e = link != nullptr ? *link : nullptr;
  if (WrongType(ctx, e)) return;
  long double value = 0;
  if (!CounterValue(ctx, e, ParseLongDouble, errors::kNotFloat, &value)) return;
  auto incr = ParseLongDouble(ctx.args[2]);
  if (!incr) {
    ctx.reply.Error(errors::kNotFloat);
    return;
  }
  value += *incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply.Error(errors::kIncrNaN);
    return;
  }
  std::string text = FormatIncrFloat(value);
  // Redis stores the formatted text as a plain string (embstr when short), not as an integer.
  Entry* fresh = NewRawStringEntry(key, text, e != nullptr ? e->expire_ms() : -1);
  if (text.size() <= kEmbstrLimit) fresh->enc = Encoding::kEmbstr;
  if (link != nullptr) {
    ks.ReplaceAt(ctx.db(), link, fresh);
  } else {
    ks.Put(ctx.db(), fresh);
    NewKeyEvent(ctx, key);
  }
  KeyChanged(ctx, key, Event{'$', "incrbyfloat"});
  aof::LogAs(ctx.db(), {"SET", key, text, "KEEPTTL"});  // exact, whatever the float format
  ctx.reply.Bulk(text);
}

// ---------------------------------------------------------------------------------------------
// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

void CmdLcs(CommandContext& ctx) {
  Entry* ea = ReadLookup(ctx, ctx.args[1]);
  Entry* eb = ReadLookup(ctx, ctx.args[2]);
  if ((ea != nullptr && ea->type != ObjType::kString) ||
      (eb != nullptr && eb->type != ObjType::kString)) {
    ctx.reply.Error(errors::kLcsNotStrings);
    return;
  }
  bool want_len = false, want_idx = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "idx")) {
      want_idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      want_len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && j + 1 < ctx.args.size()) {
      auto v = ParseInt64(ctx.args[++j]);
      if (!v) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      min_match_len = *v < 0 ? 0 : *v;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  if (want_idx && want_len) {
    ctx.reply.Error(errors::kLcsLenAndIdx);
    return;
  }
  ValueBuf buf_a, buf_b;
  std::string_view a = ea != nullptr ? StringOf(ea, &buf_a) : std::string_view();
  std::string_view b = eb != nullptr ? StringOf(eb, &buf_b) : std::string_view();
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    ctx.reply.Error(errors::kLcsTooLong);
    return;
  }
  const uint64_t rows = a.size() + 1, cols = b.size() + 1;
  const uint64_t cells = rows * cols;
  if (cells * sizeof(uint32_t) > static_cast<uint64_t>(MaxBulkLen(ctx))) {
    ctx.reply.Error(errors::kLcsMemory);
    return;
  }
  // table[i * cols + j]: length of the LCS of a[0, i) and b[0, j).
  std::vector<uint32_t> table(cells, 0);
  auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return table[i * cols + j]; };
  for (uint64_t i = 1; i < rows; ++i) {
    for (uint64_t j = 1; j < cols; ++j) {
      if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  const uint32_t total = at(rows - 1, cols - 1);
  if (want_len) {
    ctx.reply.Integer(total);
    return;
  }

  // Walk back from the end, building the common subsequence and, for IDX, the runs of
  // consecutive matches (reported from the end of the strings towards the start).
  std::string common(total, '\0');
  std::vector<LcsMatch> matches;
  uint64_t i = a.size(), j = b.size();
  uint32_t remaining = total;
  bool in_run = false;
  LcsMatch run{};
  while (i > 0 && j > 0) {
    bool close_run = false;
    if (a[i - 1] == b[j - 1]) {
      common[--remaining] = a[i - 1];
      uint32_t ai = static_cast<uint32_t>(i - 1), bj = static_cast<uint32_t>(j - 1);
      if (!in_run) {
        run = {ai, ai, bj, bj};
        in_run = true;
      } else {
        // Consecutive with the run found so far (walking backwards): extend it.
        run.a_start = ai;
        run.b_start = bj;
      }
      if (ai == 0 || bj == 0) close_run = true;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (in_run) close_run = true;
    }
    if (close_run) {
      uint64_t len = run.a_end - run.a_start + 1;
      if (min_match_len == 0 || len >= static_cast<uint64_t>(min_match_len)) {
        matches.push_back(run);
      }
      in_run = false;
    }
  }
  if (!want_idx) {
    ctx.reply.Bulk(common);
    return;
  }
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("matches");
  ctx.reply.ArrayHeader(matches.size());
  for (const LcsMatch& m : matches) {
    ctx.reply.ArrayHeader(with_match_len ? 3 : 2);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.a_start);
    ctx.reply.Integer(m.a_end);
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(m.b_start);
    ctx.reply.Integer(m.b_end);
    if (with_match_len) ctx.reply.Integer(m.a_end - m.a_start + 1);
  }
  ctx.reply.Bulk("len");
  ctx.reply.Integer(total);
}

// ---------------------------------------------------------------------------------------------
// Bit commands. Bit 0 is the most significant bit of byte 0.

// Parses a SETBIT/GETBIT offset: 0 <= offset and offset / 8 < proto-max-bulk-len.
bool ParseBitOffset(CommandContext& ctx, std::string_view arg, uint64_t* out) {
  auto v = ParseInt64(arg);
  if (!v || *v < 0 || (*v >> 3) >= MaxBulkLen(ctx)) {
    ctx.reply.Error(errors::kBitOffset);
    return false;
  }
  *out = static_cast<uint64_t>(*v);
  return true;
}

// SETBIT key offset value
void CmdSetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.args[2], &offset)) return;
  auto on = ParseInt64(ctx.args[3]);
  if (!on || (*on != 0 && *on != 1)) {
    ctx.reply.Error(errors::kBitValue);
    return;
  }
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();
  Entry** link = ks.LookupLink(ctx.db(), key);
  if (link != nullptr && WrongType(ctx, *link)) return;
  const size_t byte = offset >> 3;
  const uint8_t mask = static_cast<uint8_t>(0x80u >> (offset & 7));
  bool changed = false;  // created, grown or the bit flipped: Redis notifies only then
  auto flip = [&](std::string* s) {
    if (s->size() < byte + 1) {
      s->resize(byte + 1, '\0');
      changed = true;
    }
    uint8_t old = static_cast<uint8_t>((*s)[byte]);
    uint8_t now = *on ? (old | mask) : (old & ~mask);
    (*s)[byte] = static_cast<char>(now);
    if (now != old) changed = true;
    return (old & mask) != 0;
  };
  bool was_set;
  if (link == nullptr) {
    std::string value(byte + 1, '\0');
    was_set = flip(&value);
    ks.Put(ctx.db(), NewRawStringEntry(key, value, -1));
    NewKeyEvent(ctx, key);
    changed = true;
  } else if ((*link)->storage == Entry::kHeap) {
    was_set = flip((*link)->heap());
    (*link)->enc = Encoding::kRaw;
  } else {
    ValueBuf buf;
    std::string value(StringOf(*link, &buf));
    was_set = flip(&value);
    StoreRaw(ctx, link, std::move(value));
  }
  if (changed) KeyChanged(ctx, key, Event{'$', "setbit"});
  ctx.reply.Integer(was_set ? 1 : 0);
}

// GETBIT key offset
void CmdGetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.args[2], &offset)) return;
  Entry* e = ReadStringOrZero(ctx);
  if (e == nullptr) return;
  ValueBuf buf;
  std::string_view s = StringOf(e, &buf);
  size_t byte = offset >> 3;
  int bit = 0;
  if (byte < s.size()) bit = (static_cast<uint8_t>(s[byte]) & (0x80u >> (offset & 7))) ? 1 : 0;
  ctx.reply.Integer(bit);
}

uint64_t PopCount(const uint8_t* p, size_t n) {
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    count += static_cast<uint64_t>(__builtin_popcountll(w));
  }
  for (; i < n; ++i) count += static_cast<uint64_t>(__builtin_popcount(p[i]));
  return count;
}

// Resolves a [start, end] range given in bytes or bits against a string of `len` bytes, the way
// BITCOUNT and BITPOS do, into an inclusive bit range. Returns false for an empty range.
bool ResolveBitRange(int64_t start, int64_t end, bool in_bits, int64_t len, uint64_t* first_bit,
                     uint64_t* last_bit) {
  int64_t total = in_bits ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return false;
  if (in_bits) {
    *first_bit = static_cast<uint64_t>(start);
    *last_bit = static_cast<uint64_t>(end);
  } else {
    *first_bit = static_cast<uint64_t>(start) * 8;
    *last_bit = static_cast<uint64_t>(end) * 8 + 7;
  }
  return true;
}

// Parses BYTE|BIT.
bool ParseBitUnit(CommandContext& ctx, std::string_view arg, bool* in_bits) {
  if (EqualsIgnoreCase(arg, "bit")) {
    *in_bits = true;
  } else if (EqualsIgnoreCase(arg, "byte")) {
    *in_bits = false;
  } else {
    ctx.reply.Error(errors::kSyntax);
    return false;
  }
  return true;
}

// BITCOUNT key [start end [BYTE|BIT]]
void CmdBitCount(CommandContext& ctx) {
  Entry* e = ReadStringOrZero(ctx);
  if (e == nullptr) return;
  ValueBuf buf;
  std::string_view s = StringOf(e, &buf);
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int64_t len = static_cast<int64_t>(s.size());
  uint64_t first = 0, last = 0;
  bool nonempty;
  const size_t argc = ctx.args.size();
  if (argc == 4 || argc == 5) {
    auto start = ParseInt64(ctx.args[2]);
    if (!start) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    auto end = ParseInt64(ctx.args[3]);
    if (!end) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    if (*start < 0 && *end < 0 && *start > *end) {
      ctx.reply.Integer(0);
      return;
    }
    bool in_bits = false;
    if (argc == 5 && !ParseBitUnit(ctx, ctx.args[4], &in_bits)) return;
    nonempty = ResolveBitRange(*start, *end, in_bits, len, &first, &last);
  } else if (argc == 2) {
    nonempty = len > 0;
    last = static_cast<uint64_t>(len) * 8 - 1;
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (!nonempty) {
    ctx.reply.Integer(0);
    return;
  }
  size_t first_byte = first >> 3, last_byte = last >> 3;
  uint64_t count = PopCount(p + first_byte, last_byte - first_byte + 1);
  // Take away the bits of the edge bytes that lie outside the range.
  uint8_t before = static_cast<uint8_t>(~(0xFFu >> (first & 7)));
  uint8_t after = static_cast<uint8_t>(0xFFu >> ((last & 7) + 1));
  count -= static_cast<uint64_t>(__builtin_popcount(p[first_byte] & before));
  count -= static_cast<uint64_t>(__builtin_popcount(p[last_byte] & after));
  ctx.reply.Integer(static_cast<int64_t>(count));
}

// The first bit equal to `bit` in the inclusive bit range, or -1.
int64_t FindBit(const uint8_t* p, uint64_t first, uint64_t last, bool bit) {
  const uint8_t skip = bit ? 0x00 : 0xFF;  // bytes holding no wanted bit
  uint64_t pos = first;
  while (pos <= last) {
    if ((pos & 7) == 0 && pos + 7 <= last) {
      size_t byte = pos >> 3;
      // Whole bytes: skip 8 at a time while none can contain the bit.
      const uint64_t skip_word = bit ? 0 : ~uint64_t{0};
      while (pos + 64 <= last + 1) {
        uint64_t w;
        std::memcpy(&w, p + byte, 8);
        if (w != skip_word) break;
        byte += 8;
        pos += 64;
      }
      while (pos + 8 <= last + 1 && p[byte] == skip) {
        ++byte;
        pos += 8;
      }
      if (pos > last) break;
    }
    bool v = (p[pos >> 3] & (0x80u >> (pos & 7))) != 0;
    if (v == bit) return static_cast<int64_t>(pos);
    ++pos;
  }
  return -1;
}

// BITPOS key bit [start [end [BYTE|BIT]]]
void CmdBitPos(CommandContext& ctx) {
  auto bit_arg = ParseInt64(ctx.args[2]);
  if (!bit_arg) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*bit_arg != 0 && *bit_arg != 1) {
    ctx.reply.Error(errors::kBitArg);
    return;
  }
  const bool bit = *bit_arg == 1;
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (e == nullptr) {
    // A missing key is an endless run of zero bits.
    ctx.reply.Integer(bit ? -1 : 0);
    return;
  }
  if (WrongType(ctx, e)) return;
  ValueBuf buf;
  std::string_view s = StringOf(e, &buf);
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int64_t len = static_cast<int64_t>(s.size());
  const size_t argc = ctx.args.size();
  bool end_given = false;
  uint64_t first = 0, last = 0;
  bool nonempty;
  if (argc >= 4 && argc <= 6) {
    auto start = ParseInt64(ctx.args[3]);
    if (!start) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    bool in_bits = false;
    if (argc == 6 && !ParseBitUnit(ctx, ctx.args[5], &in_bits)) return;
    int64_t end = kInt64Max;  // clamped to the last byte or bit
    if (argc >= 5) {
      auto v = ParseInt64(ctx.args[4]);
      if (!v) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      end = *v;
      end_given = true;
    }
    nonempty = ResolveBitRange(*start, end, in_bits, len, &first, &last);
  } else if (argc == 3) {
    nonempty = len > 0;
    last = static_cast<uint64_t>(len) * 8 - 1;
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (!nonempty) {
    ctx.reply.Integer(-1);
    return;
  }
  int64_t pos = FindBit(p, first, last, bit);
  if (pos < 0 && !bit && !end_given) {
    // Looking for a clear bit without an explicit end: the string is padded with zeros.
    pos = len * 8;
  }
  ctx.reply.Integer(pos);
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
void CmdBitOp(CommandContext& ctx) {
  enum class Op { kAnd, kOr, kXor, kNot };
  std::string_view name = ctx.args[1];
  Op op;
  if (EqualsIgnoreCase(name, "and")) {
    op = Op::kAnd;
  } else if (EqualsIgnoreCase(name, "or")) {
    op = Op::kOr;
  } else if (EqualsIgnoreCase(name, "xor")) {
    op = Op::kXor;
  } else if (EqualsIgnoreCase(name, "not")) {
    op = Op::kNot;
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (op == Op::kNot && ctx.args.size() != 4) {
    ctx.reply.Error(errors::kBitopNot);
    return;
  }
  const size_t n = ctx.args.size() - 3;
  std::vector<ValueBuf> bufs(n);
  std::vector<std::string_view> src(n);
  size_t max_len = 0;
  for (size_t k = 0; k < n; ++k) {
    Entry* e = ReadLookup(ctx, ctx.args[3 + k]);
    if (e == nullptr) continue;  // an empty string
    if (WrongType(ctx, e)) return;
    src[k] = StringOf(e, &bufs[k]);
    max_len = std::max(max_len, src[k].size());
  }
  std::string_view dest = ctx.args[2];
  if (max_len == 0) {
    if (ctx.keyspace().Delete(ctx.db(), dest)) KeyDeleted(ctx, dest);
    ctx.reply.Integer(0);
    return;
  }
  std::string result(max_len, '\0');
  if (!src[0].empty()) std::memcpy(result.data(), src[0].data(), src[0].size());
  if (op == Op::kNot) {
    for (char& c : result) c = static_cast<char>(~static_cast<uint8_t>(c));
  } else {
    for (size_t k = 1; k < n; ++k) {
      std::string_view s = src[k];
      size_t i = 0;
      switch (op) {
        case Op::kAnd:
          for (; i < s.size(); ++i) result[i] &= s[i];
          for (; i < max_len; ++i) result[i] = '\0';
          break;
        case Op::kOr:
          for (; i < s.size(); ++i) result[i] |= s[i];
          break;
        case Op::kXor:
          for (; i < s.size(); ++i) result[i] ^= s[i];
          break;
        case Op::kNot:
          break;
      }
    }
  }
  // The sources are no longer read, so the lookup of the destination inside PutNotify may free
  // an entry they pointed into.
  PutNotify(ctx, NewRawStringEntry(dest, result, -1), dest, "set");
  ctx.reply.Integer(static_cast<int64_t>(max_len));
}

}  // namespace

void RegisterStringFamily(CommandRegistry* r) {
  r->Register("get", CmdGet);
  r->Register("set", CmdSet);
  r->Register("setnx", CmdSetNx);
  r->Register("setex", CmdSetEx);
  r->Register("psetex", CmdPSetEx);
  r->Register("getset", CmdGetSet);
  r->Register("getdel", CmdGetDel);
  r->Register("getex", CmdGetEx);
  r->Register("mget", CmdMGet);
  r->Register("mset", CmdMSet);
  r->Register("msetnx", CmdMSetNx);
  r->Register("append", CmdAppend);
  r->Register("strlen", CmdStrLen);
  r->Register("getrange", CmdGetRange);
  r->Register("substr", CmdGetRange);
  r->Register("setrange", CmdSetRange);
  r->Register("incr", CmdIncr);
  r->Register("decr", CmdDecr);
  r->Register("incrby", CmdIncrBy);
  r->Register("decrby", CmdDecrBy);
  r->Register("incrbyfloat", CmdIncrByFloat);
  r->Register("lcs", CmdLcs);
  r->Register("setbit", CmdSetBit);
  r->Register("getbit", CmdGetBit);
  r->Register("bitcount", CmdBitCount);
  r->Register("bitpos", CmdBitPos);
  r->Register("bitop", CmdBitOp);
}

}  // namespace keel
