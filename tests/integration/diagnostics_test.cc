// SLOWLOG and LATENCY end to end: the shape of slow-log entries (argument trimming, client
// address and name), the thresholds, and the latency monitor's samples of a slow command. The
// expectations hold on redis-server too (tests/run-all.sh).
#include <string>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

class DiagnosticsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
    ctx_ = Client();
  }
  RedisReplyPtr Cmd(const std::vector<std::string>& args) { return Run(ctx_.get(), args); }
  RedisContextPtr ctx_;
};

TEST_F(DiagnosticsTest, SlowlogEntryHasRedisShapeWithTrimmedArguments) {
  Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  Cmd({"CLIENT", "SETNAME", "slowpoke"});
  Cmd({"SLOWLOG", "RESET"});
  std::vector<std::string> args = {"RPUSH", "biglist"};
  for (int i = 0; i < 40; ++i) args.push_back("e" + std::to_string(i));
  args[5] = std::string(200, 'x');
  Cmd(args);
  RedisReplyPtr r = Cmd({"SLOWLOG", "GET", "1"});
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(r->elements, 1u);
  const redisReply* e = r->element[0];
  ASSERT_EQ(e->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(e->elements, 6u);
  EXPECT_EQ(e->element[0]->type, REDIS_REPLY_INTEGER);
  EXPECT_GT(e->element[1]->integer, 1600000000);
  EXPECT_GE(e->element[2]->integer, 0);
  const redisReply* argv = e->element[3];
  ASSERT_EQ(argv->elements, 32u);
  EXPECT_EQ(std::string(argv->element[0]->str), "RPUSH");
  EXPECT_EQ(std::string(argv->element[5]->str), std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_EQ(std::string(argv->element[31]->str), "... (11 more arguments)");
  std::string peer = e->element[4]->str;
  EXPECT_EQ(peer.rfind("127.0.0.1:", 0), 0u) << peer;
  EXPECT_EQ(std::string(e->element[5]->str), "slowpoke");
}

TEST_F(DiagnosticsTest, SlowlogThresholdLengthAndReset) {
  Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "-1"});
  Cmd({"SLOWLOG", "RESET"});
  Cmd({"SET", "a", "1"});
  EXPECT_EQ(Cmd({"SLOWLOG", "LEN"})->integer, 0);
  Cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "3"});
  for (int i = 0; i < 5; ++i) Cmd({"SET", "a", std::to_string(i)});
  EXPECT_EQ(Cmd({"SLOWLOG", "LEN"})->integer, 3);
  RedisReplyPtr all = Cmd({"SLOWLOG", "GET", "-1"});
  ASSERT_EQ(all->elements, 3u);
  // Newest first, ids descending.
  EXPECT_GT(all->element[0]->element[0]->integer, all->element[1]->element[0]->integer);
  EXPECT_EQ(std::string(Cmd({"SLOWLOG", "RESET"})->str), "OK");
  // SLOWLOG RESET itself is the only entry afterwards.
  EXPECT_LE(Cmd({"SLOWLOG", "LEN"})->integer, 1);
  // AUTH's arguments are redacted.
  Cmd({"SLOWLOG", "RESET"});
  Cmd({"AUTH", "user", "secret"});
  RedisReplyPtr r = Cmd({"SLOWLOG", "GET", "1"});
  ASSERT_EQ(r->elements, 1u);
  const redisReply* argv = r->element[0]->element[3];
  ASSERT_EQ(argv->elements, 3u);
  EXPECT_EQ(std::string(argv->element[1]->str), "(redacted)");
  EXPECT_EQ(std::string(argv->element[2]->str), "(redacted)");
}

TEST_F(DiagnosticsTest, LatencyMonitorRecordsASlowCommand) {
  Cmd({"CONFIG", "SET", "latency-monitor-threshold", "1"});
  Cmd({"LATENCY", "RESET"});
  // A command that takes well over 1 ms: SORT of a big list.
  std::vector<std::string> push = {"RPUSH", "nums"};
  for (int i = 0; i < 50000; ++i) push.push_back(std::to_string((i * 7919) % 50000));
  Cmd(push);
  Cmd({"SORT", "nums"});
  RedisReplyPtr latest = Cmd({"LATENCY", "LATEST"});
  ASSERT_EQ(latest->type, REDIS_REPLY_ARRAY);
  // The big RPUSH may have made a "fast-command" sample too; find "command".
  const redisReply* ev = nullptr;
  for (size_t i = 0; i < latest->elements; ++i) {
    ASSERT_EQ(latest->element[i]->elements, 4u);
    if (std::string(latest->element[i]->element[0]->str) == "command") ev = latest->element[i];
  }
  ASSERT_NE(ev, nullptr);
  EXPECT_GE(ev->element[2]->integer, 1);
  EXPECT_GE(ev->element[3]->integer, ev->element[2]->integer);
  RedisReplyPtr hist = Cmd({"LATENCY", "HISTORY", "command"});
  ASSERT_GE(hist->elements, 1u);
  EXPECT_EQ(hist->element[0]->elements, 2u);
  RedisReplyPtr graph = Cmd({"LATENCY", "GRAPH", "command"});
  ASSERT_EQ(graph->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(graph->str).rfind("command - high ", 0), 0u);
  EXPECT_EQ(Cmd({"LATENCY", "RESET", "command", "nosuch"})->integer, 1);
  EXPECT_EQ(Cmd({"LATENCY", "HISTORY", "command"})->elements, 0u);
  Cmd({"LATENCY", "RESET"});
  EXPECT_EQ(Cmd({"LATENCY", "LATEST"})->elements, 0u);
  EXPECT_EQ(Cmd({"LATENCY", "DOCTOR"})->type, REDIS_REPLY_STRING);
}

TEST_F(DiagnosticsTest, LatencyHistogramCountsCalls) {
  Cmd({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 7; ++i) Cmd({"SET", "k", "v"});
  RedisReplyPtr r = Cmd({"LATENCY", "HISTOGRAM", "set", "nosuchcommand"});
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(r->elements, 2u);
  EXPECT_EQ(std::string(r->element[0]->str), "set");
  const redisReply* m = r->element[1];
  ASSERT_EQ(m->elements, 4u);
  EXPECT_EQ(std::string(m->element[0]->str), "calls");
  EXPECT_EQ(m->element[1]->integer, 7);
  EXPECT_EQ(std::string(m->element[2]->str), "histogram_usec");
  const redisReply* buckets = m->element[3];
  ASSERT_GE(buckets->elements, 2u);
  EXPECT_EQ(buckets->element[buckets->elements - 1]->integer, 7);  // cumulative
  RedisReplyPtr info = Cmd({"INFO", "latencystats"});
  EXPECT_NE(std::string(info->str).find("latency_percentiles_usec_set:p50="), std::string::npos);
  Cmd({"CONFIG", "SET", "latency-tracking", "no"});
  Cmd({"CONFIG", "RESETSTAT"});
  Cmd({"SET", "k", "v"});
  EXPECT_EQ(Cmd({"LATENCY", "HISTOGRAM", "set"})->elements, 0u);
}

}  // namespace
}  // namespace keel::test
