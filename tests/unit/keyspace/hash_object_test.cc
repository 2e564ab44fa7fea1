#include "keel/keyspace/hash_object.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace keel {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// A detached hash entry with its handle; frees the entry at the end of the test.
struct TestHash {
  TestHash() : ref(HashRef::NewEntry("h")) {}
  ~TestHash() { FreeEntry(ref.entry()); }
  HashRef ref;
};

Pairs All(const HashRef& v) {
  Pairs out;
  v.ForEach([&](std::string_view f, std::string_view val) {
    out.emplace_back(std::string(f), std::string(val));
  });
  return out;
}

TEST(PackedHash, InsertionOrderAndUpdates) {
  TestHash t;
  HashRef& v = t.ref;
  EXPECT_TRUE(v.Set("a", "1", 128, 64));
  EXPECT_TRUE(v.Set("b", "2", 128, 64));
  EXPECT_TRUE(v.Set("c", "3", 128, 64));
  EXPECT_FALSE(v.Set("b", "a longer value", 128, 64));
  EXPECT_EQ(All(v), (Pairs{{"a", "1"}, {"b", "a longer value"}, {"c", "3"}}));
  EXPECT_FALSE(v.Set("b", "", 128, 64));
  EXPECT_EQ(All(v), (Pairs{{"a", "1"}, {"b", ""}, {"c", "3"}}));
  EXPECT_TRUE(v.Remove("a"));
  EXPECT_FALSE(v.Remove("a"));
  EXPECT_EQ(All(v), (Pairs{{"b", ""}, {"c", "3"}}));
  EXPECT_EQ(v.encoding(), Encoding::kListpack);
  EXPECT_TRUE(v.packed());
  EXPECT_EQ(v.Size(), 2u);
}

TEST(PackedHash, EmptyAndBinaryStrings) {
  TestHash t;
  HashRef& v = t.ref;
  std::string bin("a\0b\xff\r\n", 6);
  EXPECT_TRUE(v.Set("", "", 128, 64));
  EXPECT_TRUE(v.Set(bin, bin, 128, 64));
  EXPECT_TRUE(v.Set("x", std::string(1, '\0'), 128, 64));
  ASSERT_TRUE(v.Get(""));
  EXPECT_EQ(*v.Get(""), "");
  EXPECT_EQ(*v.Get(bin), bin);
  EXPECT_EQ(*v.Get("x"), std::string(1, '\0'));
  EXPECT_FALSE(v.Get("a"));
  EXPECT_FALSE(v.Get(std::string("a\0", 2)));
  // A value equal to a field name is not found as a field.
  EXPECT_FALSE(v.Get(std::string(1, '\0')));
  EXPECT_TRUE(v.Remove(""));
  EXPECT_FALSE(v.Get(""));
  EXPECT_EQ(v.Size(), 2u);
}

TEST(PackedHash, SixtyFourByteBoundary) {
  std::string v64(64, 'v'), v65(65, 'v');
  TestHash t;
  t.ref.Set(v64, v64, 128, 64);
  EXPECT_EQ(t.ref.encoding(), Encoding::kListpack);
  EXPECT_EQ(*t.ref.Get(v64), v64);
  t.ref.Set("f", v65, 128, 64);
  EXPECT_EQ(t.ref.encoding(), Encoding::kHashtable);
  EXPECT_FALSE(t.ref.packed());
  EXPECT_EQ(*t.ref.Get(v64), v64);
  EXPECT_EQ(*t.ref.Get("f"), v65);

  TestHash w;
  w.ref.Set(v65, "x", 128, 64);  // a long field converts too
  EXPECT_EQ(w.ref.encoding(), Encoding::kHashtable);

  // Lengths >= 128 need a two-byte length prefix; the packed bytes stay consistent.
  TestHash big;
  std::string v200(200, 'z');
  big.ref.Set("a", v200, 128, 1000);
  big.ref.Set("b", "1", 128, 1000);
  big.ref.Set("a", "short", 128, 1000);
  big.ref.Set("a", v200, 128, 1000);
  EXPECT_EQ(big.ref.encoding(), Encoding::kListpack);
  EXPECT_EQ(All(big.ref), (Pairs{{"a", v200}, {"b", "1"}}));
}

TEST(PackedHash, TryConversionAndEntryThreshold) {
  TestHash t;
  HashRef& v = t.ref;
  v.TryConversion({"short", "also short"}, 64);
  EXPECT_EQ(v.encoding(), Encoding::kListpack);
  for (int i = 0; i < 3; ++i) v.Set("f" + std::to_string(i), "v", 3, 64);
  EXPECT_EQ(v.encoding(), Encoding::kListpack);
  v.Set("f0", "updated", 3, 64);
  EXPECT_EQ(v.encoding(), Encoding::kListpack);
  v.Set("f3", "v", 3, 64);
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);
  EXPECT_EQ(*v.Get("f0"), "updated");
  for (int i = 0; i < 4; ++i) v.Remove("f" + std::to_string(i));
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);  // never back
  EXPECT_EQ(v.Size(), 0u);
  v.TryConversion({std::string(65, 'x')}, 64);
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);

  TestHash w;
  w.ref.TryConversion({"a", std::string(65, 'x')}, 64);
  EXPECT_EQ(w.ref.encoding(), Encoding::kHashtable);

  // hash-max-listpack-entries 0: the first field converts.
  TestHash z;
  z.ref.Set("f", "v", 0, 64);
  EXPECT_EQ(z.ref.encoding(), Encoding::kHashtable);
  EXPECT_EQ(*z.ref.Get("f"), "v");
}

TEST(PackedHash, ConvertsPastThePackedByteLimit) {
  TestHash t;
  HashRef& v = t.ref;
  std::string big(1024 * 1024, 'b');
  size_t limit = big.size() * 100;
  for (int i = 0; i < 7; ++i) v.Set("f" + std::to_string(i), big, 128, limit);
  EXPECT_TRUE(v.packed());
  v.Set("f7", big, 128, limit);  // 8 MiB of values and their headers: past the limit
  EXPECT_FALSE(v.packed());
  EXPECT_EQ(v.Size(), 8u);
  EXPECT_EQ(*v.Get("f7"), big);

  // Growing an existing value past the limit converts too.
  TestHash u;
  for (int i = 0; i < 7; ++i) u.ref.Set("f" + std::to_string(i), big, 128, 2 * limit);
  u.ref.Set("f0", big + big, 128, 2 * limit);
  EXPECT_FALSE(u.ref.packed());
  EXPECT_EQ(*u.ref.Get("f0"), big + big);
  EXPECT_EQ(u.ref.Size(), 7u);
}

TEST(PackedHash, TenSmallPairsAreOneSmallBlock) {
  TestHash t;
  for (int i = 0; i < 10; ++i) t.ref.Set("f" + std::to_string(i), "v" + std::to_string(i), 128, 64);
  // The entry header, the key "h", then 20 strings of (1 length byte + 2 bytes).
  EXPECT_EQ(t.ref.entry()->val_len, 60u);
  EXPECT_EQ(EntryMemory(t.ref.entry()), sizeof(Entry) + 1 + 60);
}

TEST(PackedHash, MatchesStdMapUnderRandomOps) {
  std::mt19937_64 rng(1);
  TestHash t;
  HashRef& v = t.ref;
  std::map<std::string, std::string> ref;
  for (int i = 0; i < 20000; ++i) {
    std::string f = "f" + std::to_string(rng() % 60);
    if (rng() % 3 == 0) {
      EXPECT_EQ(v.Remove(f), ref.erase(f) == 1);
    } else {
      std::string val(rng() % 150, static_cast<char>('a' + rng() % 26));
      EXPECT_EQ(v.Set(f, val, 1000, 1000), ref.count(f) == 0);
      ref[f] = val;
    }
    ASSERT_EQ(v.encoding(), Encoding::kListpack);
  }
  EXPECT_EQ(v.Size(), ref.size());
  for (const auto& [f, val] : ref) EXPECT_EQ(*v.Get(f), val);
  Entry* c = CloneEntry(v.entry(), "h2", -1, false);
  EXPECT_EQ(All(HashRef::Read(c)), All(v));
  FreeEntry(c);
}

TEST(HashRef, RandomPairAndTheEntryKeepsItsTtl) {
  std::mt19937_64 rng(3);
  Entry* e = NewPackedEntry("h", ObjType::kHash, Encoding::kListpack, {}, 1000);
  HashRef v(e);
  for (int i = 0; i < 5; ++i) v.Set("f" + std::to_string(i), std::to_string(i), 128, 64);
  std::map<std::string, int> seen;
  for (int i = 0; i < 2000; ++i) seen[v.RandomPair(rng).first]++;
  EXPECT_EQ(seen.size(), 5u);
  for (int i = 5; i < 200; ++i) v.Set("f" + std::to_string(i), std::to_string(i), 128, 64);
  EXPECT_EQ(v.entry()->enc, Encoding::kHashtable);
  EXPECT_EQ(v.entry()->expire_ms(), 1000);
  EXPECT_EQ(v.entry()->key(), "h");
  seen.clear();
  for (int i = 0; i < 20000; ++i) {
    auto [f, val] = v.RandomPair(rng);
    EXPECT_EQ("f" + val, f);
    seen[f]++;
  }
  EXPECT_EQ(seen.size(), 200u);
  FreeEntry(v.entry());
}

// Random sets (values of changing lengths: in place and reallocated) and removes across
// grow/shrink cycles, checked against std::map; then a scan while the table resizes.
TEST(HashtableHash, MatchesStdMapAcrossCyclesAndScansAcrossResizes) {
  std::mt19937_64 rng(7);
  HashtableHash h;
  std::map<std::string, std::string> ref;
  for (int cycle = 0; cycle < 3; ++cycle) {
    size_t target = 5000 + 5000 * cycle;
    while (ref.size() < target) {
      std::string f = "f" + std::to_string(rng() % (target * 2));
      if (rng() % 5 == 0) {
        ASSERT_EQ(h.Remove(f), ref.erase(f) == 1);
      } else {
        std::string val(rng() % 3 == 0 ? rng() % 200 : rng() % 8,
                        static_cast<char>('a' + rng() % 26));
        ASSERT_EQ(h.Set(f, val), ref.count(f) == 0);
        ref[f] = val;
      }
    }
    while (ref.size() > 3) {
      std::string f = ref.begin()->first;
      ASSERT_TRUE(h.Remove(f));
      ref.erase(ref.begin());
    }
    EXPECT_LE(h.table.bucket_count(), 128u);
    ASSERT_EQ(h.ElementCount(), ref.size());
    for (const auto& [f, val] : ref) EXPECT_EQ(*h.Get(f), val);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string f = "g" + std::to_string(i);
    h.Set(f, f + "v");
    ref[f] = f + "v";
  }
  std::map<std::string, std::string> got;
  h.table.ForEach([&](const HashNode* n) { got[std::string(n->key())] = n->value(); });
  EXPECT_EQ(got, ref);
  std::unique_ptr<Object> c(h.Clone());
  auto* hc = static_cast<HashtableHash*>(c.get());
  for (const auto& [f, val] : ref) EXPECT_EQ(*hc->Get(f), val);
  EXPECT_GT(h.MemoryUsage(), h.ElementCount() * sizeof(HashNode));
  // Scan while growing past 30000 fields and shrinking back.
  std::map<std::string, std::string> returned;
  std::vector<std::string> churn;
  bool growing = true;
  size_t peak = 0;
  uint64_t cursor = 0;
  do {
    cursor = h.Scan(cursor,
                    [&](std::string_view f, std::string_view v) { returned[std::string(f)] = v; });
    for (int k = 0; k < 50; ++k) {
      if (growing) {
        churn.push_back("c" + std::to_string(rng()));
        h.Set(churn.back(), "x");
        if (churn.size() >= 30000) growing = false;
      } else if (!churn.empty()) {
        ASSERT_TRUE(h.Remove(churn.back()));
        churn.pop_back();
      }
    }
    peak = std::max(peak, h.ElementCount());
  } while (cursor != 0);
  EXPECT_GE(peak, 30000u);
  for (const auto& [f, val] : ref) EXPECT_EQ(returned[f], val) << f;
}

}  // namespace
}  // namespace keel
