// Publish/subscribe over real sockets: fan-out across io threads, ordering, slow subscribers.

#include <atomic>
#include <cstdio>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class PubsubTest : public ServerTest {
 protected:
  int64_t NumSub(redisContext* c, const std::string& channel) {
    auto r = HiredisCommand(c, {"PUBSUB", "NUMSUB", channel});
    return r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[1]->integer : -1;
  }
};

// Subscribers spread over all io threads (the acceptor assigns connections round robin), two
// publishers on other connections. Every subscriber gets all messages, each publisher's in order.
TEST_F(PubsubTest, HundredThousandMessagesReachSubscribersOnEveryThreadInOrder) {
  StartServer(ThreadedArgs(4));
  constexpr int kSubscribers = 8, kPublishers = 2, kPerPublisher = 50000;
  std::vector<RedisContextPtr> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(Client());
    ASSERT_NE(subs.back(), nullptr);
    auto r = HiredisCommand(subs.back().get(), {"SUBSCRIBE", "feed"});
    ASSERT_NE(r, nullptr);
  }
  auto admin = Client();
  ASSERT_EQ(NumSub(admin.get(), "feed"), kSubscribers);

  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < kSubscribers; ++i) {
    readers.emplace_back([&, i] {
      std::vector<int> next(kPublishers, 0);
      for (int n = 0; n < kPublishers * kPerPublisher; ++n) {
        auto m = HiredisGetReply(subs[i].get());
        if (!m || m->type != REDIS_REPLY_ARRAY || m->elements != 3) {
          ++errors;
          return;
        }
        std::string payload(m->element[2]->str, m->element[2]->len);
        int p = payload[0] - '0';
        int seq = std::stoi(payload.substr(2));
        if (p < 0 || p >= kPublishers || seq != next[p]) {
          ++errors;
          return;
        }
        ++next[p];
      }
    });
  }
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      auto c = Client();
      if (!c) return ++errors, void();
      for (int base = 0; base < kPerPublisher; base += 500) {
        for (int k = base; k < base + 500; ++k) {
          HiredisAppend(c.get(), {"PUBLISH", "feed", std::to_string(p) + ":" + std::to_string(k)});
        }
        for (int k = 0; k < 500; ++k) {
          auto r = HiredisGetReply(c.get());
          if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != kSubscribers) ++errors;
        }
      }
    });
  }
  for (auto& t : publishers) t.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
}

// A subscriber that never reads is disconnected once its pending output passes the pubsub hard
// limit (32 MiB by default), and everyone else is served. Checked by behaviour, not by the
// server's RSS (which depends on the allocator and the build): the disconnection comes before
// twice the limit was published, whatever the kernel's socket buffers hold, and the stalled
// connection then reads EOF after what was queued.
TEST_F(PubsubTest, StalledSubscriberIsDisconnectedByTheOutputBufferLimit) {
  StartServer();  // Redis's default limits: pubsub 32mb 8mb 60
  RespConnection stalled;
  ASSERT_TRUE(stalled.Connect(server_->port()));
  ASSERT_EQ(stalled.Call({"SUBSCRIBE", "firehose"}),
            "*3\r\n$9\r\nsubscribe\r\n$8\r\nfirehose\r\n:1\r\n");
  auto pub = Client();
  std::string big(64 * 1024, 'x');
  constexpr int kTwiceTheLimit = 2 * 32 * 1024 / 64;  // messages of 64 KiB in 64 MiB
  int64_t receivers = 1;
  int published = 0;
  for (; published < 4 * kTwiceTheLimit && receivers > 0; ++published) {
    auto r = HiredisCommand(pub.get(), {"PUBLISH", "firehose", big});
    ASSERT_NE(r, nullptr);
    receivers = r->integer;
  }
  EXPECT_EQ(receivers, 0) << "the stalled subscriber was never disconnected";
  EXPECT_LE(published, kTwiceTheLimit) << "disconnected only after " << published << " messages";
  for (int i = 0; i < 500 && NumSub(pub.get(), "firehose") != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(NumSub(pub.get(), "firehose"), 0);
  std::string rest;
  EXPECT_TRUE(stalled.WaitForClose(seconds(30), &rest)) << "the stalled connection stays open";
  auto ping = HiredisCommand(pub.get(), {"PING"});
  EXPECT_EQ(DescribeReply(ping.get()), "status PONG");
}

// Past the soft limit for longer than its seconds, the subscriber is disconnected too.
TEST_F(PubsubTest, KeelOnlySoftLimitDisconnectsAfterItsSeconds) {
  if (TestingRedis()) GTEST_SKIP() << "timing of Redis's cron differs";
  StartServer({"--client-output-buffer-limit", "pubsub 0 256kb 1"});
  auto stalled = Client();
  ASSERT_NE(HiredisCommand(stalled.get(), {"SUBSCRIBE", "slow"}), nullptr);
  auto pub = Client();
  std::string big(64 * 1024, 'y');
  // The limit cannot be crossed before the first message goes out: the grace period is timed
  // from here (on a slow server the loop itself may outlast the grace period).
  auto first = std::chrono::steady_clock::now();
  // Well past 256 KiB, counting what the kernel buffers take.
  for (int i = 0; i < 100; ++i) HiredisCommand(pub.get(), {"PUBLISH", "slow", big});
  auto over = std::chrono::steady_clock::now();
  if (over - first < milliseconds(500)) {
    EXPECT_EQ(NumSub(pub.get(), "slow"), 1) << "the soft limit must allow its grace period";
  }
  // Then it goes, once its second has passed (a generous deadline, no fixed pause).
  auto deadline = over + seconds(30);
  while (NumSub(pub.get(), "slow") != 0 && std::chrono::steady_clock::now() < deadline) {
    HiredisCommand(pub.get(), {"PUBLISH", "slow", big});
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(NumSub(pub.get(), "slow"), 0);
  // Not before the grace period: a lower bound, which a slow machine cannot break.
  EXPECT_GE(std::chrono::steady_clock::now() - first, milliseconds(900));
}

TEST_F(PubsubTest, PatternSubscribersGetPmessages) {
  StartServer();
  auto sub = Client();
  auto r = HiredisCommand(sub.get(), {"PSUBSCRIBE", "news.*"});
  ASSERT_NE(r, nullptr);
  auto pub = Client();
  auto n = HiredisCommand(pub.get(), {"PUBLISH", "news.tech", "hello"});
  EXPECT_EQ(n->integer, 1);
  auto m = HiredisGetReply(sub.get());
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->elements, 4u);
  EXPECT_EQ(std::string(m->element[0]->str), "pmessage");
  EXPECT_EQ(std::string(m->element[1]->str), "news.*");
  EXPECT_EQ(std::string(m->element[2]->str), "news.tech");
  EXPECT_EQ(std::string(m->element[3]->str), "hello");
}

}  // namespace
}  // namespace keel::test
