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

// A detached set entry with its handle; frees the entry at the end of the test.
struct TestSet {
  explicit TestSet(Entry* e) : ref(e) {}
  ~TestSet() { FreeEntry(ref.entry()); }
  SetRef ref;
};

std::vector<int64_t> Values(const SetRef& s) {
  std::vector<int64_t> v;
  s.ForEach([&](std::string_view m) { v.push_back(std::stoll(std::string(m))); });
  return v;
}

bool AddInt(SetRef& s, int64_t v) { return s.Add(std::to_string(v), 512); }

// The integer width of a packed intset, from its byte size (a width byte, then the members).
size_t Width(const SetRef& s) { return (s.entry()->val_len - 1) / s.Size(); }

TEST(Intset, SortedUniqueAndWidthUpgrades) {
  TestSet t(SetRef::NewIntsetEntry("k"));
  SetRef& s = t.ref;
  for (int64_t v : {5, -3, 100, 5, 0}) AddInt(s, v);
  EXPECT_EQ(Values(s), (std::vector<int64_t>{-3, 0, 5, 100}));
  EXPECT_EQ(Width(s), 2u);
  AddInt(s, 32767);
  AddInt(s, -32768);
  EXPECT_EQ(Width(s), 2u);
  // Upgrade with the new value last, then first.
  EXPECT_TRUE(AddInt(s, 32768));
  EXPECT_EQ(Width(s), 4u);
  EXPECT_EQ(Values(s), (std::vector<int64_t>{-32768, -3, 0, 5, 100, 32767, 32768}));
  AddInt(s, -2147483649LL);
  EXPECT_EQ(Width(s), 8u);
  EXPECT_EQ(Values(s)[0], -2147483649LL);
  AddInt(s, INT64_MAX);
  AddInt(s, INT64_MIN);
  EXPECT_EQ(Values(s).front(), INT64_MIN);
  EXPECT_EQ(Values(s).back(), INT64_MAX);
  EXPECT_TRUE(s.Contains("32768"));
  EXPECT_FALSE(s.Contains("32769"));
  // Removing never narrows.
  EXPECT_TRUE(s.Remove(std::to_string(INT64_MAX)));
  EXPECT_FALSE(s.Remove("12345"));
  EXPECT_EQ(Width(s), 8u);
  EXPECT_EQ(s.Size(), 9u);
  EXPECT_EQ(s.encoding(), Encoding::kIntset);
  EXPECT_TRUE(s.packed());
}

TEST(Intset, RemoveOfWiderValueIsAMiss) {
  TestSet t(SetRef::NewIntsetEntry("k"));
  AddInt(t.ref, 1);
  EXPECT_FALSE(t.ref.Remove(std::to_string(1LL << 40)));
  EXPECT_FALSE(t.ref.Contains(std::to_string(1LL << 40)));
  EXPECT_EQ(Width(t.ref), 2u);
}

TEST(Intset, PackedInsideTheEntry) {
  // 10 small integers: the entry header, the key, a width byte and 10 * 2 bytes, nothing else.
  TestSet t(SetRef::NewIntsetEntry("iset:0000001"));
  for (int i = 0; i < 10; ++i) AddInt(t.ref, i * 7);
  EXPECT_EQ(t.ref.entry()->storage, Entry::kPacked);
  EXPECT_EQ(EntryMemory(t.ref.entry()), sizeof(Entry) + 12 + 1 + 20);
}

TEST(Intset, MatchesStdSetUnderRandomOps) {
  std::mt19937_64 rng(42);
  TestSet t(SetRef::NewIntsetEntry("k"));
  SetRef& s = t.ref;
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
    if (i > 1000 && rng() % 4 == 0 && !ref.empty()) v = *ref.begin();
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.Remove(std::to_string(v)), ref.erase(v) == 1);
    } else {
      EXPECT_EQ(s.Add(std::to_string(v), 1 << 20), ref.insert(v).second);
    }
  }
  EXPECT_EQ(s.encoding(), Encoding::kIntset);
  EXPECT_EQ(Values(s), std::vector<int64_t>(ref.begin(), ref.end()));
  Entry* c = CloneEntry(s.entry(), "k2", -1, false);
  EXPECT_EQ(Values(SetRef::Read(c)), Values(s));
  FreeEntry(c);
}

TEST(SetRef, NewEntryPicksEncoding) {
  struct Case {
    std::string first;
    Encoding enc;
    bool packed;
  };
  for (const Case& c : {Case{"12", Encoding::kIntset, true}, Case{"x", Encoding::kHashtable, true},
                        Case{"012", Encoding::kHashtable, true},
                        Case{"9223372036854775808", Encoding::kHashtable, true},
                        Case{std::string(65, 'x'), Encoding::kHashtable, false}}) {
    TestSet t(SetRef::NewEntry("k", c.first));
    EXPECT_EQ(t.ref.encoding(), c.enc) << c.first;
    EXPECT_EQ(t.ref.packed(), c.packed) << c.first;
    EXPECT_EQ(t.ref.Size(), 0u);
  }
}

TEST(SetRef, ConvertsOnNonIntegerAndNeverBack) {
  TestSet t(SetRef::NewIntsetEntry("k"));
  SetRef& v = t.ref;
  EXPECT_TRUE(v.Add("1", 512));
  EXPECT_TRUE(v.Add("-7", 512));
  EXPECT_FALSE(v.Add("1", 512));
  EXPECT_EQ(v.encoding(), Encoding::kIntset);
  EXPECT_FALSE(v.Contains("01"));
  EXPECT_FALSE(v.Contains("+1"));
  EXPECT_TRUE(v.Contains("-7"));
  EXPECT_TRUE(v.Add("+1", 512));  // not canonical: a string
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);
  EXPECT_TRUE(v.packed());  // small: still one block, reported as a hashtable
  EXPECT_EQ(v.Size(), 3u);
  EXPECT_TRUE(v.Contains("1"));
  EXPECT_TRUE(v.Contains("-7"));
  EXPECT_TRUE(v.Remove("+1"));
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);
  EXPECT_TRUE(v.Add("2", 512));  // an integer into a string set stays a string
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);
}

TEST(SetRef, ConvertsPastMaxIntsetEntries) {
  TestSet t(SetRef::NewIntsetEntry("k"));
  SetRef& v = t.ref;
  for (int i = 0; i < 4; ++i) v.Add(std::to_string(i), 4);
  EXPECT_EQ(v.encoding(), Encoding::kIntset);
  v.Add("3", 4);  // duplicate: no change
  EXPECT_EQ(v.encoding(), Encoding::kIntset);
  v.Add("4", 4);
  EXPECT_EQ(v.encoding(), Encoding::kHashtable);
  EXPECT_EQ(v.Size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(v.Contains(std::to_string(i)));
  // A big intset converts straight to a table.
  TestSet big(SetRef::NewIntsetEntry("k"));
  for (int i = 0; i <= 512; ++i) big.ref.Add(std::to_string(i), 512);
  EXPECT_EQ(big.ref.encoding(), Encoding::kHashtable);
  EXPECT_FALSE(big.ref.packed());
  EXPECT_EQ(big.ref.Size(), 513u);
}

TEST(SetRef, PackedStringsConvertPastTheirLimits) {
  // Past kMaxPackedMembers members.
  TestSet many(SetRef::NewEntry("k", "m"));
  for (size_t i = 0; i < SetRef::kMaxPackedMembers; ++i) many.ref.Add("m" + std::to_string(i), 512);
  EXPECT_TRUE(many.ref.packed());
  EXPECT_FALSE(many.ref.Add("m0", 512));
  EXPECT_TRUE(many.ref.packed());
  EXPECT_TRUE(many.ref.Add("extra", 512));
  EXPECT_FALSE(many.ref.packed());
  EXPECT_EQ(many.ref.Size(), SetRef::kMaxPackedMembers + 1);
  for (size_t i = 0; i < SetRef::kMaxPackedMembers; ++i) {
    EXPECT_TRUE(many.ref.Contains("m" + std::to_string(i)));
  }
  // A member longer than kMaxPackedMember.
  TestSet longm(SetRef::NewEntry("k", "a"));
  longm.ref.Add("a", 512);
  longm.ref.Add(std::string(SetRef::kMaxPackedMember, 'b'), 512);
  EXPECT_TRUE(longm.ref.packed());
  longm.ref.Add(std::string(SetRef::kMaxPackedMember + 1, 'c'), 512);
  EXPECT_FALSE(longm.ref.packed());
  EXPECT_EQ(longm.ref.Size(), 3u);
  EXPECT_TRUE(longm.ref.Contains(std::string(SetRef::kMaxPackedMember, 'b')));
  // An intset meeting a non-integer with no packed room left.
  TestSet ints(SetRef::NewIntsetEntry("k"));
  for (size_t i = 0; i < SetRef::kMaxPackedMembers; ++i) ints.ref.Add(std::to_string(i), 512);
  ints.ref.Add("x", 512);
  EXPECT_FALSE(ints.ref.packed());
  EXPECT_EQ(ints.ref.Size(), SetRef::kMaxPackedMembers + 1);
}

TEST(SetRef, PackedStringsMatchStdSet) {
  std::mt19937_64 rng(5);
  TestSet t(SetRef::NewEntry("k", "a"));
  std::set<std::string> ref;
  for (int i = 0; i < 5000; ++i) {
    std::string m(rng() % 4, static_cast<char>('a' + rng() % 20));
    if (rng() % 2 == 0) {
      ASSERT_EQ(t.ref.Add(m, 512), ref.insert(m).second);
    } else {
      ASSERT_EQ(t.ref.Remove(m), ref.erase(m) == 1);
    }
    ASSERT_EQ(t.ref.Size(), ref.size());
  }
  EXPECT_TRUE(t.ref.packed());
  std::vector<std::string> members = t.ref.Members();
  EXPECT_EQ(std::set<std::string>(members.begin(), members.end()), ref);
}

TEST(SetRef, TenShortStringsFitA128ByteBlock) {
  TestSet t(SetRef::NewEntry("sset:0000001", "member-0"));
  for (int i = 0; i < 10; ++i) t.ref.Add("member-" + std::to_string(i), 512);
  EXPECT_EQ(EntryMemory(t.ref.entry()), sizeof(Entry) + 12 + 10 * 9);
  EXPECT_LE(EntryMemory(t.ref.entry()), 128u);
}

TEST(SetRef, RandomMemberCoversAllMembers) {
  std::mt19937_64 rng(7);
  for (size_t n : {size_t{51}, size_t{300}}) {  // packed, then a table
    TestSet t(SetRef::NewEntry("k", "a"));
    SetRef& v = t.ref;
    v.Add("a", 512);
    for (size_t i = 1; i < n; ++i) v.Add("m" + std::to_string(i), 512);
    EXPECT_EQ(v.packed(), n <= SetRef::kMaxPackedMembers);
    std::set<std::string> seen;
    for (int i = 0; i < 20000; ++i) seen.insert(v.RandomMember(rng));
    EXPECT_EQ(seen.size(), n);
    // Shrinking after mass removal keeps random picks working.
    for (size_t i = 1; i < n; ++i) v.Remove("m" + std::to_string(i));
    EXPECT_EQ(v.RandomMember(rng), "a");
  }
}

TEST(SetRef, EntryOwnsTheTableAfterConversion) {
  TestSet t(SetRef::NewIntsetEntry("k"));
  SetRef& w = t.ref;
  w.Add("1", 512);
  for (int i = 0; i < 200; ++i) w.Add(std::to_string(i * 1000), 512);  // reallocates
  w.Add("x", 512);                                                     // converts
  EXPECT_EQ(w.entry()->enc, Encoding::kHashtable);
  EXPECT_EQ(w.entry()->storage, Entry::kObject);
  EXPECT_EQ(w.Size(), 202u);
  Entry* copy = CloneEntry(w.entry(), "k2", -1, false);
  EXPECT_EQ(SetRef::Read(copy).Size(), 202u);
  // At least one node (header + bytes) and one bucket pointer per member.
  EXPECT_GT(EntryMemory(copy), 202u * (SetNode::kHeader + 8));
  FreeEntry(copy);
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
