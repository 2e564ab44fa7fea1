#include "keel/keyspace/set_object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
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
  EXPECT_GT(EntryMemory(copy), 102u * 40);
  FreeEntry(copy);
  FreeEntry(e);
}

}  // namespace
}  // namespace keel
