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

Pairs All(const HashValue& v) {
  Pairs out;
  v.ForEach([&](std::string_view f, std::string_view val) {
    out.emplace_back(std::string(f), std::string(val));
  });
  return out;
}

TEST(ListpackHash, InsertionOrderAndUpdates) {
  HashValue v = HashValue::Create();
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
  EXPECT_EQ(v.enc, Encoding::kListpack);
  delete v.obj;
}

TEST(ListpackHash, EmptyAndBinaryStrings) {
  HashValue v = HashValue::Create();
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
  EXPECT_TRUE(v.Remove(""));
  EXPECT_FALSE(v.Get(""));
  EXPECT_EQ(v.Size(), 2u);
  delete v.obj;
}

TEST(ListpackHash, SixtyFourByteBoundary) {
  std::string v64(64, 'v'), v65(65, 'v');
  HashValue v = HashValue::Create();
  v.Set(v64, v64, 128, 64);
  EXPECT_EQ(v.enc, Encoding::kListpack);
  EXPECT_EQ(*v.Get(v64), v64);
  v.Set("f", v65, 128, 64);
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  EXPECT_EQ(*v.Get(v64), v64);
  EXPECT_EQ(*v.Get("f"), v65);
  delete v.obj;

  HashValue w = HashValue::Create();
  w.Set(v65, "x", 128, 64);  // a long field converts too
  EXPECT_EQ(w.enc, Encoding::kHashtable);
  delete w.obj;

  // Lengths >= 128 need a two-byte length prefix; the packed bytes stay consistent.
  HashValue big = HashValue::Create();
  std::string v200(200, 'z');
  big.Set("a", v200, 128, 1000);
  big.Set("b", "1", 128, 1000);
  big.Set("a", "short", 128, 1000);
  big.Set("a", v200, 128, 1000);
  EXPECT_EQ(big.enc, Encoding::kListpack);
  EXPECT_EQ(All(big), (Pairs{{"a", v200}, {"b", "1"}}));
  delete big.obj;
}

TEST(ListpackHash, TryConversionAndEntryThreshold) {
  HashValue v = HashValue::Create();
  v.TryConversion({"short", "also short"}, 64);
  EXPECT_EQ(v.enc, Encoding::kListpack);
  for (int i = 0; i < 3; ++i) v.Set("f" + std::to_string(i), "v", 3, 64);
  EXPECT_EQ(v.enc, Encoding::kListpack);
  v.Set("f0", "updated", 3, 64);
  EXPECT_EQ(v.enc, Encoding::kListpack);
  v.Set("f3", "v", 3, 64);
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  for (int i = 0; i < 4; ++i) v.Remove("f" + std::to_string(i));
  EXPECT_EQ(v.enc, Encoding::kHashtable);  // never back
  EXPECT_EQ(v.Size(), 0u);
  v.TryConversion({std::string(65, 'x')}, 64);
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  delete v.obj;

  HashValue w = HashValue::Create();
  w.TryConversion({"a", std::string(65, 'x')}, 64);
  EXPECT_EQ(w.enc, Encoding::kHashtable);
  delete w.obj;
}

TEST(ListpackHash, CompactSingleAllocation) {
  HashValue v = HashValue::Create();
  for (int i = 0; i < 10; ++i) v.Set("f" + std::to_string(i), "v" + std::to_string(i), 128, 64);
  // 16-byte header + 20 strings of (1 length byte + 2 bytes).
  EXPECT_EQ(v.listpack()->used_bytes(), 60u);
  EXPECT_LE(v.obj->MemoryUsage(), 88u);
  delete v.obj;
}

TEST(ListpackHash, MatchesStdMapUnderRandomOps) {
  std::mt19937_64 rng(1);
  HashValue v = HashValue::Create();
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
    ASSERT_EQ(v.enc, Encoding::kListpack);
  }
  EXPECT_EQ(v.Size(), ref.size());
  for (const auto& [f, val] : ref) EXPECT_EQ(*v.Get(f), val);
  Object* c = v.obj->Clone();
  HashValue cv{Encoding::kListpack, c};
  EXPECT_EQ(All(cv), All(v));
  delete c;
  delete v.obj;
}

TEST(HashValue, RandomPairAndEntryStorage) {
  std::mt19937_64 rng(3);
  HashValue v = HashValue::Create();
  for (int i = 0; i < 5; ++i) v.Set("f" + std::to_string(i), std::to_string(i), 128, 64);
  Entry* e = NewObjectEntry("h", ObjType::kHash, v.enc, v.obj, 1000);
  HashValue w = HashValue::Of(e);
  for (int i = 5; i < 200; ++i) w.Set("f" + std::to_string(i), std::to_string(i), 128, 64);
  StoreHash(e, w);
  EXPECT_EQ(e->enc, Encoding::kHashtable);
  EXPECT_EQ(e->expire_ms(), 1000);
  std::map<std::string, int> seen;
  for (int i = 0; i < 20000; ++i) {
    auto [f, val] = HashValue::Of(e).RandomPair(rng);
    EXPECT_EQ("f" + val, f);
    seen[f]++;
  }
  EXPECT_EQ(seen.size(), 200u);
  FreeEntry(e);
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
