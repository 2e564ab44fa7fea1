#include "keel/net/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace keel {
namespace {

using std::chrono::milliseconds;

TEST(LoopWatchdog, NoPingAfterTheFirstWhileOneLoopIsWedged) {
  asio::io_context a, b;
  std::atomic<int> pings{0};
  LoopWatchdog dog({&a, &b}, std::chrono::microseconds(16000), [&] { pings.fetch_add(1); });
  dog.Start();
  // Loop b never runs, as if a command held it forever: a's checks see b's count stand still.
  a.run_for(milliseconds(300));
  EXPECT_EQ(pings.load(), 1);  // the ping at start only
}

TEST(LoopWatchdog, PingsResumeOnceEveryLoopRuns) {
  asio::io_context a, b;
  std::atomic<int> pings{0};
  LoopWatchdog dog({&a, &b}, std::chrono::microseconds(16000), [&] { pings.fetch_add(1); });
  dog.Start();
  a.run_for(milliseconds(100));
  ASSERT_EQ(pings.load(), 1);
  auto guard_b = asio::make_work_guard(b);
  std::thread tb([&] { b.run(); });
  // Runs loop a until a few more pings came (no upper time bound: the loop just keeps going).
  while (pings.load() < 4) a.run_for(milliseconds(10));
  dog.Stop();
  a.run_for(milliseconds(10));
  guard_b.reset();
  b.stop();
  tb.join();
  EXPECT_GE(pings.load(), 4);
}

TEST(LoopWatchdog, StopEndsThePings) {
  asio::io_context a;
  std::atomic<int> pings{0};
  LoopWatchdog dog({&a}, std::chrono::microseconds(16000), [&] { pings.fetch_add(1); });
  dog.Start();
  while (pings.load() < 2) a.run_for(milliseconds(10));
  dog.Stop();
  int at_stop = pings.load();
  a.restart();
  a.run();  // returns once the cancelled timer's handler ran: no beat is scheduled again
  EXPECT_EQ(pings.load(), at_stop);
}

}  // namespace
}  // namespace keel
