// Connections under pressure: clients that stay idle, that wait on the server, that pipeline
// without reading. Written to Redis 7.0's behaviour, except where Keel is deliberately stricter
// (tests named KeelOnly: Redis does not bound a normal client's output).

#include <signal.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "integration/fixture.h"
#include "support/resp.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class PressureTest : public ServerTest {};

// `timeout` closes idle clients, but not those that wait for the server: subscribers, clients
// blocked in BLPOP and friends, and MONITOR clients.
TEST_F(PressureTest, TimeoutSparesSubscribersBlockedClientsAndMonitors) {
  StartServer({"--timeout", "1"});
  RespConnection idle = Connect();
  ASSERT_EQ(idle.Call({"PING"}), "+PONG\r\n");
  RespConnection sub = Connect();
  ASSERT_EQ(sub.Call({"SUBSCRIBE", "ch"}), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  RespConnection psub = Connect();
  ASSERT_EQ(psub.Call({"PSUBSCRIBE", "c*"}), "*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:1\r\n");
  RespConnection blocked = Connect();
  ASSERT_TRUE(blocked.SendCommand({"BLPOP", "nokey", "0"}));
  RespConnection blocked_long = Connect();
  ASSERT_TRUE(blocked_long.SendCommand({"BRPOPLPUSH", "nokey2", "dst", "1000"}));
  RespConnection monitor = Connect();
  ASSERT_EQ(monitor.Call({"MONITOR"}), "+OK\r\n");

  // The idle client goes within a couple of seconds (Redis checks every client once a second)...
  EXPECT_TRUE(idle.WaitForClose(seconds(10))) << "an idle client outlived timeout 1";
  // ...and the others have been idle as long, and stay past another full round of checks.
  std::this_thread::sleep_for(milliseconds(2500));

  RespConnection ctl = Connect();
  EXPECT_EQ(ctl.Call({"PUBLISH", "ch", "hello"}), ":2\r\n");
  std::string reply;
  ASSERT_TRUE(sub.ReadReply(&reply)) << "the subscriber was closed";
  EXPECT_EQ(reply, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n");
  ASSERT_TRUE(psub.ReadReply(&reply)) << "the pattern subscriber was closed";
  EXPECT_EQ(reply, "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$5\r\nhello\r\n");
  EXPECT_EQ(ctl.Call({"RPUSH", "nokey", "v"}), ":1\r\n");
  ASSERT_TRUE(blocked.ReadReply(&reply)) << "the blocked client was closed";
  EXPECT_EQ(reply, "*2\r\n$5\r\nnokey\r\n$1\r\nv\r\n");
  EXPECT_EQ(ctl.Call({"RPUSH", "nokey2", "w"}), ":1\r\n");
  ASSERT_TRUE(blocked_long.ReadReply(&reply)) << "the client blocked with a timeout was closed";
  EXPECT_EQ(reply, "$1\r\nw\r\n");
  ASSERT_TRUE(monitor.ReadReply(&reply)) << "the monitor was closed";
  EXPECT_NE(reply.find("\"PUBLISH\""), std::string::npos) << reply;

  // A subscriber that unsubscribed from everything is an ordinary client again.
  ASSERT_TRUE(sub.SendCommand({"UNSUBSCRIBE"}));
  ASSERT_TRUE(sub.ReadReply(&reply));
  EXPECT_EQ(reply, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
  EXPECT_TRUE(sub.WaitForClose(seconds(10))) << "an unsubscribed idle client outlived timeout 1";
}

// A client blocked with more commands pipelined behind its BLPOP keeps reading meanwhile; once
// served, it runs those, and then what it sends next: each command once, none replayed. (The
// read in flight during the block must land where the buffer's end is when it completes: Keel
// used to reset the buffer under it and ran the stale ECHO a second time.)
TEST_F(PressureTest, CommandsPipelinedBehindABlockingPopRunOnceAfterIt) {
  StartServer();
  RespConnection blocked = Connect();
  ASSERT_TRUE(blocked.Send(EncodeCommand({"BLPOP", "bk", "0"}) + EncodeCommand({"INCR", "after"}) +
                           EncodeCommand({"ECHO", "first"})));
  RespConnection ctl = Connect();
  // Wait until it is blocked, then serve it.
  for (int i = 0;
       i < 200 && ctl.Call({"INFO", "clients"}).find("blocked_clients:1") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(ctl.Call({"LPUSH", "bk", "v"}), ":1\r\n");
  std::string reply;
  ASSERT_TRUE(blocked.ReadReply(&reply));
  EXPECT_EQ(reply, "*2\r\n$2\r\nbk\r\n$1\r\nv\r\n");
  ASSERT_TRUE(blocked.ReadReply(&reply));
  EXPECT_EQ(reply, ":1\r\n");
  ASSERT_TRUE(blocked.ReadReply(&reply));
  EXPECT_EQ(reply, "$5\r\nfirst\r\n");
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(blocked.Call({"ECHO", "second"}), "$6\r\nsecond\r\n");
  EXPECT_EQ(blocked.Call({"ECHO", "third"}), "$5\r\nthird\r\n");
  EXPECT_EQ(ctl.Call({"GET", "after"}), "$1\r\n1\r\n");
}

// The client's unsent output as CLIENT LIST reports it (obl: Keel's bytes waiting for the
// socket), or -1 if the client is not listed.
int64_t PendingOutputOf(RespConnection& ctl, const std::string& id) {
  std::string list = ctl.Call({"CLIENT", "LIST", "ID", id});
  size_t at = list.find(" obl=");
  if (at == std::string::npos) return -1;
  return std::stoll(list.substr(at + 5));
}

// A client pipelines thousands of GETs of a 100 kB value and reads nothing. Keel stops running
// its commands once its unsent output passes client-output-pause-limit, so what it queues stays
// within the limit plus one reply (Redis would queue them all: 200 MB here). When the client
// reads at last, every reply arrives, in order.
TEST_F(PressureTest, KeelOnlyNonReadingPipelineQueuesAtMostTheLimitPlusOneReply) {
  constexpr int64_t kLimit = 1 << 20;
  StartServer({"--client-output-pause-limit", std::to_string(kLimit)});
  const std::string value(100 * 1000, 'v');
  RespConnection ctl = Connect();
  ASSERT_EQ(ctl.Call({"SET", "big", value}), "+OK\r\n");
  constexpr int kCommands = 2000;
  std::string batch;
  for (int i = 0; i < kCommands; ++i) batch += EncodeCommand({"GET", "big"});
  RespConnection slow = Connect();
  std::string id = slow.Call({"CLIENT", "ID"});
  ASSERT_EQ(id[0], ':');
  id = id.substr(1, id.find('\r') - 1);
  ASSERT_TRUE(slow.Send(batch));

  // Watch the queue until it stops growing (the server waits for the client) and keep the peak.
  int64_t peak = 0;
  int64_t last = -1;
  int still = 0;
  for (int round = 0; round < 200 && still < 5; ++round) {
    std::this_thread::sleep_for(milliseconds(50));
    int64_t now = PendingOutputOf(ctl, id);
    ASSERT_GE(now, 0) << "the client is gone";
    peak = std::max(peak, now);
    still = now == last ? still + 1 : 0;
    last = now;
  }
  const int64_t reply_size = static_cast<int64_t>(value.size()) + 16;
  EXPECT_GT(peak, 0) << "the client's replies were not queued at all";
  EXPECT_LE(peak, kLimit + reply_size) << "queued output passed the limit plus one reply";
  // Others are served meanwhile.
  EXPECT_EQ(ctl.Call({"PING"}), "+PONG\r\n");

  const std::string want = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  for (int i = 0; i < kCommands; ++i) {
    std::string reply;
    ASSERT_TRUE(slow.ReadReply(&reply)) << "reply " << i;
    ASSERT_EQ(reply, want) << "reply " << i;
  }
  EXPECT_EQ(slow.Call({"PING"}), "+PONG\r\n");
}

// A client that reads slowly, in bursts, while its pipeline mixes small and big replies: the
// server pauses and resumes it many times, and every reply arrives once, in order.
TEST_F(PressureTest, KeelOnlyOutputPauseResumesAfterEachDrain) {
  StartServer({"--client-output-pause-limit", "65536"});
  RespConnection ctl = Connect();
  ASSERT_EQ(ctl.Call({"SET", "mid", std::string(30000, 'm')}), "+OK\r\n");
  std::string batch;
  std::vector<std::string> want;
  for (int i = 0; i < 3000; ++i) {
    if (i % 3 == 0) {
      batch += EncodeCommand({"GET", "mid"});
      want.push_back("$30000\r\n" + std::string(30000, 'm') + "\r\n");
    } else {
      std::string v = "e" + std::to_string(i);
      batch += EncodeCommand({"ECHO", v});
      want.push_back("$" + std::to_string(v.size()) + "\r\n" + v + "\r\n");
    }
  }
  RespConnection c = Connect();
  ::testing::AssertionResult sent = ::testing::AssertionSuccess();
  std::thread writer([&] { sent = c.Send(batch); });
  for (size_t i = 0; i < want.size(); ++i) {
    std::string reply;
    ASSERT_TRUE(c.ReadReply(&reply)) << "reply " << i;
    ASSERT_EQ(reply, want[i]) << "reply " << i;
    // Read in uneven bursts, so the server pauses and resumes many times.
    if (i % 97 == 0) std::this_thread::sleep_for(milliseconds(2));
  }
  writer.join();
  EXPECT_TRUE(sent);
}

// shutdown-flush-timeout: how long a shutdown waits for clients to take the output they already
// have. A client that never reads holds it up for that long, not longer.
TEST_F(PressureTest, KeelOnlyShutdownFlushTimeoutBoundsTheWaitForNonReaders) {
  StartServer({"--shutdown-flush-timeout", "60000"});
  RespConnection ctl = Connect();
  ASSERT_EQ(ctl.Call({"SET", "big", std::string(1 << 20, 'b')}), "+OK\r\n");
  RespConnection slow = Connect();
  std::string batch;
  for (int i = 0; i < 64; ++i) batch += EncodeCommand({"GET", "big"});
  ASSERT_TRUE(slow.Send(batch));
  std::this_thread::sleep_for(milliseconds(500));
  server_->Signal(SIGTERM);
  // It waits for the non-reader...
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_TRUE(server_->IsRunning()) << "the server did not wait for the client's output";
  // ...until it goes away.
  slow.Close();
  EXPECT_TRUE(server_->WaitForExit(seconds(10)));
  EXPECT_EQ(server_->exit_code(), std::optional<int>(0));

  // With 0 the output is dropped at once, as Redis does.
  StartServer({"--shutdown-flush-timeout", "0"});
  RespConnection ctl2 = Connect();
  ASSERT_EQ(ctl2.Call({"SET", "big", std::string(1 << 20, 'b')}), "+OK\r\n");
  RespConnection slow2 = Connect();
  ASSERT_TRUE(slow2.Send(batch));
  std::this_thread::sleep_for(milliseconds(500));
  server_->Signal(SIGTERM);
  EXPECT_TRUE(server_->WaitForExit(seconds(2))) << "the server waited for a non-reader";
  EXPECT_EQ(server_->exit_code(), std::optional<int>(0));
}

}  // namespace
}  // namespace keel::test
