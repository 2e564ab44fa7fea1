// maxmemory and eviction, policy by policy, against a real server. Limits are set relative to
// the used_memory the server reports after loading, so the same expectations hold on Redis
// (tests/run-all.sh runs them there too).

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class EvictionTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer(ThreadedArgs(2));
    c_ = Client();
    ASSERT_NE(c_, nullptr);
  }

  std::string Ok(const std::vector<std::string>& args) {
    auto r = Run(c_.get(), args);
    return DescribeReply(r.get());
  }

  // An integer field of INFO.
  int64_t Info(const std::string& section, const std::string& field) {
    auto r = Run(c_.get(), {"INFO", section});
    if (!r || r->type != REDIS_REPLY_STRING) return -1;
    std::string text(r->str, r->len);
    size_t at = text.find("\r\n" + field + ":");
    if (at == std::string::npos) return -1;
    return std::stoll(text.substr(at + field.size() + 3));
  }

  // Writes keys prefix0..prefix(n-1) with `size`-byte values (and a TTL of ttl_base + i seconds
  // when ttl_base > 0), pipelined.
  void Fill(const std::string& prefix, int n, size_t size, int64_t ttl_base = 0) {
    std::string value(size, 'v');
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> args = {"SET", prefix + std::to_string(i), value};
      if (ttl_base > 0) {
        args.push_back("EX");
        args.push_back(std::to_string(ttl_base + i));
      }
      ASSERT_TRUE(HiredisAppend(c_.get(), args));
    }
    for (int i = 0; i < n; ++i) {
      auto r = HiredisGetReply(c_.get());
      ASSERT_NE(r, nullptr);
      ASSERT_EQ(DescribeReply(r.get()), "status OK");
    }
  }

  int Existing(const std::string& prefix, int from, int to) {
    int n = 0;
    for (int i = from; i < to; ++i) {
      auto r = Run(c_.get(), {"EXISTS", prefix + std::to_string(i)});
      if (r && r->type == REDIS_REPLY_INTEGER) n += static_cast<int>(r->integer);
    }
    return n;
  }

  // Sets maxmemory to the memory in use now less `below` bytes. Values evicted before are freed
  // in the background when lazyfree-lazy-eviction is on (Keel's default): used_memory counts them
  // until then, so it is read once none is pending (a slow build may still be freeing them).
  void LimitBelowUsage(int64_t below) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Info("memory", "lazyfree_pending_objects") > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_EQ(Info("memory", "lazyfree_pending_objects"), 0);
    int64_t used = Info("memory", "used_memory");
    ASSERT_GT(used, below);
    ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", std::to_string(used - below)}), "status OK");
  }

  // Waits until used_memory is within maxmemory (eviction is worked off in the background too),
  // give or take kSlack: eviction stops as soon as memory is under the limit, and the INFO that
  // reads it allocates its own reply (Redis), or the reading runs ahead of the per-thread
  // counters eviction goes by (Keel: 64 KiB per thread, keel/common/memory.h).
  static constexpr int64_t kSlack = 256 * 1024;
  bool WaitUnderLimit() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      Run(c_.get(), {"PING"});
      if (Info("memory", "used_memory") <= Info("memory", "maxmemory") + kSlack) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  RedisContextPtr c_;
};

TEST_F(EvictionTest, NoevictionRefusesDenyoomCommandsButServesReadsAndDeletes) {
  Fill("k", 100, 100);
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", "1"}), "status OK");
  const std::string oom = "error OOM command not allowed when used memory > 'maxmemory'.";
  EXPECT_EQ(Ok({"SET", "new", "v"}), oom);
  EXPECT_EQ(Ok({"RPUSH", "list", "a"}), oom);
  EXPECT_EQ(Ok({"GET", "k1"}), "string \"" + std::string(100, 'v') + "\"");
  EXPECT_EQ(Ok({"DEL", "k1"}), "integer 1");
  EXPECT_EQ(Info("stats", "evicted_keys"), 0);
  EXPECT_EQ(Ok({"DBSIZE"}), "integer 99");
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", "0"}), "status OK");
  EXPECT_EQ(Ok({"SET", "new", "v"}), "status OK");
}

// Each volatile policy evicts keys with a TTL only; once none is left, writes get OOM.
TEST_F(EvictionTest, VolatilePoliciesEvictOnlyKeysWithATtl) {
  for (std::string policy : {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    SCOPED_TRACE(policy);
    ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", "0"}), "status OK");
    ASSERT_EQ(Ok({"FLUSHALL"}), "status OK");
    ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-policy", policy}), "status OK");
    Fill("plain", 2000, 1000);
    Fill("ttl", 2000, 1000, 10000);
    LimitBelowUsage(1000 * 1000);
    ASSERT_TRUE(WaitUnderLimit());
    EXPECT_EQ(Existing("plain", 0, 2000), 2000);
    EXPECT_LT(Existing("ttl", 0, 2000), 2000);
    EXPECT_GT(Info("stats", "evicted_keys"), 0);
    // Below what the keys without a TTL need: everything with a TTL goes, then writes fail. (A
    // limit of 1 byte rather than usage less a few MB: the sanitizer builds count every byte the
    // process has allocated, and buffers given back between the reading and the writes moved
    // that figure by more than the TTL keys' share.)
    ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", "1"}), "status OK");
    // Each write evicts for at most maxmemory-eviction-tenacity's budget (500 us by default) and
    // is let through while keys with a TTL remain; under TSan that is a few keys per write, so
    // the loop runs until the first refusal or a deadline, not a fixed number of writes.
    std::string reply;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int i = 0; reply.rfind("error OOM", 0) != 0 && std::chrono::steady_clock::now() < deadline;
         ++i) {
      reply = Ok({"SET", "extra" + std::to_string(i), "x"});
    }
    EXPECT_EQ(reply, "error OOM command not allowed when used memory > 'maxmemory'.");
    EXPECT_EQ(Existing("ttl", 0, 2000), 0);
    EXPECT_EQ(Existing("plain", 0, 2000), 2000);
  }
}

// volatile-ttl evicts the keys that would expire soonest (approximately: by sampling).
TEST_F(EvictionTest, VolatileTtlEvictsTheNearestExpiryFirst) {
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"}), "status OK");
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-samples", "10"}), "status OK");
  Fill("t", 4000, 1000, 10000);
  LimitBelowUsage(1000 * 1000);
  ASSERT_TRUE(WaitUnderLimit());
  int nearest = Existing("t", 0, 1000);
  int farthest = Existing("t", 3000, 4000);
  EXPECT_LT(nearest, 1000);
  EXPECT_EQ(farthest, 1000);
  EXPECT_LT(nearest, 600) << "most of the nearest quarter should be gone";
}

// allkeys-lfu keeps keys that are read often while a stream of keys read once passes through.
TEST_F(EvictionTest, AllkeysLfuKeepsAHotSetAliveWhileColdKeysStreamThrough) {
  // Streaming writes at the limit need the per-thread counters of jemalloc; sanitizer builds use
  // their own allocator, whose count is read only at calibration, and answer OOM here (a known
  // gap, docs/performance.md). Release builds and Redis run it.
  if (Ok({"INFO", "memory"}).find("mem_allocator:libc") != std::string::npos) {
    GTEST_SKIP() << "server without jemalloc (sanitizer build)";
  }
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"}), "status OK");
  ASSERT_EQ(Ok({"CONFIG", "SET", "lfu-log-factor", "0"}), "status OK");
  Fill("hot", 200, 1000);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(HiredisAppend(c_.get(), {"GET", "hot" + std::to_string(i)}));
    }
    for (int i = 0; i < 200; ++i) ASSERT_NE(HiredisGetReply(c_.get()), nullptr);
  }
  // Room for about 2000 more values; 20000 cold ones stream through. The room holds only while
  // used_memory's error stays well under 2 MB (keel/common/memory.h: the exact per-thread sum;
  // the old published steps and calibration offset were off by 1.5 MB on a loaded machine,
  // which put the hot set itself at stake here).
  int64_t used = Info("memory", "used_memory");
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", std::to_string(used + 2000 * 1100)}), "status OK");
  for (int batch = 0; batch < 20; ++batch) Fill("cold" + std::to_string(batch) + ":", 1000, 1000);
  EXPECT_GT(Info("stats", "evicted_keys"), 10000);
  EXPECT_GE(Existing("hot", 0, 200), 190);
  ASSERT_EQ(Ok({"CONFIG", "SET", "lfu-log-factor", "10"}), "status OK");
}

// A limit set far below the memory in use is worked off without further writes, while the
// server keeps answering.
TEST_F(EvictionTest, MaxmemoryLoweredBelowUsageIsWorkedOff) {
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}), "status OK");
  Fill("k", 20000, 1000);
  int64_t used = Info("memory", "used_memory");
  int64_t baseline = used - 20000 * 1000;
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory", std::to_string(baseline + 10000 * 1000)}),
            "status OK");
  ASSERT_TRUE(WaitUnderLimit());
  auto r = Run(c_.get(), {"DBSIZE"});
  ASSERT_EQ(r->type, REDIS_REPLY_INTEGER);
  EXPECT_LT(r->integer, 15000);
  EXPECT_GT(r->integer, 2000);
  EXPECT_EQ(Ok({"SET", "after", "v"}), "status OK");
  EXPECT_GT(Info("stats", "total_eviction_exceeded_time"), -1);
}

// Evicted keys are announced as "evicted" keyspace events.
TEST_F(EvictionTest, EvictedKeysAreNotified) {
  ASSERT_EQ(Ok({"CONFIG", "SET", "notify-keyspace-events", "Ee"}), "status OK");
  auto sub = Client();
  ASSERT_NE(sub, nullptr);
  auto r = Run(sub.get(), {"SUBSCRIBE", "__keyevent@0__:evicted"});
  ASSERT_EQ(DescribeReply(r.get()), "array[3]");
  ASSERT_EQ(Ok({"CONFIG", "SET", "maxmemory-policy", "allkeys-random"}), "status OK");
  Fill("k", 2000, 1000);
  LimitBelowUsage(500 * 1000);
  ASSERT_TRUE(WaitUnderLimit());
  auto m = HiredisGetReply(sub.get());
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(m->elements, 3u);
  EXPECT_EQ(std::string(m->element[1]->str, m->element[1]->len), "__keyevent@0__:evicted");
  EXPECT_EQ(std::string(m->element[2]->str, 1), "k");
}

}  // namespace
}  // namespace keel::test
