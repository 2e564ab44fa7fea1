#include "keel/keyspace/eviction.h"

#include <cmath>
#include <limits>

#include "keel/common/clock.h"
#include "keel/common/memory.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

// ---- LFU ----

uint32_t LfuMinutes() {
  return static_cast<uint32_t>(NowUnixSecondsCoarse() / 60) & kLfuMinutesMask;
}

uint32_t LfuDecayedCounter(uint32_t field, int64_t decay_time, uint32_t now_minutes) {
  uint32_t last = (field >> 8) & kLfuMinutesMask;
  uint32_t counter = field & 255;
  // The minutes clock wraps every 2^15 minutes: the distance is taken mod 2^15.
  uint32_t elapsed = (now_minutes - last) & kLfuMinutesMask;
  if (decay_time <= 0) return counter;
  uint64_t periods = elapsed / static_cast<uint64_t>(decay_time);
  return periods >= counter ? 0 : counter - static_cast<uint32_t>(periods);
}

namespace {
// A fast per-thread generator for the counter's coin flips (one per access under LFU).
double UnitRandom() {
  thread_local uint64_t x = 0x9e3779b97f4a7c15ull ^ reinterpret_cast<uintptr_t>(&x);
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}
}  // namespace

uint32_t LfuAccess(uint32_t field, int64_t log_factor, int64_t decay_time) {
  uint32_t now = LfuMinutes();
  uint32_t counter = LfuDecayedCounter(field, decay_time, now);
  if (counter < 255) {
    double base = counter > kLfuInitVal ? counter - kLfuInitVal : 0;
    double p = 1.0 / (base * static_cast<double>(log_factor) + 1);
    if (UnitRandom() < p) ++counter;
  }
  return (now << 8) | counter;
}

// ---- Evictor ----

namespace {
// How long one eviction pass may run, from maxmemory-eviction-tenacity (Redis's scale): 0-10
// give 0-500 us in steps of 50, then 15% more per step, and 100 means no limit.
int64_t TenacityBudgetUs(int tenacity) {
  if (tenacity <= 10) return 50LL * tenacity;
  if (tenacity < 100) return static_cast<int64_t>(500.0 * std::pow(1.15, tenacity - 10.0));
  return std::numeric_limits<int64_t>::max();
}
}  // namespace

uint64_t Evictor::CountedMemory() const {
  uint64_t used = memory::Used();
  uint64_t pending = ks_.lazy_freer().pending_bytes();
  return used > pending ? used - pending : 0;
}

uint64_t Evictor::CountedMemoryForLimit(uint64_t limit) const {
  // The estimate may be taken under the limit only when the full sum also is (memory.h), and
  // what the lazy-free thread is about to return only lowers the figure.
  uint64_t used = memory::UsedForLimit(limit);
  uint64_t pending = ks_.lazy_freer().pending_bytes();
  return used > pending ? used - pending : 0;
}

void Evictor::Cron() {
  if (maxmemory() != 0) memory::Calibrate();
}

void Evictor::NoteExceeded(bool over) {
  int64_t since = exceeded_since_us_.load(std::memory_order_relaxed);
  if (over) {
    if (since == 0) {
      int64_t now = NowMonotonicUs();
      exceeded_since_us_.compare_exchange_strong(since, now == 0 ? 1 : now);
    }
  } else if (since != 0 && exceeded_since_us_.compare_exchange_strong(since, 0)) {
    exceeded_total_us_.fetch_add(static_cast<uint64_t>(NowMonotonicUs() - since),
                                 std::memory_order_relaxed);
  }
}

uint64_t Evictor::current_exceeded_ms() const {
  int64_t since = exceeded_since_us_.load(std::memory_order_relaxed);
  return since == 0 ? 0 : static_cast<uint64_t>(NowMonotonicUs() - since) / 1000;
}

uint64_t Evictor::total_exceeded_ms() const {
  return exceeded_total_us_.load(std::memory_order_relaxed) / 1000 + current_exceeded_ms();
}

Evictor::Result Evictor::Perform() {
  uint64_t limit = maxmemory();
  if (limit == 0) return Result::kOk;
  if (CountedMemoryForLimit(limit) <= limit) {
    NoteExceeded(false);
    return Result::kOk;
  }
  NoteExceeded(true);
  if (policy() == EvictionPolicy::kNoEviction) return Result::kFail;
  return Evict(TenacityBudgetUs(tenacity_.load(std::memory_order_relaxed)));
}

bool Evictor::BackgroundSlice(int64_t budget_us) {
  if (!background_.load(std::memory_order_relaxed)) return false;
  if (maxmemory() == 0 || policy() == EvictionPolicy::kNoEviction) {
    background_.store(false, std::memory_order_relaxed);
    return false;
  }
  if (CountedMemory() <= maxmemory()) {
    NoteExceeded(false);
    background_.store(false, std::memory_order_relaxed);
    return false;
  }
  NoteExceeded(true);
  // kFail: nothing to evict (volatile-* without keys with a TTL); commands retry on their own.
  bool more = Evict(budget_us) == Result::kRunning;
  if (!more) background_.store(false, std::memory_order_relaxed);
  return more;
}

Evictor::Result Evictor::Evict(int64_t budget_us) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  // Another thread is evicting: let this one serve its command meanwhile.
  if (!lock.owns_lock()) return Result::kRunning;
  uint64_t used = CountedMemory();
  uint64_t limit = maxmemory();
  if (used <= limit) return Result::kOk;
  uint64_t need = used - limit;
  uint64_t freed = 0;
  int64_t start = NowMonotonicUs();
  int evicted = 0;
  bool volatile_only = this->volatile_only();
  int empty_rounds = 0;
  // The databases with candidates: each count is a sum over 256 shards (16 x 256 cold cache
  // lines for 16 databases, tens of microseconds), so the list is kept for 100 ms (or until it
  // comes up empty), not rebuilt for every pass, which is every write while memory is at the
  // limit. A database emptied meanwhile only costs a sampling round that finds nothing.
  if (start - dbs_at_us_ > 100000 || dbs_.empty() || volatile_only != dbs_volatile_) {
    dbs_.clear();
    for (int db = 0; db < ks_.databases(); ++db) {
      Db& d = ks_.db(db);
      if (volatile_only ? d.expires() != 0 : d.size() != 0) dbs_.push_back(db);
    }
    dbs_at_us_ = start;
    dbs_volatile_ = volatile_only;
  }
  if (dbs_.empty()) return Result::kFail;
  while (freed < need) {
    // Fill the pool, then evict its best candidate that still exists.
    Sample();
    size_t bytes = 0;
    while (pool_n_ > 0 && bytes == 0) {
      Candidate c = std::move(pool_[--pool_n_]);
      size_t shard = ShardOf(c.key);
      ShardGuard guard = ks_.LockShard(c.db, shard);
      bytes = ks_.Evict(c.db, shard, c.key, volatile_only);
    }
    if (bytes == 0) {
      // Nothing to evict after a few tries (volatile-* with no TTL keys, an empty keyspace).
      if (++empty_rounds >= 4) break;
      continue;
    }
    empty_rounds = 0;
    freed += bytes;
    evicted_keys_.fetch_add(1, std::memory_order_relaxed);
    if (++evicted % 16 == 0 && NowMonotonicUs() - start > budget_us) {
      if (CountedMemory() <= limit) return Result::kOk;
      background_.store(true, std::memory_order_relaxed);  // out of time: finish in slices
      return Result::kRunning;
    }
  }
  if (freed >= need) return Result::kOk;
  return freed == 0 ? Result::kFail : Result::kRunning;
}

uint64_t Evictor::Score(const Entry* e, uint32_t lru_now, uint32_t lfu_now) const {
  switch (policy()) {
    case EvictionPolicy::kAllkeysLru:
    case EvictionPolicy::kVolatileLru:
      return (lru_now - static_cast<uint32_t>(e->lru)) & Entry::kLruMask;
    case EvictionPolicy::kAllkeysLfu:
    case EvictionPolicy::kVolatileLfu:
      return 255 - LfuDecayedCounter(static_cast<uint32_t>(e->lru), lfu_decay_time(), lfu_now);
    case EvictionPolicy::kVolatileTtl:
      return std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(e->expire_ms());
    default:
      return 0;
  }
}

void Evictor::Offer(int db, std::string_view key, uint64_t score) {
  for (int i = 0; i < pool_n_; ++i) {
    if (pool_[i].db == db && pool_[i].key == key) {
      pool_[i].score = score;  // refreshed below by re-sorting
      for (int j = i; j > 0 && pool_[j].score < pool_[j - 1].score; --j) {
        std::swap(pool_[j], pool_[j - 1]);
      }
      for (int j = i; j + 1 < pool_n_ && pool_[j].score > pool_[j + 1].score; ++j) {
        std::swap(pool_[j], pool_[j + 1]);
      }
      return;
    }
  }
  if (pool_n_ == kPoolSize) {
    if (score <= pool_[0].score) return;
    // Drop the worst candidate (the lowest score) to make room.
    for (int i = 1; i < pool_n_; ++i) std::swap(pool_[i - 1], pool_[i]);
    --pool_n_;
  }
  int pos = pool_n_++;
  pool_[pos] = Candidate{score, db, std::string(key)};
  for (; pos > 0 && pool_[pos].score < pool_[pos - 1].score; --pos) {
    std::swap(pool_[pos], pool_[pos - 1]);
  }
}

int Evictor::SampleShard(int db, size_t shard, int samples) {
  Shard& s = ks_.db(db).shard(shard);
  ShardGuard guard = ks_.LockShard(db, shard);
  bool volatile_only = this->volatile_only();
  bool random =
      policy() == EvictionPolicy::kAllkeysRandom || policy() == EvictionPolicy::kVolatileRandom;
  uint32_t lru_now = Keyspace::LruClock();
  uint32_t lfu_now = LfuMinutes();
  // Consecutive buckets from a random place (as Redis's sampling takes them; from the start
  // when the shard has no more keys than wanted), up to the end of the table (so no key is seen
  // twice in one call) and at most ten buckets per wanted key, so that a shard with few keys
  // with a TTL is not walked whole.
  uint64_t start = s.size() <= static_cast<size_t>(samples) ? 0 : rng_();
  int found = 0;
  auto walk = [&](uint64_t cursor) {
    for (int steps = 0; found < samples && steps < samples * 10; ++steps) {
      cursor = s.Scan(cursor, [&](Entry* e) {
        if (found >= samples || (volatile_only && !e->has_expire())) return;
        ++found;
        Offer(db, e->key(), random ? rng_() : Score(e, lru_now, lfu_now));
      });
      if (cursor == 0) break;
    }
  };
  walk(start);
  // Nothing between the random place and the table's end (a shard whose few keys with a TTL lie
  // before it): once more from the start, so that the last such key is still found and evicted
  // before writes get OOM, as Redis's sampling of its expires table always finds one. Nothing
  // was seen by the first walk, so nothing is offered twice.
  if (found == 0 && start != 0) walk(0);
  return found;
}

void Evictor::Sample() {
  bool volatile_only = this->volatile_only();
  bool random =
      policy() == EvictionPolicy::kAllkeysRandom || policy() == EvictionPolicy::kVolatileRandom;
  // Random policies need no ranking: forget earlier picks, so the victim is this round's.
  if (random) pool_n_ = 0;
  int samples = samples_.load(std::memory_order_relaxed);
  for (int db : dbs_) {
    Db& d = ks_.db(db);
    // Shards that have candidates, from a random one on (for volatile-*, those whose bit says
    // they hold keys with a TTL), until `samples` keys were seen: one shard of a big database,
    // several of a small one, so a sparse keyspace is not ranked one key at a time.
    size_t start = static_cast<size_t>(rng_() % kShards);
    int seen = 0;
    for (size_t i = 0; i < kShards && seen < samples; ++i) {
      size_t shard = (start + i) % kShards;
      bool has =
          volatile_only
              ? (d.volatile_shards()[shard / 64].load(std::memory_order_relaxed) >> (shard % 64)) &
                    1
              : d.shard(shard).size() != 0;
      if (has) seen += SampleShard(db, shard, samples - seen);
    }
  }
}

}  // namespace keel
