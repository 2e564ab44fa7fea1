#include "keel/protocol/reply.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace keel
