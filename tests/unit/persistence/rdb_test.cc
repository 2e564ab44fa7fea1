#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "keel/persistence/crc64.h"
#include "keel/persistence/encodings.h"
#include "keel/persistence/rdb_format.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"
#include "keel/persistence/snapshot.h"
#include "test_values.h"

namespace keel::rdb {
namespace {

using keel::testing::Describe;
using keel::testing::Hex;
using keel::testing::MakeHash;
using keel::testing::MakeList;
using keel::testing::MakeSet;
using keel::testing::Owned;

// A file Redis 7.0.15 wrote with SAVE: s=hello, n=12345, big="a"*100 (LZF), l=[a b 1 2]
// (quicklist v2), si={1 2 3} (intset), ss={a b} (set), h={f:v} (listpack), e=x with an expire.
const char kRedisFile[] =
    "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374"
    "696d65c24db00f6bfa08757365642d6d656dc258790f00fa08616f662d62617365c000fe00fb0801fce18e3e3b"
    "a201000000016501781001680d0d0000000200816602817602ff0202737302016101620003626967c309406401"
    "6161e057000161610001730568656c6c6f00016ec1393012016c01021111000000040081610281620201010201"
    "ff0b0273690e0200000003000000010002000300ffd1281d0cea60f742";

struct Loaded {
  Status status;
  LoadStats stats;
  std::map<std::string, std::string> keys;  // "db/key" -> Describe
};

Loaded Load(std::string_view bytes, int64_t now_ms = 0, bool verify = true) {
  Loaded out;
  MemorySource src(bytes);
  LoadOptions opt;
  opt.now_ms = now_ms;
  opt.verify_checksum = verify;
  out.status = LoadRdb(
      src, opt,
      [&](int db, Entry* e, const SavedAccess&) {
        out.keys[std::to_string(db) + "/" + std::string(e->key())] = Describe(e);
        FreeEntry(e);
        return Status::Ok();
      },
      &out.stats);
  return out;
}

TEST(LoadRdb, ReadsAFileRedisWrote) {
  Loaded l = Load(Hex(kRedisFile));
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(l.stats.version, 10);
  EXPECT_EQ(l.stats.keys_loaded, 8u);
  EXPECT_EQ(l.keys["0/s"], "string:hello");
  EXPECT_EQ(l.keys["0/n"], "string:12345");
  EXPECT_EQ(l.keys["0/big"], "string:" + std::string(100, 'a'));
  EXPECT_EQ(l.keys["0/l"], "list:a,b,1,2,");
  EXPECT_EQ(l.keys["0/si"], "set:1,2,3,");
  EXPECT_EQ(l.keys["0/ss"], "set:a,b,");
  EXPECT_EQ(l.keys["0/h"], "hash:f=v,");
  EXPECT_EQ(l.keys["0/e"], "string:x px=1796290285281");
}

TEST(LoadRdb, DropsKeysWhoseExpireHasPassed) {
  Loaded l = Load(Hex(kRedisFile), /*now_ms=*/1796290285282);
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(l.stats.keys_loaded, 7u);
  EXPECT_EQ(l.stats.keys_expired, 1u);
  EXPECT_EQ(l.keys.count("0/e"), 0u);
}

TEST(LoadRdb, EveryTruncationIsAnErrorWithAnOffset) {
  std::string f = Hex(kRedisFile);
  for (size_t n = 0; n < f.size(); ++n) {
    Loaded l = Load(f.substr(0, n));
    ASSERT_FALSE(l.status.ok()) << n;
    EXPECT_NE(l.status.message().find("offset"), std::string::npos) << l.status.message();
  }
}

TEST(LoadRdb, AFlippedByteIsCaughtByTheChecksumOrTheParser) {
  std::string f = Hex(kRedisFile);
  for (size_t i = 9; i < f.size() - 8; ++i) {
    std::string bad = f;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(Load(bad).status.ok()) << i;
  }
  std::string bad = f;
  bad[f.size() - 1] ^= 1;
  Loaded l = Load(bad);
  EXPECT_NE(l.status.message().find("Wrong RDB checksum"), std::string::npos);
  EXPECT_TRUE(Load(bad, 0, /*verify=*/false).status.ok());
}

TEST(LoadRdb, AZeroChecksumIsNotChecked) {
  std::string f = Hex(kRedisFile);
  f.replace(f.size() - 8, 8, std::string(8, '\0'));
  EXPECT_TRUE(Load(f).status.ok());
}

TEST(LoadRdb, RefusesVersionsPastElevenAndBadMagic) {
  std::string f = Hex(kRedisFile);
  f[7] = '1';
  f[8] = '2';
  EXPECT_NE(Load(f).status.message().find("Can't handle RDB format version 12"), std::string::npos);
  EXPECT_FALSE(Load("REDIX0010").status.ok());
}

// A file body with one key of a given type byte, a version-9 header and no checksum check.
std::string V9File(std::string_view body) {
  std::string f = "REDIS0009";
  f += body;
  f.push_back(static_cast<char>(kOpEof));
  f += std::string(8, '\0');
  return f;
}

TEST(LoadRdb, Zset2LoadsWithBinaryScoresAndRefusesDuplicatesAndNaN) {
  auto zset2 = [](std::string_view member2, double score2) {
    std::string body;
    body.push_back(static_cast<char>(kTypeZset2));
    AppendString(&body, "myzset", false);
    double one = 1;
    std::string bits(8, '\0');
    body += Hex("02") + "\x01m";
    std::memcpy(bits.data(), &one, 8);
    body += bits;
    body += std::string(1, static_cast<char>(member2.size())) + std::string(member2);
    std::memcpy(bits.data(), &score2, 8);
    body += bits;
    return body;
  };
  Loaded ok = Load(V9File(zset2("n", -2.5)));
  ASSERT_TRUE(ok.status.ok()) << ok.status.message();
  EXPECT_EQ(ok.keys["0/myzset"], "zset:n=-2.5,m=1,");
  Loaded dup = Load(V9File(zset2("m", 2)));
  ASSERT_FALSE(dup.status.ok());
  EXPECT_NE(dup.status.message().find("duplicate zset elements"), std::string::npos);
  Loaded nan = Load(V9File(zset2("n", std::nan(""))));
  ASSERT_FALSE(nan.status.ok());
  EXPECT_NE(nan.status.message().find("NAN score"), std::string::npos);
}

TEST(LoadRdb, AnUnknownOpcodeIsAnError) {
  std::string body = "\x08";
  AppendString(&body, "k", false);
  Loaded l = Load(V9File(body));
  EXPECT_NE(l.status.message().find("unknown value type or opcode 8"), std::string::npos)
      << l.status.message();
}

TEST(LoadRdb, AbsurdLengthsAreErrorsNotAllocations) {
  std::string body;
  body.push_back(static_cast<char>(kTypeString));
  AppendString(&body, "k", false);
  AppendLength(&body, 1ULL << 60);
  EXPECT_NE(Load(V9File(body)).status.message().find("past the end"), std::string::npos);
  std::string list;
  list.push_back(static_cast<char>(kTypeList));
  AppendString(&list, "k", false);
  AppendLength(&list, 1ULL << 40);
  EXPECT_FALSE(Load(V9File(list)).status.ok());
  std::string lzf;
  lzf.push_back(static_cast<char>(kTypeString));
  AppendString(&lzf, "k", false);
  lzf += Hex("c3") + Hex("02") + Hex("813fffffffffffffff") + "ab";
  EXPECT_NE(Load(V9File(lzf)).status.message().find("absurd"), std::string::npos);
}

TEST(LoadRdb, OldEncodingsAndOpcodes) {
  std::string body;
  // EXPIRETIME (seconds) then a linked list (type 1).
  body += "\xfd" + Hex("00e1f505");  // 100000000 s
  body.push_back(static_cast<char>(kTypeList));
  AppendString(&body, "ll", false);
  AppendLength(&body, 3);
  for (const char* v : {"x", "12", "yy"}) AppendString(&body, v, false);
  // IDLE and FREQ before a type 2 set and a type 4 hash.
  body += "\xf8" + Hex("05");
  body.push_back(static_cast<char>(kTypeSet));
  AppendString(&body, "st", false);
  AppendLength(&body, 2);
  AppendString(&body, "m1", false);
  AppendString(&body, "7", false);
  body += "\xf9" + Hex("09");
  body.push_back(static_cast<char>(kTypeHash));
  AppendString(&body, "hh", false);
  AppendLength(&body, 1);
  AppendString(&body, "f", false);
  AppendString(&body, "v", false);
  // A zipmap hash (type 9), in db 3.
  body += "\xfe" + Hex("03");
  body.push_back(static_cast<char>(kTypeHashZipmap));
  AppendString(&body, "zm", false);
  AppendString(&body, Hex("010161010062") + "\xff", false);
  Loaded l = Load(V9File(body));
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(l.keys["0/ll"], "list:x,12,yy, px=100000000000");
  EXPECT_EQ(l.keys["0/st"], "set:7,m1,");
  EXPECT_EQ(l.keys["0/hh"], "hash:f=v,");
  EXPECT_EQ(l.keys["3/zm"], "hash:a=b,");
}

TEST(LoadRdb, ListpackSetsOfRedis72LoadOnlyFromVersion11Files) {
  ListpackWriter lp;
  for (const char* m : {"a", "7", "bb"}) lp.Add(m);
  std::string body;
  body.push_back(static_cast<char>(kTypeSetListpack));
  AppendString(&body, "lpset", false);
  AppendString(&body, lp.Finish(), false);
  std::string v11 = V9File(body);
  v11[8] = '1';
  v11[7] = '1';
  Loaded l = Load(v11);
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(l.stats.version, 11);
  EXPECT_EQ(l.keys["0/lpset"], "set:7,a,bb,");
  Loaded old = Load(V9File(body));
  EXPECT_NE(old.status.message().find("type 20"), std::string::npos) << old.status.message();
}

TEST(LoadRdb, PreGaFunctionAndModuleAuxAreClearErrors) {
  EXPECT_NE(Load(V9File("\xf6")).status.message().find("Pre-GA function format not supported"),
            std::string::npos);
  EXPECT_NE(Load(V9File("\xf7")).status.message().find("module"), std::string::npos);
}

// FUNCTION2 records (a library's code) come back in LoadStats, in file order; a truncated one
// is an error.
TEST(LoadRdb, Function2RecordsAreCollected) {
  std::string body;
  for (const char* code : {"#!lua name=a\ncode a", "#!lua name=b\ncode b"}) {
    body.push_back(static_cast<char>(kOpFunction2));
    AppendString(&body, code, false);
  }
  Loaded l = Load(V9File(body), 0, /*verify=*/false);
  ASSERT_TRUE(l.status.ok()) << l.status.message();
  EXPECT_EQ(l.stats.function_codes,
            (std::vector<std::string>{"#!lua name=a\ncode a", "#!lua name=b\ncode b"}));
  EXPECT_FALSE(Load(V9File("\xf5\x40"), 0, false).status.ok());
}

// FUNCTION DUMP's payload as Redis 7.0.15 writes it for one library, and back.
TEST(FunctionsPayload, ByteIdenticalToRedis70sAndReadBack) {
  std::string code = "#!lua name=d1\nredis.register_function('d1f', function() return 'd1' end)";
  std::string payload = FunctionsPayload({code}, true);
  const char kTrailer[] = "\n\x00\x10S\xbe\xadz\xe4\xcf\xbd";  // version 10, CRC-64
  EXPECT_EQ(payload, "\xf5@H" + code + std::string(kTrailer, sizeof(kTrailer) - 1));
  std::vector<std::string> codes;
  ASSERT_TRUE(ReadFunctionsPayload(payload, &codes).ok());
  EXPECT_EQ(codes, std::vector<std::string>{code});
  payload.back() ^= 1;
  EXPECT_EQ(ReadFunctionsPayload(payload, &codes).message(), std::string(kBadPayloadTrailer));
  EXPECT_EQ(ReadFunctionsPayload(DumpPayload(*Owned(NewStringEntry("s", "x", -1)).e, true), &codes)
                .message(),
            "given type is not a function");
}

// ---- DUMP / RESTORE ----

TEST(Dump, PayloadsAreByteIdenticalToRedis70s) {
  Owned s(NewStringEntry("s", "hello", -1));
  EXPECT_EQ(DumpPayload(*s.e, true), Hex("000568656c6c6f0a006372df766534200a"));
  Owned n(NewStringEntry("n", "12345", -1));
  EXPECT_EQ(DumpPayload(*n.e, true), Hex("00c139300a009d94ea2793fc08b9"));
  Owned l(MakeList("l", {"a", "b", "1", "2"}));
  EXPECT_EQ(DumpPayload(*l.e, true),
            Hex("1201021111000000040081610281620201010201ff0a006d72713e9b43482b"));
  Owned si(MakeSet("si", {"1", "2", "3"}));
  EXPECT_EQ(DumpPayload(*si.e, true), Hex("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"));
  Owned h(MakeHash("h", {{"f", "v"}}));
  EXPECT_EQ(DumpPayload(*h.e, true), Hex("100d0d0000000200816602817602ff0a0020f13d442354089d"));
}

TEST(Restore, ReadsRedisPayloadsAndRefusesBadTrailers) {
  Entry* e = nullptr;
  std::string big = Hex("00c3094064016161e057000161610a00e8a3b507b06df271");
  ASSERT_TRUE(RestorePayload(big, "k", {}, &e).ok());
  Owned o(e);
  EXPECT_EQ(Describe(e), "string:" + std::string(100, 'a'));
  std::string bad = big;
  bad.back() ^= 1;
  EXPECT_EQ(RestorePayload(bad, "k", {}, &e).message(), kBadPayloadTrailer);
  std::string newer = big;
  newer[newer.size() - 10] = 11;
  EXPECT_EQ(RestorePayload(newer, "k", {}, &e).message(), kBadPayloadTrailer);
  EXPECT_EQ(RestorePayload("short", "k", {}, &e).message(), kBadPayloadTrailer);
  // A valid trailer over a truncated value.
  std::string cut = Hex("0005686568");
  cut += Hex("0a00");
  uint64_t crc = Crc64(0, cut.data(), cut.size());
  AppendLE64(&cut, crc);
  EXPECT_EQ(RestorePayload(cut, "k", {}, &e).message(), kBadDataFormat);
}

// ---- round trips ----

std::vector<Entry*> Shapes() {
  std::vector<Entry*> v;
  v.push_back(NewStringEntry("str", "plain", -1));
  v.push_back(NewStringEntry("int", "-9223372036854775808", -1));
  v.push_back(NewStringEntry("long", std::string(70000, 'z') + "tail", 1900000000000));
  v.push_back(NewRawStringEntry("raw", "42", -1));
  std::vector<std::string> many;
  for (int i = 0; i < 5000; ++i) many.push_back("element-" + std::to_string(i % 77) + "-x");
  many.push_back(std::string(20000, 'B'));
  many.push_back("123456789012");
  v.push_back(MakeList("biglist", many));
  v.push_back(MakeList("small", {"1", "-1", ""}));
  std::vector<std::string> ints, strs;
  for (int i = 0; i < 600; ++i) ints.push_back(std::to_string(i * 1000003LL - 7));
  for (int i = 0; i < 300; ++i) strs.push_back("m" + std::to_string(i));
  v.push_back(MakeSet("bigints", ints));
  v.push_back(MakeSet("smallints", {"5", "-70000", "1099511627776"}));
  v.push_back(MakeSet("strs", strs));
  v.push_back(MakeSet("mixed", {"1", "a"}));
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 200; ++i) pairs.emplace_back("f" + std::to_string(i), std::to_string(i));
  v.push_back(MakeHash("bighash", pairs));
  v.push_back(MakeHash("smallhash", {{"a", "1"}, {"b", std::string(30, 'c')}}));
  v.push_back(MakeHash("longvalue", {{"a", std::string(100, 'v')}}));
  return v;
}

TEST(RoundTrip, WriterOutputLoadsBackIdenticalWithAndWithoutCompression) {
  for (bool compress : {true, false}) {
    for (bool checksum : {true, false}) {
      std::vector<Entry*> shapes = Shapes();
      StringSink sink;
      RdbWriter w(&sink, compress, checksum);
      ASSERT_TRUE(w.Begin(AuxInfo{.ctime = 1700000000, .used_mem = 1ULL << 33}).ok());
      ASSERT_TRUE(w.SelectDb(0, shapes.size(), 1).ok());
      std::map<std::string, std::string> want;
      for (Entry* e : shapes) {
        ASSERT_TRUE(w.WriteEntry(e->key(), *e, e->expire_ms()).ok());
        want["0/" + std::string(e->key())] = Describe(e);
      }
      ASSERT_TRUE(w.SelectDb(5, 1, 0).ok());
      ASSERT_TRUE(w.WriteEntry("other", *shapes[0], -1).ok());
      want["5/other"] = "string:plain";
      ASSERT_TRUE(w.Finish().ok());
      EXPECT_EQ(w.bytes_written(), sink.data.size());
      Loaded l = Load(sink.data);
      ASSERT_TRUE(l.status.ok()) << l.status.message();
      EXPECT_EQ(l.keys, want);
      uint64_t trailer = 0;
      for (int i = 7; i >= 0; --i) {
        trailer = (trailer << 8) | static_cast<unsigned char>(sink.data[sink.data.size() - 8 + i]);
      }
      EXPECT_EQ(trailer, checksum ? Crc64(0, sink.data.data(), sink.data.size() - 8) : 0u);
      for (Entry* e : shapes) {
        std::string payload = DumpPayload(*e, compress);
        Entry* back = nullptr;
        ASSERT_TRUE(RestorePayload(payload, e->key(), {}, &back).ok()) << e->key();
        Owned o(back);
        std::string d = Describe(e);
        EXPECT_EQ(Describe(back), d.substr(0, d.find(" px=")));
        FreeEntry(e);
      }
    }
  }
}

TEST(RoundTrip, EncodingsChosenOnLoadFollowTheLimits) {
  Owned big(MakeSet("s", {"1", "2", "3", "4"}));
  std::string payload = DumpPayload(*big.e, true);
  Entry* e = nullptr;
  ValueLimits tight;
  tight.set_max_intset_entries = 2;
  ASSERT_TRUE(RestorePayload(payload, "s", tight, &e).ok());
  Owned o(e);
  EXPECT_EQ(e->enc, Encoding::kHashtable);
  EXPECT_EQ(Describe(e), "set:1,2,3,4,");
}

// ---- seeded mutation fuzzing ----

TEST(Fuzz, MutatedFilesAndPayloadsNeverCrash) {
  std::vector<std::string> seeds = {Hex(kRedisFile)};
  {
    std::vector<Entry*> shapes = Shapes();
    StringSink sink;
    RdbWriter w(&sink, true, false);  // no checksum: mutations reach the parsers
    ASSERT_TRUE(w.Begin({}).ok());
    ASSERT_TRUE(w.SelectDb(0, 0, 0).ok());
    for (Entry* e : shapes) {
      if (e->key() == "long" || e->key() == "biglist") continue;  // keep inputs small
      ASSERT_TRUE(w.WriteEntry(e->key(), *e, -1).ok());
    }
    ASSERT_TRUE(w.Finish().ok());
    seeds.push_back(sink.data);
    for (Entry* e : shapes) FreeEntry(e);
  }
  // CI runs the fixed seed and count; KEEL_RDB_FUZZ_INPUTS and KEEL_RDB_FUZZ_SEED run longer or
  // other sequences by hand.
  const char* env_inputs = std::getenv("KEEL_RDB_FUZZ_INPUTS");
  const char* env_seed = std::getenv("KEEL_RDB_FUZZ_SEED");
  std::mt19937_64 rng(env_seed ? std::strtoull(env_seed, nullptr, 10) : 20261202);
  size_t runs = 0, accepted = 0;
  const size_t kInputs = env_inputs ? std::strtoull(env_inputs, nullptr, 10) : 20000;
  for (size_t i = 0; i < kInputs; ++i) {
    std::string in = seeds[i % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !in.empty(); ++k) {
      size_t at = rng() % in.size();
      switch (rng() % 4) {
        case 0:
          in[at] = static_cast<char>(rng());
          break;
        case 1:
          in[at] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 2:
          in.erase(at, 1 + rng() % 8);
          break;
        default:
          in.insert(at, 1 + rng() % 4, static_cast<char>(rng()));
      }
    }
    if (Load(in, 0, /*verify=*/false).status.ok()) ++accepted;
    // The same bytes as a RESTORE payload value (with a correct trailer).
    std::string payload = in.substr(in.size() > 9 ? 9 : 0);
    payload += Hex("0a00");
    AppendLE64(&payload, Crc64(0, payload.data(), payload.size()));
    Entry* e = nullptr;
    if (RestorePayload(payload, "k", {}, &e).ok()) FreeEntry(e);
    ++runs;
  }
  EXPECT_EQ(runs, kInputs);
  RecordProperty("inputs", static_cast<int>(runs));
  std::printf("fuzz: %zu mutated inputs (x2: file and payload), %zu files still loaded\n", runs,
              accepted);
}

}  // namespace
}  // namespace keel::rdb

namespace keel {
namespace {

using keel::testing::Hex;

std::string TempFile(std::string_view bytes) {
  char path[] = "/tmp/keel-rdb-unit-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(fd);
  return path;
}

TEST(LoadRdbFile, ReadsThroughTheFileSourceAndChecksItsChecksum) {
  std::string good = Hex(rdb::kRedisFile);
  std::string path = TempFile(good);
  Keyspace ks(16);
  rdb::LoadStats stats;
  bool found = false;
  {
    auto locks = LockAllShards(ks);
    ASSERT_TRUE(LoadRdbFile(ks, path, {}, false, &stats, &found).ok());
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(ks.db(0).size(), 8u);
  std::string bad = good;
  bad[bad.size() - 3] ^= 4;
  std::string bad_path = TempFile(bad);
  Keyspace ks2(16);
  {
    auto locks = LockAllShards(ks2);
    Status st = LoadRdbFile(ks2, bad_path, {}, false, &stats, &found);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(bad_path), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("Wrong RDB checksum"), std::string::npos) << st.message();
    EXPECT_TRUE(LoadRdbFile(ks2, "/nonexistent/dump.rdb", {}, false, &stats, &found).ok());
    EXPECT_FALSE(found);
  }
  unlink(path.c_str());
  unlink(bad_path.c_str());
}

TEST(LoadRdbFile, ADuplicatedKeyIsAnErrorUnlessMerging) {
  std::string path = TempFile(Hex(rdb::kRedisFile));
  Keyspace ks(16);
  rdb::LoadStats stats;
  bool found;
  auto locks = LockAllShards(ks);
  ASSERT_TRUE(LoadRdbFile(ks, path, {}, false, &stats, &found).ok());
  Status st = LoadRdbFile(ks, path, {}, false, &stats, &found);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("duplicated key"), std::string::npos) << st.message();
  EXPECT_TRUE(LoadRdbFile(ks, path, {}, /*replace=*/true, &stats, &found).ok());
  EXPECT_EQ(ks.db(0).size(), 8u);
  unlink(path.c_str());
}

// The start-up load puts keys in from a second thread; it must find the same keys and the same
// duplicate as the inline one, and free what it did not insert.
TEST(LoadRdbFile, TheBackgroundInserterLoadsTheSameKeysAndFindsTheDuplicate) {
  std::string path = TempFile(Hex(rdb::kRedisFile));
  Keyspace ks(16);
  rdb::LoadStats stats;
  bool found = false;
  ASSERT_TRUE(LoadRdbFile(ks, path, {}, false, &stats, &found, /*background_insert=*/true).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(ks.db(0).size(), 8u);
  Status st = LoadRdbFile(ks, path, {}, false, &stats, &found, /*background_insert=*/true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("duplicated key"), std::string::npos) << st.message();
  EXPECT_TRUE(
      LoadRdbFile(ks, path, {}, /*replace=*/true, &stats, &found, /*background_insert=*/true).ok());
  EXPECT_EQ(ks.db(0).size(), 8u);
  unlink(path.c_str());
}

}  // namespace
}  // namespace keel
