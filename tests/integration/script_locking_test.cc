// Which shard locks a Lua script holds (docs/architecture.md, "Scripting"): scripts proven to
// stay inside their declared keys lock only those keys' shards and run side by side on
// different io threads; any other script (an undeclared key, SELECT, a whole-keyspace command)
// holds everything. Either way no client sees a script's middle, and a failing script releases
// every lock it took.

#include <atomic>
#include <chrono>
#include <thread>

#include "integration/atomicity.h"
#include "integration/fixture.h"
#include "integration/persistence_util.h"

namespace keel::test {
namespace {

using ScriptLockingTest = ThreadedServerTest;

int64_t AsInt(const redisReply* r) {
  return r != nullptr && r->type != REDIS_REPLY_NIL ? std::stoll(Str(r)) : 0;
}

// Declared keys only: increments its two keys with other work between.
const char* const kPairWriter =
    "redis.call('incr', KEYS[1]) "
    "for i = 1, 20 do redis.call('incr', KEYS[3]) end "
    "return redis.call('incr', KEYS[2])";
const char* const kPairReader = "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2])}";

// Many clients (on four io threads) run declared-key scripts, each group on its own pair of
// keys (distinct shards, so the scripts run at the same time); readers read each pair with a
// script and with MGET. No read may see a pair torn, and no increment may be lost.
TEST_F(ScriptLockingTest, DeclaredKeyScriptsOnManyThreadsNeitherTearNorLoseUpdates) {
  constexpr int kPairs = 4, kWritersPerPair = 4, kRounds = 150;
  auto key = [](int pair, const char* name) { return "p" + std::to_string(pair) + name; };
  AtomicityRun run([this] { return Client(); });
  for (int p = 0; p < kPairs; ++p) {
    for (int w = 0; w < kWritersPerPair; ++w) {
      run.AddWriter(kRounds, [&, p](redisContext* c) {
        auto reply =
            HiredisCommand(c, {"EVAL", kPairWriter, "3", key(p, "a"), key(p, "b"), key(p, "f")});
        return reply && reply->type == REDIS_REPLY_INTEGER;
      });
    }
  }
  for (int p = 0; p < kPairs; ++p) {
    for (int i = 0; i < 2; ++i) {
      run.AddReader([&, p, i](redisContext* c) {
        return PairEqual(
            i == 0 ? HiredisCommand(c, {"EVAL_RO", kPairReader, "2", key(p, "a"), key(p, "b")})
                   : HiredisCommand(c, {"MGET", key(p, "a"), key(p, "b")}));
      });
    }
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0);
  EXPECT_EQ(run.torn(), 0) << "a client saw the middle of a script";
  auto c = Client();
  for (int p = 0; p < kPairs; ++p) {
    EXPECT_EQ(AsInt(Run(c.get(), {"GET", key(p, "a")}).get()), kWritersPerPair * kRounds);
    EXPECT_EQ(AsInt(Run(c.get(), {"GET", key(p, "b")}).get()), kWritersPerPair * kRounds);
    EXPECT_EQ(AsInt(Run(c.get(), {"GET", key(p, "f")}).get()), kWritersPerPair * kRounds * 20);
  }
}

// A declared-key script that runs for a second does not hold up a script on another key on
// another io thread (with every shard locked, as before, it would).
TEST_F(ScriptLockingTest, DeclaredKeyScriptsOnDistinctKeysRunAtTheSameTime) {
  if (TestingRedis()) GTEST_SKIP() << "Redis runs one script at a time";
  using Clock = std::chrono::steady_clock;
  const std::string slow =
      "redis.call('set', KEYS[1], 'started') "
      "local t0 = redis.call('time') "
      "while true do local t = redis.call('time') "
      "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1500000 then break end end "
      "return redis.call('incr', KEYS[2])";
  const std::string quick = "return redis.call('incr', KEYS[1])";
  Clock::time_point slow_done;
  std::thread runner([&] {
    auto c = Client();
    auto r = Run(c.get(), {"EVAL", slow, "2", "slowkey", "slowcount"});
    EXPECT_EQ(AsInt(r.get()), 1);
    slow_done = Clock::now();
  });
  // Give the slow script time to start (nothing it does is visible before its end).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<Clock::time_point> quick_done(8);
  std::vector<std::thread> quick_threads;
  for (int i = 0; i < 8; ++i) {
    quick_threads.emplace_back([&, i] {
      auto c = Client();
      auto r = Run(c.get(), {"EVAL", quick, "1", "quick" + std::to_string(i)});
      EXPECT_EQ(AsInt(r.get()), 1);
      quick_done[static_cast<size_t>(i)] = Clock::now();
    });
  }
  for (auto& t : quick_threads) t.join();
  runner.join();
  int before = 0;
  for (auto t : quick_done) before += t < slow_done ? 1 : 0;
  EXPECT_GE(before, 1) << "no script on another key ran while the slow script held its keys";
}

// Scripts that touch an undeclared key (all locks), declared-key scripts and MULTI/EXEC all
// increment a and b together; readers on other threads never see a != b.
TEST_F(ScriptLockingTest, UndeclaredKeyScriptIsAtomicAgainstExecAndOtherScripts) {
  constexpr int kRounds = 120;
  const std::string undeclared =
      "redis.call('incr', KEYS[1]) "
      "for i = 1, 20 do redis.call('incr', 'filler') end "
      "return redis.call('incr', 'b')";
  AtomicityRun run([this] { return Client(); });
  for (int w = 0; w < 12; ++w) {
    run.AddWriter(kRounds, [&, w](redisContext* c) {
      RedisReplyPtr reply;
      if (w % 3 == 0) {
        reply = HiredisCommand(c, {"EVAL", undeclared, "1", "a"});
      } else if (w % 3 == 1) {
        reply = HiredisCommand(c, {"EVAL", kPairWriter, "3", "a", "b", "filler"});
      } else {
        HiredisCommand(c, {"MULTI"});
        HiredisCommand(c, {"INCR", "a"});
        for (int i = 0; i < 20; ++i) HiredisCommand(c, {"INCR", "filler"});
        HiredisCommand(c, {"INCR", "b"});
        reply = HiredisCommand(c, {"EXEC"});
        if (reply && reply->type == REDIS_REPLY_ARRAY) return true;
      }
      return reply && reply->type == REDIS_REPLY_INTEGER;
    });
  }
  for (int i = 0; i < 6; ++i) {
    run.AddReader([&, i](redisContext* c) {
      return PairEqual(i % 2 == 0 ? HiredisCommand(c, {"EVAL_RO", kPairReader, "2", "a", "b"})
                                  : HiredisCommand(c, {"MGET", "a", "b"}));
    });
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0);
  EXPECT_EQ(run.torn(), 0) << "a client saw the middle of a script or a transaction";
  auto c = Client();
  EXPECT_EQ(AsInt(Run(c.get(), {"GET", "a"}).get()), 12 * kRounds);
  EXPECT_EQ(AsInt(Run(c.get(), {"GET", "b"}).get()), 12 * kRounds);
  EXPECT_EQ(AsInt(Run(c.get(), {"GET", "filler"}).get()), 12 * kRounds * 20);
}

// SELECT inside a script: the script writes k in databases 0 and 1 together (holding every
// lock), readers in both databases (a script that selects, and MULTI with SELECT) never see
// them differ, and the caller's own database is unchanged afterwards.
TEST_F(ScriptLockingTest, SelectInsideScriptIsAtomicAndLeavesTheCallersDatabase) {
  constexpr int kRounds = 150;
  const std::string writer =
      "redis.call('incr', KEYS[1]) redis.call('select', 1) return redis.call('incr', KEYS[1])";
  const std::string reader =
      "local a = redis.call('get', KEYS[1]) redis.call('select', 1) "
      "return {a, redis.call('get', KEYS[1])}";
  AtomicityRun run([this] { return Client(); });
  for (int w = 0; w < 6; ++w) {
    run.AddWriter(kRounds, [&](redisContext* c) {
      auto reply = HiredisCommand(c, {"EVAL", writer, "1", "k"});
      return reply && reply->type == REDIS_REPLY_INTEGER;
    });
  }
  for (int i = 0; i < 4; ++i) {
    if (i % 2 == 0) {
      run.AddReader([&](redisContext* c) {
        return PairEqual(HiredisCommand(c, {"EVAL_RO", reader, "1", "k"}));
      });
      continue;
    }
    // MULTI GET k SELECT 1 GET k SELECT 0 EXEC: elements 0 and 2.
    run.AddReader([](redisContext* c) {
      HiredisCommand(c, {"MULTI"});
      HiredisCommand(c, {"GET", "k"});
      HiredisCommand(c, {"SELECT", "1"});
      HiredisCommand(c, {"GET", "k"});
      HiredisCommand(c, {"SELECT", "0"});
      return PairEqual(HiredisCommand(c, {"EXEC"}), 0, 2);
    });
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0);
  EXPECT_EQ(run.torn(), 0);
  auto c = Client();
  EXPECT_EQ(AsInt(Run(c.get(), {"EVAL", writer, "1", "k"}).get()), 6 * kRounds + 1);
  EXPECT_EQ(AsInt(Run(c.get(), {"GET", "k"}).get()), 6 * kRounds + 1);  // still database 0
  Run(c.get(), {"SELECT", "1"});
  EXPECT_EQ(AsInt(Run(c.get(), {"GET", "k"}).get()), 6 * kRounds + 1);
}

// A script that fails after touching an undeclared key (so it held every lock), and one that
// fails under its declared keys' locks, release all their locks: right after, clients on every
// io thread write keys in every shard of two databases, and FLUSHALL (every lock) runs.
TEST_F(ScriptLockingTest, ScriptFailingAfterUndeclaredAccessReleasesEveryLock) {
  auto c = Client();
  auto r = Run(c.get(), {"EVAL",
                         "redis.call('set', KEYS[1], 'x') redis.call('set', 'undeclared', 'y') "
                         "redis.call('select', 3) redis.call('set', 'other', 'z') error('boom')",
                         "1", "declared"});
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  EXPECT_NE(Str(r.get()).find("boom"), std::string::npos) << Str(r.get());
  r = Run(c.get(), {"EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('incr', KEYS[2])",
                    "2", "declared2", "notanumber"});
  ASSERT_EQ(r->type, REDIS_REPLY_INTEGER);  // not an error: notanumber is missing, INCR makes 1
  Run(c.get(), {"SET", "notanumber", "abc"});
  r = Run(c.get(), {"EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('incr', KEYS[2])",
                    "2", "declared2", "notanumber"});
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto d = Client(std::chrono::seconds(5));
      if (!d) return;
      if (t % 2 == 1) HiredisCommand(d.get(), {"SELECT", "3"});
      bool all = true;
      for (int i = 0; i < 300; ++i) {
        auto s = HiredisCommand(d.get(), {"SET", "k" + std::to_string(t * 1000 + i), "v"});
        all = all && s && s->type == REDIS_REPLY_STATUS;
      }
      if (all) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  auto d = Client(std::chrono::seconds(5));
  EXPECT_EQ(Str(Run(d.get(), {"GET", "undeclared"}).get()), "y");
  EXPECT_EQ(Str(Run(d.get(), {"FLUSHALL"}).get()), "OK");
  EXPECT_EQ(AsInt(Run(d.get(), {"DBSIZE"}).get()), 0);
}

// The Lua state of an io thread is shared by its scripts, and Keel's library tables are still
// writable: an earlier (unproven) script on the same connection replaces redis.call with a
// function that reaches another key. A proven script calling it must fail, not run that
// command outside the shards it locked.
// A script that would replace redis.call (to lead later proven scripts outside their locks) is
// refused, as Redis 7.0 refuses it (the library tables are read-only), and later scripts run
// under their declared locks as before. (Were the table writable, RunState's held-shards check
// would still refuse the redirected call: the last line of defence, kept.)
TEST_F(ScriptLockingTest, ProvenScriptCannotBeLedOutsideItsLocksByAnEarlierScript) {
  auto c = Client();
  auto r = Run(c.get(), {"EVAL",
                         "local real = redis.call "
                         "redis.call = function(cmd, key) return real(cmd, 'elsewhere') end "
                         "return 1",
                         "0"});
  ASSERT_EQ(r->type, REDIS_REPLY_ERROR);
  EXPECT_NE(Str(r.get()).find("Attempt to modify a readonly table"), std::string::npos)
      << Str(r.get());
  for (int i = 0; i < 10; ++i) {
    std::string key = "k" + std::to_string(i);
    Run(c.get(), {"SET", key, "v"});
    r = Run(c.get(), {"EVAL", "return redis.call('get', KEYS[1])", "1", key});
    ASSERT_EQ(r->type, REDIS_REPLY_STRING) << i;
    EXPECT_EQ(Str(r.get()), "v");
  }
}

}  // namespace
}  // namespace keel::test
