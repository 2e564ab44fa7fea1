#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "keel/common/stat_counter.h"
#include "keel/keyspace/chained_table.h"
#include "keel/keyspace/changes.h"
#include "keel/keyspace/entry.h"
#include "keel/keyspace/eviction.h"

namespace keel {

// Shards per database. A power of two, well above any io-threads count, so that shard locks
// rarely contend and each shard's table stays small.
inline constexpr size_t kShardBits = 8;
inline constexpr size_t kShards = size_t{1} << kShardBits;

// Where a key lives: its shard (the top kShardBits of the hash of its {hash tag} if it has one,
// else of its own hash, so keys sharing a tag share a shard and multi-key commands on them take
// one lock) and the hash that places it in the shard's table (seeded at start-up). Cheap enough
// (one pass of hashing::Hash over a short key) to compute each time it is needed.
struct KeyPlace {
  size_t shard;
  uint64_t hash;
};
KeyPlace PlaceOf(std::string_view key);
inline size_t ShardOf(std::string_view key) { return PlaceOf(key).shard; }
inline uint64_t KeyHash(std::string_view key) { return PlaceOf(key).hash; }

// Waiter is a client blocked on one or more keys (BLPOP and friends). It is registered in the
// `waiters` queue of each key's shard, oldest first. Whoever serves, times out or cancels it must
// first win TryClaim(), so a client blocked on several keys is served exactly once; queue entries
// of a claimed waiter are dropped when met or removed by the waiter's own thread.
struct Waiter {
  virtual ~Waiter() = default;
  bool TryClaim() {
    bool expected = false;
    return done.compare_exchange_strong(expected, true);
  }
  bool claimed() const { return done.load(); }
  std::atomic<bool> done{false};
};

// WatchFlag is one client's WATCH state: any write to a key it watches (on any thread) sets it,
// and EXEC then fails.
struct WatchFlag {
  std::atomic<bool> dirty{false};
};

// ShardMutex is the lock of a shard: a futex lock that spins a while before sleeping. Shard
// critical sections are short (one command), so a waiting thread almost always gets the lock
// within the spin; a futex sleep and wake-up costs both threads a context switch, several
// microseconds each. glibc's adaptive mutex gave up spinning too soon: two io threads pushing to
// one list made about 6k futex calls per second. States: 0 free, 1 held, 2 held with sleepers.
class ShardMutex {
 public:
  ShardMutex() = default;
  ShardMutex(const ShardMutex&) = delete;
  ShardMutex& operator=(const ShardMutex&) = delete;
  void lock() {
    uint32_t c = 0;
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
    LockSlow();
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) Wake();
  }
  bool try_lock() {
    uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire);
  }
  // Nanoseconds all threads have spent waiting for a held shard lock (spinning or asleep) since
  // start. Counted only on the slow path, so an uncontended lock costs nothing more. The io
  // thread balancer reads it to tell threads that wait on each other (one hot key) from
  // threads that work side by side.
  static uint64_t WaitNs() { return wait_ns_.load(std::memory_order_relaxed); }

 private:
  static std::atomic<uint64_t> wait_ns_;
  void LockSlow();
  void Wake();
  std::atomic<uint32_t> state_{0};
};

// Shard: a chained hash table of entries with incremental rehashing (ChainedTableCore, shared
// with the big sets and hashes), its counters and its lock. Every method except
// size()/expires() REQUIRES mu held.
//
// Growth and shrinking never move more than a few buckets per operation: while a rehash is in
// progress the shard has two bucket arrays, inserts go to the new one, and each insert or delete
// (and the cron's RehashStep) moves buckets from the old to the new.
class alignas(64) Shard {
  // Entries are bucketed by the keyspace's key hash (defined in keyspace.cc).
  struct EntryHash {
    static uint64_t Of(const Entry* e);
  };

 public:
  Shard() = default;
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The lock and the table (56 bytes) share the shard's first cache line: a command takes the
  // lock and then reads the table's arrays, one cache miss for both when the shard is cold, as
  // it is at -P 1 after the kernel's work between two requests.
  ShardMutex mu;

 private:
  ChainedTableCore<Entry, EntryHash> table_;
  static_assert(sizeof(ShardMutex) <= 8 && sizeof(ChainedTableCore<Entry, EntryHash>) <= 56,
                "the lock and the table fit one cache line");

 public:
  // The link (bucket slot or previous entry's `next`) that points at the entry for `key`, or
  // nullptr. Valid until the next Insert/Unlink/RehashStep on this shard.
  Entry** FindLink(std::string_view key, uint64_t hash);
  Entry* Find(std::string_view key, uint64_t hash) {
    Entry** l = FindLink(key, hash);
    return l ? *l : nullptr;
  }
  // REQUIRES: no entry for e's key.
  void Insert(Entry* e, uint64_t hash);
  // Puts `e` (same key) where *link was; returns the old entry, which the caller frees.
  Entry* ReplaceAt(Entry** link, Entry* e);
  // Removes *link from the table and returns it; the caller frees it.
  Entry* UnlinkAt(Entry** link);

  // Prefetching for pipelined commands, before their locks are taken: the bucket slot(s) of
  // `hash`, then (once the slot is likely cached) the first entry of its chain. Both only touch
  // the table under the lock, and skip the work when the lock is busy: they are hints.
  void PrefetchBucket(uint64_t hash);
  void PrefetchChain(uint64_t hash);

  // Reverse-binary cursor scan (every entry present for the whole scan is visited at least once,
  // even across rehashes). Calls fn for each entry of the bucket(s) at `cursor`; returns the next
  // cursor, 0 when done. fn must not change the table.
  template <typename F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    return table_.Scan(cursor, fn);
  }
  // Calls fn for every entry exactly once (RDB snapshots). fn must not change the table.
  template <typename F>
  void ForEach(F&& fn) const {
    table_.ForEach([&](const Entry* e) { fn(e); });
  }
  // Sizes an empty table for n entries (loading a file with RESIZEDB hints).
  void Reserve(size_t n) {
    table_.Reserve(n);
    NoteRehash();
  }
  // A random entry, or nullptr when empty.
  Entry* Random(std::mt19937_64& rng) const;
  // Moves up to `buckets` buckets of an ongoing rehash; returns true if a rehash remains.
  bool RehashStep(size_t buckets);
  // Detaches every entry (FLUSHDB); the returned chain heads are freed by the caller.
  std::vector<Entry*> DetachAll();
  // Exchanges contents with another shard (SWAPDB). REQUIRES: both locks held.
  void SwapContents(Shard& other);

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Whether a rehash is in progress (housekeeping finds these shards in Db::rehashing_shards).
  bool rehash_pending() const { return table_.rehashing(); }
  size_t expires() const { return expires_.load(std::memory_order_relaxed); }
  size_t bucket_count() const { return table_.bucket_count(); }
  // The same, for readers without the lock (MEMORY STATS, INFO memory): a copy kept up to date
  // with every change of the bucket arrays.
  size_t bucket_count_stat() const { return buckets_.load(std::memory_order_relaxed); }
  // DEBUG HTSTATS: adds bucket array t's chains (see ChainedTableCore::AddChainStats).
  void AddChainStats(int t, ChainStats* s) const { table_.AddChainStats(t, s); }

  // The bit in its database's shard maps (see Db::ShardMap) that this shard keeps up to date:
  // set while it holds keys with a TTL / while a rehash is pending. Set once, by Db.
  void AttachMaps(std::atomic<uint64_t>* volatile_map, std::atomic<uint64_t>* rehash_map,
                  size_t index);

  // The active expiry cycle's position in this shard's table.
  uint64_t expire_cursor = 0;

 private:
  void Count(const Entry* e, int delta);
  // Bring this shard's bit in each map up to date. The maps are written only when a bit
  // changes: they are shared by the shards of a database.
  // Also refreshes bucket_count_stat().
  void NoteRehash();
  void NoteExpires();

  std::atomic<size_t> size_{0};
  std::atomic<size_t> expires_{0};
  std::atomic<size_t> buckets_{0};
  std::atomic<uint64_t>* volatile_word_ = nullptr;
  std::atomic<uint64_t>* rehash_word_ = nullptr;
  uint64_t bit_ = 0;
  // What this shard last wrote to its bit in each map.
  bool volatile_bit_ = false;
  bool rehash_bit_ = false;
};

// LazyFreer frees detached entries on a background thread, so UNLINK, FLUSHALL ASYNC and
// overwriting a big value never stall an event loop.
class LazyFreer {
 public:
  LazyFreer();
  ~LazyFreer();
  void Free(std::vector<Entry*> chains);  // each element is the head of a `next` chain
  void Free(Entry* e) { Free(std::vector<Entry*>{e}); }
  // Frees one entry of about `bytes` (EntryMemory), counted in pending_bytes() until it is freed:
  // eviction leaves those bytes out of the memory it counts against maxmemory.
  void Free(Entry* e, uint64_t bytes);
  uint64_t pending() const { return pending_.load(); }
  uint64_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }
  uint64_t freed() const { return freed_.load(); }
  // Waits until everything queued so far is freed (tests, shutdown).
  void Drain();

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::vector<std::vector<Entry*>> queue_;
  std::vector<uint64_t> queue_bytes_;  // parallel to queue_: the bytes Free(e, bytes) announced
  bool busy_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> freed_{0};
  std::atomic<uint64_t> pending_bytes_{0};
  std::thread thread_;
};

// Db: one database, kShards shards.
class Db {
 public:
  // Which shards hold keys with a TTL, and which have a rehash pending: one bit per shard, kept
  // by the shards themselves, so housekeeping visits only those shards instead of reading the
  // counters of all 256 (cold cache lines, on a busy machine ~0.5 us each).
  static constexpr size_t kMapWords = kShards / 64;
  using ShardMap = std::atomic<uint64_t>[kMapWords];

  Db();
  Shard& shard(size_t i) { return shards_[i]; }
  Shard& ShardFor(std::string_view key) { return shards_[ShardOf(key)]; }
  uint64_t size() const;
  uint64_t expires() const;
  const ShardMap& volatile_shards() const { return volatile_map_; }
  const ShardMap& rehashing_shards() const { return rehash_map_; }

 private:
  ShardMap volatile_map_ = {};
  ShardMap rehash_map_ = {};
  std::unique_ptr<Shard[]> shards_;
};

class Keyspace;

// ShardGuard locks one shard (by flat index db * kShards + shard) unless this thread already
// holds it. That makes shard locking re-entrant per thread, which EXEC needs: it locks every
// shard its queued commands touch, then runs them, and their own locking becomes a no-op.
class ShardGuard {
 public:
  ShardGuard() = default;
  ShardGuard(Keyspace& ks, size_t flat);
  ~ShardGuard() { Unlock(); }
  ShardGuard(ShardGuard&& o) noexcept : mu_(o.mu_), flat_(o.flat_) { o.mu_ = nullptr; }
  ShardGuard& operator=(ShardGuard&& o) noexcept {
    if (this != &o) {
      Unlock();
      mu_ = o.mu_;
      flat_ = o.flat_;
      o.mu_ = nullptr;
    }
    return *this;
  }
  ShardGuard(const ShardGuard&) = delete;
  ShardGuard& operator=(const ShardGuard&) = delete;
  // True if this thread holds the shard (through any guard).
  static bool HeldByThisThread(size_t flat);

 private:
  void Unlock();
  ShardMutex* mu_ = nullptr;  // set only when this guard took the lock
  size_t flat_ = 0;
};

// Keyspace: `databases` databases of kShards shards each, plus expiry and lazy freeing.
//
// Locking order (see docs/architecture.md): shard locks are taken in ascending (db, shard)
// order, all before a command runs, and released after its reply is built. The accessors below
// that take a key REQUIRE the lock of the key's shard in that db.
// The WATCH and blocking registries of one shard. They live beside the shard (Keyspace::
// registries), not in it or in any entry: a key costs nothing for them, and the keyspace looks
// at them only while the watchers_/waiting_keys_ counters say someone watches or waits.
// Guarded by the shard's lock.
struct ShardRegistries {
  // Clients watching keys of this shard (WATCH), per key.
  std::unordered_map<std::string, std::vector<std::shared_ptr<WatchFlag>>> watchers;
  // Clients blocked on keys of this shard, per key, oldest first (the blocking module's queues).
  std::unordered_map<std::string, std::deque<std::shared_ptr<Waiter>>> waiters;
};

class Keyspace {
 public:
  explicit Keyspace(int databases);
  ~Keyspace();

  int databases() const { return static_cast<int>(dbs_.size()); }
  Db& db(int i) { return *dbs_[static_cast<size_t>(i)]; }
  // The WATCH and blocking registries of a shard (REQUIRES its lock to use them).
  ShardRegistries& registries(int db, size_t shard) {
    return registries_[static_cast<size_t>(db)][shard];
  }
  ShardRegistries& RegistriesFor(int db, std::string_view key) {
    return registries(db, PlaceOf(key).shard);
  }

  // Where a key's entry lives, for prefetching it ahead of the command that will look it up.
  // Locate computes the key's place and prefetches its shard's first cache line (the lock and
  // the table) for writing: taking a lock on a line that is not cached waits for the whole
  // miss, so a batch's lines are fetched together first. It needs no lock, and neither does
  // PrefetchBucket (see Shard::PrefetchBucket), which then touches the table under try_lock.
  struct PrefetchHint {
    Shard* shard = nullptr;
    uint64_t hash = 0;
  };
  PrefetchHint Locate(int db, std::string_view key);
  static void PrefetchBucket(const PrefetchHint& hint) {
    if (hint.shard != nullptr) hint.shard->PrefetchBucket(hint.hash);
  }
  static void PrefetchChain(const PrefetchHint& hint) {
    if (hint.shard != nullptr) hint.shard->PrefetchChain(hint.hash);
  }

  // Looks a key up, deleting it first if its TTL has passed (lazy expiry). Updates the entry's
  // access clock. Returns nullptr if there is no live key.
  Entry* Lookup(int db, std::string_view key);
  // The key's entry even when its TTL has passed, neither deleted nor touched: what Redis's
  // inspection commands read straight from the table (DEBUG OBJECT, SDSLEN, DIGEST-VALUE,
  // MEMORY USAGE). REQUIRES: the key's shard lock.
  Entry* FindEvenExpired(int db, std::string_view key) {
    KeyPlace place = PlaceOf(key);
    return dbs_[db]->shard(place.shard).Find(key, place.hash);
  }
  // Like Lookup but returns the link to the entry (for replacing or deleting it).
  Entry** LookupLink(int db, std::string_view key);
  // Inserts or replaces the key's entry (the old one is freed).
  void Put(int db, Entry* e);
  // For a command that looks a key up and then stores it (SET): the key's place and its live
  // entry's link (nullptr when absent; a stale one is expired first, as by LookupLink), so that
  // Store needs neither another hash of the key nor another walk of its chain.
  struct WriteSlot {
    size_t shard;
    uint64_t hash;
    Entry** link;
  };
  WriteSlot LookupForWrite(int db, std::string_view key);
  // Puts `e` (for the slot's key) where the slot says: in place of the live entry (freed) or as
  // a new one. REQUIRES: the shard's table unchanged since LookupForWrite.
  void Store(int db, const WriteSlot& slot, Entry* e);
  // Replaces the entry at `link` (from LookupLink) with `e` and frees the old one.
  void ReplaceAt(int db, Entry** link, Entry* e);
  // Puts `moved`, a new block for the same key (a resized or re-encoded copy of `old`, with its
  // TTL, access clock and flags), in the place of `old`, which must be in db's table. Nothing is
  // freed and nobody is notified: the value is the same (ValueRef).
  void Relocate(int db, const Entry* old, Entry* moved);
  // Deletes a live key; returns false if there was none. `lazy` hands big values to the
  // background freer.
  bool Delete(int db, std::string_view key, bool lazy = false);
  // Removes the entry at `link` and returns it without freeing (RENAME, MOVE).
  Entry* Detach(int db, std::string_view key, Entry** link);
  // Sets (expire_ms >= 0) or removes (-1) the TTL of the entry at `link`, reallocating it when
  // the expire slot has to be added or dropped. Returns the entry now in the table.
  Entry* SetExpire(int db, Entry** link, int64_t expire_ms);
  // Moves an entry's value into a new entry with another key and expire (RENAME, MOVE); `e`
  // must be detached, and is consumed.
  static Entry* Rekey(Entry* e, std::string_view new_key, int64_t expire_ms);
  // Frees an entry, in the background when it owns a big collection.
  void Dispose(Entry* e, bool lazy);

  // Locks every shard of `db` (ascending), for FLUSHDB and friends. REQUIRES: no shard lock held.
  std::vector<ShardGuard> LockAll(int db);
  // Locks one shard (re-entrant per thread, see ShardGuard).
  ShardGuard LockShard(int db, size_t shard) {
    return ShardGuard(*this, static_cast<size_t>(db) * kShards + shard);
  }
  Shard& FlatShard(size_t flat) { return dbs_[flat / kShards]->shard(flat % kShards); }
  // Empties a database. REQUIRES: LockAll(db) held. The entries are freed after the locks are
  // released by the caller through FreeDetached (sync) or the lazy freer (async).
  std::vector<Entry*> DetachAll(int db);
  void FreeDetached(std::vector<Entry*> chains, bool async);

  // One slice of the active expiry cycle for io thread `index` of `count`: visits this thread's
  // shards, deleting expired keys, for about `budget_us`. Returns the fraction of sampled keys
  // with a TTL that had expired (the caller runs again soon when it is high).
  double ActiveExpireSlice(size_t index, size_t count, int64_t budget_us);
  // Moves rehash work forward in this thread's shards for about `budget_us`.
  void RehashSlice(size_t index, size_t count, int64_t budget_us);

  uint64_t expired_keys() const { return expired_keys_.load(std::memory_order_relaxed); }
  // Sampled average TTL (ms) of keys with an expire in `db`, 0 when unknown.
  uint64_t avg_ttl(int db) const;
  void CountExpired() { expired_keys_.fetch_add(1, std::memory_order_relaxed); }
  LazyFreer& lazy_freer() { return freer_; }

  // The lazyfree-lazy-* options (set by main from the config): which removals hand big values
  // to the lazy-free thread. The first three are the server's own removals, the last two DEL
  // and FLUSHDB/FLUSHALL without ASYNC|SYNC.
  struct LazyFree {
    std::atomic<bool> eviction{true};
    std::atomic<bool> expire{true};
    std::atomic<bool> server_del{true};
    std::atomic<bool> user_del{false};
    std::atomic<bool> user_flush{false};
  };
  LazyFree& lazy_free() { return lazy_free_; }
  bool LazyExpire() const { return lazy_free_.expire.load(std::memory_order_relaxed); }

  // ---- The write path (keel/keyspace/changes.h, docs/architecture.md) ----
  //
  // Changed reports one change to `key` in `db`, right after it was applied, with the key's
  // shard lock held. Every change passes here: command handlers report theirs (a write that did
  // nothing reports nothing), and the keyspace reports expiry itself. It adds `dirty` to the
  // dirty counter, marks the key's WATCHers, notifies "expired" for kExpired and tells the
  // observer. With nobody watching and no observer it is a few loads and one counter add.
  void Changed(int db, std::string_view key, ChangeKind kind, uint64_t dirty = 1) {
    if (kind != ChangeKind::kExpired && kind != ChangeKind::kEvicted) ++t_command_changes_;
    if (dirty != 0) dirty_.fetch_add(dirty);
    if (watchers_.load(std::memory_order_relaxed) != 0) Touch(db, key);
    if (kind == ChangeKind::kExpired && expired_hook_) expired_hook_(db, key);
    if (kind == ChangeKind::kEvicted && evicted_hook_) evicted_hook_(db, key);
    if (observer_ != nullptr) observer_->OnChange(KeyChange{db, key, kind, -1, dirty});
    if (__builtin_expect(tracking_interest_.load(std::memory_order_relaxed) != 0, 0)) {
      tracker_->OnChange(KeyChange{db, key, kind, -1, dirty});
    }
  }
  // A whole-database change (kFlush of `db`, kSwap of `db` and `other`). Unlike Changed it is
  // called just BEFORE the change is applied, so that the WATCHers of the keys that exist then
  // are marked. REQUIRES: every shard of both databases locked (none for SWAPDB of a database
  // with itself, which changes no key).
  void ChangedDb(int db, int other, ChangeKind kind, uint64_t dirty);
  // Changes reported on this thread (expiry excluded), ever: the dispatcher compares it before
  // and after a command to tell a write that changed something from one that did nothing.
  static uint64_t CommandChangesOnThisThread() { return t_command_changes_; }
  // Redis's dirty counter (INFO persistence rdb_changes_since_last_save): changes since the
  // last successful save. A save records dirty() when it starts and calls
  // SubtractDirty(recorded) when it succeeds, so changes made during the save are kept.
  uint64_t dirty() const { return dirty_.load(); }
  void SubtractDirty(uint64_t n) {
    dirty_.fetch_add(static_cast<uint64_t>(-static_cast<int64_t>(n)));
  }
  // The observer of every change (AOF, replication). Set once at start-up, before any command
  // runs; nullptr for none.
  void SetChangeObserver(ChangeObserver* observer) { observer_ = observer; }
  // Client-side caching's observer of key changes (commands/tracking.h), beside the one above;
  // set once at start-up. Whole-database changes are not reported to it (FLUSH*, SWAPDB
  // invalidate everything through their handlers).
  void SetTracker(ChangeObserver* tracker) { tracker_ = tracker; }
  // The tracker counts what makes a change worth telling it (remembered keys, BCAST clients);
  // while the count is zero Changed does not call it. Changed under the shard lock of the key
  // that made it non-zero, so a write that must be told sees it.
  void AddTrackingInterest(int64_t delta) {
    tracking_interest_.fetch_add(delta, std::memory_order_relaxed);
  }

  // ---- The before-change hook (keel/keyspace/changes.h) ----
  //
  // Every keyspace method that overwrites, relocates, unlinks, flushes or swaps an entry calls
  // the hook first; so does BeforeWrite, which the dispatcher calls for each key of a write
  // command before it runs (in-place edits happen inside handlers, past any keyspace method).
  // With no hook this costs one predictable branch per change. The hook may be set and cleared
  // while the server runs (a snapshot starting and ending): after setting it, lock and unlock
  // every shard once, so that no change that started before can still be running without it.
  void SetBeforeChangeHook(BeforeChangeHook* hook) {
    before_change_.store(hook, std::memory_order_release);
  }
  bool has_before_change_hook() const {
    return before_change_.load(std::memory_order_acquire) != nullptr;
  }
  // Tells the hook that `key`'s live entry in `db` (if any) may now be edited in place
  // (kEdit). REQUIRES the key's shard lock.
  void BeforeWrite(int db, std::string_view key) {
    if (has_before_change_hook()) BeforeWriteSlow(db, key);
  }
  // Exchanges the contents of two databases (SWAPDB), telling the hook about every entry of
  // both first. REQUIRES: every shard of both locked.
  void SwapDbs(int a, int b);

  // Called for every key removed because its TTL passed (from Changed, kExpired), right after
  // it left the table and while its shard lock is held (keyspace notifications: "expired").
  // Set once at start-up, before any command runs; `key` is valid only during the call.
  using ExpiredHook = std::function<void(int db, std::string_view key)>;
  void SetExpiredHook(ExpiredHook hook) { expired_hook_ = std::move(hook); }
  // The same for keys removed by eviction (ChangeKind::kEvicted: "evicted").
  void SetEvictedHook(ExpiredHook hook) { evicted_hook_ = std::move(hook); }

  // ---- maxmemory (keel/keyspace/eviction.h) ----
  Evictor& evictor() { return evictor_; }
  const Evictor& evictor() const { return evictor_; }
  // Evicts `key` from shard `shard` of `db` through the write path (kEvicted) if it is there
  // (and, with `volatile_only`, has a TTL); returns the bytes it held (EntryMemory), 0 if it
  // was not evicted. Big values are freed on the lazy-free thread. REQUIRES the shard's lock.
  size_t Evict(int db, size_t shard, std::string_view key, bool volatile_only);
  // Records an access to `e` for eviction: its LRU clock, or under an LFU policy its decayed and
  // incremented counter. REQUIRES the entry's shard lock.
  void TouchAccess(Entry* e) {
    if (__builtin_expect(evictor_.lfu(), 0)) {
      e->lru = LfuAccess(static_cast<uint32_t>(e->lru), evictor_.lfu_log_factor(),
                         evictor_.lfu_decay_time());
    } else {
      e->lru = LruClock();
    }
  }
  // The access field of a new key (LRU clock now, or LFU's initial counter).
  uint32_t NewAccessField() const { return evictor_.lfu() ? LfuNewField() : LruClock(); }
  // A saved use of the key (RDB's FREQ / IDLE opcodes, RESTORE's FREQ / IDLETIME), applied as
  // Redis applies it: under an LFU policy the counter (`lfu_freq` 0-255, its decay restarting
  // now), else the idle time in seconds; the other one, or -1, leaves the field alone. Returns
  // whether the field was set. REQUIRES the key's shard lock (or a detached entry).
  bool ApplySavedAccess(Entry* e, int64_t lfu_freq, int64_t lru_idle_s) const {
    if (evictor_.lfu()) {
      if (lfu_freq < 0) return false;
      e->lru = (LfuMinutes() << 8) | static_cast<uint32_t>(std::min<int64_t>(lfu_freq, 255));
      return true;
    }
    if (lru_idle_s < 0) return false;
    e->lru = (LruClock() - static_cast<uint32_t>(std::min<int64_t>(lru_idle_s, UINT32_MAX))) &
             Entry::kLruMask;
    return true;
  }

  // Blocking: records that `key` now holds a list while clients wait on it (REQUIRES the key's
  // shard lock). The dispatcher serves this thread's ready keys after the command, once its
  // locks are released.
  void SignalReady(int db, std::string_view key);
  static std::vector<std::pair<int, std::string>>& ReadyKeys();

  // WATCH: marks the watchers of `key` dirty (REQUIRES the key's shard lock). Changed calls it;
  // nothing else should.
  void Touch(int db, std::string_view key);
  // Counts WATCH registrations (REQUIRES the key's shard lock), so that Touch costs nothing while
  // nobody watches anything.
  void AddWatchers(int64_t delta) { watchers_.fetch_add(delta, std::memory_order_relaxed); }
  // Keys with a waiters queue, over all shards (changed under the key's shard lock): while there
  // are none, SignalReady returns at once.
  void AddWaitingKeys(int64_t delta) { waiting_keys_.fetch_add(delta, std::memory_order_relaxed); }

  // Seconds clock for entry->lru.
  static uint32_t LruClock();

 private:
  // LookupLink with the key's place already computed (Delete needs it again for the unlink).
  Entry** LookupLinkAt(int db, std::string_view key, const KeyPlace& place);
  // Tells the hook, if one is set, that `e` (in shard `shard` of `db`) is about to change.
  void BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) {
    BeforeChangeHook* hook = before_change_.load(std::memory_order_acquire);
    if (__builtin_expect(hook != nullptr, 0)) hook->BeforeChange(db, shard, e, kind);
  }
  void BeforeInsert(int db, size_t shard, std::string_view key) {
    BeforeChangeHook* hook = before_change_.load(std::memory_order_acquire);
    if (__builtin_expect(hook != nullptr, 0)) hook->BeforeInsert(db, shard, key);
  }
  // The same for every entry of a database (FLUSH*, SWAPDB).
  void BeforeChangeAll(int db, BeforeChangeKind kind);
  void BeforeWriteSlow(int db, std::string_view key);

  std::vector<std::unique_ptr<Db>> dbs_;
  std::vector<std::unique_ptr<ShardRegistries[]>> registries_;  // per database, per shard
  std::unique_ptr<std::atomic<uint64_t>[]> avg_ttl_;
  std::atomic<uint64_t> expired_keys_{0};
  std::atomic<int64_t> watchers_{0};
  std::atomic<int64_t> waiting_keys_{0};
  // Marks the watchers of every key of `db` that exists in `db` or, when other >= 0, in
  // `other` (ChangedDb). REQUIRES: every shard of both databases locked.
  void TouchAll(int db, int other);

  ExpiredHook expired_hook_;
  ExpiredHook evicted_hook_;
  ChangeObserver* observer_ = nullptr;
  ChangeObserver* tracker_ = nullptr;
  std::atomic<int64_t> tracking_interest_{0};
  std::atomic<BeforeChangeHook*> before_change_{nullptr};
  StatCounter dirty_;
  static inline thread_local uint64_t t_command_changes_ = 0;
  LazyFreer freer_;
  LazyFree lazy_free_;
  Evictor evictor_{*this};
};

// KeyLocks holds the shard locks of one command: acquired in ascending order, released on
// destruction.
class KeyLocks {
 public:
  KeyLocks() = default;
  KeyLocks(Keyspace& ks, int db, std::span<const std::string_view> keys);
  KeyLocks(KeyLocks&& o) noexcept { *this = std::move(o); }
  KeyLocks& operator=(KeyLocks&& o) noexcept {
    if (this != &o) {
      Release();
      for (size_t i = 0; i < o.n_; ++i) {
        new (Slot(i)) ShardGuard(std::move(*o.Inline(i)));
        o.Inline(i)->~ShardGuard();
      }
      n_ = o.n_;
      more_ = std::move(o.more_);
      o.n_ = 0;
    }
    return *this;
  }
  ~KeyLocks() { Release(); }
  // Locks a set of shards given as flat indexes db * kShards + shard.
  void LockFlat(Keyspace& ks, std::vector<size_t> flat);
  // Releases in reverse order of acquisition.
  void Release() {
    more_.clear();
    while (n_ > 0) Inline(--n_)->~ShardGuard();
  }

 private:
  void Add(Keyspace& ks, size_t flat);
  // Most commands lock one to four shards: those guards live here, without a heap allocation,
  // constructed as they are taken (storage that a command which locks nothing never touches:
  // zeroing four guards for every command showed in its profile).
  static constexpr size_t kInline = 4;
  void* Slot(size_t i) { return inline_ + i * sizeof(ShardGuard); }
  ShardGuard* Inline(size_t i) { return std::launder(reinterpret_cast<ShardGuard*>(Slot(i))); }
  alignas(ShardGuard) unsigned char inline_[kInline * sizeof(ShardGuard)];
  size_t n_ = 0;
  std::vector<ShardGuard> more_;
};

}  // namespace keel
