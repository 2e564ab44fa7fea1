#include "keel/common/strings.h"

#include <gtest/gtest.h>

#include <limits>

namespace keel {
namespace {

TEST(ParseInt64Test, AcceptsCanonicalIntegers) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("123"), 123);
  EXPECT_EQ(ParseInt64("-45"), -45);
  EXPECT_EQ(ParseInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RefusesWhatRedisRefuses) {
  for (const char* s : {"", "-", "+1", "01", "-0", " 1", "1 ", "1a", "9223372036854775808",
                        "-9223372036854775809", "99999999999999999999", "1.0"}) {
    EXPECT_FALSE(ParseInt64(s).has_value()) << s;
  }
}

TEST(ParseDoubleTest, AcceptsAndRefuses) {
  EXPECT_EQ(ParseLongDouble("1.5"), 1.5L);
  EXPECT_EQ(ParseDouble("-2e3"), -2000.0);
  EXPECT_TRUE(ParseDouble("inf").has_value());
  EXPECT_FALSE(ParseDouble("nan").has_value());
  EXPECT_FALSE(ParseDouble(" 1").has_value());
  EXPECT_FALSE(ParseDouble("1x").has_value());
  EXPECT_FALSE(ParseDouble("").has_value());
}

TEST(AppendIntTest, FormatsExtremes) {
  std::string s;
  AppendInt(&s, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(s, "-9223372036854775808");
  s.clear();
  AppendInt(&s, 0);
  EXPECT_EQ(s, "0");
}

TEST(TrimTest, DropsTheGivenBytesAtBothEndsOnly) {
  EXPECT_EQ(Trim(" \t user a on \r\n", " \t\r\n"), "user a on");
  EXPECT_EQ(Trim("\t+get a\tb\n", "\t\r\n"), "+get a\tb");
  EXPECT_EQ(Trim(" +get", "\t\r\n"), " +get");
  EXPECT_EQ(Trim(" \t\r\n", " \t\r\n"), "");
  EXPECT_EQ(Trim("", " "), "");
}

TEST(EqualsIgnoreCaseTest, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(EqualsIgnoreCase("GeT", "get"));
  EXPECT_FALSE(EqualsIgnoreCase("get", "gets"));
  EXPECT_EQ(ToLower("AbC"), "abc");
}

}  // namespace
}  // namespace keel
