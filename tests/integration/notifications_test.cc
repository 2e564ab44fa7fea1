// Keyspace notifications from expiry: keys nobody touches again are removed by the active expiry
// cycle alone, and each one is announced as "expired" on both channels.

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class NotificationsTest : public ServerTest {
 protected:
  RedisContextPtr Client(milliseconds timeout = std::chrono::seconds(10)) {
    std::string error;
    auto c = HiredisConnect(server_->port(), timeout, &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  // Reads one pub/sub message: {kind, pattern or "", channel, payload}; empty on timeout.
  static std::vector<std::string> NextMessage(redisContext* c) {
    auto m = HiredisGetReply(c);
    if (!m || m->type != REDIS_REPLY_ARRAY || m->elements < 3) return {};
    std::vector<std::string> out;
    for (size_t i = 0; i < m->elements; ++i) {
      out.emplace_back(m->element[i]->str ? std::string(m->element[i]->str, m->element[i]->len)
                                          : std::string());
    }
    if (out.size() == 3) out.insert(out.begin() + 1, std::string());
    return out;
  }
};

// 200 keys in two databases expire while no command touches them: every one of them is reported
// by the active cycle on __keyevent@<db>__:expired and on its __keyspace@<db>__:<key> channel,
// and the keys are gone.
TEST_F(NotificationsTest, ActiveExpiryAloneNotifiesEveryExpiredKey) {
  StartServer(ThreadedArgs(2));
  auto admin = Client();
  ASSERT_NE(admin, nullptr);
  auto r = HiredisCommand(admin.get(), {"CONFIG", "SET", "notify-keyspace-events", "KEx"});
  ASSERT_EQ(DescribeReply(r.get()), "status OK");

  auto sub = Client();
  ASSERT_NE(sub, nullptr);
  ASSERT_NE(HiredisCommand(sub.get(), {"PSUBSCRIBE", "__key*@*__:*"}), nullptr);

  constexpr int kPerDb = 100;
  std::set<std::string> want_events, want_spaces;
  for (int db : {0, 5}) {
    ASSERT_EQ(DescribeReply(HiredisCommand(admin.get(), {"SELECT", std::to_string(db)}).get()),
              "status OK");
    for (int i = 0; i < kPerDb; ++i) {
      std::string key = "vol:" + std::to_string(db) + ":" + std::to_string(i);
      HiredisAppend(admin.get(), {"SET", key, "v", "PX", "100"});
      std::string d = std::to_string(db);
      want_events.insert("__keyevent@" + d + "__:expired " + key);
      want_spaces.insert("__keyspace@" + d + "__:" + key + " expired");
    }
    // A key without a TTL: never reported.
    HiredisAppend(admin.get(), {"SET", "forever", "v"});
    for (int i = 0; i <= kPerDb; ++i) {
      auto ok = HiredisGetReply(admin.get());
      ASSERT_EQ(DescribeReply(ok.get()), "status OK");
    }
  }

  // Read until every event arrived (the subscriber's reads time out after 10 s each).
  std::set<std::string> got_events, got_spaces;
  while (got_events.size() + got_spaces.size() < want_events.size() + want_spaces.size()) {
    std::vector<std::string> m = NextMessage(sub.get());
    ASSERT_FALSE(m.empty()) << "timed out with " << got_events.size() << " keyevent and "
                            << got_spaces.size() << " keyspace messages";
    ASSERT_EQ(m[0], "pmessage");
    std::string line = m[2] + " " + m[3];
    if (m[2].rfind("__keyevent@", 0) == 0) {
      EXPECT_TRUE(got_events.insert(line).second) << "duplicate " << line;
    } else {
      EXPECT_TRUE(got_spaces.insert(line).second) << "duplicate " << line;
    }
  }
  EXPECT_EQ(got_events, want_events);
  EXPECT_EQ(got_spaces, want_spaces);

  // Nobody looked the keys up: they were deleted, not merely hidden.
  for (int db : {0, 5}) {
    HiredisCommand(admin.get(), {"SELECT", std::to_string(db)});
    EXPECT_EQ(DescribeReply(HiredisCommand(admin.get(), {"DBSIZE"}).get()), "integer 1");
  }
  auto info = HiredisCommand(admin.get(), {"INFO", "stats"});
  ASSERT_NE(info, nullptr);
  EXPECT_NE(std::string(info->str, info->len).find("expired_keys:200\r\n"), std::string::npos);
}

// With notify-keyspace-events empty (the default) expiry publishes nothing: the first message
// the subscriber sees is a marker published after the keys expired.
TEST_F(NotificationsTest, NothingIsPublishedWhenNotificationsAreOff) {
  StartServer();
  auto admin = Client();
  ASSERT_NE(admin, nullptr);
  auto sub = Client();
  ASSERT_NE(sub, nullptr);
  ASSERT_NE(HiredisCommand(sub.get(), {"PSUBSCRIBE", "__key*__:*", "marker"}), nullptr);
  ASSERT_NE(HiredisGetReply(sub.get()), nullptr);  // the second confirmation
  for (int i = 0; i < 20; ++i) {
    HiredisCommand(admin.get(), {"SET", "k" + std::to_string(i), "v", "PX", "20"});
  }
  HiredisCommand(admin.get(), {"LPUSH", "list", "a"});
  HiredisCommand(admin.get(), {"DEL", "list"});
  for (int i = 0; i < 100; ++i) {
    auto n = HiredisCommand(admin.get(), {"DBSIZE"});
    if (n && n->integer == 0) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(DescribeReply(HiredisCommand(admin.get(), {"DBSIZE"}).get()), "integer 0");
  HiredisCommand(admin.get(), {"PUBLISH", "marker", "done"});
  std::vector<std::string> m = NextMessage(sub.get());
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2], "marker");
  EXPECT_EQ(m[3], "done");
}

}  // namespace
}  // namespace keel::test
