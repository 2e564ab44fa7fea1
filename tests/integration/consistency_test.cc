// A randomized consistency test: clients on several io threads mix counters, transactions,
// optimistic locking, list moves, renames, blocking pops and FLUSHDB ASYNC, then the final state
// is checked against what the clients were told. Seeded, so a failure can be replayed; written
// to Redis 7.0's behaviour (it runs against Redis too).

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using ConsistencyTest = ThreadedServerTest;

constexpr int kCounters = 8;
constexpr int kLists = 6;
constexpr int kElements = 100;

std::string Counter(int i) { return "c:" + std::to_string(i); }
std::string List(int i) { return "pool:" + std::to_string(i); }

// What one client was told, and anything it saw that breaks a rule.
struct Tally {
  std::map<std::string, int64_t> increments;  // acknowledged, per counter
  std::vector<std::string> problems;
};

bool IsInt(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_INTEGER; }

void Worker(int port, int id, int ops, Tally* tally) {
  auto ctx = HiredisConnect(port, std::chrono::seconds(60));
  if (!ctx) {
    tally->problems.push_back("cannot connect");
    return;
  }
  std::mt19937 rng(1000 + id);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto run = [&](const std::vector<std::string>& args) { return HiredisCommand(ctx.get(), args); };
  auto problem = [&](const std::string& what, const redisReply* r) {
    tally->problems.push_back(what + ": " + (r ? DescribeReply(r) : ctx->errstr));
  };
  const std::string tmp = "tmp:" + std::to_string(id);
  for (int op = 0; op < ops && tally->problems.size() < 10; ++op) {
    int dice = pick(100);
    std::string a = List(pick(kLists)), b = List(pick(kLists));
    if (dice < 30) {  // a plain counter
      std::string c = Counter(pick(kCounters));
      auto r = run({"INCR", c});
      if (!IsInt(r.get()))
        problem("INCR", r.get());
      else
        ++tally->increments[c];
    } else if (dice < 42) {  // two counters in one transaction
      std::string c1 = Counter(pick(kCounters)), c2 = Counter(pick(kCounters));
      run({"MULTI"});
      run({"INCRBY", c1, "1"});
      run({"INCRBY", c2, "2"});
      auto r = run({"EXEC"});
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !IsInt(r->element[0]) ||
          !IsInt(r->element[1])) {
        problem("EXEC of two INCRBY", r.get());
      } else {
        tally->increments[c1] += 1;
        tally->increments[c2] += 2;
      }
    } else if (dice < 54) {  // read-modify-write under WATCH: a lost update would show
      std::string c = Counter(pick(kCounters));
      run({"WATCH", c});
      auto v = run({"GET", c});
      int64_t now =
          v && v->type == REDIS_REPLY_STRING ? std::stoll(std::string(v->str, v->len)) : 0;
      run({"MULTI"});
      run({"SET", c, std::to_string(now + 1)});
      auto r = run({"EXEC"});
      if (r && r->type == REDIS_REPLY_ARRAY) {
        ++tally->increments[c];
      } else if (!r || r->type != REDIS_REPLY_NIL) {
        problem("EXEC under WATCH", r.get());
      }
    } else if (dice < 66) {  // move one element
      auto r = run({"LMOVE", a, b, "LEFT", "RIGHT"});
      if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        problem("LMOVE", r.get());
    } else if (dice < 72) {  // move a whole list, only onto a free name
      auto r = run({"RENAMENX", a, b});
      if (!r || (!IsInt(r.get()) && r->type != REDIS_REPLY_ERROR)) problem("RENAMENX", r.get());
    } else if (dice < 78) {  // a blocking move that may time out
      auto r = run({"BLMOVE", a, b, "RIGHT", "LEFT", "0.01"});
      if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        problem("BLMOVE", r.get());
    } else if (dice < 84) {  // a blocking pop: the element is held, then given back
      auto r = run({"BLPOP", a, b, "0.01"});
      if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        std::string elem(r->element[1]->str, r->element[1]->len);
        auto back = run({"RPUSH", List(pick(kLists)), elem});
        if (!IsInt(back.get())) problem("RPUSH back", back.get());
      } else if (!r || r->type != REDIS_REPLY_NIL) {
        problem("BLPOP", r.get());
      }
    } else if (dice < 90) {  // two moves as one transaction
      std::string c = List(pick(kLists));
      run({"MULTI"});
      run({"LMOVE", a, b, "LEFT", "LEFT"});
      run({"LMOVE", b, c, "RIGHT", "LEFT"});
      auto r = run({"EXEC"});
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) problem("EXEC of moves", r.get());
    } else if (dice < 95) {  // a list parked under a private name and back
      auto r = run({"RENAME", a, tmp});
      if (r && r->type == REDIS_REPLY_STATUS) {
        // Someone may have recreated `a` meanwhile: then move the elements back one by one.
        auto nx = run({"RENAMENX", tmp, a});
        if (IsInt(nx.get()) && nx->integer == 0) {
          for (;;) {
            auto m = run({"LMOVE", tmp, a, "LEFT", "RIGHT"});
            if (!m || m->type != REDIS_REPLY_STRING) break;
          }
        }
      }
    } else {  // FLUSHDB ASYNC in another database: my key there is gone once it returns
      run({"SELECT", "1"});
      std::string own = "own:" + std::to_string(id);
      run({"SET", own, "x"});
      run({"SET", "shared:" + std::to_string(pick(50)), "y"});
      auto f = run({"FLUSHDB", "ASYNC"});
      if (!f || f->type != REDIS_REPLY_STATUS) problem("FLUSHDB ASYNC", f.get());
      auto g = run({"GET", own});
      if (!g || g->type != REDIS_REPLY_NIL) problem("GET after FLUSHDB ASYNC", g.get());
      run({"SELECT", "0"});
    }
  }
}

TEST_F(ConsistencyTest, RandomClientsKeepCountersAndConserveListElements) {
  auto setup = Client();
  for (int l = 0; l < 2; ++l) {
    std::vector<std::string> push = {"RPUSH", List(l)};
    for (int e = l * kElements / 2; e < (l + 1) * kElements / 2; ++e) {
      push.push_back("e" + std::to_string(e));
    }
    auto r = Run(setup.get(), push);
    ASSERT_TRUE(r && IsInt(r.get())) << "RPUSH";
    ASSERT_EQ(r->integer, kElements / 2);
  }

  constexpr int kClients = 8;
  constexpr int kOps = 1500;
  std::vector<Tally> tallies(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back(Worker, server_->port(), i, kOps, &tallies[i]);
  }
  for (auto& t : threads) t.join();

  std::map<std::string, int64_t> expected;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(tallies[i].problems.empty())
        << "client " << i << ": " << tallies[i].problems.front();
    for (const auto& [c, n] : tallies[i].increments) expected[c] += n;
  }
  // Every acknowledged increment is in its counter, and nothing else is.
  for (int k = 0; k < kCounters; ++k) {
    auto v = Run(setup.get(), {"GET", Counter(k)});
    ASSERT_TRUE(v) << "GET " << Counter(k);
    int64_t got = v->type == REDIS_REPLY_STRING ? std::stoll(std::string(v->str, v->len)) : 0;
    EXPECT_EQ(got, expected[Counter(k)]) << Counter(k);
  }
  // Every element is in exactly one list (pool:* or a parked tmp:*).
  std::multiset<std::string> seen;
  std::vector<std::string> names;
  for (int l = 0; l < kLists; ++l) names.push_back(List(l));
  for (int i = 0; i < kClients; ++i) names.push_back("tmp:" + std::to_string(i));
  for (const std::string& name : names) {
    auto r = Run(setup.get(), {"LRANGE", name, "0", "-1"});
    ASSERT_TRUE(r) << "LRANGE " << name;
    ASSERT_EQ(r->type, REDIS_REPLY_ARRAY) << name << ": " << DescribeReply(r.get());
    for (size_t j = 0; j < r->elements; ++j) {
      seen.insert(std::string(r->element[j]->str, r->element[j]->len));
    }
  }
  std::multiset<std::string> want;
  for (int e = 0; e < kElements; ++e) want.insert("e" + std::to_string(e));
  EXPECT_EQ(seen, want);
}

}  // namespace
}  // namespace keel::test
