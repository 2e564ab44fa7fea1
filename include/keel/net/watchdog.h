#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace keel {

// LoopWatchdog feeds systemd's watchdog (WatchdogSec=) only while every event loop is alive.
//
// Each loop runs a beat timer every period/8 that bumps its counter. Loop 0 checks every
// period/4 that every counter moved since its last check and only then calls `ping` (WATCHDOG=1).
// A loop that is wedged (an endless command, a deadlock) stops beating, the pings stop, and
// systemd restarts the service after one period; a wedged loop 0 stops the checks themselves.
//
// Thread-safety: Start and Stop are called from any thread; they post to the loops. The timers
// and `seen` belong to their loops; the counters are atomics read by loop 0.
class LoopWatchdog {
 public:
  LoopWatchdog(const std::vector<asio::io_context*>& loops, std::chrono::microseconds period,
               std::function<void()> ping);
  LoopWatchdog(const LoopWatchdog&) = delete;
  LoopWatchdog& operator=(const LoopWatchdog&) = delete;

  void Start();
  // Cancels the timers (on their loops). Idempotent.
  void Stop();

 private:
  struct Loop {
    explicit Loop(asio::io_context* c) : context(c), timer(*c) {}
    asio::io_context* context;
    asio::steady_timer timer;
    std::atomic<uint64_t> beats{0};
    uint64_t seen = 0;  // loop 0's view at its last check
  };
  void Beat(size_t index);
  void Check();

  std::vector<std::unique_ptr<Loop>> loops_;
  std::chrono::microseconds beat_interval_;
  std::function<void()> ping_;
  std::atomic<bool> stopped_{false};
  uint64_t loop0_beats_ = 0;  // loop 0 checks every second beat
};

}  // namespace keel
