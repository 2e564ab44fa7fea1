#include "differential/script.h"

#include <gtest/gtest.h>

namespace keel::test {
namespace {

Script Parse(std::string_view text) {
  Script s;
  std::string error;
  EXPECT_TRUE(ParseScript(text, &s, &error)) << error;
  return s;
}

TEST(ParseScript, CommentsAndBlankLinesAreSkippedAndLinesNumbered) {
  Script s = Parse("# header\n\n  PING\r\n   # indented comment\nECHO \"a b\"\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].line, 3);
  EXPECT_EQ(s.steps[0].args, std::vector<std::string>{"PING"});
  EXPECT_EQ(s.steps[1].line, 5);
  EXPECT_EQ(s.steps[1].args, (std::vector<std::string>{"ECHO", "a b"}));
}

TEST(ParseScript, ModifiersSetTheComparison) {
  Script s = Parse(
      "!unordered KEYS *\n!ignore CLIENT HELP\n!type TIME\n!noreply CLIENT REPLY OFF\n"
      "!fields-ignore id,Version HELLO 2\n");
  ASSERT_EQ(s.steps.size(), 5u);
  EXPECT_EQ(s.steps[0].compare, CompareMode::kUnordered);
  EXPECT_EQ(s.steps[1].compare, CompareMode::kType);
  EXPECT_EQ(s.steps[2].compare, CompareMode::kShape);
  EXPECT_EQ(s.steps[3].compare, CompareMode::kNoReply);
  EXPECT_EQ(s.steps[4].compare, CompareMode::kFieldsIgnore);
  EXPECT_EQ(s.steps[4].ignored_fields, (std::set<std::string>{"id", "version"}));
  EXPECT_EQ(s.steps[4].args, (std::vector<std::string>{"HELLO", "2"}));
}

TEST(ParseScript, DeltaNamesItsFieldBeforeTheCommand) {
  Script s = Parse("!delta rdb_changes_since_last_save INFO persistence\n");
  ASSERT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(s.steps[0].compare, CompareMode::kDelta);
  EXPECT_EQ(s.steps[0].field, "rdb_changes_since_last_save");
  EXPECT_EQ(s.steps[0].args, (std::vector<std::string>{"INFO", "persistence"}));
}

TEST(ParseScript, RawConcatenatesAndRepeats) {
  Script s = Parse("!raw \"*1\\r\\n\" '$4\\r\\n'\n!raw \"PING \" \"ab\" x3 \"\\r\\n\"\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].kind, StepKind::kRaw);
  EXPECT_EQ(s.steps[0].raw, "*1\r\n$4\\r\\n");
  EXPECT_EQ(s.steps[1].raw, "PING ababab\r\n");
}

TEST(ParseScript, QuotedBangIsACommandNotADirective) {
  Script s = Parse("\"!raw\" x\n");
  ASSERT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(s.steps[0].kind, StepKind::kCommand);
}

TEST(ParseScript, ClientSleepReconnectAndRequirepass) {
  Script s = Parse("!requirepass\n!client other\n!sleep 20\n!reconnect\n");
  EXPECT_TRUE(s.requirepass);
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(s.steps[0].client, "other");
  EXPECT_EQ(s.steps[1].sleep_ms, 20);
  EXPECT_EQ(s.steps[2].kind, StepKind::kReconnect);
}

TEST(ParseScript, ErrorsNameTheLine) {
  Script s;
  std::string error;
  EXPECT_FALSE(ParseScript("PING\n!bogus\n", &s, &error));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
  EXPECT_FALSE(ParseScript("ECHO \"open\n", &s, &error));
  EXPECT_FALSE(ParseScript("PING\n!requirepass\n", &s, &error));
  EXPECT_FALSE(ParseScript("!sleep abc\n", &s, &error));
  EXPECT_FALSE(ParseScript("!unordered\n", &s, &error));
}

}  // namespace
}  // namespace keel::test
