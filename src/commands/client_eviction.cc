#include "keel/commands/client_eviction.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/commands/acl.h"
#include "keel/commands/client.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"

namespace keel::client_eviction {

namespace {

// DEBUG CLIENT-EVICTION's buckets, as Redis 7.0 prints them: the first holds 0 to 32 KiB - 1,
// each next one doubles, the last (from 4 GiB) is open.
constexpr int kBuckets = 19;
constexpr int kFirstBucketBits = 15;

int BucketOf(uint64_t mem) {
  int b = 0;
  while (b < kBuckets - 1 && mem >= (uint64_t{1} << (kFirstBucketBits + b))) ++b;
  return b;
}

// The peak slots (see ClientMemory): the second's low 16 bits over a 48-bit size.
using PeakSlots = std::array<std::atomic<uint64_t>, ClientMemory::kPeakSlots>;
constexpr int kPeakValueBits = 48;
constexpr uint64_t kPeakValueMask = (uint64_t{1} << kPeakValueBits) - 1;

void RaisePeak(PeakSlots& slots, int64_t second, uint64_t v) {
  std::atomic<uint64_t>& slot = slots[static_cast<size_t>(second % ClientMemory::kPeakSlots)];
  uint64_t tag = static_cast<uint64_t>(second) & 0xffff;
  uint64_t want = tag << kPeakValueBits | std::min(v, kPeakValueMask);
  uint64_t cur = slot.load(std::memory_order_relaxed);
  // Replace a slot of an older second; raise one of this second.
  while ((cur >> kPeakValueBits != tag || (cur & kPeakValueMask) < (want & kPeakValueMask)) &&
         !slot.compare_exchange_weak(cur, want, std::memory_order_relaxed)) {
  }
}

uint64_t RecentPeak(const PeakSlots& slots, int64_t second) {
  uint64_t m = 0;
  for (const auto& slot : slots) {
    uint64_t v = slot.load(std::memory_order_relaxed);
    uint64_t age = (static_cast<uint64_t>(second) - (v >> kPeakValueBits)) & 0xffff;
    if (age < ClientMemory::kPeakSlots) m = std::max(m, v & kPeakValueMask);
  }
  return m;
}

bool Evictable(const Client& c) {
  uint32_t flags = c.flags.load(std::memory_order_relaxed);
  return (flags & (kClientNoEvict | kClientMonitor | kClientCloseAsap)) == 0;
}

struct Candidate {
  uint64_t mem;
  uint64_t id;
  std::weak_ptr<ClientHandle> handle;
  std::string line;  // CLIENT LIST's line, for the log
};

// One pass. REQUIRES: pass_mu held.
void EvictLocked(ServerState& s, uint64_t limit) {
  ClientMemory& mem = s.client_memory;
  uint64_t total = mem.total.load(std::memory_order_relaxed);
  if (total < limit) return;
  // Clients already being closed free their memory soon: a pass does not take more victims for
  // memory that is on its way out (Redis frees a victim at once; Keel closes it on its thread).
  std::vector<Candidate> candidates;
  uint64_t closing = 0;
  s.clients.ForEach([&](Client& c) {
    uint64_t m = c.tot_mem.load(std::memory_order_relaxed);
    if (c.flags.load(std::memory_order_relaxed) & kClientCloseAsap) {
      closing += m;
    } else if (Evictable(c)) {
      candidates.push_back({m, c.id, c.handle, {}});
    }
  });
  uint64_t live = total > closing ? total - closing : 0;
  if (live < limit) return;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.mem > b.mem; });
  for (Candidate& v : candidates) {
    if (live < limit) return;
    std::shared_ptr<Client> c = s.clients.Find(v.id);
    auto handle = v.handle.lock();
    if (c == nullptr || handle == nullptr) continue;  // gone meanwhile
    if (c->flags.fetch_or(kClientCloseAsap) & kClientCloseAsap) continue;
    KEEL_LOG_NOTICE("Evicting client: {}", ClientInfoLine(s, *c));
    handle->Kill();
    s.stats.evicted_clients.fetch_add(1, std::memory_order_relaxed);
    live -= std::min(live, v.mem);
  }
  if (live >= limit) {
    KEEL_LOG_WARNING("Over client maxmemory after evicting all evictable clients");
  }
}

}  // namespace

void ApplyConfig(const Config& config, ClientMemory* mem) {
  std::vector<std::pair<std::string, std::string>> got;
  std::string_view name = "maxmemory-clients";
  config.Get(std::span<const std::string_view>(&name, 1), &got);
  std::string v = got.empty() ? "0" : got[0].second;
  uint64_t limit = 0;
  if (!v.empty() && v.back() == '%') {
    // A percentage of maxmemory; with no maxmemory there is nothing to take it of: off.
    auto pct = ParseInt64(std::string_view(v).substr(0, v.size() - 1));
    if (pct && *pct > 0) {
      limit = static_cast<uint64_t>(static_cast<double>(config.maxmemory()) * *pct / 100);
    }
  } else if (auto bytes = ParseInt64(v); bytes && *bytes > 0) {
    limit = static_cast<uint64_t>(*bytes);
  }
  if (limit != 0) limit = std::max(limit, kMinLimit);
  mem->configured.store(v != "0", std::memory_order_relaxed);
  mem->limit.store(limit, std::memory_order_relaxed);
}

void Account(ServerState& s, uint64_t before, uint64_t after, uint64_t qbuf, uint64_t omem) {
  ClientMemory& mem = s.client_memory;
  int64_t second = NowUnixMsCoarse() / 1000;
  RaisePeak(mem.peak_input, second, qbuf);
  RaisePeak(mem.peak_output, second, omem);
  if (after == before) return;
  if (after < before) {
    mem.total.fetch_sub(before - after, std::memory_order_relaxed);
    return;
  }
  uint64_t total = mem.total.fetch_add(after - before, std::memory_order_relaxed) + after - before;
  uint64_t limit = mem.limit.load(std::memory_order_relaxed);
  if (limit == 0 || total < limit) return;
  int64_t now = NowMonotonicUs();
  if (now - mem.last_pass_us.load(std::memory_order_relaxed) < kMinPassIntervalUs) return;
  EvictIfNeeded(s);
}

void EvictIfNeeded(ServerState& s) {
  ClientMemory& mem = s.client_memory;
  uint64_t limit = mem.limit.load(std::memory_order_relaxed);
  if (limit == 0 || mem.total.load(std::memory_order_relaxed) < limit) return;
  std::unique_lock<std::mutex> lock(mem.pass_mu, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is at it
  mem.last_pass_us.store(NowMonotonicUs(), std::memory_order_relaxed);
  EvictLocked(s, limit);
}

void Cron(ServerState& s) { EvictIfNeeded(s); }

uint64_t RecentMaxInput(const ClientMemory& mem) {
  return RecentPeak(mem.peak_input, NowUnixMsCoarse() / 1000);
}

uint64_t RecentMaxOutput(const ClientMemory& mem) {
  return RecentPeak(mem.peak_output, NowUnixMsCoarse() / 1000);
}

std::string DebugReport(ServerState& s) {
  uint64_t totals[kBuckets] = {};
  uint64_t counts[kBuckets] = {};
  s.clients.ForEach([&](Client& c) {
    if (!Evictable(c)) return;
    uint64_t m = c.tot_mem.load(std::memory_order_relaxed);
    int b = BucketOf(m);
    totals[b] += m;
    ++counts[b];
  });
  std::string out;
  for (int b = 0; b < kBuckets; ++b) {
    uint64_t lo = b == 0 ? 0 : uint64_t{1} << (kFirstBucketBits + b - 1);
    if (b == kBuckets - 1) {
      out += fmt::format("bucket {:>10}+            : tot-mem: {:>10}, clients: {}\n", lo,
                         totals[b], counts[b]);
    } else {
      uint64_t hi = (uint64_t{1} << (kFirstBucketBits + b)) - 1;
      out += fmt::format("bucket {:>10} - {:>10}: tot-mem: {:>10}, clients: {}\n", lo, hi,
                         totals[b], counts[b]);
    }
  }
  return out;
}

}  // namespace keel::client_eviction
