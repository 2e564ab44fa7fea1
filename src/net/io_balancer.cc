#include "io_balancer.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

namespace {

bool ReadCpuTimes(uint64_t* idle, uint64_t* total) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return false;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 5) return false;
  *idle = v[3] + v[4];
  *total = 0;
  for (unsigned long long x : v) *total += x;
  return true;
}

int64_t ThreadCpuNs(pthread_t t) {
  clockid_t cid;
  timespec ts{};
  if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0) return 0;
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

void IoBalancer::Tick() {
  size_t n = io_->contexts.size();
  if (n == 1 || io_->thread_ids.size() != n || ++tick_ < kBalanceTicks) return;
  tick_ = 0;
  int64_t wall = NowMonotonicUs() * 1000;
  std::vector<int64_t> cpu(n);
  for (size_t i = 0; i < n; ++i) cpu[i] = ThreadCpuNs(io_->thread_ids[i]);
  uint64_t idle = 0, total = 0;
  bool have_stat = ReadCpuTimes(&idle, &total);
  uint64_t lock_wait = ShardMutex::WaitNs();
  size_t want = io_->Serving();
  if (size_t pinned = io_->PinnedServing(); pinned > 0) {
    want = pinned;
  } else if (wall_ns_ > 0 && have_stat && total > total_ && wall > wall_ns_) {
    double used = 0;  // cores the io threads used
    for (size_t i = 0; i < n; ++i) used += static_cast<double>(cpu[i] - thread_ns_[i]);
    used /= static_cast<double>(wall - wall_ns_);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double idle_cores = static_cast<double>(idle - idle_) / static_cast<double>(total - total_) *
                        static_cast<double>(cpus);
    IoLoad load;
    load.used_cores = used;
    load.idle_cores = idle_cores;
    for (size_t i = 0; i < n; ++i) load.connections += io_->state->io_thread_clients[i].load();
    load.lock_wait_cores =
        static_cast<double>(lock_wait - lock_wait_ns_) / static_cast<double>(wall - wall_ns_);
    double now_s = static_cast<double>(wall) / 1e9;
    load.may_grow = growth_hold_.MayGrow(now_s);
    bool contended = ThreadsContended(want, load);
    growth_hold_.Period(now_s, contended, want > 1);
    if (contended) {
      KEEL_LOG_VERBOSE("io threads waited {:.2f} cores for each other's shard locks",
                       load.lock_wait_cores);
    }
    want = NextServingCount(want, n, load);
  }
  lock_wait_ns_ = lock_wait;
  wall_ns_ = wall;
  thread_ns_ = cpu;
  idle_ = idle;
  total_ = total;
  if (want != io_->Serving()) {
    KEEL_LOG_VERBOSE("io threads serving connections: {} -> {}", io_->Serving(), want);
    io_->state->io_threads_serving = static_cast<int>(want);
  }
  Rebalance(want);
}

void IoBalancer::Rebalance(size_t want) {
  // No moves while a thread is inside a busy script: one moved there would wait for its end.
  for (size_t i = 0; i < io_->contexts.size(); ++i) {
    if (io_->ThreadBusy(i)) return;
  }
  std::vector<int64_t> counts(io_->contexts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = io_->state->io_thread_clients[i].load(std::memory_order_relaxed);
  }
  for (MovePlan& plan : PlanMoves(counts, want, &cursor_)) {
    size_t from = plan.from;
    asio::post(*io_->contexts[from],
               [this, from, targets = std::move(plan.to)] { MoveFrom(from, targets); });
  }
}

void IoBalancer::MoveFrom(size_t from, const std::vector<size_t>& targets, int retries) {
  if (io_->shutting_down.load()) return;
  size_t next = 0;
  for (auto& w : io_->live[from]) {
    if (next == targets.size()) break;
    auto c = w.lock();
    if (!c || !c->ServedBy(from)) continue;
    size_t to = targets[next];
    if (io_->ThreadBusy(to)) {  // (a script there passed its threshold since the plan)
      ++next;
      continue;
    }
    if (c->MoveTo(to, [this, to](const std::shared_ptr<Connection>& conn) {
          io_->AddLive(to, conn);
          if (io_->shutting_down.load()) conn->ShutdownGracefully();
        })) {
      ++next;
    }
  }
  io_->PruneLive(from);
  if (next < targets.size() && next < io_->live[from].size() && retries > 0) {
    asio::post(*io_->contexts[from],
               [this, from, rest = std::vector<size_t>(targets.begin() + next, targets.end()),
                retries] { MoveFrom(from, rest, retries - 1); });
  }
}

}  // namespace keel
