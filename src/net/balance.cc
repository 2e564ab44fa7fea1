#include "keel/net/balance.h"

#include <algorithm>

namespace keel {

size_t NextServingCount(size_t serving, size_t threads, const IoLoad& load) {
  serving = std::clamp<size_t>(serving, 1, std::max<size_t>(threads, 1));
  double active = static_cast<double>(serving);
  if (ThreadsContended(serving, load) ||
      (serving > 1 && (load.used_cores + load.idle_cores < active - 0.5 ||
                       load.used_cores < 0.4 * (active - 1)))) {
    return serving - 1;
  }
  if (serving < threads && load.may_grow && load.used_cores > 0.8 * active &&
      load.idle_cores >= 0.7 && load.connections >= 2 * static_cast<int64_t>(serving + 1)) {
    return serving + 1;
  }
  return serving;
}

void GrowthHold::Period(double now_s, bool contended, bool shared) {
  if (contended) {
    until_s_ = now_s + backoff_s_;
    backoff_s_ = std::min(backoff_s_ * 2, kLongestHoldS);
    calm_periods_ = 0;
  } else if (shared && ++calm_periods_ >= 20) {
    backoff_s_ = kFirstHoldS;
    calm_periods_ = 0;
  }
}

std::vector<MovePlan> PlanMoves(const std::vector<int64_t>& counts, size_t serving,
                                size_t* cursor) {
  std::vector<MovePlan> plans;
  size_t n = counts.size();
  serving = std::clamp<size_t>(serving, 1, std::max<size_t>(n, 1));
  int64_t total = 0;
  for (int64_t c : counts) total += std::max<int64_t>(c, 0);
  int64_t share = (total + static_cast<int64_t>(serving) - 1) / static_cast<int64_t>(serving);
  // One entry per missing connection, round robin over the short threads.
  std::vector<size_t> short_of;
  for (int64_t round = 0;; ++round) {
    bool any = false;
    for (size_t i = 0; i < serving && i < n; ++i) {
      if (counts[i] + round < share) {
        short_of.push_back(i);
        any = true;
      }
    }
    if (!any) break;
  }
  for (size_t i = 0; i < n && !short_of.empty(); ++i) {
    int64_t keep = i < serving ? share : 0;
    int64_t excess = counts[i] - keep;
    // A small imbalance among serving threads is left alone: moves are cheap, not free.
    if (excess <= 0 || (i < serving && excess <= std::max<int64_t>(2, share / 8))) continue;
    MovePlan plan;
    plan.from = i;
    for (int64_t k = 0; k < excess; ++k) plan.to.push_back(short_of[(*cursor)++ % short_of.size()]);
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace keel
