#include "keel/protocol/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace keel {
namespace {

using Args = std::vector<std::string>;

// Feeds `input` to a parser the way a connection does: bytes arrive in the given chunk sizes, the
// consumed prefix is dropped after each command. Returns the commands, and the error if any.
struct FeedResult {
  std::vector<Args> commands;
  std::string error;
};

FeedResult Feed(const std::string& input, const std::vector<size_t>& chunks,
                const ParserLimits& limits = ParserLimits()) {
  FeedResult result;
  RespParser parser;
  std::string buf;
  std::vector<std::string_view> args;
  size_t offset = 0;
  auto drain = [&]() -> bool {
    for (;;) {
      size_t consumed = 0;
      auto r = parser.Parse(buf.data(), buf.size(), limits, &consumed, &args);
      if (r == RespParser::Result::kError) {
        result.error = std::string(parser.error());
        return false;
      }
      // Copy the arguments before dropping the bytes they point into.
      if (r == RespParser::Result::kCommand) result.commands.emplace_back(args.begin(), args.end());
      buf.erase(0, consumed);
      if (r == RespParser::Result::kNeedMore) return true;
    }
  };
  for (size_t c : chunks) {
    buf.append(input, offset, c);
    offset += c;
    if (!drain()) return result;
  }
  if (offset < input.size()) {
    buf.append(input, offset, std::string::npos);
    drain();
  }
  return result;
}

FeedResult FeedAll(const std::string& input, const ParserLimits& limits = ParserLimits()) {
  return Feed(input, {input.size()}, limits);
}

TEST(RespParserTest, ParsesOneMultibulkCommand) {
  auto r = FeedAll("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"GET", "foo"}));
}

TEST(RespParserTest, BulkPayloadIsBinarySafe) {
  std::string payload("a\0b\r\nc", 6);
  auto r = FeedAll("*2\r\n$4\r\nECHO\r\n$6\r\n" + payload + "\r\n");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0][1], payload);
}

TEST(RespParserTest, EmptyBulkIsAnEmptyArgument) {
  auto r = FeedAll("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"ECHO", ""}));
}

TEST(RespParserTest, ZeroAndNegativeMultibulkCountsAreSkipped) {
  auto r = FeedAll("*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(r.error, "");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"PING"}));
}

TEST(RespParserTest, InlineCommandsAndBlankLines) {
  auto r = FeedAll("PING\r\n\r\n\n  \r\nECHO hello\nSET k \"a b\"\r\n");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.commands.size(), 3u);
  EXPECT_EQ(r.commands[0], (Args{"PING"}));
  EXPECT_EQ(r.commands[1], (Args{"ECHO", "hello"}));
  EXPECT_EQ(r.commands[2], (Args{"SET", "k", "a b"}));
}

TEST(RespParserTest, InlineQuotingEscapes) {
  auto r = FeedAll("SET \"\\x41\\n\\t\\\"q\" 'it\\'s'\r\n");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"SET", "A\n\t\"q", "it's"}));
}

TEST(RespParserTest, InlineEmptyQuotedArgument) {
  auto r = FeedAll("ECHO \"\"\r\n");
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"ECHO", ""}));
}

TEST(RespParserTest, InlineUnbalancedQuotesIsAnError) {
  EXPECT_EQ(FeedAll("\"foo\r\n").error, "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(FeedAll("'foo\r\n").error, "ERR Protocol error: unbalanced quotes in request");
}

TEST(RespParserTest, ClosingQuoteMustBeFollowedBySpace) {
  EXPECT_EQ(FeedAll("\"foo\"bar\r\n").error, "ERR Protocol error: unbalanced quotes in request");
}

TEST(RespParserTest, InlineLineTooLong) {
  EXPECT_EQ(FeedAll(std::string(70000, 'x')).error, "ERR Protocol error: too big inline request");
}

TEST(RespParserTest, LongInlineLineWithNewlineIsAccepted) {
  // The limit applies to an unterminated line in the buffer, as in Redis.
  std::string line = "ECHO " + std::string(1000, 'y') + "\r\n";
  auto r = FeedAll(line);
  ASSERT_EQ(r.commands.size(), 1u);
}

TEST(RespParserTest, MultibulkCountErrors) {
  EXPECT_EQ(FeedAll("*abc\r\n").error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(FeedAll("*01\r\n").error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(FeedAll("*+1\r\n").error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(FeedAll("*2147483648\r\n").error, "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(FeedAll("*\r\n").error, "ERR Protocol error: invalid multibulk length");
}

TEST(RespParserTest, HugeMultibulkCountWaitsForData) {
  auto r = FeedAll("*2147483647\r\n");
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.commands.empty());
}

TEST(RespParserTest, MultibulkCountLineTooLong) {
  EXPECT_EQ(FeedAll("*" + std::string(70000, '1')).error,
            "ERR Protocol error: too big mbulk count string");
}

TEST(RespParserTest, BulkLengthErrors) {
  EXPECT_EQ(FeedAll("*1\r\n$-1\r\n").error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(FeedAll("*1\r\n$abc\r\n").error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(FeedAll("*1\r\n$04\r\nPING\r\n").error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(FeedAll("*1\r\n$536870913\r\n").error, "ERR Protocol error: invalid bulk length");
}

// Length lines that look like a plain number at first but are not one, and numbers at the
// 18/19-digit edge, get the same errors (and splits parse the same) as in the general case.
TEST(RespParserTest, LengthLinesOfEveryShape) {
  const std::string kBadBulk = "ERR Protocol error: invalid bulk length";
  const std::string kBadCount = "ERR Protocol error: invalid multibulk length";
  EXPECT_EQ(FeedAll("*1\r\n$3x\r\nabc\r\n").error, kBadBulk);
  EXPECT_EQ(FeedAll("*1\r\n$3 \r\nabc\r\n").error, kBadBulk);
  EXPECT_EQ(FeedAll("*1\r\n$" + std::string(17, '9') + "9\r\n").error, kBadBulk);
  EXPECT_EQ(FeedAll("*1\r\n$1" + std::string(18, '0') + "\r\n").error, kBadBulk);
  EXPECT_EQ(FeedAll("*2x\r\n").error, kBadCount);
  EXPECT_EQ(FeedAll("*1" + std::string(17, '0') + "\r\n").error, kBadCount);
  const std::string ok = "*2\r\n$12\r\nabcdefghijkl\r\n$1\r\nx\r\n";
  for (size_t split = 0; split <= ok.size(); ++split) {
    auto r = Feed(ok, {split, ok.size() - split});
    ASSERT_EQ(r.error, "") << split;
    ASSERT_EQ(r.commands, (std::vector<Args>{{"abcdefghijkl", "x"}})) << split;
  }
}

TEST(RespParserTest, BulkLengthHonoursProtoMaxBulkLen) {
  ParserLimits limits;
  limits.max_bulk_len = 10;
  EXPECT_EQ(FeedAll("*1\r\n$11\r\n", limits).error, "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(FeedAll("*1\r\n$10\r\n0123456789\r\n", limits).commands.size(), 1u);
}

TEST(RespParserTest, BulkCountLineTooLong) {
  EXPECT_EQ(FeedAll("*1\r\n$" + std::string(70000, '1')).error,
            "ERR Protocol error: too big bulk count string");
}

TEST(RespParserTest, ExpectedDollar) {
  EXPECT_EQ(FeedAll("*1\r\nfoo\r\n").error, "ERR Protocol error: expected '$', got 'f'");
  EXPECT_EQ(FeedAll("*2\r\n$3\r\nGET\r\n:1\r\n").error,
            "ERR Protocol error: expected '$', got ':'");
}

TEST(RespParserTest, BytesAfterBulkPayloadAreNotChecked) {
  // Redis skips the two bytes after a payload without looking at them.
  auto r = FeedAll("*1\r\n$3\r\nfooxx*1\r\n$4\r\nPING\r\n");
  ASSERT_EQ(r.commands.size(), 2u);
  EXPECT_EQ(r.commands[0], (Args{"foo"}));
  EXPECT_EQ(r.commands[1], (Args{"PING"}));
}

TEST(RespParserTest, CommandsBeforeAnErrorAreDelivered) {
  auto r = FeedAll("*1\r\n$4\r\nPING\r\n*x\r\n");
  EXPECT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.error, "ERR Protocol error: invalid multibulk length");
}

TEST(RespParserTest, UnauthenticatedLimits) {
  ParserLimits limits;
  limits.authenticated = false;
  EXPECT_EQ(FeedAll("*11\r\n", limits).error,
            "ERR Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(FeedAll("*10\r\n", limits).error, "");
  EXPECT_EQ(FeedAll("*1\r\n$16385\r\n", limits).error,
            "ERR Protocol error: unauthenticated bulk length");
  EXPECT_EQ(FeedAll("*1\r\n$16384\r\n", limits).error, "");
}

// A pipelined buffer mixing every request form, split at every possible point (two chunks),
// then fed one byte at a time: the commands must always come out the same.
const std::string kPipeline =
    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    "PING\r\n"
    "*0\r\n"
    "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
    "\r\n"
    "ECHO \"a b\" 'c'\r\n"
    "*1\r\n$4\r\nPING\r\n";

const std::vector<Args> kPipelineCommands = {
    {"SET", "key", "value"}, {"PING"}, {"ECHO", ""}, {"ECHO", "a b", "c"}, {"PING"}};

TEST(RespParserTest, EverySplitPointOfAPipelineParsesTheSame) {
  for (size_t split = 0; split <= kPipeline.size(); ++split) {
    auto r = Feed(kPipeline, {split, kPipeline.size() - split});
    ASSERT_EQ(r.error, "") << "split at " << split;
    ASSERT_EQ(r.commands, kPipelineCommands) << "split at " << split;
  }
}

TEST(RespParserTest, OneByteAtATime) {
  auto r = Feed(kPipeline, std::vector<size_t>(kPipeline.size(), 1));
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.commands, kPipelineCommands);
}

TEST(RespParserTest, RandomSplits) {
  std::mt19937 rng(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<size_t> chunks;
    size_t left = kPipeline.size();
    while (left > 0) {
      size_t c = std::min<size_t>(left, 1 + rng() % 17);
      chunks.push_back(c);
      left -= c;
    }
    auto r = Feed(kPipeline, chunks);
    ASSERT_EQ(r.commands, kPipelineCommands) << "round " << round;
  }
}

TEST(RespParserTest, EverySplitPointOfAMalformedBufferGivesTheSameError) {
  const std::string bad = "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\nxyz\r\n";
  for (size_t split = 0; split <= bad.size(); ++split) {
    auto r = Feed(bad, {split, bad.size() - split});
    EXPECT_EQ(r.commands.size(), 1u) << "split at " << split;
    EXPECT_EQ(r.error, "ERR Protocol error: expected '$', got 'x'") << "split at " << split;
  }
}

TEST(RespParserTest, LargeValueAcrossManyReads) {
  std::string value(1 << 20, 'v');
  std::string input =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  std::vector<size_t> chunks(input.size() / 4096 + 1, 4096);
  auto r = Feed(input, chunks);
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0][2].size(), value.size());
}

// Feeds `input` as a connection with big-bulk receiving does: `chunk` bytes per read; on
// kBigBulk the payload (and its CRLF) is taken out of the buffer and from the following input
// into a string of its own, which the command's argument must then view.
struct BigFeedResult {
  std::vector<Args> commands;
  std::vector<std::vector<bool>> external;  // per command, per argument: viewed a received string
  int big_bulks = 0;
  std::string error;
};

BigFeedResult FeedBig(const std::string& input, size_t chunk, size_t threshold) {
  BigFeedResult result;
  ParserLimits limits;
  limits.big_bulk = threshold;
  RespParser parser;
  std::string buf;
  std::deque<std::string> received;  // stable addresses
  std::vector<std::string_view> args;
  size_t offset = 0;
  auto more = [&](size_t n) {
    n = std::min(n, input.size() - offset);
    buf.append(input, offset, n);
    offset += n;
    return n > 0;
  };
  for (;;) {
    size_t consumed = 0;
    auto r = parser.Parse(buf.data(), buf.size(), limits, &consumed, &args);
    if (r == RespParser::Result::kError) {
      result.error = std::string(parser.error());
      return result;
    }
    if (r == RespParser::Result::kCommand) {
      result.commands.emplace_back(args.begin(), args.end());
      std::vector<bool> ext;
      for (std::string_view a : args) {
        bool is_ext = false;
        for (const std::string& s : received) is_ext |= a.data() == s.data();
        ext.push_back(is_ext);
      }
      result.external.push_back(ext);
      buf.erase(0, consumed);
      continue;
    }
    if (r == RespParser::Result::kBigBulk) {
      ++result.big_bulks;
      buf.erase(0, consumed);
      size_t start = parser.big_bulk_offset();
      size_t len = parser.big_bulk_len();
      EXPECT_LT(buf.size() - start, len + 2);
      std::string payload = buf.substr(start);
      buf.resize(start);
      // The payload's rest comes straight from the input, as reads into the string would.
      size_t need = len + 2 - payload.size();
      size_t n = std::min(need, input.size() - offset);
      payload.append(input, offset, n);
      offset += n;
      if (payload.size() < len + 2) return result;  // the input ends inside the payload
      payload.resize(len);
      received.push_back(std::move(payload));
      parser.BigBulkReceived(received.back());
      continue;
    }
    buf.erase(0, consumed);
    if (!more(chunk)) return result;
  }
}

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// One Parse of buf[from, end) with `limits`.
RespParser::Result ParseFrom(RespParser& parser, const std::string& buf, size_t from,
                             const ParserLimits& limits, size_t* consumed) {
  std::vector<std::string_view> args;
  return parser.Parse(const_cast<char*>(buf.data()) + from, buf.size() - from, limits, consumed,
                      &args);
}

TEST(RespParserBigBulkTest, PayloadArrivingOverManyReadsIsReceivedElsewhere) {
  std::string value(200 * 1024, 'v');
  value[0] = 'a';
  value.back() = 'z';
  auto r = FeedBig("*3\r\n" + Bulk("SET") + Bulk("k") + Bulk(value), 4096, 32 * 1024);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.big_bulks, 1);
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"SET", "k", value}));
  EXPECT_EQ(r.external[0], (std::vector<bool>{false, false, true}));
}

TEST(RespParserBigBulkTest, ArgumentsAndCommandsAfterTheBigBulkStillParse) {
  std::string value(40 * 1024, 'x');
  // Whatever the read size, the command's last arguments and the pipelined commands after the
  // payload parse from the buffer once the payload is received elsewhere.
  std::string input = "*5\r\n" + Bulk("SET") + Bulk("k") + Bulk(value) + Bulk("PX") + Bulk("100") +
                      "*1\r\n" + Bulk("PING") + "*2\r\n" + Bulk("GET") + Bulk("k");
  for (size_t chunk : {size_t{1000}, size_t{16384}, size_t{40 * 1024}}) {
    auto r = FeedBig(input, chunk, 32 * 1024);
    ASSERT_EQ(r.error, "") << chunk;
    EXPECT_EQ(r.big_bulks, 1) << chunk;
    ASSERT_EQ(r.commands.size(), 3u) << chunk;
    EXPECT_EQ(r.commands[0], (Args{"SET", "k", value, "PX", "100"})) << chunk;
    EXPECT_EQ(r.external[0], (std::vector<bool>{false, false, true, false, false})) << chunk;
    EXPECT_EQ(r.commands[1], (Args{"PING"})) << chunk;
    EXPECT_EQ(r.commands[2], (Args{"GET", "k"})) << chunk;
  }
}

TEST(RespParserBigBulkTest, TwoBigBulksInOneCommand) {
  std::string a(64 * 1024, 'a'), b(50 * 1024, 'b');
  auto r = FeedBig("*5\r\n" + Bulk("MSET") + Bulk("k1") + Bulk(a) + Bulk("k2") + Bulk(b), 8192,
                   32 * 1024);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.big_bulks, 2);
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0], (Args{"MSET", "k1", a, "k2", b}));
  EXPECT_EQ(r.external[0], (std::vector<bool>{false, false, true, false, true}));
}

TEST(RespParserBigBulkTest, PayloadAlreadyBufferedStaysInTheBuffer) {
  std::string value(100 * 1024, 'v');
  auto r = FeedBig("*3\r\n" + Bulk("SET") + Bulk("k") + Bulk(value), 1 << 20, 32 * 1024);
  EXPECT_EQ(r.big_bulks, 0);
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0][2], value);
  EXPECT_EQ(r.external[0][2], false);
}

TEST(RespParserBigBulkTest, BulksBelowTheThresholdWaitInTheBuffer) {
  std::string value(32 * 1024 - 1, 'v');
  auto r = FeedBig("*3\r\n" + Bulk("SET") + Bulk("k") + Bulk(value), 1000, 32 * 1024);
  EXPECT_EQ(r.big_bulks, 0);
  ASSERT_EQ(r.commands.size(), 1u);
  EXPECT_EQ(r.commands[0][2], value);
}

TEST(RespParserBigBulkTest, OffByDefault) {
  ParserLimits limits;
  EXPECT_EQ(limits.big_bulk, 0u);
  RespParser parser;
  size_t consumed = 0;
  EXPECT_EQ(ParseFrom(parser, "*3\r\n" + Bulk("SET") + Bulk("k") + "$100000\r\nxyz", 0, limits,
                      &consumed),
            RespParser::Result::kNeedMore);
}

TEST(RespParserBigBulkTest, ResetAfterBigBulkParsesTheCommandAgain) {
  ParserLimits limits;
  limits.big_bulk = 1024;
  RespParser parser;
  // An empty command before it is skipped: the offset counts from the command's start.
  std::string buf = "*0\r\n*3\r\n" + Bulk("SET") + Bulk("k") + "$5000\r\nxyz";
  size_t consumed = 0;
  ASSERT_EQ(ParseFrom(parser, buf, 0, limits, &consumed), RespParser::Result::kBigBulk);
  EXPECT_EQ(consumed, 4u);
  size_t offset = parser.big_bulk_offset();
  EXPECT_EQ(buf.substr(consumed + offset), "xyz");
  EXPECT_EQ(parser.big_bulk_len(), 5000u);
  parser.Reset();
  ASSERT_EQ(ParseFrom(parser, buf, 4, limits, &consumed), RespParser::Result::kBigBulk);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(parser.big_bulk_offset(), offset);
}

TEST(RespParserBigBulkTest, LimitsAreCheckedBeforeReceiving) {
  ParserLimits limits;
  limits.big_bulk = 1024;
  limits.max_bulk_len = 4096;
  RespParser parser;
  size_t consumed = 0;
  ASSERT_EQ(
      ParseFrom(parser, "*3\r\n" + Bulk("SET") + Bulk("k") + "$5000\r\nxyz", 0, limits, &consumed),
      RespParser::Result::kError);
  EXPECT_EQ(parser.error(), "ERR Protocol error: invalid bulk length");
}

TEST(SplitArgsTest, SplitsOnAnyWhitespace) {
  std::string line = " a\tb  c ";
  std::vector<std::string_view> args;
  ASSERT_TRUE(SplitArgsInPlace(line.data(), line.size(), &args));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2], "c");
}

TEST(SplitArgsTest, InvalidHexEscapeIsLiteral) {
  std::string line = "\"\\xZZ\"";
  std::vector<std::string_view> args;
  ASSERT_TRUE(SplitArgsInPlace(line.data(), line.size(), &args));
  ASSERT_EQ(args.size(), 1u);
  EXPECT_EQ(args[0], "xZZ");
}

}  // namespace
}  // namespace keel
