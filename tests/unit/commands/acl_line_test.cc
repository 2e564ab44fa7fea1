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

// Inside a selector, a key or channel pattern ending with ')' would be listed as a selector
// that closes early: refused (Redis 7.0 accepts it and writes a line it cannot load).
TEST(AclLineTest, SelectorPatternEndingWithAParenthesisIsRefused) {
  EXPECT_EQ(Parse("user u on (~x &c))").error,
            "Error in applying operation '(~x &c))': Syntax error");
  EXPECT_EQ(Parse("user u on (%R~a)) +get").error,
            "Error in applying operation '(%R~a))': Syntax error");
  Parsed p = Parse("user u on ~k) &c) (~a)b +get)");
  ASSERT_EQ(p.error, "");
  EXPECT_TRUE(p.round_trip_ok) << p.description;
}

}  // namespace
}  // namespace keel
