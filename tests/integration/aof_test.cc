// The append-only file against the real thing: every write comes back after a restart under each
// fsync policy, Keel's appendonlydir passes redis-check-aof and loads in Debian's redis-server
// 7.0, Redis's appendonlydir (RDB or RESP base, timestamps, history) loads in Keel, truncated and
// damaged files are handled as Redis handles them, and with appendfsync always no acknowledged
// write is lost to a SIGKILL.

#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "integration/fixture.h"
#include "integration/persistence_util.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes that each have a replayable form other than their arguments, on top of Populate.
void AofWorkload(ServerProcess& p, redisContext* c) {
  auto run = [&](std::vector<std::string> args) {
    auto r = Cmd(c, args);
    ASSERT_NE(r->type, REDIS_REPLY_ERROR) << args[0] << " " << Str(r.get());
  };
  Populate(c, "");
  run({"SET", "ex", "v", "EX", "1000"});
  run({"SET", "pxat", "v", "PXAT", "9999999999999"});
  run({"SETEX", "setex", "1000", "v"});
  run({"PSETEX", "psetex", "1000000", "v"});
  run({"SET", "exp", "v"});
  run({"EXPIRE", "exp", "1000"});
  run({"SET", "pexp", "v"});
  run({"PEXPIRE", "pexp", "1000000", "NX"});
  run({"SET", "gone", "v"});
  run({"EXPIRE", "gone", "-1"});  // deletes it: logged as DEL
  run({"SET", "getex", "v"});
  run({"GETEX", "getex", "PX", "500000"});
  run({"SET", "persist", "v", "EX", "100"});
  run({"GETEX", "persist", "PERSIST"});
  run({"SET", "lazy", "v", "PX", "1"});
  std::this_thread::sleep_for(milliseconds(20));
  run({"GET", "lazy"});  // lazy expiry: logged as DEL
  for (int i = 0; i < 3; ++i) run({"INCRBYFLOAT", "float", "1.1"});
  run({"HINCRBYFLOAT", "hf", "f", "2.5"});
  run({"SADD", "spop", "a", "b", "c", "d", "e", "f"});
  run({"SPOP", "spop"});
  run({"SPOP", "spop", "2"});
  run({"SADD", "spopall", "a", "b"});
  run({"SPOP", "spopall", "5"});
  run({"MULTI"});
  run({"SET", "tx", "1"});
  run({"INCR", "tx"});
  run({"SELECT", "5"});
  run({"SET", "tx5", "in5"});
  run({"EXEC"});
  run({"SET", "after-exec", "db5"});  // the EXEC left this client in db 5
  run({"SELECT", "0"});
  run({"SET", "mv", "moved"});
  run({"MOVE", "mv", "7"});
  run({"SET", "cp", "copied", "EX", "5000"});
  run({"COPY", "cp", "cp2", "DB", "8"});
  run({"SELECT", "9"});
  run({"SET", "in9", "x"});
  run({"SWAPDB", "9", "10"});
  run({"SELECT", "11"});
  run({"SET", "flushed", "x"});
  run({"FLUSHDB"});
  run({"SELECT", "0"});
  run({"SET", "ren", "x"});
  run({"RENAME", "ren", "renamed"});
  run({"RPUSH", "q", "1", "2", "3"});
  run({"BLPOP", "nothing", "q", "0"});  // served at once: an LPOP
  run({"BLMOVE", "q", "q2", "RIGHT", "LEFT", "0"});
  auto payload = Cmd(c, {"DUMP", "hash"});
  run({"RESTORE", "restored", "100000", Str(payload.get())});
  // A pop served to a blocked client is logged as the pop it became.
  auto blocked = ConnectTo(p);
  redisAppendCommand(blocked.get(), "BLPOP served 0");
  redisBufferWrite(blocked.get(), nullptr);
  for (int i = 0;
       i < 200 && Str(Cmd(c, {"CLIENT", "LIST"}).get()).find("cmd=blpop") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  run({"RPUSH", "served", "a", "b"});
  void* reply = nullptr;
  ASSERT_EQ(redisGetReply(blocked.get(), &reply), REDIS_OK);
  freeReplyObject(reply);
  // The same for sorted sets: served at once (a ZPOPMIN, a ZMPOP) and served later.
  run({"ZADD", "zq", "1", "a", "2", "b", "3", "c", "4", "d"});
  run({"BZPOPMIN", "nothing", "zq", "0"});
  run({"BZMPOP", "0", "1", "zq", "MAX", "COUNT", "2"});
  redisAppendCommand(blocked.get(), "BZPOPMAX zserved 0");
  redisBufferWrite(blocked.get(), nullptr);
  for (int i = 0;
       i < 200 && Str(Cmd(c, {"CLIENT", "LIST"}).get()).find("cmd=bzpopmax") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  run({"ZADD", "zserved", "1", "x", "2", "y"});
  ASSERT_EQ(redisGetReply(blocked.get(), &reply), REDIS_OK);
  freeReplyObject(reply);
  // Geo writes: GEOADD (with its options) and the searches that store.
  run({"GEOADD", "geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"});
  run({"GEOADD", "geo", "CH", "XX", "13.4", "38.2", "Palermo", "1", "1", "absent"});
  run({"GEOADD", "geo", "NX", "-179.999", "-85.05", "edge", "1", "1", "Palermo"});
  run({"GEORADIUS", "geo", "15", "37", "200", "km", "STOREDIST", "geodist"});
  run({"GEORADIUSBYMEMBER", "geo", "Catania", "300", "km", "STORE", "geostore"});
  run({"GEOSEARCHSTORE", "geobox", "geo", "FROMLONLAT", "14", "38", "BYBOX", "400", "400", "km"});
}

class AofTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (TestingRedis()) GTEST_SKIP() << "Keel against Redis: needs Keel as the server under test";
  }
  std::unique_ptr<ServerProcess> Keel(const std::string& dir, std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"--dir", dir, "--appendonly", "yes"};
    all.insert(all.end(), args.begin(), args.end());
    return StartProcess(KeelServerBinary(), std::move(all));
  }
  std::unique_ptr<ServerProcess> Redis(const std::string& dir, std::vector<std::string> args = {}) {
    std::vector<std::string> all = {"--dir", dir, "--appendonly", "yes"};
    all.insert(all.end(), args.begin(), args.end());
    return StartProcess(RedisServerBinary(), std::move(all));
  }
  // A server that must refuse to start: its exit code and log.
  std::string FailingStart(const std::string& dir, std::vector<std::string> args = {}) {
    ServerOptions o;
    o.binary = KeelServerBinary();
    o.args = {"--dir", dir, "--appendonly", "yes"};
    o.args.insert(o.args.end(), args.begin(), args.end());
    o.wait_until_ready = false;
    ServerProcess p(o);
    EXPECT_TRUE(p.Start());
    EXPECT_TRUE(p.WaitForExit(milliseconds(20000)));
    EXPECT_NE(p.exit_code().value_or(0), 0) << p.DescribeStatus();
    return p.ReadLog();
  }
  static void WaitRewrite(redisContext* c) {
    for (int i = 0; i < 2000; ++i) {
      if (InfoField(c, "aof_rewrite_in_progress") == "0" &&
          InfoField(c, "aof_rewrite_scheduled") == "0") {
        return;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "the AOF rewrite did not finish";
  }
};

TEST_F(AofTest, EveryWriteComesBackAfterRestartUnderEachFsyncPolicy) {
  for (std::string policy : {"always", "everysec", "no"}) {
    SCOPED_TRACE(policy);
    std::string dir = TempDir();
    std::string want;
    {
      auto k = Keel(dir, {"--appendfsync", policy});
      auto c = ConnectTo(*k);
      AofWorkload(*k, c.get());
      EXPECT_EQ(InfoField(c.get(), "aof_enabled"), "1");
      EXPECT_EQ(InfoField(c.get(), "aof_last_write_status"), "ok");
      want = Canon(c.get());
      ASSERT_TRUE(k->Stop());
    }
    auto k = Keel(dir, {"--appendfsync", policy});
    auto c = ConnectTo(*k);
    EXPECT_EQ(Canon(c.get()), want);
    // Redis 7.0 reads the same directory to the same dataset, and redis-check-aof accepts it.
    ASSERT_TRUE(k->Stop());
    std::string check = "redis-check-aof '" + dir + "/appendonlydir/appendonly.aof.manifest' > '" +
                        dir + "/check.log' 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << ReadFile(dir + "/check.log");
    auto r = Redis(dir);
    auto rc = ConnectTo(*r);
    EXPECT_EQ(Canon(rc.get()), want);
    ASSERT_TRUE(r->Stop());
    std::filesystem::remove_all(dir);
  }
}

TEST_F(AofTest, RewriteMakesANewBaseAndLosesNothingUnderConcurrentWriters) {
  std::string dir = TempDir();
  auto k = Keel(dir, {"--keel-bgsave-shard-delay-us", "200"});
  auto c = ConnectTo(*k);
  Populate(c.get(), "");
  std::atomic<bool> stop{false};
  std::vector<int64_t> acked(4, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto wc = ConnectTo(*k);
      while (!stop.load()) {
        auto r = Cmd(wc.get(), {"INCR", "counter" + std::to_string(w)});
        if (r->type != REDIS_REPLY_INTEGER) break;
        acked[w] = r->integer;
        Cmd(wc.get(), {"RPUSH", "log" + std::to_string(w), std::to_string(r->integer)});
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(Str(Cmd(c.get(), {"BGREWRITEAOF"}).get()),
            "Background append only file rewriting started");
  WaitRewrite(c.get());
  std::this_thread::sleep_for(milliseconds(100));
  stop.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(InfoField(c.get(), "aof_last_bgrewrite_status"), "ok");
  EXPECT_EQ(InfoField(c.get(), "aof_rewrites"), "1");
  std::string manifest = ReadFile(dir + "/appendonlydir/appendonly.aof.manifest");
  EXPECT_EQ(manifest,
            "file appendonly.aof.2.base.rdb seq 2 type b\n"
            "file appendonly.aof.2.incr.aof seq 2 type i\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/appendonlydir/appendonly.aof.1.incr.aof"));
  std::string want = Canon(c.get());
  ASSERT_TRUE(k->Stop());
  auto k2 = Keel(dir);
  auto c2 = ConnectTo(*k2);
  EXPECT_EQ(Canon(c2.get()), want);
  for (int w = 0; w < 4; ++w) {
    EXPECT_EQ(Str(Cmd(c2.get(), {"GET", "counter" + std::to_string(w)}).get()),
              std::to_string(acked[w]));
    EXPECT_EQ(Str(Cmd(c2.get(), {"LLEN", "log" + std::to_string(w)}).get()),
              std::to_string(acked[w]));
  }
  ASSERT_TRUE(k2->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, RedisAppendOnlyDirLoadsInKeel) {
  for (std::string preamble : {"yes", "no"}) {
    SCOPED_TRACE("aof-use-rdb-preamble " + preamble);
    std::string dir = TempDir();
    std::string want;
    {
      auto r = Redis(dir, {"--aof-use-rdb-preamble", preamble, "--aof-timestamp-enabled", "yes",
                           "--aof-disable-auto-gc", "yes"});
      auto rc = ConnectTo(*r);
      Populate(rc.get(), "a:");
      EXPECT_EQ(Str(Cmd(rc.get(), {"BGREWRITEAOF"}).get()),
                "Background append only file rewriting started");
      WaitRewrite(rc.get());
      Populate(rc.get(), "b:");
      Cmd(rc.get(), {"INCRBYFLOAT", "f", "2.5"});
      Cmd(rc.get(), {"SET", "e", "v", "EX", "1000"});
      ASSERT_TRUE(r->Stop());
    }
    // The reference is Redis's own load of a copy of the directory, not its memory before the
    // stop: the rewrite writes a big sorted set in batches of 64 in hash order, and the batch
    // that creates the key makes a listpack, which keeps a -0 score as 0. Which member lands in
    // that batch varies from run to run, in Redis as in Keel.
    std::string copy = dir + "-redis";
    std::filesystem::copy(dir, copy, std::filesystem::copy_options::recursive);
    {
      auto r = Redis(copy, {"--aof-use-rdb-preamble", preamble, "--aof-disable-auto-gc", "yes"});
      auto rc = ConnectTo(*r);
      want = Canon(rc.get());
      ASSERT_TRUE(r->Stop());
    }
    std::filesystem::remove_all(copy);
    std::string manifest = ReadFile(dir + "/appendonlydir/appendonly.aof.manifest");
    EXPECT_NE(manifest.find(" type h"), std::string::npos) << manifest;  // history kept
    auto k = Keel(dir);
    auto c = ConnectTo(*k);
    EXPECT_EQ(Canon(c.get()), want);
    ASSERT_TRUE(k->Stop());
    std::filesystem::remove_all(dir);
  }
}

TEST_F(AofTest, SeveralIncrFilesHistoryAndTimestampsLoadInOrder) {
  std::string dir = TempDir();
  std::filesystem::create_directory(dir + "/appendonlydir");
  std::string d = dir + "/appendonlydir/";
  WriteFile(d + "x.aof.1.base.aof",
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$4\r\nbase\r\n"
            "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\nbase\r\n");
  WriteFile(d + "x.aof.1.incr.aof",
            "#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nincr1\r\n");
  WriteFile(d + "x.aof.2.incr.aof",
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$6\r\nAPPEND\r\n$1\r\na\r\n$1\r\n!\r\n"
            "#TS:1700000001\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n");
  // The history entry names a file that is gone: it must not be read.
  WriteFile(d + "x.aof.manifest",
            "file x.aof.1.base.aof seq 1 type b\n"
            "file x.aof.0.base.rdb seq 0 type h\n"
            "file x.aof.1.incr.aof seq 1 type i\n"
            "file x.aof.2.incr.aof seq 2 type i\n");
  auto k = Keel(dir, {"--appendfilename", "x.aof"});
  auto c = ConnectTo(*k);
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "a"}).get()), "incr1!");
  EXPECT_EQ(Str(Cmd(c.get(), {"EXISTS", "b"}).get()), "0");
  // New writes go to the last incr file.
  Cmd(c.get(), {"SET", "c", "new"});
  ASSERT_TRUE(k->Stop());
  EXPECT_NE(ReadFile(d + "x.aof.2.incr.aof").find("new"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// An appendfilename with a space and a single quote: the manifest quotes the names (Redis 7.0.15
// writes the quote bare and cannot read its own manifest back), and the server starts again.
TEST_F(AofTest, AFileNameThatNeedsQuotesSurvivesARestart) {
  std::string dir = TempDir();
  const std::vector<std::string> args = {"--appendfilename", "it's my file.aof"};
  {
    auto k = Keel(dir, args);
    auto c = ConnectTo(*k);
    Cmd(c.get(), {"SET", "k", "v"});
    ASSERT_TRUE(k->Stop());
  }
  std::string manifest = ReadFile(dir + "/appendonlydir/it's my file.aof.manifest");
  EXPECT_NE(manifest.find("file \"it's my file.aof.1.incr.aof\" seq 1 type i"), std::string::npos)
      << manifest;
  auto k = Keel(dir, args);
  auto c = ConnectTo(*k);
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "k"}).get()), "v");
  ASSERT_TRUE(k->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, OldSingleFileIsLoadedAndMovedIntoTheDirectory) {
  // Redis 6's appendonly.aof, with an RDB preamble (made by SAVE here) and without.
  for (bool preamble : {false, true}) {
    SCOPED_TRACE(preamble ? "preamble" : "plain");
    std::string dir = TempDir();
    std::string body;
    if (preamble) {
      auto src = StartProcess(KeelServerBinary(), {"--dir", dir});
      auto sc = ConnectTo(*src);
      Cmd(sc.get(), {"SET", "fromrdb", "1"});
      Cmd(sc.get(), {"SAVE"});
      ASSERT_TRUE(src->Stop());
      body = ReadFile(dir + "/dump.rdb");
      std::filesystem::remove(dir + "/dump.rdb");
    }
    body += "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$1\r\n1\r\n";
    WriteFile(dir + "/appendonly.aof", body);
    auto k = Keel(dir);
    auto c = ConnectTo(*k);
    EXPECT_EQ(Str(Cmd(c.get(), {"GET", "old"}).get()), "1");
    EXPECT_EQ(Str(Cmd(c.get(), {"GET", "fromrdb"}).get()), preamble ? "1" : "<nil>");
    Cmd(c.get(), {"SET", "after", "2"});
    ASSERT_TRUE(k->Stop());
    EXPECT_FALSE(std::filesystem::exists(dir + "/appendonly.aof"));
    auto k2 = Keel(dir);
    auto c2 = ConnectTo(*k2);
    EXPECT_EQ(Str(Cmd(c2.get(), {"GET", "old"}).get()), "1");
    EXPECT_EQ(Str(Cmd(c2.get(), {"GET", "after"}).get()), "2");
    ASSERT_TRUE(k2->Stop());
    std::filesystem::remove_all(dir);
  }
}

TEST_F(AofTest, TruncatedLastFileIsCutWithLoadTruncatedAndFatalWithout) {
  std::string dir = TempDir();
  {
    auto k = Keel(dir);
    auto c = ConnectTo(*k);
    Cmd(c.get(), {"SET", "a", "1"});
    Cmd(c.get(), {"SET", "b", "2"});
    ASSERT_TRUE(k->Stop());
  }
  std::string incr = dir + "/appendonlydir/appendonly.aof.1.incr.aof";
  std::string good = ReadFile(incr);
  // Half a command at the end, as a crash in the middle of a write leaves it.
  const std::string half = "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal";
  WriteFile(incr, good + half);
  std::string log = FailingStart(dir, {"--aof-load-truncated", "no"});
  EXPECT_NE(log.find("Unexpected end of file"), std::string::npos) << log;
  EXPECT_NE(log.find("appendonly.aof.1.incr.aof"), std::string::npos) << log;
  EXPECT_EQ(ReadFile(incr), good + half);  // nothing overwritten
  {
    auto k = Keel(dir);  // aof-load-truncated yes, the default
    auto c = ConnectTo(*k);
    EXPECT_EQ(Str(Cmd(c.get(), {"GET", "b"}).get()), "2");
    EXPECT_EQ(Str(Cmd(c.get(), {"EXISTS", "c"}).get()), "0");
    EXPECT_NE(k->ReadLog().find("aof-load-truncated"), std::string::npos);
    ASSERT_TRUE(k->Stop());
  }
  EXPECT_EQ(ReadFile(incr).substr(0, good.size()), good);
  EXPECT_EQ(ReadFile(incr).find("hal"), std::string::npos);
  // A MULTI without its EXEC at the end is cut too.
  WriteFile(incr, good + "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$1\r\n1\r\n");
  {
    auto k = Keel(dir);
    auto c = ConnectTo(*k);
    EXPECT_EQ(Str(Cmd(c.get(), {"EXISTS", "d"}).get()), "0");
    ASSERT_TRUE(k->Stop());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, DamagedLayoutsStopStartUpWithAClearMessage) {
  auto layout = [&](const std::string& manifest,
                    const std::vector<std::pair<std::string, std::string>>& files) {
    std::string dir = TempDir();
    std::filesystem::create_directory(dir + "/appendonlydir");
    WriteFile(dir + "/appendonlydir/appendonly.aof.manifest", manifest);
    for (const auto& [name, bytes] : files) WriteFile(dir + "/appendonlydir/" + name, bytes);
    return dir;
  };
  std::string set = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
  struct Case {
    std::string name, dir, expect;
  };
  std::vector<Case> cases = {
      {"missing file",
       layout("file appendonly.aof.1.base.aof seq 1 type b\n"
              "file appendonly.aof.1.incr.aof seq 1 type i\n",
              {{"appendonly.aof.1.base.aof", set}}),
       "appendonly.aof.1.incr.aof"},
      {"malformed manifest", layout("file appendonly.aof.1.base.aof seq\n", {}),
       "Invalid AOF manifest file format"},
      {"corrupt command in the middle",
       layout("file appendonly.aof.1.incr.aof seq 1 type i\n",
              {{"appendonly.aof.1.incr.aof", set + "garbage\r\n" + set}}),
       "Bad file format"},
      {"truncated file that is not the last",
       layout(
           "file appendonly.aof.1.base.aof seq 1 type b\n"
           "file appendonly.aof.1.incr.aof seq 1 type i\n",
           {{"appendonly.aof.1.base.aof", set.substr(0, 10)}, {"appendonly.aof.1.incr.aof", set}}),
       "not the last file"},
      {"unknown command",
       layout("file appendonly.aof.1.incr.aof seq 1 type i\n",
              {{"appendonly.aof.1.incr.aof", "*1\r\n$7\r\nNOSUCHC\r\n"}}),
       "Unknown command 'NOSUCHC'"},
  };
  for (const Case& cs : cases) {
    SCOPED_TRACE(cs.name);
    std::string before = ReadFile(cs.dir + "/appendonlydir/appendonly.aof.manifest");
    std::string log = FailingStart(cs.dir);
    EXPECT_NE(log.find(cs.expect), std::string::npos) << log;
    EXPECT_EQ(ReadFile(cs.dir + "/appendonlydir/appendonly.aof.manifest"), before);
    std::filesystem::remove_all(cs.dir);
  }
}

// A crash of the process (SIGKILL) loses no acknowledged write under any policy: with always the
// reply waits for the fsync, with everysec and no for the write into the kernel, as in Redis
// (only a crash of the machine can lose the last second or so of everysec).
TEST_F(AofTest, EveryAcknowledgedWriteSurvivesSigkill) {
  for (std::string policy : {"always", "everysec", "no"}) {
    SCOPED_TRACE(policy);
    std::mt19937 rng(12345);
    std::string dir = TempDir();
    std::map<std::string, int64_t> acked;  // counter -> last acknowledged value
    for (int round = 0; round < 3; ++round) {
      auto k = Keel(dir, {"--appendfsync", policy});
      {
        auto c = ConnectTo(*k);
        for (auto& [key, value] : acked) {
          // Every acknowledged INCR is there; one more may have been written, not acknowledged.
          int64_t got = std::stoll(Str(Cmd(c.get(), {"GET", key}).get()));
          ASSERT_GE(got, value) << "round " << round << ": an acknowledged write was lost";
          ASSERT_LE(got, value + 1) << key;
          value = got;
        }
      }
      std::atomic<bool> stop{false};
      std::vector<std::thread> writers;
      std::vector<std::map<std::string, int64_t>> seen(4);
      for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
          std::string error;
          auto wc = HiredisConnect(k->port(), std::chrono::seconds(10), &error);
          if (wc == nullptr) return;
          for (int i = 0; !stop.load(); ++i) {
            std::string key = "c" + std::to_string(w) + ":" + std::to_string(i % 7);
            auto r = HiredisCommand(wc.get(), {"INCR", key});
            if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return;  // killed
            seen[w][key] = r->integer;
          }
        });
      }
      std::this_thread::sleep_for(milliseconds(100 + rng() % 300));
      k->Signal(SIGKILL);
      stop.store(true);
      for (auto& t : writers) t.join();
      ASSERT_TRUE(k->WaitForExit(milliseconds(10000)));
      for (const auto& m : seen) {
        for (const auto& [key, value] : m) acked[key] = value;
      }
    }
    ASSERT_FALSE(acked.empty());
    auto k = Keel(dir, {"--appendfsync", policy});
    auto c = ConnectTo(*k);
    for (const auto& [key, value] : acked) {
      int64_t got = std::stoll(Str(Cmd(c.get(), {"GET", key}).get()));
      EXPECT_GE(got, value) << key;
      EXPECT_LE(got, value + 1) << key;
    }
    ASSERT_TRUE(k->Stop());
    std::filesystem::remove_all(dir);
  }
}

TEST_F(AofTest, ConfigSetAppendonlyYesWritesABaseFirst) {
  std::string dir = TempDir();
  {
    auto k = StartProcess(KeelServerBinary(), {"--dir", dir});
    auto c = ConnectTo(*k);
    Populate(c.get(), "");
    EXPECT_EQ(InfoField(c.get(), "aof_enabled"), "0");
    EXPECT_EQ(Str(Cmd(c.get(), {"CONFIG", "SET", "appendonly", "yes"}).get()), "OK");
    EXPECT_EQ(InfoField(c.get(), "aof_enabled"), "1");
    Cmd(c.get(), {"SET", "later", "1"});
    std::string want = Canon(c.get());
    ASSERT_TRUE(k->Stop());
    auto k2 = Keel(dir);
    auto c2 = ConnectTo(*k2);
    EXPECT_EQ(Canon(c2.get()), want);
    EXPECT_EQ(Str(Cmd(c2.get(), {"CONFIG", "SET", "appendonly", "no"}).get()), "OK");
    EXPECT_EQ(InfoField(c2.get(), "aof_enabled"), "0");
    ASSERT_TRUE(k2->Stop());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, RewriteWithoutPreambleWritesCommandsRedisReads) {
  std::string dir = TempDir();
  std::string want;
  {
    auto k = Keel(dir, {"--aof-use-rdb-preamble", "no"});
    auto c = ConnectTo(*k);
    Populate(c.get(), "");
    Cmd(c.get(), {"SET", "ttl2", "v", "EX", "5000"});
    EXPECT_EQ(Str(Cmd(c.get(), {"BGREWRITEAOF"}).get()),
              "Background append only file rewriting started");
    WaitRewrite(c.get());
    Cmd(c.get(), {"SET", "after", "1"});
    want = Canon(c.get());
    ASSERT_TRUE(k->Stop());
  }
  std::string manifest = ReadFile(dir + "/appendonlydir/appendonly.aof.manifest");
  EXPECT_EQ(manifest,
            "file appendonly.aof.2.base.aof seq 2 type b\n"
            "file appendonly.aof.2.incr.aof seq 2 type i\n");
  std::string check = "redis-check-aof '" + dir + "/appendonlydir/appendonly.aof.manifest' > '" +
                      dir + "/check.log' 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << ReadFile(dir + "/check.log");
  {
    auto k = Keel(dir);
    auto c = ConnectTo(*k);
    EXPECT_EQ(Canon(c.get()), want);
    ASSERT_TRUE(k->Stop());
  }
  auto r = Redis(dir);
  auto rc = ConnectTo(*r);
  EXPECT_EQ(Canon(rc.get()), want);
  ASSERT_TRUE(r->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, AutomaticRewriteOnGrowth) {
  std::string dir = TempDir();
  auto k =
      Keel(dir, {"--auto-aof-rewrite-min-size", "4kb", "--auto-aof-rewrite-percentage", "100"});
  auto c = ConnectTo(*k);
  EXPECT_EQ(InfoField(c.get(), "aof_rewrites"), "0");
  for (int i = 0; i < 200; ++i) Cmd(c.get(), {"SET", "k" + std::to_string(i), "value"});
  for (int i = 0; i < 500 && InfoField(c.get(), "aof_rewrites") == "0"; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(InfoField(c.get(), "aof_rewrites"), "1");
  EXPECT_NE(k->ReadLog().find("Starting automatic rewriting of AOF"), std::string::npos);
  WaitRewrite(c.get());
  ASSERT_TRUE(k->Stop());
  auto k2 = Keel(dir);
  auto c2 = ConnectTo(*k2);
  EXPECT_EQ(Str(Cmd(c2.get(), {"DBSIZE"}).get()), "200");
  ASSERT_TRUE(k2->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, BgsaveAndRewriteTakeTurns) {
  std::string dir = TempDir();
  auto k = Keel(dir, {"--keel-bgsave-shard-delay-us", "500"});
  auto c = ConnectTo(*k);
  Populate(c.get(), "");
  EXPECT_EQ(Str(Cmd(c.get(), {"BGREWRITEAOF"}).get()),
            "Background append only file rewriting started");
  EXPECT_EQ(
      Str(Cmd(c.get(), {"BGSAVE"}).get()),
      "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
      "in order to schedule a BGSAVE whenever possible.");
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE", "SCHEDULE"}).get()), "Background saving scheduled");
  WaitRewrite(c.get());
  for (int i = 0; i < 1000 && InfoField(c.get(), "rdb_saves") == "0"; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "1");
  // And the other way round: a rewrite asked for during a BGSAVE is scheduled.
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  EXPECT_EQ(Str(Cmd(c.get(), {"BGREWRITEAOF"}).get()),
            "Background append only file rewriting scheduled");
  for (int i = 0; i < 1000 && InfoField(c.get(), "aof_rewrites") != "2"; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(InfoField(c.get(), "aof_rewrites"), "2");
  ASSERT_TRUE(k->Stop());
  std::filesystem::remove_all(dir);
}

// A disk that is full is simulated with RLIMIT_FSIZE set on the running server (prlimit): its
// writes then fail with EFBIG, as they would with ENOSPC.
// everysec and no: an io thread writes its batch's records itself when nobody else is writing,
// or hands them to the writer thread. Many clients on both io threads, some pipelining INCRs,
// some running MULTI/INCR/INCR/EXEC on a pair of counters; SIGKILL at a random moment, three
// rounds: every acknowledged increment is in the file (at most the unacknowledged pipeline
// beyond it), and the two counters of every pair are equal (a transaction is one contiguous
// record, in keyspace order, whichever thread wrote it).
TEST_F(AofTest, AcknowledgedWritesOfBothIoThreadsSurviveSigkill) {
  constexpr int kClients = 16, kDepth = 4;
  for (std::string policy : {"everysec", "no"}) {
    SCOPED_TRACE(policy);
    std::mt19937 rng(777);
    std::string dir = TempDir();
    std::map<std::string, int64_t> acked;  // counter -> last acknowledged value
    auto args = ThreadedArgs(2);
    args.insert(args.end(), {"--appendfsync", policy});
    auto check = [&](redisContext* c, const std::string& when) {
      for (auto& [key, value] : acked) {
        int64_t got = std::stoll(Str(Cmd(c, {"GET", key}).get()));
        ASSERT_GE(got, value) << when << ": an acknowledged write was lost: " << key;
        ASSERT_LE(got, value + kDepth) << when << ": " << key;
        if (key[0] == 'a') {
          std::string pair = "b" + key.substr(1);
          EXPECT_EQ(Str(Cmd(c, {"GET", pair}).get()), std::to_string(got))
              << when << ": half a transaction in the file: " << key;
        }
        value = got;
      }
    };
    for (int round = 0; round < 3; ++round) {
      auto k = Keel(dir, args);
      {
        auto c = ConnectTo(*k);
        check(c.get(), "round " + std::to_string(round));
      }
      std::atomic<bool> stop{false};
      std::atomic<int> replies{0};
      std::vector<std::thread> writers;
      std::vector<std::map<std::string, int64_t>> seen(kClients);
      for (int w = 0; w < kClients; ++w) {
        writers.emplace_back([&, w] {
          std::string error;
          auto wc = HiredisConnect(k->port(), std::chrono::seconds(10), &error);
          if (wc == nullptr) return;
          for (int i = 0; !stop.load(); ++i) {
            std::string n = std::to_string(w) + ":" + std::to_string(i % 5);
            if (w % 2 == 1) {  // a transaction on a pair of counters
              redisAppendCommand(wc.get(), "MULTI");
              redisAppendCommand(wc.get(), "INCR a%s", n.c_str());
              redisAppendCommand(wc.get(), "INCR b%s", n.c_str());
              redisAppendCommand(wc.get(), "EXEC");
              void* r = nullptr;
              for (int j = 0; j < 4; ++j) {
                if (redisGetReply(wc.get(), &r) != REDIS_OK) return;  // killed
                auto* reply = static_cast<redisReply*>(r);
                if (j == 3 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
                  seen[w]["a" + n] = reply->element[0]->integer;
                }
                freeReplyObject(r);
              }
            } else {  // pipelined INCRs, kDepth at a time
              for (int j = 0; j < kDepth; ++j) redisAppendCommand(wc.get(), "INCR c%s", n.c_str());
              void* r = nullptr;
              for (int j = 0; j < kDepth; ++j) {
                if (redisGetReply(wc.get(), &r) != REDIS_OK) return;  // killed
                auto* reply = static_cast<redisReply*>(r);
                if (reply->type == REDIS_REPLY_INTEGER) seen[w]["c" + n] = reply->integer;
                freeReplyObject(r);
              }
            }
            replies.fetch_add(1);
          }
        });
      }
      std::this_thread::sleep_for(milliseconds(150 + rng() % 350));
      k->Signal(SIGKILL);
      stop.store(true);
      for (auto& t : writers) t.join();
      ASSERT_TRUE(k->WaitForExit(milliseconds(10000)));
      EXPECT_GT(replies.load(), kClients) << "the clients did not get going";
      for (const auto& m : seen) {
        for (const auto& [key, value] : m) acked[key] = value;
      }
    }
    ASSERT_GE(acked.size(), static_cast<size_t>(kClients)) << "not every client was acknowledged";
    auto k = Keel(dir, args);
    auto c = ConnectTo(*k);
    check(c.get(), "after the last round");
    ASSERT_TRUE(k->Stop());
    std::filesystem::remove_all(dir);
  }
}

void LimitFileSize(pid_t pid, rlim_t bytes) {
  struct rlimit lim;
  lim.rlim_cur = bytes;
  lim.rlim_max = RLIM_INFINITY;  // only the soft limit: it can be raised again
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &lim, nullptr), 0) << std::strerror(errno);
}

TEST_F(AofTest, FailedWritesAreRefusedWithMisconfUntilTheDiskHasRoom) {
  std::string dir = TempDir();
  auto k = Keel(dir, {"--appendfsync", "everysec"});
  auto c = ConnectTo(*k);
  LimitFileSize(k->pid(), 20000);
  std::string value(100, 'v');
  int acked = 0;
  std::string error;
  for (int i = 0; i < 5000 && error.empty(); ++i) {
    auto r = Cmd(c.get(), {"SET", "k" + std::to_string(i), value});
    if (r->type == REDIS_REPLY_ERROR) {
      error = Str(r.get());
    } else {
      acked = i + 1;
    }
    if (i % 50 == 0) std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(error, "MISCONF Errors writing to the AOF file: File too large");
  EXPECT_EQ(InfoField(c.get(), "aof_last_write_status"), "err");
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "k0"}).get()), value);  // reads still served
  LimitFileSize(k->pid(), RLIM_INFINITY);
  std::string reply;
  for (int i = 0; i < 500; ++i) {
    reply = Str(Cmd(c.get(), {"SET", "after", "1"}).get());
    if (reply == "OK") break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(reply, "OK");
  EXPECT_EQ(InfoField(c.get(), "aof_last_write_status"), "ok");
  ASSERT_TRUE(k->Stop());
  auto k2 = Keel(dir);
  auto c2 = ConnectTo(*k2);
  EXPECT_EQ(Str(Cmd(c2.get(), {"DBSIZE"}).get()), std::to_string(acked + 1));
  ASSERT_TRUE(k2->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, FailedWriteWithAlwaysStopsTheServer) {
  std::string dir = TempDir();
  auto k = Keel(dir, {"--appendfsync", "always"});
  auto c = ConnectTo(*k);
  LimitFileSize(k->pid(), 20000);
  std::string value(100, 'v');
  int acked = 0;
  for (int i = 0; i < 5000; ++i) {
    auto r = HiredisCommand(c.get(), {"SET", "k" + std::to_string(i), value});
    if (r == nullptr) break;  // the server exited
    ASSERT_NE(r->type, REDIS_REPLY_ERROR) << Str(r.get());
    acked = i + 1;
  }
  ASSERT_TRUE(k->WaitForExit(milliseconds(10000)));
  EXPECT_NE(k->exit_code().value_or(0), 0) << k->DescribeStatus();
  EXPECT_NE(k->ReadLog().find("Can't write to the append-only file"), std::string::npos);
  auto k2 = Keel(dir);
  auto c2 = ConnectTo(*k2);
  EXPECT_EQ(Str(Cmd(c2.get(), {"DBSIZE"}).get()), std::to_string(acked));  // every ack is there
  ASSERT_TRUE(k2->Stop());
  std::filesystem::remove_all(dir);
}

TEST_F(AofTest, DebugReloadWritesNothingToTheAof) {
  std::string dir = TempDir();
  auto k = Keel(dir, {"--enable-debug-command", "yes"});
  auto c = ConnectTo(*k);
  Populate(c.get(), "");
  EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD"}).get()), "OK");
  Cmd(c.get(), {"SET", "after-reload", "1"});
  std::string want = Canon(c.get());
  ASSERT_TRUE(k->Stop());
  auto k2 = Keel(dir);
  auto c2 = ConnectTo(*k2);
  EXPECT_EQ(Canon(c2.get()), want);
  ASSERT_TRUE(k2->Stop());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace keel::test
