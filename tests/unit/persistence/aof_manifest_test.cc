// The AOF manifest: Redis 7.0's text format read and written back, and the malformed manifests
// that must stop start-up with the file and line named.
#include "keel/persistence/aof_manifest.h"

#include <gtest/gtest.h>

namespace keel::aof {
namespace {

TEST(AofManifest, ReadsRedisFormatAndWritesItBackBaseFirst) {
  // History before the base and comments/blank lines, as a hand-edited manifest may have them.
  const std::string text =
      "# a comment\n"
      "file appendonly.aof.1.base.rdb seq 1 type h\n"
      "\n"
      "file appendonly.aof.2.base.rdb seq 2 type b\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n";
  Manifest m;
  ASSERT_TRUE(ParseManifest(text, "m", &m).ok());
  ASSERT_EQ(m.files.size(), 4u);
  ASSERT_NE(m.base(), nullptr);
  EXPECT_EQ(m.base()->name, "appendonly.aof.2.base.rdb");
  EXPECT_EQ(m.LastSeq('i'), 3);
  EXPECT_EQ(m.LastSeq('b'), 2);
  EXPECT_EQ(m.Format(),
            "file appendonly.aof.2.base.rdb seq 2 type b\n"
            "file appendonly.aof.1.base.rdb seq 1 type h\n"
            "file appendonly.aof.2.incr.aof seq 2 type i\n"
            "file appendonly.aof.3.incr.aof seq 3 type i\n");
}

TEST(AofManifest, KeysMayComeInAnyOrderAndNamesBeQuoted) {
  Manifest m;
  ASSERT_TRUE(ParseManifest("type i seq 7 file \"my file.aof\"\n", "m", &m).ok());
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].name, "my file.aof");
  EXPECT_EQ(m.files[0].seq, 7);
  EXPECT_EQ(m.base(), nullptr);
}

// A name with a space (appendfilename "my file.aof") was written bare, and the manifest could not
// be read back at the next start; tests/fuzz/aof_manifest_fuzz.cc then found a single quote
// inside a name (the reader takes it as the start of a quoted part, as Redis's does).
TEST(AofManifest, NamesThatNeedQuotesAreWrittenQuotedAndReadBack) {
  Manifest m;
  m.files.push_back({"my file.aof.1.base.rdb", 1, 'b'});
  m.files.push_back({std::string("q\"\\\n\x01\xff\0'.aof", 12), 2, 'i'});
  m.files.push_back({"'lead.aof", 3, 'i'});
  m.files.push_back({"mid'quote.aof", 4, 'i'});
  m.files.push_back({"plain.aof.5.incr.aof", 5, 'i'});
  std::string text = m.Format();
  EXPECT_EQ(text.substr(0, text.find('\n')), "file \"my file.aof.1.base.rdb\" seq 1 type b");
  EXPECT_NE(text.find("file \"q\\\"\\\\\\n\\x01\\xff\\x00'.aof\" seq 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("file \"mid'quote.aof\" seq 4"), std::string::npos) << text;
  EXPECT_NE(text.find("file plain.aof.5.incr.aof seq 5"), std::string::npos) << text;
  Manifest back;
  ASSERT_TRUE(ParseManifest(text, "m", &back).ok()) << text;
  ASSERT_EQ(back.files.size(), m.files.size());
  for (size_t i = 0; i < m.files.size(); ++i) {
    EXPECT_EQ(back.files[i].name, m.files[i].name);
    EXPECT_EQ(back.files[i].seq, m.files[i].seq);
    EXPECT_EQ(back.files[i].type, m.files[i].type);
  }
}

TEST(AofManifest, MalformedManifestsNameTheFileAndLine) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"file a seq\n", "key value pairs"},
      {"file a seq 1\n", "type b, h or i"},
      {"file a seq 1 type x\n", "type b, h or i"},
      {"file a seq -1 type i\n", "bad seq"},
      {"file a seq one type i\n", "bad seq"},
      {"file a/b seq 1 type i\n", "paths"},
      {"file a seq 1 type b\nfile b seq 2 type b\n", "duplicate base"},
      {"file a seq 2 type i\nfile b seq 2 type i\n", "non-monotonic"},
      {"# only a comment\n", "no file"},
  };
  for (const Case& c : cases) {
    Manifest m;
    Status st = ParseManifest(c.text, "dir/x.manifest", &m);
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_NE(st.message().find("Invalid AOF manifest file format"), std::string::npos);
    EXPECT_NE(st.message().find(c.why), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("dir/x.manifest"), std::string::npos) << st.message();
  }
}

TEST(AofManifest, FileNamesFollowRedis) {
  EXPECT_EQ(BaseName("appendonly.aof", 3, true), "appendonly.aof.3.base.rdb");
  EXPECT_EQ(BaseName("appendonly.aof", 3, false), "appendonly.aof.3.base.aof");
  EXPECT_EQ(IncrName("x.aof", 12), "x.aof.12.incr.aof");
  EXPECT_EQ(ManifestName("x.aof"), "x.aof.manifest");
}

}  // namespace
}  // namespace keel::aof
