#include "keel/common/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace keel {
namespace {

// The command clock keeps pace with CLOCK_MONOTONIC (whether it reads the time-stamp counter or
// not) and never goes back.
TEST(CommandClock, KeepsPaceWithTheMonotonicClock) {
  for (int round = 0; round < 3; ++round) {
    int64_t c0 = CommandClockUs();
    int64_t m0 = NowMonotonicUs();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int64_t c1 = CommandClockUs();
    int64_t m1 = NowMonotonicUs();
    double ratio = static_cast<double>(c1 - c0) / static_cast<double>(m1 - m0);
    EXPECT_GT(ratio, 0.98) << "uses tsc: " << CommandClockUsesTsc();
    EXPECT_LT(ratio, 1.02) << "uses tsc: " << CommandClockUsesTsc();
  }
  int64_t last = CommandClockUs();
  for (int i = 0; i < 100000; ++i) {
    int64_t now = CommandClockUs();
    ASSERT_GE(now, last);
    last = now;
  }
}

// The coarse clocks trail the precise wall clock by at most a few kernel ticks, never lead it.
TEST(CoarseClock, TrailsTheWallClockByLittle) {
  for (int i = 0; i < 1000; ++i) {
    int64_t coarse = NowUnixMsCoarse();
    int64_t precise = NowUnixMs();
    ASSERT_LE(coarse, precise);
    ASSERT_LT(precise - coarse, 50);
    ASSERT_LE(NowUnixSecondsCoarse(), precise / 1000);
  }
}

}  // namespace
}  // namespace keel
