#pragma once

// The server's timers: the 10 Hz cron on io thread 0 (statistics, idle-client timeouts, the io
// balancer, ServerState::cron_hook) and one housekeeping timer per io thread (active expiry,
// rehashing and background eviction of that thread's shards).

#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io_balancer.h"
#include "io_threads.h"

namespace keel {

class ServerCron {
 public:
  ServerCron(IoThreads* io, IoBalancer* balancer);

  // Starts the timers. Call before the io threads run.
  void Start();
  // Cancels them (the cron at once, each housekeeping timer on its own thread). On io thread 0.
  void Stop();

 private:
  // Each io thread owns shards index, index + count, ... of the flat (db, shard) list. Every
  // slice is bounded to about a millisecond so no event loop stalls; while many sampled keys
  // turn out expired the next slice comes after 2 ms instead of 100 ms, so a thread gives at most
  // a third of its time to expiry (adaptive, like Redis's fast and slow cycles; Redis's slow
  // cycle alone may take a quarter of its one thread, in slices of up to 25 ms).
  static constexpr int64_t kSliceBudgetUs = 1000;

  void ScheduleCron();
  void Cron();
  void ScheduleHousekeeping(size_t index, std::chrono::milliseconds delay);
  // instantaneous_ops_per_sec and the input and output byte rates: the mean rate over the last
  // 16 cron periods, as Redis reports them.
  void SampleOps();

  IoThreads* io_;
  IoBalancer* balancer_;
  asio::steady_timer cron_;
  std::vector<std::unique_ptr<asio::steady_timer>> housekeeping_;  // one per io thread
  // One rate: the last 16 per-second samples of a growing counter.
  struct Rate {
    uint64_t samples[16] = {};
    uint64_t last = 0;
    // Adds the sample for `value` after `us` microseconds; returns the mean of the samples.
    uint64_t Sample(uint64_t value, int64_t us, size_t index);
  };
  Rate ops_, input_, output_;
  size_t sample_index_ = 0;
  int64_t last_sample_us_ = 0;
};

}  // namespace keel
