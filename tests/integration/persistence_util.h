#pragma once

// Helpers shared by the persistence tests (RDB: persistence_test.cc, AOF: aof_test.cc): start a
// server process, run commands, and a canonical dump of a whole dataset to compare two servers.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {

inline std::unique_ptr<ServerProcess> StartProcess(const std::string& binary,
                                                   std::vector<std::string> args) {
  ServerOptions o;
  o.binary = binary;
  o.args = std::move(args);
  auto p = std::make_unique<ServerProcess>(o);
  EXPECT_TRUE(p->Start());
  return p;
}

// A test that starts its own Keel and redis-server processes (files going between them); skipped
// when the suite runs against Redis.
class KeelAndRedisTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (TestingRedis()) GTEST_SKIP() << "Keel against Redis: needs Keel as the server under test";
  }
  std::unique_ptr<ServerProcess> Keel(std::vector<std::string> args = {}) {
    return StartProcess(KeelServerBinary(), std::move(args));
  }
  std::unique_ptr<ServerProcess> Redis(std::vector<std::string> args = {}) {
    return StartProcess(RedisServerBinary(), std::move(args));
  }
};

inline RedisContextPtr ConnectTo(const ServerProcess& p) {
  std::string error;
  auto c = HiredisConnect(p.port(), std::chrono::seconds(60), &error);
  EXPECT_NE(c, nullptr) << error;
  return c;
}

inline RedisReplyPtr Cmd(redisContext* c, const std::vector<std::string>& args) {
  auto r = HiredisCommand(c, args);
  EXPECT_NE(r, nullptr) << args[0];
  return r;
}

inline std::string Str(const redisReply* r) {
  if (r == nullptr) return "<io error>";
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR) {
    return std::string(r->str, r->len);
  }
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  if (r->type == REDIS_REPLY_NIL) return "<nil>";
  return DescribeReply(r);
}

inline std::vector<std::string> Strings(const redisReply* r) {
  std::vector<std::string> out;
  if (r != nullptr && r->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r->elements; ++i) out.push_back(Str(r->element[i]));
  }
  return out;
}

// Every key of every database: type, contents (sets and hashes sorted) and absolute expire.
inline std::string Canon(redisContext* c) {
  std::string out;
  for (int db = 0; db < 16; ++db) {
    Cmd(c, {"SELECT", std::to_string(db)});
    std::vector<std::string> keys = Strings(Cmd(c, {"KEYS", "*"}).get());
    std::sort(keys.begin(), keys.end());
    for (const std::string& k : keys) {
      std::string type = Str(Cmd(c, {"TYPE", k}).get());
      out += std::to_string(db) + " " + k + " " + type +
             " exp=" + Str(Cmd(c, {"PEXPIRETIME", k}).get()) + " :";
      std::vector<std::string> items;
      if (type == "string") {
        items.push_back(Str(Cmd(c, {"GET", k}).get()));
      } else if (type == "list") {
        items = Strings(Cmd(c, {"LRANGE", k, "0", "-1"}).get());
      } else if (type == "set") {
        items = Strings(Cmd(c, {"SMEMBERS", k}).get());
        std::sort(items.begin(), items.end());
      } else if (type == "hash") {
        std::vector<std::string> flat = Strings(Cmd(c, {"HGETALL", k}).get());
        for (size_t i = 0; i + 1 < flat.size(); i += 2)
          items.push_back(flat[i] + "=" + flat[i + 1]);
        std::sort(items.begin(), items.end());
      } else if (type == "zset") {
        items = Strings(Cmd(c, {"ZRANGE", k, "0", "-1", "WITHSCORES"}).get());
      }
      for (const std::string& i : items) out += " [" + i + "]";
      out += "\n";
    }
  }
  Cmd(c, {"SELECT", "0"});
  return out;
}

inline std::string InfoField(redisContext* c, const std::string& field) {
  std::string info = Str(Cmd(c, {"INFO", "persistence"}).get());
  size_t at = info.find(field + ":");
  if (at == std::string::npos) return "<missing>";
  size_t end = info.find("\r\n", at);
  return info.substr(at + field.size() + 1, end - at - field.size() - 1);
}

// Values of every kind and size, each in the encoding the current thresholds give it.
inline void Populate(redisContext* c, const std::string& prefix) {
  auto run = [&](std::vector<std::string> args) {
    auto r = Cmd(c, args);
    ASSERT_NE(r->type, REDIS_REPLY_ERROR) << args[0] << " " << Str(r.get());
  };
  run({"SET", prefix + "str", "hello"});
  run({"SET", prefix + "int", "12345"});
  run({"SET", prefix + "neg", "-9223372036854775808"});
  run({"SET", prefix + "big40", "1099511627776"});
  run({"SET", prefix + "lzf", std::string(5000, 'a') + "b"});
  std::string noise;
  for (int i = 0; i < 3000; ++i) noise.push_back(static_cast<char>((i * 7919) % 251));
  run({"SET", prefix + "noise", noise});
  run({"SET", prefix + "ttl", "v", "PX", "900000000"});
  run({"RPUSH", prefix + "list", "a", "b", "1", "-2", "70000", "9999999999", ""});
  std::vector<std::string> push = {"RPUSH", prefix + "biglist"};
  for (int i = 0; i < 3000; ++i) push.push_back("item-" + std::to_string(i));
  push.push_back(std::string(10000, 'L'));
  run(push);
  run({"SADD", prefix + "intset16", "1", "2", "3"});
  run({"SADD", prefix + "intset32", "1", "100000", "-100000"});
  run({"SADD", prefix + "intset64", "1", "10000000000"});
  std::vector<std::string> ints = {"SADD", prefix + "bigints"};
  for (int i = 0; i < 700; ++i) ints.push_back(std::to_string(i * 3));
  run(ints);
  run({"SADD", prefix + "strset", "a", "b", "c", "1"});
  run({"HSET", prefix + "hash", "f", "v", "n", "42", "e", ""});
  std::vector<std::string> hs = {"HSET", prefix + "bighash"};
  for (int i = 0; i < 600; ++i) {
    hs.push_back("field" + std::to_string(i));
    hs.push_back(std::to_string(i));
  }
  run(hs);
  run({"HSET", prefix + "longval", "f", std::string(200, 'x')});
  run({"ZADD", prefix + "zset", "1", "a", "1.5", "b", "-inf", "c", "1e20", "d", "0.1", "e"});
  std::vector<std::string> zs = {"ZADD", prefix + "bigzset"};
  for (int i = 0; i < 300; ++i) {
    zs.push_back(std::to_string(i % 17) + "." + std::to_string(i));
    zs.push_back("member" + std::to_string(i));
  }
  zs.push_back("-0");
  zs.push_back("negzero");
  run(zs);
  run({"ZADD", prefix + "longzset", "2", "x", "inf", std::string(100, 'z')});
  run({"SELECT", "3"});
  run({"SET", prefix + "in3", "three"});
  run({"RPUSH", prefix + "list3", "x"});
  run({"SELECT", "0"});
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string TempDir() {
  std::string dir = (std::filesystem::temp_directory_path() / "keel-rdb-XXXXXX").string();
  EXPECT_NE(::mkdtemp(dir.data()), nullptr);
  return dir;
}

}  // namespace keel::test
