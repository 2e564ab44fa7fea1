#pragma once

// Which io threads serve connections, and moving connections between them (the policy itself,
// NextServingCount and PlanMoves, is in keel/net/balance.h, tested on its own).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "io_threads.h"
#include "keel/net/balance.h"

namespace keel {

// A thread is worth serving from only if it gets a core: on a machine whose cores are all busy
// (a client on the same two cores, say), connections spread over more threads only mean each
// thread finds fewer of them ready per wake-up, and every extra sleep and wake-up costs the
// client's send. So connections start on one thread and spread to another only while the
// serving threads are busy and a core is mostly idle; they come back when the load would fit on
// fewer threads, or the cores are taken.
class IoBalancer {
 public:
  explicit IoBalancer(IoThreads* io) : io_(io) {}

  // From the cron on io thread 0, every 100 ms; acts every 0.5 s, from the io threads' CPU
  // clocks and /proc/stat.
  void Tick();

 private:
  static constexpr int kBalanceTicks = 5;  // cron ticks of 100 ms

  // Moves connections so the first `want` threads serve them all, in even shares.
  void Rebalance(size_t want);
  // On io thread `from`: moves idle connections to `targets`, one each. When too few are idle,
  // it tries once more from the back of the thread's queue: a connection that is never idle
  // when this runs (its client sends the next batch as soon as it has the replies, and this was
  // posted while the batch ran, so it comes before the batch's flush) is idle right after that
  // flush. What is still busy then is tried again on the next round.
  void MoveFrom(size_t from, const std::vector<size_t>& targets, int retries = 1);

  IoThreads* io_;
  int tick_ = 0;
  int64_t wall_ns_ = 0;
  std::vector<int64_t> thread_ns_;
  uint64_t idle_ = 0, total_ = 0;
  uint64_t lock_wait_ns_ = 0;
  GrowthHold growth_hold_;
  size_t cursor_ = 0;
};

}  // namespace keel
