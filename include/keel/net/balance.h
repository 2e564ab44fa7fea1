#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace keel {

// The io thread balancer's decisions (see docs/architecture.md, Threads), as plain functions of
// what it measured, so they can be tested without load.

// What the balancer saw over its last period.
struct IoLoad {
  double used_cores = 0;       // CPU time of all io threads / wall time
  double idle_cores = 0;       // the machine's idle CPU time / wall time
  int64_t connections = 0;     // connections served
  double lock_wait_cores = 0;  // time the threads waited for shard locks / wall time
  bool may_grow = true;        // false while GrowthHold holds a step up back
};

// Above this many cores' worth of waiting for each other's shard locks, the serving threads are
// taking turns on a few hot keys (many clients pushing to one list, say) rather than working
// side by side: one thread fewer does the same work without the hand-offs. Half of each thread
// past the first: two threads on one hot key waited 0.83-0.98 cores, while two threads running
// SINTERCARD over 32 sets, which serve 1.8x what one does, waited 0.13.
inline double LockWaitLimit(size_t serving) { return 0.5 * (static_cast<double>(serving) - 1); }

// True when `serving` threads (more than one) waited past LockWaitLimit over the period.
inline bool ThreadsContended(size_t serving, const IoLoad& load) {
  return serving > 1 && load.lock_wait_cores > LockWaitLimit(serving);
}

// How many of `threads` io threads should serve connections next, `serving` serving now. One
// more while the serving threads are over 80% busy, 0.7 of a core or more is idle, there are
// two connections per thread to share and `may_grow`; one fewer when the threads waited for
// shard locks more than LockWaitLimit(serving), when the load would fit on one thread less (under
// 40% of it), or when our threads and the idle cores add up to less than the serving threads minus
// a half (the cores are busy with something else, so our threads would only take turns on
// them); otherwise the same.
size_t NextServingCount(size_t serving, size_t threads, const IoLoad& load);

// After the balancer takes a thread away because the threads waited on each other's locks,
// the load that made it add that thread (a busy thread, an idle core) is still there: without a
// hold it would add the thread back on the next period, and take it away again on the one
// after. The hold lasts 4 s, doubles each time contention takes a thread away again (up to
// 64 s), and goes back to 4 s after 20 periods with more than one thread serving and no
// contention.
class GrowthHold {
 public:
  bool MayGrow(double now_s) const { return now_s >= until_s_; }
  // A period's outcome: `contended` if ThreadsContended; `shared` if more
  // than one thread served during it.
  void Period(double now_s, bool contended, bool shared);
  double backoff_s() const { return backoff_s_; }

 private:
  static constexpr double kFirstHoldS = 4;
  static constexpr double kLongestHoldS = 64;
  double until_s_ = 0;
  double backoff_s_ = kFirstHoldS;
  int calm_periods_ = 0;
};

// One batch of moves: connections to move off thread `from`, one to each entry of `to`.
struct MovePlan {
  size_t from = 0;
  std::vector<size_t> to;
};

// Moves that leave the connections (`counts`, per io thread) on the first `serving` threads in
// shares that differ by a few at most: every connection off the threads past `serving`, and
// from a serving thread its excess over the share when that is more than max(2, share / 8).
// `cursor` rotates which short thread gets the next connection across calls.
std::vector<MovePlan> PlanMoves(const std::vector<int64_t>& counts, size_t serving, size_t* cursor);

}  // namespace keel
