// DEBUG subcommands against the oracle: the server under test and a redis-server, both with
// enable-debug-command yes, get the same dataset; DEBUG DIGEST (the whole dataset) and
// DEBUG DIGEST-VALUE (per key) must be equal, byte for byte, and so must every other DEBUG
// reply that does not depend on timing or memory addresses.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "integration/fixture.h"
#include "support/resp_connection.h"

namespace keel::test {
namespace {

class DebugTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer({"--enable-debug-command", "yes"});
    ServerOptions o;
    o.binary = RedisServerBinary();
    o.args = {"--enable-debug-command", "yes"};
    oracle_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(oracle_->Start());
    ASSERT_TRUE(keel_.Connect(server_->port()));
    ASSERT_TRUE(redis_.Connect(oracle_->port()));
  }
  // Sends to both; returns both replies (keel's, redis's).
  std::pair<std::string, std::string> Both(const std::vector<std::string>& args) {
    return {keel_.Call(args), redis_.Call(args)};
  }
  void ExpectSame(const std::vector<std::string>& args) {
    auto [k, r] = Both(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(k, r) << line;
  }
  void LoadDataset() {
    std::vector<std::vector<std::string>> cmds = {
        {"SET", "str", "hello"},
        {"SET", "int", "12345"},
        {"SET", "neg", "-7"},
        {"SET", "padded", "0012"},
        {"SET", "big", std::string(300, 'b')},
        {"SET", "ttl", "v", "EX", "1000"},
        {"RPUSH", "list", "a", "b", "c", "1", "2"},
        {"SADD", "intset", "3", "1", "2", "100000"},
        {"SADD", "set", "x", "y", "z", "1"},
        {"HSET", "hash", "f1", "v1", "f2", "2", "f3", ""},
        {"EXPIRE", "hash", "500"},
        {"ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c", "0.1", "d", "1e300", "e"},
        {"SELECT", "3"},
        {"SET", "str", "hello"},
        {"RPUSH", "list", "c", "b", "a"},
        {"SELECT", "0"},
    };
    std::vector<std::string> bighash = {"HSET", "bighash"};
    std::vector<std::string> bigset = {"SADD", "bigset"};
    std::vector<std::string> biglist = {"RPUSH", "biglist"};
    std::vector<std::string> bigzset = {"ZADD", "bigzset"};
    for (int i = 0; i < 600; ++i) {
      bigzset.push_back(std::to_string(i) + "." + std::to_string(i % 7));
      bigzset.push_back("z" + std::to_string(i));
      bighash.push_back("field" + std::to_string(i));
      bighash.push_back(std::to_string(i * 3));
      bigset.push_back("m" + std::to_string(i));
      biglist.push_back(std::string(i % 50, 'q') + std::to_string(i));
    }
    cmds.push_back(bighash);
    cmds.push_back(bigset);
    cmds.push_back(biglist);
    cmds.push_back(bigzset);
    for (const auto& c : cmds) ExpectSame(c);
  }
  std::unique_ptr<ServerProcess> oracle_;
  RespConnection keel_, redis_;
};

TEST_F(DebugTest, DigestOfTheSameDatasetIsEqual) {
  ExpectSame({"DEBUG", "DIGEST"});  // empty: forty zeros
  LoadDataset();
  ExpectSame({"DEBUG", "DIGEST"});
  ExpectSame({"DEBUG", "DIGEST-VALUE", "str", "int", "neg", "padded", "big", "ttl", "list",
              "intset", "set", "hash", "bighash", "bigset", "biglist", "zset", "bigzset", "nokey"});
  ExpectSame({"DEBUG", "DIGEST-VALUE"});
  // A change moves the digest; undoing it restores it.
  auto before = keel_.Call({"DEBUG", "DIGEST"});
  ExpectSame({"LPUSH", "list", "new"});
  ExpectSame({"DEBUG", "DIGEST"});
  EXPECT_NE(keel_.Call({"DEBUG", "DIGEST"}), before);
  ExpectSame({"LPOP", "list"});
  EXPECT_EQ(keel_.Call({"DEBUG", "DIGEST"}), before);
  ExpectSame({"PERSIST", "hash"});
  ExpectSame({"DEBUG", "DIGEST"});
  ExpectSame({"SELECT", "3"});
  ExpectSame({"DEBUG", "DIGEST-VALUE", "list"});
  ExpectSame({"FLUSHDB"});
  ExpectSame({"DEBUG", "DIGEST"});
}

TEST_F(DebugTest, SubcommandRepliesMatchRedis) {
  LoadDataset();
  for (const char* t : {"string", "integer", "double", "bignum", "null", "array", "set", "map",
                        "attrib", "push", "verbatim", "true", "false", "nosuch"}) {
    ExpectSame({"DEBUG", "PROTOCOL", t});
  }
  // In RESP3 bignum, attrib and verbatim have types of their own (the HELLO replies differ in
  // their id and version fields, so only the protocol switch is checked).
  auto hello = Both({"HELLO", "3"});
  ASSERT_EQ(hello.first.substr(0, 1), "%");
  ASSERT_EQ(hello.second.substr(0, 1), "%");
  for (const char* t : {"string", "integer", "double", "bignum", "null", "array", "set", "map",
                        "attrib", "verbatim", "true", "false"}) {
    ExpectSame({"DEBUG", "PROTOCOL", t});
  }
  // push answers a push message and then the reply after it: two reads.
  ExpectSame({"DEBUG", "PROTOCOL", "push"});
  std::string k_after, r_after;
  ASSERT_TRUE(keel_.ReadReply(&k_after));
  ASSERT_TRUE(redis_.ReadReply(&r_after));
  EXPECT_EQ(k_after, r_after);
  // LATENCY DOCTOR and GRAPH are verbatim text in RESP3 (their wording is Keel's own).
  auto doctor = Both({"LATENCY", "DOCTOR"});
  EXPECT_EQ(doctor.first.substr(0, 1), "=");
  EXPECT_EQ(doctor.second.substr(0, 1), "=");
  Both({"HELLO", "2"});
  const std::vector<std::vector<std::string>> cmds = {
      {"DEBUG", "SLEEP", "0"},
      {"DEBUG", "SLEEP", "x"},
      {"DEBUG", "SLEEP", "0.01"},
      {"DEBUG", "SLEEP"},
      {"DEBUG", "SET-ACTIVE-EXPIRE", "0"},
      {"DEBUG", "SET-ACTIVE-EXPIRE", "1"},
      {"DEBUG", "SET-ACTIVE-EXPIRE"},
      {"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1k"},
      {"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"},
      {"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "x"},
      {"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"},
      {"DEBUG", "LISTPACK", "hash"},
      {"DEBUG", "LISTPACK", "list"},
      {"DEBUG", "LISTPACK", "bighash"},
      {"DEBUG", "LISTPACK", "nokey"},
      {"DEBUG", "LISTPACK"},
      {"DEBUG", "QUICKLIST", "list"},
      {"DEBUG", "QUICKLIST", "list", "1"},
      {"DEBUG", "QUICKLIST", "hash"},
      {"DEBUG", "QUICKLIST", "nokey"},
      {"DEBUG", "CHANGE-REPL-ID"},
      {"DEBUG", "CHANGE-REPL-ID", "x"},
      {"DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"},
      {"DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"},
      {"DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"},
      {"DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"},
      {"DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"},
      {"DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "abc"},
      {"DEBUG", "REPLYBUFFER", "RESIZING", "0"},
      {"DEBUG", "REPLYBUFFER", "RESIZING", "1"},
      {"DEBUG", "REPLYBUFFER", "foo", "1"},
      {"DEBUG", "REPLYBUFFER"},
      {"DEBUG", "NOSUCH"},
      {"DEBUG", "DIGEST", "x"},
  };
  for (const auto& c : cmds) ExpectSame(c);
}

TEST_F(DebugTest, StringmatchTestPasses) {
  // Redis's own run takes about ten seconds: only Keel's is checked.
  if (TestingRedis()) GTEST_SKIP() << "slow on redis-server";
  EXPECT_EQ(keel_.Call({"DEBUG", "STRINGMATCH-TEST"}),
            "+Apparently Redis did not crash: test passed\r\n");
}

TEST_F(DebugTest, SetActiveExpireZeroKeepsExpiredKeysUntilTouched) {
  ExpectSame({"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
  ExpectSame({"SET", "gone", "v", "PX", "1"});
  ExpectSame({"RPUSH", "gonelist", "a", "b"});
  ExpectSame({"PEXPIRE", "gonelist", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Not removed by the active cycle: still counted by DBSIZE on both servers.
  ExpectSame({"DBSIZE"});
  // The inspection commands read the table as it is: keys past their TTL are still part of the
  // dataset for them, and they do not delete them.
  ExpectSame({"DEBUG", "DIGEST"});
  ExpectSame({"DEBUG", "DIGEST-VALUE", "gone", "gonelist"});
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"MEMORY", "USAGE", "gone"},
                                             {"MEMORY", "USAGE", "gonelist"},
                                             {"DEBUG", "OBJECT", "gone"},
                                             {"DEBUG", "SDSLEN", "gone"}}) {
    // The numbers are each server's own: the reply types must agree.
    auto [k, r] = Both(cmd);
    ASSERT_FALSE(k.empty());
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(k[0], r[0]) << cmd[0] << " " << cmd[1] << ": " << k << " / " << r;
  }
  EXPECT_EQ(keel_.Call({"DEBUG", "OBJECT", "gone"}).substr(0, 10), "+Value at:");
  ExpectSame({"DBSIZE"});
  // A command that looks the key up (even DEBUG QUICKLIST) expires it.
  ExpectSame({"DEBUG", "QUICKLIST", "gonelist"});
  ExpectSame({"DBSIZE"});
  ExpectSame({"GET", "gone"});
  ExpectSame({"DBSIZE"});
  ExpectSame({"DEBUG", "DIGEST"});
  ExpectSame({"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
}

// POPULATE (keys, values, padding, existing keys kept, errors), LOG, ERROR, LEAK, MALLCTL-STR,
// PAUSE-CRON and SDSLEN's errors, against the oracle; then DIGEST of the populated dataset.
TEST_F(DebugTest, PopulateAndTheSmallSubcommandsMatchRedis) {
  const std::vector<std::vector<std::string>> cmds = {
      {"DEBUG", "POPULATE", "-1"},
      {"DEBUG", "POPULATE", "abc"},
      {"DEBUG", "POPULATE", "3", "p", "-2"},
      {"DEBUG", "POPULATE"},
      {"DEBUG", "POPULATE", "1", "2", "3", "4"},
      {"SET", "key:1", "mine"},
      {"DEBUG", "POPULATE", "1000"},
      {"DBSIZE"},
      {"MGET", "key:0", "key:1", "key:2", "key:999", "key:1000"},
      {"OBJECT", "ENCODING", "key:5"},
      {"DEBUG", "POPULATE", "3", "p", "0"},
      {"DEBUG", "POPULATE", "2", "pad", "10"},
      {"DEBUG", "POPULATE", "2", "cut", "3"},
      {"MGET", "p:2", "pad:1", "cut:1"},
      {"STRLEN", "pad:0"},
      {"DEBUG", "DIGEST"},
      {"DEBUG", "LOG", "a line for the log"},
      {"DEBUG", "LOG"},
      {"DEBUG", "ERROR", "MYERR something failed"},
      {"DEBUG", "ERROR", "x", "y"},
      {"DEBUG", "LEAK", "leaked"},
      {"DEBUG", "MALLCTL", "no.such.control"},
      {"DEBUG", "MALLCTL-STR", "no.such.control"},
      {"DEBUG", "PAUSE-CRON", "1"},
      {"DEBUG", "PAUSE-CRON", "0"},
      {"DEBUG", "SDSLEN", "nokey"},
      {"RPUSH", "alist", "a"},
      {"DEBUG", "SDSLEN", "alist"},
  };
  for (const auto& c : cmds) ExpectSame(c);
  // The log line is Keel's wording; it must reach the log.
  EXPECT_NE(server_->ReadLog().find("a line for the log"), std::string::npos);
}

// While the cron is paused, a key whose TTL passed stays counted (no active expiry); it goes
// once the cron runs again.
TEST_F(DebugTest, PauseCronStopsActiveExpiry) {
  ExpectSame({"DEBUG", "PAUSE-CRON", "1"});
  ExpectSame({"SET", "gone", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ExpectSame({"DBSIZE"});
  ExpectSame({"DEBUG", "PAUSE-CRON", "0"});
  for (int i = 0; i < 100 && keel_.Call({"DBSIZE"}) != ":0\r\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(keel_.Call({"DBSIZE"}), ":0\r\n");
}

// The text of a bulk ("$") or verbatim ("=...txt:") reply; "" for anything else.
std::string BulkText(const std::string& reply) {
  if (reply.empty() || (reply[0] != '$' && reply[0] != '=')) return "";
  size_t start = reply.find("\r\n") + 2;
  std::string text = reply.substr(start, reply.size() - start - 2);
  return reply[0] == '=' ? text.substr(4) : text;
}

// The sum of the values of every "<name>: <value>" line of HTSTATS text (a table being rehashed
// has two parts) before `end` (a section's start), as text; "" when there is none.
std::string StatLine(const std::string& text, const std::string& name,
                     const std::string& end = "[Expires HT]") {
  const std::string section = text.substr(0, text.find(end));
  const std::string label = " " + name + ": ";
  int64_t sum = 0;
  bool found = false;
  for (size_t at = section.find(label); at != std::string::npos; at = section.find(label, at + 1)) {
    sum += std::stoll(section.substr(at + label.size()));
    found = true;
  }
  return found ? std::to_string(sum) : "";
}

// HTSTATS, HTSTATS-KEY, STRUCTSIZE and the other subcommands Redis 7.0 has: their errors and
// argument counts byte for byte; the statistics (Keel's own tables) in Redis's layout, with the
// same element counts; an empty database's text byte for byte.
TEST_F(DebugTest, HtstatsStructsizeAndTheRestMatchRedisInErrorsAndLayout) {
  LoadDataset();
  const std::vector<std::vector<std::string>> cmds = {
      {"DEBUG", "HTSTATS"},
      {"DEBUG", "HTSTATS", "abc"},
      {"DEBUG", "HTSTATS", "16"},
      {"DEBUG", "HTSTATS", "-1"},
      {"DEBUG", "HTSTATS", "0", "full"},
      {"DEBUG", "HTSTATS", "5"},  // an empty database: the whole text is the same
      {"DEBUG", "HTSTATS-KEY"},
      {"DEBUG", "HTSTATS-KEY", "nokey"},
      {"DEBUG", "HTSTATS-KEY", "str"},
      {"DEBUG", "HTSTATS-KEY", "hash"},
      {"DEBUG", "HTSTATS-KEY", "list"},
      {"DEBUG", "HTSTATS-KEY", "intset"},
      {"DEBUG", "HTSTATS-KEY", "zset"},
      {"DEBUG", "HTSTATS-KEY", "bighash", "full"},
      {"DEBUG", "STRUCTSIZE", "x"},
      {"DEBUG", "AOF-FLUSH-SLEEP"},
      {"DEBUG", "AOF-FLUSH-SLEEP", "abc"},
      {"DEBUG", "AOF-FLUSH-SLEEP", "0"},
      {"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION"},
      {"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"},
      {"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0", "1"},
      {"DEBUG", "CONFIG-REWRITE-FORCE-ALL"},  // no config file
      {"DEBUG", "CONFIG-REWRITE-FORCE-ALL", "x"},
      {"DEBUG", "REPLICATE"},
      {"DEBUG", "REPLICATE", "SET x y"},
      {"DEBUG", "REPLICATE", "a", "b"},
      {"DEBUG", "DROP-CLUSTER-PACKET-FILTER", "-1"},
      {"DEBUG", "DROP-CLUSTER-PACKET-FILTER", "x"},
      {"DEBUG", "DROP-CLUSTER-PACKET-FILTER"},
      {"DEBUG", "CLUSTERLINK", "KILL", "to", "abc"},
      {"DEBUG", "CLUSTERLINK", "KILL"},
      {"DEBUG", "CLUSTERLINK", "x", "y", "z", "w"},
      {"DEBUG", "RESTART", "abc"},
      {"DEBUG", "CRASH-AND-RECOVER", "abc"},
  };
  for (const auto& c : cmds) ExpectSame(c);
  // Database 0's table: the layout and the element count are Redis's; the sizes are Keel's.
  for (int protocol : {2, 3}) {
    Both({"HELLO", std::to_string(protocol)});
    auto [k, r] = Both({"DEBUG", "HTSTATS", "0"});
    EXPECT_EQ(k.substr(0, 1), r.substr(0, 1)) << k;
    const std::string head =
        "[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: ";
    EXPECT_EQ(BulkText(k).substr(0, head.size()), head) << k;
    EXPECT_EQ(BulkText(r).substr(0, head.size()), head) << r;
    EXPECT_EQ(StatLine(BulkText(k), "number of elements"),
              StatLine(BulkText(r), "number of elements"));
    EXPECT_NE(BulkText(k).find("\n[Expires HT]\nHash table 0 stats (main hash table):\n"),
              std::string::npos)
        << k;
    EXPECT_NE(BulkText(k).find(" Chain length distribution:\n   0: "), std::string::npos) << k;
    // The big set, hash and sorted set have tables on both servers.
    for (const char* key : {"bigset", "bighash", "bigzset"}) {
      auto [kk, rk] = Both({"DEBUG", "HTSTATS-KEY", key});
      EXPECT_EQ(kk.substr(0, 1), rk.substr(0, 1)) << kk;
      const std::string key_head = "Hash table 0 stats (main hash table):\n table size: ";
      EXPECT_EQ(BulkText(kk).substr(0, key_head.size()), key_head) << kk;
      EXPECT_EQ(StatLine(BulkText(kk), "number of elements"), "600") << kk;
      EXPECT_EQ(StatLine(BulkText(rk), "number of elements"), "600") << rk;
    }
    auto [ks, rs] = Both({"DEBUG", "STRUCTSIZE"});
    EXPECT_EQ(ks.substr(0, 1), "$");
    EXPECT_EQ(rs.substr(0, 1), "$");
    EXPECT_EQ(BulkText(ks).substr(0, 8), "bits:64 ");
    EXPECT_EQ(BulkText(rs).substr(0, 8), "bits:64 ");
  }
}

// SET-SKIP-CHECKSUM-VALIDATION 1 lets RESTORE take a payload whose CRC is wrong; 0 refuses it
// again.
TEST_F(DebugTest, SkipChecksumValidationLetsRestoreTakeABadCrc) {
  ExpectSame({"SET", "src", "hello"});
  std::string dump = BulkText(keel_.Call({"DUMP", "src"}));
  ASSERT_EQ(dump, BulkText(redis_.Call({"DUMP", "src"})));
  ASSERT_GT(dump.size(), 10u);
  dump.back() = static_cast<char>(dump.back() ^ 0x5a);  // the CRC's last byte
  ExpectSame({"RESTORE", "copy", "0", dump});
  ExpectSame({"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"});
  ExpectSame({"RESTORE", "copy", "0", dump});
  ExpectSame({"GET", "copy"});
  ExpectSame({"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"});
  ExpectSame({"RESTORE", "copy2", "0", dump});
  ExpectSame({"EXISTS", "copy2"});
}

// A server with the AOF on (and DEBUG allowed).
class DebugAofTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer({"--appendonly", "yes", "--enable-debug-command", "yes"});
  }
};

// LOADAOF empties the data and replays the AOF: what was logged comes back (once, not doubled),
// what never reached the AOF (DEBUG POPULATE's keys) is gone, and writes after it are logged as
// before (a second reload finds them).
TEST_F(DebugAofTest, LoadaofReloadsExactlyWhatTheAofHolds) {
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"SET", "a", "1"}), "+OK\r\n");
  for (int i = 0; i < 3; ++i) c.Call({"INCR", "n"});
  EXPECT_EQ(c.Call({"RPUSH", "l", "x", "y"}), ":2\r\n");
  EXPECT_EQ(c.Call({"SELECT", "2"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"SET", "in2", "v"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"DEBUG", "POPULATE", "50"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"DBSIZE"}), ":53\r\n");
  EXPECT_EQ(c.Call({"DEBUG", "LOADAOF"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"DBSIZE"}), ":3\r\n") << "the populated keys were never logged";
  EXPECT_EQ(c.Call({"GET", "a"}), "$1\r\n1\r\n");
  EXPECT_EQ(c.Call({"GET", "n"}), "$1\r\n3\r\n");
  EXPECT_EQ(c.Call({"LRANGE", "l", "0", "-1"}), "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  EXPECT_EQ(c.Call({"SELECT", "2"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "in2"}), "$1\r\nv\r\n");
  EXPECT_EQ(c.Call({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"INCR", "n"}), ":4\r\n");
  EXPECT_EQ(c.Call({"DEBUG", "LOADAOF"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"GET", "n"}), "$1\r\n4\r\n");
  EXPECT_EQ(c.Call({"DBSIZE"}), ":3\r\n");
  // After a rewrite the base holds the data: the reload reads it from there.
  EXPECT_EQ(c.Call({"BGREWRITEAOF"}).substr(0, 1), "+");
  for (int i = 0; i < 200; ++i) {
    if (c.Call({"INFO", "persistence"}).find("aof_rewrite_in_progress:0") != std::string::npos &&
        c.Call({"INFO", "persistence"}).find("aof_rewrite_scheduled:0") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(c.Call({"SET", "after", "rw"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"DEBUG", "LOADAOF"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"MGET", "a", "n", "after"}), "*3\r\n$1\r\n1\r\n$1\r\n4\r\n$2\r\nrw\r\n");
  EXPECT_NE(server_->ReadLog().find("loaded by DEBUG LOADAOF"), std::string::npos);
}

// AOF-FLUSH-SLEEP delays each write of the AOF, and with it the replies that wait for it.
TEST_F(DebugAofTest, AofFlushSleepDelaysTheWriteAndTheReply) {
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"DEBUG", "AOF-FLUSH-SLEEP", "400000"}), "+OK\r\n");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.Call({"SET", "k", "v"}), "+OK\r\n");
  auto slow = std::chrono::steady_clock::now() - start;
  EXPECT_GE(slow, std::chrono::milliseconds(350));
  EXPECT_EQ(c.Call({"DEBUG", "AOF-FLUSH-SLEEP", "0"}), "+OK\r\n");
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.Call({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, slow);
}

// appendfsync always sends each reply with the fsync that covers its command's record: a client
// whose record that write took gets its reply then, while one whose command ran during the
// write waits for the next one, though both are served by the same io thread. AOF-FLUSH-SLEEP
// makes each write of the log take 300 ms.
class AofGroupCommitTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer({"--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes",
                 "--io-threads", "1"});
  }
};

TEST_F(AofGroupCommitTest, AReplyGoesWithTheFsyncThatCoversItsRecord) {
  RespConnection ctl = Connect(), a = Connect(), b = Connect();
  ASSERT_EQ(ctl.Call({"DEBUG", "AOF-FLUSH-SLEEP", "300000"}), "+OK\r\n");
  ASSERT_TRUE(a.SendCommand({"SET", "a", "1"}));
  std::this_thread::sleep_for(milliseconds(100));  // a's record is in the write that sleeps
  ASSERT_TRUE(b.SendCommand({"SET", "b", "2"}));
  std::string reply;
  ASSERT_TRUE(a.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_FALSE(b.ReadReply(&reply, milliseconds(100))) << "b's reply came with a's: " << reply;
  ASSERT_TRUE(b.ReadReply(&reply));
  EXPECT_EQ(reply, "+OK\r\n");
  EXPECT_EQ(ctl.Call({"DEBUG", "AOF-FLUSH-SLEEP", "0"}), "+OK\r\n");
  EXPECT_EQ(ctl.Call({"MGET", "a", "b"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

// With the AOF off there is nothing to load: Keel refuses and keeps the data (Redis empties the
// data and exits).
TEST_F(DebugTest, LoadaofWithTheAofOffIsRefusedAndKeepsTheData) {
  if (TestingRedis()) GTEST_SKIP() << "redis-server exits";
  EXPECT_EQ(keel_.Call({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(keel_.Call({"DEBUG", "LOADAOF"}),
            "-ERR The AOF is off (appendonly no): there is no AOF to load\r\n");
  EXPECT_EQ(keel_.Call({"GET", "k"}), "$1\r\nv\r\n");
}

// CONFIG-REWRITE-FORCE-ALL writes every option, defaults included, into the config file; a
// server starts from the file and has the same configuration.
TEST(DebugConfigRewriteTest, ForceAllWritesEveryOptionAndTheFileStartsAServer) {
  std::string dir = (std::filesystem::temp_directory_path() / "keel-debug-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/test.conf";
  std::ofstream(path) << "enable-debug-command yes\nmaxmemory-policy allkeys-lru\n";
  auto start = [&] {
    ServerOptions o;
    o.binary = KeelServerBinary();
    o.config_file = path;
    auto p = std::make_unique<ServerProcess>(o);
    EXPECT_TRUE(p->Start());
    return p;
  };
  auto server = start();
  RespConnection c;
  ASSERT_TRUE(c.Connect(server->port()));
  EXPECT_EQ(c.Call({"CONFIG", "SET", "hz", "20"}), "+OK\r\n");
  EXPECT_EQ(c.Call({"DEBUG", "CONFIG-REWRITE-FORCE-ALL"}), "+OK\r\n");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* line : {"\nmaxmemory-policy allkeys-lru\n", "\nhz 20\n", "\nmaxmemory 0\n",
                           "\nlatency-tracking yes\n", "\nappendfsync everysec\n", "\ndir "}) {
    EXPECT_NE(("\n" + text).find(line), std::string::npos) << line << " in:\n" << text;
  }
  ASSERT_TRUE(server->Stop());
  server = start();
  RespConnection again;
  ASSERT_TRUE(again.Connect(server->port()));
  EXPECT_EQ(again.Call({"CONFIG", "GET", "hz"}), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
  EXPECT_EQ(again.Call({"CONFIG", "GET", "maxmemory-policy"}),
            "*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n");
  ASSERT_TRUE(server->Stop());
  std::filesystem::remove_all(dir);
}

// A server with save points (and DEBUG allowed).
class DebugRestartTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer({"--enable-debug-command", "yes", "--save", "3600 1"});
  }
  // Sends `args` (no reply comes), waits for the close, then for the server to serve again.
  RespConnection RestartWith(const std::vector<std::string>& args) {
    RespConnection c = Connect();
    EXPECT_TRUE(c.SendCommand(args));
    EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(20)));
    RespConnection again;
    for (int i = 0; i < 200; ++i) {
      std::string pong;
      // Not Call: a connection the old process still took must not fail the test.
      if (again.Connect(server_->port()) && again.SendCommand({"PING"}) && again.ReadReply(&pong) &&
          pong == "+PONG\r\n") {
        break;
      }
      again.Close();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(server_->IsRunning());
    return again;
  }
};

// RESTART saves (save points are set) and executes the server again, which loads the RDB;
// CRASH-AND-RECOVER saves nothing first.
TEST_F(DebugRestartTest, RestartSavesAndComesBackCrashAndRecoverSavesNothing) {
  RespConnection c = Connect();
  EXPECT_EQ(c.Call({"SET", "k", "v"}), "+OK\r\n");
  RespConnection after = RestartWith({"DEBUG", "RESTART"});
  EXPECT_EQ(after.Call({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(after.Call({"SET", "k2", "v2"}), "+OK\r\n");
  RespConnection crashed = RestartWith({"DEBUG", "CRASH-AND-RECOVER", "10"});
  EXPECT_EQ(crashed.Call({"MGET", "k", "k2"}), "*2\r\n$1\r\nv\r\n$-1\r\n");
}

// ASSERT, PANIC, OOM and SEGFAULT crash the server on purpose: the connection closes and the
// process ends.
TEST_F(DebugTest, DeliberateCrashesEndTheServer) {
  for (const char* sub : {"SEGFAULT", "ASSERT", "PANIC", "OOM"}) {
    if (!server_->IsRunning()) StartServer({"--enable-debug-command", "yes"});
    RespConnection c = Connect();
    ASSERT_TRUE(c.SendCommand({"DEBUG", sub}));
    EXPECT_TRUE(c.WaitForClose(std::chrono::seconds(20))) << sub;
    EXPECT_TRUE(server_->WaitForExit(std::chrono::seconds(20))) << sub;
    EXPECT_FALSE(server_->exit_code() == std::optional<int>(0)) << sub;
  }
}

}  // namespace
}  // namespace keel::test
