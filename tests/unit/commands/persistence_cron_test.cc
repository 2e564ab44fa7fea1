#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {
namespace {

// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE a save point waits more than 5 s from
// that BGSAVE's start; after a good one it does not wait.
TEST(BgsaveRetry, WaitsMoreThanFiveSecondsOnlyAfterAFailure) {
  EXPECT_TRUE(BgsaveRetryAllowed(true, 1000, 999));
  EXPECT_FALSE(BgsaveRetryAllowed(false, 6000, 1000));
  EXPECT_FALSE(BgsaveRetryAllowed(false, 5999, 1000));
  EXPECT_TRUE(BgsaveRetryAllowed(false, 6001, 1000));
}

// The cron applies it: with a save point due and the last BGSAVE failed, nothing starts while
// the failed one began 4 s ago, and a BGSAVE starts once it began 5.1 s ago (the clock is set
// through the recorded start time, so the test takes no time).
TEST(BgsaveRetry, TheCronRetriesAFailedBgsaveOnlyAfterTheDelay) {
  static const bool registered = [] {
    RegisterAllCommands();
    return true;
  }();
  (void)registered;
  char tmpl[] = "/tmp/keel-cron-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string old_cwd = std::filesystem::current_path();
  {
    Config config;
    Keyspace keyspace(16);
    ServerState state;
    state.config = &config;
    state.keyspace = &keyspace;
    Status st = config.LoadFromString("save 1 1\ndir " + std::string(tmpl) + "\n", "test");
    ASSERT_TRUE(st.ok()) << st.message();
    Dispatcher dispatcher(&state);
    Client client;
    client.authenticated = true;
    std::string out;
    std::vector<std::string_view> cmd = {"SET", "k", "v"};
    dispatcher.Execute(client, cmd, &out);
    ASSERT_GT(keyspace.dirty(), 0u);
    PersistenceInfo& p = state.persistence;
    p.lastsave.store(NowUnixMs() / 1000 - 10);
    p.last_bgsave_ok.store(false);
    int64_t started = NowUnixMs() - 4000;
    p.last_bgsave_try_ms.store(started);
    PersistenceCron(state);
    EXPECT_FALSE(p.bgsave_in_progress.load());
    EXPECT_EQ(p.last_bgsave_try_ms.load(), started) << "a BGSAVE started within the delay";
    started = NowUnixMs() - 5100;
    p.last_bgsave_try_ms.store(started);
    PersistenceCron(state);
    EXPECT_GT(p.last_bgsave_try_ms.load(), started) << "no BGSAVE after the delay";
    for (int i = 0; i < 1000 && p.bgsave_in_progress.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(p.last_bgsave_ok.load());
    EXPECT_TRUE(std::filesystem::exists(std::string(tmpl) + "/dump.rdb"));
  }
  std::filesystem::current_path(old_cwd);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace keel
