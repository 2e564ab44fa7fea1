// The dispatcher and the command table without a network: name lookup, arity checks, the error
// texts for unknown commands and subcommands, key positions from key specs, and WATCH touching
// every key a write command names.

#include "keel/commands/dispatcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "keel/commands/command_meta.h"
#include "keel/common/clock.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {
namespace {

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : keyspace_(16) {
    state_.config = &config_;
    state_.keyspace = &keyspace_;
    RegisterAllCommands();
    dispatcher_ = std::make_unique<Dispatcher>(&state_);
    a_.authenticated = true;
    b_.authenticated = true;
  }

  // Runs one command for `client` and returns its raw reply.
  std::string Run(Client& client, std::vector<std::string_view> args) {
    std::string out;
    dispatcher_->Execute(client, args, &out);
    return out;
  }

  Config config_;
  Keyspace keyspace_;
  ServerState state_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Client a_, b_;
};

TEST_F(DispatcherTest, UnknownCommandQuotesItsArguments) {
  EXPECT_EQ(Run(a_, {"nosuch", "a", "b c"}),
            "-ERR unknown command 'nosuch', with args beginning with: 'a' 'b c' \r\n");
  EXPECT_EQ(Run(a_, {"nosuch"}), "-ERR unknown command 'nosuch', with args beginning with: \r\n");
  // CR and LF in what is quoted become spaces, so the error stays one line.
  EXPECT_EQ(Run(a_, {"no\r\nsuch"}),
            "-ERR unknown command 'no  such', with args beginning with: \r\n");
}

TEST_F(DispatcherTest, UnknownSubcommandAndBareContainer) {
  EXPECT_EQ(Run(a_, {"config", "nosuch"}),
            "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.\r\n");
  EXPECT_EQ(Run(a_, {"CLIENT"}), "-ERR wrong number of arguments for 'client' command\r\n");
}

TEST_F(DispatcherTest, ArityFixedAndMinimum) {
  EXPECT_EQ(Run(a_, {"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run(a_, {"GET", "k", "x"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run(a_, {"MSET", "k"}), "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(Run(a_, {"MSET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"gEt", "k"}), "$1\r\nv\r\n");  // names are case-insensitive
  EXPECT_EQ(Run(a_, {"config", "get"}),
            "-ERR wrong number of arguments for 'config|get' command\r\n");
}

TEST_F(DispatcherTest, AuthenticationIsRequiredUnlessExempt) {
  Client c;
  EXPECT_EQ(Run(c, {"GET", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(Run(c, {"nosuch"}), "-ERR unknown command 'nosuch', with args beginning with: \r\n");
}

TEST_F(DispatcherTest, QueueingErrorAbortsExec) {
  EXPECT_EQ(Run(a_, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"SET", "k", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(Run(a_, {"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run(a_, {"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
}

// WATCH on each key position of a multi-key write: the write touches every key it names.
TEST_F(DispatcherTest, WriteTouchesEveryWatchedKeyPosition) {
  for (std::string_view watched : {"a", "b", "c"}) {
    EXPECT_EQ(Run(a_, {"WATCH", watched}), "+OK\r\n");
    EXPECT_EQ(Run(b_, {"MSET", "a", "1", "b", "2", "c", "3"}), "+OK\r\n");
    EXPECT_EQ(Run(a_, {"MULTI"}), "+OK\r\n");
    EXPECT_EQ(Run(a_, {"PING"}), "+QUEUED\r\n");
    EXPECT_EQ(Run(a_, {"EXEC"}), "*-1\r\n") << "watching " << watched;
  }
  // A key the write does not name stays untouched.
  EXPECT_EQ(Run(a_, {"WATCH", "z"}), "+OK\r\n");
  EXPECT_EQ(Run(b_, {"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"PING"}), "+QUEUED\r\n");
  EXPECT_EQ(Run(a_, {"EXEC"}), "*1\r\n+PONG\r\n");
}

TEST_F(DispatcherTest, FailedWriteDoesNotTouch) {
  EXPECT_EQ(Run(b_, {"RPUSH", "l", "x"}), ":1\r\n");
  EXPECT_EQ(Run(a_, {"WATCH", "l"}), "+OK\r\n");
  EXPECT_EQ(Run(b_, {"INCR", "l"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  EXPECT_EQ(Run(a_, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"PING"}), "+QUEUED\r\n");
  EXPECT_EQ(Run(a_, {"EXEC"}), "*1\r\n+PONG\r\n");
}

// A watched key whose TTL passes before EXEC counts as changed, even though nothing deleted it
// yet (no active expiry runs here): EXEC aborts.
TEST_F(DispatcherTest, WatchedKeyExpiringBeforeExecAborts) {
  // A generous TTL, so that the key is still alive when WATCH runs, however slow the machine.
  EXPECT_EQ(Run(b_, {"SET", "e", "v", "PX", "1000"}), "+OK\r\n");
  int64_t expired_at = NowUnixMs() + 1001;
  EXPECT_EQ(Run(a_, {"WATCH", "e"}), "+OK\r\n");
  while (NowUnixMs() <= expired_at) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(Run(a_, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"PING"}), "+QUEUED\r\n");
  EXPECT_EQ(Run(a_, {"EXEC"}), "*-1\r\n");
}

// No active expiry runs here, so an expired key stays in the table until something looks at it:
// SCAN must skip (and delete) it rather than return it.
TEST_F(DispatcherTest, ScanSkipsExpiredKeysStillInTheTable) {
  EXPECT_EQ(Run(a_, {"SET", "live", "1"}), "+OK\r\n");
  EXPECT_EQ(Run(a_, {"SET", "gone", "1", "PX", "1"}), "+OK\r\n");
  int64_t expired_at = NowUnixMs() + 2;
  while (NowUnixMs() <= expired_at) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(Run(a_, {"SCAN", "0", "COUNT", "1000"}), "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n");
  EXPECT_EQ(Run(a_, {"DBSIZE"}), ":1\r\n");  // and SCAN deleted it
}

// HSCAN's COUNT counts fields and values (as Redis does): COUNT 20 returns about ten fields a
// call, not twenty.
TEST_F(DispatcherTest, HscanCountCountsFieldsAndValues) {
  std::vector<std::string> fields;
  std::vector<std::string_view> hset = {"HSET", "h"};
  for (int i = 0; i < 600; ++i) fields.push_back("field" + std::to_string(i));  // past 512
  for (const std::string& f : fields) {
    hset.push_back(f);
    hset.push_back("v");
  }
  EXPECT_EQ(Run(a_, hset), ":600\r\n");
  EXPECT_EQ(Run(a_, {"OBJECT", "ENCODING", "h"}), "$9\r\nhashtable\r\n");
  std::string page = Run(a_, {"HSCAN", "h", "0", "COUNT", "20"});
  // "*2\r\n$<cursor>...\r\n*<2 x fields>\r\n...": read the element count of the inner array.
  size_t inner = page.find("\r\n*");
  ASSERT_NE(inner, std::string::npos) << page;
  int elements = std::stoi(page.substr(inner + 3));
  EXPECT_GE(elements, 20) << page;  // at least ten fields and their values
  EXPECT_LT(elements, 40) << page;  // fewer than twenty fields
}

// Key positions come from the key specs: ranges with steps, keynum specs, keyword searches.
std::vector<int> Keys(std::vector<std::string_view> args) {
  const CommandMeta* meta = FindCommandMeta(args[0]);
  EXPECT_NE(meta, nullptr) << args[0];
  std::vector<int> positions;
  if (meta == nullptr || !GetKeyPositions(*meta, args, &positions)) return {-1};
  return positions;
}

TEST(CommandTable, KeyPositionsFromKeySpecs) {
  EXPECT_EQ(Keys({"GET", "k"}), (std::vector<int>{1}));
  EXPECT_EQ(Keys({"MSET", "a", "1", "b", "2"}), (std::vector<int>{1, 3}));
  EXPECT_EQ(Keys({"DEL", "a", "b", "c"}), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Keys({"SINTERSTORE", "d", "a", "b"}), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Keys({"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}), (std::vector<int>{1, 2}));
  EXPECT_EQ(Keys({"BLPOP", "a", "b", "0"}), (std::vector<int>{1, 2}));
  EXPECT_EQ(Keys({"LMPOP", "2", "a", "b", "LEFT"}), (std::vector<int>{2, 3}));
  EXPECT_EQ(Keys({"BLMPOP", "0", "1", "a", "LEFT"}), (std::vector<int>{3}));
  EXPECT_EQ(Keys({"SINTERCARD", "2", "a", "b", "LIMIT", "1"}), (std::vector<int>{2, 3}));
  EXPECT_EQ(Keys({"BITOP", "AND", "d", "a", "b"}), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(Keys({"RENAME", "a", "b"}), (std::vector<int>{1, 2}));
  EXPECT_EQ(Keys({"PING"}), (std::vector<int>{}));
}

// The net layer prefetches the key the dispatcher names as a command's first, which comes from
// the key specs, not from argument 1: EVAL's argument 1 is the script, ZUNION's keys follow
// numkeys, ZUNIONSTORE's first key is its destination, OBJECT ENCODING's is argument 2, and PING,
// ECHO, PUBLISH and EVAL with no keys name none.
TEST_F(DispatcherTest, FirstKeyPositionComesFromTheKeySpecs) {
  auto first = [&](std::vector<std::string_view> args) {
    return dispatcher_->FirstKeyPosition(args);
  };
  EXPECT_EQ(first({"SET", "k", "v"}), 1);
  EXPECT_EQ(first({"get", "k"}), 1);
  EXPECT_EQ(first({"LPUSH", "l", "a", "b"}), 1);
  EXPECT_EQ(first({"MSET", "a", "1", "b", "2"}), 1);
  EXPECT_EQ(first({"EVAL", "return 1", "2", "k1", "k2", "arg"}), 3);
  EXPECT_EQ(first({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "k"}), 3);
  EXPECT_EQ(first({"FCALL", "f", "1", "k"}), 3);
  EXPECT_EQ(first({"EVAL", "return 1", "0"}), 0);
  EXPECT_EQ(first({"EVAL", "return 1", "notanumber", "k"}), 0);
  EXPECT_EQ(first({"ZUNIONSTORE", "dst", "2", "a", "b"}), 1);
  EXPECT_EQ(first({"ZUNION", "2", "a", "b"}), 2);
  EXPECT_EQ(first({"LMPOP", "2", "a", "b", "LEFT"}), 2);
  EXPECT_EQ(first({"BLMPOP", "0", "1", "a", "LEFT"}), 3);
  EXPECT_EQ(first({"BITOP", "AND", "d", "a"}), 2);
  EXPECT_EQ(first({"GEORADIUS", "src", "15", "37", "200", "km", "STORE", "dst"}), 1);
  EXPECT_EQ(first({"OBJECT", "ENCODING", "k"}), 2);
  EXPECT_EQ(first({"SORT", "k", "BY", "w_*", "STORE", "d"}), 1);
  EXPECT_EQ(first({"PING"}), 0);
  EXPECT_EQ(first({"ECHO", "not-a-key"}), 0);
  EXPECT_EQ(first({"PUBLISH", "channel", "message"}), 0);
  EXPECT_EQ(first({"CONFIG", "GET", "maxmemory"}), 0);
  EXPECT_EQ(first({"nosuch", "k"}), 0);
  EXPECT_EQ(first({"GET"}), 0);  // too short: no key yet (the arity check replies later)
  EXPECT_EQ(first({}), 0);
}

TEST(CommandTable, NamesAritiesAndFlags) {
  const CommandMeta* get = FindCommandMeta("GeT");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(MetaName(*get), "get");
  EXPECT_EQ(MetaArity(*get), 2);
  EXPECT_TRUE(MetaFlags(*get) & kCmdReadonly);
  EXPECT_FALSE(MetaFlags(*get) & kCmdWrite);
  const CommandMeta* mset = FindCommandMeta("mset");
  ASSERT_NE(mset, nullptr);
  EXPECT_EQ(MetaArity(*mset), -3);
  EXPECT_TRUE(MetaFlags(*mset) & kCmdWrite);
  const CommandMeta* config = FindCommandMeta("config");
  ASSERT_NE(config, nullptr);
  EXPECT_TRUE(MetaHasSubcommands(*config));
  const CommandMeta* config_get = FindSubcommandMeta(*config, "GET");
  ASSERT_NE(config_get, nullptr);
  EXPECT_EQ(MetaName(*config_get), "config|get");
  EXPECT_EQ(MetaArity(*config_get), -3);
  EXPECT_EQ(FindCommandMeta("nosuch"), nullptr);
  EXPECT_EQ(FindSubcommandMeta(*config, "nosuch"), nullptr);
}

}  // namespace
}  // namespace keel
