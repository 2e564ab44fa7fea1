// Generic key commands end to end: SCAN while the keyspace grows, active expiry of many keys,
// SWAPDB and MOVE between databases.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class KeysTest : public ServerTest {
 protected:
  // Sends the commands pipelined in batches; returns false on an I/O error or an error reply.
  static bool Pipeline(redisContext* ctx, const std::vector<std::vector<std::string>>& cmds,
                       size_t batch = 1000) {
    for (size_t i = 0; i < cmds.size(); i += batch) {
      size_t end = std::min(cmds.size(), i + batch);
      for (size_t j = i; j < end; ++j) {
        if (!HiredisAppend(ctx, cmds[j])) return false;
      }
      for (size_t j = i; j < end; ++j) {
        RedisReplyPtr r = HiredisGetReply(ctx);
        if (r == nullptr) {
          ADD_FAILURE() << "I/O error: " << ctx->errstr;
          return false;
        }
        if (r->type == REDIS_REPLY_ERROR) {
          ADD_FAILURE() << "error reply: " << DescribeReply(r.get());
          return false;
        }
      }
    }
    return true;
  }

  static long long Integer(redisContext* ctx, const std::vector<std::string>& args) {
    RedisReplyPtr r = HiredisCommand(ctx, args);
    EXPECT_NE(r, nullptr);
    if (r == nullptr) return -999;
    EXPECT_EQ(r->type, REDIS_REPLY_INTEGER) << DescribeReply(r.get());
    return r->integer;
  }

  static std::string Str(redisContext* ctx, const std::vector<std::string>& args) {
    RedisReplyPtr r = HiredisCommand(ctx, args);
    EXPECT_NE(r, nullptr);
    if (r == nullptr) return "<io error>";
    if (r->type == REDIS_REPLY_NIL) return "<nil>";
    if (r->type == REDIS_REPLY_ERROR) return "-" + std::string(r->str, r->len);
    EXPECT_TRUE(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        << DescribeReply(r.get());
    return std::string(r->str, r->len);
  }

  // One SCAN call: returns the next cursor, appends the keys.
  static std::string ScanOnce(redisContext* ctx, const std::string& cursor,
                              std::vector<std::string>* keys, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"SCAN", cursor};
    args.insert(args.end(), extra.begin(), extra.end());
    RedisReplyPtr r = HiredisCommand(ctx, args);
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      ADD_FAILURE() << "bad SCAN reply: " << (r ? DescribeReply(r.get()) : ctx->errstr);
      return "0";
    }
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      const redisReply* k = r->element[1]->element[i];
      keys->emplace_back(k->str, k->len);
    }
    return std::string(r->element[0]->str, r->element[0]->len);
  }
};

// Every key present for the whole of a SCAN is returned at least once, while another client
// keeps adding (and deleting some of its own) keys, so the shards' tables grow and rehash
// under the cursor.
TEST_F(KeysTest, ScanReturnsEveryStableKeyWhileTheKeyspaceGrows) {
  StartServer();
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  constexpr int kStable = 20000;
  constexpr int kAdded = 50000;
  {
    std::vector<std::vector<std::string>> cmds;
    for (int i = 0; i < kStable; i += 100) {
      std::vector<std::string> mset{"MSET"};
      for (int j = i; j < i + 100; ++j) {
        mset.push_back("stable:" + std::to_string(j));
        mset.push_back("v");
      }
      cmds.push_back(std::move(mset));
    }
    ASSERT_TRUE(Pipeline(ctx.get(), cmds, 50));
  }
  ASSERT_EQ(Integer(ctx.get(), {"DBSIZE"}), kStable);

  std::atomic<bool> scan_done{false};
  std::atomic<int> written{0};
  std::atomic<bool> writer_ok{true};
  std::thread writer([&] {
    auto w = HiredisConnect(server_->port());
    if (w == nullptr) {
      writer_ok = false;
      return;
    }
    int i = 0;
    while (i < kAdded) {
      // Small batches so the writes interleave with the scan's calls.
      std::vector<std::vector<std::string>> batch;
      for (int j = 0; j < 100 && i < kAdded; ++j, ++i) {
        batch.push_back({"SET", "new:" + std::to_string(i), "x"});
        if (i % 3 == 2) batch.push_back({"DEL", "new:" + std::to_string(i - 1)});
      }
      if (!Pipeline(w.get(), batch)) {
        writer_ok = false;
        return;
      }
      written.store(i);
    }
  });

  // Let the writer get going, then scan.
  while (written.load() < 2000 && writer_ok.load()) std::this_thread::sleep_for(milliseconds(1));
  int written_at_start = written.load();
  std::unordered_set<std::string> seen;
  std::string cursor = "0";
  size_t calls = 0;
  do {
    std::vector<std::string> keys;
    cursor = ScanOnce(ctx.get(), cursor, &keys, {"COUNT", "100"});
    seen.insert(keys.begin(), keys.end());
    ++calls;
  } while (cursor != "0" && calls < 1000000);
  int written_at_end = written.load();
  scan_done = true;
  writer.join();
  ASSERT_TRUE(writer_ok.load());

  int missing = 0;
  for (int i = 0; i < kStable; ++i) {
    if (!seen.count("stable:" + std::to_string(i))) ++missing;
  }
  EXPECT_EQ(missing, 0) << "stable keys not returned by SCAN";
  // The scan really overlapped the growth.
  EXPECT_GT(written_at_end, written_at_start) << "writer made no progress during the scan";
  EXPECT_GT(calls, 100u);
  EXPECT_EQ(Integer(ctx.get(), {"DBSIZE"}), kStable + kAdded - kAdded / 3);
}

// SCAN with MATCH, TYPE and COUNT on a larger keyspace returns exactly the matching keys.
TEST_F(KeysTest, ScanFiltersAndCoversTheWholeKeyspace) {
  StartServer();
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 5000; ++i) {
    cmds.push_back({"SET", (i % 2 ? "odd:" : "even:") + std::to_string(i), "v"});
  }
  ASSERT_TRUE(Pipeline(ctx.get(), cmds));
  std::unordered_set<std::string> seen;
  std::string cursor = "0";
  do {
    std::vector<std::string> keys;
    cursor =
        ScanOnce(ctx.get(), cursor, &keys, {"MATCH", "odd:*", "COUNT", "37", "TYPE", "string"});
    for (auto& k : keys) {
      EXPECT_EQ(k.rfind("odd:", 0), 0u) << k;
      seen.insert(k);
    }
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 2500u);
  std::vector<std::string> none;
  cursor = "0";
  do {
    cursor = ScanOnce(ctx.get(), cursor, &none, {"TYPE", "list", "COUNT", "1000"});
  } while (cursor != "0");
  EXPECT_TRUE(none.empty());
  // KEYS agrees.
  RedisReplyPtr r = HiredisCommand(ctx.get(), {"KEYS", "even:*"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(r->elements, 2500u);
}

// Many keys with a short TTL that nobody touches again are removed by the active expiry cycle
// alone.
TEST_F(KeysTest, ActiveExpiryRemovesUntouchedKeys) {
  StartServer();
  constexpr int kKeys = 1000000;
  constexpr int kClients = 4;
  std::vector<std::thread> loaders;
  std::atomic<bool> ok{true};
  for (int c = 0; c < kClients; ++c) {
    loaders.emplace_back([&, c] {
      auto w = HiredisConnect(server_->port());
      if (w == nullptr) {
        ok = false;
        return;
      }
      std::vector<std::vector<std::string>> batch;
      for (int i = c; i < kKeys; i += kClients) {
        batch.push_back({"SET", "exp:" + std::to_string(i), "v", "PX", "1000"});
        if (batch.size() == 2000) {
          if (!Pipeline(w.get(), batch, 2000)) {
            ok = false;
            return;
          }
          batch.clear();
        }
      }
      if (!Pipeline(w.get(), batch, 2000)) ok = false;
    });
  }
  for (auto& t : loaders) t.join();
  ASSERT_TRUE(ok.load());
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  long long size = Integer(ctx.get(), {"DBSIZE"});
  EXPECT_GT(size, 0);
  EXPECT_LE(size, kKeys);
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline) {
    size = Integer(ctx.get(), {"DBSIZE"});
    if (size == 0) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(size, 0) << "keys left 10 s after loading; active expiry did not remove them";
}

// SWAPDB exchanges whole databases (contents and TTLs); MOVE transfers one key.
TEST_F(KeysTest, SwapDbAndMoveBetweenDatabases) {
  StartServer();
  auto a = HiredisConnect(server_->port());
  auto b = HiredisConnect(server_->port());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(Str(b.get(), {"SELECT", "3"}), "OK");
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 3000; ++i) cmds.push_back({"SET", "zero:" + std::to_string(i), "0"});
  ASSERT_TRUE(Pipeline(a.get(), cmds));
  cmds.clear();
  for (int i = 0; i < 1000; ++i) cmds.push_back({"SET", "three:" + std::to_string(i), "3"});
  ASSERT_TRUE(Pipeline(b.get(), cmds));
  ASSERT_EQ(Integer(a.get(), {"EXPIRE", "zero:1", "1000"}), 1);

  ASSERT_EQ(Str(a.get(), {"SWAPDB", "0", "3"}), "OK");
  // A client's selected database number stays; its contents changed.
  EXPECT_EQ(Integer(a.get(), {"DBSIZE"}), 1000);
  EXPECT_EQ(Integer(b.get(), {"DBSIZE"}), 3000);
  EXPECT_EQ(Str(a.get(), {"GET", "three:5"}), "3");
  EXPECT_EQ(Str(b.get(), {"GET", "zero:5"}), "0");
  EXPECT_EQ(Integer(b.get(), {"TTL", "zero:1"}), 1000);
  EXPECT_EQ(Integer(a.get(), {"EXISTS", "zero:5"}), 0);
  // Writes after the swap land in the swapped contents.
  ASSERT_EQ(Str(a.get(), {"SET", "after", "x"}), "OK");
  ASSERT_EQ(Str(a.get(), {"SWAPDB", "3", "0"}), "OK");
  EXPECT_EQ(Integer(b.get(), {"EXISTS", "after"}), 1);
  EXPECT_EQ(Integer(a.get(), {"DBSIZE"}), 3000);

  // MOVE: a key goes to the other database with its TTL; an existing target blocks it.
  ASSERT_EQ(Integer(a.get(), {"MOVE", "zero:1", "3"}), 1);
  EXPECT_EQ(Integer(a.get(), {"EXISTS", "zero:1"}), 0);
  EXPECT_EQ(Str(b.get(), {"GET", "zero:1"}), "0");
  EXPECT_EQ(Integer(b.get(), {"TTL", "zero:1"}), 1000);
  ASSERT_EQ(Str(b.get(), {"SET", "zero:2", "theirs"}), "OK");
  EXPECT_EQ(Integer(a.get(), {"MOVE", "zero:2", "3"}), 0);
  EXPECT_EQ(Str(a.get(), {"GET", "zero:2"}), "0");
  EXPECT_EQ(Str(b.get(), {"GET", "zero:2"}), "theirs");
  EXPECT_EQ(Integer(a.get(), {"MOVE", "nokey", "3"}), 0);
  EXPECT_EQ(Str(a.get(), {"MOVE", "zero:3", "0"}),
            "-ERR source and destination objects are the same");
  // COPY across databases leaves the source in place.
  EXPECT_EQ(Integer(a.get(), {"COPY", "zero:4", "copied", "DB", "3"}), 1);
  EXPECT_EQ(Str(b.get(), {"GET", "copied"}), "0");
  EXPECT_EQ(Str(a.get(), {"GET", "zero:4"}), "0");

  // Concurrent MOVEs and SWAPDBs from several clients neither deadlock nor lose keys.
  ASSERT_EQ(Str(a.get(), {"FLUSHALL"}), "OK");
  cmds.clear();
  for (int i = 0; i < 2000; ++i) cmds.push_back({"SET", "m:" + std::to_string(i), "v"});
  ASSERT_TRUE(Pipeline(a.get(), cmds));
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto c = HiredisConnect(server_->port());
      if (c == nullptr) {
        ok = false;
        return;
      }
      std::vector<std::vector<std::string>> ops;
      for (int i = t; i < 2000; i += 4) {
        ops.push_back({"MOVE", "m:" + std::to_string(i), std::to_string(1 + t % 2)});
        if (i % 100 == t) ops.push_back({"SWAPDB", "1", "2"});
      }
      if (!Pipeline(c.get(), ops, 200)) ok = false;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(ok.load());
  auto c = HiredisConnect(server_->port());
  long long total = 0;
  for (int db = 0; db < 3; ++db) {
    ASSERT_EQ(Str(c.get(), {"SELECT", std::to_string(db)}), "OK");
    total += Integer(c.get(), {"DBSIZE"});
  }
  EXPECT_EQ(total, 2000);
}

}  // namespace
}  // namespace keel::test
