// Lists over real sockets: blocking pops across io threads, disconnects, CLIENT UNBLOCK.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class ListsTest : public ThreadedServerTest {
 protected:
  // Waits until INFO reports `n` blocked clients (or fails after 10 s).
  void WaitBlocked(redisContext* c, int n) {
    std::string want = "blocked_clients:" + std::to_string(n) + "\r\n";
    for (int i = 0; i < 1000; ++i) {
      auto r = HiredisCommand(c, {"INFO", "clients"});
      if (r && r->type == REDIS_REPLY_STRING &&
          std::string(r->str, r->len).find(want) != std::string::npos)
        return;
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "never saw " << want;
  }
};

// 100 waiters on 10 keys, spread over the io threads by the acceptor's round robin; pushers on
// other connections. Every element must reach exactly one waiter, and per key the waiters that
// blocked first are served first with the elements in push order.
TEST_F(ListsTest, HundredWaitersOnTenKeysGetEveryElementExactlyOnceInOrder) {
  constexpr int kKeys = 10, kPerKey = 10;
  auto admin = Client();
  ASSERT_NE(admin, nullptr);
  std::mutex mu;
  std::map<std::string, std::vector<std::pair<int, std::string>>> got;  // key -> (waiter, value)
  std::vector<std::thread> waiters;
  std::atomic<int> errors{0};
  for (int k = 0; k < kKeys; ++k) {
    for (int w = 0; w < kPerKey; ++w) {
      // Block one waiter at a time per key, so the blocking order is known.
      auto c = Client();
      ASSERT_NE(c, nullptr);
      std::string key = "q" + std::to_string(k);
      ASSERT_TRUE(HiredisAppend(c.get(), {"BLPOP", key, "30"}));
      int done = 0;
      ASSERT_EQ(redisBufferWrite(c.get(), &done), REDIS_OK);
      WaitBlocked(admin.get(), k * kPerKey + w + 1);
      int id = w;
      waiters.emplace_back([&, c = std::move(c), key, id]() mutable {
        auto r = HiredisGetReply(c.get());
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
          ++errors;
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        got[std::string(r->element[0]->str, r->element[0]->len)].emplace_back(
            id, std::string(r->element[1]->str, r->element[1]->len));
      });
    }
  }
  // Push from several connections (on different io threads), one element per push, in order.
  std::vector<std::thread> pushers;
  for (int k = 0; k < kKeys; ++k) {
    pushers.emplace_back([&, k] {
      auto c = Client();
      if (!c) return;
      for (int i = 0; i < kPerKey; ++i) {
        auto r =
            HiredisCommand(c.get(), {"RPUSH", "q" + std::to_string(k), "v" + std::to_string(i)});
        if (!r || r->type != REDIS_REPLY_INTEGER) ++errors;
      }
    });
  }
  for (auto& t : pushers) t.join();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(got.size(), static_cast<size_t>(kKeys));
  for (auto& [key, list] : got) {
    ASSERT_EQ(list.size(), static_cast<size_t>(kPerKey)) << key;
    std::set<std::string> values;
    for (auto& [id, v] : list) values.insert(v);
    EXPECT_EQ(values.size(), static_cast<size_t>(kPerKey)) << key << ": an element went twice";
    // Waiter i (the i-th to block on this key) gets element i.
    for (auto& [id, v] : list) EXPECT_EQ(v, "v" + std::to_string(id)) << key;
  }
  auto dbsize = HiredisCommand(admin.get(), {"DBSIZE"});
  ASSERT_NE(dbsize, nullptr);
  EXPECT_EQ(dbsize->integer, 0) << "lists should be emptied and removed";
  WaitBlocked(admin.get(), 0);
}

TEST_F(ListsTest, ClientBlockedOnSeveralKeysIsServedOnce) {
  auto waiter = Client();
  auto pusher = Client();
  ASSERT_TRUE(HiredisAppend(waiter.get(), {"BLPOP", "a", "b", "c", "10"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(waiter.get(), &done), REDIS_OK);
  WaitBlocked(pusher.get(), 1);
  // Push to all three keys back to back in one pipeline.
  ASSERT_TRUE(HiredisAppend(pusher.get(), {"RPUSH", "b", "1"}));
  ASSERT_TRUE(HiredisAppend(pusher.get(), {"RPUSH", "c", "2"}));
  ASSERT_TRUE(HiredisAppend(pusher.get(), {"RPUSH", "a", "3"}));
  for (int i = 0; i < 3; ++i) ASSERT_NE(HiredisGetReply(pusher.get()), nullptr);
  auto got = HiredisGetReply(waiter.get());
  ASSERT_NE(got, nullptr);
  ASSERT_EQ(got->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(std::string(got->element[0]->str), "b");
  EXPECT_EQ(std::string(got->element[1]->str), "1");
  // The other two elements stay where they were pushed.
  auto c = HiredisCommand(pusher.get(), {"LLEN", "c"});
  auto a = HiredisCommand(pusher.get(), {"LLEN", "a"});
  EXPECT_EQ(c->integer, 1);
  EXPECT_EQ(a->integer, 1);
}

TEST_F(ListsTest, DisconnectedWaiterIsForgotten) {
  auto admin = Client();
  {
    auto gone = Client();
    ASSERT_TRUE(HiredisAppend(gone.get(), {"BLPOP", "k", "0"}));
    int done = 0;
    ASSERT_EQ(redisBufferWrite(gone.get(), &done), REDIS_OK);
    WaitBlocked(admin.get(), 1);
  }  // closes the connection
  WaitBlocked(admin.get(), 0);
  auto stay = Client();
  ASSERT_TRUE(HiredisAppend(stay.get(), {"BLPOP", "k", "0"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(stay.get(), &done), REDIS_OK);
  WaitBlocked(admin.get(), 1);
  HiredisCommand(admin.get(), {"RPUSH", "k", "x"});
  auto r = HiredisGetReply(stay.get());
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(std::string(r->element[1]->str), "x");
  auto len = HiredisCommand(admin.get(), {"EXISTS", "k"});
  EXPECT_EQ(len->integer, 0);
}

TEST_F(ListsTest, TimeoutsAndClientUnblock) {
  auto c = Client();
  auto admin = Client();
  auto start = std::chrono::steady_clock::now();
  auto r = HiredisCommand(c.get(), {"BLPOP", "none", "0.2"});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, REDIS_REPLY_NIL);
  // Not early; how late depends on the machine (a timeout that never fires hangs the test,
  // which ctest's TIMEOUT reports).
  EXPECT_GE(took, milliseconds(190));

  auto id = HiredisCommand(c.get(), {"CLIENT", "ID"});
  std::string cid = std::to_string(id->integer);
  ASSERT_TRUE(HiredisAppend(c.get(), {"BLMOVE", "none", "dst", "LEFT", "RIGHT", "0"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(c.get(), &done), REDIS_OK);
  WaitBlocked(admin.get(), 1);
  auto u = HiredisCommand(admin.get(), {"CLIENT", "UNBLOCK", cid, "ERROR"});
  EXPECT_EQ(u->integer, 1);
  r = HiredisGetReply(c.get());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(DescribeReply(r.get()), "error UNBLOCKED client unblocked via CLIENT UNBLOCK");
  u = HiredisCommand(admin.get(), {"CLIENT", "UNBLOCK", cid});
  EXPECT_EQ(u->integer, 0);
  // The connection goes on serving commands afterwards.
  r = HiredisCommand(c.get(), {"PING"});
  EXPECT_EQ(DescribeReply(r.get()), "status PONG");
}

TEST_F(ListsTest, BlmoveFromAListToItselfRotates) {
  auto c = Client();
  auto admin = Client();
  ASSERT_TRUE(HiredisAppend(c.get(), {"BLMOVE", "ring", "ring", "LEFT", "RIGHT", "5"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(c.get(), &done), REDIS_OK);
  WaitBlocked(admin.get(), 1);
  HiredisCommand(admin.get(), {"RPUSH", "ring", "only"});
  auto r = HiredisGetReply(c.get());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(DescribeReply(r.get()), "string \"only\"");
  auto range = HiredisCommand(admin.get(), {"LRANGE", "ring", "0", "-1"});
  ASSERT_EQ(range->elements, 1u);
  EXPECT_EQ(std::string(range->element[0]->str), "only");
}

// Commands pipelined behind a blocking one wait for it, then run in order.
TEST_F(ListsTest, PipelinedCommandsAfterABlockedOneRunAfterIt) {
  auto c = Client();
  auto admin = Client();
  ASSERT_TRUE(HiredisAppend(c.get(), {"BRPOP", "p", "5"}));
  ASSERT_TRUE(HiredisAppend(c.get(), {"ECHO", "after"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(c.get(), &done), REDIS_OK);
  WaitBlocked(admin.get(), 1);
  HiredisCommand(admin.get(), {"LPUSH", "p", "x"});
  auto r1 = HiredisGetReply(c.get());
  auto r2 = HiredisGetReply(c.get());
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r1->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(DescribeReply(r2.get()), "string \"after\"");
}

}  // namespace
}  // namespace keel::test
