#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "keel/persistence/crc64.h"
#include "keel/persistence/encodings.h"
#include "keel/persistence/rdb_format.h"
#include "test_values.h"

namespace keel::rdb {
namespace {

using keel::testing::Hex;

std::vector<std::string> Elements(Status (*parse)(std::string_view, const ElementFn&),
                                  std::string_view blob, Status* st) {
  std::vector<std::string> out;
  *st = parse(blob, [&](std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

TEST(Crc64, CheckValueOfJonesReflected) {
  EXPECT_EQ(Crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
}

TEST(Crc64, IncrementalEqualsOneShot) {
  std::string s(1000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31 + 7);
  uint64_t whole = Crc64(0, s.data(), s.size());
  for (size_t cut : {0, 1, 7, 8, 9, 500, 999}) {
    EXPECT_EQ(Crc64(Crc64(0, s.data(), cut), s.data() + cut, s.size() - cut), whole);
  }
}

TEST(Crc64, MatchesTheTrailerOfADumpPayloadRedisWrote) {
  // DUMP of "hello" in Redis 7.0.15.
  std::string p = Hex("000568656c6c6f0a006372df766534200a");
  uint64_t trailer = 0;
  for (int i = 7; i >= 0; --i) trailer = (trailer << 8) | static_cast<unsigned char>(p[9 + i]);
  EXPECT_EQ(Crc64(0, p.data(), 9), trailer);
}

TEST(Length, EncodingsAtTheirBoundaries) {
  auto enc = [](uint64_t n) {
    std::string s;
    AppendLength(&s, n);
    return s;
  };
  EXPECT_EQ(enc(63), Hex("3f"));
  EXPECT_EQ(enc(64), Hex("4040"));
  EXPECT_EQ(enc(16383), Hex("7fff"));
  EXPECT_EQ(enc(16384), Hex("8000004000"));
  EXPECT_EQ(enc(0x100000000ULL), Hex("810000000100000000"));
}

TEST(String, IntegerEncodingsAsRedisWritesThem) {
  auto enc = [](std::string_view v) {
    std::string s;
    AppendString(&s, v, true);
    return s;
  };
  EXPECT_EQ(enc("12345"), Hex("c13930"));
  EXPECT_EQ(enc("-1"), Hex("c0ff"));
  EXPECT_EQ(enc("100000"), Hex("c2a0860100"));
  EXPECT_EQ(enc("007"), Hex("03303037"));                       // not canonical: raw
  EXPECT_EQ(enc("4294967296"), Hex("0a34323934393637323936"));  // past 32 bits: raw
  std::string i;
  AppendIntString(&i, 1LL << 40);
  EXPECT_EQ(i, Hex("0d31303939353131363237373736"));
}

TEST(String, LongRepetitiveStringsAreLzfCompressedOnlyWhenAsked) {
  std::string v(100, 'a');
  std::string on, off;
  AppendString(&on, v, true);
  AppendString(&off, v, false);
  EXPECT_EQ(static_cast<unsigned char>(on[0]), 0xc3);
  EXPECT_LT(on.size(), 20u);
  EXPECT_EQ(off.size(), 102u);  // a 2-byte length, then the bytes
}

TEST(Listpack, IntegersAndStringsRoundTripAtEveryEncodingBoundary) {
  std::vector<std::string> in = {"0",
                                 "127",
                                 "128",
                                 "-1",
                                 "-4096",
                                 "4095",
                                 "-4097",
                                 "4096",
                                 "32767",
                                 "-32768",
                                 "32768",
                                 "8388607",
                                 "-8388608",
                                 "8388608",
                                 "2147483647",
                                 "-2147483649",
                                 "9223372036854775807",
                                 "-9223372036854775808",
                                 "",
                                 "a",
                                 std::string(63, 'x'),
                                 std::string(64, 'y'),
                                 std::string(4095, 'z'),
                                 std::string(4096, 'w'),
                                 "01",
                                 "-0",
                                 "1.5"};
  ListpackWriter w;
  for (const auto& s : in) w.Add(s);
  std::string lp = w.Finish();
  Status st;
  EXPECT_EQ(Elements(ParseListpack, lp, &st), in);
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(Listpack, MatchesTheBytesRedisWritesForASmallList) {
  // The listpack inside Redis 7.0's DUMP of RPUSH l a b 1 2.
  ListpackWriter w;
  for (const char* s : {"a", "b", "1", "2"}) w.Add(s);
  EXPECT_EQ(w.Finish(), Hex("11000000040081610281620201010201ff"));
}

TEST(Listpack, InconsistentHeadersAreErrors) {
  ListpackWriter w;
  for (const char* s : {"a", "bb", "300"}) w.Add(s);
  std::string good = w.Finish();
  Status st;
  Elements(ParseListpack, good, &st);
  ASSERT_TRUE(st.ok());
  std::string bad_total = good;
  bad_total[0] = static_cast<char>(bad_total[0] + 1);
  Elements(ParseListpack, bad_total, &st);
  EXPECT_FALSE(st.ok());
  std::string bad_count = good;
  bad_count[4] = 2;
  Elements(ParseListpack, bad_count, &st);
  EXPECT_FALSE(st.ok());
  std::string bad_backlen = good;
  bad_backlen[6 + 2] = 9;  // the back-length of "a"
  Elements(ParseListpack, bad_backlen, &st);
  EXPECT_FALSE(st.ok());
  std::string long_str = good;
  long_str[6] = static_cast<char>(0xbf);  // a 63-byte string where there are 3 bytes
  Elements(ParseListpack, long_str, &st);
  EXPECT_FALSE(st.ok());
  // Every truncation (with the header's total fixed up, so the walk itself must notice).
  for (size_t n = 0; n < good.size(); ++n) {
    std::string t = good.substr(0, n);
    if (t.size() >= 4) {
      uint32_t sz = static_cast<uint32_t>(t.size());
      for (int i = 0; i < 4; ++i) t[i] = static_cast<char>(sz >> (8 * i));
    }
    Elements(ParseListpack, t, &st);
    EXPECT_FALSE(st.ok()) << n;
  }
}

// A ziplist built by hand with every entry encoding Redis used.
std::string BuildZiplist(const std::vector<std::string>& raw_entries) {
  std::string body;
  size_t prev = 0;
  size_t last = 10;
  for (const auto& enc_and_data : raw_entries) {
    last = 10 + body.size();
    std::string entry;
    if (prev < 254) {
      entry.push_back(static_cast<char>(prev));
    } else {
      entry.push_back(static_cast<char>(254));
      for (int i = 0; i < 4; ++i) entry.push_back(static_cast<char>(prev >> (8 * i)));
    }
    entry += enc_and_data;
    prev = entry.size();
    body += entry;
  }
  std::string out(10, '\0');
  uint32_t total = static_cast<uint32_t>(10 + body.size() + 1);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(total >> (8 * i));
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>(last >> (8 * i));
  out[8] = static_cast<char>(raw_entries.size());
  out[9] = 0;
  return out + body + "\xff";
}

TEST(Ziplist, EveryEntryEncodingIsRead) {
  std::string big(300, 'q');
  std::vector<std::string> entries = {
      Hex("03616263"),                   // 6-bit string "abc"
      std::string("\x41\x2c", 2) + big,  // 14-bit string of 300 bytes
      Hex("8000000002") + "hi",          // 32-bit string
      Hex("c0feff"),                     // int16 -2
      Hex("d0a0860100"),                 // int32 100000
      Hex("e00000000000010000"),         // int64 2^40
      Hex("f0ffff7f"),                   // int24 8388607
      Hex("fe80"),                       // int8 -128
      Hex("f1"),                         // immediate 0
      Hex("fd"),                         // immediate 12
  };
  Status st;
  auto got = Elements(ParseZiplist, BuildZiplist(entries), &st);
  ASSERT_TRUE(st.ok()) << st.message();
  std::vector<std::string> want = {"abc",           big,       "hi",   "-2", "100000",
                                   "1099511627776", "8388607", "-128", "0",  "12"};
  EXPECT_EQ(got, want);
}

TEST(Ziplist, WrongPreviousLengthOrTailIsAnError) {
  std::string zl = BuildZiplist({Hex("0161"), Hex("0162")});
  Status st;
  Elements(ParseZiplist, zl, &st);
  ASSERT_TRUE(st.ok());
  std::string bad_prev = zl;
  bad_prev[10 + 3] = 7;
  Elements(ParseZiplist, bad_prev, &st);
  EXPECT_FALSE(st.ok());
  std::string bad_tail = zl;
  bad_tail[4] = 10;
  Elements(ParseZiplist, bad_tail, &st);
  EXPECT_FALSE(st.ok());
}

TEST(Zipmap, FieldsAndValuesWithFreeBytes) {
  // zmlen 2; "f" -> "v" with 2 free bytes; "n" -> "10".
  std::string zm = Hex("0201660102767878") + Hex("016e0200") + "10" + "\xff";
  Status st;
  auto got = Elements(ParseZipmap, zm, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(got, (std::vector<std::string>{"f", "v", "n", "10"}));
  Elements(ParseZipmap, zm.substr(0, zm.size() - 1), &st);
  EXPECT_FALSE(st.ok());
}

TEST(Intset, BuildsRedisBytesAndRefusesUnsorted) {
  std::vector<int64_t> v = {1, 2, 3};
  std::string is = BuildIntset(v);
  EXPECT_EQ(is, Hex("0200000003000000010002000300"));
  Status st;
  EXPECT_EQ(Elements(ParseIntset, is, &st), (std::vector<std::string>{"1", "2", "3"}));
  std::vector<int64_t> wide = {-5, 1LL << 40};
  EXPECT_EQ(Elements(ParseIntset, BuildIntset(wide), &st),
            (std::vector<std::string>{"-5", "1099511627776"}));
  std::string unsorted = Hex("020000000200000003000100");
  Elements(ParseIntset, unsorted, &st);
  EXPECT_FALSE(st.ok());
  Elements(ParseIntset, Hex("0300000001000000010000"), &st);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace keel::rdb
