#include "keel/common/stat_counter.h"

namespace keel {

size_t StatCounter::NextSlot() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % kSlots;
}

}  // namespace keel
