#include "keel/commands/client_eviction.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/client.h"
#include "keel/commands/server_state.h"
#include "keel/config/config.h"

namespace keel {
namespace {

uint64_t LimitFor(const std::string& conf) {
  Config config;
  EXPECT_TRUE(config.LoadFromString(conf, "test").ok()) << conf;
  ClientMemory mem;
  client_eviction::ApplyConfig(config, &mem);
  return mem.limit.load();
}

// Bytes as given, a percentage of maxmemory, Redis's 128 KiB floor, and off for 0 or for a
// percentage without maxmemory.
TEST(ClientEvictionLimit, BytesPercentFloorAndOff) {
  EXPECT_EQ(LimitFor("maxmemory-clients 10mb\n"), 10u << 20);
  EXPECT_EQ(LimitFor("maxmemory 100mb\nmaxmemory-clients 10%\n"), 10u << 20);
  EXPECT_EQ(LimitFor("maxmemory 1mb\nmaxmemory-clients 1%\n"), client_eviction::kMinLimit);
  EXPECT_EQ(LimitFor("maxmemory-clients 1000\n"), client_eviction::kMinLimit);
  EXPECT_EQ(LimitFor("maxmemory-clients 0\n"), 0u);
  EXPECT_EQ(LimitFor("maxmemory-clients 5%\n"), 0u);
}

// A connection's change moves the total; the recent peaks keep the largest buffers seen.
TEST(ClientEvictionAccount, TotalFollowsChangesAndPeaksKeepTheLargest) {
  ServerState s;
  client_eviction::Account(s, 0, 1536, 0, 0);
  client_eviction::Account(s, 1536, 600000, 500000, 7000);
  client_eviction::Account(s, 600000, 2000, 300, 100);
  EXPECT_EQ(s.client_memory.total.load(), 2000u);
  EXPECT_EQ(client_eviction::RecentMaxInput(s.client_memory), 500000u);
  EXPECT_EQ(client_eviction::RecentMaxOutput(s.client_memory), 7000u);
}

// Records the kills the evictor asks for.
class FakeHandle : public ClientHandle {
 public:
  explicit FakeHandle(std::vector<uint64_t>* killed, uint64_t id) : killed_(killed), id_(id) {}
  void Kill() override { killed_->push_back(id_); }
  void Deliver(std::string) override {}
  void Post(std::function<void()>) override {}
  void StartBlockTimeout(int64_t, std::function<void()>) override {}
  void Unblock(std::string_view) override {}

 private:
  std::vector<uint64_t>* killed_;
  uint64_t id_;
};

class ClientEvictionPass : public ::testing::Test {
 protected:
  void Add(uint64_t id, uint64_t mem, uint32_t flags = 0) {
    auto c = std::make_shared<Client>();
    c->id = id;
    c->tot_mem = mem;
    c->flags = flags;
    auto h = std::make_shared<FakeHandle>(&killed_, id);
    handles_.push_back(h);
    c->handle = h;
    state_.clients.Add(c);
    state_.client_memory.total += mem;
  }
  ServerState state_;
  std::vector<std::shared_ptr<FakeHandle>> handles_;
  std::vector<uint64_t> killed_;
};

// Largest first, only until the rest is under the limit; NO-EVICT and MONITOR clients stay.
TEST_F(ClientEvictionPass, EvictsTheLargestUntilUnderTheLimit) {
  Add(1, 100000);
  Add(2, 900000, kClientNoEvict);
  Add(3, 700000);
  Add(4, 500000);
  Add(5, 800000, kClientMonitor);
  Add(6, 20000);
  state_.client_memory.limit = 2500000;  // total 3020000
  client_eviction::EvictIfNeeded(state_);
  EXPECT_EQ(killed_, (std::vector<uint64_t>{3}));
  EXPECT_EQ(state_.stats.evicted_clients.load(), 1u);
  // A second pass before the victim's close ran: its memory counts as gone, nothing more goes.
  client_eviction::EvictIfNeeded(state_);
  EXPECT_EQ(killed_, (std::vector<uint64_t>{3}));
  // A lower limit takes the next largest ones; what cannot be evicted is left.
  state_.client_memory.limit = 1000000;
  client_eviction::EvictIfNeeded(state_);
  EXPECT_EQ(killed_, (std::vector<uint64_t>{3, 4, 1, 6}));
  EXPECT_EQ(state_.stats.evicted_clients.load(), 4u);
}

TEST_F(ClientEvictionPass, NothingUnderTheLimitOrWhenOff) {
  Add(1, 100000);
  state_.client_memory.limit = 0;
  client_eviction::EvictIfNeeded(state_);
  state_.client_memory.limit = 100001;
  client_eviction::EvictIfNeeded(state_);
  EXPECT_TRUE(killed_.empty());
  state_.client_memory.limit = 100000;  // reaching the limit is enough, as in Redis
  client_eviction::EvictIfNeeded(state_);
  EXPECT_EQ(killed_, (std::vector<uint64_t>{1}));
}

// Redis's 19 buckets, 32 KiB doubling, the last open; only evictable clients are listed.
TEST_F(ClientEvictionPass, DebugReportBuckets) {
  Add(1, 32767);
  Add(2, 32768);
  Add(3, 5000000);
  Add(4, 6000000);
  Add(5, 5000000, kClientNoEvict);
  std::string report = client_eviction::DebugReport(state_);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 19);
  const std::string head =
      "bucket          0 -      32767: tot-mem:      32767, clients: 1\n"
      "bucket      32768 -      65535: tot-mem:      32768, clients: 1\n"
      "bucket      65536 -     131071: tot-mem:          0, clients: 0\n";
  EXPECT_EQ(report.substr(0, head.size()), head);
  EXPECT_NE(report.find("bucket    4194304 -    8388607: tot-mem:   11000000, clients: 2\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("\nbucket 4294967296+            : tot-mem:          0, clients: 0\n"),
            std::string::npos)
      << report;
}

}  // namespace
}  // namespace keel
