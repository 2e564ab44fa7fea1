#include "keel/keyspace/keyspace.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdlib>
#include <new>

#include "keel/common/clock.h"
#include "keel/common/memory.h"
#include "keel/keyspace/hashing.h"

namespace keel {

// ---- hashing ----

namespace {

uint64_t g_hash_seed = [] {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}();

bool KeyEquals(const Entry* e, std::string_view key) {
  return e->key_len() == key.size() && std::memcmp(e->KeyPtr(), key.data(), key.size()) == 0;
}

uint64_t ComputeHash(std::string_view key) { return hashing::Hash(key, g_hash_seed); }

}  // namespace

// A key's shard is the top bits of the hash of its {hash tag} when it has one (the first '{'
// and the next '}' with something between them, as Redis Cluster reads tags), else of the hash
// of the whole key, which is computed anyway: keys sharing a tag share a shard, and so does the
// key that is the tag itself ("user1000" and "{user1000}.following").
KeyPlace PlaceOf(std::string_view key) {
  uint64_t hash = ComputeHash(key);
  uint64_t placing = hash;
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) {
      placing = ComputeHash(key.substr(open + 1, close - open - 1));
    }
  }
  return {static_cast<size_t>(placing >> (64 - kShardBits)), hash};
}

// ---- ShardMutex ----

namespace {
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

std::atomic<uint64_t> ShardMutex::wait_ns_{0};

void ShardMutex::LockSlow() {
  auto start = std::chrono::steady_clock::now();
  auto count_wait = [start] {
    auto waited = std::chrono::steady_clock::now() - start;
    wait_ns_.fetch_add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count()),
        std::memory_order_relaxed);
  };
  constexpr int kSpins = 100;
  for (int i = 0; i < kSpins; ++i) {
    CpuRelax();
    uint32_t c = state_.load(std::memory_order_relaxed);
    if (c == 0 && state_.compare_exchange_weak(c, 1, std::memory_order_acquire)) {
      count_wait();
      return;
    }
  }
  // Sleep until woken, marking the lock as having sleepers (so unlock wakes one).
  while (state_.exchange(2, std::memory_order_acquire) != 0) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, 2, nullptr,
            nullptr, 0);
  }
  count_wait();
}

void ShardMutex::Wake() {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
}

// ---- Shard ----

Shard::~Shard() {
  for (Entry* head : DetachAll()) {
    while (head) {
      Entry* next = head->next;
      FreeEntry(head);
      head = next;
    }
  }
}

void Shard::Count(const Entry* e, int delta) {
  size_.fetch_add(static_cast<size_t>(delta), std::memory_order_relaxed);
  if (e->has_expire()) {
    expires_.fetch_add(static_cast<size_t>(delta), std::memory_order_relaxed);
    NoteExpires();
  }
}

namespace {
void SetMapBit(std::atomic<uint64_t>* word, uint64_t bit, bool on) {
  if (word == nullptr) return;
  if (on) {
    word->fetch_or(bit, std::memory_order_relaxed);
  } else {
    word->fetch_and(~bit, std::memory_order_relaxed);
  }
}
}  // namespace

void Shard::AttachMaps(std::atomic<uint64_t>* volatile_map, std::atomic<uint64_t>* rehash_map,
                       size_t index) {
  volatile_word_ = volatile_map + index / 64;
  rehash_word_ = rehash_map + index / 64;
  bit_ = uint64_t{1} << (index % 64);
}

void Shard::NoteRehash() {
  buckets_.store(table_.bucket_count(), std::memory_order_relaxed);
  bool rehashing = table_.rehashing();
  if (rehashing == rehash_bit_) return;
  rehash_bit_ = rehashing;
  SetMapBit(rehash_word_, bit_, rehashing);
}

void Shard::NoteExpires() {
  bool any = expires_.load(std::memory_order_relaxed) > 0;
  if (any == volatile_bit_) return;
  volatile_bit_ = any;
  SetMapBit(volatile_word_, bit_, any);
}

uint64_t Shard::EntryHash::Of(const Entry* e) { return ComputeHash(e->key()); }

Entry** Shard::FindLink(std::string_view key, uint64_t hash) {
  return table_.FindLink(hash, [key](const Entry* e) { return KeyEquals(e, key); });
}

void Shard::PrefetchBucket(uint64_t hash) {
  if (!mu.try_lock()) return;
  for (int t = 0; t < 2; ++t) {
    if (Entry* const* slot = table_.Slot(t, hash)) __builtin_prefetch(slot);
  }
  mu.unlock();
}

void Shard::PrefetchChain(uint64_t hash) {
  if (!mu.try_lock()) return;
  for (int t = 0; t < 2; ++t) {
    Entry* const* slot = table_.Slot(t, hash);
    if (slot == nullptr) continue;
    if (const Entry* e = *slot) {
      __builtin_prefetch(e);
      __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);
    }
  }
  mu.unlock();
}

bool Shard::RehashStep(size_t buckets) {
  bool more = table_.RehashStep(buckets);
  NoteRehash();
  return more;
}

void Shard::Insert(Entry* e, uint64_t hash) {
  table_.Insert(e, hash);
  NoteRehash();
  Count(e, +1);
}

Entry* Shard::ReplaceAt(Entry** link, Entry* e) {
  Entry* old = table_.ReplaceAt(link, e);
  Count(old, -1);
  Count(e, +1);
  return old;
}

Entry* Shard::UnlinkAt(Entry** link) {
  Entry* e = table_.UnlinkAt(link);
  NoteRehash();
  Count(e, -1);
  return e;
}

Entry* Shard::Random(std::mt19937_64& rng) const { return table_.Random(rng); }

std::vector<Entry*> Shard::DetachAll() {
  std::vector<Entry*> heads = table_.DetachAll();
  NoteRehash();
  size_.store(0, std::memory_order_relaxed);
  expires_.store(0, std::memory_order_relaxed);
  NoteExpires();
  expire_cursor = 0;
  return heads;
}

void Shard::SwapContents(Shard& other) {
  table_.Swap(other.table_);
  NoteRehash();
  other.NoteRehash();
  size_t s = size_.load(), os = other.size_.load();
  size_.store(os);
  other.size_.store(s);
  size_t x = expires_.load(), ox = other.expires_.load();
  expires_.store(ox);
  other.expires_.store(x);
  NoteExpires();
  other.NoteExpires();
  std::swap(expire_cursor, other.expire_cursor);
}

// ---- LazyFreer ----

LazyFreer::LazyFreer() : thread_([this] { Run(); }) {}

LazyFreer::~LazyFreer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LazyFreer::Free(std::vector<Entry*> chains) {
  if (chains.empty()) return;
  pending_.fetch_add(chains.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(chains));
    queue_bytes_.resize(queue_.size(), 0);
  }
  cv_.notify_one();
}

void LazyFreer::Free(Entry* e, uint64_t bytes) {
  e->next = nullptr;
  pending_.fetch_add(1);
  pending_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::vector<Entry*>{e});
    queue_bytes_.resize(queue_.size(), 0);
    queue_bytes_.back() = bytes;
  }
  cv_.notify_one();
}

void LazyFreer::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void LazyFreer::Run() {
  memory::RegisterThisThread();  // what it frees counts at once (keel/common/memory.h)
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) break;
    std::vector<std::vector<Entry*>> work;
    std::vector<uint64_t> work_bytes;
    work.swap(queue_);
    work_bytes.swap(queue_bytes_);
    busy_ = true;
    lock.unlock();
    for (size_t i = 0; i < work.size(); ++i) {
      for (Entry* head : work[i]) {
        while (head) {
          Entry* next = head->next;
          FreeEntry(head);
          head = next;
        }
        pending_.fetch_sub(1);
        freed_.fetch_add(1);
      }
      if (i < work_bytes.size() && work_bytes[i] != 0) {
        pending_bytes_.fetch_sub(work_bytes[i], std::memory_order_relaxed);
      }
    }
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  busy_ = false;
  idle_cv_.notify_all();
}

// ---- Db ----

Db::Db() : shards_(new Shard[kShards]) {
  for (size_t i = 0; i < kShards; ++i) shards_[i].AttachMaps(volatile_map_, rehash_map_, i);
}

uint64_t Db::size() const {
  uint64_t n = 0;
  for (size_t i = 0; i < kShards; ++i) n += shards_[i].size();
  return n;
}

uint64_t Db::expires() const {
  uint64_t n = 0;
  for (size_t i = 0; i < kShards; ++i) n += shards_[i].expires();
  return n;
}

// ---- Keyspace ----

Keyspace::Keyspace(int databases) : avg_ttl_(new std::atomic<uint64_t>[databases]) {
  for (int i = 0; i < databases; ++i) {
    dbs_.push_back(std::make_unique<Db>());
    registries_.push_back(std::make_unique<ShardRegistries[]>(kShards));
    avg_ttl_[i] = 0;
  }
}

Keyspace::~Keyspace() = default;

uint32_t Keyspace::LruClock() {
  return static_cast<uint32_t>(NowUnixSecondsCoarse()) & Entry::kLruMask;
}

Keyspace::PrefetchHint Keyspace::Locate(int db, std::string_view key) {
  if (db < 0 || db >= databases()) return {};
  KeyPlace place = PlaceOf(key);
  PrefetchHint hint{&dbs_[static_cast<size_t>(db)]->shard(place.shard), place.hash};
  __builtin_prefetch(hint.shard, 1);
  return hint;
}

Entry** Keyspace::LookupLink(int db, std::string_view key) {
  return LookupLinkAt(db, key, PlaceOf(key));
}

Entry** Keyspace::LookupLinkAt(int db, std::string_view key, const KeyPlace& place) {
  Shard& s = dbs_[db]->shard(place.shard);
  Entry** link = s.FindLink(key, place.hash);
  if (link == nullptr) return nullptr;
  Entry* e = *link;
  if (e->has_expire() && e->expire_ms() <= KeyTimeMs()) {
    BeforeChange(db, place.shard, e, BeforeChangeKind::kExpire);
    Entry* gone = s.UnlinkAt(link);
    CountExpired();
    Changed(db, gone->key(), ChangeKind::kExpired, 0);
    Dispose(gone, LazyExpire());
    return nullptr;
  }
  TouchAccess(e);
  return link;
}

Entry* Keyspace::Lookup(int db, std::string_view key) {
  Entry** link = LookupLink(db, key);
  return link ? *link : nullptr;
}

void Keyspace::Put(int db, Entry* e) {
  std::string_view key = e->key();
  KeyPlace place = PlaceOf(key);
  Store(db, {place.shard, place.hash, dbs_[db]->shard(place.shard).FindLink(key, place.hash)}, e);
}

Keyspace::WriteSlot Keyspace::LookupForWrite(int db, std::string_view key) {
  KeyPlace place = PlaceOf(key);
  return {place.shard, place.hash, LookupLinkAt(db, key, place)};
}

void Keyspace::Store(int db, const WriteSlot& slot, Entry* e) {
  Shard& s = dbs_[db]->shard(slot.shard);
  if (slot.link != nullptr) {
    // An overwrite keeps the key's access frequency under LFU, as Redis's does.
    e->lru = evictor_.lfu() ? (*slot.link)->lru : LruClock();
    BeforeChange(db, slot.shard, *slot.link, BeforeChangeKind::kOverwrite);
    Dispose(s.ReplaceAt(slot.link, e), lazy_free_.server_del.load(std::memory_order_relaxed));
  } else {
    e->lru = NewAccessField();
    BeforeInsert(db, slot.shard, e->key());
    s.Insert(e, slot.hash);
  }
  if (e->type == ObjType::kList || e->type == ObjType::kZset) SignalReady(db, e->key());
}

void Keyspace::SignalReady(int db, std::string_view key) {
  if (waiting_keys_.load(std::memory_order_relaxed) == 0) return;
  ShardRegistries& s = RegistriesFor(db, key);
  if (s.waiters.empty()) return;
  if (s.waiters.find(std::string(key)) == s.waiters.end()) return;
  auto& ready = ReadyKeys();
  for (const auto& [d, k] : ready) {
    if (d == db && k == key) return;
  }
  ready.emplace_back(db, std::string(key));
}

void Keyspace::Touch(int db, std::string_view key) {
  if (watchers_.load(std::memory_order_relaxed) == 0) return;
  ShardRegistries& s = RegistriesFor(db, key);
  if (s.watchers.empty()) return;
  auto it = s.watchers.find(std::string(key));
  if (it == s.watchers.end()) return;
  for (auto& w : it->second) w->dirty.store(true);
}

void Keyspace::TouchAll(int db, int other) {
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = dbs_[db]->shard(i);
    for (auto& [key, flags] : registries(db, i).watchers) {
      bool exists = s.Find(key, ComputeHash(key)) != nullptr;
      if (!exists && other >= 0) {
        exists = dbs_[other]->shard(i).Find(key, ComputeHash(key)) != nullptr;
      }
      if (!exists) continue;
      for (auto& w : flags) w->dirty.store(true);
    }
  }
}

void Keyspace::ChangedDb(int db, int other, ChangeKind kind, uint64_t dirty) {
  ++t_command_changes_;
  if (dirty != 0) dirty_.fetch_add(dirty);
  // A database swapped with itself changes no key (Redis counts it all the same).
  if (watchers_.load(std::memory_order_relaxed) != 0 && other != db) {
    TouchAll(db, other);
    if (other >= 0) TouchAll(other, db);
  }
  if (observer_ != nullptr) observer_->OnChange(KeyChange{db, {}, kind, other, dirty});
}

std::vector<std::pair<int, std::string>>& Keyspace::ReadyKeys() {
  thread_local std::vector<std::pair<int, std::string>> ready;
  return ready;
}

void Keyspace::ReplaceAt(int db, Entry** link, Entry* e) {
  size_t shard = ShardOf(e->key());
  Shard& s = dbs_[db]->shard(shard);
  BeforeChange(db, shard, *link, BeforeChangeKind::kOverwrite);
  e->lru = evictor_.lfu() ? (*link)->lru : LruClock();
  Dispose(s.ReplaceAt(link, e), lazy_free_.server_del.load(std::memory_order_relaxed));
}

void Keyspace::Relocate(int db, const Entry* old, Entry* moved) {
  std::string_view key = old->key();
  KeyPlace place = PlaceOf(key);
  Shard& s = dbs_[db]->shard(place.shard);
  Entry** link = s.FindLink(key, place.hash);
  assert(link != nullptr && *link == old);
  BeforeChange(db, place.shard, old, BeforeChangeKind::kRelocate);
  s.ReplaceAt(link, moved);
}

bool Keyspace::Delete(int db, std::string_view key, bool lazy) {
  KeyPlace place = PlaceOf(key);
  Entry** link = LookupLinkAt(db, key, place);
  if (link == nullptr) return false;
  BeforeChange(db, place.shard, *link, BeforeChangeKind::kRemove);
  Dispose(dbs_[db]->shard(place.shard).UnlinkAt(link), lazy);
  return true;
}

Entry* Keyspace::SetExpire(int db, Entry** link, int64_t expire_ms) {
  Entry* e = *link;
  size_t shard = ShardOf(e->key());
  Shard& s = dbs_[db]->shard(shard);
  if (expire_ms >= 0 && e->has_expire()) {
    BeforeChange(db, shard, e, BeforeChangeKind::kEdit);
    e->set_expire_ms(expire_ms);
    return e;
  }
  if (expire_ms < 0 && !e->has_expire()) return e;
  BeforeChange(db, shard, e, BeforeChangeKind::kRelocate);
  Entry* copy = CloneEntry(e, e->key(), expire_ms, /*steal=*/true);
  FreeEntryShell(s.ReplaceAt(link, copy));
  return copy;
}

Entry* Keyspace::Rekey(Entry* e, std::string_view new_key, int64_t expire_ms) {
  Entry* copy = CloneEntry(e, new_key, expire_ms, /*steal=*/true);
  FreeEntryShell(e);
  return copy;
}

Entry* Keyspace::Detach(int db, std::string_view key, Entry** link) {
  size_t shard = ShardOf(key);
  BeforeChange(db, shard, *link, BeforeChangeKind::kRemove);
  return dbs_[db]->shard(shard).UnlinkAt(link);
}

size_t Keyspace::Evict(int db, size_t shard, std::string_view key, bool volatile_only) {
  Shard& s = dbs_[db]->shard(shard);
  Entry** link = s.FindLink(key, ComputeHash(key));
  if (link == nullptr || (volatile_only && !(*link)->has_expire())) return 0;
  BeforeChange(db, shard, *link, BeforeChangeKind::kRemove);
  Entry* gone = s.UnlinkAt(link);
  // Collections estimated from a few elements: walking a big one here would stall the thread.
  size_t bytes = EntryMemorySampled(gone, 5);
  Changed(db, gone->key(), ChangeKind::kEvicted, 0);
  if (lazy_free_.eviction.load(std::memory_order_relaxed) && gone->storage == Entry::kObject &&
      gone->object()->ElementCount() > 64) {
    freer_.Free(gone, bytes);
  } else {
    FreeEntry(gone);
  }
  return bytes;
}

void Keyspace::Dispose(Entry* e, bool lazy) {
  // Only collections with many elements are worth a trip to the freer thread.
  if (lazy && e->storage == Entry::kObject && e->object()->ElementCount() > 64) {
    e->next = nullptr;
    freer_.Free(e);
    return;
  }
  FreeEntry(e);
}

std::vector<ShardGuard> Keyspace::LockAll(int db) {
  std::vector<ShardGuard> locks;
  locks.reserve(kShards);
  for (size_t i = 0; i < kShards; ++i) locks.push_back(LockShard(db, i));
  return locks;
}

void Keyspace::BeforeChangeAll(int db, BeforeChangeKind kind) {
  BeforeChangeHook* hook = before_change_.load(std::memory_order_acquire);
  if (hook == nullptr) return;
  hook->BeforeDbChange(db, kind);
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = dbs_[db]->shard(i);
    uint64_t cursor = 0;
    do {
      cursor = s.Scan(cursor, [&](Entry* e) { BeforeChange(db, i, e, kind); });
    } while (cursor != 0);
  }
}

void Keyspace::BeforeWriteSlow(int db, std::string_view key) {
  KeyPlace place = PlaceOf(key);
  if (Entry* e = dbs_[db]->shard(place.shard).Find(key, place.hash)) {
    BeforeChange(db, place.shard, e, BeforeChangeKind::kEdit);
  }
}

void Keyspace::SwapDbs(int a, int b) {
  BeforeChangeAll(a, BeforeChangeKind::kSwap);
  BeforeChangeAll(b, BeforeChangeKind::kSwap);
  for (size_t i = 0; i < kShards; ++i) dbs_[a]->shard(i).SwapContents(dbs_[b]->shard(i));
}

std::vector<Entry*> Keyspace::DetachAll(int db) {
  BeforeChangeAll(db, BeforeChangeKind::kFlush);
  std::vector<Entry*> all;
  for (size_t i = 0; i < kShards; ++i) {
    std::vector<Entry*> heads = dbs_[db]->shard(i).DetachAll();
    all.insert(all.end(), heads.begin(), heads.end());
  }
  avg_ttl_[db] = 0;
  return all;
}

void Keyspace::FreeDetached(std::vector<Entry*> chains, bool async) {
  if (async) {
    freer_.Free(std::move(chains));
    return;
  }
  for (Entry* head : chains) {
    while (head) {
      Entry* next = head->next;
      FreeEntry(head);
      head = next;
    }
  }
}

uint64_t Keyspace::avg_ttl(int db) const { return avg_ttl_[db].load(std::memory_order_relaxed); }

namespace {
// Calls fn(db, flat index) for the shards flagged in `map` of each database (in ascending flat
// index) that belong to io thread `index` of `count` (flat % count == index), until fn returns
// false.
template <typename Map, typename F>
void ForEachFlagged(const std::vector<std::unique_ptr<Db>>& dbs, Map map, size_t index,
                    size_t count, F&& fn) {
  for (size_t db = 0; db < dbs.size(); ++db) {
    const Db::ShardMap& words = ((*dbs[db]).*map)();
    for (size_t w = 0; w < Db::kMapWords; ++w) {
      uint64_t bits = words[w].load(std::memory_order_relaxed);
      while (bits != 0) {
        size_t flat = db * kShards + w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        if (flat % count == index && !fn(static_cast<int>(db), flat)) return;
      }
    }
  }
}
}  // namespace

double Keyspace::ActiveExpireSlice(size_t index, size_t count, int64_t budget_us) {
  int64_t start = NowMonotonicUs();
  uint64_t sampled = 0, expired = 0;
  std::vector<Entry*> victims;
  ForEachFlagged(dbs_, &Db::volatile_shards, index, count, [&](int db, size_t flat) {
    Shard& s = dbs_[db]->shard(flat % kShards);
    std::lock_guard<ShardMutex> lock(s.mu);
    int64_t now = NowUnixMs();
    uint64_t ttl_sum = 0, ttl_n = 0;
    // Visit up to ~64 buckets per shard per slice, then move on, so every shard gets a turn.
    for (int step = 0; step < 64; ++step) {
      victims.clear();
      s.expire_cursor = s.Scan(s.expire_cursor, [&](Entry* e) {
        if (!e->has_expire()) return;
        ++sampled;
        int64_t t = e->expire_ms();
        if (t <= now) {
          victims.push_back(e);
        } else {
          ttl_sum += static_cast<uint64_t>(t - now);
          ++ttl_n;
        }
      });
      for (Entry* v : victims) {
        Entry** link = s.FindLink(v->key(), ComputeHash(v->key()));
        if (link) {
          BeforeChange(db, flat % kShards, *link, BeforeChangeKind::kExpire);
          Entry* gone = s.UnlinkAt(link);
          ++expired;
          CountExpired();
          Changed(db, gone->key(), ChangeKind::kExpired, 0);
          Dispose(gone, LazyExpire());
        }
      }
      if (s.expire_cursor == 0) break;
    }
    if (ttl_n > 0) {
      // A running estimate, like Redis's: weigh the new sample in gradually.
      uint64_t sample = ttl_sum / ttl_n;
      uint64_t old = avg_ttl_[db].load(std::memory_order_relaxed);
      avg_ttl_[db].store(old == 0 ? sample : (old / 50) * 49 + sample / 50,
                         std::memory_order_relaxed);
    }
    return NowMonotonicUs() - start <= budget_us;
  });
  return sampled ? static_cast<double>(expired) / static_cast<double>(sampled) : 0.0;
}

void Keyspace::RehashSlice(size_t index, size_t count, int64_t budget_us) {
  int64_t start = NowMonotonicUs();
  ForEachFlagged(dbs_, &Db::rehashing_shards, index, count, [&](int db, size_t flat) {
    if (ShardGuard::HeldByThisThread(flat)) return true;
    Shard& s = dbs_[db]->shard(flat % kShards);
    std::unique_lock<ShardMutex> lock(s.mu, std::try_to_lock);
    if (!lock.owns_lock()) return true;
    while (s.RehashStep(100)) {
      if (NowMonotonicUs() - start > budget_us) return false;
    }
    return true;
  });
}

// ---- ShardGuard and KeyLocks ----

namespace {
// The flat shard indexes this thread holds, one bit each (grown on first use to the highest
// index locked). A bit map, not a list: an EXEC or FLUSHALL holding thousands of shards then
// checks and releases each in constant time (a list search per lock made an EXEC over the
// whole keyspace quadratic: 16 x 256 locks took 25 ms).
thread_local std::vector<uint64_t> t_held;
}  // namespace

bool ShardGuard::HeldByThisThread(size_t flat) {
  size_t w = flat / 64;
  return w < t_held.size() && (t_held[w] >> (flat % 64) & 1) != 0;
}

ShardGuard::ShardGuard(Keyspace& ks, size_t flat) : flat_(flat) {
  if (HeldByThisThread(flat)) return;
  ShardMutex& mu = ks.FlatShard(flat).mu;
  mu.lock();
  mu_ = &mu;
  size_t w = flat / 64;
  if (w >= t_held.size()) t_held.resize(w + 1, 0);
  t_held[w] |= uint64_t{1} << (flat % 64);
}

void ShardGuard::Unlock() {
  if (mu_ == nullptr) return;
  t_held[flat_ / 64] &= ~(uint64_t{1} << (flat_ % 64));
  mu_->unlock();
  mu_ = nullptr;
}

void KeyLocks::Add(Keyspace& ks, size_t flat) {
  if (n_ < kInline) {
    new (Slot(n_)) ShardGuard(ks, flat);
    ++n_;
  } else {
    more_.emplace_back(ks, flat);
  }
}

KeyLocks::KeyLocks(Keyspace& ks, int db, std::span<const std::string_view> keys) {
  size_t base = static_cast<size_t>(db) * kShards;
  if (keys.size() == 1) {
    Add(ks, base + ShardOf(keys[0]));
    return;
  }
  if (keys.size() <= kInline) {
    size_t flat[kInline];
    size_t n = 0;
    for (std::string_view k : keys) flat[n++] = base + ShardOf(k);
    std::sort(flat, flat + n);
    n = static_cast<size_t>(std::unique(flat, flat + n) - flat);
    for (size_t i = 0; i < n; ++i) Add(ks, flat[i]);
    return;
  }
  std::vector<size_t> flat;
  flat.reserve(keys.size());
  for (std::string_view k : keys) flat.push_back(base + ShardOf(k));
  LockFlat(ks, std::move(flat));
}

void KeyLocks::LockFlat(Keyspace& ks, std::vector<size_t> flat) {
  std::sort(flat.begin(), flat.end());
  flat.erase(std::unique(flat.begin(), flat.end()), flat.end());
  if (flat.size() > kInline) more_.reserve(flat.size() - kInline);
  for (size_t f : flat) Add(ks, f);
}

}  // namespace keel
