#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

class Keyspace;
struct Entry;

// maxmemory-policy, in Redis's config order (config.cc lists the names in this order).
enum class EvictionPolicy : int {
  kVolatileLru = 0,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
  kAllkeysLru,
  kAllkeysLfu,
  kAllkeysRandom,
  kNoEviction,
};

// ---- LFU: Redis's logarithmic access counter, kept in Entry::lru under an LFU policy ----
//
// The 23-bit field is (minutes << 8) | counter: the time of the last decrement in minutes, mod
// 2^15, and an 8-bit counter that grows with probability 1 / ((counter - kLfuInitVal) *
// lfu-log-factor + 1) per access and loses one per lfu-decay-time minutes without one. New keys
// start at kLfuInitVal, so that they are not evicted before they had a chance to be used.
inline constexpr uint32_t kLfuInitVal = 5;
inline constexpr uint32_t kLfuMinutesMask = (1u << 15) - 1;
// The current minute, mod 2^15.
uint32_t LfuMinutes();
// The counter after decay (no change to the entry): what OBJECT FREQ reports.
uint32_t LfuDecayedCounter(uint32_t field, int64_t decay_time, uint32_t now_minutes);
// One access: decay, then a logarithmic increment; returns the new field.
uint32_t LfuAccess(uint32_t field, int64_t log_factor, int64_t decay_time);
// The field of a new key.
inline uint32_t LfuNewField() { return (LfuMinutes() << 8) | kLfuInitVal; }

// Evictor keeps the keyspace within maxmemory (docs/architecture.md, "Eviction"). Commands call
// Perform() before they run, holding no shard lock; each io thread's housekeeping calls
// BackgroundSlice() while memory is over the limit, so that a big drop of maxmemory is worked off
// over several turns while clients keep being served.
//
// Victims are chosen as Redis chooses them: `maxmemory-samples` keys sampled per database per
// round, one random shard at a time under that shard's lock only, feed a pool of the 16 best
// candidates (longest idle for LRU, least frequent for LFU, nearest expiry for volatile-ttl);
// the best is evicted, after checking under its shard's lock that it is still there. One thread
// evicts at a time (a try-lock: the others go on serving), and every pass stops after the time
// maxmemory-eviction-tenacity allows. Evicted keys go through the write path as
// ChangeKind::kEvicted (WATCH, the "evicted" notification, a future AOF's deletion), and big
// values are freed on the lazy-free thread.
class Evictor {
 public:
  enum class Result { kOk, kRunning, kFail };

  explicit Evictor(Keyspace& ks) : ks_(ks) {}
  Evictor(const Evictor&) = delete;
  Evictor& operator=(const Evictor&) = delete;

  // Settings (config apply hooks; any thread).
  void set_maxmemory(uint64_t bytes) {
    maxmemory_.store(bytes, std::memory_order_relaxed);
    background_.store(true, std::memory_order_relaxed);  // a lowered limit is worked off
  }
  void set_policy(EvictionPolicy p) { policy_.store(p, std::memory_order_relaxed); }
  void set_samples(int n) { samples_.store(n, std::memory_order_relaxed); }
  void set_tenacity(int t) { tenacity_.store(t, std::memory_order_relaxed); }
  void set_lfu_log_factor(int64_t f) { lfu_log_factor_.store(f, std::memory_order_relaxed); }
  void set_lfu_decay_time(int64_t t) { lfu_decay_time_.store(t, std::memory_order_relaxed); }
  uint64_t maxmemory() const { return maxmemory_.load(std::memory_order_relaxed); }
  EvictionPolicy policy() const { return policy_.load(std::memory_order_relaxed); }
  bool lfu() const {
    EvictionPolicy p = policy();
    return p == EvictionPolicy::kAllkeysLfu || p == EvictionPolicy::kVolatileLfu;
  }
  int64_t lfu_log_factor() const { return lfu_log_factor_.load(std::memory_order_relaxed); }
  int64_t lfu_decay_time() const { return lfu_decay_time_.load(std::memory_order_relaxed); }

  // Before a command: evicts while memory is over maxmemory, for at most the tenacity's time.
  // kOk: under the limit (or no limit); kRunning: still over, but eviction is progressing (the
  // time ran out, or another thread is evicting); kFail: over the limit and nothing could be
  // evicted (noeviction, or no candidate), so a denyoom command must be refused.
  // REQUIRES: no shard lock held by this thread.
  Result Perform();
  // One housekeeping slice of at most `budget_us`; returns true while memory is still over the
  // limit (the caller comes back soon). It works only after a pass ran out of time or maxmemory
  // was set, as Redis's eviction timer does: at the limit, the writes' own passes keep memory
  // there, and waking every io thread each millisecond would only take CPU from them.
  // REQUIRES: no shard lock held.
  bool BackgroundSlice(int64_t budget_us);
  // Memory counted against maxmemory: used memory less what the lazy-free thread is about to
  // return (Redis also leaves out AOF and replication buffers; Keel has none yet).
  uint64_t CountedMemory() const;
  // The same for a check against `limit`: exact near the limit, else an estimate under it.
  uint64_t CountedMemoryForLimit(uint64_t limit) const;
  // The cron (10 Hz): recalibrates the memory reading while a limit is set.
  void Cron();

  // INFO stats.
  uint64_t evicted_keys() const { return evicted_keys_.load(std::memory_order_relaxed); }
  uint64_t total_exceeded_ms() const;
  uint64_t current_exceeded_ms() const;

 private:
  struct Candidate {
    uint64_t score = 0;  // higher is a better victim
    int db = 0;
    std::string key;
  };
  static constexpr int kPoolSize = 16;

  Result Evict(int64_t budget_us);
  // Samples one shard of each database into the pool (or, for the random policies, picks one
  // victim into it). REQUIRES mu_.
  void Sample();
  // Offers up to `samples` keys of one shard; returns how many it saw.
  int SampleShard(int db, size_t shard, int samples);
  void Offer(int db, std::string_view key, uint64_t score);
  uint64_t Score(const Entry* e, uint32_t lru_now, uint32_t lfu_now) const;
  bool volatile_only() const {
    return static_cast<int>(policy()) <= static_cast<int>(EvictionPolicy::kVolatileTtl);
  }
  void NoteExceeded(bool over);

  Keyspace& ks_;
  std::atomic<uint64_t> maxmemory_{0};
  std::atomic<EvictionPolicy> policy_{EvictionPolicy::kNoEviction};
  std::atomic<int> samples_{5};
  std::atomic<int> tenacity_{10};
  std::atomic<int64_t> lfu_log_factor_{10};
  std::atomic<int64_t> lfu_decay_time_{1};
  std::atomic<uint64_t> evicted_keys_{0};
  std::atomic<int64_t> exceeded_since_us_{0};  // 0 while under the limit
  std::atomic<uint64_t> exceeded_total_us_{0};
  std::atomic<bool> background_{false};  // BackgroundSlice has work to finish

  // The eviction pass in progress (one thread at a time): the pool and the sampler's state.
  std::mutex mu_;
  Candidate pool_[kPoolSize];
  int pool_n_ = 0;        // pool_[0..pool_n_) sorted by ascending score
  std::vector<int> dbs_;  // the databases with candidates (refreshed every 100 ms)
  int64_t dbs_at_us_ = 0;
  bool dbs_volatile_ = false;
  std::mt19937_64 rng_{0x6b65656c};
};

}  // namespace keel
