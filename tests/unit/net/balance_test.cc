#include "keel/net/balance.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace keel {
namespace {

IoLoad Load(double used, double idle, int64_t connections) {
  IoLoad l;
  l.used_cores = used;
  l.idle_cores = idle;
  l.connections = connections;
  return l;
}

TEST(NextServingCount, ClientOnTheOtherCoreKeepsOneThread) {
  // GET -P 16 on two cores: our thread busy, the client takes the other core.
  EXPECT_EQ(NextServingCount(1, 2, Load(0.98, 0.02, 50)), 1u);
  // -P 1: our thread 80% busy, the client a whole core.
  EXPECT_EQ(NextServingCount(1, 2, Load(0.80, 0.15, 50)), 1u);
}

TEST(NextServingCount, BusyThreadWithAnIdleCoreGetsAnother) {
  EXPECT_EQ(NextServingCount(1, 2, Load(0.99, 0.95, 8)), 2u);
  EXPECT_EQ(NextServingCount(2, 4, Load(1.8, 2.0, 100)), 3u);
  // Never past the threads there are.
  EXPECT_EQ(NextServingCount(2, 2, Load(2.0, 4.0, 100)), 2u);
}

TEST(NextServingCount, TooFewConnectionsToShareStayPut) {
  // One busy connection cannot run on two threads at once.
  EXPECT_EQ(NextServingCount(1, 2, Load(1.0, 1.0, 1)), 1u);
  EXPECT_EQ(NextServingCount(1, 2, Load(1.0, 1.0, 3)), 1u);
  EXPECT_EQ(NextServingCount(1, 2, Load(1.0, 1.0, 4)), 2u);
}

TEST(NextServingCount, TakenCoresOrALightLoadStepDownOneAtATime) {
  // Two threads sharing the cores with a client: ours plus idle come to one core.
  EXPECT_EQ(NextServingCount(2, 2, Load(1.01, 0.0, 50)), 1u);
  // Idle server, four threads serving: down by one per period.
  EXPECT_EQ(NextServingCount(4, 4, Load(0.01, 3.9, 20)), 3u);
  EXPECT_EQ(NextServingCount(3, 4, Load(0.01, 3.9, 20)), 2u);
  EXPECT_EQ(NextServingCount(2, 4, Load(0.01, 3.9, 20)), 1u);
  EXPECT_EQ(NextServingCount(1, 4, Load(0.01, 3.9, 20)), 1u);
}

TEST(NextServingCount, SpreadLoadWithFreeCoresHolds) {
  // Two threads well used, a core still idle: neither the step down nor up (0.8 * 2 = 1.6).
  EXPECT_EQ(NextServingCount(2, 4, Load(1.5, 1.5, 40)), 2u);
  // Hysteresis: after spreading, a load that would have spread again from one does not
  // immediately step back down.
  EXPECT_EQ(NextServingCount(2, 2, Load(0.9, 1.0, 8)), 2u);
}

TEST(NextServingCount, ThreadsWaitingOnEachOthersLocksStepDown) {
  // Fifty clients pushing to one list from two threads: busy, a core idle, but most of a core
  // spent waiting for the list's shard lock.
  IoLoad hot = Load(1.1, 0.8, 50);
  hot.lock_wait_cores = 0.9;
  EXPECT_EQ(NextServingCount(2, 2, hot), 1u);
  // Three threads of four: the limit is a half of each of the two past the first.
  IoLoad three = Load(2.2, 1.5, 50);
  three.lock_wait_cores = 0.9;
  EXPECT_EQ(NextServingCount(3, 4, three), 3u);
  three.lock_wait_cores = 1.8;
  EXPECT_EQ(NextServingCount(3, 4, three), 2u);
  // Keys spread over the shards: the odd wait does not count.
  IoLoad spread = Load(1.6, 0.8, 50);
  spread.lock_wait_cores = 0.01;
  EXPECT_EQ(NextServingCount(2, 2, spread), 2u);
  // Long commands over a few dozen keys wait now and then, and still gain from the second
  // thread (SINTERCARD over 32 sets: 0.13 cores waited, 1.8x the rate of one thread).
  spread.lock_wait_cores = 0.13;
  EXPECT_EQ(NextServingCount(2, 2, spread), 2u);
  // One thread serving cannot wait on itself; the wait of another kind changes nothing.
  IoLoad one = Load(0.5, 1.0, 50);
  one.lock_wait_cores = 0.5;
  EXPECT_EQ(NextServingCount(1, 2, one), 1u);
}

TEST(NextServingCount, NoStepUpWhileHeld) {
  IoLoad busy = Load(0.99, 0.95, 50);
  EXPECT_EQ(NextServingCount(1, 2, busy), 2u);
  busy.may_grow = false;
  EXPECT_EQ(NextServingCount(1, 2, busy), 1u);
  // The hold stops growth only: a light load still steps down.
  IoLoad light = Load(0.1, 3.0, 50);
  light.may_grow = false;
  EXPECT_EQ(NextServingCount(3, 4, light), 2u);
}

TEST(GrowthHold, HoldsLongerEachTimeContentionComesBack) {
  GrowthHold hold;
  EXPECT_TRUE(hold.MayGrow(0));
  hold.Period(10, /*contended=*/true, /*shared=*/true);
  EXPECT_FALSE(hold.MayGrow(13.9));
  EXPECT_TRUE(hold.MayGrow(14));
  hold.Period(20, true, true);  // grew back, and the threads waited again: 8 s
  EXPECT_FALSE(hold.MayGrow(27.9));
  EXPECT_TRUE(hold.MayGrow(28));
  for (int i = 0; i < 10; ++i) hold.Period(30 + i, true, true);
  EXPECT_EQ(hold.backoff_s(), 64);  // the longest hold
  EXPECT_FALSE(hold.MayGrow(39 + 63.9));
}

TEST(GrowthHold, CalmSharedPeriodsShortenTheNextHold) {
  GrowthHold hold;
  hold.Period(0, true, true);
  hold.Period(10, true, true);
  EXPECT_EQ(hold.backoff_s(), 16);
  // Periods on one thread say nothing about contention: the backoff stays.
  for (int i = 0; i < 40; ++i) hold.Period(30 + i * 0.5, false, false);
  EXPECT_EQ(hold.backoff_s(), 16);
  for (int i = 0; i < 19; ++i) hold.Period(60 + i * 0.5, false, true);
  EXPECT_EQ(hold.backoff_s(), 16);
  hold.Period(70, false, true);  // the 20th calm period with two threads serving
  EXPECT_EQ(hold.backoff_s(), 4);
  hold.Period(80, true, true);
  EXPECT_FALSE(hold.MayGrow(83.9));
  EXPECT_TRUE(hold.MayGrow(84));
}

// Applies a plan to counts, checking every move leaves a thread that has the connections.
std::vector<int64_t> Apply(std::vector<int64_t> counts, const std::vector<MovePlan>& plans) {
  for (const MovePlan& p : plans) {
    for (size_t to : p.to) {
      EXPECT_NE(to, p.from);
      --counts[p.from];
      ++counts[to];
    }
  }
  for (int64_t c : counts) EXPECT_GE(c, 0);
  return counts;
}

TEST(PlanMoves, ConsolidatesEveryConnectionOntoTheServingThreads) {
  size_t cursor = 0;
  auto after = Apply({25, 25}, PlanMoves({25, 25}, 1, &cursor));
  EXPECT_EQ(after, (std::vector<int64_t>{50, 0}));
  after = Apply({5, 7, 9, 11}, PlanMoves({5, 7, 9, 11}, 2, &cursor));
  EXPECT_EQ(after[2] + after[3], 0);
  EXPECT_EQ(after[0] + after[1], 32);
  EXPECT_LE(std::abs(after[0] - after[1]), 2);
}

TEST(PlanMoves, SpreadsEvenlyOntoNewThreads) {
  size_t cursor = 0;
  auto after = Apply({50, 0}, PlanMoves({50, 0}, 2, &cursor));
  EXPECT_EQ(after, (std::vector<int64_t>{25, 25}));
  after = Apply({60, 0, 0}, PlanMoves({60, 0, 0}, 3, &cursor));
  EXPECT_EQ(after, (std::vector<int64_t>{20, 20, 20}));
}

TEST(PlanMoves, LeavesSmallImbalancesAndEmptyServersAlone) {
  size_t cursor = 0;
  EXPECT_TRUE(PlanMoves({26, 25}, 2, &cursor).empty());
  EXPECT_TRUE(PlanMoves({12, 10}, 2, &cursor).empty());  // excess 1 of a share of 11
  EXPECT_TRUE(PlanMoves({0, 0, 0}, 2, &cursor).empty());
  EXPECT_TRUE(PlanMoves({40, 0}, 1, &cursor).empty());
  // But a large one is evened out.
  auto after = Apply({90, 10}, PlanMoves({90, 10}, 2, &cursor));
  EXPECT_EQ(after, (std::vector<int64_t>{50, 50}));
}

}  // namespace
}  // namespace keel
