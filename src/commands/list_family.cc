// List commands; the blocking pops are list kinds of the blocking module (blocking.h).
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blocking.h"
#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/list_object.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"

namespace keel {

namespace {

using OptList = std::optional<ListRef>;

int64_t NodeLimit(ServerState& server) { return server.config->list_max_listpack_size(); }

ListRef AsList(ServerState& server, int db, Entry* e) {
  return ListRef(*server.keyspace, db, e, NodeLimit(server), server.config->list_compress_depth());
}

// Looks up a list. Returns nothing when the key is missing; replies WRONGTYPE and sets *err
// when it holds another type.
OptList FindList(CommandContext& ctx, std::string_view key, bool* err) {
  *err = false;
  Entry* e = ctx.keyspace().Lookup(ctx.db(), key);
  if (e == nullptr) return std::nullopt;
  if (WrongType(ctx, e, ObjType::kList)) {
    *err = true;
    return std::nullopt;
  }
  return AsList(ctx.server, ctx.db(), e);
}

// Creates an empty list under `key` and notifies "new".
ListRef CreateList(ServerState& server, int db, std::string_view key) {
  Entry* e = ListRef::NewEntry(key);
  server.keyspace->Put(db, e);
  NewKeyEvent(server, key, db);
  return AsList(server, db, e);
}

// Deletes the key of a list left empty ("del"). Redis counts the removal in the pop's changes,
// not as one of its own.
void DeleteIfEmpty(ServerState& server, int db, std::string_view key, const ListRef& list) {
  if (list.empty() && server.keyspace->Delete(db, key)) KeyDeleted(server, db, key, 0);
}

// Reports a push onto / a pop from `key` ("lpush"/"rpush", "lpop"/"rpop"; `dirty`: what it adds
// to the dirty counter).
void Pushed(ServerState& server, int db, std::string_view key, bool left, uint64_t dirty) {
  KeyChanged(server, db, key, Event{'l', left ? "lpush" : "rpush"}, dirty);
}

void Popped(ServerState& server, int db, std::string_view key, bool left, uint64_t dirty) {
  KeyChanged(server, db, key, Event{'l', left ? "lpop" : "rpop"}, dirty);
}

bool ParseIndex(CommandContext& ctx, std::string_view s, int64_t* out) {
  auto v = ParseInt64(s);
  if (!v) {
    ctx.reply.Error(errors::kNotInteger);
    return false;
  }
  *out = *v;
  return true;
}

// Parses LEFT|RIGHT.
bool ParseWhere(std::string_view s, bool* left) {
  if (EqualsIgnoreCase(s, "left")) {
    *left = true;
    return true;
  }
  if (EqualsIgnoreCase(s, "right")) {
    *left = false;
    return true;
  }
  return false;
}

// Converts [start, stop] with negative indexes to a clamped range; false when empty.
bool ClampRange(int64_t start, int64_t stop, size_t size, size_t* from, size_t* to) {
  int64_t n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return false;
  if (stop >= n) stop = n - 1;
  *from = static_cast<size_t>(start);
  *to = static_cast<size_t>(stop);
  return true;
}

// ---- pushes ----

// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...]
void Push(CommandContext& ctx, bool left, bool only_existing) {
  std::string_view key = ctx.args[1];
  bool err;
  OptList list = FindList(ctx, key, &err);
  if (err) return;
  if (!list) {
    if (only_existing) {
      ctx.reply.Integer(0);
      return;
    }
    list = CreateList(ctx.server, ctx.db(), key);
  }
  list->Push(left, ctx.args.subspan(2));
  ctx.keyspace().SignalReady(ctx.db(), key);
  Pushed(ctx.server, ctx.db(), key, left, ctx.args.size() - 2);
  ctx.reply.Integer(static_cast<int64_t>(list->size()));
}

void CmdLPush(CommandContext& ctx) { Push(ctx, true, false); }
void CmdRPush(CommandContext& ctx) { Push(ctx, false, false); }
void CmdLPushX(CommandContext& ctx) { Push(ctx, true, true); }
void CmdRPushX(CommandContext& ctx) { Push(ctx, false, true); }

// ---- pops ----

// LPOP/RPOP key [count]
void Pop(CommandContext& ctx, bool left) {
  std::string_view key = ctx.args[1];
  bool has_count = ctx.args.size() == 3;
  int64_t count = 1;
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::WrongArity(left ? "lpop" : "rpop"));
    return;
  }
  if (has_count) {
    auto v = ParseInt64(ctx.args[2]);
    if (!v || *v < 0) {
      ctx.reply.Error(errors::kMustBePositive);
      return;
    }
    count = *v;
  }
  bool err;
  OptList list = FindList(ctx, key, &err);
  if (err) return;
  if (!list) {
    if (has_count) {
      ctx.reply.NullArray();
    } else {
      ctx.reply.NullBulk();
    }
    return;
  }
  size_t n = 1;
  if (!has_count) {
    list->Pop(left, [&](std::string_view v) { ctx.reply.Bulk(v); });
  } else {
    n = std::min<size_t>(static_cast<size_t>(count), list->size());
    ctx.reply.ArrayHeader(n);
    for (size_t i = 0; i < n; ++i) list->Pop(left, [&](std::string_view v) { ctx.reply.Bulk(v); });
    if (n == 0) return;  // LPOP key 0: nothing popped, nothing notified
  }
  Popped(ctx.server, ctx.db(), key, left, n);
  DeleteIfEmpty(ctx.server, ctx.db(), key, *list);
}

void CmdLPop(CommandContext& ctx) { Pop(ctx, true); }
void CmdRPop(CommandContext& ctx) { Pop(ctx, false); }

// LLEN key
void CmdLLen(CommandContext& ctx) {
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  CountRead(ctx, ctx.db(), ctx.args[1], list.has_value());
  ctx.reply.Integer(list ? static_cast<int64_t>(list->size()) : 0);
}

// LRANGE key start stop
void CmdLRange(CommandContext& ctx) {
  int64_t start, stop;
  if (!ParseIndex(ctx, ctx.args[2], &start) || !ParseIndex(ctx, ctx.args[3], &stop)) return;
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  CountRead(ctx, ctx.db(), ctx.args[1], list.has_value());
  if (!list) {
    ctx.reply.EmptyArray();
    return;
  }
  // A short range from the head (the common case) needs no length: a packed list has to be
  // walked to count it, and the walk of the range stops at the end anyway. Its elements are
  // collected, sized, and written in one piece.
  constexpr uint64_t kOnePieceCount = 1024;
  constexpr size_t kOnePieceBytes = 16 * 1024;
  if (start >= 0 && stop >= 0 && static_cast<uint64_t>(stop - start) < kOnePieceCount) {
    thread_local std::vector<std::string_view> views;
    views.clear();
    size_t bytes = 0;
    list->ForRange(static_cast<size_t>(start), static_cast<size_t>(stop),
                   [&](size_t, std::string_view v) {
                     views.push_back(v);
                     bytes += ReplyBuilder::BulkSize(v.size());
                     return true;
                   });
    if (views.empty()) {
      ctx.reply.EmptyArray();
      return;
    }
    ctx.reply.ArrayHeader(views.size());
    if (bytes <= kOnePieceBytes) {
      char* p = ctx.reply.Extend(bytes);
      for (std::string_view v : views) p = ReplyBuilder::WriteBulk(p, v);
    } else {
      for (std::string_view v : views) ctx.reply.Bulk(v);
    }
    return;
  }
  size_t from, to;
  if (!ClampRange(start, stop, list->size(), &from, &to)) {
    ctx.reply.EmptyArray();
    return;
  }
  ctx.reply.ArrayHeader(to - from + 1);
  list->ForRange(from, to, [&](size_t, std::string_view v) {
    ctx.reply.Bulk(v);
    return true;
  });
}

// LINDEX key index
void CmdLIndex(CommandContext& ctx) {
  int64_t index;
  if (!ParseIndex(ctx, ctx.args[2], &index)) return;
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  CountRead(ctx, ctx.db(), ctx.args[1], list.has_value());
  if (!list) {
    ctx.reply.NullBulk();
    return;
  }
  int64_t n = static_cast<int64_t>(list->size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) {
    ctx.reply.NullBulk();
    return;
  }
  ctx.reply.Bulk(list->At(static_cast<size_t>(index)));
}

// LSET key index element
void CmdLSet(CommandContext& ctx) {
  int64_t index;
  if (!ParseIndex(ctx, ctx.args[2], &index)) return;
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  if (!list) {
    ctx.reply.Error(errors::kNoSuchKey);
    return;
  }
  int64_t n = static_cast<int64_t>(list->size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) {
    ctx.reply.Error(errors::kOutOfRange);
    return;
  }
  list->Set(static_cast<size_t>(index), ctx.args[3]);
  KeyChanged(ctx, ctx.args[1], Event{'l', "lset"});
  ctx.reply.Ok();
}

// LINSERT key BEFORE|AFTER pivot element
void CmdLInsert(CommandContext& ctx) {
  bool after;
  if (EqualsIgnoreCase(ctx.args[2], "after")) {
    after = true;
  } else if (EqualsIgnoreCase(ctx.args[2], "before")) {
    after = false;
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  if (!list) {
    ctx.reply.Integer(0);
    return;
  }
  if (!list->Insert(ctx.args[3], ctx.args[4], after)) {
    ctx.reply.Integer(-1);
    return;
  }
  KeyChanged(ctx, ctx.args[1], Event{'l', "linsert"});
  ctx.reply.Integer(static_cast<int64_t>(list->size()));
}

// LREM key count element
void CmdLRem(CommandContext& ctx) {
  int64_t count;
  if (!ParseIndex(ctx, ctx.args[2], &count)) return;
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  if (!list) {
    ctx.reply.Integer(0);
    return;
  }
  size_t removed = list->Remove(ctx.args[3], count);
  if (removed > 0) {
    KeyChanged(ctx, ctx.args[1], Event{'l', "lrem"}, removed);
    DeleteIfEmpty(ctx.server, ctx.db(), ctx.args[1], *list);
  }
  ctx.reply.Integer(static_cast<int64_t>(removed));
}

// LTRIM key start stop
void CmdLTrim(CommandContext& ctx) {
  int64_t start, stop;
  if (!ParseIndex(ctx, ctx.args[2], &start) || !ParseIndex(ctx, ctx.args[3], &stop)) return;
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  if (list) {
    size_t before = list->size();
    size_t from, to;
    if (ClampRange(start, stop, list->size(), &from, &to)) {
      list->Trim(from, to);
    } else {
      list->Clear();
    }
    // Redis counts the elements removed (so a trim that keeps everything changes nothing),
    // yet notifies and touches the key whenever it exists.
    KeyChanged(ctx, ctx.args[1], Event{'l', "ltrim"}, before - list->size());
    DeleteIfEmpty(ctx.server, ctx.db(), ctx.args[1], *list);
  }
  ctx.reply.Ok();
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void CmdLPos(CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t i = 3; i < ctx.args.size(); i += 2) {
    std::string_view opt = ctx.args[i];
    if (i + 1 >= ctx.args.size()) {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
    int64_t v;
    if (EqualsIgnoreCase(opt, "rank")) {
      if (!ParseIndex(ctx, ctx.args[i + 1], &v)) return;
      if (v == 0) {
        ctx.reply.Error(errors::kRankZero);
        return;
      }
      rank = v;
    } else if (EqualsIgnoreCase(opt, "count") || EqualsIgnoreCase(opt, "maxlen")) {
      bool is_count = EqualsIgnoreCase(opt, "count");
      if (!ParseIndex(ctx, ctx.args[i + 1], &v)) return;
      if (v < 0) {
        ctx.reply.Error(is_count ? errors::kCountNegative : errors::kMaxlenNegative);
        return;
      }
      (is_count ? count : maxlen) = v;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  bool err;
  OptList list = FindList(ctx, ctx.args[1], &err);
  if (err) return;
  CountRead(ctx, ctx.db(), ctx.args[1], list.has_value());
  bool with_count = count >= 0;
  if (!list) {
    if (with_count) {
      ctx.reply.EmptyArray();
    } else {
      ctx.reply.NullBulk();
    }
    return;
  }
  // Skip rank-1 matches, then collect up to `count` (0 = all) within maxlen comparisons.
  uint64_t skip = rank > 0 ? static_cast<uint64_t>(rank - 1)
                           : static_cast<uint64_t>(-(rank + 1));  // safe for INT64_MIN
  uint64_t want = with_count ? (count == 0 ? UINT64_MAX : static_cast<uint64_t>(count)) : 1;
  std::vector<int64_t> found;
  int64_t seen = 0;
  std::string_view needle = ctx.args[2];
  auto visit = [&](size_t i, std::string_view v) {
    if (maxlen != 0 && seen >= maxlen) return false;
    ++seen;
    if (v == needle) {
      if (skip > 0) {
        --skip;
      } else {
        found.push_back(static_cast<int64_t>(i));
        if (found.size() >= want) return false;
      }
    }
    return true;
  };
  if (rank > 0) {
    list->ForRange(0, list->size() - 1, visit);
  } else {
    list->ForBackward(list->size() - 1, visit);
  }
  if (!with_count) {
    if (found.empty()) {
      ctx.reply.NullBulk();
    } else {
      ctx.reply.Integer(found[0]);
    }
    return;
  }
  ctx.reply.ArrayHeader(found.size());
  for (int64_t f : found) ctx.reply.Integer(f);
}

// Pops from `src` and pushes onto `dst` (same db). REQUIRES: both shards locked, `src` a
// non-empty list, `dst` missing or a list. Returns the moved element. Notifies as Redis does:
// the push on `dst` (after "new" when created), then the pop on `src`, then its "del".
// (When src == dst the source handle is not used after the pop: the push may move the entry.)
// `dirty` is what the move adds to the dirty counter (1 for LMOVE, 0 for a served BLMOVE, as in
// Redis).
std::string MoveElement(ServerState& server, int db, std::string_view src, ListRef& src_list,
                        std::string_view dst, bool pop_left, bool push_left, uint64_t dirty) {
  Keyspace& ks = *server.keyspace;
  std::string v = src_list.Pop(pop_left);
  Entry* de = ks.Lookup(db, dst);
  ListRef dst_list = de == nullptr ? CreateList(server, db, dst) : AsList(server, db, de);
  if (push_left) {
    dst_list.PushFront(v);
  } else {
    dst_list.PushBack(v);
  }
  ks.SignalReady(db, dst);
  Pushed(server, db, dst, push_left, dirty);
  Popped(server, db, src, pop_left, 0);
  if (src != dst) DeleteIfEmpty(server, db, src, src_list);
  return v;
}

// LMOVE/RPOPLPUSH body.
void Move(CommandContext& ctx, std::string_view src, std::string_view dst, bool pop_left,
          bool push_left) {
  bool err;
  OptList list = FindList(ctx, src, &err);
  if (err) return;
  if (!list) {
    ctx.reply.NullBulk();
    return;
  }
  Entry* de = ctx.keyspace().Lookup(ctx.db(), dst);
  if (de != nullptr && de->type != ObjType::kList) {
    ctx.reply.Error(errors::kWrongType);
    return;
  }
  ctx.reply.Bulk(MoveElement(ctx.server, ctx.db(), src, *list, dst, pop_left, push_left, 1));
}

// RPOPLPUSH source destination
void CmdRPopLPush(CommandContext& ctx) { Move(ctx, ctx.args[1], ctx.args[2], false, true); }

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
void CmdLMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(ctx.args[3], &from_left) || !ParseWhere(ctx.args[4], &to_left)) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  Move(ctx, ctx.args[1], ctx.args[2], from_left, to_left);
}

// Parses "numkeys key [key ...] LEFT|RIGHT [COUNT count]" starting at args[first].
bool ParseMPop(CommandContext& ctx, size_t first, std::vector<std::string_view>* keys, bool* left,
               int64_t* count) {
  return ParseMPopArgs(ctx, first, "left", "right", keys, left, count);
}

// Pops up to count elements from `list` and writes the [key, [elements]] reply. Returns how many
// it popped.
size_t ReplyMPop(ReplyBuilder& reply, std::string_view key, ListRef& list, bool left,
                 int64_t count) {
  size_t n = std::min<size_t>(static_cast<size_t>(count), list.size());
  reply.ArrayHeader(2);
  reply.Bulk(key);
  reply.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) list.Pop(left, [&](std::string_view v) { reply.Bulk(v); });
  return n;
}

// LMPOP/BLMPOP without blocking: pops from the first non-empty list of `keys` and replies.
// Returns true when it replied (elements, or WRONGTYPE), false when every list was empty.
bool PopFromFirstNonEmpty(CommandContext& ctx, const std::vector<std::string_view>& keys, bool left,
                          int64_t count) {
  for (std::string_view k : keys) {
    bool err;
    OptList list = FindList(ctx, k, &err);
    if (err) return true;
    if (!list || list->empty()) continue;
    size_t n = ReplyMPop(ctx.reply, k, *list, left, count);
    Popped(ctx.server, ctx.db(), k, left, n);
    DeleteIfEmpty(ctx.server, ctx.db(), k, *list);
    return true;
  }
  return false;
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdLMPop(CommandContext& ctx) {
  std::vector<std::string_view> keys;
  bool left;
  int64_t count;
  if (!ParseMPop(ctx, 1, &keys, &left, &count)) return;
  if (PopFromFirstNonEmpty(ctx, keys, left, count)) return;
  ctx.reply.NullArray();
}

// ---- blocking ----
// The list kinds of the blocking module (blocking.h): they say when a key can serve them and
// how; queues, claims, timeouts and CLIENT UNBLOCK are the module's.

// Whether `key` holds a non-empty list.
bool HasElements(ServerState& server, int db, std::string_view key) {
  Entry* e = server.keyspace->Lookup(db, key);
  return e != nullptr && e->type == ObjType::kList && !AsList(server, db, e).empty();
}

// BLPOP, BRPOP (count == 0: a two-element reply) and BLMPOP (count elements).
struct ListPopWaiter : BlockedWaiter {
  bool pop_left = true;
  int64_t count = 0;

  bool Ready(ServerState& server, int db, std::string_view key) override {
    return HasElements(server, db, key);
  }
  void Serve(ServerState& server, int db, std::string_view key, ReplyBuilder& reply) override {
    ListRef list = AsList(server, db, server.keyspace->Lookup(db, key));
    if (count == 0) {
      reply.ArrayHeader(2);
      reply.Bulk(key);
      list.Pop(pop_left, [&](std::string_view v) { reply.Bulk(v); });
    } else {
      ReplyMPop(reply, key, list, pop_left, count);
    }
    // A served pop is reported as a change (WATCH, the AOF as the pop it became) but, as in
    // Redis, adds nothing to the dirty counter.
    Popped(server, db, key, pop_left, 0);
    std::string n = std::to_string(count);
    if (count == 0) {
      aof::LogServed(db, {pop_left ? "LPOP" : "RPOP", key});
    } else {
      aof::LogServed(db, {pop_left ? "LPOP" : "RPOP", key, n});
    }
    DeleteIfEmpty(server, db, key, list);
  }
};

// BLMOVE, BRPOPLPUSH.
struct ListMoveWaiter : BlockedWaiter {
  bool pop_left = true;
  bool push_left = true;
  std::string dest;

  void ExtraKeys(std::vector<std::string_view>* keys) const override { keys->push_back(dest); }
  bool Ready(ServerState& server, int db, std::string_view key) override {
    if (!HasElements(server, db, key)) return false;
    Entry* de = server.keyspace->Lookup(db, dest);
    return de == nullptr || de->type == ObjType::kList;  // otherwise it stays blocked
  }
  void Serve(ServerState& server, int db, std::string_view key, ReplyBuilder& reply) override {
    ListRef list = AsList(server, db, server.keyspace->Lookup(db, key));
    reply.Bulk(MoveElement(server, db, key, list, dest, pop_left, push_left, 0));
    aof::LogServed(db,
                   {"LMOVE", key, dest, pop_left ? "LEFT" : "RIGHT", push_left ? "LEFT" : "RIGHT"});
  }
  void ReplyNothing(ReplyBuilder& reply) const override { reply.NullBulk(); }
  // Every blocking list command times out with a null array, BLMOVE included (the default).
};

// BLPOP/BRPOP key [key ...] timeout
void BlockingPop(CommandContext& ctx, bool left) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args.back(), &timeout_ms)) return;
  for (size_t i = 1; i + 1 < ctx.args.size(); ++i) {
    bool err;
    OptList list = FindList(ctx, ctx.args[i], &err);
    if (err) return;
    if (!list || list->empty()) continue;
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk(ctx.args[i]);
    list->Pop(left, [&](std::string_view v) { ctx.reply.Bulk(v); });
    Popped(ctx.server, ctx.db(), ctx.args[i], left, 1);
    DeleteIfEmpty(ctx.server, ctx.db(), ctx.args[i], *list);
    return;
  }
  auto w = std::make_shared<ListPopWaiter>();
  w->pop_left = left;
  for (size_t i = 1; i + 1 < ctx.args.size(); ++i) w->keys.emplace_back(ctx.args[i]);
  Block(ctx, std::move(w), timeout_ms);
}

void CmdBLPop(CommandContext& ctx) { BlockingPop(ctx, true); }
void CmdBRPop(CommandContext& ctx) { BlockingPop(ctx, false); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdBLMPop(CommandContext& ctx) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args[1], &timeout_ms)) return;
  std::vector<std::string_view> keys;
  bool left;
  int64_t count;
  if (!ParseMPop(ctx, 2, &keys, &left, &count)) return;
  if (PopFromFirstNonEmpty(ctx, keys, left, count)) return;
  auto w = std::make_shared<ListPopWaiter>();
  w->pop_left = left;
  w->count = count;
  for (std::string_view k : keys) w->keys.emplace_back(k);
  Block(ctx, std::move(w), timeout_ms);
}

// BLMOVE/BRPOPLPUSH body.
void BlockingMove(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
                  bool to_left, std::string_view timeout) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, timeout, &timeout_ms)) return;
  bool err;
  OptList list = FindList(ctx, src, &err);
  if (err) return;
  if (list && !list->empty()) {
    Move(ctx, src, dst, from_left, to_left);
    return;
  }
  auto w = std::make_shared<ListMoveWaiter>();
  w->pop_left = from_left;
  w->push_left = to_left;
  w->dest = std::string(dst);
  w->keys.emplace_back(src);
  Block(ctx, std::move(w), timeout_ms);
}

// BRPOPLPUSH source destination timeout
void CmdBRPopLPush(CommandContext& ctx) {
  BlockingMove(ctx, ctx.args[1], ctx.args[2], false, true, ctx.args[3]);
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void CmdBLMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(ctx.args[3], &from_left) || !ParseWhere(ctx.args[4], &to_left)) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  BlockingMove(ctx, ctx.args[1], ctx.args[2], from_left, to_left, ctx.args[5]);
}

}  // namespace

void RegisterListFamily(CommandRegistry* r) {
  r->Register("lpush", CmdLPush);
  r->Register("rpush", CmdRPush);
  r->Register("lpushx", CmdLPushX);
  r->Register("rpushx", CmdRPushX);
  r->Register("lpop", CmdLPop);
  r->Register("rpop", CmdRPop);
  r->Register("llen", CmdLLen);
  r->Register("lrange", CmdLRange);
  r->Register("lindex", CmdLIndex);
  r->Register("lset", CmdLSet);
  r->Register("linsert", CmdLInsert);
  r->Register("lrem", CmdLRem);
  r->Register("ltrim", CmdLTrim);
  r->Register("lpos", CmdLPos);
  r->Register("rpoplpush", CmdRPopLPush);
  r->Register("lmove", CmdLMove);
  r->Register("lmpop", CmdLMPop);
  r->Register("blpop", CmdBLPop);
  r->Register("brpop", CmdBRPop);
  r->Register("brpoplpush", CmdBRPopLPush);
  r->Register("blmove", CmdBLMove);
  r->Register("blmpop", CmdBLMPop);
}

}  // namespace keel
