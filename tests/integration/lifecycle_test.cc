// Process lifecycle: SHUTDOWN, SIGTERM and the pidfile. Needs keel-server's main loop,
// signal handling and the SHUTDOWN command.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/fixture.h"

namespace keel::test {
namespace {

using std::chrono::milliseconds;

class LifecycleTest : public ServerTest {};

TEST_F(LifecycleTest, ShutdownNosaveStopsTheProcessWithExitCodeZero) {
  StartServer();
  RespConnection c = Connect();
  ASSERT_TRUE(c.SendCommand({"SHUTDOWN", "NOSAVE"}));
  // A successful SHUTDOWN sends no reply: the connection just closes.
  std::string extra;
  EXPECT_TRUE(c.WaitForClose(milliseconds(10000), &extra));
  EXPECT_EQ(extra, "");
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();
}

TEST_F(LifecycleTest, SigtermExitsZeroAndRemovesThePidfile) {
  // The pidfile lives in a directory of its own so the check cannot see another server's.
  std::string dir = (std::filesystem::temp_directory_path() / "keel-pid-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string pidfile = dir + "/keel.pid";
  StartServer({"--pidfile", pidfile});
  {
    std::ifstream in(pidfile);
    ASSERT_TRUE(in) << pidfile << " was not written";
    int pid = 0;
    in >> pid;
    EXPECT_EQ(pid, server_->pid());
  }
  server_->Signal(SIGTERM);
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();
  EXPECT_FALSE(std::filesystem::exists(pidfile)) << pidfile << " is still there";
  std::filesystem::remove_all(dir);
}

TEST_F(LifecycleTest, SigintAlsoExitsZero) {
  StartServer();
  server_->Signal(SIGINT);
  ASSERT_TRUE(server_->WaitForExit(milliseconds(10000)));
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeStatus();
}

}  // namespace
}  // namespace keel::test
