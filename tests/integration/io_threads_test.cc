// Which io threads serve the connections (Keel only: Redis serves every client on its main
// thread). A light load stays on one thread; io-threads-serving pins the count; connections move
// between threads while they are idle between commands, and a move must never lose, reorder or
// duplicate a byte, nor forget a client's state (database, name, subscriptions).

#include <atomic>
#include <optional>
#include <sstream>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IoThreadsServingKeelOnlyTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (TestingRedis()) GTEST_SKIP() << "Keel's io thread balancing";
  }

  // The value of field `name` in INFO `section`, if the reply has it.
  std::optional<std::string> InfoField(redisContext* ctx, const std::string& section,
                                       const std::string& name) {
    auto r = Run(ctx, {"INFO", section});
    if (r == nullptr || r->type != REDIS_REPLY_STRING) return std::nullopt;
    std::string info(r->str, r->len);
    std::string key = name + ":";
    size_t at = info.find(key);
    if (at == std::string::npos) return std::nullopt;
    at += key.size();
    return info.substr(at, info.find("\r\n", at) - at);
  }

  // INFO server's keel_io_thread_clients: connections per io thread.
  std::vector<int64_t> ClientsPerThread(redisContext* ctx) {
    std::vector<int64_t> counts;
    auto field = InfoField(ctx, "server", "keel_io_thread_clients");
    if (!field) return counts;
    std::istringstream in(*field);
    std::string item;
    while (std::getline(in, item, ',')) counts.push_back(std::stoll(item));
    return counts;
  }

  // Polls until pred(counts) holds, up to `limit`.
  template <typename Pred>
  bool WaitForCounts(redisContext* ctx, Pred pred, std::vector<int64_t>* last,
                     seconds limit = seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      *last = ClientsPerThread(ctx);
      if (pred(*last)) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  static std::string Show(const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + " ";
    return s;
  }
};

TEST_F(IoThreadsServingKeelOnlyTest, LightLoadStaysOnOneThreadUntilPinnedThenSpreadsAndComesBack) {
  StartServer({"--io-threads", "4"});
  auto admin = Client();
  std::vector<RedisContextPtr> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(Client());
  // Connected clients register on their thread a moment after connect() returns.
  std::vector<int64_t> counts;
  EXPECT_TRUE(WaitForCounts(
      admin.get(),
      [](const std::vector<int64_t>& c) {
        return c.size() == 4 && c[0] + c[1] + c[2] + c[3] == 21;
      },
      &counts))
      << Show(counts);
  EXPECT_EQ(counts[0], 21) << Show(counts);

  auto ok = Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", "4"});
  ASSERT_EQ(DescribeReply(ok.get()), "status OK");
  EXPECT_TRUE(WaitForCounts(
      admin.get(),
      [](const std::vector<int64_t>& c) {
        return c.size() == 4 && c[0] + c[1] + c[2] + c[3] == 21 && c[1] >= 4 && c[2] >= 4 &&
               c[3] >= 4;
      },
      &counts))
      << Show(counts);
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = Run(clients[i].get(), {"ECHO", "after-spread-" + std::to_string(i)});
    EXPECT_EQ(DescribeReply(r.get()), "string \"after-spread-" + std::to_string(i) + "\"");
  }

  // Automatic again: an idle server needs one thread, and steps down to it.
  Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", "0"});
  EXPECT_TRUE(WaitForCounts(
      admin.get(), [](const std::vector<int64_t>& c) { return c.size() == 4 && c[0] == 21; },
      &counts))
      << Show(counts);
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = Run(clients[i].get(), {"ECHO", "after-return-" + std::to_string(i)});
    EXPECT_EQ(DescribeReply(r.get()), "string \"after-return-" + std::to_string(i) + "\"");
  }
}

// Clients on two threads that all read one long list take turns on its shard lock: a second
// thread adds waiting, not work. Once the count is automatic again, the balancer sees the threads
// waiting for each other (INFO's keel_shard_lock_wait_usec) and brings every client back to one
// thread, although that thread is busy and a core is free.
TEST_F(IoThreadsServingKeelOnlyTest, ThreadsTakingTurnsOnOneHotKeyStepBackToOne) {
  StartServer({"--io-threads", "2", "--io-threads-serving", "2"});
  auto admin = Client();
  for (int base = 0; base < 60000; base += 1000) {
    std::vector<std::string> push = {"RPUSH", "hot"};
    for (int i = base; i < base + 1000; ++i) push.push_back(std::to_string(i));
    ASSERT_EQ(DescribeReply(Run(admin.get(), push).get()),
              "integer " + std::to_string(base + 1000));
  }
  const int kWorkers = 8;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&] {
      auto c = HiredisConnect(server_->port(), seconds(60));
      if (c == nullptr) {
        ++failures;
        return;
      }
      while (!stop.load()) {
        // A scan of the whole list per command, so the lock is held long enough to be waited on.
        for (int i = 0; i < 4; ++i) HiredisAppend(c.get(), {"LPOS", "hot", "59999"});
        for (int i = 0; i < 4; ++i) {
          if (DescribeReply(HiredisGetReply(c.get()).get()) != "integer 59999") ++failures;
        }
      }
    });
  }
  std::vector<int64_t> counts;
  EXPECT_TRUE(WaitForCounts(
      admin.get(),
      [](const std::vector<int64_t>& c) { return c.size() == 2 && c[0] >= 3 && c[1] >= 3; },
      &counts))
      << Show(counts);
  auto waited = [&] {
    return std::stoll(InfoField(admin.get(), "stats", "keel_shard_lock_wait_usec").value_or("-1"));
  };
  int64_t before = waited();
  EXPECT_GE(before, 0);
  Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", "0"});
  EXPECT_TRUE(WaitForCounts(
      admin.get(),
      [&](const std::vector<int64_t>& c) { return c.size() == 2 && c[0] == kWorkers + 1; },
      &counts))
      << Show(counts);
  EXPECT_GT(waited(), before);
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(IoThreadsServingKeelOnlyTest, MovesKeepEveryReplyInOrderAndEveryClientsState) {
  StartServer({"--io-threads", "3"});
  const int kWorkers = 6;
  const int kPipeline = 16;
  const int kFlips = 8;
  std::atomic<bool> stop{false};
  std::vector<int64_t> counted(kWorkers, 0);
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kWorkers + 2);

  // Workers: each its own database, name and counter, pipelining INCRs and checking every reply.
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      auto c = HiredisConnect(server_->port(), seconds(60));
      auto fail = [&](const std::string& what) {
        errors[w] = what;
        ++failures;
      };
      if (c == nullptr) return fail("connect");
      std::string db = std::to_string(w + 1);
      std::string name = "worker-" + std::to_string(w);
      if (DescribeReply(HiredisCommand(c.get(), {"SELECT", db}).get()) != "status OK" ||
          DescribeReply(HiredisCommand(c.get(), {"CLIENT", "SETNAME", name}).get()) !=
              "status OK") {
        return fail("setup");
      }
      int64_t& expect = counted[w];
      for (int b = 0; !stop.load() && failures.load() == 0; ++b) {
        for (int i = 0; i < kPipeline; ++i) HiredisAppend(c.get(), {"INCR", "counter"});
        for (int i = 0; i < kPipeline; ++i) {
          auto r = HiredisGetReply(c.get());
          ++expect;
          if (r == nullptr || r->type != REDIS_REPLY_INTEGER || r->integer != expect) {
            return fail("batch " + std::to_string(b) + ": want integer " + std::to_string(expect) +
                        ", got " + DescribeReply(r.get()));
          }
        }
        if (b % 50 == 0) {
          auto n = HiredisCommand(c.get(), {"CLIENT", "GETNAME"});
          if (DescribeReply(n.get()) != "string \"" + name + "\"") {
            return fail("name: " + DescribeReply(n.get()));
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    });
  }

  // A subscriber that must see every message once and in order, and a BLPOP client served over
  // and over, both while they move.
  std::atomic<bool> subscribed{false};
  threads.emplace_back([&] {
    auto c = HiredisConnect(server_->port(), seconds(60));
    if (c == nullptr) {
      errors[kWorkers] = "connect";
      ++failures;
      return;
    }
    auto r = HiredisCommand(c.get(), {"SUBSCRIBE", "news"});
    subscribed = true;
    for (int i = 0;; ++i) {
      auto m = HiredisGetReply(c.get());
      std::string want = "m" + std::to_string(i);
      if (m != nullptr && m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
          std::string(m->element[2]->str, m->element[2]->len) == "end") {
        break;
      }
      if (m == nullptr || m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
          std::string(m->element[2]->str, m->element[2]->len) != want) {
        errors[kWorkers] = "message " + std::to_string(i) + ": got " + DescribeReply(m.get());
        ++failures;
        return;
      }
    }
  });
  threads.emplace_back([&] {
    auto c = HiredisConnect(server_->port(), seconds(60));
    auto pusher = HiredisConnect(server_->port(), seconds(60));
    auto pub = HiredisConnect(server_->port(), seconds(60));
    if (c == nullptr || pusher == nullptr || pub == nullptr) {
      errors[kWorkers + 1] = "connect";
      ++failures;
      return;
    }
    while (!subscribed.load()) std::this_thread::sleep_for(milliseconds(1));
    std::this_thread::sleep_for(milliseconds(50));
    int published = 0;
    for (int i = 0; !stop.load(); ++i) {
      // Bursts of pipelined messages, so some are always on their way while the subscriber
      // moves.
      for (int k = 0; k < 20; ++k) {
        HiredisAppend(pub.get(), {"PUBLISH", "news", "m" + std::to_string(published++)});
      }
      for (int k = 0; k < 20; ++k) HiredisGetReply(pub.get());
      if (i % 3 == 0) {
        HiredisAppend(c.get(), {"BLPOP", "jobs", "10"});
        HiredisCommand(pusher.get(), {"RPUSH", "jobs", "j" + std::to_string(i)});
        auto r = HiredisGetReply(c.get());
        if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            std::string(r->element[1]->str, r->element[1]->len) != "j" + std::to_string(i)) {
          errors[kWorkers + 1] = "job " + std::to_string(i) + ": got " + DescribeReply(r.get());
          ++failures;
          return;
        }
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    HiredisCommand(pub.get(), {"PUBLISH", "news", "end"});
  });

  // Meanwhile the serving count flips between 1 and 3, so the connections keep moving.
  auto admin = Client();
  for (int flip = 0; flip < kFlips; ++flip) {
    Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", flip % 2 == 0 ? "3" : "1"});
    std::this_thread::sleep_for(milliseconds(700));
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& e : errors) {
    if (!e.empty()) ADD_FAILURE() << e;
  }
  // Every counter holds exactly what its worker counted, in its own database.
  auto check = Client();
  for (int w = 0; w < kWorkers && failures.load() == 0; ++w) {
    Run(check.get(), {"SELECT", std::to_string(w + 1)});
    auto r = Run(check.get(), {"GET", "counter"});
    EXPECT_EQ(DescribeReply(r.get()), "string \"" + std::to_string(counted[w]) + "\"");
    EXPECT_GT(counted[w], 0);
  }
  // And the connections did move, many times over.
  auto moves = InfoField(check.get(), "stats", "keel_io_thread_moves");
  ASSERT_TRUE(moves.has_value());
  EXPECT_GE(std::stoll(*moves), 2 * (kWorkers + 4)) << *moves;
}

TEST_F(IoThreadsServingKeelOnlyTest, HalfSentCommandsTransactionsAndWatchesSurviveMoves) {
  StartServer({"--io-threads", "2", "--io-threads-serving", "1"});
  // The connections under test connect first: a move takes the first idle connections of a
  // thread's list, and ten idle ones behind them make the shares uneven enough to move.
  RespConnection half = Connect();
  RespConnection tx = Connect();
  RespConnection watcher = Connect();
  std::vector<RespConnection> idle;
  for (int i = 0; i < 10; ++i) idle.push_back(Connect());
  auto admin = Client();
  std::vector<int64_t> counts;
  ASSERT_TRUE(WaitForCounts(
      admin.get(),
      [](const std::vector<int64_t>& c) { return c.size() == 2 && c[0] == 14 && c[1] == 0; },
      &counts))
      << Show(counts);

  // A command cut in the middle of a bulk, a transaction with a queued command, a watched key.
  ASSERT_TRUE(half.Send("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$5\r\nhel"));
  EXPECT_EQ(tx.Call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(tx.Call({"SET", "tx", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(watcher.Call({"WATCH", "w"}), "+OK\r\n");

  // Spread: the first seven connections of thread 0 go to thread 1 (shares of 7).
  Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", "2"});
  ASSERT_TRUE(WaitForCounts(
      admin.get(), [](const std::vector<int64_t>& c) { return c.size() == 2 && c[1] >= 6; },
      &counts))
      << Show(counts);
  Run(admin.get(), {"SET", "w", "changed"});  // from thread 0, while the watcher is on 1
  // And back: everything on thread 0 again.
  Run(admin.get(), {"CONFIG", "SET", "io-threads-serving", "1"});
  ASSERT_TRUE(WaitForCounts(
      admin.get(), [](const std::vector<int64_t>& c) { return c.size() == 2 && c[1] == 0; },
      &counts))
      << Show(counts);

  ASSERT_TRUE(half.Send("lo\r\n"));
  std::string reply;
  ASSERT_TRUE(half.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(half.Call({"GET", "half"}), "$5\r\nhello\r\n");
  EXPECT_EQ(tx.Call({"SET", "tx", "2"}), "+QUEUED\r\n");
  EXPECT_EQ(tx.Call({"EXEC"}), "*2\r\n+OK\r\n+OK\r\n");
  EXPECT_EQ(tx.Call({"GET", "tx"}), "$1\r\n2\r\n");
  EXPECT_EQ(watcher.Call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(watcher.Call({"SET", "w", "mine"}), "+QUEUED\r\n");
  EXPECT_EQ(watcher.Call({"EXEC"}), "*-1\r\n");  // the key changed after WATCH
  for (auto& c : idle) EXPECT_EQ(c.Call({"PING"}), "+PONG\r\n");

  auto moves = InfoField(admin.get(), "stats", "keel_io_thread_moves");
  ASSERT_TRUE(moves.has_value());
  EXPECT_GE(std::stoll(*moves), 12) << *moves;
}

}  // namespace
}  // namespace keel::test
