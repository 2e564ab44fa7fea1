// Set and hash commands end to end through hiredis: concurrent HINCRBY/HINCRBYFLOAT from many
// clients on several io threads lose no update, SMOVE between sets conserves the members, and
// SSCAN/HSCAN cursors over hashtable encodings return every element.

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

class SetsHashesTest : public ThreadedServerTest {
 protected:
  // Runs `body(ctx, index)` on `n` clients in parallel, started together.
  template <typename Fn>
  void Parallel(int n, Fn body) {
    std::atomic<int> ready{0};
    std::vector<std::string> errors(n);
    std::vector<std::thread> workers;
    for (int t = 0; t < n; ++t) {
      workers.emplace_back([&, t] {
        std::string error;
        auto ctx = HiredisConnect(server_->port(), std::chrono::seconds(20), &error);
        ++ready;
        if (ctx == nullptr) {
          errors[t] = "connect: " + error;
          return;
        }
        while (ready.load() < n) std::this_thread::yield();
        errors[t] = body(ctx.get(), t);
      });
    }
    for (auto& w : workers) w.join();
    for (int t = 0; t < n; ++t) EXPECT_EQ(errors[t], "") << "client " << t;
  }
};

int64_t Int(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_INTEGER ? r->integer : INT64_MIN;
}

std::string Str(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len)
                                                       : "<" + DescribeReply(r) + ">";
}

TEST_F(SetsHashesTest, ConcurrentHincrbyLosesNoIncrement) {
  constexpr int kClients = 32;
  constexpr int kRounds = 300;
  Parallel(kClients, [&](redisContext* ctx, int t) -> std::string {
    for (int r = 0; r < kRounds; ++r) {
      // Pipelined, so commands from many clients interleave tightly.
      HiredisAppend(ctx, {"HINCRBY", "counters", "total", "1"});
      HiredisAppend(ctx,
                    {"HINCRBY", "counters", "f" + std::to_string((t * kRounds + r) % 600), "2"});
      HiredisAppend(ctx, {"HINCRBYFLOAT", "floats", "x", "0.5"});
      for (int i = 0; i < 3; ++i) {
        auto reply = HiredisGetReply(ctx);
        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
          return "round " + std::to_string(r) + ": " + DescribeReply(reply.get());
        }
      }
    }
    return "";
  });
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(Str(Run(ctx.get(), {"HGET", "counters", "total"}).get()),
            std::to_string(kClients * kRounds));
  int64_t sum = 0;
  for (int f = 0; f < 600; ++f) {
    auto r = Run(ctx.get(), {"HGET", "counters", "f" + std::to_string(f)});
    sum += std::stoll(Str(r.get()));
  }
  EXPECT_EQ(sum, 2 * kClients * kRounds);
  // 601 fields: the hash went past hash-max-listpack-entries (512).
  EXPECT_EQ(Str(Run(ctx.get(), {"OBJECT", "ENCODING", "counters"}).get()), "hashtable");
  EXPECT_EQ(Int(Run(ctx.get(), {"HLEN", "counters"}).get()), 601);
  EXPECT_EQ(Str(Run(ctx.get(), {"HGET", "floats", "x"}).get()),
            std::to_string(kClients * kRounds / 2));
}

TEST_F(SetsHashesTest, ConcurrentSmoveConservesMembers) {
  constexpr int kMembers = 400;  // below set-max-intset-entries: intsets
  constexpr int kClients = 32;
  constexpr int kRounds = 400;
  {
    auto ctx = HiredisConnect(server_->port());
    ASSERT_NE(ctx, nullptr);
    std::vector<std::string> add = {"SADD", "set-a"};
    for (int i = 0; i < kMembers; ++i) add.push_back(std::to_string(i));
    EXPECT_EQ(Int(Run(ctx.get(), add).get()), kMembers);
    // Members that are strings make the third set a hashtable.
    EXPECT_EQ(Int(Run(ctx.get(), {"SADD", "set-c", "x"}).get()), 1);
  }
  std::atomic<int64_t> moved{0};
  Parallel(kClients, [&](redisContext* ctx, int t) -> std::string {
    const char* keys[] = {"set-a", "set-b", "set-c"};
    for (int r = 0; r < kRounds; ++r) {
      const char* src = keys[(t + r) % 3];
      const char* dst = keys[(t + 2 * r + 1) % 3];
      std::string member = std::to_string((t * 7919 + r * 31) % kMembers);
      auto reply = HiredisCommand(ctx, {"SMOVE", src, dst, member});
      if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
        return "SMOVE: " + DescribeReply(reply.get());
      }
      moved += reply->integer;
    }
    return "";
  });
  EXPECT_GT(moved.load(), 0);
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  int64_t total = 0;
  std::set<std::string> all;
  for (const char* k : {"set-a", "set-b", "set-c"}) {
    total += Int(Run(ctx.get(), {"SCARD", k}).get());
    auto members = Run(ctx.get(), {"SMEMBERS", k});
    ASSERT_EQ(members->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < members->elements; ++i) all.insert(Str(members->element[i]));
  }
  EXPECT_EQ(total, kMembers + 1);
  EXPECT_EQ(all.size(), static_cast<size_t>(kMembers + 1));
  // A SUNIONSTORE of everything sees a consistent snapshot too.
  EXPECT_EQ(Int(Run(ctx.get(), {"SUNIONSTORE", "set-u", "set-a", "set-b", "set-c"}).get()),
            kMembers + 1);
}

TEST_F(SetsHashesTest, ScanCursorsVisitEveryElementOfHashtables) {
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  constexpr int kN = 5000;
  for (int i = 0; i < kN; i += 500) {
    std::vector<std::string> sadd = {"SADD", "big"};
    std::vector<std::string> hset = {"HSET", "bigh"};
    for (int j = i; j < i + 500; ++j) {
      sadd.push_back("m" + std::to_string(j));
      hset.push_back("f" + std::to_string(j));
      hset.push_back("v" + std::to_string(j));
    }
    Run(ctx.get(), sadd);
    Run(ctx.get(), hset);
  }
  for (const char* cmd : {"SSCAN", "HSCAN"}) {
    std::string key = std::string(cmd) == "SSCAN" ? "big" : "bigh";
    std::set<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
      auto r = Run(ctx.get(), {cmd, key, cursor, "COUNT", "100"});
      ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
      ASSERT_EQ(r->elements, 2u);
      cursor = Str(r->element[0]);
      redisReply* items = r->element[1];
      size_t step = std::string(cmd) == "HSCAN" ? 2 : 1;
      for (size_t i = 0; i < items->elements; i += step) {
        std::string s = Str(items->element[i]);
        if (step == 2) {
          EXPECT_EQ("v" + s.substr(1), Str(items->element[i + 1]));
        }
        seen.insert(s);
      }
      ++calls;
    } while (cursor != "0" && calls < 100000);
    EXPECT_EQ(seen.size(), static_cast<size_t>(kN)) << cmd;
    EXPECT_GT(calls, 1) << cmd;
  }
  // MATCH filters inside the walk.
  std::set<std::string> matched;
  std::string cursor = "0";
  do {
    auto r = Run(ctx.get(), {"SSCAN", "big", cursor, "MATCH", "m1?"});
    cursor = Str(r->element[0]);
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      matched.insert(Str(r->element[1]->element[i]));
    }
  } while (cursor != "0");
  EXPECT_EQ(matched.size(), 10u);
}

TEST_F(SetsHashesTest, BinarySafeMembersFieldsAndValues) {
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  std::string bin("a\0b\r\n\xff", 6);
  std::string big(100000, 'x');
  EXPECT_EQ(Int(Run(ctx.get(), {"SADD", "bs", bin, big, ""}).get()), 3);
  EXPECT_EQ(Int(Run(ctx.get(), {"SISMEMBER", "bs", bin}).get()), 1);
  EXPECT_EQ(Int(Run(ctx.get(), {"SISMEMBER", "bs", big}).get()), 1);
  EXPECT_EQ(Int(Run(ctx.get(), {"HSET", "bh", bin, big, big, bin, "", ""}).get()), 3);
  EXPECT_EQ(Str(Run(ctx.get(), {"HGET", "bh", bin}).get()), big);
  EXPECT_EQ(Str(Run(ctx.get(), {"HGET", "bh", big}).get()), bin);
  EXPECT_EQ(Str(Run(ctx.get(), {"HGET", "bh", ""}).get()), "");
  EXPECT_EQ(Int(Run(ctx.get(), {"HSTRLEN", "bh", bin}).get()), 100000);
}

}  // namespace
}  // namespace keel::test
