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
  Script s = Parse("!requirepass\n!client other\n!sleep 20\n!reconnect\nPING\n");
  EXPECT_TRUE(s.requirepass);
  ASSERT_EQ(s.steps.size(), 4u);
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

TEST(ParseScript, AScriptWithoutCommandsFails) {
  Script s;
  std::string error;
  EXPECT_FALSE(ParseScript("", &s, &error));
  EXPECT_FALSE(ParseScript("# only\n# comments\n\n", &s, &error));
  EXPECT_NE(error.find("no command step"), std::string::npos) << error;
  EXPECT_FALSE(ParseScript("!client other\n!sleep 5\n", &s, &error));
  EXPECT_TRUE(ParseScript("!raw \"PING\\r\\n\"\n", &s, &error)) << error;
}

TEST(ParseScript, WaitScanSetAndSkipUntil) {
  Script s = Parse("!skip-until issue-17\n!wait \":-2\" PTTL k\n!scan-set HSCAN h 0 COUNT 2\n");
  EXPECT_EQ(s.skip_until, "issue-17");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].kind, StepKind::kWait);
  EXPECT_EQ(s.steps[0].wait_for, ":-2");
  EXPECT_EQ(s.steps[0].args, (std::vector<std::string>{"PTTL", "k"}));
  EXPECT_EQ(s.steps[1].compare, CompareMode::kScanSet);
  std::string error;
  EXPECT_FALSE(ParseScript("!scan-set GET k\n", &s, &error));
  EXPECT_FALSE(ParseScript("!scan-set SCAN\n", &s, &error));
  EXPECT_FALSE(ParseScript("!wait x\n", &s, &error));
  EXPECT_FALSE(ParseScript("PING\n!skip-until late\n", &s, &error));
}

ScriptStep Step(CompareMode mode, std::set<std::string> ignored = {}) {
  ScriptStep step;
  step.compare = mode;
  step.ignored_fields = std::move(ignored);
  return step;
}

TEST(CompareReplies, FieldsIgnoreComparesATrailingOddElement) {
  ScriptStep step = Step(CompareMode::kFieldsIgnore, {"id"});
  std::string a = "*3\r\n$2\r\nid\r\n:1\r\n$4\r\nlast\r\n";
  std::string b = "*3\r\n$2\r\nid\r\n:7\r\n$4\r\nLAST\r\n";
  std::string c = "*3\r\n$2\r\nid\r\n:9\r\n$4\r\nlast\r\n";
  EXPECT_NE(CompareReplies(step, a, b), "");
  EXPECT_EQ(CompareReplies(step, a, c), "");
  // A field that is not ignored is compared whole.
  std::string d = "*2\r\n$1\r\nx\r\n:1\r\n";
  std::string e = "*2\r\n$1\r\nx\r\n:2\r\n";
  EXPECT_NE(CompareReplies(step, d, e), "");
}

TEST(CompareReplies, ShapeUnorderedAndExact) {
  std::string a = "*2\r\n$1\r\na\r\n$1\r\nb\r\n";
  std::string b = "*2\r\n$1\r\nb\r\n$1\r\na\r\n";
  std::string c = "*2\r\n$1\r\nb\r\n$1\r\nb\r\n";
  EXPECT_NE(CompareReplies(Step(CompareMode::kExact), a, b), "");
  EXPECT_EQ(CompareReplies(Step(CompareMode::kUnordered), a, b), "");
  EXPECT_NE(CompareReplies(Step(CompareMode::kUnordered), a, c), "");
  EXPECT_EQ(CompareReplies(Step(CompareMode::kShape), a, c), "");
  EXPECT_NE(CompareReplies(Step(CompareMode::kShape), a, "*1\r\n$1\r\na\r\n"), "");
  EXPECT_NE(CompareReplies(Step(CompareMode::kNoReply), a, b), "");
  // SCAN pages are compared by the runner after a full iteration; errors right away.
  EXPECT_EQ(CompareReplies(Step(CompareMode::kScanSet), a, b), "");
  EXPECT_NE(CompareReplies(Step(CompareMode::kScanSet), "-ERR x\r\n", "-ERR y\r\n"), "");
  EXPECT_NE(CompareReplies(Step(CompareMode::kScanSet), a, "-ERR y\r\n"), "");
}

TEST(CompareReplies, InfoFieldsComparesNamesNotValues) {
  ScriptStep step = Step(CompareMode::kInfoFields);
  std::string a = "$32\r\n# Clients\r\nconnected_clients:1\r\n\r\n";
  std::string b = "$32\r\n# Clients\r\nconnected_clients:7\r\n\r\n";
  std::string c = "$32\r\n# Clients\r\nconnected_clientz:1\r\n\r\n";
  std::string d = "$9\r\n# Clients\r\n";
  EXPECT_EQ(CompareReplies(step, a, b), "");
  EXPECT_NE(CompareReplies(step, a, c), "");
  EXPECT_NE(CompareReplies(step, a, d), "");
  std::string error;
  Script s;
  ASSERT_TRUE(ParseScript("!info-fields INFO clients\n", &s, &error)) << error;
  EXPECT_EQ(s.steps[0].compare, CompareMode::kInfoFields);
}

TEST(ParseScript, ProtocolDirectivesComeFirst) {
  Script s;
  std::string error;
  ASSERT_TRUE(ParseScript("!resp2-only about-hello-2\nPING\n", &s, &error)) << error;
  EXPECT_EQ(s.resp2_only, "about-hello-2");
  EXPECT_FALSE(s.resp3_only);
  ASSERT_TRUE(ParseScript("!resp3\nPING\n", &s, &error)) << error;
  EXPECT_TRUE(s.resp3_only);
  EXPECT_FALSE(ParseScript("PING\n!resp3\n", &s, &error));
  EXPECT_FALSE(ParseScript("PING\n!resp2-only x\n", &s, &error));
}

TEST(CompareReplies, Resp3MapsAndVerbatimText) {
  ScriptStep fields = Step(CompareMode::kFieldsIgnore, {"id"});
  EXPECT_EQ(CompareReplies(fields, "%1\r\n$2\r\nid\r\n:1\r\n", "%1\r\n$2\r\nid\r\n:5\r\n"), "");
  EXPECT_NE(CompareReplies(fields, "%1\r\n$2\r\nid\r\n:1\r\n", "*2\r\n$2\r\nid\r\n:1\r\n"), "");
  ScriptStep info = Step(CompareMode::kInfoFields);
  std::string a = "=18\r\ntxt:# S\r\nfield:1\r\n\r\n";
  std::string b = "=18\r\ntxt:# S\r\nfield:2\r\n\r\n";
  std::string c = "=18\r\ntxt:# S\r\nfiel_:1\r\n\r\n";
  EXPECT_EQ(CompareReplies(info, a, b), "");
  EXPECT_NE(CompareReplies(info, a, c), "");
  // A verbatim string against a bulk one: the types differ.
  EXPECT_NE(CompareReplies(info, a, "$14\r\n# S\r\nfield:1\r\n\r\n"), "");
}

TEST(ScanSet, CursorIndexAndPages) {
  EXPECT_EQ(ScanCursorIndex({"scan", "0"}), 1);
  EXPECT_EQ(ScanCursorIndex({"SSCAN", "s", "0"}), 2);
  EXPECT_EQ(ScanCursorIndex({"HSCAN", "h"}), -1);
  EXPECT_EQ(ScanCursorIndex({"GET", "k"}), -1);
  std::set<std::string> seen;
  std::string cursor;
  ASSERT_TRUE(AddScanPage("*2\r\n$2\r\n12\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", false, &cursor, &seen));
  EXPECT_EQ(cursor, "12");
  ASSERT_TRUE(AddScanPage("*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n", false, &cursor, &seen));
  EXPECT_EQ(cursor, "0");
  EXPECT_EQ(seen.size(), 2u);  // a set: the repeated element counts once
  std::set<std::string> pairs;
  ASSERT_TRUE(AddScanPage("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", true, &cursor, &pairs));
  EXPECT_EQ(pairs.size(), 1u);
  EXPECT_FALSE(AddScanPage("*1\r\n$1\r\nf\r\n", false, &cursor, &pairs));
  EXPECT_FALSE(AddScanPage("*2\r\n$1\r\n0\r\n*1\r\n$1\r\nf\r\n", true, &cursor, &pairs));
}

TEST(CheckOracleInfo, AcceptsOnlyRedis70) {
  EXPECT_EQ(CheckOracleInfo("$40\r\n# Server\r\nredis_version:7.0.15\r\nredis_mode:x\r\n"), "");
  EXPECT_NE(CheckOracleInfo("# Server\r\nredis_version:7.0.15\r\nkeel_version:0.1\r\n"), "");
  EXPECT_NE(CheckOracleInfo("# Server\r\nredis_version:7.2.4\r\n"), "");
  EXPECT_NE(CheckOracleInfo("# Server\r\n"), "");
}

}  // namespace
}  // namespace keel::test
