#include "keel/keyspace/eviction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "keel/common/clock.h"
#include "keel/common/memory.h"
#include "keel/keyspace/keyspace.h"

namespace keel {
namespace {

uint32_t Field(uint32_t minutes, uint32_t counter) {
  return ((minutes & kLfuMinutesMask) << 8) | counter;
}

TEST(Lfu, CounterLosesOnePerDecayPeriodAndNeverGoesBelowZero) {
  EXPECT_EQ(LfuDecayedCounter(Field(100, 20), 1, 100), 20u);
  EXPECT_EQ(LfuDecayedCounter(Field(100, 20), 1, 107), 13u);
  EXPECT_EQ(LfuDecayedCounter(Field(100, 20), 2, 107), 17u);
  EXPECT_EQ(LfuDecayedCounter(Field(100, 20), 1, 1000), 0u);
  // lfu-decay-time 0: no decay at all.
  EXPECT_EQ(LfuDecayedCounter(Field(100, 20), 0, 9000), 20u);
}

TEST(Lfu, MinutesClockWrapsAround) {
  // Last decrement 3 minutes before the 15-bit clock wrapped, now 2 minutes after: 5 minutes.
  EXPECT_EQ(LfuDecayedCounter(Field(kLfuMinutesMask - 2, 10), 1, 2), 5u);
}

TEST(Lfu, LogFactorZeroCountsEveryAccessUpTo255) {
  uint32_t f = LfuNewField();
  EXPECT_EQ(f & 255, kLfuInitVal);
  for (int i = 0; i < 10; ++i) f = LfuAccess(f, /*log_factor=*/0, /*decay_time=*/1);
  EXPECT_EQ(f & 255, kLfuInitVal + 10);
  for (int i = 0; i < 1000; ++i) f = LfuAccess(f, 0, 1);
  EXPECT_EQ(f & 255, 255u);
}

TEST(Lfu, HighLogFactorGrowsTheCounterLogarithmically) {
  uint32_t f = LfuNewField();
  for (int i = 0; i < 1000; ++i) f = LfuAccess(f, /*log_factor=*/10, /*decay_time=*/1);
  // Redis's table: about 18 after 1000 hits with factor 10 (from 5, growing ever slower).
  EXPECT_GT(f & 255, 10u);
  EXPECT_LT(f & 255, 40u);
}

// Eviction goes through the write path (the evicted hook) and, under a volatile policy, takes
// only keys with a TTL; with nothing left to take it fails, so denyoom commands would be refused.
TEST(Evictor, VolatilePolicyEvictsOnlyKeysWithATtlThenFails) {
  Keyspace ks(2);
  std::vector<std::string> evicted;
  ks.SetEvictedHook([&](int, std::string_view key) { evicted.emplace_back(key); });
  for (int db = 0; db < 2; ++db) {
    for (int i = 0; i < 200; ++i) {
      std::string plain = "plain" + std::to_string(i), ttl = "ttl" + std::to_string(i);
      {
        ShardGuard g = ks.LockShard(db, ShardOf(plain));
        ks.Put(db, NewStringEntry(plain, std::string(100, 'p'), -1));
      }
      ShardGuard g = ks.LockShard(db, ShardOf(ttl));
      ks.Put(db, NewStringEntry(ttl, std::string(100, 't'), NowUnixMs() + 100000));
    }
  }
  memory::Calibrate();
  Evictor& ev = ks.evictor();
  ev.set_policy(EvictionPolicy::kVolatileLru);
  ev.set_tenacity(100);  // no time limit: one pass takes whatever it can
  ev.set_maxmemory(1);
  EXPECT_EQ(ev.Perform(), Evictor::Result::kRunning);  // evicted, but still over 1 byte
  EXPECT_EQ(ev.Perform(), Evictor::Result::kFail);     // nothing with a TTL left
  EXPECT_EQ(evicted.size(), 400u);
  for (const std::string& k : evicted) EXPECT_EQ(k.substr(0, 3), "ttl");
  EXPECT_EQ(ev.evicted_keys(), 400u);
  EXPECT_EQ(ks.db(0).size() + ks.db(1).size(), 400u);
  EXPECT_EQ(ks.db(0).expires() + ks.db(1).expires(), 0u);
  // allkeys-random then takes the rest; noeviction fails at once.
  ev.set_policy(EvictionPolicy::kAllkeysRandom);
  ev.Perform();
  EXPECT_EQ(ks.db(0).size() + ks.db(1).size(), 0u);
  ev.set_policy(EvictionPolicy::kNoEviction);
  EXPECT_EQ(ev.Perform(), Evictor::Result::kFail);
  ev.set_maxmemory(0);
  EXPECT_EQ(ev.Perform(), Evictor::Result::kOk);
}

// volatile-ttl takes the nearest expiry first: with 20 keys and a pool of 16, the first victim
// of a pass that sees every key is the one expiring soonest.
TEST(Evictor, VolatileTtlTakesTheNearestExpiryFirst) {
  Keyspace ks(1);
  std::vector<std::string> evicted;
  ks.SetEvictedHook([&](int, std::string_view key) { evicted.emplace_back(key); });
  int64_t now = NowUnixMs();
  for (int i = 0; i < 20; ++i) {
    std::string k = "k" + std::to_string(i);
    ShardGuard g = ks.LockShard(0, ShardOf(k));
    ks.Put(0, NewStringEntry(k, "v", now + 100000 + (19 - i) * 1000));  // k19 expires first
  }
  memory::Calibrate();
  Evictor& ev = ks.evictor();
  ev.set_policy(EvictionPolicy::kVolatileTtl);
  ev.set_samples(1000);  // every key of the sampled shard
  ev.set_tenacity(100);
  ev.set_maxmemory(1);
  ev.Perform();
  ASSERT_EQ(evicted.size(), 20u);
  // A round samples shards until it has seen `samples` keys (all 20 here), so the victims come
  // in expiry order.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(evicted[i], "k" + std::to_string(19 - i));
  ev.set_maxmemory(0);
}

}  // namespace
}  // namespace keel
