// String commands end to end through hiredis: many clients incrementing shared counters from
// several io threads at once (no lost updates), and binary-safe values (NUL, CR/LF, 1 MiB).

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using StringsTest = ThreadedServerTest;

std::string Str(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len)
                                                       : "<" + DescribeReply(r) + ">";
}

TEST_F(StringsTest, SixtyFourConcurrentClientsLoseNoIncrement) {
  constexpr int kClients = 64;
  constexpr int kRounds = 300;
  constexpr int kKeys = 4;
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> workers;
  for (int t = 0; t < kClients; ++t) {
    workers.emplace_back([&, t] {
      std::string error;
      auto ctx = HiredisConnect(server_->port(), std::chrono::seconds(20), &error);
      if (ctx == nullptr) {
        errors[t] = "connect: " + error;
        ++failures;
        ++ready;
        return;
      }
      ++ready;
      while (ready.load() < kClients) std::this_thread::yield();
      for (int r = 0; r < kRounds; ++r) {
        // Pipeline a few updates per round so requests from many clients interleave tightly.
        std::string key = "counter:" + std::to_string((t + r) % kKeys);
        HiredisAppend(ctx.get(), {"INCR", key});
        HiredisAppend(ctx.get(), {"INCRBY", "total", "3"});
        HiredisAppend(ctx.get(), {"DECR", "down"});
        HiredisAppend(ctx.get(), {"APPEND", "log", "ab"});
        for (int i = 0; i < 4; ++i) {
          auto reply = HiredisGetReply(ctx.get());
          if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
            errors[t] = "round " + std::to_string(r) + ": " + DescribeReply(reply.get());
            ++failures;
            return;
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& e : errors) {
    if (!e.empty()) ADD_FAILURE() << e;
  }
  ASSERT_EQ(failures.load(), 0);

  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  long long sum = 0;
  for (int k = 0; k < kKeys; ++k) {
    auto r = Run(ctx.get(), {"GET", "counter:" + std::to_string(k)});
    ASSERT_NE(r, nullptr);
    long long v = std::stoll(Str(r.get()));
    // Each client touches key k on every kKeys-th round.
    EXPECT_EQ(v, kClients * kRounds / kKeys) << "counter:" << k;
    sum += v;
  }
  EXPECT_EQ(sum, static_cast<long long>(kClients) * kRounds);
  EXPECT_EQ(Str(Run(ctx.get(), {"GET", "total"}).get()), std::to_string(3LL * kClients * kRounds));
  EXPECT_EQ(Str(Run(ctx.get(), {"GET", "down"}).get()), std::to_string(-1LL * kClients * kRounds));
  auto len = Run(ctx.get(), {"STRLEN", "log"});
  ASSERT_NE(len, nullptr);
  ASSERT_EQ(len->type, REDIS_REPLY_INTEGER);
  EXPECT_EQ(len->integer, 2LL * kClients * kRounds);
}

TEST_F(StringsTest, ValuesAreBinarySafe) {
  auto ctx = HiredisConnect(server_->port());
  ASSERT_NE(ctx, nullptr);
  const std::string nul("a\0b\0\0c", 6);
  const std::string crlf = "line1\r\nline2\r\n\r\n$5\r\n*1\r\n";
  const std::string all = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
  }();
  const std::string binary_key("k\0\r\n", 4);

  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"nul", nul}, {"crlf", crlf}, {"all", all}, {binary_key, crlf + nul}}) {
    auto set = Run(ctx.get(), {"SET", key, value});
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->type, REDIS_REPLY_STATUS) << DescribeReply(set.get());
    EXPECT_EQ(Str(Run(ctx.get(), {"GET", key}).get()), value);
    auto len = Run(ctx.get(), {"STRLEN", key});
    ASSERT_NE(len, nullptr);
    EXPECT_EQ(len->integer, static_cast<long long>(value.size()));
  }
  EXPECT_EQ(Str(Run(ctx.get(), {"GETRANGE", "nul", "1", "3"}).get()), nul.substr(1, 3));
  auto appended = Run(ctx.get(), {"APPEND", "nul", crlf});
  ASSERT_NE(appended, nullptr);
  EXPECT_EQ(appended->integer, static_cast<long long>(nul.size() + crlf.size()));
  EXPECT_EQ(Str(Run(ctx.get(), {"GET", "nul"}).get()), nul + crlf);

  auto mget = Run(ctx.get(), {"MGET", "crlf", binary_key, "missing"});
  ASSERT_NE(mget, nullptr);
  ASSERT_EQ(mget->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(mget->elements, 3u);
  EXPECT_EQ(Str(mget->element[0]), crlf);
  EXPECT_EQ(Str(mget->element[1]), crlf + nul);
  EXPECT_EQ(mget->element[2]->type, REDIS_REPLY_NIL);

  // A 1 MiB value with every byte value in it: round trip, then APPEND, SETRANGE and GETRANGE
  // across it.
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) % 256);
  ASSERT_NE(Run(ctx.get(), {"SET", "big", big}), nullptr);
  EXPECT_EQ(Str(Run(ctx.get(), {"GET", "big"}).get()), big);
  auto old = Run(ctx.get(), {"SET", "big", big + "x", "GET"});
  EXPECT_EQ(Str(old.get()), big);
  big += "x";
  auto grown = Run(ctx.get(), {"APPEND", "big", crlf});
  ASSERT_NE(grown, nullptr);
  big += crlf;
  EXPECT_EQ(grown->integer, static_cast<long long>(big.size()));
  auto patched = Run(ctx.get(), {"SETRANGE", "big", "500000", nul});
  ASSERT_NE(patched, nullptr);
  big.replace(500000, nul.size(), nul);
  EXPECT_EQ(patched->integer, static_cast<long long>(big.size()));
  EXPECT_EQ(Str(Run(ctx.get(), {"GET", "big"}).get()), big);
  EXPECT_EQ(Str(Run(ctx.get(), {"GETRANGE", "big", "499990", "500010"}).get()),
            big.substr(499990, 21));
  EXPECT_EQ(Str(Run(ctx.get(), {"GETRANGE", "big", "-100", "-1"}).get()),
            big.substr(big.size() - 100));
  EXPECT_EQ(Str(Run(ctx.get(), {"GETDEL", "big"}).get()), big);
  EXPECT_EQ(Run(ctx.get(), {"GET", "big"})->type, REDIS_REPLY_NIL);
}

}  // namespace
}  // namespace keel::test
