// Sorted set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT,
// ZLEXCOUNT, ZRANGE (and its older BYSCORE/BYLEX/REV forms), ZRANGESTORE, ZREMRANGEBY*, ZPOPMIN,
// ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN, ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD,
// and the blocking BZPOPMIN, BZPOPMAX, BZMPOP.
//
// Every range is turned into a run of ascending ranks [lo, hi) of the set (ZsetRef::CountWhile
// finds each bound in O(log n) on the skiplist encoding), so one range walk serves ranks, scores
// and lex ranges in both directions, and ZCOUNT/ZLEXCOUNT are hi - lo.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "blocking.h"
#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "scan_args.h"
#include "zset_store.h"

namespace keel {

ZsetRef::Limits ZsetLimits(ServerState& server) {
  int64_t e = server.config->zset_max_listpack_entries();
  int64_t v = server.config->zset_max_listpack_value();
  return {static_cast<size_t>(std::max<int64_t>(e, 0)),
          static_cast<size_t>(std::max<int64_t>(v, 0))};
}

// Stores `out` (a detached sorted set for `dst`, owned; the sources are no longer read, as
// storing may free an entry they point into) in place of whatever dst holds, dropping its TTL,
// or deletes dst when `out` is empty. Reports `event` ("new" first if dst is new; or "del") and
// replies the size: the end of ZRANGESTORE, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and the geo STORE
// forms.
void StoreZset(CommandContext& ctx, std::string_view dst, ZsetRef out, std::string_view event,
               uint64_t dirty) {
  size_t n = out.Size();
  Keyspace& ks = ctx.keyspace();
  if (n == 0) {
    FreeEntry(out.entry());
    if (ks.Delete(ctx.db(), dst)) KeyDeleted(ctx, dst);
  } else {
    if (NotifyOn(ctx) && ks.Lookup(ctx.db(), dst) == nullptr) NewKeyEvent(ctx, dst);
    ks.Put(ctx.db(), out.entry());
    KeyChanged(ctx, dst, Event{'z', event}, dirty);
  }
  ctx.reply.Integer(static_cast<int64_t>(n));
}

namespace {

constexpr std::string_view kXxNx = "ERR XX and NX options at the same time are not compatible";
constexpr std::string_view kGtLtNx =
    "ERR GT, LT, and/or NX options at the same time are not compatible";
constexpr std::string_view kIncrPair = "ERR INCR option supports a single increment-element pair";
constexpr std::string_view kScoreNaN = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kMinMaxFloat = "ERR min or max is not a float";
constexpr std::string_view kMinMaxLex = "ERR min or max not valid string range item";
constexpr std::string_view kLimitRank =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
constexpr std::string_view kWithscoresLex =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
constexpr std::string_view kWeightFloat = "ERR weight value is not a float";

using Scored = std::pair<std::string_view, double>;

ZsetRef::Limits Limits(ServerState& server) { return ZsetLimits(server); }

bool WrongType(CommandContext& ctx, const Entry* e) {
  return keel::WrongType(ctx, e, ObjType::kZset);
}

ZsetRef Ref(ServerState& server, int db, Entry* e) { return ZsetRef(*server.keyspace, db, e); }

// A new, detached sorted set for a first member of `first_len` bytes (Redis 7.0's ZADD rule).
Entry* NewZset(ServerState& server, std::string_view key, size_t first_len) {
  ZsetRef::Limits lim = Limits(server);
  return ZsetRef::NewEntry(key, lim.max_entries != 0 && first_len <= lim.max_value);
}

// Deletes `key` ("del") when the set it holds became empty (after the change was reported).
void DeleteIfEmpty(ServerState& server, int db, std::string_view key, const ZsetRef& z) {
  if (z.Size() == 0 && server.keyspace->Delete(db, key)) KeyDeleted(server, db, key, 0);
}

// ---- scores and ranges ----

// A range bound as Redis parses it (strtod on the NUL-terminated argument, which stops at an
// embedded NUL, and accepts leading blanks and an empty string as 0).
bool ParseBound(std::string_view s, double* v, bool* exclusive) {
  *exclusive = !s.empty() && s[0] == '(';
  if (*exclusive) s.remove_prefix(1);
  std::string buf(s);
  char* end = nullptr;
  *v = std::strtod(buf.c_str(), &end);
  return *end == '\0' && !std::isnan(*v);
}

struct ScoreRange {
  double min, max;
  bool minex, maxex;
  bool GteMin(double s) const { return minex ? s > min : s >= min; }
  bool LteMax(double s) const { return maxex ? s < max : s <= max; }
  bool Empty() const { return min > max || (min == max && (minex || maxex)); }
};

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* r) {
  return ParseBound(min, &r->min, &r->minex) && ParseBound(max, &r->max, &r->maxex);
}

struct LexBound {
  enum Kind { kMin, kMax, kValue } kind;
  std::string_view value;
  bool exclusive;
};

bool ParseLexBound(std::string_view s, LexBound* b) {
  if (s == "+") {
    *b = {LexBound::kMax, {}, false};
  } else if (s == "-") {
    *b = {LexBound::kMin, {}, false};
  } else if (!s.empty() && (s[0] == '(' || s[0] == '[')) {
    *b = {LexBound::kValue, s.substr(1), s[0] == '('};
  } else {
    return false;
  }
  return true;
}

struct LexRange {
  LexBound min, max;
  bool GteMin(std::string_view m) const {
    if (min.kind != LexBound::kValue) return min.kind == LexBound::kMin;
    return min.exclusive ? m > min.value : m >= min.value;
  }
  bool LteMax(std::string_view m) const {
    if (max.kind != LexBound::kValue) return max.kind == LexBound::kMax;
    return max.exclusive ? m < max.value : m <= max.value;
  }
};

// Ascending ranks [lo, hi) of the elements in a score or lex range.
std::pair<size_t, size_t> RanksOf(const ZsetRef& z, const ScoreRange& r) {
  if (r.Empty()) return {0, 0};
  size_t lo = z.CountWhile([&](std::string_view, double s) { return !r.GteMin(s); });
  size_t hi = z.CountWhile([&](std::string_view, double s) { return r.LteMax(s); });
  return {lo, std::max(lo, hi)};
}

std::pair<size_t, size_t> RanksOf(const ZsetRef& z, const LexRange& r) {
  size_t lo = z.CountWhile([&](std::string_view m, double) { return !r.GteMin(m); });
  size_t hi = z.CountWhile([&](std::string_view m, double) { return r.LteMax(m); });
  return {lo, std::max(lo, hi)};
}

// Redis's rank window: negative indexes count from the end. False when it is empty.
bool RankWindow(int64_t start, int64_t stop, size_t size, size_t* lo, size_t* hi) {
  auto n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return false;
  if (stop >= n) stop = n - 1;
  *lo = static_cast<size_t>(start);
  *hi = static_cast<size_t>(stop) + 1;
  return true;
}

// ---- replies ----

// An array of members, with their scores when `withscores`: flat pairs in RESP2, an array of
// [member, score] arrays in RESP3.
void ReplyScored(ReplyBuilder& reply, const std::vector<Scored>& items, bool withscores) {
  bool nested = withscores && reply.protocol() == ReplyBuilder::kResp3;
  reply.ArrayHeader(withscores && !nested ? items.size() * 2 : items.size());
  for (const auto& [m, s] : items) {
    if (nested) reply.ArrayHeader(2);
    reply.Bulk(m);
    if (withscores) reply.Double(s);
  }
}

// ---- ZADD / ZINCRBY ----

struct AddFlags {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
};

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
// ZINCRBY key increment member (ZADD key INCR increment member)
void ZaddGeneric(CommandContext& ctx, AddFlags f, size_t first) {
  std::string_view key = ctx.args[1];
  size_t i = first;
  for (; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    if (EqualsIgnoreCase(a, "nx")) {
      f.nx = true;
    } else if (EqualsIgnoreCase(a, "xx")) {
      f.xx = true;
    } else if (EqualsIgnoreCase(a, "gt")) {
      f.gt = true;
    } else if (EqualsIgnoreCase(a, "lt")) {
      f.lt = true;
    } else if (EqualsIgnoreCase(a, "ch")) {
      f.ch = true;
    } else if (EqualsIgnoreCase(a, "incr")) {
      f.incr = true;
    } else {
      break;
    }
  }
  size_t elements = ctx.args.size() - i;
  if (elements == 0 || elements % 2 != 0) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  elements /= 2;
  if (f.nx && f.xx) {
    ctx.reply.Error(kXxNx);
    return;
  }
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    ctx.reply.Error(kGtLtNx);
    return;
  }
  if (f.incr && elements > 1) {
    ctx.reply.Error(kIncrPair);
    return;
  }
  std::vector<double> scores(elements);
  for (size_t k = 0; k < elements; ++k) {
    std::optional<double> s = ParseDouble(ctx.args[i + 2 * k]);
    if (!s) {
      ctx.reply.Error(errors::kNotFloat);
      return;
    }
    scores[k] = *s;
  }
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return;
  int64_t added = 0, updated = 0;
  bool processed = false;
  double last = 0;
  if (e != nullptr || !f.xx) {
    // A new set is built detached and then put in the table.
    ZsetRef z = e ? Ref(ctx.server, ctx.db(), e)
                  : ZsetRef(NewZset(ctx.server, key, ctx.args[i + 1].size()));
    ZsetRef::Limits lim = Limits(ctx.server);
    for (size_t k = 0; k < elements; ++k) {
      std::string_view member = ctx.args[i + 2 * k + 1];
      double score = scores[k];
      std::optional<double> cur = z.Score(member);
      if (cur) {
        if (f.nx) continue;
        if (f.incr) {
          score += *cur;
          if (std::isnan(score)) {
            ctx.reply.Error(kScoreNaN);
            break;
          }
        }
        if ((f.lt && score >= *cur) || (f.gt && score <= *cur)) continue;
        processed = true;
        last = score;
        if (score != *cur) {
          z.Set(member, score, lim);
          ++updated;
        }
      } else {
        if (f.xx) continue;
        z.Set(member, score, lim);
        ++added;
        processed = true;
        last = score;
      }
    }
    if (e == nullptr) {
      ctx.keyspace().Put(ctx.db(), z.entry());
      NewKeyEvent(ctx, key);
    }
  }
  if (added + updated > 0) {
    KeyChanged(ctx, key, Event{'z', f.incr ? "zincr" : "zadd"},
               static_cast<uint64_t>(added + updated));
  }
  if (ctx.reply.failed()) return;
  if (f.incr) {
    if (processed) {
      ctx.reply.Double(last);
    } else {
      ctx.reply.NullBulk();
    }
  } else {
    ctx.reply.Integer(f.ch ? added + updated : added);
  }
}

void CmdZadd(CommandContext& ctx) { ZaddGeneric(ctx, {}, 2); }

void CmdZincrby(CommandContext& ctx) {
  AddFlags f;
  f.incr = true;
  ZaddGeneric(ctx, f, 2);
}

// ---- simple reads and removals ----

// ZREM key member [member ...]
void CmdZrem(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  ZsetRef z = Ref(ctx.server, ctx.db(), e);
  int64_t removed = 0;
  for (size_t i = 2; i < ctx.args.size() && z.Size() > 0; ++i) removed += z.Remove(ctx.args[i]);
  FinishRemoval(ctx, key, Event{'z', "zrem"}, removed, z.Size() == 0);
}

// ZCARD key
void CmdZcard(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.Integer(e ? static_cast<int64_t>(ZsetRef::Read(e).Size()) : 0);
}

// ZSCORE key member
void CmdZscore(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  std::optional<double> s;
  if (e != nullptr) s = ZsetRef::Read(e).Score(ctx.args[2]);
  if (s) {
    ctx.reply.Double(*s);
  } else {
    ctx.reply.NullBulk();
  }
}

// ZMSCORE key member [member ...]
void CmdZmscore(CommandContext& ctx) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    std::optional<double> s;
    if (e != nullptr) s = ZsetRef::Read(e).Score(ctx.args[i]);
    if (s) {
      ctx.reply.Double(*s);
    } else {
      ctx.reply.NullBulk();
    }
  }
}

// ZRANK/ZREVRANK key member
void RankGeneric(CommandContext& ctx, bool rev) {
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  std::optional<size_t> r;
  if (e != nullptr) r = ZsetRef::Read(e).Rank(ctx.args[2]);
  if (!r) {
    ctx.reply.NullBulk();
    return;
  }
  size_t n = ZsetRef::Read(e).Size();
  ctx.reply.Integer(static_cast<int64_t>(rev ? n - 1 - *r : *r));
}

void CmdZrank(CommandContext& ctx) { RankGeneric(ctx, false); }
void CmdZrevrank(CommandContext& ctx) { RankGeneric(ctx, true); }

// ---- ZRANGE and friends ----

enum class RangeType { kAuto, kRank, kScore, kLex };

struct RangeSpec {
  RangeType type = RangeType::kAuto;
  bool rev = false;
  bool rev_set = false;  // the direction came with the command (no REV option then)
  bool withscores = false;
  int64_t offset = 0;
  int64_t limit = -1;
};

// A range of one of the three kinds, parsed.
struct Bounds {
  RangeType type = RangeType::kRank;
  int64_t start = 0, stop = 0;  // kRank
  ScoreRange score{};
  LexRange lex{};
};

// Parses min and max as `type` says (kAuto: ranks). Returns false after replying the kind's
// error. Redis checks the bounds before it looks the key up.
bool ParseBounds(CommandContext& ctx, RangeType type, std::string_view min, std::string_view max,
                 Bounds* b) {
  b->type = type == RangeType::kAuto ? RangeType::kRank : type;
  switch (b->type) {
    case RangeType::kAuto:
    case RangeType::kRank: {
      std::optional<int64_t> start = ParseInt64(min), stop = ParseInt64(max);
      if (!start || !stop) {
        ctx.reply.Error(errors::kNotInteger);
        return false;
      }
      b->start = *start;
      b->stop = *stop;
      return true;
    }
    case RangeType::kScore:
      if (ParseScoreRange(min, max, &b->score)) return true;
      ctx.reply.Error(kMinMaxFloat);
      return false;
    case RangeType::kLex:
      if (ParseLexBound(min, &b->lex.min) && ParseLexBound(max, &b->lex.max)) return true;
      ctx.reply.Error(kMinMaxLex);
      return false;
  }
  return false;
}

// The ascending ranks [lo, hi) that `b` selects in z; with `rev`, rank indexes count from the
// top (ZREVRANGE).
std::pair<size_t, size_t> RanksOf(const ZsetRef& z, const Bounds& b, bool rev) {
  if (b.type == RangeType::kScore) return RanksOf(z, b.score);
  if (b.type == RangeType::kLex) return RanksOf(z, b.lex);
  size_t n = z.Size(), lo, hi;
  if (!RankWindow(b.start, b.stop, n, &lo, &hi)) return {0, 0};
  if (rev) return {n - hi, n - lo};
  return {lo, hi};
}

// The elements of z that the bounds and the spec's LIMIT select, in the spec's direction.
void SelectRange(const ZsetRef& z, const RangeSpec& spec, const Bounds& b,
                 std::vector<Scored>* out) {
  auto [lo, hi] = RanksOf(z, b, spec.rev);
  if (b.type != RangeType::kRank) {
    // LIMIT: a negative offset selects nothing, a negative count everything after the offset.
    if (spec.offset < 0) return;
    size_t n = hi - lo;
    size_t off = std::min(n, static_cast<size_t>(spec.offset));
    size_t take = spec.limit < 0 ? n - off : std::min(n - off, static_cast<size_t>(spec.limit));
    if (spec.rev) {
      hi -= off;
      lo = hi - take;
    } else {
      lo += off;
      hi = lo + take;
    }
  }
  out->reserve(hi - lo);
  z.Range(lo, hi, spec.rev, [&](std::string_view m, double s) {
    out->emplace_back(m, s);
    return true;
  });
}

// The shared body: `first` is the index of the key (the source key for ZRANGESTORE), then min,
// max and the options.
void RangeGeneric(CommandContext& ctx, RangeSpec spec, bool store) {
  size_t key_i = store ? 2 : 1;
  std::string_view key = ctx.args[key_i];
  for (size_t j = key_i + 3; j < ctx.args.size(); ++j) {
    std::string_view a = ctx.args[j];
    size_t left = ctx.args.size() - j - 1;
    if (!store && EqualsIgnoreCase(a, "withscores")) {
      spec.withscores = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      std::optional<int64_t> off = ParseInt64(ctx.args[j + 1]);
      std::optional<int64_t> lim = off ? ParseInt64(ctx.args[j + 2]) : std::nullopt;
      if (!off || !lim) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      spec.offset = *off;
      spec.limit = *lim;
      j += 2;
    } else if (!spec.rev_set && EqualsIgnoreCase(a, "rev")) {
      spec.rev = spec.rev_set = true;
    } else if (spec.type == RangeType::kAuto && EqualsIgnoreCase(a, "bylex")) {
      spec.type = RangeType::kLex;
    } else if (spec.type == RangeType::kAuto && EqualsIgnoreCase(a, "byscore")) {
      spec.type = RangeType::kScore;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  if (spec.type == RangeType::kAuto) spec.type = RangeType::kRank;
  if (spec.limit != -1 && spec.type == RangeType::kRank) {
    ctx.reply.Error(kLimitRank);
    return;
  }
  if (spec.withscores && spec.type == RangeType::kLex) {
    ctx.reply.Error(kWithscoresLex);
    return;
  }
  std::string_view min = ctx.args[key_i + 1], max = ctx.args[key_i + 2];
  if (spec.rev && spec.type != RangeType::kRank) std::swap(min, max);
  Bounds bounds;
  if (!ParseBounds(ctx, spec.type, min, max, &bounds)) return;
  std::vector<Scored> items;
  Entry* e = ReadLookup(ctx, key);
  if (e == nullptr) {
    if (!store) {
      ctx.reply.EmptyArray();
      return;
    }
  } else {
    if (WrongType(ctx, e)) return;
    SelectRange(ZsetRef::Read(e), spec, bounds, &items);
  }
  if (!store) {
    ReplyScored(ctx.reply, items, spec.withscores);
    return;
  }
  // Redis knows the length of a rank range beforehand and starts a long one as a skiplist; a
  // score or lex range starts as a listpack and converts as it grows.
  ZsetRef::Limits lim = Limits(ctx.server);
  bool long_rank = spec.type == RangeType::kRank && items.size() > lim.max_entries;
  ZsetRef out(ZsetRef::NewEntry(ctx.args[1], !long_rank));
  for (const auto& [m, s] : items) out.Set(m, s, lim);
  StoreZset(ctx, ctx.args[1], out, "zrangestore");
}

RangeSpec Preset(RangeType type, bool rev) {
  RangeSpec s;
  s.type = type;
  s.rev = rev;
  s.rev_set = true;
  return s;
}

// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
void CmdZrange(CommandContext& ctx) { RangeGeneric(ctx, {}, false); }
// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
void CmdZrangestore(CommandContext& ctx) { RangeGeneric(ctx, {}, true); }
void CmdZrevrange(CommandContext& ctx) { RangeGeneric(ctx, Preset(RangeType::kRank, true), false); }
void CmdZrangebyscore(CommandContext& ctx) {
  RangeGeneric(ctx, Preset(RangeType::kScore, false), false);
}
void CmdZrevrangebyscore(CommandContext& ctx) {
  RangeGeneric(ctx, Preset(RangeType::kScore, true), false);
}
void CmdZrangebylex(CommandContext& ctx) {
  RangeGeneric(ctx, Preset(RangeType::kLex, false), false);
}
void CmdZrevrangebylex(CommandContext& ctx) {
  RangeGeneric(ctx, Preset(RangeType::kLex, true), false);
}

// ZREMRANGEBYRANK/ZREMRANGEBYSCORE/ZREMRANGEBYLEX key min max
void RemRangeGeneric(CommandContext& ctx, RangeType type, std::string_view event) {
  std::string_view key = ctx.args[1];
  Bounds b;
  if (!ParseBounds(ctx, type, ctx.args[2], ctx.args[3], &b)) return;
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  ZsetRef z = Ref(ctx.server, ctx.db(), e);
  auto [lo, hi] = RanksOf(z, b, false);
  z.RemoveRange(lo, hi);
  FinishRemoval(ctx, key, Event{'z', event}, static_cast<int64_t>(hi - lo), z.Size() == 0);
}

// ZCOUNT/ZLEXCOUNT key min max
void CountGeneric(CommandContext& ctx, RangeType type) {
  Bounds b;
  if (!ParseBounds(ctx, type, ctx.args[2], ctx.args[3], &b)) return;
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  auto [lo, hi] = RanksOf(ZsetRef::Read(e), b, false);
  ctx.reply.Integer(static_cast<int64_t>(hi - lo));
}

void CmdZcount(CommandContext& ctx) { CountGeneric(ctx, RangeType::kScore); }
void CmdZlexcount(CommandContext& ctx) { CountGeneric(ctx, RangeType::kLex); }

void CmdZremrangebyrank(CommandContext& ctx) {
  RemRangeGeneric(ctx, RangeType::kRank, "zremrangebyrank");
}
void CmdZremrangebyscore(CommandContext& ctx) {
  RemRangeGeneric(ctx, RangeType::kScore, "zremrangebyscore");
}
void CmdZremrangebylex(CommandContext& ctx) {
  RemRangeGeneric(ctx, RangeType::kLex, "zremrangebylex");
}

// ---- pops ----

// Pops up to `count` elements from the low (min) or high end of z into *out (copies: the
// entry changes).
void PopInto(ZsetRef& z, bool min, size_t count, std::vector<std::pair<std::string, double>>* out) {
  size_t n = z.Size();
  count = std::min(count, n);
  size_t lo = min ? 0 : n - count;
  z.Range(lo, lo + count, !min, [&](std::string_view m, double s) {
    out->emplace_back(std::string(m), s);
    return true;
  });
  z.RemoveRange(lo, lo + count);
}

// Reports a pop from `key` (the write path, "zpopmin"/"zpopmax") and deletes it when empty.
void Popped(ServerState& server, int db, std::string_view key, bool min, const ZsetRef& z,
            uint64_t dirty) {
  KeyChanged(server, db, key, Event{'z', min ? "zpopmin" : "zpopmax"}, dirty);
  DeleteIfEmpty(server, db, key, z);
}

// ZPOPMIN/ZPOPMAX key [count]
void PopGeneric(CommandContext& ctx, bool min) {
  std::string_view key = ctx.args[1];
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  size_t count = 1;
  if (ctx.args.size() == 3) {
    std::optional<int64_t> c = ParseInt64(ctx.args[2]);
    if (!c || *c < 0) {
      ctx.reply.Error(errors::kMustBePositive);
      return;
    }
    count = static_cast<size_t>(*c);
  }
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (WrongType(ctx, e)) return;
  bool nested = ctx.args.size() == 3 && ctx.reply.protocol() == ReplyBuilder::kResp3;
  if (e == nullptr || count == 0) {
    ctx.reply.EmptyArray();
    return;
  }
  ZsetRef z = Ref(ctx.server, ctx.db(), e);
  std::vector<std::pair<std::string, double>> popped;
  PopInto(z, min, count, &popped);
  ctx.reply.ArrayHeader(nested ? popped.size() : popped.size() * 2);
  for (const auto& [m, s] : popped) {
    if (nested) ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(m);
    ctx.reply.Double(s);
  }
  Popped(ctx.server, ctx.db(), key, min, z, popped.size());
}

void CmdZpopmin(CommandContext& ctx) { PopGeneric(ctx, true); }
void CmdZpopmax(CommandContext& ctx) { PopGeneric(ctx, false); }

// Parses "numkeys key [key ...] MIN|MAX [COUNT count]" from args[first].
bool ParseMPop(CommandContext& ctx, size_t first, std::vector<std::string_view>* keys, bool* min,
               int64_t* count) {
  return ParseMPopArgs(ctx, first, "min", "max", keys, min, count);
}

// Pops from `key`'s set and writes ZMPOP's [key, [[member, score], ...]] reply.
void ServeMPop(ServerState& server, int db, std::string_view key, bool min, int64_t count,
               ReplyBuilder& reply, uint64_t dirty_per_element) {
  ZsetRef z = Ref(server, db, server.keyspace->Lookup(db, key));
  std::vector<std::pair<std::string, double>> popped;
  PopInto(z, min, static_cast<size_t>(count), &popped);
  reply.ArrayHeader(2);
  reply.Bulk(key);
  reply.ArrayHeader(popped.size());
  for (const auto& [m, s] : popped) {
    reply.ArrayHeader(2);
    reply.Bulk(m);
    reply.Double(s);
  }
  Popped(server, db, key, min, z, dirty_per_element * popped.size());
}

// ZMPOP/BZMPOP without blocking: pops from the first non-empty set of `keys`. Returns true when
// it replied (elements or WRONGTYPE), false when every key was missing.
bool MPopFirst(CommandContext& ctx, const std::vector<std::string_view>& keys, bool min,
               int64_t count) {
  for (std::string_view k : keys) {
    Entry* e = ctx.keyspace().Lookup(ctx.db(), k);
    if (WrongType(ctx, e)) return true;
    if (e == nullptr) continue;
    ServeMPop(ctx.server, ctx.db(), k, min, count, ctx.reply, 1);
    return true;
  }
  return false;
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
void CmdZmpop(CommandContext& ctx) {
  std::vector<std::string_view> keys;
  bool min;
  int64_t count;
  if (!ParseMPop(ctx, 1, &keys, &min, &count)) return;
  if (!MPopFirst(ctx, keys, min, count)) ctx.reply.NullArray();
}

// ---- blocking ----

// BZPOPMIN/BZPOPMAX (count == 0: [key, member, score]) and BZMPOP (count elements).
struct ZsetPopWaiter : BlockedWaiter {
  bool min = true;
  int64_t count = 0;

  bool Ready(ServerState& server, int db, std::string_view key) override {
    Entry* e = server.keyspace->Lookup(db, key);
    return e != nullptr && e->type == ObjType::kZset;
  }
  void Serve(ServerState& server, int db, std::string_view key, ReplyBuilder& reply) override {
    // A served pop adds nothing to the dirty counter, as in Redis; the AOF gets the pop it
    // became (ZPOPMIN/ZPOPMAX with BZMPOP's count).
    if (count != 0) {
      ServeMPop(server, db, key, min, count, reply, 0);
      aof::LogServed(db, {min ? "ZPOPMIN" : "ZPOPMAX", key, std::to_string(count)});
      return;
    }
    ZsetRef z = Ref(server, db, server.keyspace->Lookup(db, key));
    std::vector<std::pair<std::string, double>> popped;
    PopInto(z, min, 1, &popped);
    reply.ArrayHeader(3);
    reply.Bulk(key);
    reply.Bulk(popped[0].first);
    reply.Double(popped[0].second);
    Popped(server, db, key, min, z, 0);
    aof::LogServed(db, {min ? "ZPOPMIN" : "ZPOPMAX", key});
  }
};

// BZPOPMIN/BZPOPMAX key [key ...] timeout
void BlockingPop(CommandContext& ctx, bool min) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args.back(), &timeout_ms)) return;
  for (size_t i = 1; i + 1 < ctx.args.size(); ++i) {
    std::string_view key = ctx.args[i];
    Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
    if (WrongType(ctx, e)) return;
    if (e == nullptr) continue;
    ZsetRef z = Ref(ctx.server, ctx.db(), e);
    std::vector<std::pair<std::string, double>> popped;
    PopInto(z, min, 1, &popped);
    ctx.reply.ArrayHeader(3);
    ctx.reply.Bulk(key);
    ctx.reply.Bulk(popped[0].first);
    ctx.reply.Double(popped[0].second);
    Popped(ctx.server, ctx.db(), key, min, z, 1);
    return;
  }
  auto w = std::make_shared<ZsetPopWaiter>();
  w->min = min;
  for (size_t i = 1; i + 1 < ctx.args.size(); ++i) w->keys.emplace_back(ctx.args[i]);
  Block(ctx, std::move(w), timeout_ms);
}

void CmdBzpopmin(CommandContext& ctx) { BlockingPop(ctx, true); }
void CmdBzpopmax(CommandContext& ctx) { BlockingPop(ctx, false); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void CmdBzmpop(CommandContext& ctx) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args[1], &timeout_ms)) return;
  std::vector<std::string_view> keys;
  bool min;
  int64_t count;
  if (!ParseMPop(ctx, 2, &keys, &min, &count)) return;
  if (MPopFirst(ctx, keys, min, count)) return;
  auto w = std::make_shared<ZsetPopWaiter>();
  w->min = min;
  w->count = count;
  for (std::string_view k : keys) w->keys.emplace_back(k);
  Block(ctx, std::move(w), timeout_ms);
}

// ---- ZRANDMEMBER / ZSCAN ----

// ZRANDMEMBER key [count [WITHSCORES]]
void CmdZrandmember(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    Entry* e = ReadLookup(ctx, ctx.args[1]);
    if (WrongType(ctx, e)) return;
    if (e == nullptr) {
      ctx.reply.NullBulk();
      return;
    }
    const ZsetRef z = ZsetRef::Read(e);
    size_t r = std::uniform_int_distribution<size_t>(0, z.Size() - 1)(CommandRng());
    z.Range(r, r + 1, false, [&](std::string_view m, double) {
      ctx.reply.Bulk(m);
      return false;
    });
    return;
  }
  bool withscores = false;
  if (ctx.args.size() > 4 ||
      (ctx.args.size() == 4 && !EqualsIgnoreCase(ctx.args[3], "withscores"))) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  withscores = ctx.args.size() == 4;
  int64_t count;
  if (!ParseRandomCount(ctx, &count)) return;
  if (withscores && (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2)) {
    ctx.reply.Error(errors::kPlainOutOfRange);
    return;
  }
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (WrongType(ctx, e)) return;
  if (e == nullptr || count == 0) {
    ctx.reply.EmptyArray();
    return;
  }
  const ZsetRef z = ZsetRef::Read(e);
  size_t size = z.Size();
  std::vector<size_t> ranks;
  if (count < 0) {
    size_t n = static_cast<size_t>(-count);
    ranks.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      ranks.push_back(std::uniform_int_distribution<size_t>(0, size - 1)(CommandRng()));
    }
  } else if (static_cast<size_t>(count) >= size) {
    for (size_t i = 0; i < size; ++i) ranks.push_back(i);
  } else {
    // Distinct ranks: a partial shuffle when many, rejection sampling when few.
    size_t n = static_cast<size_t>(count);
    if (n * 3 > size) {
      for (size_t i = 0; i < size; ++i) ranks.push_back(i);
      for (size_t i = 0; i < n; ++i) {
        std::swap(ranks[i],
                  ranks[std::uniform_int_distribution<size_t>(i, size - 1)(CommandRng())]);
      }
      ranks.resize(n);
    } else {
      std::unordered_set<size_t> seen;
      while (ranks.size() < n) {
        size_t r = std::uniform_int_distribution<size_t>(0, size - 1)(CommandRng());
        if (seen.insert(r).second) ranks.push_back(r);
      }
    }
  }
  std::vector<Scored> items;
  items.reserve(ranks.size());
  for (size_t r : ranks) {
    z.Range(r, r + 1, false, [&](std::string_view m, double s) {
      items.emplace_back(m, s);
      return false;
    });
  }
  ReplyScored(ctx.reply, items, withscores);
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]
//
// A packed set is returned whole with cursor 0; a skiplist set is walked with its member
// table's reverse-binary cursor (see SSCAN).
void CmdZscan(CommandContext& ctx) {
  uint64_t cursor;
  ScanOptions opts;
  Entry* e = StartKeyScan(ctx, ObjType::kZset, &cursor, &opts);
  if (e == nullptr) return;
  const ZsetRef z = ZsetRef::Read(e);
  std::vector<std::string> out;
  auto take = [&](std::string_view m, double s) {
    if (opts.use_pattern && !GlobMatch(opts.pattern, m)) return;
    out.emplace_back(m);
    out.push_back(FormatScore(s));
  };
  uint64_t next = 0;
  if (z.packed()) {
    z.ForEach(take);
  } else {
    const ZsetObject* o = z.object();
    next = ScanCount(cursor, opts.count, [&](uint64_t c, uint64_t* seen) {
      return o->dict.Scan(c, [&](const ZNode* n) {
        take(n->key(), n->score);
        ++*seen;
      });
    });
  }
  ReplyKeyScan(ctx.reply, next, out);
}

// ---- ZUNION / ZINTER / ZDIFF ----

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input of an algebra command: a sorted set or a plain set (every member scored 1).
struct Input {
  const Entry* e;  // nullptr: missing key (an empty set)
  double weight = 1;

  size_t Size() const {
    if (e == nullptr) return 0;
    return e->type == ObjType::kZset ? ZsetRef::Read(e).Size() : SetRef::Read(e).Size();
  }
  std::optional<double> Score(std::string_view m) const {
    if (e == nullptr) return std::nullopt;
    if (e->type == ObjType::kZset) return ZsetRef::Read(e).Score(m);
    if (SetRef::Read(e).Contains(m)) return 1.0;
    return std::nullopt;
  }
  template <typename F>
  void ForEach(F&& fn) const {
    if (e == nullptr) return;
    if (e->type == ObjType::kZset) {
      ZsetRef::Read(e).ForEach(fn);
    } else {
      SetRef::Read(e).ForEach([&](std::string_view m) { fn(m, 1.0); });
    }
  }
};

double Weighted(double score, double weight) {
  double v = score * weight;
  return std::isnan(v) ? 0 : v;  // inf * 0
}

void AggregateInto(double* acc, double v, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      *acc += v;
      if (std::isnan(*acc)) *acc = 0;  // inf + -inf
      break;
    case Aggregate::kMin:
      if (v < *acc) *acc = v;
      break;
    case Aggregate::kMax:
      if (v > *acc) *acc = v;
      break;
  }
}

// The result of the operation, unordered; with `limit` (ZINTERCARD) it stops there.
std::vector<std::pair<std::string_view, double>> Compute(const std::vector<Input>& inputs, SetOp op,
                                                         Aggregate agg, size_t limit = 0) {
  std::vector<std::pair<std::string_view, double>> out;
  if (op == SetOp::kUnion) {
    // Smallest input first, as Redis aggregates (it decides the rounding of float sums).
    std::vector<const Input*> order;
    for (const Input& in : inputs) order.push_back(&in);
    std::stable_sort(order.begin(), order.end(),
                     [](const Input* a, const Input* b) { return a->Size() < b->Size(); });
    std::unordered_map<std::string_view, size_t> at;
    for (const Input* inp : order) {
      const Input& in = *inp;
      in.ForEach([&](std::string_view m, double s) {
        double v = Weighted(s, in.weight);
        auto [it, fresh] = at.try_emplace(m, out.size());
        if (fresh) {
          out.emplace_back(m, v);
        } else {
          AggregateInto(&out[it->second].second, v, agg);
        }
      });
    }
    return out;
  }
  if (op == SetOp::kDiff) {
    inputs[0].ForEach([&](std::string_view m, double s) {
      for (size_t i = 1; i < inputs.size(); ++i) {
        if (inputs[i].Score(m)) return;
      }
      out.emplace_back(m, s);
    });
    return out;
  }
  // Intersection: walk the smallest input, look the members up in the others.
  for (const Input& in : inputs) {
    if (in.Size() == 0) return out;
  }
  std::vector<size_t> order(inputs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return inputs[a].Size() < inputs[b].Size(); });
  const Input& first = inputs[order[0]];
  bool done = false;
  first.ForEach([&](std::string_view m, double s) {
    if (done) return;
    double acc = Weighted(s, first.weight);
    for (size_t k = 1; k < order.size(); ++k) {
      const Input& other = inputs[order[k]];
      std::optional<double> os = other.e == first.e ? std::optional<double>(s) : other.Score(m);
      if (!os) return;
      // Only the first input's weighted score is cleared of NaN (inf * 0), as in Redis: a NaN
      // here makes a sum 0 and leaves a min or max unchanged.
      AggregateInto(&acc, *os * other.weight, agg);
    }
    out.emplace_back(m, acc);
    if (limit != 0 && out.size() >= limit) done = true;
  });
  return out;
}

std::string AtLeastOneKey(std::string_view command) {
  return "ERR at least 1 input key is needed for '" + std::string(command) + "' command";
}

// Looks the inputs up (args[first .. first + n)); false after replying WRONGTYPE.
bool LookupInputs(CommandContext& ctx, size_t first, size_t n, std::vector<Input>* inputs) {
  for (size_t i = 0; i < n; ++i) {
    Entry* e = ReadLookup(ctx, ctx.args[first + i]);
    if (e != nullptr && e->type != ObjType::kZset && e->type != ObjType::kSet) {
      ctx.reply.Error(errors::kWrongType);
      return false;
    }
    inputs->push_back({e, 1});
  }
  return true;
}

// ZUNION/ZINTER/ZDIFF numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
// [WITHSCORES], and the STORE forms with a destination first (no WITHSCORES).
void AlgebraGeneric(CommandContext& ctx, SetOp op, bool store, std::string_view name) {
  size_t numkeys_i = store ? 2 : 1;
  std::optional<int64_t> numkeys = ParseInt64(ctx.args[numkeys_i]);
  if (!numkeys) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*numkeys < 1) {
    ctx.reply.Error(AtLeastOneKey(name));
    return;
  }
  size_t first = numkeys_i + 1;
  if (static_cast<uint64_t>(*numkeys) > ctx.args.size() - first) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  size_t n = static_cast<size_t>(*numkeys);
  std::vector<Input> inputs;
  if (!LookupInputs(ctx, first, n, &inputs)) return;
  Aggregate agg = Aggregate::kSum;
  bool withscores = false;
  for (size_t j = first + n; j < ctx.args.size(); ++j) {
    size_t left = ctx.args.size() - j - 1;
    std::string_view a = ctx.args[j];
    if (op != SetOp::kDiff && left >= n && EqualsIgnoreCase(a, "weights")) {
      for (size_t k = 0; k < n; ++k) {
        std::optional<double> w = ParseDouble(ctx.args[++j]);
        if (!w) {
          ctx.reply.Error(kWeightFloat);
          return;
        }
        inputs[k].weight = *w;
      }
    } else if (op != SetOp::kDiff && left >= 1 && EqualsIgnoreCase(a, "aggregate")) {
      std::string_view v = ctx.args[++j];
      if (EqualsIgnoreCase(v, "sum")) {
        agg = Aggregate::kSum;
      } else if (EqualsIgnoreCase(v, "min")) {
        agg = Aggregate::kMin;
      } else if (EqualsIgnoreCase(v, "max")) {
        agg = Aggregate::kMax;
      } else {
        ctx.reply.Error(errors::kSyntax);
        return;
      }
    } else if (!store && EqualsIgnoreCase(a, "withscores")) {
      withscores = true;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  auto result = Compute(inputs, op, agg);
  std::sort(result.begin(), result.end(), [](const Scored& a, const Scored& b) {
    return ZLess(a.second, a.first, b.second, b.first);
  });
  if (!store) {
    ReplyScored(ctx.reply, result, withscores);
    return;
  }
  // Built as a skiplist, then packed when it fits (Redis's zsetConvertToListpackIfNeeded).
  ZsetRef out(ZsetRef::NewEntry(ctx.args[1], false));
  ZsetRef::Limits unlimited{SIZE_MAX, SIZE_MAX};
  for (const auto& [m, s] : result) out.Set(m, s, unlimited);
  out.ConvertToPackedIfFits(Limits(ctx.server));
  StoreZset(ctx, ctx.args[1], out, name);
}

void CmdZunion(CommandContext& ctx) { AlgebraGeneric(ctx, SetOp::kUnion, false, "zunion"); }
void CmdZinter(CommandContext& ctx) { AlgebraGeneric(ctx, SetOp::kInter, false, "zinter"); }
void CmdZdiff(CommandContext& ctx) { AlgebraGeneric(ctx, SetOp::kDiff, false, "zdiff"); }
void CmdZunionstore(CommandContext& ctx) {
  AlgebraGeneric(ctx, SetOp::kUnion, true, "zunionstore");
}
void CmdZinterstore(CommandContext& ctx) {
  AlgebraGeneric(ctx, SetOp::kInter, true, "zinterstore");
}
void CmdZdiffstore(CommandContext& ctx) { AlgebraGeneric(ctx, SetOp::kDiff, true, "zdiffstore"); }

// ZINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdZintercard(CommandContext& ctx) {
  std::optional<int64_t> numkeys = ParseInt64(ctx.args[1]);
  if (!numkeys) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*numkeys < 1) {
    ctx.reply.Error(AtLeastOneKey("zintercard"));
    return;
  }
  if (static_cast<uint64_t>(*numkeys) > ctx.args.size() - 2) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  size_t n = static_cast<size_t>(*numkeys);
  int64_t limit;
  if (!ParseCardLimit(ctx, 2 + n, &limit)) return;
  std::vector<Input> inputs;
  if (!LookupInputs(ctx, 2, n, &inputs)) return;
  auto result = Compute(inputs, SetOp::kInter, Aggregate::kSum, static_cast<size_t>(limit));
  ctx.reply.Integer(static_cast<int64_t>(result.size()));
}

}  // namespace

void ZaddCommand(CommandContext& ctx) { CmdZadd(ctx); }

void RegisterZsetFamily(CommandRegistry* r) {
  r->Register("zadd", CmdZadd);
  r->Register("zincrby", CmdZincrby);
  r->Register("zrem", CmdZrem);
  r->Register("zcard", CmdZcard);
  r->Register("zscore", CmdZscore);
  r->Register("zmscore", CmdZmscore);
  r->Register("zrank", CmdZrank);
  r->Register("zrevrank", CmdZrevrank);
  r->Register("zcount", CmdZcount);
  r->Register("zlexcount", CmdZlexcount);
  r->Register("zrange", CmdZrange);
  r->Register("zrangestore", CmdZrangestore);
  r->Register("zrangebyscore", CmdZrangebyscore);
  r->Register("zrevrangebyscore", CmdZrevrangebyscore);
  r->Register("zrangebylex", CmdZrangebylex);
  r->Register("zrevrangebylex", CmdZrevrangebylex);
  r->Register("zrevrange", CmdZrevrange);
  r->Register("zremrangebyrank", CmdZremrangebyrank);
  r->Register("zremrangebyscore", CmdZremrangebyscore);
  r->Register("zremrangebylex", CmdZremrangebylex);
  r->Register("zpopmin", CmdZpopmin);
  r->Register("zpopmax", CmdZpopmax);
  r->Register("zmpop", CmdZmpop);
  r->Register("bzpopmin", CmdBzpopmin);
  r->Register("bzpopmax", CmdBzpopmax);
  r->Register("bzmpop", CmdBzmpop);
  r->Register("zrandmember", CmdZrandmember);
  r->Register("zscan", CmdZscan);
  r->Register("zunion", CmdZunion);
  r->Register("zinter", CmdZinter);
  r->Register("zdiff", CmdZdiff);
  r->Register("zunionstore", CmdZunionstore);
  r->Register("zinterstore", CmdZinterstore);
  r->Register("zdiffstore", CmdZdiffstore);
  r->Register("zintercard", CmdZintercard);
}

}  // namespace keel
