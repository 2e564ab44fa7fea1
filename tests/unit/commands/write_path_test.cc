// The dispatcher's side of the write path, in process: the typed outcome of each command as
// the CommandObserver sees it (only commands that changed something, with their arguments,
// the commands of an EXEC marked and followed by the EXEC), and the dirty counter.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/server_state.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {
namespace {

struct RecordingCommandObserver : CommandObserver {
  void OnCommand(const Client&, int db, const CommandMeta&, std::span<const std::string_view> args,
                 bool in_exec) override {
    std::string line = std::to_string(db) + (in_exec ? " exec:" : " ");
    for (size_t i = 0; i < args.size(); ++i) line += (i ? " " : "") + std::string(args[i]);
    seen.push_back(line);
  }
  std::vector<std::string> seen;
};

class WritePathTest : public ::testing::Test {
 protected:
  WritePathTest() : keyspace_(16) {
    static const bool registered = [] {
      RegisterAllCommands();
      return true;
    }();
    (void)registered;
    state_.config = &config_;
    state_.keyspace = &keyspace_;
    dispatcher_ = std::make_unique<Dispatcher>(&state_);
    state_.command_observer = &observer_;
    client_.authenticated = true;
  }

  std::string Run(std::vector<std::string> args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    std::string out;
    dispatcher_->Execute(client_, views, &out);
    return out;
  }

  Config config_;
  Keyspace keyspace_;
  ServerState state_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Client client_;
  RecordingCommandObserver observer_;
};

TEST_F(WritePathTest, ObserverSeesOnlyCommandsThatChangedSomething) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "k", "w", "NX"}), "$-1\r\n");                                 // no change
  EXPECT_EQ(Run({"GET", "k"}), "$1\r\nv\r\n");                                        // a read
  EXPECT_EQ(Run({"DEL", "missing"}), ":0\r\n");                                       // no change
  EXPECT_EQ(Run({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");  // error
  EXPECT_EQ(Run({"SADD", "s", "a", "b"}), ":2\r\n");
  EXPECT_EQ(Run({"SADD", "s", "a"}), ":0\r\n");  // no change
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");  // the same value: still a write that ran
  EXPECT_EQ(observer_.seen, (std::vector<std::string>{"0 SET k v", "0 SADD s a b", "0 SET k v"}));
  EXPECT_EQ(keyspace_.dirty(), 4u);  // 1 + 2 + 1
}

TEST_F(WritePathTest, TransactionIsOneUnitAfterItsCommands) {
  Run({"MULTI"});
  Run({"SET", "a", "1"});
  Run({"SELECT", "2"});
  Run({"DEL", "nothing"});
  Run({"INCR", "a"});
  std::string exec = Run({"EXEC"});
  EXPECT_EQ(exec, "*4\r\n+OK\r\n+OK\r\n:0\r\n:1\r\n");
  EXPECT_EQ(observer_.seen,
            (std::vector<std::string>{"0 exec:SET a 1", "2 exec:INCR a", "2 exec"}));
  // An EXEC that changed nothing is not reported.
  observer_.seen.clear();
  Run({"MULTI"});
  Run({"GET", "a"});
  Run({"EXEC"});
  EXPECT_TRUE(observer_.seen.empty());
}

}  // namespace
}  // namespace keel
