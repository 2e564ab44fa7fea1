#include "cron.h"

#include "keel/commands/diagnostics.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

ServerCron::ServerCron(IoThreads* io, IoBalancer* balancer)
    : io_(io), balancer_(balancer), cron_(*io->contexts[0]) {
  for (auto& c : io->contexts) housekeeping_.push_back(std::make_unique<asio::steady_timer>(*c));
}

void ServerCron::Start() {
  ScheduleCron();
  for (size_t i = 0; i < io_->contexts.size(); ++i) {
    ScheduleHousekeeping(i, std::chrono::milliseconds(100));
  }
}

void ServerCron::Stop() {
  cron_.cancel();
  for (size_t i = 0; i < io_->contexts.size(); ++i) {
    asio::post(*io_->contexts[i], [this, i] { housekeeping_[i]->cancel(); });
  }
}

void ServerCron::ScheduleCron() {
  cron_.expires_after(std::chrono::milliseconds(100));
  cron_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    if (CronRunning()) Cron();
    ScheduleCron();
  });
}

void ServerCron::ScheduleHousekeeping(size_t index, std::chrono::milliseconds delay) {
  asio::steady_timer& t = *housekeeping_[index];
  t.expires_after(delay);
  t.async_wait([this, index](const asio::error_code& ec) {
    if (ec || io_->shutting_down.load()) return;
    if (!CronRunning()) return ScheduleHousekeeping(index, std::chrono::milliseconds(100));
    Keyspace& ks = *io_->state->keyspace;
    int64_t start = NowMonotonicUs();
    double expired_ratio = 0.0;
    if (ActiveExpireEnabled()) {
      expired_ratio = ks.ActiveExpireSlice(index, io_->contexts.size(), kSliceBudgetUs);
      io_->state->stats.expire_cycle_us.fetch_add(static_cast<uint64_t>(NowMonotonicUs() - start),
                                                  std::memory_order_relaxed);
    }
    // Invalidations of the keys that expired, for client-side caching.
    if (Tracking::HasPending() && io_->state->tracking != nullptr) {
      io_->state->tracking->Flush(nullptr, nullptr);
    }
    ks.RehashSlice(index, io_->contexts.size(), kSliceBudgetUs / 4);
    ServerStats::RaiseMax(io_->state->stats.max_housekeeping_usec,
                          static_cast<uint64_t>(NowMonotonicUs() - start));
    // Memory over maxmemory (a lowered limit, writes between commands' own eviction passes):
    // evict a slice and come back in a millisecond, on every io thread (one evicts at a time).
    bool evicting = ks.evictor().BackgroundSlice(kSliceBudgetUs / 2);
    bool busy = expired_ratio > 0.10;
    ScheduleHousekeeping(index, std::chrono::milliseconds(evicting ? 1 : busy ? 2 : 100));
  });
}

uint64_t ServerCron::Rate::Sample(uint64_t value, int64_t us, size_t index) {
  // A counter reset by CONFIG RESETSTAT counts as no traffic for that period.
  samples[index % 16] = value >= last ? (value - last) * 1000000 / static_cast<uint64_t>(us) : 0;
  last = value;
  uint64_t sum = 0;
  for (uint64_t v : samples) sum += v;
  return sum / 16;
}

void ServerCron::SampleOps() {
  int64_t now = NowMonotonicUs();
  ServerStats& st = io_->state->stats;
  uint64_t ops = st.total_commands_processed.load(std::memory_order_relaxed);
  uint64_t in = st.total_net_input_bytes.load(std::memory_order_relaxed);
  uint64_t out = st.total_net_output_bytes.load(std::memory_order_relaxed);
  if (last_sample_us_ != 0 && now > last_sample_us_) {
    int64_t us = now - last_sample_us_;
    size_t i = sample_index_++;
    st.instantaneous_ops_per_sec.store(ops_.Sample(ops, us, i), std::memory_order_relaxed);
    st.instantaneous_input_bps.store(input_.Sample(in, us, i), std::memory_order_relaxed);
    st.instantaneous_output_bps.store(output_.Sample(out, us, i), std::memory_order_relaxed);
  } else {
    ops_.last = ops;
    input_.last = in;
    output_.last = out;
  }
  last_sample_us_ = now;
}

// Housekeeping at 10 Hz on context 0: statistics, idle-client timeouts.
void ServerCron::Cron() {
  if (io_->state->cron_hook) io_->state->cron_hook();
  SampleOps();
  balancer_->Tick();
  int64_t timeout_s = io_->state->config->timeout();
  if (timeout_s <= 0) return;
  int64_t now = NowUnixMs();
  io_->state->clients.ForEach([&](Client& c) {
    // As in Redis, MONITOR clients, subscribers and clients blocked in BLPOP and friends are
    // never idle: they wait for the server, not the other way round. (A served blocked client
    // counts as active from the moment it is served: see FinishWaiter.)
    if (c.flags.load(std::memory_order_relaxed) & (kClientMonitor | kClientPubsub)) return;
    if (now - c.last_interaction_ms.load(std::memory_order_relaxed) <= timeout_s * 1000) return;
    {
      std::lock_guard<std::mutex> lock(c.mu);
      if (c.waiter != nullptr) return;
    }
    if (auto h = c.handle.lock()) h->Kill();
  });
}

}  // namespace keel
