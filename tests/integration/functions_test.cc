// Redis 7.0 functions over real sockets: libraries in RDB files (FUNCTION2 records) and FUNCTION
// DUMP payloads going both ways between Keel and Debian's redis-server, in the AOF (FUNCTION
// commands as themselves, FCALL as its effects), DEBUG RELOAD, and a long function's -BUSY,
// FUNCTION STATS and FUNCTION KILL.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/fixture.h"
#include "integration/persistence_util.h"

namespace keel::test {
namespace {

const std::string kLibA =
    "#!lua name=liba\n"
    "redis.register_function('seta', function(keys, args) "
    "return redis.call('set', keys[1], args[1]) end)\n"
    "redis.register_function{function_name='geta', callback=function(keys) "
    "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";
const std::string kLibB =
    "#!lua name=libb\n"
    "local function twice(s) return string.rep(s, 2) end\n"
    "redis.register_function('twice', function(keys, args) return twice(args[1]) end)";
const std::string kLibC =
    "#!lua name=libc\nredis.register_function('fromc', function() return 'c' end)";

using FunctionsTest = KeelAndRedisTest;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The library names FUNCTION LIST gives, sorted.
std::vector<std::string> LibraryNames(redisContext* c) {
  auto r = Cmd(c, {"FUNCTION", "LIST"});
  std::vector<std::string> names;
  for (size_t i = 0; r != nullptr && r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const redisReply* lib = r->element[i];
    for (size_t j = 0; j + 1 < lib->elements; j += 2) {
      if (Str(lib->element[j]) == "library_name") names.push_back(Str(lib->element[j + 1]));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Checks that `c` has liba and libb and that their functions run.
void ExpectLibsAB(redisContext* c, const std::string& where) {
  EXPECT_EQ(Str(Cmd(c, {"FCALL", "seta", "1", "fk", "v-" + where}).get()), "OK") << where;
  EXPECT_EQ(Str(Cmd(c, {"FCALL_RO", "geta", "1", "fk"}).get()), "v-" + where) << where;
  EXPECT_EQ(Str(Cmd(c, {"FCALL", "twice", "0", "ab"}).get()), "abab") << where;
}

TEST_F(FunctionsTest, KeelRdbLibrariesLoadInRedisAndPassRedisCheckRdb) {
  for (const char* compression : {"yes", "no"}) {
    auto k = Keel({"--rdbcompression", compression});
    auto c = ConnectTo(*k);
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibA}).get()), "liba");
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibB}).get()), "libb");
    Cmd(c.get(), {"SET", "plain", "key"});
    ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
    std::string file = k->dir() + "/dump.rdb";
    std::string check = "redis-check-rdb '" + file + "' > '" + k->dir() + "/check.log' 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << ReadFile(k->dir() + "/check.log");
    auto r = Redis({"--dir", k->dir()});
    auto rc = ConnectTo(*r);
    EXPECT_EQ(LibraryNames(rc.get()), (std::vector<std::string>{"liba", "libb"}));
    EXPECT_EQ(Str(Cmd(rc.get(), {"GET", "plain"}).get()), "key");
    ExpectLibsAB(rc.get(), std::string("redis-") + compression);
    // And Keel itself restarts with them.
    ASSERT_TRUE(k->Stop());
    auto k2 = Keel({"--dir", k->dir()});
    auto c2 = ConnectTo(*k2);
    EXPECT_EQ(LibraryNames(c2.get()), (std::vector<std::string>{"liba", "libb"}));
    ExpectLibsAB(c2.get(), std::string("keel-") + compression);
  }
}

TEST_F(FunctionsTest, RedisRdbLibrariesLoadInKeel) {
  auto r = Redis();
  auto rc = ConnectTo(*r);
  ASSERT_EQ(Str(Cmd(rc.get(), {"FUNCTION", "LOAD", kLibA}).get()), "liba");
  ASSERT_EQ(Str(Cmd(rc.get(), {"FUNCTION", "LOAD", kLibB}).get()), "libb");
  ASSERT_EQ(Str(Cmd(rc.get(), {"SAVE"}).get()), "OK");
  auto k = Keel({"--dir", r->dir()});
  auto c = ConnectTo(*k);
  EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"}));
  ExpectLibsAB(c.get(), "keel");
  auto list = Cmd(c.get(), {"FUNCTION", "LIST", "LIBRARYNAME", "liba", "WITHCODE"});
  ASSERT_EQ(list->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(list->elements, 1u);
  EXPECT_EQ(Str(list->element[0]->element[7]), kLibA);
}

TEST_F(FunctionsTest, FunctionDumpRestoresBothWays) {
  auto r = Redis();
  auto rc = ConnectTo(*r);
  auto k = Keel();
  auto c = ConnectTo(*k);
  ASSERT_EQ(Str(Cmd(rc.get(), {"FUNCTION", "LOAD", kLibA}).get()), "liba");
  ASSERT_EQ(Str(Cmd(rc.get(), {"FUNCTION", "LOAD", kLibB}).get()), "libb");
  std::string from_redis = Str(Cmd(rc.get(), {"FUNCTION", "DUMP"}).get());
  EXPECT_EQ(Str(Cmd(c.get(), {"FUNCTION", "RESTORE", from_redis}).get()), "OK");
  ExpectLibsAB(c.get(), "keel");
  // A second restore collides (APPEND), REPLACE and FLUSH do not. (Which library the error
  // names depends on the payload's order, Redis's hash table's: either is right.)
  for (redisContext* ctx : {c.get(), rc.get()}) {
    std::string err = Str(Cmd(ctx, {"FUNCTION", "RESTORE", from_redis}).get());
    EXPECT_TRUE(err == "ERR Library liba already exists" ||
                err == "ERR Library libb already exists")
        << err;
  }
  EXPECT_EQ(Str(Cmd(c.get(), {"FUNCTION", "RESTORE", from_redis, "REPLACE"}).get()), "OK");
  ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibC}).get()), "libc");
  std::string from_keel = Str(Cmd(c.get(), {"FUNCTION", "DUMP"}).get());
  EXPECT_EQ(Str(Cmd(rc.get(), {"FUNCTION", "RESTORE", from_keel, "FLUSH"}).get()), "OK");
  EXPECT_EQ(LibraryNames(rc.get()), (std::vector<std::string>{"liba", "libb", "libc"}));
  EXPECT_EQ(Str(Cmd(rc.get(), {"FCALL", "fromc", "0"}).get()), "c");
  EXPECT_EQ(Str(Cmd(c.get(), {"FUNCTION", "RESTORE", from_redis, "FLUSH"}).get()), "OK");
  EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"}));
}

// DEBUG RELOAD saves and loads the file: the libraries are the file's afterwards, as in Redis.
TEST_F(FunctionsTest, DebugReloadKeepsTheLibraries) {
  for (bool redis : {false, true}) {
    auto s =
        redis ? Redis({"--enable-debug-command", "yes"}) : Keel({"--enable-debug-command", "yes"});
    auto c = ConnectTo(*s);
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibA}).get()), "liba");
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibB}).get()), "libb");
    EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD"}).get()), "OK");
    EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"}));
    ExpectLibsAB(c.get(), redis ? "redis" : "keel");
    // NOSAVE: a library loaded since the file was written is gone, one deleted is back.
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibC}).get()), "libc");
    ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "DELETE", "libb"}).get()), "OK");
    EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD", "NOSAVE"}).get()), "OK");
    EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"}));
  }
}

std::string ReadAofDir(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".aof") continue;
    all += ReadFile(e.path().string());
  }
  return all;
}

// FUNCTION LOAD/DELETE/FLUSH/RESTORE are logged as themselves, FCALL as the commands it ran;
// after a restart (and after a rewrite, with and without the RDB preamble) everything is back,
// and Redis loads Keel's AOF directory too.
TEST_F(FunctionsTest, AofLogsFunctionCommandsAndFcallEffects) {
  for (const char* preamble : {"yes", "no"}) {
    std::string dir = TempDir();
    {
      auto k = Keel({"--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble});
      auto c = ConnectTo(*k);
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibA}).get()), "liba");
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibC}).get()), "libc");
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "DELETE", "libc"}).get()), "OK");
      std::string dump = Str(Cmd(c.get(), {"FUNCTION", "DUMP"}).get());
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "FLUSH"}).get()), "OK");
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "RESTORE", dump}).get()), "OK");
      ASSERT_EQ(Str(Cmd(c.get(), {"FUNCTION", "LOAD", kLibB}).get()), "libb");
      ASSERT_EQ(Str(Cmd(c.get(), {"FCALL", "seta", "1", "fk", "v1"}).get()), "OK");
      ASSERT_EQ(Str(Cmd(c.get(), {"FCALL_RO", "geta", "1", "fk"}).get()), "v1");
      ASSERT_TRUE(k->Stop());
      std::string log = ReadAofDir(dir + "/appendonlydir");
      EXPECT_EQ(log.find("FCALL"), std::string::npos) << log;
      EXPECT_EQ(log.find("fcall"), std::string::npos) << log;
      EXPECT_NE(log.find("$6\r\nDELETE\r\n"), std::string::npos) << log;
      EXPECT_NE(log.find("$7\r\nRESTORE\r\n"), std::string::npos) << log;
      EXPECT_NE(log.find("$5\r\nFLUSH\r\n"), std::string::npos) << log;
      EXPECT_NE(log.find("$3\r\nset\r\n$2\r\nfk\r\n$2\r\nv1"), std::string::npos) << log;
    }
    {
      auto k = Keel({"--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble});
      auto c = ConnectTo(*k);
      EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"}));
      EXPECT_EQ(Str(Cmd(c.get(), {"GET", "fk"}).get()), "v1");
      ExpectLibsAB(c.get(), "keel-replay");
      ASSERT_EQ(Str(Cmd(c.get(), {"BGREWRITEAOF"}).get()),
                "Background append only file rewriting started");
      for (int i = 0; i < 200 && InfoField(c.get(), "aof_rewrite_in_progress") != "0"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ASSERT_EQ(InfoField(c.get(), "aof_rewrite_in_progress"), "0");
      ASSERT_TRUE(k->Stop());
    }
    std::string check = "redis-check-aof '" + dir + "/appendonlydir/appendonly.aof.manifest' > '" +
                        dir + "/check.log' 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << ReadFile(dir + "/check.log");
    {
      auto k = Keel({"--dir", dir, "--appendonly", "yes"});
      auto c = ConnectTo(*k);
      EXPECT_EQ(LibraryNames(c.get()), (std::vector<std::string>{"liba", "libb"})) << preamble;
      ExpectLibsAB(c.get(), "keel-rewritten");
      ASSERT_TRUE(k->Stop());
    }
    auto r = Redis({"--dir", dir, "--appendonly", "yes"});
    auto rc = ConnectTo(*r);
    EXPECT_EQ(LibraryNames(rc.get()), (std::vector<std::string>{"liba", "libb"})) << preamble;
    ExpectLibsAB(rc.get(), "redis");
    ASSERT_TRUE(r->Stop());
    std::filesystem::remove_all(dir);
  }
}

void Send(redisContext* c, const std::vector<std::string>& args) {
  ASSERT_TRUE(HiredisAppend(c, args));
  int done = 0;
  while (!done) ASSERT_EQ(redisBufferWrite(c, &done), REDIS_OK);
}

class FunctionsBusyTest : public ThreadedServerTest {
 protected:
  // Sends `args` on several new connections (a command on the busy script's own io thread
  // waits for the script's end, see scripting_test.cc) and returns the connections.
  std::vector<RedisContextPtr> SendOnMany(const std::vector<std::string>& args) {
    std::vector<RedisContextPtr> out;
    for (int i = 0; i < 8; ++i) out.push_back(Client());
    for (auto& c : out) Send(c.get(), args);
    return out;
  }
};

// A function past busy-reply-threshold: others get the -BUSY that names FUNCTION KILL, SCRIPT
// KILL cannot stop it (that same -BUSY), FUNCTION STATS describes it, FUNCTION KILL stops it.
TEST_F(FunctionsBusyTest, LongFunctionIsBusyAndOnlyFunctionKillStopsIt) {
  if (TestingRedis()) GTEST_SKIP() << "needs Keel's threads (see scripting_test.cc)";
  const std::string busy_function =
      "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
  auto admin = Client();
  ASSERT_EQ(Str(Run(admin.get(), {"CONFIG", "SET", "busy-reply-threshold", "100"}).get()), "OK");
  ASSERT_EQ(Str(Run(admin.get(), {"FUNCTION", "LOAD",
                                  "#!lua name=busy\nredis.register_function('spin', function() "
                                  "local i = 0 while true do i = i + 1 end end)"})
                    .get()),
            "busy");
  auto runner = Client();
  Send(runner.get(), {"FCALL", "spin", "0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto getters = SendOnMany({"GET", "x"});
  auto script_killers = SendOnMany({"SCRIPT", "KILL"});
  auto stats = SendOnMany({"FUNCTION", "STATS"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto killers = SendOnMany({"FUNCTION", "KILL"});
  int ok = 0;
  for (auto& c : killers) {
    auto r = HiredisGetReply(c.get());
    ASSERT_NE(r, nullptr);
    if (Str(r.get()) == "OK") ++ok;
  }
  EXPECT_GE(ok, 1);
  auto killed = HiredisGetReply(runner.get());
  EXPECT_EQ(Str(killed.get())
                .rfind("ERR Script killed by user with SCRIPT KILL... script: spin, "
                       "on @user_function:2.",
                       0),
            0u)
      << Str(killed.get());
  int busy = 0, script_kill_refused = 0, described = 0;
  for (auto& c : getters) {
    auto r = HiredisGetReply(c.get());
    if (r != nullptr && r->type == REDIS_REPLY_ERROR) {
      EXPECT_EQ(Str(r.get()), busy_function);
      ++busy;
    }
  }
  for (auto& c : script_killers) {
    auto r = HiredisGetReply(c.get());
    if (r != nullptr && Str(r.get()) == busy_function) ++script_kill_refused;
  }
  for (auto& c : stats) {
    auto r = HiredisGetReply(c.get());
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
    ASSERT_EQ(r->elements, 4u);
    const redisReply* running = r->element[1];
    if (running->type == REDIS_REPLY_ARRAY) {
      ASSERT_EQ(running->elements, 6u);
      EXPECT_EQ(Str(running->element[1]), "spin");
      EXPECT_EQ(Strings(running->element[3]), (std::vector<std::string>{"FCALL", "spin", "0"}));
      EXPECT_GE(running->element[5]->integer, 100);
      ++described;
    }
  }
  EXPECT_GE(busy, 1);
  EXPECT_GE(script_kill_refused, 1);
  EXPECT_GE(described, 1);
  EXPECT_EQ(Str(Run(admin.get(), {"FUNCTION", "KILL"}).get()),
            "NOTBUSY No scripts in execution right now.");
}

// An EVAL past the threshold: FUNCTION KILL and FUNCTION STATS answer the -BUSY that names
// SCRIPT KILL, which stops it.
TEST_F(FunctionsBusyTest, FunctionKillCannotStopAnEval) {
  if (TestingRedis()) GTEST_SKIP() << "needs Keel's threads (see scripting_test.cc)";
  const std::string busy_script =
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
  auto admin = Client();
  ASSERT_EQ(Str(Run(admin.get(), {"CONFIG", "SET", "busy-reply-threshold", "100"}).get()), "OK");
  auto runner = Client();
  Send(runner.get(), {"EVAL", "local i = 0 while true do i = i + 1 end", "0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto function_killers = SendOnMany({"FUNCTION", "KILL"});
  auto stats = SendOnMany({"FUNCTION", "STATS"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto killers = SendOnMany({"SCRIPT", "KILL"});
  int ok = 0;
  for (auto& c : killers) {
    auto r = HiredisGetReply(c.get());
    if (r != nullptr && Str(r.get()) == "OK") ++ok;
  }
  EXPECT_GE(ok, 1);
  auto killed = HiredisGetReply(runner.get());
  EXPECT_EQ(Str(killed.get()).rfind("ERR Script killed by user with SCRIPT KILL...", 0), 0u);
  int refused = 0, stats_refused = 0;
  for (auto& c : function_killers) {
    auto r = HiredisGetReply(c.get());
    if (r != nullptr && Str(r.get()) == busy_script) ++refused;
  }
  for (auto& c : stats) {
    auto r = HiredisGetReply(c.get());
    if (r != nullptr && Str(r.get()) == busy_script) ++stats_refused;
  }
  EXPECT_GE(refused, 1);
  EXPECT_GE(stats_refused, 1);
}

}  // namespace
}  // namespace keel::test
