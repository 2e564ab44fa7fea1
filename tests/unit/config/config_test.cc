// The config parser: redis.conf syntax (comments, quoting), units, ranges, the error reports,
// the command line, CONFIG SET's all-or-nothing rule and CONFIG GET's patterns.

#include "keel/config/config.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace keel {
namespace {

// Loads `text` into a fresh config; returns the error message, or "" on success.
std::string Load(Config& c, std::string_view text) {
  Status st = c.LoadFromString(text, "test");
  return st.ok() ? "" : st.message();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigParse, CommentsBlankLinesAndWhitespace) {
  Config c;
  ASSERT_EQ(Load(c,
                 "# a comment\n\n   port 7001   \r\n\t# indented\nbind 127.0.0.1 ::1\n"
                 "databases 4"),
            "");
  EXPECT_EQ(c.port(), 7001);
  EXPECT_EQ(c.bind(), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c.databases(), 4);
}

TEST(ConfigParse, DefaultsAreRedis70s) {
  Config c;
  EXPECT_EQ(c.port(), 6379);
  EXPECT_EQ(c.databases(), 16);
  EXPECT_EQ(c.maxclients(), 10000);
  EXPECT_EQ(c.tcp_keepalive(), 300);
  EXPECT_EQ(c.proto_max_bulk_len(), 512LL * 1024 * 1024);
  EXPECT_EQ(c.maxmemory_policy(), "noeviction");
  EXPECT_EQ(c.list_max_listpack_size(), -2);
  EXPECT_EQ(c.set_max_intset_entries(), 512);
  EXPECT_EQ(c.hash_max_listpack_entries(), 512);
  EXPECT_EQ(c.hash_max_listpack_value(), 64);
  int64_t hard, soft, seconds;
  c.output_buffer_limit(Config::ClientClass::kPubsub, &hard, &soft, &seconds);
  EXPECT_EQ(hard, 32LL * 1024 * 1024);
  EXPECT_EQ(soft, 8LL * 1024 * 1024);
  EXPECT_EQ(seconds, 60);
}

TEST(ConfigParse, QuotingAndEscapes) {
  Config c;
  ASSERT_EQ(Load(c, "requirepass \"a b\\x41\\n\""), "");
  EXPECT_EQ(c.requirepass(), "a bA\n");
  ASSERT_EQ(Load(c, "requirepass 'it\\'s'"), "");
  EXPECT_EQ(c.requirepass(), "it's");
  ASSERT_EQ(Load(c, "requirepass \"\""), "");
  EXPECT_EQ(c.requirepass(), "");
}

TEST(ConfigParse, UnbalancedQuotesNameTheLine) {
  Config c;
  std::string e = Load(c, "port 7000\nrequirepass \"open\n");
  EXPECT_TRUE(Contains(e, "FATAL CONFIG FILE ERROR")) << e;
  EXPECT_TRUE(Contains(e, "at line 2")) << e;
  EXPECT_TRUE(Contains(e, ">>> 'requirepass \"open'")) << e;
  EXPECT_TRUE(Contains(e, "Unbalanced quotes in configuration line")) << e;
}

TEST(ConfigParse, MemoryUnits) {
  int64_t v = 0;
  EXPECT_TRUE(ParseMemoryValue("100", &v));
  EXPECT_EQ(v, 100);
  EXPECT_TRUE(ParseMemoryValue("1k", &v));
  EXPECT_EQ(v, 1000);
  EXPECT_TRUE(ParseMemoryValue("1KB", &v));
  EXPECT_EQ(v, 1024);
  EXPECT_TRUE(ParseMemoryValue("3m", &v));
  EXPECT_EQ(v, 3000000);
  EXPECT_TRUE(ParseMemoryValue("3mb", &v));
  EXPECT_EQ(v, 3LL * 1024 * 1024);
  EXPECT_TRUE(ParseMemoryValue("2g", &v));
  EXPECT_EQ(v, 2000000000LL);
  EXPECT_TRUE(ParseMemoryValue("2Gb", &v));
  EXPECT_EQ(v, 2LL << 30);
  EXPECT_TRUE(ParseMemoryValue("5b", &v));
  EXPECT_EQ(v, 5);
  for (const char* bad : {"", "k", "1t", "1 kb", "1.5mb", "x", "99999999999gb"}) {
    EXPECT_FALSE(ParseMemoryValue(bad, &v)) << bad;
  }
  Config c;
  ASSERT_EQ(Load(c, "maxmemory 2mb"), "");
  EXPECT_EQ(c.maxmemory(), 2u * 1024 * 1024);
  EXPECT_TRUE(Contains(Load(c, "maxmemory 2xb"), "argument must be a memory value"));
}

TEST(ConfigParse, SignedMemoryValueTakesAMinusAndRefusesOverflow) {
  int64_t v = 0;
  EXPECT_TRUE(ParseMemoryValue("-2kb", &v, MemoryValueSyntax::kSigned));
  EXPECT_EQ(v, -2048);
  EXPECT_TRUE(ParseMemoryValue("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  for (const char* bad : {"-", "-k", "01", "+5", "9223372036854775808", "9223372036854775807k",
                          "-9223372036854775807mb"}) {
    EXPECT_FALSE(ParseMemoryValue(bad, &v)) << bad;
  }
}

// Redis's memtoull rules (CONFIG SET maxmemory and the other memory options).
TEST(ConfigParse, RedisConfigMemoryValueSaturatesWrapsAndTakesNoSign) {
  constexpr auto kRedis = MemoryValueSyntax::kRedisConfig;
  int64_t v = -1;
  EXPECT_TRUE(ParseMemoryValue("", &v, kRedis));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseMemoryValue("kb", &v, kRedis));  // no digits: 0 of the unit
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseMemoryValue("007mB", &v, kRedis));  // leading zeros are fine
  EXPECT_EQ(v, 7LL * 1024 * 1024);
  EXPECT_TRUE(ParseMemoryValue("2G", &v, kRedis));
  EXPECT_EQ(v, 2000000000LL);
  // Past 2^64-1 the number saturates; seen as signed it is -1 (a range check then refuses it).
  EXPECT_TRUE(ParseMemoryValue("99999999999999999999999", &v, kRedis));
  EXPECT_EQ(v, -1);
  // 2^63 (as digits) is negative when seen as signed; 2^62 kb wraps past 2^64.
  EXPECT_TRUE(ParseMemoryValue("9223372036854775808", &v, kRedis));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseMemoryValue("4611686018427387904kb", &v, kRedis));
  EXPECT_EQ(v, 0);
  for (const char* bad : {"-1", "+1", " 1", "1 ", "1.5mb", "1t", "x"}) {
    EXPECT_FALSE(ParseMemoryValue(bad, &v, kRedis)) << bad;
  }
}

TEST(ConfigParse, TypedErrors) {
  Config c;
  EXPECT_TRUE(Contains(Load(c, "daemonize maybe"), "argument must be 'yes' or 'no'"));
  EXPECT_TRUE(Contains(Load(c, "port abc"), "argument couldn't be parsed into an integer"));
  EXPECT_TRUE(Contains(Load(c, "port 65536"), "argument must be between 0 and 65535"));
  EXPECT_TRUE(Contains(Load(c, "databases 0"), "argument must be between 1 and"));
  EXPECT_TRUE(Contains(Load(c, "loglevel loud"), "argument(s) must be one of the following:"));
  EXPECT_TRUE(Contains(Load(c, "nosuchoption 1"), "Bad directive or wrong number of arguments"));
  EXPECT_TRUE(Contains(Load(c, "port 1 2"), "wrong number of arguments"));
  EXPECT_TRUE(Contains(Load(c, "notify-keyspace-events Q"), "Invalid event class character"));
  EXPECT_TRUE(Contains(Load(c, "client-output-buffer-limit nobody 1 2 3"),
                       "Invalid client class specified in buffer limit configuration."));
  EXPECT_TRUE(Contains(Load(c, "client-output-buffer-limit pubsub 1 2"),
                       "Wrong number of arguments in buffer limit configuration."));
  // A failed line leaves the earlier value alone.
  ASSERT_EQ(Load(c, "port 7002"), "");
  EXPECT_NE(Load(c, "port 70000"), "");
  EXPECT_EQ(c.port(), 7002);
}

TEST(ConfigParse, AliasesEnumsAndFlags) {
  Config c;
  ASSERT_EQ(Load(c,
                 "hash-max-ziplist-entries 7\nlist-max-ziplist-size 9\nloglevel WARNING\n"
                 "notify-keyspace-events KEA\n"
                 "client-output-buffer-limit pubsub 1mb 512kb 10 normal 3 2 1"),
            "");
  EXPECT_EQ(c.hash_max_listpack_entries(), 7);
  EXPECT_EQ(c.list_max_listpack_size(), 9);
  EXPECT_EQ(c.loglevel(), LogLevel::kWarning);
  EXPECT_EQ(c.notify_keyspace_flags() & kNotifyAll, kNotifyAll);
  EXPECT_EQ(NotifyFlagsToString(c.notify_keyspace_flags()), "AKE");
  int64_t hard, soft, seconds;
  c.output_buffer_limit(Config::ClientClass::kPubsub, &hard, &soft, &seconds);
  EXPECT_EQ(hard, 1024 * 1024);
  EXPECT_EQ(soft, 512 * 1024);
  EXPECT_EQ(seconds, 10);
  c.output_buffer_limit(Config::ClientClass::kNormal, &hard, &soft, &seconds);
  EXPECT_EQ(hard, 3);
  EXPECT_EQ(soft, 2);
  EXPECT_EQ(seconds, 1);
}

TEST(ConfigCommandLine, OptionsAreAppendedAsLines) {
  Config c;
  const char* argv[] = {"keel-server", "--port",        "7003",      "--bind", "127.0.0.1",
                        "::1",         "--requirepass", "two words", "--save"};
  ASSERT_TRUE(c.LoadFromCommandLine(9, const_cast<char**>(argv)).ok());
  EXPECT_EQ(c.port(), 7003);
  EXPECT_EQ(c.bind(), (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c.requirepass(), "two words");
  EXPECT_TRUE(c.config_file().empty());
}

TEST(ConfigCommandLine, ErrorsAreReported) {
  Config c;
  const char* stray[] = {"keel-server", "-x"};
  Status st = c.LoadFromCommandLine(2, const_cast<char**>(stray));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "Invalid argument '-x'")) << st.message();
  const char* missing[] = {"keel-server", "/nonexistent/keel.conf"};
  st = c.LoadFromCommandLine(2, const_cast<char**>(missing));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "can't open config file")) << st.message();
  const char* bad[] = {"keel-server", "--port", "x"};
  st = c.LoadFromCommandLine(3, const_cast<char**>(bad));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "command line")) << st.message();
}

std::string Set(Config& c, std::vector<std::string_view> args) {
  Status st = c.Set(args);
  return st.ok() ? "" : st.message();
}

TEST(ConfigSet, AllOrNothingAndErrors) {
  Config c;
  EXPECT_EQ(Set(c, {"timeout"}), "ERR syntax error");
  EXPECT_EQ(Set(c, {"nosuch", "1"}),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_EQ(
      Set(c, {"databases", "7"}),
      "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable "
      "config");
  EXPECT_EQ(Set(c, {"timeout", "1", "TIMEOUT", "2"}),
            "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter");
  // One bad value and nothing changes.
  EXPECT_NE(Set(c, {"timeout", "5", "maxclients", "0"}), "");
  EXPECT_EQ(c.timeout(), 0);
  EXPECT_EQ(Set(c, {"timeout", "5", "maxmemory", "1mb"}), "");
  EXPECT_EQ(c.timeout(), 5);
  EXPECT_EQ(c.maxmemory(), 1024u * 1024);
}

TEST(ConfigSet, ApplyHookFailureUndoes) {
  Config c;
  int calls = 0;
  c.SetApplyHook("timeout", [&](const Config& cfg) {
    ++calls;
    return cfg.timeout() == 13 ? Status::Error("ERR no thirteen") : Status::Ok();
  });
  EXPECT_EQ(Set(c, {"timeout", "12"}), "");
  EXPECT_EQ(c.timeout(), 12);
  EXPECT_NE(Set(c, {"timeout", "13"}), "");
  EXPECT_EQ(c.timeout(), 12);
  EXPECT_GE(calls, 2);
}

TEST(ConfigGet, PatternsAliasesAndCase) {
  Config c;
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string_view> p1 = {"PORT"};
  c.Get(p1, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (std::pair<std::string, std::string>{"PORT", "6379"}));
  out.clear();
  std::vector<std::string_view> p2 = {"hash-max-*", "hash-max-listpack-value"};
  c.Get(p2, &out);
  // Both names of each option, and the plain name that the glob already listed only once.
  EXPECT_EQ(out.size(), 4u);
  out.clear();
  std::vector<std::string_view> p3 = {"nosuch*"};
  c.Get(p3, &out);
  EXPECT_TRUE(out.empty());
}

// Every name and alias CONFIG GET * lists is found again by CONFIG SET in any case (the
// lookup is a search over a sorted index of names); names that are not options are not.
TEST(ConfigSet, EveryNameAndAliasIsFoundInAnyCase) {
  Config c;
  std::vector<std::pair<std::string, std::string>> all;
  std::vector<std::string_view> star = {"*"};
  c.Get(star, &all);
  ASSERT_GT(all.size(), 150u);
  for (const auto& [name, value] : all) {
    std::string upper = name;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const std::string& n : {name, upper}) {
      std::vector<std::string_view> args = {n, value};
      Status st = c.Set(args, /*local_client=*/true);
      EXPECT_FALSE(!st.ok() && Contains(st.message(), "Unknown option"))
          << n << ": " << st.message();
    }
  }
  for (std::string_view n : {"", "a", "maxmemor", "maxmemoryx", "zzzz", "~", "MAXMEMORY-"}) {
    std::vector<std::string_view> args = {n, "1"};
    Status st = c.Set(args, /*local_client=*/true);
    ASSERT_FALSE(st.ok()) << n;
    EXPECT_TRUE(Contains(st.message(), "Unknown option")) << n << ": " << st.message();
  }
  EXPECT_EQ(c.IntOption("MaxMemory-Samples"), 5);
  EXPECT_EQ(c.IntOption("nosuch"), 0);
}

}  // namespace
}  // namespace keel
