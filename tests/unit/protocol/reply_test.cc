#include "keel/protocol/reply.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace keel {
namespace {

std::string BulkViaBuilder(std::string_view v) {
  std::string out;
  ReplyBuilder(&out).Bulk(v);
  return out;
}

std::string Expected(std::string_view v) {
  return "$" + std::to_string(v.size()) + "\r\n" + std::string(v) + "\r\n";
}

TEST(ReplyBuilder, BulkOfEveryLengthClassIsLengthThenBytes) {
  for (size_t len : {0, 1, 9, 10, 63, 64, 65, 99, 100, 999, 1000, 12345, 100000}) {
    std::string v(len, 'a');
    for (size_t i = 0; i < len; ++i) v[i] = static_cast<char>('a' + i % 26);
    EXPECT_EQ(BulkViaBuilder(v), Expected(v)) << len;
  }
}

TEST(ReplyBuilder, RunWrittenInOnePieceEqualsBulkAfterBulk) {
  std::vector<std::string> elems = {"",
                                    "x",
                                    std::string(9, 'y'),
                                    std::string(10, 'z'),
                                    std::string(100, 'w'),
                                    std::string(1234, 'q')};
  std::string one = "*";  // something already in the buffer before the run
  ReplyBuilder b(&one);
  size_t bytes = 0;
  for (const auto& e : elems) bytes += ReplyBuilder::BulkSize(e.size());
  char* p = b.Extend(bytes);
  for (const auto& e : elems) p = ReplyBuilder::WriteBulk(p, e);
  EXPECT_EQ(p, one.data() + one.size());
  std::string want = "*";
  for (const auto& e : elems) want += Expected(e);
  EXPECT_EQ(one, want);
}

TEST(ReplyBuilder, HeadersAndIntegers) {
  std::string out;
  ReplyBuilder b(&out);
  b.ArrayHeader(0);
  b.ArrayHeader(7);
  b.ArrayHeader(1234567890123);
  b.Integer(-42);
  b.Integer(INT64_MIN);
  EXPECT_EQ(out, "*0\r\n*7\r\n*1234567890123\r\n:-42\r\n:-9223372036854775808\r\n");
}

// Every typed method in both protocols: RESP2 exactly as Keel answers today, RESP3 in its own
// forms where they differ (nulls, doubles, booleans, map/set/push headers) and the same bytes
// where they do not.
TEST(ReplyBuilder, TypedMethodsInResp2AndResp3) {
  struct Case {
    const char* name;
    void (*write)(ReplyBuilder&);
    const char* resp2;
    const char* resp3;
  };
  const Case cases[] = {
      {"ok", [](ReplyBuilder& b) { b.Ok(); }, "+OK\r\n", "+OK\r\n"},
      {"simple", [](ReplyBuilder& b) { b.SimpleString("PONG"); }, "+PONG\r\n", "+PONG\r\n"},
      {"error", [](ReplyBuilder& b) { b.Error("ERR x"); }, "-ERR x\r\n", "-ERR x\r\n"},
      {"integer", [](ReplyBuilder& b) { b.Integer(-42); }, ":-42\r\n", ":-42\r\n"},
      {"bulk", [](ReplyBuilder& b) { b.Bulk("ab"); }, "$2\r\nab\r\n", "$2\r\nab\r\n"},
      {"null bulk", [](ReplyBuilder& b) { b.NullBulk(); }, "$-1\r\n", "_\r\n"},
      {"null array", [](ReplyBuilder& b) { b.NullArray(); }, "*-1\r\n", "_\r\n"},
      {"array", [](ReplyBuilder& b) { b.ArrayHeader(3); }, "*3\r\n", "*3\r\n"},
      {"empty array", [](ReplyBuilder& b) { b.EmptyArray(); }, "*0\r\n", "*0\r\n"},
      {"map", [](ReplyBuilder& b) { b.MapHeader(2); }, "*4\r\n", "%2\r\n"},
      {"set", [](ReplyBuilder& b) { b.SetHeader(5); }, "*5\r\n", "~5\r\n"},
      {"push", [](ReplyBuilder& b) { b.PushHeader(3); }, "*3\r\n", ">3\r\n"},
      {"true", [](ReplyBuilder& b) { b.Bool(true); }, ":1\r\n", "#t\r\n"},
      {"false", [](ReplyBuilder& b) { b.Bool(false); }, ":0\r\n", "#f\r\n"},
      {"double", [](ReplyBuilder& b) { b.Double(1.5); }, "$3\r\n1.5\r\n", ",1.5\r\n"},
      {"inf", [](ReplyBuilder& b) { b.Double(HUGE_VAL); }, "$3\r\ninf\r\n", ",inf\r\n"},
      {"-inf", [](ReplyBuilder& b) { b.Double(-HUGE_VAL); }, "$4\r\n-inf\r\n", ",-inf\r\n"},
      {"nan", [](ReplyBuilder& b) { b.Double(std::nan("")); }, "$3\r\nnan\r\n", ",nan\r\n"},
      {"verbatim", [](ReplyBuilder& b) { b.Verbatim("a:1\r\n"); }, "$5\r\na:1\r\n\r\n",
       "=9\r\ntxt:a:1\r\n\r\n"},
      {"deferred set",
       [](ReplyBuilder& b) {
         size_t t = b.BeginDeferredSet();
         b.Integer(1);
         b.EndDeferredSet(t, 1);
       },
       "*1\r\n:1\r\n", "~1\r\n:1\r\n"},
      {"deferred map",
       [](ReplyBuilder& b) {
         size_t t = b.BeginDeferredMap();
         b.Integer(1);
         b.Integer(2);
         b.EndDeferredMap(t, 1);
       },
       "*2\r\n:1\r\n:2\r\n", "%1\r\n:1\r\n:2\r\n"},
  };
  for (const Case& c : cases) {
    std::string two, three;
    ReplyBuilder b2(&two), b3(&three, ReplyBuilder::kResp3);
    EXPECT_EQ(b2.protocol(), ReplyBuilder::kResp2);
    EXPECT_EQ(b3.protocol(), ReplyBuilder::kResp3);
    c.write(b2);
    c.write(b3);
    EXPECT_EQ(two, c.resp2) << c.name;
    EXPECT_EQ(three, c.resp3) << c.name;
  }
}

TEST(ReplyBuilder, SetProtocolSwitchesTheFormOfWhatFollows) {
  std::string out;
  ReplyBuilder b(&out);
  b.NullBulk();
  b.SetProtocol(ReplyBuilder::kResp3);
  EXPECT_EQ(b.protocol(), ReplyBuilder::kResp3);
  b.NullBulk();
  b.SetProtocol(ReplyBuilder::kResp2);
  b.MapHeader(1);
  EXPECT_EQ(out, "$-1\r\n_\r\n*2\r\n");
}

TEST(ReplyBuilder, WholeLinesForSendersWithoutACommand) {
  EXPECT_EQ(ReplyBuilder::ErrorLine("ERR max number of clients reached"),
            "-ERR max number of clients reached\r\n");
  EXPECT_EQ(ReplyBuilder::SimpleStringLine("1.5 [0 127.0.0.1:1] \"get\""),
            "+1.5 [0 127.0.0.1:1] \"get\"\r\n");
}

}  // namespace
}  // namespace keel
