// Hash commands: HSET, HSETNX, HGET, HMGET, HMSET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS,
// HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.
#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/hash_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "scan_args.h"

namespace keel {

namespace {

bool WrongType(CommandContext& ctx, const Entry* e) {
  return keel::WrongType(ctx, e, ObjType::kHash);
}

struct Limits {
  size_t entries;
  size_t value;
};

Limits ListpackLimits(CommandContext& ctx) {
  int64_t n = ctx.server.config->hash_max_listpack_entries();
  int64_t v = ctx.server.config->hash_max_listpack_value();
  return {n < 0 ? 0 : static_cast<size_t>(n), v < 0 ? 0 : static_cast<size_t>(v)};
}

// A hash being written: a handle on the key's entry, or on a new detached one when the key does
// not exist yet. Commit() inserts a new key ("new") and reports the change with `event`
// (`dirty`: what it adds to the dirty counter).
struct WriteTarget {
  HashRef v;
  bool created;

  void Commit(CommandContext& ctx, std::string_view key, std::string_view event, uint64_t dirty) {
    if (created) {
      ctx.keyspace().Put(ctx.db(), v.entry());
      NewKeyEvent(ctx, key);
    }
    KeyChanged(ctx, key, Event{'h', event}, dirty);
  }
  // Discards a hash created by this command (nothing was stored in it).
  void Abandon() {
    if (created) FreeEntry(v.entry());
  }
};

// Redis's hashTypeLookupWriteOrCreate: nullopt after replying WRONGTYPE.
std::optional<WriteTarget> LookupWriteOrCreate(CommandContext& ctx, std::string_view key) {
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return std::nullopt;
  if (e == nullptr) return WriteTarget{HashRef(HashRef::NewEntry(key)), true};
  return WriteTarget{HashRef(ctx.keyspace(), ctx.db(), e), false};
}

void ArityError(CommandContext& ctx, std::string_view name) {
  ctx.reply.Error(errors::WrongArity(name));
}

// HSET key field value [field value ...] / HMSET
void HsetGeneric(CommandContext& ctx, bool hmset) {
  if (ctx.args.size() % 2 == 1) {
    ArityError(ctx, hmset ? "hmset" : "hset");
    return;
  }
  std::string_view key = ctx.args[1];
  std::optional<WriteTarget> t = LookupWriteOrCreate(ctx, key);
  if (!t) return;
  Limits lim = ListpackLimits(ctx);
  if (t->v.packed()) {
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      if (ctx.args[i].size() > lim.value) {
        t->v.ConvertToTable();
        break;
      }
    }
  }
  int64_t created = 0;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) {
    created += t->v.Set(ctx.args[i], ctx.args[i + 1], lim.entries, lim.value);
  }
  // Redis counts every pair written, new or not.
  t->Commit(ctx, key, "hset", (ctx.args.size() - 2) / 2);
  if (hmset) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Integer(created);
  }
}

void CmdHset(CommandContext& ctx) { HsetGeneric(ctx, false); }
void CmdHmset(CommandContext& ctx) { HsetGeneric(ctx, true); }

// HSETNX key field value
void CmdHsetnx(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  std::optional<WriteTarget> t = LookupWriteOrCreate(ctx, key);
  if (!t) return;
  Limits lim = ListpackLimits(ctx);
  if (t->v.Get(ctx.args[2])) {
    ctx.reply.Integer(0);  // the key exists (a new hash has no fields): nothing to store
    return;
  }
  t->v.Set(ctx.args[2], ctx.args[3], lim.entries, lim.value);
  t->Commit(ctx, key, "hset", 1);
  ctx.reply.Integer(1);
}

// HGET key field
void CmdHget(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  std::optional<std::string_view> v;
  if (e != nullptr) v = HashRef::Read(e).Get(ctx.args[2]);
  if (v) {
    ctx.reply.Bulk(*v);
  } else {
    ctx.reply.NullBulk();
  }
}

// HMGET key field [field ...]
void CmdHmget(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    std::optional<std::string_view> v;
    if (e != nullptr) v = HashRef::Read(e).Get(ctx.args[i]);
    if (v) {
      ctx.reply.Bulk(*v);
    } else {
      ctx.reply.NullBulk();
    }
  }
}

// HDEL key field [field ...]
void CmdHdel(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  HashRef v(ctx.keyspace(), ctx.db(), e);
  int64_t removed = 0;
  for (size_t i = 2; i < ctx.args.size() && v.Size() > 0; ++i) removed += v.Remove(ctx.args[i]);
  FinishRemoval(ctx, key, Event{'h', "hdel"}, removed, v.Size() == 0);
}

// HLEN key
void CmdHlen(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.Integer(e ? static_cast<int64_t>(HashRef::Read(e).Size()) : 0);
}

// HSTRLEN key field
void CmdHstrlen(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  std::optional<std::string_view> v;
  if (e != nullptr) v = HashRef::Read(e).Get(ctx.args[2]);
  ctx.reply.Integer(v ? static_cast<int64_t>(v->size()) : 0);
}

// HEXISTS key field
void CmdHexists(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.Integer(e != nullptr && HashRef::Read(e).Get(ctx.args[2]) ? 1 : 0);
}

// HKEYS / HVALS / HGETALL
void GetAllGeneric(CommandContext& ctx, bool fields, bool values) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    if (fields && values) {
      ctx.reply.MapHeader(0);
    } else {
      ctx.reply.EmptyArray();
    }
    return;
  }
  const HashRef v = HashRef::Read(e);
  size_t n = v.Size();
  if (fields && values) {
    ctx.reply.MapHeader(n);
  } else {
    ctx.reply.ArrayHeader(n);
  }
  v.ForEach([&](std::string_view f, std::string_view val) {
    if (fields) ctx.reply.Bulk(f);
    if (values) ctx.reply.Bulk(val);
  });
}

void CmdHkeys(CommandContext& ctx) { GetAllGeneric(ctx, true, false); }
void CmdHvals(CommandContext& ctx) { GetAllGeneric(ctx, false, true); }
void CmdHgetall(CommandContext& ctx) { GetAllGeneric(ctx, true, true); }

// HINCRBY key field increment
void CmdHincrby(CommandContext& ctx) {
  std::optional<int64_t> incr = ParseInt64(ctx.args[3]);
  if (!incr) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  std::string_view key = ctx.args[1];
  std::optional<WriteTarget> t = LookupWriteOrCreate(ctx, key);
  if (!t) return;
  int64_t value = 0;
  if (auto old = t->v.Get(ctx.args[2])) {
    std::optional<int64_t> parsed = ParseInt64(*old);
    if (!parsed) {
      t->Abandon();
      ctx.reply.Error(errors::kHashNotInteger);
      return;
    }
    value = *parsed;
  }
  if ((*incr < 0 && value < 0 && *incr < INT64_MIN - value) ||
      (*incr > 0 && value > 0 && *incr > INT64_MAX - value)) {
    t->Abandon();
    ctx.reply.Error(errors::kOverflow);
    return;
  }
  value += *incr;
  std::string text;
  AppendInt(&text, value);
  Limits lim = ListpackLimits(ctx);
  t->v.Set(ctx.args[2], text, lim.entries, lim.value);
  t->Commit(ctx, key, "hincrby", 1);
  ctx.reply.Integer(value);
}

// HINCRBYFLOAT key field increment
void CmdHincrbyfloat(CommandContext& ctx) {
  std::optional<long double> incr = ParseLongDouble(ctx.args[3]);
  if (!incr) {
    ctx.reply.Error(errors::kNotFloat);
    return;
  }
  if (std::isnan(*incr) || std::isinf(*incr)) {
    ctx.reply.Error(errors::kValueNaN);
    return;
  }
  std::string_view key = ctx.args[1];
  std::optional<WriteTarget> t = LookupWriteOrCreate(ctx, key);
  if (!t) return;
  long double value = 0;
  if (auto old = t->v.Get(ctx.args[2])) {
    std::optional<long double> parsed = ParseLongDouble(*old);
    if (!parsed) {
      t->Abandon();
      ctx.reply.Error(errors::kHashNotFloat);
      return;
    }
    value = *parsed;
  }
  value += *incr;
  if (std::isnan(value) || std::isinf(value)) {
    t->Abandon();
    ctx.reply.Error(errors::kIncrNaN);
    return;
  }
  std::string text = FormatIncrFloat(value);
  Limits lim = ListpackLimits(ctx);
  t->v.Set(ctx.args[2], text, lim.entries, lim.value);
  t->Commit(ctx, key, "hincrbyfloat", 1);
  aof::LogAs(ctx.db(), {"HSET", key, ctx.args[2], text});  // exact, whatever the float format
  ctx.reply.Bulk(text);
}

// HRANDFIELD key [count [WITHVALUES]]
void CmdHrandfield(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    Entry* e = ReadLookup(ctx, ctx.args[1]);
    if (WrongType(ctx, e)) return;
    if (e == nullptr) {
      ctx.reply.NullBulk();
      return;
    }
    ctx.reply.Bulk(HashRef::Read(e).RandomPair(CommandRng()).first);
    return;
  }
  int64_t count;
  if (!ParseRandomCount(ctx, &count)) return;
  bool withvalues = false;
  if (ctx.args.size() > 4 ||
      (ctx.args.size() == 4 && !EqualsIgnoreCase(ctx.args[3], "withvalues"))) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 4) {
    withvalues = true;
    if (count < -(INT64_MAX / 2) || count > INT64_MAX / 2) {
      ctx.reply.Error(errors::kPlainOutOfRange);
      return;
    }
  }
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr || count == 0) {
    ctx.reply.EmptyArray();
    return;
  }
  const HashRef v = HashRef::Read(e);
  size_t size = v.Size();
  // WITHVALUES pairs: flat in RESP2, each pair an array of two in RESP3 (as Redis 7.0).
  bool nested = withvalues && ctx.reply.protocol() == ReplyBuilder::kResp3;
  size_t per = withvalues && !nested ? 2 : 1;
  auto emit = [&](std::string_view f, std::string_view val) {
    if (nested) ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(f);
    if (withvalues) ctx.reply.Bulk(val);
  };
  if (count < 0 || count == 1) {
    // With repetitions (Redis serves a count of 1 the same way).
    size_t n = static_cast<size_t>(count < 0 ? -count : count);
    ctx.reply.ArrayHeader(n * per);
    for (size_t i = 0; i < n; ++i) {
      auto [f, val] = v.RandomPair(CommandRng());
      emit(f, val);
    }
    return;
  }
  size_t n = static_cast<size_t>(count);
  if (n >= size) {
    ctx.reply.ArrayHeader(size * per);
    v.ForEach(emit);
    return;
  }
  std::vector<std::pair<std::string, std::string>> picked;
  if (n * 3 > size) {
    v.ForEach([&](std::string_view f, std::string_view val) {
      picked.emplace_back(std::string(f), std::string(val));
    });
    for (size_t i = 0; i < n; ++i) {
      size_t j = std::uniform_int_distribution<size_t>(i, size - 1)(CommandRng());
      std::swap(picked[i], picked[j]);
    }
    picked.resize(n);
  } else {
    std::unordered_set<std::string> seen;
    while (picked.size() < n) {
      auto p = v.RandomPair(CommandRng());
      if (seen.insert(p.first).second) picked.push_back(std::move(p));
    }
  }
  ctx.reply.ArrayHeader(n * per);
  for (const auto& [f, val] : picked) emit(f, val);
}

// HSCAN key cursor [MATCH pattern] [COUNT count]
//
// A listpack is returned whole with cursor 0 (like Redis). A hashtable is walked with the
// reverse-binary cursor of its ChainedTable; as for SSCAN, every field present for the whole
// scan is returned at least once across resizes (possibly repeated).
// COUNT counts fields and values, as in Redis.
void CmdHscan(CommandContext& ctx) {
  uint64_t cursor;
  ScanOptions opts;
  Entry* e = StartKeyScan(ctx, ObjType::kHash, &cursor, &opts);
  if (e == nullptr) return;
  const HashRef v = HashRef::Read(e);
  std::vector<std::string> out;
  auto take = [&](std::string_view f, std::string_view val) {
    if (opts.use_pattern && !GlobMatch(opts.pattern, f)) return;
    out.emplace_back(f);
    out.emplace_back(val);
  };
  uint64_t next = 0;
  if (v.packed()) {
    v.ForEach(take);
  } else {
    const HashtableHash* h = v.table();
    next = ScanCount(cursor, opts.count, [&](uint64_t c, uint64_t* seen) {
      return h->Scan(c, [&](std::string_view f, std::string_view val) {
        take(f, val);
        *seen += 2;  // COUNT counts fields and values
      });
    });
  }
  ReplyKeyScan(ctx.reply, next, out);
}

}  // namespace

void RegisterHashFamily(CommandRegistry* r) {
  r->Register("hset", CmdHset);
  r->Register("hmset", CmdHmset);
  r->Register("hsetnx", CmdHsetnx);
  r->Register("hget", CmdHget);
  r->Register("hmget", CmdHmget);
  r->Register("hdel", CmdHdel);
  r->Register("hlen", CmdHlen);
  r->Register("hstrlen", CmdHstrlen);
  r->Register("hexists", CmdHexists);
  r->Register("hkeys", CmdHkeys);
  r->Register("hvals", CmdHvals);
  r->Register("hgetall", CmdHgetall);
  r->Register("hincrby", CmdHincrby);
  r->Register("hincrbyfloat", CmdHincrbyfloat);
  r->Register("hrandfield", CmdHrandfield);
  r->Register("hscan", CmdHscan);
}

}  // namespace keel
