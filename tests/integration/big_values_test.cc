// Big values (several MiB) sent by clients: Keel receives a big bulk straight into a string of
// its own and SET takes it without a copy (docs/architecture.md, "Big bulk arguments"). These
// pin that nothing around it changed: the values read back whole, what is pipelined behind a big
// bulk still runs, MULTI queues its own copy, a client that vanishes mid-bulk leaves no memory
// behind, proto-max-bulk-len still refuses with Redis's bytes, and the AOF, the slowlog and
// MONITOR still see the whole command.

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"
#include "integration/persistence_util.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class BigValuesTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
  }
};

// `size` bytes that are not all alike (every byte value, CR and LF included), so that a
// misplaced or missing chunk shows.
std::string Pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7 + i / 4096) & 0xff);
  return s;
}

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// Sends `bytes` in two parts with a pause between, so that the server meets the big bulk's
// header with only part of its payload read.
void SendSplit(RespConnection& c, const std::string& bytes, size_t first) {
  ASSERT_TRUE(c.Send(std::string_view(bytes).substr(0, first)));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(c.Send(std::string_view(bytes).substr(first)));
}

uint64_t UsedMemory(RespConnection& c) {
  std::string info = c.Call({"INFO", "memory"});
  size_t p = info.find("used_memory:");
  if (p == std::string::npos) return 0;
  return std::stoull(info.substr(p + 12));
}

TEST_F(BigValuesTest, EachWholeValueCommandStoresAndReadsBackSeveralMegabytes) {
  RespConnection c = Connect();
  const std::string v1 = Pattern(6 << 20, 1), v2 = Pattern(5 << 20, 2), v3 = Pattern(3 << 20, 3);
  std::string set = "*3\r\n" + Bulk("SET") + Bulk("k") + Bulk(v1);
  SendSplit(c, set, 300 * 1024);
  std::string reply;
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "k"}), Bulk(v1));
  EXPECT_EQ(c.Call({"STRLEN", "k"}), ":" + std::to_string(v1.size()) + "\r\n");
  EXPECT_EQ(c.Call({"OBJECT", "ENCODING", "k"}), "$3\r\nraw\r\n");

  // GETSET replies the old value and stores the new one.
  SendSplit(c, "*3\r\n" + Bulk("GETSET") + Bulk("k") + Bulk(v2), 100 * 1024);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, Bulk(v1));
  EXPECT_EQ(c.Call({"GET", "k"}), Bulk(v2));

  // SETEX, PSETEX, SETNX, APPEND to a missing key, MSET and MSETNX.
  SendSplit(c, "*4\r\n" + Bulk("SETEX") + Bulk("ex") + Bulk("100") + Bulk(v3), 50000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "ex"}), Bulk(v3));
  EXPECT_EQ(c.Call({"TTL", "ex"}), ":100\r\n");
  SendSplit(c, "*4\r\n" + Bulk("PSETEX") + Bulk("pex") + Bulk("100000") + Bulk(v2), 50000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "pex"}), Bulk(v2));
  SendSplit(c, "*3\r\n" + Bulk("SETNX") + Bulk("nx") + Bulk(v3), 50000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":1\r\n");
  SendSplit(c, "*3\r\n" + Bulk("SETNX") + Bulk("nx") + Bulk(v1), 50000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":0\r\n");
  EXPECT_EQ(c.Call({"GET", "nx"}), Bulk(v3));
  SendSplit(c, "*3\r\n" + Bulk("APPEND") + Bulk("ap") + Bulk(v3), 50000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":" + std::to_string(v3.size()) + "\r\n");
  EXPECT_EQ(c.Call({"APPEND", "ap", "tail"}), ":" + std::to_string(v3.size() + 4) + "\r\n");
  EXPECT_EQ(c.Call({"GET", "ap"}), Bulk(v3 + "tail"));
  // One key twice: the last value wins, the first one read whole meanwhile.
  SendSplit(c,
            "*7\r\n" + Bulk("MSET") + Bulk("m1") + Bulk(v1) + Bulk("m2") + Bulk(v2) + Bulk("m1") +
                Bulk(v3),
            70000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "m1"}), Bulk(v3));
  EXPECT_EQ(c.Call({"GET", "m2"}), Bulk(v2));
  SendSplit(c, "*5\r\n" + Bulk("MSETNX") + Bulk("n1") + Bulk(v2) + Bulk("n1") + Bulk(v1), 70000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":1\r\n");
  EXPECT_EQ(c.Call({"GET", "n1"}), Bulk(v1));
}

// A big bulk with arguments after it and commands pipelined behind it, all in one write: each
// runs once, in order.
TEST_F(BigValuesTest, CommandsPipelinedBehindABigBulkInTheSameWriteRun) {
  RespConnection c = Connect();
  const std::string v = Pattern(4 << 20, 4);
  std::string batch = "*5\r\n" + Bulk("SET") + Bulk("k") + Bulk(v) + Bulk("PX") + Bulk("100000");
  batch += "*1\r\n" + Bulk("PING");
  batch += "*2\r\n" + Bulk("GET") + Bulk("k");
  batch += "*2\r\n" + Bulk("INCR") + Bulk("n");
  batch += "*3\r\n" + Bulk("SET") + Bulk("k2") + Bulk(v.substr(0, 40000));
  batch += "*2\r\n" + Bulk("STRLEN") + Bulk("k2");
  batch += "PING\r\n";  // an inline command last
  ASSERT_TRUE(c.Send(batch));
  const std::vector<std::string> want = {"+OK\r\n", "+PONG\r\n",  Bulk(v),    ":1\r\n",
                                         "+OK\r\n", ":40000\r\n", "+PONG\r\n"};
  for (const std::string& w : want) {
    std::string reply;
    ASSERT_TRUE(c.ReadReply(&reply));
    EXPECT_EQ(reply, w);
  }
  std::string pttl = c.Call({"PTTL", "k"});
  EXPECT_TRUE(pttl.size() > 1 && pttl[0] == ':' && pttl != ":-1\r\n") << pttl;
}

// A big bulk pipelined behind a blocking pop: part of it arrives while the client is blocked
// (read into the buffer meanwhile), the rest after it is served; the value is stored whole.
TEST_F(BigValuesTest, BigBulkBehindABlockedCommandArrivesWhole) {
  RespConnection c = Connect();
  const std::string v = Pattern(4 << 20, 10);
  std::string batch = "*3\r\n" + Bulk("BLPOP") + Bulk("q") + Bulk("0") + "*3\r\n" + Bulk("SET") +
                      Bulk("k") + Bulk(v) + "*2\r\n" + Bulk("STRLEN") + Bulk("k");
  size_t first = batch.size() - v.size() + 100000;  // up to 100 kB into the payload
  ASSERT_TRUE(c.Send(std::string_view(batch).substr(0, first)));
  std::this_thread::sleep_for(milliseconds(200));
  RespConnection ctl = Connect();
  EXPECT_EQ(ctl.Call({"RPUSH", "q", "x"}), ":1\r\n");
  std::string reply;
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(c.Send(std::string_view(batch).substr(first)));
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, ":" + std::to_string(v.size()) + "\r\n");
  EXPECT_EQ(ctl.Call({"GET", "k"}), Bulk(v));
}

// Queued commands own their big arguments: the value EXEC stores is the one sent, and DISCARD
// stores nothing.
TEST_F(BigValuesTest, BigValuesInsideMulti) {
  RespConnection c = Connect();
  const std::string v1 = Pattern(3 << 20, 5), v2 = Pattern(2 << 20, 6);
  EXPECT_EQ(c.Call({"MULTI"}), "+OK\r\n");
  std::string reply;
  SendSplit(c, "*3\r\n" + Bulk("SET") + Bulk("a") + Bulk(v1), 100000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+QUEUED\r\n");
  SendSplit(c, "*5\r\n" + Bulk("MSET") + Bulk("b") + Bulk(v2) + Bulk("c") + Bulk(v1), 100000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+QUEUED\r\n");
  EXPECT_EQ(c.Call({"GET", "a"}), "+QUEUED\r\n");
  EXPECT_EQ(c.Call({"EXEC"}), "*3\r\n+OK\r\n+OK\r\n" + Bulk(v1));
  EXPECT_EQ(c.Call({"GET", "b"}), Bulk(v2));
  EXPECT_EQ(c.Call({"GET", "c"}), Bulk(v1));

  EXPECT_EQ(c.Call({"MULTI"}), "+OK\r\n");
  SendSplit(c, "*3\r\n" + Bulk("SET") + Bulk("d") + Bulk(v2), 100000);
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+QUEUED\r\n");
  EXPECT_EQ(c.Call({"DISCARD"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"EXISTS", "d"}), ":0\r\n");
}

// A payload of 8 MiB or more is received into memory advised for huge pages (connection.cc,
// AdviseHugePages): sent in two parts split at an odd offset, the value must come back byte for
// byte, and an overwrite by a small value must free it.
TEST_F(BigValuesTest, AValueReceivedIntoHugePagesReadsBackExactly) {
  RespConnection c = Connect();
  uint64_t base = UsedMemory(c);
  ASSERT_GT(base, 0u);
  const std::string v = Pattern((24 << 20) + 12345, 11);
  SendSplit(c, "*3\r\n" + Bulk("SET") + Bulk("huge") + Bulk(v), 777 * 1024 + 3);
  std::string reply;
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(c.Call({"STRLEN", "huge"}), ":" + std::to_string(v.size()) + "\r\n");
  EXPECT_EQ(c.Call({"GET", "huge"}), Bulk(v));
  EXPECT_EQ(c.Call({"GETRANGE", "huge", "16777215", "16777224"}), Bulk(v.substr(16777215, 10)));
  EXPECT_EQ(c.Call({"SET", "huge", "small"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "huge"}), Bulk("small"));
  bool freed = false;  // Keel may free a big value on its lazy-free thread: wait for it
  for (int i = 0; i < 3000 && !freed; ++i) {
    freed = UsedMemory(c) < base + (4 << 20);
    if (!freed) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(freed) << "used_memory " << UsedMemory(c) << ", base " << base;
}

// A client that goes away in the middle of a big bulk leaves no memory behind.
TEST_F(BigValuesTest, ClientVanishingMidBulkFreesWhatItSent) {
  RespConnection ctl = Connect();
  uint64_t base = UsedMemory(ctl);
  ASSERT_GT(base, 0u);
  constexpr size_t kSize = 64 << 20;
  {
    RespConnection c = Connect();
    std::string part = "*3\r\n" + Bulk("SET") + Bulk("k") + "$" + std::to_string(kSize) + "\r\n";
    part += Pattern(kSize / 2, 7);
    ASSERT_TRUE(c.Send(part));
    // Until the server has read it: the request is held (Keel: the value's whole string).
    bool held = false;
    for (int i = 0; i < 3000 && !held; ++i) {
      held = UsedMemory(ctl) > base + kSize / 2 - (1 << 20);
      if (!held) std::this_thread::sleep_for(milliseconds(10));
    }
    ASSERT_TRUE(held) << "used_memory " << UsedMemory(ctl) << ", base " << base;
  }
  bool freed = false;
  for (int i = 0; i < 3000 && !freed; ++i) {
    freed = UsedMemory(ctl) < base + (4 << 20);
    if (!freed) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(freed) << "used_memory " << UsedMemory(ctl) << ", base " << base;
  EXPECT_EQ(ctl.Call({"EXISTS", "k"}), ":0\r\n");
}

// proto-max-bulk-len refuses a longer bulk at its header, with Redis's error, and closes; a bulk
// of exactly the limit is taken.
TEST_F(BigValuesTest, ProtoMaxBulkLenStillRefusesAtTheHeader) {
  RespConnection ctl = Connect();
  EXPECT_EQ(ctl.Call({"CONFIG", "SET", "proto-max-bulk-len", "1048576"}), "+OK\r\n");
  RespConnection c = Connect();
  ASSERT_TRUE(c.Send("*3\r\n" + Bulk("SET") + Bulk("k") + "$1048577\r\n" + "abc"));
  auto drained = c.ReadUntilClose(milliseconds(5000));
  EXPECT_TRUE(drained.closed);
  EXPECT_EQ(drained.bytes, "-ERR Protocol error: invalid bulk length\r\n");
  RespConnection ok = Connect();
  const std::string v = Pattern(1048576, 8);
  std::string reply;
  SendSplit(ok, "*3\r\n" + Bulk("SET") + Bulk("k") + Bulk(v), 60000);
  ASSERT_TRUE(ok.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(ok.Call({"STRLEN", "k"}), ":1048576\r\n");
}

// The slowlog and MONITOR see a command whose value was taken without a copy whole (the slowlog
// cut as Redis cuts it).
TEST_F(BigValuesTest, SlowlogAndMonitorSeeTheBigArgument) {
  RespConnection ctl = Connect();
  EXPECT_EQ(ctl.Call({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "+OK\r\n");
  RespConnection mon = Connect();
  EXPECT_EQ(mon.Call({"MONITOR"}), "+OK\r\n");
  const std::string v(200000, 'q');
  RespConnection c = Connect();
  SendSplit(c, "*3\r\n" + Bulk("SET") + Bulk("big") + Bulk(v), 50000);
  std::string reply;
  ASSERT_TRUE(c.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  std::string line;
  ASSERT_TRUE(mon.ReadReply(&line, milliseconds(10000)));
  EXPECT_NE(line.find("\"SET\" \"big\" \"" + v + "\""), std::string::npos) << line.substr(0, 200);
  std::string slow = ctl.Call({"SLOWLOG", "GET", "2"});
  std::string cut = v.substr(0, 128) + "... (" + std::to_string(v.size() - 128) + " more bytes)";
  EXPECT_NE(slow.find("$" + std::to_string(cut.size()) + "\r\n" + cut + "\r\n"), std::string::npos)
      << slow.substr(0, 400);
}

// The AOF logs the command whole: the value comes back after a restart.
TEST_F(BigValuesTest, AofLogsTheBigValue) {
  if (TestingRedis()) GTEST_SKIP() << "restarts Keel from its own AOF";
  std::string dir = TempDir();
  const std::string v = Pattern(5 << 20, 9);
  {
    auto k = StartProcess(KeelServerBinary(), {"--dir", dir, "--appendonly", "yes"});
    RespConnection c;
    ASSERT_TRUE(c.Connect(k->port()));
    std::string reply;
    SendSplit(c, "*5\r\n" + Bulk("SET") + Bulk("k") + Bulk(v) + Bulk("EX") + Bulk("1000"), 100000);
    ASSERT_TRUE(c.ReadReply(&reply));
    EXPECT_EQ(reply, "+OK\r\n");
    SendSplit(c, "*3\r\n" + Bulk("APPEND") + Bulk("a") + Bulk(v), 100000);
    ASSERT_TRUE(c.ReadReply(&reply));
  }
  auto k = StartProcess(KeelServerBinary(), {"--dir", dir, "--appendonly", "yes"});
  RespConnection c;
  ASSERT_TRUE(c.Connect(k->port()));
  for (int i = 0; i < 500 && c.Call({"PING"}) != "+PONG\r\n"; ++i) {
    std::this_thread::sleep_for(milliseconds(20));  // -LOADING while the AOF loads
  }
  EXPECT_EQ(c.Call({"GET", "k"}), Bulk(v));
  EXPECT_EQ(c.Call({"GET", "a"}), Bulk(v));
  // The expiry was logged as an absolute time (a loaded machine may take seconds to restart).
  std::string ttl = c.Call({"TTL", "k"});
  ASSERT_EQ(ttl.substr(0, 1), ":");
  int secs = std::stoi(ttl.substr(1));
  EXPECT_GT(secs, 900) << ttl;
  EXPECT_LE(secs, 1000) << ttl;
}

}  // namespace
}  // namespace keel::test
