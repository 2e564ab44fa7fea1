#include "keel/keyspace/keyspace.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "keel/common/clock.h"
#include "keel/keyspace/set_object.h"

namespace keel {
namespace {

TEST(KeyPlace, KeysSharingAHashTagShareAShard) {
  EXPECT_EQ(ShardOf("{user1000}.following"), ShardOf("{user1000}.followers"));
  EXPECT_EQ(ShardOf("{user1000}.following"), ShardOf("user1000"));
  // Only the first '{' and the next '}' count: the tag of "{a}{b}" is "a", of "x{a{b}y" "a{b".
  EXPECT_EQ(ShardOf("{a}{b}"), ShardOf("a"));
  EXPECT_EQ(ShardOf("x{a{b}y"), ShardOf("a{b"));
  // A key's hash in its shard's table is always the whole key's.
  EXPECT_NE(KeyHash("{user1000}.following"), KeyHash("{user1000}.followers"));
  EXPECT_NE(KeyHash("{user1000}.following"), KeyHash("user1000"));
  // An empty tag "{}" or an unclosed one does not count: the whole key places itself. (Of 64
  // such keys some must land away from the shard of what would have been their tag.)
  int away = 0;
  for (int i = 0; i < 64; ++i) {
    std::string n = std::to_string(i);
    away += ShardOf("{}" + n) != ShardOf("") ? 1 : 0;
    away += ShardOf("{" + n) != ShardOf(n) ? 1 : 0;
  }
  EXPECT_GT(away, 100);
  // Keys without a tag spread over the shards.
  std::set<size_t> shards;
  for (int i = 0; i < 4096; ++i) shards.insert(ShardOf("key:" + std::to_string(i)));
  EXPECT_GT(shards.size(), kShards * 9 / 10);
}

// The shard lock under contention from more threads than cores, so that some waiters give up
// spinning and sleep: every increment made under it survives, and try_lock fails while held.
TEST(ShardMutex, SerializesContendedThreadsAndWakesSleepers) {
  ShardMutex mu;
  uint64_t counter = 0;  // plain: only the lock orders the increments
  constexpr int kThreads = 4;
  constexpr int kRounds = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard<ShardMutex> lock(mu);
        ++counter;
        if (i % 1000 == 0) std::this_thread::yield();  // held across a yield: others sleep
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kRounds);
  mu.lock();
  EXPECT_FALSE(mu.try_lock());
  std::thread other([&] { EXPECT_FALSE(mu.try_lock()); });
  other.join();
  mu.unlock();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

std::string Key(int i) { return "key:" + std::to_string(i); }

TEST(Shard, InsertFindUnlinkAcrossRehashes) {
  Shard s;
  std::lock_guard<ShardMutex> lock(s.mu);
  for (int i = 0; i < 5000; ++i) {
    std::string k = Key(i);
    s.Insert(NewStringEntry(k, "v" + std::to_string(i), -1), KeyHash(k));
  }
  EXPECT_EQ(s.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    std::string k = Key(i);
    Entry* e = s.Find(k, KeyHash(k));
    ASSERT_NE(e, nullptr) << k;
    char buf[24];
    EXPECT_EQ(e->StringValue(buf), "v" + std::to_string(i));
  }
  for (int i = 0; i < 5000; i += 2) {
    std::string k = Key(i);
    Entry** link = s.FindLink(k, KeyHash(k));
    ASSERT_NE(link, nullptr);
    FreeEntry(s.UnlinkAt(link));
  }
  EXPECT_EQ(s.size(), 2500u);
  for (int i = 0; i < 5000; ++i) {
    std::string k = Key(i);
    EXPECT_EQ(s.Find(k, KeyHash(k)) != nullptr, i % 2 == 1) << k;
  }
  // Shrinking: the table follows the key count down.
  for (int i = 1; i < 5000; i += 2) {
    std::string k = Key(i);
    FreeEntry(s.UnlinkAt(s.FindLink(k, KeyHash(k))));
  }
  EXPECT_EQ(s.size(), 0u);
  while (s.RehashStep(100)) {
  }
  EXPECT_LE(s.bucket_count(), 8u);
}

// Reserve (an RDB load's RESIZEDB hint) sizes the table once: the first inserts do not shrink
// it back, so filling it to the hint never rehashes.
TEST(Shard, AReservedTableKeepsItsSizeWhileFilling) {
  Shard s;
  std::lock_guard<ShardMutex> lock(s.mu);
  s.Reserve(4000);
  EXPECT_EQ(s.bucket_count(), 4096u);
  for (int i = 0; i < 4000; ++i) {
    std::string k = Key(i);
    s.Insert(NewStringEntry(k, "v", -1), KeyHash(k));
    ASSERT_EQ(s.bucket_count(), 4096u) << "after " << i + 1 << " inserts";
  }
  for (int i = 0; i < 4000; ++i) {
    std::string k = Key(i);
    FreeEntry(s.UnlinkAt(s.FindLink(k, KeyHash(k))));
  }
  while (s.RehashStep(100)) {
  }
  EXPECT_LE(s.bucket_count(), 8u);  // removals still shrink it
}

TEST(Shard, ExpiresAreCounted) {
  Shard s;
  std::lock_guard<ShardMutex> lock(s.mu);
  s.Insert(NewStringEntry("a", "1", 12345), KeyHash("a"));
  s.Insert(NewStringEntry("b", "1", -1), KeyHash("b"));
  EXPECT_EQ(s.expires(), 1u);
  FreeEntry(s.UnlinkAt(s.FindLink("a", KeyHash("a"))));
  EXPECT_EQ(s.expires(), 0u);
  EXPECT_EQ(s.size(), 1u);
}

// The SCAN guarantee: every entry present for the whole scan is returned, even when the table
// grows and shrinks between calls.
TEST(Shard, ScanReturnsEveryStableKeyWhileTheTableResizes) {
  Shard s;
  std::lock_guard<ShardMutex> lock(s.mu);
  for (int i = 0; i < 1000; ++i) s.Insert(NewStringEntry(Key(i), "x", -1), KeyHash(Key(i)));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0, added = 1000000;
  do {
    cursor = s.Scan(cursor, [&](Entry* e) { seen.insert(std::string(e->key())); });
    // Grow hard for a while, then shrink back by deleting what was added.
    if (step < 200) {
      for (int j = 0; j < 50; ++j, ++added) {
        s.Insert(NewStringEntry(Key(added), "y", -1), KeyHash(Key(added)));
      }
    } else if (added > 1000000) {
      for (int j = 0; j < 200 && added > 1000000; ++j) {
        --added;
        FreeEntry(s.UnlinkAt(s.FindLink(Key(added), KeyHash(Key(added)))));
      }
    }
    ++step;
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.count(Key(i))) << Key(i);
}

TEST(Entry, EncodingsFollowRedisRules) {
  Entry* a = NewStringEntry("k", "12345", -1);
  EXPECT_EQ(a->enc, Encoding::kInt);
  Entry* b = NewStringEntry("k", "012", -1);
  EXPECT_EQ(b->enc, Encoding::kEmbstr);
  Entry* c = NewStringEntry("k", std::string(45, 'x'), -1);
  EXPECT_EQ(c->enc, Encoding::kRaw);
  // A SET value lives inside the entry up to kMaxInlineString bytes, then on the heap.
  Entry* d = NewStringEntry("k", std::string(kMaxInlineString, 'y'), 99);
  EXPECT_EQ(d->storage, Entry::kInline);
  EXPECT_EQ(d->enc, Encoding::kRaw);
  EXPECT_EQ(d->expire_ms(), 99);
  Entry* f = NewStringEntry("k", std::string(kMaxInlineString + 1, 'z'), 99);
  EXPECT_EQ(f->storage, Entry::kHeap);
  // What APPEND and SETRANGE make goes to the heap sooner, to grow in place.
  Entry* g = NewRawStringEntry("k", std::string(kMaxGrowableInline + 1, 'w'), -1);
  EXPECT_EQ(g->storage, Entry::kHeap);
  char buf[24];
  EXPECT_EQ(d->StringValue(buf), std::string(kMaxInlineString, 'y'));
  EXPECT_EQ(f->StringValue(buf), std::string(kMaxInlineString + 1, 'z'));
  EXPECT_EQ(g->StringValue(buf), std::string(kMaxGrowableInline + 1, 'w'));
  EXPECT_EQ(a->StringValue(buf), "12345");
  for (Entry* e : {a, b, c, d, f, g}) FreeEntry(e);
}

// The header keeps short key lengths in a byte; keys of Entry::kLongKey bytes and more carry
// their length in the body. Both layouts, with and without a TTL, and every storage kind that
// follows the key, must read back what was written.
// The header's bit budget: a type field with room for eight types, beside a full-width
// value length, access clock and the other fields, all in the same 16 bytes.
TEST(Entry, HeaderFieldsHoldTheirFullRangesIndependently) {
  Entry* e = NewPackedEntry("k", ObjType::kList, Encoding::kQuicklist, "", 5000);
  e->type = static_cast<ObjType>(7);
  e->val_len = kMaxValueBytes;
  e->lru = Entry::kLruMask;
  e->enc = static_cast<Encoding>(7);
  EXPECT_EQ(static_cast<int>(e->type), 7);
  EXPECT_EQ(e->val_len, kMaxValueBytes);
  EXPECT_EQ(e->lru, Entry::kLruMask);
  EXPECT_EQ(static_cast<int>(e->enc), 7);
  EXPECT_EQ(e->storage, Entry::kPacked);
  EXPECT_TRUE(e->has_expire());
  EXPECT_EQ(e->expire_ms(), 5000);
  EXPECT_EQ(e->key(), "k");
  e->type = ObjType::kList;
  e->val_len = 0;
  e->enc = Encoding::kQuicklist;
  FreeEntry(e);
}

TEST(Entry, ShortAndLongKeysWithAndWithoutExpire) {
  EXPECT_EQ(sizeof(Entry), 16u);
  for (size_t len : {size_t{0}, size_t{1}, size_t{254}, size_t{255}, size_t{256}, size_t{70000}}) {
    std::string key(len, 'k');
    if (len > 0) key.back() = 'z';
    for (int64_t expire : {int64_t{-1}, int64_t{123456789}}) {
      Entry* s = NewStringEntry(key, "value", expire);
      Entry* i = NewIntEntry(key, -42, expire);
      Entry* h = NewStringEntry(key, std::string(kMaxInlineString + 1, 'h'), expire);
      char buf[24];
      for (Entry* e : {s, i, h}) {
        EXPECT_EQ(e->key(), key) << len;
        EXPECT_EQ(e->key_len(), len);
        EXPECT_EQ(e->expire_ms(), expire);
      }
      EXPECT_EQ(s->StringValue(buf), "value");
      EXPECT_EQ(i->int_value(), -42);
      EXPECT_EQ(h->StringValue(buf).size(), kMaxInlineString + 1);
      // A copy under another key (RENAME) and with a TTL added (EXPIRE) keeps the value.
      std::string other = key + "-renamed";
      Entry* c = CloneEntry(s, other, 99, /*steal=*/false);
      EXPECT_EQ(c->key(), other);
      EXPECT_EQ(c->expire_ms(), 99);
      EXPECT_EQ(c->StringValue(buf), "value");
      EXPECT_EQ(EntryMemory(s),
                sizeof(Entry) + (expire >= 0 ? 8 : 0) + (len >= Entry::kLongKey ? 4 : 0) + len + 5);
      for (Entry* e : {s, i, h, c}) FreeEntry(e);
    }
  }
}

TEST(Keyspace, LongKeysAreFoundReplacedAndDeleted) {
  Keyspace ks(1);
  std::string a(300, 'a'), b(300, 'a');
  b.back() = 'b';  // same length and shard-independent prefix: only the last byte differs
  for (const std::string& k : {a, b}) {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor(k).mu);
    ks.Put(0, NewStringEntry(k, k.substr(299), -1));
  }
  for (const std::string& k : {a, b}) {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor(k).mu);
    Entry* e = ks.Lookup(0, k);
    ASSERT_NE(e, nullptr);
    char buf[24];
    EXPECT_EQ(e->StringValue(buf), k.substr(299));
  }
  EXPECT_EQ(ks.db(0).size(), 2u);
}

TEST(Keyspace, LazyExpiryOnLookup) {
  Keyspace ks(2);
  std::string k = "gone";
  {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor(k).mu);
    ks.Put(0, NewStringEntry(k, "v", NowUnixMs() - 1));
    EXPECT_EQ(ks.Lookup(0, k), nullptr);
  }
  EXPECT_EQ(ks.db(0).size(), 0u);
  EXPECT_EQ(ks.expired_keys(), 1u);
}

TEST(Keyspace, ActiveExpiryRemovesExpiredKeysWithoutLookups) {
  Keyspace ks(1);
  int64_t past = NowUnixMs() - 1;
  for (int i = 0; i < 20000; ++i) {
    std::string k = Key(i);
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor(k).mu);
    ks.Put(0, NewStringEntry(k, "v", i % 2 ? past : -1));
  }
  for (int round = 0; round < 1000 && ks.db(0).expires() > 0; ++round) {
    ks.ActiveExpireSlice(0, 1, 1000);
  }
  EXPECT_EQ(ks.db(0).expires(), 0u);
  EXPECT_EQ(ks.db(0).size(), 10000u);
}

// The bits of a database's shard maps, as flat shard indexes within it.
std::vector<size_t> Flagged(const Db::ShardMap& map) {
  std::vector<size_t> out;
  for (size_t i = 0; i < kShards; ++i) {
    if (map[i / 64].load() & (uint64_t{1} << (i % 64))) out.push_back(i);
  }
  return out;
}

TEST(Db, ShardMapsFollowTtlsRehashesAndSwaps) {
  Keyspace ks(2);
  Db& db0 = ks.db(0);
  Db& db1 = ks.db(1);
  std::string a = "with-ttl";
  size_t sa = ShardOf(a);
  {
    std::lock_guard<ShardMutex> lock(db0.ShardFor(a).mu);
    ks.Put(0, NewStringEntry(a, "v", NowUnixMs() + 100000));
    ks.Put(0, NewStringEntry("no-ttl", "v", -1));
  }
  EXPECT_EQ(Flagged(db0.volatile_shards()), std::vector<size_t>{sa});
  EXPECT_TRUE(Flagged(db1.volatile_shards()).empty());
  {
    // A second key with a TTL in the same shard, then both gone: the bit stays, then clears.
    std::string b;
    for (int i = 0; ShardOf(b = Key(i)) != sa; ++i) {
    }
    std::lock_guard<ShardMutex> lock(db0.shard(sa).mu);
    ks.Put(0, NewStringEntry(b, "v", NowUnixMs() + 100000));
    EXPECT_TRUE(ks.Delete(0, a));
    EXPECT_EQ(Flagged(db0.volatile_shards()), std::vector<size_t>{sa});
    EXPECT_TRUE(ks.Delete(0, b));
  }
  EXPECT_TRUE(Flagged(db0.volatile_shards()).empty());

  // SWAPDB swaps shard contents: the bits go with them.
  {
    std::lock_guard<ShardMutex> lock(db0.shard(sa).mu);
    ks.Put(0, NewStringEntry(a, "v", NowUnixMs() + 100000));
  }
  {
    std::lock_guard<ShardMutex> l0(db0.shard(sa).mu);
    std::lock_guard<ShardMutex> l1(db1.shard(sa).mu);
    db0.shard(sa).SwapContents(db1.shard(sa));
  }
  EXPECT_TRUE(Flagged(db0.volatile_shards()).empty());
  EXPECT_EQ(Flagged(db1.volatile_shards()), std::vector<size_t>{sa});
  {
    std::lock_guard<ShardMutex> lock(db1.shard(sa).mu);
    for (Entry* head : db1.shard(sa).DetachAll()) FreeEntry(head);
  }
  EXPECT_TRUE(Flagged(db1.volatile_shards()).empty());

  // Growing one shard starts a rehash that shows in the map until housekeeping finishes it.
  bool seen = false;
  for (int i = 0; i < 100000 && !seen; ++i) {
    std::string k = Key(i);
    std::lock_guard<ShardMutex> lock(db0.ShardFor(k).mu);
    ks.Put(0, NewStringEntry(k, "v", -1));
    seen = !Flagged(db0.rehashing_shards()).empty();
  }
  ASSERT_TRUE(seen);
  for (int round = 0; round < 10000 && !Flagged(db0.rehashing_shards()).empty(); ++round) {
    ks.RehashSlice(0, 1, 1000);
  }
  EXPECT_TRUE(Flagged(db0.rehashing_shards()).empty());
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard<ShardMutex> lock(db0.shard(i).mu);
    EXPECT_FALSE(db0.shard(i).rehash_pending()) << i;
  }
}

TEST(Keyspace, ActiveExpiryOfTwoThreadsCoversEveryShard) {
  Keyspace ks(3);
  int64_t past = NowUnixMs() - 1;
  for (int db = 0; db < 3; db += 2) {
    for (int i = 0; i < 5000; ++i) {
      std::string k = Key(i);
      std::lock_guard<ShardMutex> lock(ks.db(db).ShardFor(k).mu);
      ks.Put(db, NewStringEntry(k, "v", past));
    }
  }
  for (int round = 0; round < 1000 && ks.db(0).expires() + ks.db(2).expires() > 0; ++round) {
    ks.ActiveExpireSlice(round % 2, 2, 1000);
  }
  EXPECT_EQ(ks.db(0).size(), 0u);
  EXPECT_EQ(ks.db(2).size(), 0u);
  EXPECT_TRUE(Flagged(ks.db(0).volatile_shards()).empty());
}

}  // namespace
}  // namespace keel

namespace keel {
namespace {

// Records every change the write path reports.
struct RecordingObserver : ChangeObserver {
  struct Seen {
    int db;
    std::string key;
    ChangeKind kind;
    int other_db;
    uint64_t dirty;
  };
  void OnChange(const KeyChange& c) override {
    seen.push_back({c.db, std::string(c.key), c.kind, c.other_db, c.dirty});
  }
  std::vector<Seen> seen;
};

// Expiry is a change (the observer and WATCH see it) that Redis does not count as dirty and
// that is not a command's own change.
TEST(WritePath, ExpiryIsReportedButNotDirtyNorACommandChange) {
  Keyspace ks(1);
  RecordingObserver obs;
  ks.SetChangeObserver(&obs);
  std::vector<std::string> expired;
  ks.SetExpiredHook([&](int, std::string_view key) { expired.emplace_back(key); });
  int64_t past = NowUnixMs() - 1;
  for (std::string k : {"lazy", "active"}) {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor(k).mu);
    ks.Put(0, NewStringEntry(k, "v", past));
  }
  uint64_t changes = Keyspace::CommandChangesOnThisThread();
  {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor("lazy").mu);
    EXPECT_EQ(ks.Lookup(0, "lazy"), nullptr);
  }
  for (int round = 0; round < 100 && ks.db(0).size() > 0; ++round) ks.ActiveExpireSlice(0, 1, 1000);
  ASSERT_EQ(obs.seen.size(), 2u);
  EXPECT_EQ(obs.seen[0].key, "lazy");
  EXPECT_EQ(obs.seen[1].key, "active");
  for (const auto& s : obs.seen) {
    EXPECT_EQ(s.kind, ChangeKind::kExpired);
    EXPECT_EQ(s.dirty, 0u);
  }
  EXPECT_EQ(expired, (std::vector<std::string>{"lazy", "active"}));
  EXPECT_EQ(ks.dirty(), 0u);
  EXPECT_EQ(Keyspace::CommandChangesOnThisThread(), changes);
}

// A reported change reaches the dirty counter, the command-change count, the observer and the
// WATCH flags of its key only; a whole-database change marks the watchers of keys that exist.
TEST(WritePath, ChangesMarkWatchersAndCountDirty) {
  Keyspace ks(2);
  RecordingObserver obs;
  ks.SetChangeObserver(&obs);
  auto watch = [&](int db, const std::string& key) {
    auto flag = std::make_shared<WatchFlag>();
    std::lock_guard<ShardMutex> lock(ks.db(db).ShardFor(key).mu);
    ks.RegistriesFor(db, key).watchers[key].push_back(flag);
    ks.AddWatchers(1);
    return flag;
  };
  auto a = watch(0, "a"), b = watch(0, "b"), c = watch(1, "c"), gone = watch(1, "gone");
  uint64_t changes = Keyspace::CommandChangesOnThisThread();
  {
    std::lock_guard<ShardMutex> lock(ks.db(0).ShardFor("a").mu);
    ks.Put(0, NewStringEntry("a", "v", -1));
    ks.Changed(0, "a", ChangeKind::kWrite, 3);
  }
  EXPECT_TRUE(a->dirty.load());
  EXPECT_FALSE(b->dirty.load());
  EXPECT_EQ(ks.dirty(), 3u);
  EXPECT_EQ(Keyspace::CommandChangesOnThisThread(), changes + 1);
  {
    std::lock_guard<ShardMutex> lock(ks.db(1).ShardFor("c").mu);
    ks.Put(1, NewStringEntry("c", "v", -1));
  }
  {
    std::vector<ShardGuard> l0 = ks.LockAll(0), l1 = ks.LockAll(1);
    ks.ChangedDb(0, 1, ChangeKind::kSwap, 1);
  }
  EXPECT_TRUE(c->dirty.load());  // exists in db 1: it changes sides
  EXPECT_FALSE(gone->dirty.load());
  EXPECT_FALSE(b->dirty.load());
  EXPECT_EQ(ks.dirty(), 4u);
  ks.SubtractDirty(4);  // a save that saw 4 changes succeeded
  EXPECT_EQ(ks.dirty(), 0u);
  ASSERT_EQ(obs.seen.size(), 2u);
  EXPECT_EQ(obs.seen[1].kind, ChangeKind::kSwap);
  EXPECT_EQ(obs.seen[1].other_db, 1);
  EXPECT_TRUE(obs.seen[1].key.empty());
}

// Records what the before-change hook is told, with the entry's value as it was at that moment.
struct RecordingHook : BeforeChangeHook {
  struct Seen {
    BeforeChangeKind kind;
    int db;
    std::string key;
    std::string value;  // a string's value, or a set's member count
    int64_t expire_ms;
  };
  void BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) override {
    EXPECT_EQ(shard, ShardOf(e->key()));
    std::string value;
    if (e->type == ObjType::kSet) {
      value = std::to_string(SetRef::Read(e).Size()) + " members";
    } else {
      char buf[24];
      value = std::string(e->StringValue(buf));
    }
    seen.push_back({kind, db, std::string(e->key()), value, e->expire_ms()});
  }
  std::vector<Seen> seen;
};

// Every kind of change reaches the hook before it happens, with the old value still readable:
// overwrites, in-place edits (announced by BeforeWrite), TTL changes, relocations of a packed
// value that grows, deletes and detaches, lazy and active expiry, FLUSH and SWAPDB. Without a
// hook nothing is called.
TEST(BeforeChangeHook, SeesEveryKindOfChangeBeforeItHappens) {
  Keyspace ks(2);
  RecordingHook hook;
  auto locked = [&](int db, const std::string& k, auto&& fn) {
    std::lock_guard<ShardMutex> lock(ks.db(db).ShardFor(k).mu);
    fn();
  };
  locked(0, "s", [&] { ks.Put(0, NewStringEntry("s", "old", -1)); });
  locked(0, "n", [&] { ks.Put(0, NewIntEntry("n", 7, -1)); });
  locked(0, "set", [&] { ks.Put(0, SetRef::NewEntry("set", "a")); });
  locked(0, "set", [&] { SetRef(ks, 0, ks.Lookup(0, "set")).Add("a", 512); });
  ks.SetBeforeChangeHook(&hook);
  EXPECT_TRUE(ks.has_before_change_hook());

  locked(0, "new", [&] { ks.Put(0, NewStringEntry("new", "v", -1)); });  // no old entry
  EXPECT_TRUE(hook.seen.empty());
  locked(0, "s", [&] { ks.Put(0, NewStringEntry("s", "new", -1)); });
  locked(0, "n", [&] {
    ks.BeforeWrite(0, "n");
    ks.Lookup(0, "n")->set_int_value(8);  // INCR's in-place edit
    ks.ReplaceAt(0, ks.LookupLink(0, "n"), NewIntEntry("n", 9, -1));
  });
  locked(0, "s", [&] {
    ks.SetExpire(0, ks.LookupLink(0, "s"), NowUnixMs() + 100000);  // a TTL slot: relocates
    ks.SetExpire(0, ks.LookupLink(0, "s"), NowUnixMs() + 200000);  // in place: an edit
  });
  locked(0, "set", [&] {
    SetRef set(ks, 0, ks.Lookup(0, "set"));
    for (int i = 0; i < 40; ++i) set.Add("member-" + std::to_string(i), 512);  // grows: moves
  });
  locked(0, "new", [&] { EXPECT_TRUE(ks.Delete(0, "new")); });
  locked(0, "n", [&] { FreeEntry(ks.Detach(0, "n", ks.LookupLink(0, "n"))); });  // RENAME, MOVE
  int64_t past = NowUnixMs() - 1;
  locked(0, "lazy", [&] { ks.Put(0, NewStringEntry("lazy", "l", past)); });
  locked(0, "lazy", [&] { EXPECT_EQ(ks.Lookup(0, "lazy"), nullptr); });
  locked(0, "active", [&] { ks.Put(0, NewStringEntry("active", "a", past)); });
  for (int round = 0; round < 100 && ks.db(0).expires() > 1; ++round) {
    ks.ActiveExpireSlice(0, 1, 1000);
  }
  locked(1, "in1", [&] { ks.Put(1, NewStringEntry("in1", "one", -1)); });
  {
    std::vector<ShardGuard> l0 = ks.LockAll(0), l1 = ks.LockAll(1);
    ks.SwapDbs(0, 1);
  }
  {
    std::vector<ShardGuard> l0 = ks.LockAll(0);
    ks.FreeDetached(ks.DetachAll(0), false);  // FLUSHDB of what was db 1: "in1"
  }

  using K = BeforeChangeKind;
  std::vector<std::tuple<K, int, std::string, std::string>> got;
  for (const auto& s : hook.seen) got.emplace_back(s.kind, s.db, s.key, s.value);
  // The set relocates at least once as it grows past its block; count those apart.
  size_t relocations = 0;
  std::vector<std::tuple<K, int, std::string, std::string>> rest;
  for (const auto& g : got) {
    if (std::get<0>(g) == K::kRelocate && std::get<2>(g) == "set") {
      ++relocations;
    } else {
      rest.push_back(g);
    }
  }
  EXPECT_GE(relocations, 1u);
  // The swap reports both databases (db 0 then db 1), each entry once; their order within a
  // database is the table's.
  std::vector<std::tuple<K, int, std::string, std::string>> want = {
      {K::kOverwrite, 0, "s", "old"}, {K::kEdit, 0, "n", "7"},      {K::kOverwrite, 0, "n", "8"},
      {K::kRelocate, 0, "s", "new"},  {K::kEdit, 0, "s", "new"},    {K::kRemove, 0, "new", "v"},
      {K::kRemove, 0, "n", "9"},      {K::kExpire, 0, "lazy", "l"}, {K::kExpire, 0, "active", "a"},
  };
  ASSERT_GE(rest.size(), want.size());
  EXPECT_EQ(std::vector(rest.begin(), rest.begin() + want.size()), want);
  std::multiset<std::tuple<K, int, std::string, std::string>> tail(rest.begin() + want.size(),
                                                                   rest.end());
  std::multiset<std::tuple<K, int, std::string, std::string>> want_tail = {
      {K::kSwap, 0, "s", "new"},
      {K::kSwap, 0, "set", "41 members"},
      {K::kSwap, 1, "in1", "one"},
      {K::kFlush, 0, "in1", "one"},
  };
  EXPECT_EQ(tail, want_tail);
  // The TTL edit saw the old expire time, the relocation none.
  EXPECT_EQ(hook.seen[3].expire_ms, -1);
  EXPECT_GT(hook.seen[4].expire_ms, 0);

  ks.SetBeforeChangeHook(nullptr);
  size_t before = hook.seen.size();
  locked(1, "s", [&] { EXPECT_TRUE(ks.Delete(1, "s")); });
  EXPECT_EQ(hook.seen.size(), before);
}

}  // namespace
}  // namespace keel
