#include "keel/keyspace/set_object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace keel {
namespace {

std::vector<int64_t> Values(const IntsetObject* s) {
  std::vector<int64_t> v;
  for (size_t i = 0; i < s->size(); ++i) v.push_back(s->At(i));
  return v;
}

TEST(Intset, SortedUniqueAndWidthUpgrades) {
  IntsetObject* s = IntsetObject::New();
  bool added;
  for (int64_t v : {5, -3, 100, 5, 0}) s = IntsetObject::Add(s, v, &added);
  EXPECT_EQ(Values(s), (std::vector<int64_t>{-3, 0, 5, 100}));
  EXPECT_EQ(s->width(), 2u);
  s = IntsetObject::Add(s, 32767, &added);
  s = IntsetObject::Add(s, -32768, &added);
  EXPECT_EQ(s->width(), 2u);
  // Upgrade with the new value last, then first.
  s = IntsetObject::Add(s, 32768, &added);
  EXPECT_TRUE(added);
  EXPECT_EQ(s->width(), 4u);
  EXPECT_EQ(Values(s), (std::vector<int64_t>{-32768, -3, 0, 5, 100, 32767, 32768}));
  s = IntsetObject::Add(s, -2147483649LL, &added);
  EXPECT_EQ(s->width(), 8u);
  EXPECT_EQ(s->At(0), -2147483649LL);
  s = IntsetObject::Add(s, INT64_MAX, &added);
  s = IntsetObject::Add(s, INT64_MIN, &added);
  EXPECT_EQ(s->At(0), INT64_MIN);
  EXPECT_EQ(s->At(s->size() - 1), INT64_MAX);
  EXPECT_TRUE(s->Contains(32768));
  EXPECT_FALSE(s->Contains(32769));
  // Removing never narrows.
  bool removed;
  s = IntsetObject::Remove(s, INT64_MAX, &removed);
  EXPECT_TRUE(removed);
  s = IntsetObject::Remove(s, 12345, &removed);
  EXPECT_FALSE(removed);
  EXPECT_EQ(s->width(), 8u);
  EXPECT_EQ(s->size(), 9u);
  delete s;
}

TEST(Intset, RemoveOfWiderValueIsAMiss) {
  IntsetObject* s = IntsetObject::New();
  bool added, removed;
  s = IntsetObject::Add(s, 1, &added);
  s = IntsetObject::Remove(s, 1LL << 40, &removed);
  EXPECT_FALSE(removed);
  EXPECT_EQ(s->width(), 2u);
  delete s;
}

TEST(Intset, OneCompactAllocation) {
  IntsetObject* s = IntsetObject::New();
  bool added;
  for (int i = 0; i < 10; ++i) s = IntsetObject::Add(s, i, &added);
  // 16-byte header + 10 * 2 bytes, rounded up by malloc.
  EXPECT_LE(s->MemoryUsage(), 48u);
  EXPECT_GE(s->CapacityBytes(), 20u);
  delete s;
}

TEST(Intset, MatchesStdSetUnderRandomOps) {
  std::mt19937_64 rng(42);
  IntsetObject* s = IntsetObject::New();
  std::set<int64_t> ref;
  for (int i = 0; i < 20000; ++i) {
    int64_t v;
    switch (rng() % 3) {
      case 0:
        v = static_cast<int16_t>(rng());
        break;
      case 1:
        v = static_cast<int32_t>(rng());
        break;
      default:
        v = static_cast<int64_t>(rng());
    }
    if (i > 1000 && rng() % 4 == 0) v = *ref.begin();
    bool changed;
    if (rng() % 3 == 0) {
      s = IntsetObject::Remove(s, v, &changed);
      EXPECT_EQ(changed, ref.erase(v) == 1);
    } else {
      s = IntsetObject::Add(s, v, &changed);
      EXPECT_EQ(changed, ref.insert(v).second);
    }
  }
  EXPECT_EQ(Values(s), std::vector<int64_t>(ref.begin(), ref.end()));
  IntsetObject* c = static_cast<IntsetObject*>(s->Clone());
  EXPECT_EQ(Values(c), Values(s));
  delete c;
  delete s;
}

TEST(SetValue, CreateForPicksEncoding) {
  SetValue a = SetValue::CreateFor("12");
  EXPECT_EQ(a.enc, Encoding::kIntset);
  SetValue b = SetValue::CreateFor("x");
  EXPECT_EQ(b.enc, Encoding::kHashtable);
  SetValue c = SetValue::CreateFor("012");
  EXPECT_EQ(c.enc, Encoding::kHashtable);
  SetValue d = SetValue::CreateFor("9223372036854775808");
  EXPECT_EQ(d.enc, Encoding::kHashtable);
  a.Destroy();
  b.Destroy();
  c.Destroy();
  d.Destroy();
}

TEST(SetValue, ConvertsOnNonIntegerAndNeverBack) {
  SetValue v = SetValue::CreateIntset();
  EXPECT_TRUE(v.Add("1", 512));
  EXPECT_TRUE(v.Add("-7", 512));
  EXPECT_FALSE(v.Add("1", 512));
  EXPECT_EQ(v.enc, Encoding::kIntset);
  EXPECT_FALSE(v.Contains("01"));
  EXPECT_FALSE(v.Contains("+1"));
  EXPECT_TRUE(v.Contains("-7"));
  EXPECT_TRUE(v.Add("+1", 512));  // not canonical: a string
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  EXPECT_EQ(v.Size(), 3u);
  EXPECT_TRUE(v.Contains("1"));
  EXPECT_TRUE(v.Contains("-7"));
  EXPECT_TRUE(v.Remove("+1"));
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  v.Destroy();
}

TEST(SetValue, ConvertsPastMaxIntsetEntries) {
  SetValue v = SetValue::CreateIntset();
  for (int i = 0; i < 4; ++i) v.Add(std::to_string(i), 4);
  EXPECT_EQ(v.enc, Encoding::kIntset);
  v.Add("3", 4);  // duplicate: no change
  EXPECT_EQ(v.enc, Encoding::kIntset);
  v.Add("4", 4);
  EXPECT_EQ(v.enc, Encoding::kHashtable);
  EXPECT_EQ(v.Size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(v.Contains(std::to_string(i)));
  v.Destroy();
}

TEST(SetValue, RandomMemberCoversAllMembers) {
  std::mt19937_64 rng(7);
  SetValue v = SetValue::CreateFor("a");
  EXPECT_EQ(v.Size(), 0u);  // creation only picks the encoding
  v.Add("a", 512);
  for (int i = 0; i < 50; ++i) v.Add("m" + std::to_string(i), 512);
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(v.RandomMember(rng));
  EXPECT_EQ(seen.size(), 51u);
  // Shrinking after mass removal keeps random picks working.
  for (int i = 0; i < 50; ++i) v.Remove("m" + std::to_string(i));
  EXPECT_EQ(v.RandomMember(rng), "a");
  v.Destroy();
}

TEST(SetValue, EntryOwnsAndStoresObject) {
  SetValue v = SetValue::CreateIntset();
  v.Add("1", 512);
  Entry* e = NewObjectEntry("k", ObjType::kSet, v.enc, v.obj, -1);
  SetValue w = SetValue::Of(e);
  for (int i = 0; i < 100; ++i) w.Add(std::to_string(i * 1000), 512);  // reallocates
  w.Add("x", 512);                                                     // converts
  StoreSet(e, w);
  EXPECT_EQ(e->enc, Encoding::kHashtable);
  EXPECT_EQ(SetValue::Of(e).Size(), 102u);
  Entry* copy = CloneEntry(e, "k2", -1, false);
  EXPECT_EQ(SetValue::Of(copy).Size(), 102u);
  // At least one node (header + bytes) and one bucket pointer per member.
  EXPECT_GT(EntryMemory(copy), 102u * (SetNode::kHeader + 8));
  FreeEntry(copy);
  FreeEntry(e);
}

std::set<std::string> Contents(const HashSetObject& h) {
  std::set<std::string> out;
  h.table.ForEach([&](const SetNode* n) { EXPECT_TRUE(out.emplace(n->key()).second); });
  return out;
}

// Random adds and removes across several grow/shrink cycles, checked against std::set.
TEST(HashSetObject, MatchesStdSetAcrossGrowAndShrinkCycles) {
  std::mt19937_64 rng(11);
  HashSetObject h;
  std::set<std::string> ref;
  size_t max_buckets = 0, rehashing_seen = 0;
  for (int cycle = 0; cycle < 4; ++cycle) {
    size_t target = 3000 + 4000 * cycle;
    // Grow: mostly adds.
    while (ref.size() < target) {
      std::string m = "m" + std::to_string(rng() % (target * 2));
      if (rng() % 5 == 0) {
        ASSERT_EQ(h.Remove(m), ref.erase(m) == 1);
      } else {
        ASSERT_EQ(h.Add(m), ref.insert(m).second);
      }
      ASSERT_EQ(h.ElementCount(), ref.size());
      if (h.table.rehashing()) ++rehashing_seen;
    }
    max_buckets = std::max(max_buckets, h.table.bucket_count());
    EXPECT_EQ(Contents(h), ref);
    // Load factor stays at most 1 (plus the second array during a rehash).
    EXPECT_LE(h.ElementCount(), h.table.bucket_count());
    // Shrink: mostly removes, down to a handful.
    std::vector<std::string> keys(ref.begin(), ref.end());
    while (ref.size() > 5) {
      size_t i = rng() % keys.size();
      std::string m = keys[i];
      if (rng() % 6 == 0) {
        std::string n = "n" + std::to_string(rng());
        ASSERT_EQ(h.Add(n), ref.insert(n).second);
        keys.push_back(n);
      } else {
        ASSERT_TRUE(h.Remove(m));
        ref.erase(m);
        keys[i] = keys.back();
        keys.pop_back();
        ASSERT_FALSE(h.Remove(m));
        ASSERT_FALSE(h.Contains(m));
      }
      if (h.table.rehashing()) ++rehashing_seen;
    }
    EXPECT_EQ(Contents(h), ref);
    for (const std::string& m : ref) EXPECT_TRUE(h.Contains(m));
    // Shrunk back (a rehash may still be in progress).
    EXPECT_LE(h.table.bucket_count(), 128u) << cycle;
  }
  EXPECT_GE(max_buckets, 16384u);
  EXPECT_GT(rehashing_seen, 0u);
  // Clone is deep and equal; MemoryUsage counts nodes and buckets.
  for (int i = 0; i < 1000; ++i) h.Add("c" + std::to_string(i));
  std::unique_ptr<Object> c(h.Clone());
  auto* hc = static_cast<HashSetObject*>(c.get());
  EXPECT_EQ(Contents(*hc), Contents(h));
  h.Remove("c1");
  EXPECT_TRUE(hc->Contains("c1"));
  EXPECT_GE(h.MemoryUsage(),
            h.ElementCount() * (SetNode::kHeader + 2) + 8 * h.table.bucket_count());
  EXPECT_LT(h.MemoryUsage(), h.ElementCount() * 64 + 8 * h.table.bucket_count() + 256);
}

TEST(HashSetObject, GrowthIsIncremental) {
  HashSetObject h;
  for (int i = 0; i < 1024; ++i) h.Add("k" + std::to_string(i));
  EXPECT_FALSE(h.table.rehashing());
  EXPECT_EQ(h.table.bucket_count(), 1024u);
  h.Add("k1024");  // load 1: a second array of 2048 buckets, filled a few buckets at a time
  EXPECT_TRUE(h.table.rehashing());
  EXPECT_EQ(h.table.bucket_count(), 1024u + 2048u);
  for (int i = 0; i < 1025; ++i) EXPECT_TRUE(h.Contains("k" + std::to_string(i)));
  for (int i = 1025; h.table.rehashing(); ++i) h.Add("k" + std::to_string(i));
  EXPECT_EQ(h.table.bucket_count(), 2048u);
  EXPECT_LT(h.ElementCount(), 1024u + 600u);
}

// The SSCAN guarantee: members present for the whole scan are all returned, while the set
// grows (several doublings) and then shrinks (several halvings) between scan steps.
TEST(HashSetObject, ScanReturnsStableMembersAcrossResizes) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    HashSetObject h;
    std::vector<std::string> stable;
    for (int i = 0; i < 800; ++i) {
      stable.push_back("s" + std::to_string(i));
      h.Add(stable.back());
    }
    std::vector<std::string> churn;
    std::unordered_set<std::string> returned;
    size_t max_size = 0, min_buckets_after_peak = ~size_t{0}, steps = 0;
    bool growing = true;
    uint64_t cursor = 0;
    do {
      cursor = h.Scan(cursor, [&](std::string_view m) { returned.emplace(m); });
      ++steps;
      for (int k = 0; k < 40; ++k) {
        if (growing) {
          churn.push_back("c" + std::to_string(rng()));
          h.Add(churn.back());
          if (churn.size() >= 30000) growing = false;
        } else if (!churn.empty()) {
          size_t i = rng() % churn.size();
          ASSERT_TRUE(h.Remove(churn[i]));
          churn[i] = churn.back();
          churn.pop_back();
        }
      }
      max_size = std::max(max_size, h.ElementCount());
      if (!growing)
        min_buckets_after_peak = std::min(min_buckets_after_peak, h.table.bucket_count());
    } while (cursor != 0);
    for (const std::string& m : stable) EXPECT_TRUE(returned.count(m)) << m << " seed " << seed;
    // The scan really spanned growth and shrinking.
    EXPECT_GE(max_size, 20000u) << seed;
    EXPECT_LE(min_buckets_after_peak, 4096u) << seed;
    EXPECT_GT(steps, 100u);
  }
  // Without resizes a full scan returns each member exactly once.
  HashSetObject h;
  for (int i = 0; i < 5000; ++i) h.Add("x" + std::to_string(i));
  while (h.table.rehashing()) {  // finish the rehash (each add and remove moves buckets)
    h.Add("extra");
    h.Remove("extra");
  }
  std::map<std::string, int> count;
  uint64_t cursor = 0;
  do {
    cursor = h.Scan(cursor, [&](std::string_view m) { count[std::string(m)]++; });
  } while (cursor != 0);
  EXPECT_EQ(count.size(), 5000u);
  for (const auto& [m, n] : count) EXPECT_EQ(n, 1) << m;
}

// SPOP-style: random picks while removing, including mid-rehash, until empty.
TEST(HashSetObject, RandomWhileRemovingUntilEmpty) {
  std::mt19937_64 rng(5);
  HashSetObject h;
  std::set<std::string> ref;
  for (int i = 0; i < 20000; ++i) {
    std::string m = "r" + std::to_string(i);
    h.Add(m);
    ref.insert(m);
  }
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) seen.emplace(h.Random(rng));
  EXPECT_GT(seen.size(), 11000u);  // uniform: about 20000 * (1 - 1/e)
  while (h.ElementCount() > 0) {
    std::string m(h.Random(rng));
    ASSERT_EQ(ref.erase(m), 1u) << m;
    ASSERT_TRUE(h.Remove(m));
  }
  EXPECT_TRUE(ref.empty());
  EXPECT_LE(h.table.bucket_count(), 16u);
}

}  // namespace
}  // namespace keel
