// CLIENT PAUSE and WAIT end to end, including pipelined inline commands behind a postponed or
// blocked one (they must run exactly once, after it). Expectations hold on redis-server too.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"
#include "support/resp_connection.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class PauseTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
    ASSERT_TRUE(admin_.Connect(server_->port()));
  }
  // Reads `n` replies from `c` and returns their bytes, concatenated.
  static std::string ReadReplies(RespConnection& c, int n) {
    std::string all, one;
    for (int i = 0; i < n; ++i) {
      if (!c.ReadReply(&one, milliseconds(5000))) return all + "<timeout>";
      all += one;
    }
    return all;
  }
  RespConnection admin_;
};

TEST_F(PauseTest, WritePauseHoldsPipelinedInlineWritesAndRunsEachOnce) {
  admin_.Call({"SET", "k", "1"});
  EXPECT_EQ(admin_.Call({"CLIENT", "PAUSE", "100000", "WRITE"}), "+OK\r\n");
  RespConnection w;
  ASSERT_TRUE(w.Connect(server_->port()));
  ASSERT_TRUE(w.Send("SET k 2\r\nINCR k\r\n"));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(admin_.Call({"GET", "k"}), "$1\r\n1\r\n");  // reads are not paused
  EXPECT_EQ(admin_.Call({"CLIENT", "UNPAUSE"}), "+OK\r\n");
  EXPECT_EQ(ReadReplies(w, 2), "+OK\r\n:3\r\n");
  // The next command runs once, and only it.
  EXPECT_EQ(w.Call({"GET", "k"}), "$1\r\n3\r\n");
}

TEST_F(PauseTest, InlineCommandAfterABlockedOneRunsOnce) {
  admin_.Call({"SET", "k", "1"});
  RespConnection b;
  ASSERT_TRUE(b.Connect(server_->port()));
  ASSERT_TRUE(b.Send("BLPOP q 0\r\nINCR k\r\n"));
  std::this_thread::sleep_for(milliseconds(200));
  admin_.Call({"LPUSH", "q", "x"});
  std::string want = "*2\r\n$1\r\nq\r\n$1\r\nx\r\n:2\r\n";
  EXPECT_EQ(ReadReplies(b, 2), want);
  ASSERT_TRUE(b.Send("GET k\r\n"));
  EXPECT_EQ(ReadReplies(b, 1), "$1\r\n2\r\n");
}

TEST_F(PauseTest, PauseEndsByItselfAndAllPausesReads) {
  EXPECT_EQ(admin_.Call({"CLIENT", "PAUSE", "300", "ALL"}), "+OK\r\n");
  RespConnection r;
  ASSERT_TRUE(r.Connect(server_->port()));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(r.Call({"PING"}), "+PONG\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
}

TEST_F(PauseTest, WaitWithoutReplicasAnswersZeroAfterTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(admin_.Call({"WAIT", "1", "200"}), ":0\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(180));
  EXPECT_EQ(admin_.Call({"WAIT", "0", "100000"}), ":0\r\n");
}

}  // namespace
}  // namespace keel::test
