// Client-side caching (CLIENT TRACKING) with several clients: REDIRECT to RESP2 and RESP3
// clients, a broken redirect, tracking-table-max-keys, CLIENT LIST's flags. The invalidation
// rules themselves are compared with Redis byte for byte in tests/differential/cases/tracking.txt.

#include <fmt/format.h>

#include <chrono>
#include <string>

#include "integration/fixture.h"
#include "support/resp.h"

namespace keel::test {
namespace {

class TrackingTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer(ThreadedArgs(2));
  }

  // The connection's id (CLIENT ID), as a string for REDIRECT.
  std::string Id(RespConnection& c) {
    std::string reply = c.Call({"CLIENT", "ID"});
    EXPECT_EQ(reply[0], ':') << EscapeBytes(reply);
    return reply.substr(1, reply.size() - 3);
  }

  // Reads one reply, failing the test (and returning "") if none comes.
  std::string Read(RespConnection& c) {
    std::string reply;
    EXPECT_TRUE(c.ReadReply(&reply));
    return reply;
  }

  void Resp3(RespConnection& c) { ASSERT_EQ(c.Call({"HELLO", "3"}).substr(0, 4), "%7\r\n"); }
};

constexpr char kInvalidateK[] = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";

TEST_F(TrackingTest, RedirectToAResp2SubscriberSendsInvalidateChannelMessages) {
  RespConnection sub = Connect();
  RespConnection tracker = Connect();
  RespConnection writer = Connect();
  std::string sub_id = Id(sub);
  ASSERT_EQ(sub.Call({"SUBSCRIBE", "__redis__:invalidate"}),
            "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n");
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON", "REDIRECT", sub_id}), "+OK\r\n");
  EXPECT_EQ(tracker.Call({"CLIENT", "GETREDIR"}), ":" + sub_id + "\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "1"}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"GET", "k"}), "$1\r\n1\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "2"}), "+OK\r\n");
  EXPECT_EQ(Read(sub), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n");
  // A flush: a null in the tracking client's protocol (RESP2 here).
  ASSERT_EQ(writer.Call({"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(Read(sub), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  // The tracking client itself got nothing.
  EXPECT_EQ(tracker.Call({"PING"}), "+PONG\r\n");
}

TEST_F(TrackingTest, RedirectToAResp3ClientSendsPushes) {
  RespConnection target = Connect();
  Resp3(target);
  RespConnection tracker = Connect();
  RespConnection writer = Connect();
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON", "REDIRECT", Id(target)}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"GET", "k"}), "$-1\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "1"}), "+OK\r\n");
  EXPECT_EQ(Read(target), kInvalidateK);
  EXPECT_EQ(target.Call({"PING"}), "+PONG\r\n");
}

TEST_F(TrackingTest, AResp2TrackerWithoutRedirectGetsNothing) {
  RespConnection tracker = Connect();
  RespConnection writer = Connect();
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON"}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"GET", "k"}), "$-1\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "1"}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"SET", "k", "2"}), "+OK\r\n");
  EXPECT_EQ(tracker.Call({"PING"}), "+PONG\r\n");
}

TEST_F(TrackingTest, ABrokenRedirectIsReportedToAResp3Tracker) {
  RespConnection tracker = Connect();
  Resp3(tracker);
  RespConnection writer = Connect();
  std::string target_id;
  {
    RespConnection target = Connect();
    target_id = Id(target);
    ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON", "REDIRECT", target_id}), "+OK\r\n");
  }
  // Wait until the server has seen the target go.
  for (int i = 0; i < 1000; ++i) {
    std::string list = writer.Call({"CLIENT", "LIST"});
    if (list.find("id=" + target_id + " ") == std::string::npos) break;
  }
  ASSERT_EQ(tracker.Call({"GET", "k"}), "_\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "1"}), "+OK\r\n");
  EXPECT_EQ(Read(tracker), ">2\r\n$21\r\ntracking-redir-broken\r\n:" + target_id + "\r\n");
  std::string info = tracker.Call({"CLIENT", "TRACKINGINFO"});
  EXPECT_NE(info.find("$15\r\nbroken_redirect\r\n"), std::string::npos) << EscapeBytes(info);
  std::string me = tracker.Call({"CLIENT", "INFO"});
  EXPECT_NE(me.find(" flags=tR "), std::string::npos) << EscapeBytes(me);
  EXPECT_NE(me.find(" redir=" + target_id + " "), std::string::npos) << EscapeBytes(me);
}

TEST_F(TrackingTest, ClientListShowsTrackingFlagsAndRedirect) {
  RespConnection c = Connect();
  auto line = [&] { return c.Call({"CLIENT", "INFO"}); };
  EXPECT_NE(line().find(" flags=N "), std::string::npos);
  EXPECT_NE(line().find(" redir=-1 "), std::string::npos);
  ASSERT_EQ(c.Call({"CLIENT", "TRACKING", "ON"}), "+OK\r\n");
  EXPECT_NE(line().find(" flags=t "), std::string::npos) << EscapeBytes(line());
  EXPECT_NE(line().find(" redir=0 "), std::string::npos);
  ASSERT_EQ(c.Call({"CLIENT", "TRACKING", "OFF"}), "+OK\r\n");
  ASSERT_EQ(c.Call({"CLIENT", "TRACKING", "ON", "BCAST"}), "+OK\r\n");
  EXPECT_NE(line().find(" flags=tB "), std::string::npos) << EscapeBytes(line());
  ASSERT_EQ(c.Call({"RESET"}), "+RESET\r\n");
  EXPECT_NE(line().find(" flags=N "), std::string::npos) << EscapeBytes(line());
}

TEST_F(TrackingTest, TrackingTableMaxKeysEvictsKeysWithTheirInvalidations) {
  RespConnection tracker = Connect();
  Resp3(tracker);
  RespConnection admin = Connect();
  ASSERT_EQ(admin.Call({"CONFIG", "SET", "tracking-table-max-keys", "2"}), "+OK\r\n");
  EXPECT_EQ(admin.Call({"CONFIG", "GET", "tracking-table-max-keys"}),
            "*2\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n2\r\n");
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON"}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"MGET", "a", "b", "c"}), "*3\r\n_\r\n_\r\n_\r\n");
  // One of the three is evicted from the table and invalidated (Redis does it in its cron).
  std::string push = Read(tracker);
  RespValue v;
  ASSERT_TRUE(ParseReply(push, &v)) << EscapeBytes(push);
  ASSERT_EQ(v.type, '>') << EscapeBytes(push);
  ASSERT_EQ(v.elements.size(), 2u);
  EXPECT_EQ(v.elements[0].text, "invalidate");
  ASSERT_EQ(v.elements[1].elements.size(), 1u);
  std::string evicted = v.elements[1].elements[0].text;
  EXPECT_TRUE(evicted == "a" || evicted == "b" || evicted == "c") << evicted;
  EXPECT_EQ(admin.Call({"CONFIG", "SET", "tracking-table-max-keys", "-1"}).substr(0, 4), "-ERR");
}

// BCAST with prefixes, redirected to a RESP3 client: every write under a prefix is announced
// without the tracker reading the key first, and keys under no prefix are not.
TEST_F(TrackingTest, BcastWithPrefixesRedirectsOnlyMatchingKeys) {
  RespConnection target = Connect();
  Resp3(target);
  RespConnection tracker = Connect();
  RespConnection writer = Connect();
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON", "REDIRECT", Id(target), "BCAST", "PREFIX",
                          "user:", "PREFIX", "cart:"}),
            "+OK\r\n");
  ASSERT_EQ(writer.Call({"SET", "user:1", "a"}), "+OK\r\n");
  EXPECT_EQ(Read(target), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n");
  // other:1 matches no prefix: had it been announced, its push would come before cart:9's.
  ASSERT_EQ(writer.Call({"SET", "other:1", "b"}), "+OK\r\n");
  ASSERT_EQ(writer.Call({"SET", "cart:9", "c"}), "+OK\r\n");
  EXPECT_EQ(Read(target), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ncart:9\r\n");
  EXPECT_EQ(target.Call({"PING"}), "+PONG\r\n");
  std::string info = tracker.Call({"CLIENT", "TRACKINGINFO"});
  EXPECT_NE(info.find("$5\r\nbcast\r\n"), std::string::npos) << EscapeBytes(info);
  EXPECT_NE(info.find("$5\r\nuser:\r\n"), std::string::npos) << EscapeBytes(info);
}

// A RESP3 tracking client that never reads its invalidation pushes is a normal client whose
// output grows: the normal class's output buffer limit disconnects it, as Redis does, and the
// server serves everyone else.
TEST_F(TrackingTest, PushesPilingUpOnAClientThatDoesNotReadHitTheOutputBufferLimit) {
  RespConnection admin = Connect();
  ASSERT_EQ(admin.Call({"CONFIG", "SET", "client-output-buffer-limit", "normal 256kb 0 0"}),
            "+OK\r\n");
  RespConnection tracker = Connect();
  Resp3(tracker);
  std::string id = Id(tracker);
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON", "BCAST"}), "+OK\r\n");
  RespConnection writer = Connect();
  // Each write announces its 16 KiB key name; 64 MiB of announcements is far past the limit
  // plus whatever the kernel's socket buffers hold.
  std::string key(16 * 1024, 'k');
  bool gone = false;
  for (int i = 0; i < 4096 && !gone; ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%08d", i);
    key.replace(0, 8, prefix);
    ASSERT_EQ(writer.Call({"SET", key, "v"}), "+OK\r\n");
    if (i % 64 == 63) gone = admin.Call({"CLIENT", "LIST", "ID", id}) == "$0\r\n\r\n";
  }
  EXPECT_TRUE(gone) << "the tracking client that does not read was never disconnected";
  std::string rest;
  EXPECT_TRUE(tracker.WaitForClose(std::chrono::seconds(30), &rest));
  EXPECT_EQ(writer.Call({"PING"}), "+PONG\r\n");
}

// Redis 7.0 sends nothing on SWAPDB, leaving caches stale; Keel tells every tracking client to
// drop its cache, as for a flush.
TEST_F(TrackingTest, KeelOnlySwapdbInvalidatesEveryTrackingClient) {
  if (TestingRedis()) GTEST_SKIP() << "Keel-specific: Redis 7.0 sends nothing on SWAPDB";
  RespConnection tracker = Connect();
  Resp3(tracker);
  RespConnection writer = Connect();
  ASSERT_EQ(tracker.Call({"CLIENT", "TRACKING", "ON"}), "+OK\r\n");
  ASSERT_EQ(writer.Call({"SET", "k", "db0"}), "+OK\r\n");
  ASSERT_EQ(tracker.Call({"GET", "k"}), "$3\r\ndb0\r\n");
  ASSERT_EQ(writer.Call({"SWAPDB", "0", "1"}), "+OK\r\n");
  EXPECT_EQ(Read(tracker), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
  EXPECT_EQ(tracker.Call({"GET", "k"}), "_\r\n");
}

}  // namespace
}  // namespace keel::test
