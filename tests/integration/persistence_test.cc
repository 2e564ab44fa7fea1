// RDB persistence against the real thing: files and DUMP payloads move between keel-server and
// Debian's redis-server 7.0 in both directions, redis-check-rdb accepts Keel's files, old
// encodings Redis 7.0 no longer writes (built here byte by byte) load in both servers alike,
// and damaged files stop Keel's start-up with a message naming the file and offset.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "integration/fixture.h"
#include "integration/persistence_util.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

using PersistenceTest = KeelAndRedisTest;

TEST_F(PersistenceTest, SaveThenRestartLoadsEveryKeyBack) {
  auto a = Keel();
  auto c = ConnectTo(*a);
  Populate(c.get(), "");
  EXPECT_NE(InfoField(c.get(), "rdb_changes_since_last_save"), "0");
  EXPECT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "1");
  EXPECT_EQ(Str(Cmd(c.get(), {"LASTSAVE"}).get()), InfoField(c.get(), "rdb_last_save_time"));
  std::string want = Canon(c.get());
  ASSERT_TRUE(a->Stop());
  auto b = Keel({"--dir", a->dir()});
  auto d = ConnectTo(*b);
  EXPECT_EQ(Canon(d.get()), want);
  EXPECT_EQ(InfoField(d.get(), "rdb_last_load_keys_loaded"), "22");
  EXPECT_EQ(Str(Cmd(d.get(), {"OBJECT", "ENCODING", "intset32"}).get()), "intset");
  EXPECT_EQ(Str(Cmd(d.get(), {"OBJECT", "ENCODING", "bigints"}).get()), "hashtable");
  EXPECT_EQ(Str(Cmd(d.get(), {"OBJECT", "ENCODING", "hash"}).get()), "listpack");
  EXPECT_EQ(Str(Cmd(d.get(), {"OBJECT", "ENCODING", "longval"}).get()), "hashtable");
  EXPECT_NE(b->ReadLog().find("Done loading RDB, keys loaded: 22, keys expired: 0."),
            std::string::npos);
}

TEST_F(PersistenceTest, KeelFilesPassRedisCheckRdbAndLoadInRedis) {
  for (const char* compression : {"yes", "no"}) {
    auto k = Keel({"--rdbcompression", compression});
    auto c = ConnectTo(*k);
    Populate(c.get(), "");
    ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
    std::string want = Canon(c.get());
    std::string file = k->dir() + "/dump.rdb";
    std::string check = "redis-check-rdb '" + file + "' > '" + k->dir() + "/check.log' 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << "redis-check-rdb failed on " << file;
    auto r = Redis({"--dir", k->dir()});
    auto rc = ConnectTo(*r);
    EXPECT_EQ(Canon(rc.get()), want) << "rdbcompression " << compression;
  }
}

// REPLCONF rdb-only 1, then SYNC (what redis-cli --rdb sends) or PSYNC: one snapshot as Redis's
// diskless transfer ($EOF:<mark>, the RDB, the mark; PSYNC's +FULLRESYNC first), then the
// connection closes, while another client keeps writing to database 9. The RDB passes
// redis-check-rdb and loads in redis-server with database 0 as it was.
TEST_F(PersistenceTest, ReplconfRdbOnlySyncStreamsASnapshotRedisLoads) {
  for (const std::string command : {"SYNC", "PSYNC ? -1"}) {
    auto k = Keel();
    auto c = ConnectTo(*k);
    Populate(c.get(), "");
    for (int i = 0; i < 3000; ++i) Cmd(c.get(), {"SET", "k" + std::to_string(i), "v"});
    std::string want = Canon(c.get());
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      auto w = ConnectTo(*k);
      Cmd(w.get(), {"SELECT", "9"});
      for (int i = 0; !stop.load(); ++i) Cmd(w.get(), {"SET", "w" + std::to_string(i % 500), "x"});
    });
    RespConnection raw;
    ASSERT_TRUE(raw.Connect(k->port()));
    EXPECT_EQ(raw.Call({"REPLCONF", "rdb-only", "1"}), "+OK\r\n");
    ASSERT_TRUE(raw.Send(command + "\r\n"));
    RespConnection::Drained got = raw.ReadUntilClose(milliseconds(20000));
    stop.store(true);
    writer.join();
    EXPECT_TRUE(got.closed) << command;
    std::string_view b = got.bytes;
    if (command != "SYNC") {
      ASSERT_EQ(b.substr(0, 12), "+FULLRESYNC ") << b.substr(0, 80);
      b.remove_prefix(b.find("\r\n") + 2);
    }
    while (!b.empty() && b.front() == '\n') b.remove_prefix(1);
    ASSERT_GE(b.size(), 47u + 9u + 40u) << command;
    ASSERT_EQ(b.substr(0, 5), "$EOF:");
    std::string mark(b.substr(5, 40));
    ASSERT_EQ(b.substr(45, 2), "\r\n");
    b.remove_prefix(47);
    ASSERT_EQ(b.substr(b.size() - 40), mark);
    b.remove_suffix(40);
    EXPECT_EQ(b.substr(0, 9), "REDIS0010");
    std::string file = k->dir() + "/synced.rdb";
    std::ofstream(file, std::ios::binary) << b;
    std::string check = "redis-check-rdb '" + file + "' > '" + k->dir() + "/check.log' 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << "redis-check-rdb failed on " << file;
    auto r = Redis({"--dir", k->dir(), "--dbfilename", "synced.rdb"});
    auto rc = ConnectTo(*r);
    Cmd(rc.get(), {"SELECT", "9"});
    Cmd(rc.get(), {"FLUSHDB"});
    EXPECT_EQ(Canon(rc.get()), want) << command;
  }
}

TEST_F(PersistenceTest, RedisFilesWithEveryEncodingLoadInKeel) {
  auto r = Redis({"--enable-debug-command", "yes"});
  auto rc = ConnectTo(*r);
  Populate(rc.get(), "");
  auto run = [&](std::vector<std::string> args) {
    auto rep = Cmd(rc.get(), args);
    ASSERT_NE(rep->type, REDIS_REPLY_ERROR) << args[0] << " " << Str(rep.get());
  };
  // Quicklists of many small nodes, with the inner nodes LZF-compressed.
  run({"CONFIG", "SET", "list-max-listpack-size", "4", "list-compress-depth", "1"});
  std::vector<std::string> push = {"RPUSH", "many-nodes"};
  for (int i = 0; i < 200; ++i) push.push_back("element-number-" + std::to_string(i % 13));
  run(push);
  // Plain quicklist nodes (an element past the packed threshold).
  run({"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"});
  run({"RPUSH", "plain-nodes", "small", std::string(300, 'P'), "after"});
  run({"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1073741824"});
  // A set of integers past set-max-intset-entries, and a hash past hash-max-listpack-entries.
  run({"CONFIG", "SET", "set-max-intset-entries", "2", "hash-max-listpack-entries", "2"});
  run({"SADD", "ints-as-table", "1", "2", "3"});
  run({"HSET", "hash-as-table", "a", "1", "b", "2", "c", "3"});
  // Keys with a TTL in another database.
  run({"SELECT", "9"});
  run({"HSET", "h9", "x", "y"});
  run({"PEXPIRE", "h9", "800000000"});
  run({"SELECT", "0"});
  run({"SAVE"});
  std::string want = Canon(rc.get());
  auto k = Keel({"--dir", r->dir()});
  auto kc = ConnectTo(*k);
  EXPECT_EQ(Canon(kc.get()), want);
}

// A list whose inner nodes Keel keeps LZF-compressed (list-compress-depth 2) takes less than
// half the memory of the same list uncompressed, is saved by Keel, passes redis-check-rdb and
// loads in Redis and in Keel again (with another depth) with the same elements.
TEST_F(PersistenceTest, CompressedListsSaveAndLoadInRedisAndKeel) {
  auto k = Keel({"--list-compress-depth", "2", "--list-max-listpack-size", "128",
                 "--enable-debug-command", "yes"});
  auto c = ConnectTo(*k);
  auto run = [&](redisContext* ctx, std::vector<std::string> args) {
    auto rep = Cmd(ctx, args);
    EXPECT_NE(rep->type, REDIS_REPLY_ERROR) << args[0] << " " << Str(rep.get());
    return rep;
  };
  for (const char* key : {"compressed", "raw"}) {
    if (std::string(key) == "raw") run(c.get(), {"CONFIG", "SET", "list-compress-depth", "0"});
    std::vector<std::string> push = {"RPUSH", key};
    for (int i = 0; i < 6000; ++i) push.push_back("element-number-" + std::to_string(i % 17));
    run(c.get(), push);
    run(c.get(), {"LSET", key, "3000", "changed-in-the-middle"});
    run(c.get(), {"LINSERT", key, "BEFORE", "element-number-16", "inserted"});
    run(c.get(), {"LREM", key, "-3", "element-number-5"});
  }
  auto usage = [&](const char* key) { return run(c.get(), {"MEMORY", "USAGE", key})->integer; };
  long long raw_usage = usage("raw");
  EXPECT_LT(usage("compressed") * 2, raw_usage);
  EXPECT_NE(Str(run(c.get(), {"DEBUG", "OBJECT", "compressed"}).get()).find("ql_compressed:1"),
            std::string::npos);
  EXPECT_NE(Str(run(c.get(), {"DEBUG", "OBJECT", "raw"}).get()).find("ql_compressed:0"),
            std::string::npos);
  auto same = Cmd(c.get(), {"LRANGE", "compressed", "0", "-1"});
  auto other = Cmd(c.get(), {"LRANGE", "raw", "0", "-1"});
  ASSERT_EQ(same->elements, other->elements);
  for (size_t i = 0; i < same->elements; ++i) {
    ASSERT_EQ(Str(same->element[i]), Str(other->element[i])) << i;
  }
  ASSERT_EQ(Str(run(c.get(), {"SAVE"}).get()), "OK");
  std::string want = Canon(c.get());
  std::string file = k->dir() + "/dump.rdb";
  std::string check = "redis-check-rdb '" + file + "' > '" + k->dir() + "/check.log' 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << "redis-check-rdb failed on " << file;
  ASSERT_TRUE(k->Stop());
  auto r = Redis({"--dir", k->dir(), "--list-compress-depth", "1"});
  auto rc = ConnectTo(*r);
  EXPECT_EQ(Canon(rc.get()), want);
  ASSERT_TRUE(r->Stop());
  auto k2 = Keel({"--dir", k->dir(), "--list-compress-depth", "1"});
  auto kc = ConnectTo(*k2);
  EXPECT_EQ(Canon(kc.get()), want);
  // Loaded under depth 1, the list saved uncompressed is compressed now.
  EXPECT_LT(Cmd(kc.get(), {"MEMORY", "USAGE", "raw", "SAMPLES", "0"})->integer * 2, raw_usage);
}

// ---- hand-built files in the encodings Redis 7.0 still loads but no longer writes ----

std::string Len(uint64_t n) {
  std::string s;
  if (n < 64) {
    s.push_back(static_cast<char>(n));
  } else if (n < 16384) {
    s.push_back(static_cast<char>(0x40 | (n >> 8)));
    s.push_back(static_cast<char>(n & 0xff));
  } else {
    s.push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(n >> (8 * i)));
  }
  return s;
}
std::string RdbStr(const std::string& v) { return Len(v.size()) + v; }
std::string LE(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// A ziplist: strings as 6/14-bit strings, "#123" items as int16 entries.
std::string Ziplist(const std::vector<std::string>& items) {
  std::string body;
  size_t prev = 0, tail = 10;
  for (const std::string& it : items) {
    tail = 10 + body.size();
    std::string e;
    e.push_back(static_cast<char>(prev));  // entries stay under 254 bytes here
    if (it.size() > 1 && it[0] == '#') {
      e.push_back(static_cast<char>(0xc0));
      e += LE(static_cast<uint64_t>(std::stoi(it.substr(1))), 2);
    } else if (it.size() < 64) {
      e.push_back(static_cast<char>(it.size()));
      e += it;
    } else {
      e.push_back(static_cast<char>(0x40 | (it.size() >> 8)));
      e.push_back(static_cast<char>(it.size() & 0xff));
      e += it;
    }
    prev = e.size();
    body += e;
  }
  return LE(10 + body.size() + 1, 4) + LE(tail, 4) + LE(items.size(), 2) + body + "\xff";
}

std::string Zipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string s(1, static_cast<char>(pairs.size()));
  for (const auto& [f, v] : pairs) {
    s += std::string(1, static_cast<char>(f.size())) + f;
    s += std::string(1, static_cast<char>(v.size())) + std::string(1, '\x01') + v + "Z";
  }
  return s + "\xff";
}

std::string OldFile(int version, const std::string& body) {
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", version);
  std::string f = std::string(magic) + body + "\xff";
  if (version >= 5) f += std::string(8, '\0');  // a zero checksum: not checked
  return f;
}

std::string OldEncodingsBody(int version) {
  std::string b;
  b += std::string("\x00", 1) + RdbStr("plain") + RdbStr("v");
  b += std::string("\x00", 1) + RdbStr("intenc") + "\xc1" + LE(300, 2);
  b += "\x01" + RdbStr("linked") + Len(3) + RdbStr("a") + RdbStr("bb") + RdbStr("17");
  b += "\x02" + RdbStr("set") + Len(2) + RdbStr("m") + RdbStr("5");
  b += "\x04" + RdbStr("hash") + Len(1) + RdbStr("f") + RdbStr("v");
  // ZSET: scores as text, 254/255 for +inf/-inf.
  b += "\x03" + RdbStr("zset") + Len(3) + RdbStr("a") + RdbStr("1.5") + RdbStr("b") + "\xfe" +
       RdbStr("c") + "\xff";
  if (version >= 2) {
    b += "\x0c" + RdbStr("zl-zset") + RdbStr(Ziplist({"m", "#-3", "n", "2.25", "o", "#7"}));
    b += "\x09" + RdbStr("zipmap") + RdbStr(Zipmap({{"a", "1"}, {"bb", "two"}}));
    b += "\x0a" + RdbStr("zl-list") + RdbStr(Ziplist({"x", "#-300", std::string(100, 'y')}));
    b += "\x0b" + RdbStr("intset") + RdbStr(LE(4, 4) + LE(2, 4) + LE(7, 4) + LE(100000, 4));
    b += "\x0d" + RdbStr("zl-hash") + RdbStr(Ziplist({"k1", "#12", "k2", "val"}));
  }
  if (version >= 8) {
    double sc[] = {0.5, -2};
    uint64_t bits[2];
    std::memcpy(bits, sc, sizeof(bits));
    b += "\x05" + RdbStr("zset2") + Len(2) + RdbStr("p") + LE(bits[0], 8) + RdbStr("q") +
         LE(bits[1], 8);
  }
  if (version >= 7) {
    b += "\x0e" + RdbStr("quicklist") + Len(2) + RdbStr(Ziplist({"n1a", "n1b"})) +
         RdbStr(Ziplist({"#5"}));
  }
  // Expires: seconds (far future) and milliseconds.
  b += "\xfd" + LE(2000000000u, 4) + std::string("\x00", 1) + RdbStr("exp-s") + RdbStr("1");
  // Seconds past 2^31 read as negative (Redis reads them so too): already expired.
  b += "\xfd" + LE(4000000000u, 4) + std::string("\x00", 1) + RdbStr("exp-neg") + RdbStr("1");
  b += "\xfc" + LE(9000000000000ULL, 8) + std::string("\x00", 1) + RdbStr("exp-ms") + RdbStr("2");
  b += "\xfe" + Len(2) + std::string("\x00", 1) + RdbStr("db2") + RdbStr("two");
  return b;
}

TEST_F(PersistenceTest, OldEncodingsLoadAlikeInKeelAndRedis) {
  for (int version : {1, 2, 6, 7, 9}) {
    std::string dir = TempDir();
    WriteFile(dir + "/dump.rdb", OldFile(version, OldEncodingsBody(version)));
    auto r = Redis({"--dir", dir});
    auto k = Keel({"--dir", dir});
    auto rc = ConnectTo(*r);
    auto kc = ConnectTo(*k);
    std::string want = Canon(rc.get());
    EXPECT_NE(want.find("zl-list"), version >= 2 ? std::string::npos : 0) << want;
    EXPECT_EQ(Canon(kc.get()), want) << "RDB version " << version;
    std::filesystem::remove_all(dir);
  }
}

TEST_F(PersistenceTest, KeysAlreadyExpiredAreDroppedWhileLoading) {
  std::string dir = TempDir();
  std::string body = "\xfc" + LE(1000, 8) + std::string("\x00", 1) + RdbStr("gone") + RdbStr("x");
  body += std::string("\x00", 1) + RdbStr("kept") + RdbStr("y");
  WriteFile(dir + "/dump.rdb", OldFile(9, body));
  auto k = Keel({"--dir", dir});
  auto c = ConnectTo(*k);
  EXPECT_EQ(Str(Cmd(c.get(), {"DBSIZE"}).get()), "1");
  EXPECT_EQ(InfoField(c.get(), "rdb_last_load_keys_expired"), "1");
  EXPECT_EQ(InfoField(c.get(), "rdb_last_load_keys_loaded"), "1");
  std::filesystem::remove_all(dir);
}

TEST_F(PersistenceTest, DamagedFilesStopStartUpWithFileAndOffset) {
  auto src = Keel();
  auto c = ConnectTo(*src);
  Populate(c.get(), "");
  ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  std::string good;
  {
    std::ifstream in(src->dir() + "/dump.rdb", std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(good.size(), 100u);
  std::string bad_crc = good;
  bad_crc.back() ^= 0x55;
  std::string unknown_op = OldFile(9, std::string("\x08", 1) + RdbStr("k") + RdbStr("v"));
  std::string absurd = OldFile(9, std::string("\x00", 1) + RdbStr("k") + "\x81" + LE(~0ULL, 8));
  std::string zset = OldFile(9, std::string("\x05", 1) + RdbStr("myzset") + Len(2) + RdbStr("m") +
                                    std::string(8, '\0') + RdbStr("m") + std::string(8, '\0'));
  struct Case {
    std::string name, bytes, expect;
  };
  std::vector<Case> cases = {{"truncated", good.substr(0, good.size() / 2), "offset"},
                             {"checksum", bad_crc, "Wrong RDB checksum"},
                             {"unknown opcode", unknown_op, "opcode 8"},
                             {"absurd length", absurd, "past the end"},
                             {"duplicate zset member", zset, "duplicate zset elements"}};
  for (const Case& cs : cases) {
    std::string dir = TempDir();
    WriteFile(dir + "/dump.rdb", cs.bytes);
    ServerOptions o;
    o.binary = KeelServerBinary();
    o.args = {"--dir", dir};
    o.wait_until_ready = false;
    ServerProcess p(o);
    ASSERT_TRUE(p.Start());
    ASSERT_TRUE(p.WaitForExit(milliseconds(20000))) << cs.name;
    EXPECT_NE(p.exit_code().value_or(0), 0) << cs.name << ": " << p.DescribeStatus();
    std::string log = p.ReadLog();
    EXPECT_NE(log.find("dump.rdb"), std::string::npos) << cs.name << "\n" << log;
    EXPECT_NE(log.find(cs.expect), std::string::npos) << cs.name << "\n" << log;
    std::filesystem::remove_all(dir);
  }
}

TEST_F(PersistenceTest, DumpAndRestoreInteroperateBothWays) {
  auto r = Redis();
  auto k = Keel();
  auto rc = ConnectTo(*r);
  auto kc = ConnectTo(*k);
  Populate(rc.get(), "");
  Cmd(rc.get(), {"SELECT", "3"});  // DUMP and RESTORE are per key: keep database 0 only
  Cmd(rc.get(), {"FLUSHDB"});
  Cmd(rc.get(), {"SELECT", "0"});
  auto copy = [&](redisContext* from, redisContext* to) {
    for (const std::string& key : Strings(Cmd(from, {"KEYS", "*"}).get())) {
      auto payload = Cmd(from, {"DUMP", key});
      ASSERT_EQ(payload->type, REDIS_REPLY_STRING) << key;
      std::string exp = Str(Cmd(from, {"PEXPIRETIME", key}).get());
      std::string ttl = exp == "-1" ? "0" : exp;
      auto res = Cmd(to, {"RESTORE", key, ttl, Str(payload.get()), "ABSTTL"});
      EXPECT_EQ(Str(res.get()), "OK") << key;
    }
  };
  copy(rc.get(), kc.get());
  std::string want = Canon(rc.get());
  EXPECT_EQ(Canon(kc.get()), want);
  auto r2 = Redis();
  auto r2c = ConnectTo(*r2);
  copy(kc.get(), r2c.get());
  EXPECT_EQ(Canon(r2c.get()), want);
}

TEST_F(PersistenceTest, RestoreOptions) {
  auto k = Keel();
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "src", "value"});
  std::string payload = Str(Cmd(c.get(), {"DUMP", "src"}).get());
  EXPECT_EQ(Str(Cmd(c.get(), {"RESTORE", "src", "0", payload}).get()),
            "BUSYKEY Target key name already exists.");
  EXPECT_EQ(
      Str(Cmd(c.get(), {"RESTORE", "src", "0", payload, "REPLACE", "IDLETIME", "1000"}).get()),
      "OK");
  EXPECT_GE(Cmd(c.get(), {"OBJECT", "IDLETIME", "src"})->integer, 1000);
  EXPECT_EQ(Str(Cmd(c.get(), {"RESTORE", "t", "5000000", payload, "FREQ", "5"}).get()), "OK");
  EXPECT_GT(Cmd(c.get(), {"PTTL", "t"})->integer, 0);
  EXPECT_EQ(Str(Cmd(c.get(), {"RESTORE", "src", "1000", payload, "REPLACE", "ABSTTL"}).get()),
            "OK");
  EXPECT_EQ(Cmd(c.get(), {"EXISTS", "src"})->integer, 0);  // an expire long past: deleted
  std::string bad = payload;
  bad[0] = '\x05';
  EXPECT_EQ(Str(Cmd(c.get(), {"RESTORE", "z", "0", bad}).get()),
            "ERR DUMP payload version or checksum are wrong");
}

TEST_F(PersistenceTest, DebugReloadKeepsTheDataAndDebugObjectDescribesIt) {
  auto k = Keel({"--enable-debug-command", "yes"});
  auto c = ConnectTo(*k);
  Populate(c.get(), "");
  std::string want = Canon(c.get());
  EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD"}).get()), "OK");
  EXPECT_EQ(Canon(c.get()), want);
  EXPECT_EQ(InfoField(c.get(), "rdb_last_load_keys_loaded"), "22");
  std::string obj = Str(Cmd(c.get(), {"DEBUG", "OBJECT", "biglist"}).get());
  EXPECT_NE(obj.find("encoding:quicklist serializedlength:"), std::string::npos) << obj;
  EXPECT_NE(obj.find(" ql_nodes:"), std::string::npos) << obj;
  EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "OBJECT", "nokey"}).get()), "ERR no such key");
}

TEST_F(PersistenceTest, SavePointsAccumulateOverConfigLinesAsInRedis) {
  std::string dir = TempDir();
  WriteFile(dir + "/keel.conf", "save 3600 1\nsave 300 100\nsave 60 10000\n");
  std::vector<std::string> replies;
  for (const std::string& binary : {KeelServerBinary(), RedisServerBinary()}) {
    ServerOptions o;
    o.binary = binary;
    o.config_file = dir + "/keel.conf";
    o.default_args = false;  // no --save "" of the defaults
    o.port = PickFreePort();
    o.args = {"--port", std::to_string(o.port), "--bind", "127.0.0.1", "--dir", dir, "--save",
              "10 1"};
    ServerProcess p(o);
    ASSERT_TRUE(p.Start());
    auto c = ConnectTo(p);
    replies.push_back(Str(Cmd(c.get(), {"CONFIG", "GET", "save"})->element[1]));
    EXPECT_EQ(Str(Cmd(c.get(), {"CONFIG", "SET", "save", "900 1 300 10"}).get()), "OK");
    replies.push_back(Str(Cmd(c.get(), {"CONFIG", "GET", "save"})->element[1]));
  }
  EXPECT_EQ(replies[0], "3600 1 300 100 60 10000 10 1");
  EXPECT_EQ(replies[0], replies[2]);  // Keel's and Redis's
  EXPECT_EQ(replies[1], "900 1 300 10");
  EXPECT_EQ(replies[1], replies[3]);
  std::filesystem::remove_all(dir);
}

// The names of the INFO section's fields, in order.
std::vector<std::string> FieldNames(const std::string& info) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < info.size()) {
    size_t end = info.find("\r\n", pos);
    if (end == std::string::npos) end = info.size();
    std::string line = info.substr(pos, end - pos);
    if (!line.empty() && line[0] != '#') names.push_back(line.substr(0, line.find(':')));
    pos = end + 2;
  }
  return names;
}

TEST_F(PersistenceTest, InfoPersistenceHasRedisFieldsInRedisOrder) {
  auto k = Keel();
  auto r = Redis();
  auto kc = ConnectTo(*k);
  auto rc = ConnectTo(*r);
  std::vector<std::string> kf = FieldNames(Str(Cmd(kc.get(), {"INFO", "persistence"}).get()));
  EXPECT_EQ(kf, FieldNames(Str(Cmd(rc.get(), {"INFO", "persistence"}).get())));
  EXPECT_EQ(InfoField(kc.get(), "loading"), "0");
  EXPECT_EQ(InfoField(kc.get(), "rdb_bgsave_in_progress"), "0");
  EXPECT_EQ(InfoField(kc.get(), "rdb_last_bgsave_status"), "ok");
}

TEST_F(PersistenceTest, IdleTimesSurviveARestartUnderAnLruPolicy) {
  auto a = Keel({"--maxmemory-policy", "allkeys-lru"});
  auto c = ConnectTo(*a);
  Cmd(c.get(), {"SET", "src", "v"});
  std::string payload = Str(Cmd(c.get(), {"DUMP", "src"}).get());
  ASSERT_EQ(Str(Cmd(c.get(), {"RESTORE", "old", "0", payload, "IDLETIME", "100000"}).get()), "OK");
  ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  ASSERT_TRUE(a->Stop());
  for (const std::string& binary : {KeelServerBinary(), RedisServerBinary()}) {
    auto b = StartProcess(binary, {"--dir", a->dir(), "--maxmemory-policy", "allkeys-lru"});
    auto d = ConnectTo(*b);
    EXPECT_GE(Cmd(d.get(), {"OBJECT", "IDLETIME", "old"})->integer, 100000) << binary;
    EXPECT_LT(Cmd(d.get(), {"OBJECT", "IDLETIME", "src"})->integer, 100000) << binary;
    ASSERT_TRUE(b->Stop());
  }
}

TEST_F(PersistenceTest, DebugLocalAllowsLoopbackClients) {
  auto k = Keel({"--enable-debug-command", "local"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "x", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD"}).get()), "OK");
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "x"}).get()), "1");
  EXPECT_EQ(Str(Cmd(c.get(), {"DEBUG", "RELOAD", "BOGUS"}).get()),
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
}

TEST_F(PersistenceTest, AFailedSaveRepliesErrAndKeepsTheCounters) {
  auto k = Keel({"--dir", "/proc"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "ERR");
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "1");
  EXPECT_NE(k->ReadLog().find("Failed opening the temp RDB file"), std::string::npos);
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "2"}).get()), "OK");  // no MISCONF after a SAVE
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

// Waits until the BGSAVE that is running ends.
void WaitForBgsave(redisContext* c) {
  while (InfoField(c, "rdb_bgsave_in_progress") == "1") {
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// The point-in-time property under concurrent writers: a slowed snapshot (the test knob makes it
// sleep after each shard) runs while four clients overwrite, edit, delete, rename and create
// keys in every way the write path offers, and flush and swap databases; the file must hold
// exactly the data of the moment BGSAVE started.
TEST_F(PersistenceTest, BgsaveIsPointInTimeUnderConcurrentWriters) {
  auto k = Keel({"--keel-bgsave-shard-delay-us", "3000"});
  auto c = ConnectTo(*k);
  Populate(c.get(), "");
  for (int i = 0; i < 3000; i += 100) {
    std::vector<std::string> mset = {"MSET"};
    for (int j = i; j < i + 100; ++j) {
      mset.push_back("k:" + std::to_string(j));
      mset.push_back("v0-" + std::to_string(j));
    }
    Cmd(c.get(), mset);
    Cmd(c.get(), {"RPUSH", "l:" + std::to_string(i / 100), "a", "b", "c"});
    Cmd(c.get(), {"HSET", "h:" + std::to_string(i / 100), "f", "0"});
  }
  for (const char* db : {"5", "6"}) {
    Cmd(c.get(), {"SELECT", db});
    Cmd(c.get(), {"SET", std::string("only-in-") + db, db});
  }
  Cmd(c.get(), {"SELECT", "0"});
  std::string want = Canon(c.get());

  ASSERT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "ERR Background save already in progress");
  EXPECT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "ERR Background save already in progress");
  std::atomic<int> writes_while_saving{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto wc = ConnectTo(*k);
      for (int round = 0;; ++round) {
        bool saving = InfoField(wc.get(), "rdb_bgsave_in_progress") == "1";
        for (int i = w; i < 3000; i += 4 * 7) {
          std::string n = std::to_string(i);
          switch ((i / 4 + round) % 7) {
            case 0:
              Cmd(wc.get(), {"SET", "k:" + n, "new-" + n});
              break;
            case 1:
              Cmd(wc.get(), {"APPEND", "k:" + n, "+"});
              break;
            case 2:
              Cmd(wc.get(), {"DEL", "k:" + n});
              break;
            case 3:
              Cmd(wc.get(), {"SET", "created:" + n, "x"});
              break;
            case 4:
              Cmd(wc.get(), {"RPUSH", "l:" + std::to_string(i % 30), "pushed"});
              break;
            case 5:
              Cmd(wc.get(), {"HINCRBY", "h:" + std::to_string(i % 30), "f", "1"});
              break;
            case 6:
              Cmd(wc.get(), {"RENAME", "k:" + n, "renamed:" + n});
              break;
          }
        }
        Cmd(wc.get(), {"EXPIRE", "list", "1000"});
        Cmd(wc.get(), {"LPOP", "biglist"});
        if (w == 0 && round == 0) {
          Cmd(wc.get(), {"SELECT", "3"});
          Cmd(wc.get(), {"FLUSHDB"});
          Cmd(wc.get(), {"SWAPDB", "5", "6"});
          Cmd(wc.get(), {"SELECT", "0"});
        }
        if (!saving) break;
        writes_while_saving.fetch_add(1);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  WaitForBgsave(c.get());
  ASSERT_GT(writes_while_saving.load(), 0) << "the snapshot ended before the writers started";
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "1");
  EXPECT_NE(Canon(c.get()), want);
  std::string log = k->ReadLog();
  EXPECT_NE(log.find("Background saving started"), std::string::npos);
  EXPECT_NE(log.find("Background saving terminated with success"), std::string::npos);

  std::string file = k->dir() + "/dump.rdb";
  std::string check = "redis-check-rdb '" + file + "' > '" + k->dir() + "/check.log' 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << "redis-check-rdb failed on " << file;
  auto fresh = Keel({"--dir", k->dir()});
  auto fc = ConnectTo(*fresh);
  EXPECT_EQ(Canon(fc.get()), want);
}

TEST_F(PersistenceTest, BgsaveArgumentsAndInfo) {
  auto k = Keel();
  auto c = ConnectTo(*k);
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE", "NOW"}).get()), "ERR syntax error");
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE", "SCHEDULE", "x"}).get()), "ERR syntax error");
  Cmd(c.get(), {"SET", "a", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE", "schedule"}).get()), "Background saving started");
  WaitForBgsave(c.get());
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_time_sec"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_current_bgsave_time_sec"), "-1");
  EXPECT_EQ(Str(Cmd(c.get(), {"LASTSAVE"}).get()), InfoField(c.get(), "rdb_last_save_time"));
  EXPECT_TRUE(std::filesystem::exists(k->dir() + "/dump.rdb"));
}

// A BGSAVE that cannot create its temporary file reports the failure in INFO and the log and
// leaves nothing behind.
TEST_F(PersistenceTest, AFailedBgsaveReportsErr) {
  auto k = Keel({"--dir", "/proc"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  WaitForBgsave(c.get());
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "err");
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "1");
  std::string log = k->ReadLog();
  EXPECT_NE(log.find("Failed opening the temp RDB file temp-bgsave-"), std::string::npos);
  EXPECT_NE(log.find("Background saving error"), std::string::npos);
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

// -MISCONF under Redis's rule: a failed BGSAVE, stop-writes-on-bgsave-error yes and save points
// set. Writes and PING are refused, reads are not; lifting either condition lifts the refusal.
TEST_F(PersistenceTest, AFailedBgsaveRefusesWritesWithMisconf) {
  auto k = Keel({"--dir", "/proc", "--save", "3600 1"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  WaitForBgsave(c.get());
  // Redis 7.0.15's text, word for word.
  const std::string misconf =
      "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
      "to disk. Commands that may modify the data set are disabled, because this instance is "
      "configured to report errors during writes if RDB snapshotting fails "
      "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
      "RDB error.";
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "2"}).get()), misconf);
  EXPECT_EQ(Str(Cmd(c.get(), {"PING"}).get()), misconf);
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "a"}).get()), "1");
  Cmd(c.get(), {"MULTI"});
  EXPECT_EQ(Str(Cmd(c.get(), {"INCR", "a"}).get()), misconf);
  EXPECT_EQ(Str(Cmd(c.get(), {"EXEC"}).get()),
            "EXECABORT Transaction discarded because of previous errors.");
  Cmd(c.get(), {"CONFIG", "SET", "stop-writes-on-bgsave-error", "no"});
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "2"}).get()), "OK");
  Cmd(c.get(), {"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"});
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "2"}).get()), misconf);
  Cmd(c.get(), {"CONFIG", "SET", "save", ""});
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "3"}).get()), "OK");
}

// A save point that is due starts a BGSAVE from the cron.
TEST_F(PersistenceTest, SavePointsStartABgsave) {
  auto k = Keel({"--save", "1 2"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  Cmd(c.get(), {"SET", "b", "2"});
  while (InfoField(c.get(), "rdb_saves") == "0") std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "ok");
  EXPECT_NE(k->ReadLog().find("2 changes in 1 seconds. Saving..."), std::string::npos);
  ASSERT_TRUE(k->Stop());
  auto again = Keel({"--dir", k->dir()});
  auto d = ConnectTo(*again);
  EXPECT_EQ(Str(Cmd(d.get(), {"GET", "b"}).get()), "2");
}

TEST_F(PersistenceTest, SavePointsDefaultToRedis70s) {
  ServerOptions o;
  o.binary = KeelServerBinary();
  o.default_args = false;
  o.port = PickFreePort();
  o.args = {"--port", std::to_string(o.port), "--bind", "127.0.0.1", "--dir", TempDir()};
  ServerProcess p(o);
  ASSERT_TRUE(p.Start());
  auto c = ConnectTo(p);
  EXPECT_EQ(Str(Cmd(c.get(), {"CONFIG", "GET", "save"})->element[1]), "3600 1 300 100 60 10000");
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

bool HasDump(const ServerProcess& p) { return std::filesystem::exists(p.dir() + "/dump.rdb"); }

TEST_F(PersistenceTest, ShutdownSavesUnderRedisRules) {
  {  // save points set: SHUTDOWN saves; the data comes back
    auto k = Keel({"--save", "3600 1"});
    auto c = ConnectTo(*k);
    Cmd(c.get(), {"SET", "a", "1"});
    HiredisCommand(c.get(), {"SHUTDOWN"});
    ASSERT_TRUE(k->WaitForExit(std::chrono::seconds(10)));
    EXPECT_TRUE(HasDump(*k));
    EXPECT_NE(k->ReadLog().find("Saving the final RDB snapshot before exiting."),
              std::string::npos);
    auto again = Keel({"--dir", k->dir()});
    EXPECT_EQ(Str(Cmd(ConnectTo(*again).get(), {"GET", "a"}).get()), "1");
  }
  {  // NOSAVE wins over save points
    auto k = Keel({"--save", "3600 1"});
    auto c = ConnectTo(*k);
    Cmd(c.get(), {"SET", "a", "1"});
    HiredisCommand(c.get(), {"SHUTDOWN", "NOSAVE"});
    ASSERT_TRUE(k->WaitForExit(std::chrono::seconds(10)));
    EXPECT_FALSE(HasDump(*k));
  }
  {  // no save points: nothing saved unless SAVE
    auto k = Keel();
    auto c = ConnectTo(*k);
    Cmd(c.get(), {"SET", "a", "1"});
    HiredisCommand(c.get(), {"SHUTDOWN", "SAVE", "NOW"});
    ASSERT_TRUE(k->WaitForExit(std::chrono::seconds(10)));
    EXPECT_TRUE(HasDump(*k));
  }
}

// A final save that fails keeps the server running, unless FORCE.
TEST_F(PersistenceTest, AFailedFinalSaveKeepsTheServerRunningUnlessForce) {
  auto k = Keel({"--dir", "/proc", "--save", "3600 1"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  EXPECT_EQ(Str(Cmd(c.get(), {"SHUTDOWN"}).get()), "ERR Errors trying to SHUTDOWN. Check logs.");
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "a"}).get()), "1");
  EXPECT_NE(k->ReadLog().find("Error trying to save the DB, can't exit."), std::string::npos);
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "2"}).get()), "OK");  // a SAVE never causes MISCONF
  k->Signal(SIGTERM);
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "b"}).get()), "2");
  while (k->ReadLog().find("SIGTERM received but errors trying to shut down the server") ==
         std::string::npos) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(k->IsRunning());
  HiredisCommand(c.get(), {"SHUTDOWN", "FORCE"});
  ASSERT_TRUE(k->WaitForExit(std::chrono::seconds(10)));
  EXPECT_NE(k->ReadLog().find("Error trying to save the DB. Exit anyway."), std::string::npos);
}

TEST_F(PersistenceTest, SigtermSavesWithSavePointsAndShutdownOnSigtermNosaveDoesNot) {
  auto k = Keel({"--save", "3600 1"});
  Cmd(ConnectTo(*k).get(), {"SET", "a", "1"});
  ASSERT_TRUE(k->Stop());
  EXPECT_TRUE(HasDump(*k));
  auto n = Keel({"--save", "3600 1", "--shutdown-on-sigterm", "nosave"});
  Cmd(ConnectTo(*n).get(), {"SET", "a", "1"});
  ASSERT_TRUE(n->Stop());
  EXPECT_FALSE(HasDump(*n));
}

// shutdown-on-sigterm takes several words, as in Redis 7.0: "save now" saves without save
// points, "now nosave" does not save with them.
TEST_F(PersistenceTest, ShutdownOnSigtermTakesSeveralWords) {
  auto k = Keel({"--save", "", "--shutdown-on-sigterm", "save now"});
  auto c = ConnectTo(*k);
  std::vector<std::string> got =
      Strings(Cmd(c.get(), {"CONFIG", "GET", "shutdown-on-sigterm"}).get());
  EXPECT_EQ(got, (std::vector<std::string>{"shutdown-on-sigterm", "save now"}));
  Cmd(c.get(), {"SET", "a", "1"});
  ASSERT_TRUE(k->Stop());
  EXPECT_TRUE(HasDump(*k));
  auto n = Keel({"--save", "3600 1", "--shutdown-on-sigterm", "now nosave"});
  Cmd(ConnectTo(*n).get(), {"SET", "a", "1"});
  ASSERT_TRUE(n->Stop());
  EXPECT_FALSE(HasDump(*n));
}

TEST_F(PersistenceTest, FlushallSavesWhenSavePointsAreSet) {
  auto k = Keel({"--save", "3600 1"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "1"});
  Cmd(c.get(), {"FLUSHALL"});
  EXPECT_TRUE(HasDump(*k));
  // As redis-server 7.0.15 reports after a FLUSHALL with save points: the save does not count
  // in rdb_saves, and no change is left unsaved (without save points the flush counts).
  EXPECT_EQ(InfoField(c.get(), "rdb_saves"), "0");
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "0");
  Cmd(c.get(), {"SET", "a", "1"});
  Cmd(c.get(), {"FLUSHALL"});
  EXPECT_EQ(InfoField(c.get(), "rdb_changes_since_last_save"), "0");
  auto n = Keel();
  auto d = ConnectTo(*n);
  Cmd(d.get(), {"SET", "a", "1"});
  Cmd(d.get(), {"FLUSHALL"});
  EXPECT_FALSE(HasDump(*n));
  EXPECT_EQ(InfoField(d.get(), "rdb_changes_since_last_save"), "2");
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

// A BGSAVE that cannot write its temporary file (a directory is in the way) leaves the last
// dump.rdb as it was, and the next successful one replaces it.
TEST_F(PersistenceTest, AFailedBgsaveLeavesTheOldFileIntact) {
  auto k = Keel({"--save", "3600 1"});
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"SET", "a", "old"});
  ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  std::string dump = k->dir() + "/dump.rdb";
  auto size = std::filesystem::file_size(dump);
  std::string blocker = k->dir() + "/temp-bgsave-" + std::to_string(k->pid()) + ".rdb";
  std::filesystem::create_directory(blocker);
  Cmd(c.get(), {"SET", "a", "new"});
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  WaitForBgsave(c.get());
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "err");
  EXPECT_EQ(std::filesystem::file_size(dump), size);
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "1"}).get()).substr(0, 8), "MISCONF ");
  std::filesystem::remove(blocker);
  auto again = Keel({"--dir", k->dir()});
  EXPECT_EQ(Str(Cmd(ConnectTo(*again).get(), {"GET", "a"}).get()), "old");
  ASSERT_TRUE(again->Stop());
  EXPECT_EQ(Str(Cmd(c.get(), {"BGSAVE"}).get()), "Background saving started");
  WaitForBgsave(c.get());
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(Str(Cmd(c.get(), {"SET", "b", "1"}).get()), "OK");
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

// BGSAVE queued in a transaction after a write starts from the transaction's state.
TEST_F(PersistenceTest, BgsaveInsideExec) {
  auto k = Keel();
  auto c = ConnectTo(*k);
  Cmd(c.get(), {"MULTI"});
  Cmd(c.get(), {"SET", "x", "1"});
  Cmd(c.get(), {"BGSAVE"});
  Cmd(c.get(), {"SET", "y", "2"});
  auto r = Cmd(c.get(), {"EXEC"});
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(Strings(r.get()), (std::vector<std::string>{"OK", "Background saving started", "OK"}));
  WaitForBgsave(c.get());
  EXPECT_EQ(InfoField(c.get(), "rdb_last_bgsave_status"), "ok");
  auto again = Keel({"--dir", k->dir()});
  auto d = ConnectTo(*again);
  EXPECT_EQ(Str(Cmd(d.get(), {"GET", "x"}).get()), "1");
  EXPECT_EQ(Str(Cmd(d.get(), {"GET", "y"}).get()), "<nil>");
}

}  // namespace
}  // namespace keel::test

namespace keel::test {
namespace {

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// While the start-up load runs (slowed by a test knob), clients connect and get Redis's -LOADING
// for every command not flagged "loading" (PING and GET included, as redis-server 7.0.15 answers
// them during a load), while INFO, CONFIG, CLIENT, SELECT and MULTI are served and INFO
// persistence shows the progress fields; then the data is all there. A SHUTDOWN during a load
// exits without saving over the file.
TEST_F(PersistenceTest, ClientsGetLoadingDuringTheStartUpLoad) {
  auto first = Keel({"--save", ""});  // its directory lives as long as it does
  std::string dir = first->dir();
  {
    auto c = ConnectTo(*first);
    for (int i = 0; i < 300; ++i) Cmd(c.get(), {"SET", "key:" + std::to_string(i), "v"});
    EXPECT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  }
  ASSERT_TRUE(first->Stop());
  std::string saved = FileBytes(dir + "/dump.rdb");
  ASSERT_FALSE(saved.empty());
  auto start_loading = [&] {
    ServerOptions o;
    o.binary = KeelServerBinary();
    o.args = {"--save", "", "--dir", dir, "--keel-load-key-delay-us", "10000"};  // 3 s
    o.wait_until_ready = false;
    auto p = std::make_unique<ServerProcess>(o);
    EXPECT_TRUE(p->Start());
    return p;
  };
  auto connect = [](const ServerProcess& p) {  // once it listens
    RedisContextPtr c;
    std::string error;
    for (int i = 0; i < 500 && c == nullptr; ++i) {
      c = HiredisConnect(p.port(), std::chrono::seconds(10), &error);
      if (c == nullptr) std::this_thread::sleep_for(milliseconds(10));
    }
    return c;
  };
  auto k = start_loading();
  auto c = connect(*k);
  ASSERT_NE(c, nullptr);
  const std::string loading = "LOADING Redis is loading the dataset in memory";
  EXPECT_EQ(Str(Cmd(c.get(), {"PING"}).get()), loading);
  EXPECT_EQ(Str(Cmd(c.get(), {"GET", "key:1"}).get()), loading);
  EXPECT_EQ(Str(Cmd(c.get(), {"DBSIZE"}).get()), loading);
  EXPECT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), loading);
  EXPECT_EQ(Str(Cmd(c.get(), {"SELECT", "1"}).get()), "OK");
  EXPECT_EQ(Str(Cmd(c.get(), {"SELECT", "0"}).get()), "OK");
  EXPECT_EQ(Strings(Cmd(c.get(), {"CONFIG", "GET", "save"}).get()).size(), 2u);
  EXPECT_EQ(Cmd(c.get(), {"CLIENT", "ID"})->type, REDIS_REPLY_INTEGER);
  EXPECT_EQ(InfoField(c.get(), "loading"), "1");
  EXPECT_EQ(InfoField(c.get(), "loading_total_bytes"), std::to_string(saved.size()));
  EXPECT_NE(InfoField(c.get(), "loading_loaded_bytes"), "<missing>");
  EXPECT_NE(InfoField(c.get(), "loading_loaded_perc"), "<missing>");
  EXPECT_NE(InfoField(c.get(), "loading_eta_seconds"), "<missing>");
  EXPECT_LT(std::stoi(InfoField(c.get(), "rdb_last_load_keys_loaded")), 300);  // live, as Redis's
  std::string reply;
  for (int i = 0; i < 1000; ++i) {
    reply = Str(Cmd(c.get(), {"PING"}).get());
    if (reply != loading) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(reply, "PONG");
  EXPECT_EQ(Str(Cmd(c.get(), {"DBSIZE"}).get()), "300");
  EXPECT_EQ(InfoField(c.get(), "loading"), "0");
  EXPECT_EQ(InfoField(c.get(), "loading_total_bytes"), "<missing>");
  EXPECT_EQ(InfoField(c.get(), "rdb_last_load_keys_loaded"), "300");
  k.reset();

  auto again = start_loading();
  auto d = connect(*again);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Str(Cmd(d.get(), {"PING"}).get()), loading);
  HiredisCommand(d.get(), {"SHUTDOWN"});  // SHUTDOWN is allowed while loading; never saves
  ASSERT_TRUE(again->WaitForExit(std::chrono::seconds(10)));
  EXPECT_EQ(again->exit_code().value_or(-1), 0) << again->ReadLog();
  EXPECT_EQ(FileBytes(dir + "/dump.rdb"), saved);
}

// LFU counters travel in RDB files (the FREQ opcode) both ways under an LFU policy, and a
// RESTORE ... FREQ sets the counter, as in Redis. No decay and a counter that grows on every
// access (lfu-log-factor 0), so the values are exact on both sides.
TEST_F(PersistenceTest, LfuCountersSurviveSaveAndLoadBetweenKeelAndRedis) {
  std::vector<std::string> lfu = {
      "--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0", "--lfu-decay-time", "0"};
  auto fill = [](redisContext* c) {
    ASSERT_EQ(Str(Cmd(c, {"SET", "cold", "x"}).get()), "OK");
    ASSERT_EQ(Str(Cmd(c, {"SET", "warm", "x"}).get()), "OK");
    ASSERT_EQ(Str(Cmd(c, {"SET", "hot", "x"}).get()), "OK");
    for (int i = 0; i < 30; ++i) Cmd(c, {"GET", "warm"});
    for (int i = 0; i < 200; ++i) Cmd(c, {"GET", "hot"});
    std::string payload = Str(Cmd(c, {"DUMP", "cold"}).get());
    ASSERT_EQ(Str(Cmd(c, {"RESTORE", "restored", "0", payload, "FREQ", "77"}).get()), "OK");
  };
  auto freqs = [](redisContext* c) {
    std::string out;
    for (const char* k : {"cold", "warm", "hot", "restored"}) {
      out += std::string(k) + "=" + Str(Cmd(c, {"OBJECT", "FREQ", k}).get()) + " ";
    }
    return out;
  };
  // DUMP is an access (cold: 5 + 1), OBJECT FREQ is not.
  const std::string want = "cold=6 warm=35 hot=205 restored=77 ";
  std::vector<std::string> redis_args = lfu;
  auto r = Redis(redis_args);
  auto rc = ConnectTo(*r);
  fill(rc.get());
  ASSERT_EQ(freqs(rc.get()), want);  // the oracle itself
  ASSERT_EQ(Str(Cmd(rc.get(), {"SAVE"}).get()), "OK");
  // Redis's file into Keel.
  std::vector<std::string> keel_args = lfu;
  keel_args.insert(keel_args.end(), {"--dir", r->dir()});
  auto k = Keel(keel_args);
  auto kc = ConnectTo(*k);
  EXPECT_EQ(freqs(kc.get()), want);
  // Keel's own file, into Keel and into Redis.
  auto k2 = Keel(lfu);
  auto k2c = ConnectTo(*k2);
  fill(k2c.get());
  EXPECT_EQ(freqs(k2c.get()), want);
  ASSERT_EQ(Str(Cmd(k2c.get(), {"SAVE"}).get()), "OK");
  std::string file = k2->dir() + "/dump.rdb";
  std::string check = "redis-check-rdb '" + file + "' > '" + k2->dir() + "/check.log' 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << "redis-check-rdb failed on " << file;
  std::vector<std::string> back = lfu;
  back.insert(back.end(), {"--dir", k2->dir()});
  auto k3 = Keel(back);
  EXPECT_EQ(freqs(ConnectTo(*k3).get()), want);
  auto r2 = Redis(back);
  EXPECT_EQ(freqs(ConnectTo(*r2).get()), want);
  // Under an LRU policy a FREQ opcode means nothing to a load: the key is as new.
  auto k4 = Keel({"--maxmemory-policy", "allkeys-lru", "--dir", k2->dir()});
  EXPECT_LE(std::stoll(Str(Cmd(ConnectTo(*k4).get(), {"OBJECT", "IDLETIME", "hot"}).get())), 1);
}

// RESTORE's IDLETIME sets the idle time under an LRU policy, and the IDLE opcode carries it
// through a save and a load.
TEST_F(PersistenceTest, IdleTimesSurviveSaveAndLoadUnderAnLruPolicy) {
  auto k = Keel({"--maxmemory-policy", "allkeys-lru"});
  auto c = ConnectTo(*k);
  ASSERT_EQ(Str(Cmd(c.get(), {"SET", "k", "v"}).get()), "OK");
  std::string payload = Str(Cmd(c.get(), {"DUMP", "k"}).get());
  ASSERT_EQ(Str(Cmd(c.get(), {"RESTORE", "idle", "0", payload, "IDLETIME", "5000"}).get()), "OK");
  ASSERT_EQ(Str(Cmd(c.get(), {"SAVE"}).get()), "OK");
  auto r = Redis({"--maxmemory-policy", "allkeys-lru", "--dir", k->dir()});
  int64_t idle = std::stoll(Str(Cmd(ConnectTo(*r).get(), {"OBJECT", "IDLETIME", "idle"}).get()));
  EXPECT_GE(idle, 5000);
  EXPECT_LT(idle, 5010);
}

}  // namespace
}  // namespace keel::test
