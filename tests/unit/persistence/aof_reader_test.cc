// The AOF's command reader (aof::ScanCommands): what the loader replays, where it stops, and
// where a truncated file is cut (never inside a MULTI ... EXEC).
#include "keel/persistence/aof_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keel::aof {
namespace {

std::string Resp(std::initializer_list<std::string> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

struct Scanned {
  CommandScan scan;
  Status status = Status::Ok();
  std::vector<std::string> names;  // each command's first argument
};

Scanned Scan(std::string data, size_t pos = 0, const std::string& refuse = "") {
  Scanned s;
  s.status = ScanCommands(
      data.data(), data.size(), pos,
      [&](std::span<const std::string_view> args) {
        if (std::string(args[0]) == refuse) return Status::Error("refused " + refuse);
        s.names.emplace_back(args[0]);
        return Status::Ok();
      },
      &s.scan);
  return s;
}

TEST(AofReader, ReadsCommandsAndAnnotationsToTheEnd) {
  std::string data = "#TS:1700000000\r\n" + Resp({"SELECT", "0"}) + Resp({"SET", "a", "1"}) +
                     "#TS:1700000001\r\n" + Resp({"MULTI"}) + Resp({"INCR", "c"}) + Resp({"EXEC"});
  Scanned s = Scan(data);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.scan.end, CommandScan::End::kComplete);
  EXPECT_EQ(s.scan.commands, 5u);
  EXPECT_EQ(s.scan.valid_end, data.size());
  EXPECT_EQ(s.names, (std::vector<std::string>{"SELECT", "SET", "MULTI", "INCR", "EXEC"}));
}

TEST(AofReader, StartsAfterAPreambleOffset) {
  std::string data = "REDIS-bytes" + Resp({"DEL", "k"});
  Scanned s = Scan(data, 11);
  EXPECT_EQ(s.scan.end, CommandScan::End::kComplete);
  EXPECT_EQ(s.names, (std::vector<std::string>{"DEL"}));
}

TEST(AofReader, ATruncatedFileIsCutAfterTheLastWholeCommandOutsideAMulti) {
  std::string head = Resp({"SET", "a", "1"});
  std::string multi = Resp({"MULTI"}) + Resp({"SET", "b", "2"});
  // Cut inside a command.
  Scanned s = Scan(head + Resp({"SET", "x", "y"}).substr(0, 9));
  EXPECT_EQ(s.scan.end, CommandScan::End::kTruncated);
  EXPECT_EQ(s.scan.valid_end, head.size());
  // A MULTI whose EXEC never came: its commands were handed over, the cut is before it.
  s = Scan(head + multi);
  EXPECT_EQ(s.scan.end, CommandScan::End::kTruncated);
  EXPECT_EQ(s.scan.valid_end, head.size());
  EXPECT_EQ(s.scan.commands, 3u);
  // An annotation without its newline.
  s = Scan(head + "#TS:17");
  EXPECT_EQ(s.scan.end, CommandScan::End::kTruncated);
  EXPECT_EQ(s.scan.valid_end, head.size());
}

TEST(AofReader, ABadByteOrAMalformedCommandIsReportedAtItsOffset) {
  std::string head = Resp({"SET", "a", "1"});
  for (std::string bad : {std::string("+OK\r\n"), std::string("*1\r\n:5\r\n"),
                          std::string("*x\r\n"), std::string("SET a 1\r\n")}) {
    Scanned s = Scan(head + bad + Resp({"DEL", "a"}));
    EXPECT_EQ(s.scan.end, CommandScan::End::kBadFormat) << bad;
    EXPECT_EQ(s.scan.bad_offset, head.size()) << bad;
    EXPECT_EQ(s.scan.commands, 1u) << bad;
  }
}

TEST(AofReader, TheCallbacksErrorStopsTheRead) {
  Scanned s = Scan(Resp({"SET", "a", "1"}) + Resp({"NOPE"}) + Resp({"DEL", "a"}), 0, "NOPE");
  EXPECT_FALSE(s.status.ok());
  EXPECT_EQ(s.status.message(), "refused NOPE");
  EXPECT_EQ(s.scan.end, CommandScan::End::kStopped);
  EXPECT_EQ(s.scan.commands, 1u);
}

}  // namespace
}  // namespace keel::aof
