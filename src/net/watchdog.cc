#include "keel/net/watchdog.h"

#include <algorithm>

namespace keel {

LoopWatchdog::LoopWatchdog(const std::vector<asio::io_context*>& loops,
                           std::chrono::microseconds period, std::function<void()> ping)
    : beat_interval_(
          std::max<std::chrono::microseconds>(period / 8, std::chrono::microseconds(1000))),
      ping_(std::move(ping)) {
  for (asio::io_context* c : loops) loops_.push_back(std::make_unique<Loop>(c));
}

void LoopWatchdog::Start() {
  // The first ping goes out at once: start-up just completed on a running loop 0.
  asio::post(*loops_[0]->context, [this] {
    if (!stopped_.load()) ping_();
  });
  for (size_t i = 0; i < loops_.size(); ++i) {
    asio::post(*loops_[i]->context, [this, i] { Beat(i); });
  }
}

void LoopWatchdog::Stop() {
  if (stopped_.exchange(true)) return;
  for (auto& l : loops_) {
    Loop* loop = l.get();
    asio::post(*loop->context, [loop] { loop->timer.cancel(); });
  }
}

void LoopWatchdog::Beat(size_t index) {
  if (stopped_.load()) return;
  Loop& loop = *loops_[index];
  loop.beats.fetch_add(1, std::memory_order_relaxed);
  if (index == 0 && ++loop0_beats_ % 2 == 0) Check();
  loop.timer.expires_after(beat_interval_);
  loop.timer.async_wait([this, index](const asio::error_code& ec) {
    if (!ec) Beat(index);
  });
}

void LoopWatchdog::Check() {
  bool all_moved = true;
  for (auto& l : loops_) {
    uint64_t now = l->beats.load(std::memory_order_relaxed);
    if (now == l->seen) all_moved = false;
    l->seen = now;
  }
  if (all_moved) ping_();
}

}  // namespace keel
