#include "support/resp.h"

#include <gtest/gtest.h>

namespace keel::test {
namespace {

FrameStatus Frame(std::string_view buf, size_t* len) { return FindReplyEnd(buf, len); }

TEST(FindReplyEnd, SimpleTypesEndAtTheirCrlf) {
  size_t len = 0;
  for (std::string_view r : {"+OK\r\n", "-ERR x\r\n", ":12\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n"}) {
    ASSERT_EQ(Frame(r, &len), FrameStatus::kComplete) << r;
    EXPECT_EQ(len, r.size());
  }
}

TEST(FindReplyEnd, StopsAtTheFirstReplyAndLeavesTheRest) {
  size_t len = 0;
  ASSERT_EQ(Frame("$3\r\nfoo\r\n+PONG\r\n", &len), FrameStatus::kComplete);
  EXPECT_EQ(len, 9u);
}

TEST(FindReplyEnd, NestedArraysWithNullsAndErrors) {
  std::string r = "*3\r\n*2\r\n$-1\r\n-ERR e\r\n*0\r\n*1\r\n*1\r\n:1\r\n";
  size_t len = 0;
  ASSERT_EQ(Frame(r + "+next\r\n", &len), FrameStatus::kComplete);
  EXPECT_EQ(len, r.size());
}

TEST(FindReplyEnd, EveryPrefixOfAReplyIsIncomplete) {
  std::string r = "*2\r\n$5\r\nhello\r\n*2\r\n:1\r\n$0\r\n\r\n";
  size_t len = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(Frame(r.substr(0, i), &len), FrameStatus::kIncomplete) << i;
  }
  EXPECT_EQ(Frame(r, &len), FrameStatus::kComplete);
}

TEST(FindReplyEnd, BulkPayloadMayContainCrlf) {
  size_t len = 0;
  ASSERT_EQ(Frame("$4\r\n\r\n\r\n\r\n", &len), FrameStatus::kComplete);
  EXPECT_EQ(len, 10u);
}

TEST(FindReplyEnd, GarbageIsMalformed) {
  size_t len = 0;
  EXPECT_EQ(Frame("hello\r\n", &len), FrameStatus::kMalformed);
  EXPECT_EQ(Frame("$abc\r\n", &len), FrameStatus::kMalformed);
  EXPECT_EQ(Frame("$3\r\nfooXY", &len), FrameStatus::kMalformed);
}

TEST(FindReplyEnd, DeepNestingDoesNotRecurse) {
  std::string r;
  for (int i = 0; i < 200000; ++i) r += "*1\r\n";
  r += ":1\r\n";
  size_t len = 0;
  ASSERT_EQ(Frame(r, &len), FrameStatus::kComplete);
  EXPECT_EQ(len, r.size());
}

TEST(ParseReply, BuildsTreeAndShape) {
  RespValue v;
  ASSERT_TRUE(ParseReply("*3\r\n$1\r\na\r\n$-1\r\n*1\r\n:5\r\n", &v));
  EXPECT_EQ(v.elements.size(), 3u);
  EXPECT_EQ(v.elements[0].text, "a");
  EXPECT_TRUE(v.elements[1].is_null);
  EXPECT_EQ(v.elements[2].elements[0].text, "5");
  EXPECT_EQ(ReplyShape(v), "*3[$,$nil,*1[:]]");
  EXPECT_EQ(ReplyType(v), "*");
  EXPECT_EQ(v.elements[2].raw, "*1\r\n:5\r\n");
}

TEST(ParseReply, RejectsTrailingBytes) {
  RespValue v;
  EXPECT_FALSE(ParseReply("+OK\r\n+OK\r\n", &v));
}

TEST(EscapeBytes, ShowsControlBytes) {
  EXPECT_EQ(EscapeBytes(std::string("a\r\n\"\\\x01", 6)), "a\\r\\n\\\"\\\\\\x01");
  EXPECT_EQ(EscapeBytes("abcdef", 3), "abc...(6 bytes)");
}

std::vector<std::string> Split(std::string_view line) {
  std::vector<Token> tokens;
  std::string error;
  EXPECT_TRUE(SplitArgs(line, &tokens, &error)) << error;
  std::vector<std::string> out;
  for (auto& t : tokens) out.push_back(t.text);
  return out;
}

TEST(SplitArgs, QuotingLikeRedisCli) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Split("  SET  a  b "), (V{"SET", "a", "b"}));
  EXPECT_EQ(Split(R"(ECHO "a b" 'c d')"), (V{"ECHO", "a b", "c d"}));
  EXPECT_EQ(Split(R"("\x41\n\r\t\"\\" 'it\'s' '\n')"), (V{"A\n\r\t\"\\", "it's", "\\n"}));
  EXPECT_EQ(Split(R"("" '')"), (V{"", ""}));
  EXPECT_EQ(Split(""), V{});
}

TEST(SplitArgs, UnbalancedOrGluedQuotesAreErrors) {
  std::vector<Token> tokens;
  std::string error;
  EXPECT_FALSE(SplitArgs(R"(ECHO "abc)", &tokens, &error));
  EXPECT_FALSE(SplitArgs(R"(ECHO "abc"def)", &tokens, &error));
  EXPECT_FALSE(SplitArgs(R"(ECHO 'abc)", &tokens, &error));
}

}  // namespace
}  // namespace keel::test
