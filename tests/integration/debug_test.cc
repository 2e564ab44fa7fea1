// DEBUG subcommands against the oracle: the server under test and a redis-server, both with
// enable-debug-command yes, get the same dataset; DEBUG DIGEST (the whole dataset) and
// DEBUG DIGEST-VALUE (per key) must be equal, byte for byte, and so must every other DEBUG
// reply that does not depend on timing or memory addresses.
#include <chrono>
#include <memory>
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
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Not removed by the active cycle: still counted by DBSIZE on both servers.
  ExpectSame({"DBSIZE"});
  ExpectSame({"GET", "gone"});
  ExpectSame({"DBSIZE"});
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

}  // namespace
}  // namespace keel::test
