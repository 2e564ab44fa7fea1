// ACL file lines ("user name rule ..."): what parses is described as ACL LIST and ACL SAVE write
// it, and that text loads back as the same user. The cases are the acl fuzz target's findings.

#include <gtest/gtest.h>

#include <string>

#include "keel/commands/acl.h"

namespace keel {
namespace {

struct Parsed {
  std::string error;
  std::string description;
  bool round_trip_ok = false;
};

Parsed Parse(const std::string& line) {
  Parsed p;
  p.error = AclParseFileLine(line, &p.description, &p.round_trip_ok);
  return p;
}

TEST(AclLineTest, OrdinaryRulesDescribeThemselvesAndLoadBack) {
  Parsed p = Parse("user u on nopass ~k* &ch +@read -keys +select|0 (~x* +set) (%R~r* +@hash)");
  ASSERT_EQ(p.error, "");
  // (Single commands and first arguments in Keel's command-table order; Redis's order is its
  // hash table's, docs/commands.md.)
  EXPECT_EQ(p.description,
            "on nopass ~k* resetchannels &ch -@all +@read +select|0 -keys (~x* resetchannels "
            "-@all +set) (%R~r* resetchannels -@all +@hash)");
  EXPECT_TRUE(p.round_trip_ok);
}

// A first argument of a command the user already has whole changes nothing (Redis 7.0 lists the
// user as `+@all`): it must not be kept, or the loaded-back user would differ from the one
// described.
TEST(AclLineTest, FirstArgOfACommandAllowedWholeIsNotKept) {
  for (const std::string line :
       {"user u on +@all +select|0", "user u on +select +select|0 +select|1",
        "user u on +@all (~k +get +get|x)"}) {
    Parsed p = Parse(line);
    ASSERT_EQ(p.error, "") << line;
    EXPECT_TRUE(p.round_trip_ok) << line << " -> " << p.description;
  }
  EXPECT_EQ(Parse("user u on +@all +select|0").description, "on resetchannels +@all");
  // Still kept while the command is not allowed whole, and dropped when it becomes so.
  EXPECT_EQ(Parse("user u on -@all +select|0").description, "on resetchannels -@all +select|0");
  EXPECT_EQ(Parse("user u on -@all +select|0 +select").description,
            "on resetchannels -@all +select");
}

// What the listing could not give back is refused (Redis 7.0 accepts it and writes a line it
// cannot load): inside a selector, a key or channel pattern ending with ')' (the selector would
// close early) or any quote (the listed selector's rules would no longer split); anywhere, a
// first argument with white space (ACL LOAD splits on spaces and trims tabs and line ends).
TEST(AclLineTest, RulesTheListingCouldNotGiveBackAreRefused) {
  for (const std::string line :
       {"user u on (~x &c))", "user u on (%R~a)) +get", "user u on (~'a\"b')",
        "user u on (+select|'a\"b')", "user u on +select|a\tb", "user u on +select|a\vb"}) {
    EXPECT_EQ(Parse(line).error, "line:1: Syntax error. ") << line;
  }
  // Outside a selector, or not at the end, ')' is an ordinary byte, and so is a quote at the
  // root (ACL LOAD does not unquote).
  for (const std::string line : {"user u on ~k) &c) (~a)b +get)", "user u on ~a\"b &c'd +get"}) {
    Parsed p = Parse(line);
    ASSERT_EQ(p.error, "") << line;
    EXPECT_TRUE(p.round_trip_ok) << line << " -> " << p.description;
  }
}

// ACL LOAD's reading of a line, as redis-server 7.0.15 reads it: split on single spaces with no
// quoting, each rule trimmed of tabs and line ends; every unknown command named, and only the
// first other error.
TEST(AclLineTest, FileLinesAreSplitOnSpacesWithoutQuoting) {
  EXPECT_EQ(Parse("user a on nopass \"+get\" ~*").error, "line:1: Syntax error. ");
  EXPECT_EQ(Parse("user a on +get ~x\"y").description, "on ~x\"y resetchannels -@all +get");
  EXPECT_EQ(Parse("user a on +select|a\\x41b").description,
            "on resetchannels -@all +select|a\\x41b");
  EXPECT_EQ(Parse("user a on  +get\t  +set").description, "on resetchannels -@all +get +set");
  EXPECT_EQ(Parse("user a on +nosuch +nosuch2 bogus +nosuch3 bogus2").error,
            "line:1: Error in applying operation '+nosuch': Unknown command or category name in "
            "ACL. line:1: Error in applying operation '+nosuch2': Unknown command or category name "
            "in ACL. line:1: Syntax error. line:1: Error in applying operation '+nosuch3': Unknown "
            "command or category name in ACL. ");
  EXPECT_EQ(Parse("user a on (~x +get").error,
            "line:1: Unmatched parenthesis in selector definition.");
  EXPECT_EQ(Parse("user a\x01b\tc on").error,
            "'line:1: username 'a\x01b\tc' contains invalid characters. ");
  EXPECT_EQ(Parse("usr a on").error,
            "line:1 should start with user keyword followed by the "
            "username. ");
  // Inside a selector the rules are split as ACL SETUSER splits them (quotes work there).
  EXPECT_EQ(Parse("user a on (~x '+get')").description,
            "on resetchannels -@all (~x resetchannels -@all +get)");
}

}  // namespace
}  // namespace keel
