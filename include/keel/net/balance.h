#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace keel {

// The io thread balancer's decisions (see docs/architecture.md, Threads), as plain functions of
// what it measured, so they can be tested without load.

// What the balancer saw over its last period.
struct IoLoad {
  double used_cores = 0;    // CPU time of all io threads / wall time
  double idle_cores = 0;    // the machine's idle CPU time / wall time
  int64_t connections = 0;  // connections served
};

// How many of `threads` io threads should serve connections next, `serving` serving now. One
// more while the serving threads are over 80% busy, 0.7 of a core or more is idle and there are
// two connections per thread to share; one fewer when the load would fit on one thread less
// (under 40% of it), or when our threads and the idle cores add up to less than the serving
// threads minus a half (the cores are busy with something else, so our threads would only take
// turns on them); otherwise the same.
size_t NextServingCount(size_t serving, size_t threads, const IoLoad& load);

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
