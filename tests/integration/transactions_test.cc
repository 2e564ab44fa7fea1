// MULTI/EXEC atomicity and WATCH across io threads, over real sockets.

#include <atomic>
#include <thread>

#include "integration/atomicity.h"
#include "integration/fixture.h"

namespace keel::test {
namespace {

using TransactionsTest = ThreadedServerTest;

// Sends `cmds` (MULTI ... EXEC) in one write and returns EXEC's reply when it is the array of
// the queued commands' replies, else nullptr.
RedisReplyPtr RunTransaction(redisContext* c, const std::vector<std::vector<std::string>>& cmds) {
  for (const auto& cmd : cmds) HiredisAppend(c, cmd);
  for (size_t k = 0; k + 1 < cmds.size(); ++k) HiredisGetReply(c);
  auto exec = HiredisGetReply(c);
  if (!exec || exec->type != REDIS_REPLY_ARRAY || exec->elements != cmds.size() - 2) {
    return nullptr;
  }
  return exec;
}

// Multi-key commands lock their shards in one global order whatever their size: a two-key
// MSET (locked through the small inline path) and a six-key MSET of the same keys (the vector
// path, as EXEC and SWAPDB use) run concurrently on different io threads. Locking in two orders
// would deadlock within a few rounds; a reply that never comes fails the client's timeout.
TEST_F(TransactionsTest, CommandsOfEverySizeLockInOneOrder) {
  // Many rounds on Keel, where a wrong order deadlocks only when two threads interleave just so;
  // fewer on Redis, which runs it too and is slower at it (one thread).
  const int kRounds = TestingRedis() ? 500 : 5000;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto c = Client(std::chrono::seconds(20));
      if (!c) return ++errors, void();
      std::vector<std::string> cmd = {"MSET"};
      int keys = i % 2 == 0 ? 2 : 6;
      for (int k = 0; k < keys; ++k) {
        cmd.push_back("k" + std::to_string(k));
        cmd.push_back(std::to_string(i));
      }
      for (int r = 0; r < kRounds; ++r) {
        auto reply = HiredisCommand(c.get(), cmd);
        if (!reply || reply->type != REDIS_REPLY_STATUS) return ++errors, void();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0) << "a client got no reply: the shard locks deadlocked";
}

// 32 writers increment a and b (keys on different shards) in one transaction each; 32 readers
// read both in a transaction. No reader may ever see a != b.
TEST_F(TransactionsTest, ExecIsAtomicAcrossShardsAndThreads) {
  constexpr int kWriters = 32, kReaders = 32, kRounds = 100, kFiller = 20;
  AtomicityRun run([this] { return Client(); });
  for (int i = 0; i < kWriters; ++i) {
    run.AddWriter(kRounds, [](redisContext* c) {
      // Other work between the two increments widens the window a broken EXEC would expose.
      HiredisAppend(c, {"MULTI"});
      HiredisAppend(c, {"INCR", "a"});
      for (int k = 0; k < kFiller; ++k) HiredisAppend(c, {"INCR", "filler"});
      HiredisAppend(c, {"INCR", "b"});
      HiredisAppend(c, {"EXEC"});
      for (int k = 0; k < kFiller + 3; ++k) HiredisGetReply(c);
      auto exec = HiredisGetReply(c);
      return exec && exec->type == REDIS_REPLY_ARRAY && exec->elements == kFiller + 2;
    });
  }
  for (int i = 0; i < kReaders; ++i) {
    run.AddReader([](redisContext* c) {
      HiredisAppend(c, {"MULTI"});
      HiredisAppend(c, {"GET", "a"});
      HiredisAppend(c, {"GET", "b"});
      HiredisAppend(c, {"EXEC"});
      for (int k = 0; k < 3; ++k) HiredisGetReply(c);
      auto exec = HiredisGetReply(c);
      if (exec && exec->elements != 2) return ReadOutcome::kError;
      return PairEqual(exec);
    });
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0);
  EXPECT_EQ(run.torn(), 0);
  auto c = Client();
  auto a = HiredisCommand(c.get(), {"GET", "a"});
  auto b = HiredisCommand(c.get(), {"GET", "b"});
  EXPECT_EQ(ReplyInt(a.get()), kWriters * kRounds);
  EXPECT_EQ(ReplyInt(b.get()), kWriters * kRounds);
}

// Optimistic locking: GET under WATCH, then SET value+1 in MULTI; retry when EXEC fails. With
// Clients on 4 io threads, the final value counts every successful EXEC: no lost update.
TEST_F(TransactionsTest, WatchCheckAndSetLosesNoUpdate) {
  // Eight clients are contention enough (retries are checked below); more makes the loop
  // quadratic on a single-threaded server (minutes against Redis, which runs it too).
  constexpr int kClients = 8, kIncrements = 50;
  std::atomic<int> errors{0}, retries{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      auto c = Client();
      if (!c) return ++errors, void();
      for (int done = 0; done < kIncrements;) {
        HiredisCommand(c.get(), {"WATCH", "counter"});
        auto v = HiredisCommand(c.get(), {"GET", "counter"});
        int64_t next = ReplyInt(v.get()) + 1;
        HiredisAppend(c.get(), {"MULTI"});
        HiredisAppend(c.get(), {"SET", "counter", std::to_string(next)});
        HiredisAppend(c.get(), {"EXEC"});
        HiredisGetReply(c.get());
        HiredisGetReply(c.get());
        auto exec = HiredisGetReply(c.get());
        if (!exec) return ++errors, void();
        if (exec->type == REDIS_REPLY_NIL) {
          ++retries;
        } else if (exec->type == REDIS_REPLY_ARRAY) {
          ++done;
        } else {
          return ++errors, void();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto c = Client();
  auto v = HiredisCommand(c.get(), {"GET", "counter"});
  EXPECT_EQ(ReplyInt(v.get()), kClients * kIncrements);
  // Contention must actually have happened for the test to mean something.
  EXPECT_GT(retries.load(), 0);
}

// A pusher's EXEC is seen whole by a blocked client: it is served after the transaction.
TEST_F(TransactionsTest, BlockedClientIsServedAfterTheTransaction) {
  auto waiter = Client();
  auto c = Client();
  ASSERT_TRUE(HiredisAppend(waiter.get(), {"BLPOP", "jobs", "10"}));
  int done = 0;
  ASSERT_EQ(redisBufferWrite(waiter.get(), &done), REDIS_OK);
  for (int i = 0; i < 500; ++i) {
    auto info = HiredisCommand(c.get(), {"INFO", "clients"});
    if (std::string(info->str, info->len).find("blocked_clients:1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  HiredisAppend(c.get(), {"MULTI"});
  HiredisAppend(c.get(), {"RPUSH", "jobs", "j1"});
  HiredisAppend(c.get(), {"LLEN", "jobs"});
  HiredisAppend(c.get(), {"EXEC"});
  for (int k = 0; k < 3; ++k) HiredisGetReply(c.get());
  auto exec = HiredisGetReply(c.get());
  ASSERT_NE(exec, nullptr);
  ASSERT_EQ(exec->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(ReplyInt(exec->element[1]), 1) << "the transaction saw its own push";
  auto got = HiredisGetReply(waiter.get());
  ASSERT_NE(got, nullptr);
  ASSERT_EQ(got->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(std::string(got->element[1]->str), "j1");
}

// An EXEC takes no lock for PUBLISH, locks the database SELECT switches to for the commands
// after it, and holds a whole database for DBSIZE. Writers change a and b (different shards)
// and a temporary key of db 1 in one transaction that also publishes; readers in db 1 must
// never see a != b (MGET locks both shards) nor the temporary key in DBSIZE inside their own
// EXEC, and every PUBLISH reaches the subscriber.
TEST_F(TransactionsTest, ExecWithSelectPublishAndDbsizeStaysAtomic) {
  constexpr int kWriters = 8, kReaders = 8, kRounds = 100, kFiller = 10;
  auto subscriber = Client();
  auto sub = HiredisCommand(subscriber.get(), {"SUBSCRIBE", "ch"});
  ASSERT_NE(sub, nullptr);
  std::atomic<int> published{0};
  AtomicityRun run([this] { return Client(); });
  for (int i = 0; i < kWriters; ++i) {
    run.AddWriter(kRounds, [&](redisContext* c) {
      std::vector<std::vector<std::string>> cmds = {
          {"MULTI"}, {"SELECT", "1"}, {"INCR", "a"}, {"SET", "tmp", "x"}};
      for (int k = 0; k < kFiller; ++k) cmds.push_back({"INCR", "filler"});
      cmds.push_back({"PUBLISH", "ch", "m"});
      cmds.push_back({"DEL", "tmp"});
      cmds.push_back({"INCR", "b"});
      cmds.push_back({"SELECT", "0"});
      cmds.push_back({"EXEC"});
      auto exec = RunTransaction(c, cmds);
      if (!exec) return false;
      published += static_cast<int>(ReplyInt(exec->element[3 + kFiller]));
      return true;
    });
  }
  for (int i = 0; i < kReaders; ++i) {
    auto read = [](redisContext* c) {
      auto both = HiredisCommand(c, {"MGET", "a", "b"});
      ReadOutcome pair = PairEqual(both);
      if (pair == ReadOutcome::kError) return pair;
      HiredisAppend(c, {"MULTI"});
      HiredisAppend(c, {"DBSIZE"});
      HiredisAppend(c, {"EXEC"});
      HiredisGetReply(c);
      HiredisGetReply(c);
      auto exec = HiredisGetReply(c);
      if (!exec || exec->type != REDIS_REPLY_ARRAY || exec->elements != 1) {
        return ReadOutcome::kError;
      }
      int64_t keys = ReplyInt(exec->element[0]);
      if (keys != 0 && keys != 3) return ReadOutcome::kTorn;  // a, b, filler; never tmp
      return pair;
    };
    // Each reader works in db 1.
    run.AddReader(read, [](redisContext* c) {
      return HiredisCommand(c, {"SELECT", "1"}) != nullptr;
    });
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0);
  EXPECT_EQ(run.torn(), 0);
  EXPECT_EQ(published.load(), kWriters * kRounds);
  auto c = Client();
  HiredisCommand(c.get(), {"SELECT", "1"});
  auto a = HiredisCommand(c.get(), {"GET", "a"});
  EXPECT_EQ(ReplyInt(a.get()), kWriters * kRounds);
  auto in0 = HiredisCommand(c.get(), {"SELECT", "0"});
  auto size0 = HiredisCommand(c.get(), {"DBSIZE"});
  EXPECT_EQ(ReplyInt(size0.get()), 0) << "the writers' keys all went to db 1";
}

// MOVE, COPY and SWAPDB inside EXEC lock only the shards they name (their keys' shards in both
// databases, both databases for SWAPDB), in the transaction's one ascending order. Writers move
// a token back and forth between databases 1 and 2 in opposite directions, copy it, and swap
// the two databases; readers look for it in both databases in one transaction. It is always in
// exactly one of them, and no transaction waits forever (a lock taken out of order would
// deadlock within a few rounds, and the client's timeout fails the test).
TEST_F(TransactionsTest, ExecWithMoveCopyAndSwapdbStaysAtomicAndLocksInOneOrder) {
  const int kWriters = 8, kReaders = 4, kRounds = TestingRedis() ? 100 : 400;
  {
    auto c = Client();
    HiredisCommand(c.get(), {"SELECT", "1"});
    ASSERT_EQ(DescribeReply(HiredisCommand(c.get(), {"SET", "tok", "t"}).get()), "status OK");
  }
  AtomicityRun run([this] { return Client(std::chrono::seconds(20)); });
  for (int i = 0; i < kWriters; ++i) {
    run.AddWriter(kRounds, [i](redisContext* c) {
      std::string from = i % 2 == 0 ? "1" : "2", to = i % 2 == 0 ? "2" : "1";
      std::vector<std::vector<std::string>> cmds = {{"MULTI"},
                                                    {"SELECT", from},
                                                    {"SET", "filler" + std::to_string(i), "x"},
                                                    {"MOVE", "tok", to},
                                                    {"COPY", "tok", "copy", "DB", to, "REPLACE"}};
      if (i % 4 == 1) cmds.push_back({"SWAPDB", "1", "2"});
      cmds.push_back({"SELECT", "0"});
      cmds.push_back({"EXEC"});
      auto exec = RunTransaction(c, cmds);
      if (!exec) return false;
      // Once MOVE took the token out of `from`, nobody can bring it back before this
      // transaction's COPY looks for it there.
      return !(ReplyInt(exec->element[2]) == 1 && ReplyInt(exec->element[3]) == 1);
    });
  }
  for (int i = 0; i < kReaders; ++i) {
    run.AddReader([](redisContext* c) {
      auto exec = RunTransaction(c, {{"MULTI"},
                                     {"SELECT", "1"},
                                     {"EXISTS", "tok"},
                                     {"SELECT", "2"},
                                     {"EXISTS", "tok"},
                                     {"SELECT", "0"},
                                     {"EXEC"}});
      if (!exec) return ReadOutcome::kError;
      int64_t found = ReplyInt(exec->element[1]) + ReplyInt(exec->element[3]);
      return found == 1 ? ReadOutcome::kWhole : ReadOutcome::kTorn;
    });
  }
  run.Join();
  EXPECT_EQ(run.errors(), 0) << "a transaction got no reply: the shard locks deadlocked?";
  EXPECT_EQ(run.torn(), 0) << "the token was in neither database, or in both";
}

}  // namespace
}  // namespace keel::test
