#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace keel {

// StatCounter is a statistic that every io thread bumps on every command. A plain shared atomic
// would bounce its cache line between the cores on each increment; this one gives each thread
// its own line (threads beyond kSlots share, still atomically) and sums them when read.
class StatCounter {
 public:
  static constexpr size_t kSlots = 8;
  void fetch_add(uint64_t v, std::memory_order = std::memory_order_relaxed) {
    slots_[Slot()].v.fetch_add(v, std::memory_order_relaxed);
  }
  uint64_t load(std::memory_order = std::memory_order_relaxed) const {
    uint64_t sum = 0;
    for (const auto& s : slots_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }
  StatCounter& operator=(uint64_t v) {  // resets (CONFIG RESETSTAT); v lands in one slot
    for (auto& s : slots_) s.v.store(0, std::memory_order_relaxed);
    slots_[0].v.store(v, std::memory_order_relaxed);
    return *this;
  }

 private:
  // This thread's slot: threads are numbered in the order they first count something. Inline,
  // as it runs on every count.
  static size_t Slot() {
    thread_local const size_t slot = NextSlot();
    return slot;
  }
  static size_t NextSlot();
  struct alignas(64) PaddedSlot {
    std::atomic<uint64_t> v{0};
  };
  PaddedSlot slots_[kSlots];
};

}  // namespace keel
