// Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE,
// SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN.
//
// The dispatcher has locked the shards of every key of the command, so multi-key commands
// (SMOVE, S*STORE) are atomic. Entry pointers from Lookup stay valid until that entry is freed
// (chained table: inserting or deleting other keys does not move entries).
#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
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
#include "keel/keyspace/set_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "scan_args.h"

namespace keel {

namespace {

// A write lookup (no statistics, like lookupKeyWrite).
Entry* WriteLookup(CommandContext& ctx, std::string_view key) {
  return ctx.keyspace().Lookup(ctx.db(), key);
}

bool WrongType(CommandContext& ctx, const Entry* e) {
  return keel::WrongType(ctx, e, ObjType::kSet);
}

size_t MaxIntset(CommandContext& ctx) {
  int64_t v = ctx.server.config->set_max_intset_entries();
  return v < 0 ? 0 : static_cast<size_t>(v);
}

SetRef Ref(CommandContext& ctx, Entry* e) { return SetRef(ctx.keyspace(), ctx.db(), e); }

void ReplyMembers(CommandContext& ctx, const SetRef& v) {
  ctx.reply.SetHeader(v.Size());
  v.ForEach([&](std::string_view m) { ctx.reply.Bulk(m); });
}

// Stores `v` (a detached entry for `key`, owned) in place of whatever is there, dropping its
// TTL, or deletes the key when v is empty. Reports `event` ("new" first if the key is new; or
// "del"). Replies with the size.
void StoreResult(CommandContext& ctx, std::string_view key, SetRef v, std::string_view event) {
  size_t n = v.Size();
  Keyspace& ks = ctx.keyspace();
  if (n == 0) {
    FreeEntry(v.entry());
    if (ks.Delete(ctx.db(), key)) KeyDeleted(ctx, key);
  } else {
    // The sources are no longer read, so this lookup may free an entry they pointed into.
    if (NotifyOn(ctx) && ks.Lookup(ctx.db(), key) == nullptr) NewKeyEvent(ctx, key);
    ks.Put(ctx.db(), v.entry());
    KeyChanged(ctx, key, Event{'s', event});
  }
  ctx.reply.Integer(static_cast<int64_t>(n));
}

// SADD key member [member ...]
void CmdSadd(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = WriteLookup(ctx, key);
  if (WrongType(ctx, e)) return;
  size_t max = MaxIntset(ctx);
  // A new set is built detached and then put in the table.
  SetRef v = e ? Ref(ctx, e) : SetRef(SetRef::NewEntry(key, ctx.args[2]));
  int64_t added = 0;
  for (size_t i = 2; i < ctx.args.size(); ++i) added += v.Add(ctx.args[i], max);
  if (e == nullptr) {
    ctx.keyspace().Put(ctx.db(), v.entry());
    NewKeyEvent(ctx, key);
  }
  if (added > 0) KeyChanged(ctx, key, Event{'s', "sadd"}, static_cast<uint64_t>(added));
  ctx.reply.Integer(added);
}

// SREM key member [member ...]
void CmdSrem(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = WriteLookup(ctx, key);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  SetRef v = Ref(ctx, e);
  int64_t removed = 0;
  for (size_t i = 2; i < ctx.args.size() && v.Size() > 0; ++i) removed += v.Remove(ctx.args[i]);
  FinishRemoval(ctx, key, Event{'s', "srem"}, removed, v.Size() == 0);
}

// SMEMBERS key
void CmdSmembers(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.SetHeader(0);
    return;
  }
  ReplyMembers(ctx, SetRef::Read(e));
}

// SISMEMBER key member
void CmdSismember(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.Integer(e != nullptr && SetRef::Read(e).Contains(ctx.args[2]) ? 1 : 0);
}

// SMISMEMBER key member [member ...]
void CmdSmismember(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ctx.reply.Integer(e != nullptr && SetRef::Read(e).Contains(ctx.args[i]) ? 1 : 0);
  }
}

// SCARD key
void CmdScard(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.Integer(e ? static_cast<int64_t>(SetRef::Read(e).Size()) : 0);
}

// `count` distinct random members of v. REQUIRES: count < v.Size().
std::vector<std::string> DistinctRandom(const SetRef& v, size_t count) {
  std::vector<std::string> out;
  size_t size = v.Size();
  if (count * 3 > size) {
    // Many of them: a partial shuffle of all members.
    out = v.Members();
    for (size_t i = 0; i < count; ++i) {
      size_t j = std::uniform_int_distribution<size_t>(i, size - 1)(CommandRng());
      std::swap(out[i], out[j]);
    }
    out.resize(count);
    return out;
  }
  std::unordered_set<std::string> seen;
  while (out.size() < count) {
    std::string m = v.RandomMember(CommandRng());
    if (seen.insert(m).second) out.push_back(std::move(m));
  }
  return out;
}

// SPOP key [count]
void CmdSpop(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 2) {
    Entry* e = WriteLookup(ctx, key);
    if (WrongType(ctx, e)) return;
    if (e == nullptr) {
      ctx.reply.NullBulk();
      return;
    }
    SetRef v = Ref(ctx, e);
    std::string m = v.RandomMember(CommandRng());
    v.Remove(m);
    KeyChanged(ctx, key, Event{'s', "spop"});
    aof::LogAs(ctx.db(), {"SREM", key, m});  // the random pick, as its effect
    if (v.Size() == 0 && ctx.keyspace().Delete(ctx.db(), key)) KeyDeleted(ctx, key, 0);
    ctx.reply.Bulk(m);
    return;
  }
  std::optional<int64_t> count = ParseInt64(ctx.args[2]);
  if (!count || *count < 0) {
    ctx.reply.Error(errors::kMustBePositive);
    return;
  }
  Entry* e = WriteLookup(ctx, key);
  if (WrongType(ctx, e)) return;
  if (e == nullptr || *count == 0) {
    ctx.reply.SetHeader(0);
    return;
  }
  SetRef v = Ref(ctx, e);
  size_t n = static_cast<size_t>(*count);
  if (n >= v.Size()) {
    ReplyMembers(ctx, v);
    uint64_t popped = v.Size();
    if (ctx.keyspace().Delete(ctx.db(), key)) {
      KeyDeleted(ctx, key, Event{'s', "spop"}, kDelEvent, popped);
      aof::LogAs(ctx.db(), {"DEL", key});
    }
    return;
  }
  std::vector<std::string> picked = DistinctRandom(v, n);
  ctx.reply.SetHeader(picked.size());
  for (const std::string& m : picked) {
    v.Remove(m);
    ctx.reply.Bulk(m);
  }
  KeyChanged(ctx, key, Event{'s', "spop"}, n);
  std::vector<std::string_view> srem = {"SREM", key};
  srem.insert(srem.end(), picked.begin(), picked.end());
  aof::LogAs(ctx.db(), srem);
}

// SRANDMEMBER key [count]
void CmdSrandmember(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 2) {
    Entry* e = ReadLookup(ctx, ctx.args[1]);
    if (WrongType(ctx, e)) return;
    if (e == nullptr) {
      ctx.reply.NullBulk();
      return;
    }
    ctx.reply.Bulk(SetRef::Read(e).RandomMember(CommandRng()));
    return;
  }
  int64_t count;
  if (!ParseRandomCount(ctx, &count)) return;
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr || count == 0) {
    ctx.reply.EmptyArray();
    return;
  }
  const SetRef v = SetRef::Read(e);
  if (count < 0) {
    // With repetitions.
    size_t n = static_cast<size_t>(-count);
    ctx.reply.ArrayHeader(n);
    for (size_t i = 0; i < n; ++i) ctx.reply.Bulk(v.RandomMember(CommandRng()));
    return;
  }
  // An array in RESP3 too, whatever the count (Redis 7.0).
  size_t n = static_cast<size_t>(count);
  if (n >= v.Size()) {
    ctx.reply.ArrayHeader(v.Size());
    v.ForEach([&](std::string_view m) { ctx.reply.Bulk(m); });
    return;
  }
  std::vector<std::string> picked = DistinctRandom(v, n);
  ctx.reply.ArrayHeader(picked.size());
  for (const std::string& m : picked) ctx.reply.Bulk(m);
}

// SMOVE source destination member
void CmdSmove(CommandContext& ctx) {
  std::string_view src_key = ctx.args[1], dst_key = ctx.args[2], member = ctx.args[3];
  Entry* src = WriteLookup(ctx, src_key);
  Entry* dst = WriteLookup(ctx, dst_key);
  if (src == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  if (WrongType(ctx, src) || WrongType(ctx, dst)) return;
  if (src == dst) {
    ctx.reply.Integer(SetRef::Read(src).Contains(member) ? 1 : 0);
    return;
  }
  SetRef sv = Ref(ctx, src);
  if (!sv.Remove(member)) {
    ctx.reply.Integer(0);
    return;
  }
  KeyChanged(ctx, src_key, Event{'s', "srem"});
  if (sv.Size() == 0 && ctx.keyspace().Delete(ctx.db(), src_key)) KeyDeleted(ctx, src_key, 0);
  size_t max = MaxIntset(ctx);
  bool added;
  if (dst == nullptr) {
    SetRef dv(SetRef::NewEntry(dst_key, member));
    added = dv.Add(member, max);
    ctx.keyspace().Put(ctx.db(), dv.entry());
    NewKeyEvent(ctx, dst_key);
  } else {
    added = Ref(ctx, dst).Add(member, max);
  }
  // Redis touches the destination even when it held the member already, but sends no event.
  KeyChanged(ctx, dst_key, added ? Event{'s', "sadd"} : kNoEvent, added ? 1 : 0);
  ctx.reply.Integer(1);
}

// Looks up the source sets of an algebra command; nullptr for missing keys. Every key is
// type-checked (a missing key does not stop the checks, as in Redis 7.0). Returns false after
// replying WRONGTYPE. The STORE forms read their sources like the others (Redis 7.0 counts
// their misses and notifies "keymiss" for them).
bool LookupSets(CommandContext& ctx, std::span<const std::string_view> keys,
                std::vector<const Entry*>* sets) {
  sets->clear();
  for (std::string_view k : keys) {
    Entry* e = ReadLookup(ctx, k);
    if (WrongType(ctx, e)) return false;
    sets->push_back(e);
  }
  return true;
}

// The intersection of `sets` (none missing). Calls fn for each member, in the iteration order
// of the smallest set, until fn returns false.
void Intersect(std::vector<const Entry*> sets, const std::function<bool(std::string_view)>& fn) {
  std::sort(sets.begin(), sets.end(), [](const Entry* a, const Entry* b) {
    return SetRef::Read(a).Size() < SetRef::Read(b).Size();
  });
  bool go = true;
  const SetRef first = SetRef::Read(sets[0]);
  first.ForEach([&](std::string_view m) {
    if (!go) return;
    for (size_t i = 1; i < sets.size(); ++i) {
      if (sets[i] == sets[0]) continue;
      if (!SetRef::Read(sets[i]).Contains(m)) return;
    }
    go = fn(m);
  });
}

// SINTER key [key ...] / SINTERSTORE destination key [key ...]
void InterGeneric(CommandContext& ctx, bool store) {
  size_t first = store ? 2 : 1;
  std::vector<const Entry*> sets;
  if (!LookupSets(ctx, ctx.args.subspan(first), &sets)) return;
  bool empty = std::find(sets.begin(), sets.end(), nullptr) != sets.end();
  if (!store) {
    if (empty) {
      ctx.reply.SetHeader(0);
      return;
    }
    size_t token = ctx.reply.BeginDeferredSet();
    size_t n = 0;
    Intersect(sets, [&](std::string_view m) {
      ctx.reply.Bulk(m);
      ++n;
      return true;
    });
    ctx.reply.EndDeferredSet(token, n);
    return;
  }
  SetRef result(SetRef::NewIntsetEntry(ctx.args[1]));
  if (!empty) {
    size_t max = MaxIntset(ctx);
    Intersect(sets, [&](std::string_view m) {
      result.Add(m, max);
      return true;
    });
  }
  StoreResult(ctx, ctx.args[1], result, "sinterstore");
}

void CmdSinter(CommandContext& ctx) { InterGeneric(ctx, false); }
void CmdSinterstore(CommandContext& ctx) { InterGeneric(ctx, true); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdSintercard(CommandContext& ctx) {
  std::optional<int64_t> numkeys = ParseInt64(ctx.args[1]);
  if (!numkeys || *numkeys < 1) {
    ctx.reply.Error(errors::kNumkeysPositive);
    return;
  }
  if (static_cast<uint64_t>(*numkeys) > ctx.args.size() - 2) {
    ctx.reply.Error(errors::kKeysMoreThanArgs);
    return;
  }
  size_t nk = static_cast<size_t>(*numkeys);
  int64_t limit;
  if (!ParseCardLimit(ctx, 2 + nk, &limit)) return;
  std::vector<const Entry*> sets;
  if (!LookupSets(ctx, ctx.args.subspan(2, nk), &sets)) return;
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) {
    ctx.reply.Integer(0);
    return;
  }
  int64_t n = 0;
  Intersect(sets, [&](std::string_view) {
    ++n;
    return limit == 0 || n < limit;
  });
  ctx.reply.Integer(n);
}

// SUNION / SDIFF and their STORE forms. The result is built as Redis builds it (starting from an
// intset), so its encoding and, for intsets, its order match.
void UnionDiffGeneric(CommandContext& ctx, bool store, bool diff) {
  size_t first = store ? 2 : 1;
  std::vector<const Entry*> sets;
  if (!LookupSets(ctx, ctx.args.subspan(first), &sets)) return;
  SetRef result(SetRef::NewIntsetEntry(store ? ctx.args[1] : std::string_view()));
  size_t max = MaxIntset(ctx);
  if (!diff) {
    for (const Entry* e : sets) {
      if (e == nullptr) continue;
      SetRef::Read(e).ForEach([&](std::string_view m) { result.Add(m, max); });
    }
  } else if (sets[0] != nullptr) {
    bool same = false;
    for (size_t i = 1; i < sets.size(); ++i) same |= sets[i] == sets[0];
    if (!same) {
      SetRef::Read(sets[0]).ForEach([&](std::string_view m) {
        for (size_t i = 1; i < sets.size(); ++i) {
          if (sets[i] != nullptr && SetRef::Read(sets[i]).Contains(m)) return;
        }
        result.Add(m, max);
      });
    }
  }
  if (store) {
    StoreResult(ctx, ctx.args[1], result, diff ? "sdiffstore" : "sunionstore");
    return;
  }
  ReplyMembers(ctx, result);
  FreeEntry(result.entry());
}

void CmdSunion(CommandContext& ctx) { UnionDiffGeneric(ctx, false, false); }
void CmdSunionstore(CommandContext& ctx) { UnionDiffGeneric(ctx, true, false); }
void CmdSdiff(CommandContext& ctx) { UnionDiffGeneric(ctx, false, true); }
void CmdSdiffstore(CommandContext& ctx) { UnionDiffGeneric(ctx, true, true); }

// SSCAN key cursor [MATCH pattern] [COUNT count]
//
// A packed set (an intset, or a small set of strings) is returned whole with cursor 0, as
// Redis returns its small encodings. A table is walked with the reverse-binary cursor of its
// ChainedTable: every member present for the whole scan is returned
// at least once even if the set grew, shrank or was mid-rehash between calls (members can be
// repeated after a resize).
void CmdSscan(CommandContext& ctx) {
  uint64_t cursor;
  ScanOptions opts;
  Entry* e = StartKeyScan(ctx, ObjType::kSet, &cursor, &opts);
  if (e == nullptr) return;
  const SetRef v = SetRef::Read(e);
  std::vector<std::string> out;
  auto take = [&](std::string_view m) {
    if (!opts.use_pattern || GlobMatch(opts.pattern, m)) out.emplace_back(m);
  };
  uint64_t next = 0;
  if (v.packed()) {
    v.ForEach(take);
  } else {
    const HashSetObject* h = v.hashset();
    next = ScanCount(cursor, opts.count, [&](uint64_t c, uint64_t* seen) {
      return h->Scan(c, [&](std::string_view m) {
        take(m);
        ++*seen;
      });
    });
  }
  ReplyKeyScan(ctx.reply, next, out);
}

}  // namespace

void RegisterSetFamily(CommandRegistry* r) {
  r->Register("sadd", CmdSadd);
  r->Register("srem", CmdSrem);
  r->Register("smembers", CmdSmembers);
  r->Register("sismember", CmdSismember);
  r->Register("smismember", CmdSmismember);
  r->Register("scard", CmdScard);
  r->Register("spop", CmdSpop);
  r->Register("srandmember", CmdSrandmember);
  r->Register("smove", CmdSmove);
  r->Register("sinter", CmdSinter);
  r->Register("sintercard", CmdSintercard);
  r->Register("sinterstore", CmdSinterstore);
  r->Register("sunion", CmdSunion);
  r->Register("sunionstore", CmdSunionstore);
  r->Register("sdiff", CmdSdiff);
  r->Register("sdiffstore", CmdSdiffstore);
  r->Register("sscan", CmdSscan);
}

}  // namespace keel
