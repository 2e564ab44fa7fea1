// Generic key commands (DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE, SWAPDB, OBJECT, ...)
// and the expiry commands (EXPIRE and friends, TTL and friends, PERSIST).
#include <cctype>
#include <climits>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "scan_args.h"

namespace keel {

namespace {

bool IsExpired(const Entry* e, int64_t now) { return e->has_expire() && e->expire_ms() <= now; }

// A key lookup that does not update the access clock (EXISTS, TYPE, TTL, OBJECT), with lazy
// expiry. REQUIRES: the key's shard lock.
Entry* Peek(Keyspace& ks, int db, std::string_view key) {
  KeyPlace place = PlaceOf(key);
  Entry* e = ks.db(db).shard(place.shard).Find(key, place.hash);
  if (e == nullptr) return nullptr;
  if (IsExpired(e, KeyTimeMs())) {
    ks.LookupLink(db, key);  // deletes it
    return nullptr;
  }
  return e;
}

// Read lookups count keyspace hits and misses and notify "keymiss", as in Redis. OBJECT's
// lookups count but do not notify (Redis's LOOKUP_NONOTIFY).
Entry* CountedPeek(CommandContext& ctx, std::string_view key, bool notify_miss = true) {
  Entry* e = Peek(ctx.keyspace(), ctx.db(), key);
  CountRead(ctx, ctx.db(), key, e != nullptr, notify_miss);
  return e;
}

Entry* CountedLookup(CommandContext& ctx, int db, std::string_view key) {
  Entry* e = ctx.keyspace().Lookup(db, key);
  CountRead(ctx, db, key, e != nullptr);
  return e;
}

// Reads a 32-bit integer argument the way Redis's getIntFromObjectOrReply does: the error it
// replies, or "" (then *out is set). When `msg` is given it replaces both error texts.
std::string_view IntArgError(std::string_view s, int* out,
                             std::string_view msg = std::string_view()) {
  std::optional<int64_t> v = ParseInt64(s);
  if (!v) return msg.empty() ? errors::kNotInteger : msg;
  if (*v < INT_MIN || *v > INT_MAX) return msg.empty() ? errors::kIntRange : msg;
  *out = static_cast<int>(*v);
  return {};
}

// The arguments of MOVE, COPY and SWAPDB, read once for the handler and for its lock plan
// inside EXEC (which must agree exactly): the error the command replies, or "" and the
// databases it works on. The tests come in Redis's order.

// MOVE key db
std::string_view MoveArgs(std::span<const std::string_view> args, int db, int databases,
                          int* dst_db) {
  if (std::string_view err = IntArgError(args[2], dst_db); !err.empty()) return err;
  if (*dst_db < 0 || *dst_db >= databases) return errors::kDbIndexOutOfRange;
  if (*dst_db == db) return errors::kSameObject;
  return {};
}

// COPY source destination [DB destination-db] [REPLACE]
std::string_view CopyArgs(std::span<const std::string_view> args, int db, int databases,
                          int* dst_db, bool* replace) {
  *dst_db = db;
  *replace = false;
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "replace")) {
      *replace = true;
    } else if (EqualsIgnoreCase(args[i], "db") && i + 1 < args.size()) {
      if (std::string_view err = IntArgError(args[i + 1], dst_db); !err.empty()) return err;
      ++i;
    } else {
      return errors::kSyntax;
    }
  }
  if (*dst_db < 0 || *dst_db >= databases) return errors::kDbIndexOutOfRange;
  if (*dst_db == db && args[1] == args[2]) return errors::kSameObject;
  return {};
}

// SWAPDB index1 index2
std::string_view SwapDbArgs(std::span<const std::string_view> args, int databases, int* a, int* b) {
  if (std::string_view err = IntArgError(args[1], a, errors::kInvalidFirstDb); !err.empty()) {
    return err;
  }
  if (std::string_view err = IntArgError(args[2], b, errors::kInvalidSecondDb); !err.empty()) {
    return err;
  }
  if (*a < 0 || *a >= databases || *b < 0 || *b >= databases) return errors::kDbIndexOutOfRange;
  return {};
}

size_t Flat(int db, size_t shard) { return static_cast<size_t>(db) * kShards + shard; }

// The lock plans of MOVE, COPY and SWAPDB inside EXEC (LockPlan): the shards CmdMove, CmdCopy
// and CmdSwapDb lock. Arguments the command refuses add nothing (it locks nothing then).
bool PlanMove(std::span<const std::string_view> args, int db, int databases,
              std::vector<size_t>* flat) {
  int dst_db;
  if (args.size() != 3 || !MoveArgs(args, db, databases, &dst_db).empty()) return true;
  size_t shard = ShardOf(args[1]);
  flat->push_back(Flat(db, shard));
  flat->push_back(Flat(dst_db, shard));
  return true;
}

bool PlanCopy(std::span<const std::string_view> args, int db, int databases,
              std::vector<size_t>* flat) {
  int dst_db;
  bool replace;
  if (args.size() < 3 || !CopyArgs(args, db, databases, &dst_db, &replace).empty()) return true;
  flat->push_back(Flat(db, ShardOf(args[1])));
  flat->push_back(Flat(dst_db, ShardOf(args[2])));
  return true;
}

// Every shard of databases a and b: what SWAPDB locks.
void AddSwapDbShards(int a, int b, std::vector<size_t>* flat) {
  for (size_t i = 0; i < kShards; ++i) {
    flat->push_back(Flat(a, i));
    flat->push_back(Flat(b, i));
  }
}

bool PlanSwapDb(std::span<const std::string_view> args, int /*db*/, int databases,
                std::vector<size_t>* flat) {
  int a, b;
  if (args.size() != 3 || !SwapDbArgs(args, databases, &a, &b).empty() || a == b) return true;
  AddSwapDbShards(a, b, flat);
  return true;
}

bool PolicyIsLfu(CommandContext& ctx) {
  return ctx.server.config->maxmemory_policy().find("lfu") != std::string::npos;
}

// ---- DEL, UNLINK, EXISTS, TYPE, TOUCH ----

void DeleteKeys(CommandContext& ctx, bool lazy) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (ctx.keyspace().Delete(ctx.db(), ctx.args[i], lazy)) {
      ++n;
      KeyDeleted(ctx, ctx.args[i]);
    }
  }
  ctx.reply.Integer(n);
}

// DEL key [key ...]
// (as UNLINK with lazyfree-lazy-user-del yes)
void CmdDel(CommandContext& ctx) {
  DeleteKeys(ctx, ctx.keyspace().lazy_free().user_del.load(std::memory_order_relaxed));
}

// UNLINK key [key ...]
void CmdUnlink(CommandContext& ctx) { DeleteKeys(ctx, true); }

// EXISTS key [key ...]
void CmdExists(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (CountedPeek(ctx, ctx.args[i])) ++n;
  }
  ctx.reply.Integer(n);
}

// TOUCH key [key ...]
void CmdTouch(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (CountedLookup(ctx, ctx.db(), ctx.args[i])) ++n;
  }
  ctx.reply.Integer(n);
}

// TYPE key
void CmdType(CommandContext& ctx) {
  Entry* e = CountedPeek(ctx, ctx.args[1]);
  ctx.reply.SimpleString(e ? TypeName(e->type) : std::string_view("none"));
}

// ---- KEYS, SCAN, RANDOMKEY: no keys; one shard lock at a time ----

// KEYS pattern
void CmdKeys(CommandContext& ctx) {
  std::string_view pattern = ctx.args[1];
  bool all = pattern == "*";
  Db& db = ctx.keyspace().db(ctx.db());
  size_t token = ctx.reply.BeginDeferredArray();
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = db.shard(i);
    ShardGuard lock = ctx.keyspace().LockShard(ctx.db(), i);
    if (s.size() == 0) continue;
    int64_t now = NowUnixMs();
    uint64_t cursor = 0;
    do {
      cursor = s.Scan(cursor, [&](Entry* e) {
        if (IsExpired(e, now)) return;
        std::string_view key = e->key();
        if (!all && !GlobMatch(pattern, key)) return;
        ctx.reply.Bulk(key);
        ++n;
      });
    } while (cursor != 0);
  }
  ctx.reply.EndDeferredArray(token, n);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
//
// The cursor is (bucket cursor << kShardBits) | shard: shards are walked in order, each with its
// own reverse-binary bucket cursor.
void CmdScan(CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(ctx.args[1], &cursor)) {
    ctx.reply.Error(kInvalidCursor);
    return;
  }
  ScanOptions opts;
  if (!ParseScanOptions(ctx, 2, true, &opts)) return;

  Db& db = ctx.keyspace().db(ctx.db());
  size_t shard = cursor & (kShards - 1);
  uint64_t bucket = cursor >> kShardBits;
  std::vector<std::string> keys;
  // Like Redis, stop after COUNT keys or 10 * COUNT visited buckets, whichever comes first.
  uint64_t max_visits = static_cast<uint64_t>(opts.count) > UINT64_MAX / 10
                            ? UINT64_MAX
                            : static_cast<uint64_t>(opts.count) * 10;
  uint64_t visits = 0;
  uint64_t seen = 0;
  bool done = false;
  std::vector<std::string> stale;  // expired keys met (and matching the pattern)
  auto& stats = ctx.server.stats;
  while (!done) {
    Shard& s = db.shard(shard);
    {
      ShardGuard lock = ctx.keyspace().LockShard(ctx.db(), shard);
      int64_t now = NowUnixMs();
      if (s.size() == 0) {
        bucket = 0;  // empty shards are skipped without counting against COUNT
      } else {
        do {
          bucket = s.Scan(bucket, [&](Entry* e) {
            ++seen;
            std::string_view key = e->key();
            if (opts.use_pattern && !GlobMatch(opts.pattern, key)) return;
            if (IsExpired(e, now)) {
              stale.emplace_back(key);
              return;
            }
            if (opts.has_type) {
              // Redis looks each candidate up to learn its type: a keyspace hit.
              stats.keyspace_hits.fetch_add(1, std::memory_order_relaxed);
              if (!EqualsIgnoreCase(TypeName(e->type), opts.type)) return;
            }
            keys.emplace_back(key);
          });
          ++visits;
        } while (bucket != 0 && seen < static_cast<uint64_t>(opts.count) && visits < max_visits);
        // Like Redis, SCAN deletes the expired keys it meets ("expired"); with TYPE, Redis's
        // type lookup is what deletes them, which also counts a miss and notifies "keymiss".
        // The table changes only after the walk, and the cursor survives the change.
        for (const std::string& k : stale) {
          ctx.keyspace().LookupLink(ctx.db(), k);
          if (opts.has_type) {
            stats.keyspace_misses.fetch_add(1, std::memory_order_relaxed);
            KeyMissEvent(ctx, k);
          }
        }
        stale.clear();
      }
    }
    if (bucket == 0) {
      ++shard;
      if (shard == kShards) {
        cursor = 0;
        break;
      }
    }
    cursor = (bucket << kShardBits) | shard;
    done = seen >= static_cast<uint64_t>(opts.count) || visits >= max_visits;
  }

  ctx.reply.ArrayHeader(2);
  ctx.reply.Bulk(std::to_string(cursor));
  ctx.reply.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply.Bulk(k);
}

// RANDOMKEY
void CmdRandomKey(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace();
  Db& db = ks.db(ctx.db());
  std::mt19937_64& rng = CommandRng();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    // Pick a shard weighted by its size (sizes read without locks: a hint only).
    uint64_t sizes[kShards];
    uint64_t total = 0;
    for (size_t i = 0; i < kShards; ++i) {
      sizes[i] = db.shard(i).size();
      total += sizes[i];
    }
    if (total == 0) break;
    uint64_t pick = rng() % total;
    size_t shard = 0;
    while (pick >= sizes[shard]) pick -= sizes[shard++];
    Shard& s = db.shard(shard);
    ShardGuard lock = ctx.keyspace().LockShard(ctx.db(), shard);
    Entry* e = s.Random(rng);
    if (e == nullptr) continue;
    if (IsExpired(e, KeyTimeMs())) {
      std::string key(e->key());
      ks.LookupLink(ctx.db(), key);  // deletes it
      continue;
    }
    ctx.reply.Bulk(e->key());
    return;
  }
  ctx.reply.NullBulk();
}

// ---- RENAME, RENAMENX, COPY, MOVE, SWAPDB ----

void RenameGeneric(CommandContext& ctx, bool nx) {
  Keyspace& ks = ctx.keyspace();
  int db = ctx.db();
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  // The source first, as in Redis (so lazy expiry notifications come in its order), then the
  // destination, then the source's link again: the destination's lazy expiry may have changed
  // the table, which would invalidate a link taken earlier.
  if (ks.Lookup(db, src) == nullptr) {
    ctx.reply.Error(errors::kNoSuchKey);
    return;
  }
  if (src == dst) {
    nx ? ctx.reply.Integer(0) : ctx.reply.Ok();
    return;
  }
  bool dst_exists = ks.Lookup(db, dst) != nullptr;
  if (nx && dst_exists) {
    ctx.reply.Integer(0);
    return;
  }
  Entry** link = ks.LookupLink(db, src);
  if (link == nullptr) {  // expired in the meantime
    ctx.reply.Error(errors::kNoSuchKey);
    return;
  }
  Entry* e = ks.Detach(db, src, link);
  int64_t expire = e->expire_ms();
  // Redis deletes an existing destination and adds the key anew, so "new" always comes, first.
  NewKeyEvent(ctx, dst);
  KeyDeleted(ctx, src, Event{'g', "rename_from"}, 0);
  ks.Put(db, Keyspace::Rekey(e, dst, expire));
  KeyChanged(ctx, dst, Event{'g', "rename_to"});
  nx ? ctx.reply.Integer(1) : ctx.reply.Ok();
}

// RENAME key newkey
void CmdRename(CommandContext& ctx) { RenameGeneric(ctx, false); }

// RENAMENX key newkey
void CmdRenameNx(CommandContext& ctx) { RenameGeneric(ctx, true); }

// COPY source destination [DB destination-db] [REPLACE]. Locks for itself (the destination may
// be in another database).
void CmdCopy(CommandContext& ctx) {
  int src_db = ctx.db();
  int dst_db;
  bool replace;
  std::string_view err = CopyArgs(ctx.args, src_db, ctx.keyspace().databases(), &dst_db, &replace);
  if (!err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  Keyspace& ks = ctx.keyspace();
  KeyLocks locks;
  locks.LockFlat(ks, {Flat(src_db, ShardOf(src)), Flat(dst_db, ShardOf(dst))});
  Entry* e = CountedLookup(ctx, src_db, src);
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  // Entries do not move when others are unlinked, so `e` stays valid across this lookup.
  if (ks.Lookup(dst_db, dst) != nullptr && !replace) {
    ctx.reply.Integer(0);
    return;
  }
  NewKeyEvent(ctx.server, dst, dst_db);
  ks.Put(dst_db, CloneEntry(e, dst, e->expire_ms(), /*steal=*/false));
  KeyChanged(ctx.server, dst_db, dst, Event{'g', "copy_to"});
  aof::LogAs(src_db, ctx.args);  // at its place in the keys' history: under the locks
  ctx.reply.Integer(1);
}

// MOVE key db. Locks for itself (two databases).
void CmdMove(CommandContext& ctx) {
  int src_db = ctx.db();
  int dst_db;
  if (std::string_view err = MoveArgs(ctx.args, src_db, ctx.keyspace().databases(), &dst_db);
      !err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  std::string_view key = ctx.args[1];
  Keyspace& ks = ctx.keyspace();
  KeyLocks locks;
  size_t shard = ShardOf(key);
  locks.LockFlat(ks, {Flat(src_db, shard), Flat(dst_db, shard)});
  Entry** link = ks.LookupLink(src_db, key);
  if (link == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  if (ks.Lookup(dst_db, key) != nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  Entry* moved = ks.Detach(src_db, key, link);
  NewKeyEvent(ctx.server, key, dst_db);  // Redis adds the key to `dst_db` first
  KeyDeleted(ctx.server, src_db, key, Event{'g', "move_from"}, 0);
  ks.Put(dst_db, moved);
  KeyChanged(ctx.server, dst_db, key, Event{'g', "move_to"});
  aof::LogAs(src_db, ctx.args);  // at its place in the keys' history: under the locks
  ctx.reply.Integer(1);
}

// SWAPDB index1 index2. Locks every shard of both databases in ascending (db, shard) order.
void CmdSwapDb(CommandContext& ctx) {
  int a, b;
  if (std::string_view err = SwapDbArgs(ctx.args, ctx.keyspace().databases(), &a, &b);
      !err.empty()) {
    ctx.reply.Error(err);
    return;
  }
  if (a != b) {
    Keyspace& ks = ctx.keyspace();
    std::vector<size_t> flat;
    flat.reserve(2 * kShards);
    AddSwapDbShards(a, b, &flat);
    KeyLocks locks;
    locks.LockFlat(ks, std::move(flat));
    // WATCH: a watched key of either database that exists on either side changes.
    ks.ChangedDb(a, b, ChangeKind::kSwap, 1);
    ks.SwapDbs(a, b);
    // Client-side caching: every key of both databases may have changed. Redis 7.0 sends
    // nothing here and leaves stale caches; Keel tells every tracking client to drop its cache,
    // as for a flush (docs/commands.md).
    if (ctx.server.tracking != nullptr) ctx.server.tracking->InvalidateAll();
    // Clients blocked on a key of either database stay with their database: those whose key
    // now exists may be served (each waiter's kind decides whether the value serves it).
    for (int d : {a, b}) {
      for (size_t i = 0; i < kShards; ++i) {
        Shard& s = ks.db(d).shard(i);
        for (const auto& [key, queue] : ks.registries(d, i).waiters) {
          Entry* e = s.Find(key, KeyHash(key));
          if (e != nullptr && !IsExpired(e, KeyTimeMs())) {
            ks.SignalReady(d, key);
          }
        }
      }
    }
  } else {
    ctx.keyspace().ChangedDb(a, a, ChangeKind::kSwap, 1);
  }
  ctx.reply.Ok();
}

// ---- OBJECT ----

// OBJECT ENCODING key
void CmdObjectEncoding(CommandContext& ctx) {
  Entry* e = CountedPeek(ctx, ctx.args[2], /*notify_miss=*/false);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  ctx.reply.Bulk(EncodingName(e->enc));
}

// OBJECT REFCOUNT key. Redis shares the objects of the integers 0..9999 (refcount INT_MAX)
// unless maxmemory is set with an LRU or LFU policy.
void CmdObjectRefcount(CommandContext& ctx) {
  Entry* e = CountedPeek(ctx, ctx.args[2], /*notify_miss=*/false);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  bool shared = false;
  if (e->enc == Encoding::kInt && e->storage == Entry::kInt && e->int_value() >= 0 &&
      e->int_value() < 10000) {
    std::string policy = ctx.server.config->maxmemory_policy();
    bool lru_lfu =
        policy.find("lru") != std::string::npos || policy.find("lfu") != std::string::npos;
    shared = ctx.server.config->maxmemory() == 0 || !lru_lfu;
  }
  ctx.reply.Integer(shared ? INT_MAX : 1);
}

// OBJECT IDLETIME key. Reads the access clock without updating it.
void CmdObjectIdletime(CommandContext& ctx) {
  Entry* e = CountedPeek(ctx, ctx.args[2], /*notify_miss=*/false);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  if (PolicyIsLfu(ctx)) {
    ctx.reply.Error(errors::kLfuNoIdle);
    return;
  }
  uint32_t now = Keyspace::LruClock();
  // The clock wraps every 2^23 seconds: the distance is taken mod 2^23.
  ctx.reply.Integer(static_cast<int64_t>((now - static_cast<uint32_t>(e->lru)) & Entry::kLruMask));
}

// OBJECT FREQ key. The LFU counter after decay (not updated: OBJECT is no access).
void CmdObjectFreq(CommandContext& ctx) {
  Entry* e = CountedPeek(ctx, ctx.args[2], /*notify_miss=*/false);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  if (!PolicyIsLfu(ctx)) {
    ctx.reply.Error(errors::kNoLfu);
    return;
  }
  ctx.reply.Integer(LfuDecayedCounter(static_cast<uint32_t>(e->lru),
                                      ctx.keyspace().evictor().lfu_decay_time(), LfuMinutes()));
}

// OBJECT HELP
void CmdObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

// ---- Expiry ----

enum ExpireFlags : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]
void ExpireGeneric(CommandContext& ctx, bool seconds, bool relative, std::string_view name) {
  unsigned flags = 0;
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    std::string_view o = ctx.args[i];
    if (EqualsIgnoreCase(o, "nx")) {
      flags |= kNx;
    } else if (EqualsIgnoreCase(o, "xx")) {
      flags |= kXx;
    } else if (EqualsIgnoreCase(o, "gt")) {
      flags |= kGt;
    } else if (EqualsIgnoreCase(o, "lt")) {
      flags |= kLt;
    } else {
      ctx.reply.Error(errors::UnsupportedOption(o));
      return;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    ctx.reply.Error(errors::kExpireNxConflict);
    return;
  }
  if ((flags & kGt) && (flags & kLt)) {
    ctx.reply.Error(errors::kExpireGtLtConflict);
    return;
  }
  std::optional<int64_t> when = ParseInt64(ctx.args[2]);
  if (!when) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  auto invalid = [&] { ctx.reply.Error(errors::InvalidExpire(name)); };
  int64_t ms = *when;
  if (seconds) {
    if (ms > INT64_MAX / 1000 || ms < INT64_MIN / 1000) return invalid();
    ms *= 1000;
  }
  int64_t now = NowUnixMs();
  if (relative) {
    if (ms > INT64_MAX - now) return invalid();
    ms += now;
  }

  Keyspace& ks = ctx.keyspace();
  int db = ctx.db();
  std::string_view key = ctx.args[1];
  Entry** link = ks.LookupLink(db, key);
  if (link == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  int64_t current = (*link)->expire_ms();  // -1: none (an infinite TTL)
  if (((flags & kNx) && current != -1) || ((flags & kXx) && current == -1) ||
      ((flags & kGt) && (current == -1 || ms <= current)) ||
      ((flags & kLt) && current != -1 && ms >= current)) {
    ctx.reply.Integer(0);
    return;
  }
  if (ms <= now) {  // the instant read above: one clock read per EXPIRE
    ks.Dispose(ks.Detach(db, key, link), ks.LazyExpire());
    KeyDeleted(ctx, key);
  } else {
    ks.SetExpire(db, link, ms);
    KeyChanged(ctx, key, Event{'g', "expire"});
  }
  ctx.reply.Integer(1);
}

void CmdExpire(CommandContext& ctx) { ExpireGeneric(ctx, true, true, "expire"); }
void CmdPexpire(CommandContext& ctx) { ExpireGeneric(ctx, false, true, "pexpire"); }
void CmdExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, true, false, "expireat"); }
void CmdPexpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, false, "pexpireat"); }

// TTL / PTTL / EXPIRETIME / PEXPIRETIME key
void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  Entry* e = CountedPeek(ctx, ctx.args[1]);
  if (e == nullptr) {
    ctx.reply.Integer(-2);
    return;
  }
  if (!e->has_expire()) {
    ctx.reply.Integer(-1);
    return;
  }
  int64_t t = e->expire_ms();
  if (!absolute) t -= NowUnixMs();
  if (t < 0) t = 0;
  ctx.reply.Integer(ms ? t : (t + 500) / 1000);
}

void CmdTtl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void CmdPttl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void CmdExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void CmdPexpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

// PERSIST key
void CmdPersist(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace();
  Entry** link = ks.LookupLink(ctx.db(), ctx.args[1]);
  if (link == nullptr || !(*link)->has_expire()) {
    ctx.reply.Integer(0);
    return;
  }
  ks.SetExpire(ctx.db(), link, -1);
  KeyChanged(ctx, ctx.args[1], Event{'g', "persist"});
  ctx.reply.Integer(1);
}

}  // namespace

void RegisterGenericFamily(CommandRegistry* r) {
  r->Register("del", CmdDel);
  r->Register("unlink", CmdUnlink);
  r->Register("exists", CmdExists);
  r->Register("touch", CmdTouch);
  r->Register("type", CmdType);
  r->Register("keys", CmdKeys, LockMode::kDatabase);
  r->Register("scan", CmdScan, LockMode::kDatabase);
  r->Register("randomkey", CmdRandomKey, LockMode::kDatabase);
  r->Register("rename", CmdRename);
  r->Register("renamenx", CmdRenameNx);
  r->Register("copy", CmdCopy, PlanCopy);
  r->Register("move", CmdMove, PlanMove);
  r->Register("swapdb", CmdSwapDb, PlanSwapDb);
  r->Register("object|encoding", CmdObjectEncoding);
  r->Register("object|refcount", CmdObjectRefcount);
  r->Register("object|idletime", CmdObjectIdletime);
  r->Register("object|freq", CmdObjectFreq);
  r->Register("object|help", CmdObjectHelp);
  r->Register("expire", CmdExpire);
  r->Register("pexpire", CmdPexpire);
  r->Register("expireat", CmdExpireAt);
  r->Register("pexpireat", CmdPexpireAt);
  r->Register("ttl", CmdTtl);
  r->Register("pttl", CmdPttl);
  r->Register("expiretime", CmdExpireTime);
  r->Register("pexpiretime", CmdPexpireTime);
  r->Register("persist", CmdPersist);
}

}  // namespace keel
