#include "keel/keyspace/zset_object.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace keel {
namespace {

using Model = std::set<std::pair<double, std::string>>;
using Pairs = std::vector<std::pair<double, std::string>>;

// A detached sorted set entry with its handle; frees the entry at the end of the test.
struct TestZset {
  explicit TestZset(bool packed) : ref(ZsetRef::NewEntry("k", packed)) {}
  ~TestZset() { FreeEntry(ref.entry()); }
  ZsetRef ref;
};

std::vector<std::pair<double, std::string>> Contents(const ZsetRef& z) {
  std::vector<std::pair<double, std::string>> out;
  z.ForEach([&](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

constexpr ZsetRef::Limits kPackedLimits{128, 64};

TEST(ZTree, InsertEraseRankAndSelectAgreeWithASortedModel) {
  std::mt19937_64 rng(7);
  ZTree tree;
  std::map<std::pair<double, std::string>, ZNode*> model;
  for (int step = 0; step < 40000; ++step) {
    bool insert = model.size() < 3000 ? rng() % 3 != 0 : rng() % 2 == 0;
    if (insert) {
      double score = static_cast<double>(rng() % 500);
      std::string m = "m" + std::to_string(rng() % 5000);
      if (model.count({score, m})) continue;
      ZNode* n = ZNode::Make(m, score);
      tree.Insert(n);
      model[{score, m}] = n;
    } else if (!model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      tree.Erase(it->second);
      std::free(it->second);
      model.erase(it);
    }
    if (step % 997 == 0) {
      ASSERT_TRUE(tree.Check()) << "step " << step;
    }
  }
  ASSERT_TRUE(tree.Check());
  ASSERT_EQ(tree.size(), model.size());
  size_t r = 0;
  for (auto& [k, n] : model) {
    ASSERT_EQ(tree.Rank(n), r);
    ASSERT_EQ(tree.At(r), n);
    ++r;
  }
  // CountWhile finds the first element with score >= 250.
  size_t below = 0;
  for (auto& [k, n] : model) below += k.first < 250;
  EXPECT_EQ(tree.CountWhile([](const ZNode* n) { return n->score < 250; }), below);
  for (auto& [k, n] : model) {
    tree.Erase(n);
    std::free(n);
  }
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_TRUE(tree.Check());
}

TEST(ZTree, EmptiedFromTheFrontStaysShallowAndOrdered) {
  ZTree tree;
  std::vector<ZNode*> nodes;
  for (int i = 0; i < 20000; ++i) {
    nodes.push_back(ZNode::Make("x", i));
    tree.Insert(nodes.back());
  }
  size_t full = tree.MemoryBytes();
  for (int i = 0; i < 19990; ++i) {
    tree.Erase(nodes[i]);
    std::free(nodes[i]);
  }
  EXPECT_TRUE(tree.Check());
  EXPECT_LT(tree.MemoryBytes(), full / 100);
  EXPECT_EQ(tree.At(0), nodes[19990]);
  for (int i = 19990; i < 20000; ++i) {
    tree.Erase(nodes[i]);
    std::free(nodes[i]);
  }
  EXPECT_EQ(tree.MemoryBytes(), 0u);
}

TEST(ZTree, WalkGoesBothWaysAcrossLeaves) {
  ZTree tree;
  std::vector<ZNode*> nodes;
  for (int i = 0; i < 1000; ++i) {
    nodes.push_back(ZNode::Make("", i));
    tree.Insert(nodes.back());
  }
  std::vector<double> seen;
  tree.Walk(100, 400, true, [&](ZNode* n) {
    seen.push_back(n->score);
    return true;
  });
  ASSERT_EQ(seen.size(), 300u);
  EXPECT_EQ(seen.front(), 399);
  EXPECT_EQ(seen.back(), 100);
  tree.Clear();
  for (ZNode* n : nodes) std::free(n);
}

// Both encodings behave as the model, and a packed set converts past its limits.
void RandomAgainstModel(bool packed, ZsetRef::Limits lim, bool expect_convert) {
  TestZset t(packed);
  ZsetRef& z = t.ref;
  std::map<std::string, double> scores;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 5000; ++step) {
    std::string m = "member:" + std::to_string(rng() % 200);
    if (rng() % 4 == 0) {
      EXPECT_EQ(z.Remove(m), scores.erase(m) == 1);
    } else {
      double s = static_cast<double>(static_cast<int>(rng() % 50) - 25) / 4;
      EXPECT_EQ(z.Set(m, s, lim), !scores.count(m));
      scores[m] = s;
    }
  }
  Model model;
  for (auto& [m, s] : scores) model.emplace(s, m);
  auto got = Contents(z);
  ASSERT_EQ(got, Pairs(model.begin(), model.end()));
  size_t r = 0;
  for (auto& [s, m] : model) {
    EXPECT_EQ(z.Rank(m), r++);
    EXPECT_EQ(z.Score(m), s);
  }
  EXPECT_FALSE(z.Rank("absent"));
  EXPECT_EQ(z.CountWhile([](std::string_view, double s) { return s < 0; }),
            static_cast<size_t>(
                std::count_if(model.begin(), model.end(), [](auto& p) { return p.first < 0; })));
  EXPECT_EQ(z.encoding(), expect_convert ? Encoding::kSkiplist : Encoding::kListpack);
  z.RemoveRange(3, 10);
  auto it = model.begin();
  std::advance(it, 3);
  auto end = it;
  std::advance(end, 7);
  model.erase(it, end);
  got = Contents(z);
  EXPECT_EQ(got, Pairs(model.begin(), model.end()));
}

TEST(ZsetRef, PackedWithinLimitsMatchesTheModel) { RandomAgainstModel(true, {1000, 64}, false); }
TEST(ZsetRef, PackedConvertsPastMaxEntriesAndMatchesTheModel) {
  RandomAgainstModel(true, kPackedLimits, true);
}
TEST(ZsetRef, SkiplistMatchesTheModel) { RandomAgainstModel(false, kPackedLimits, true); }

TEST(ZsetRef, LongMemberConvertsAndNeverConvertsBack) {
  TestZset t(true);
  t.ref.Set("a", 1, kPackedLimits);
  EXPECT_EQ(t.ref.encoding(), Encoding::kListpack);
  t.ref.Set(std::string(65, 'x'), 2, kPackedLimits);
  EXPECT_EQ(t.ref.encoding(), Encoding::kSkiplist);
  t.ref.Remove(std::string(65, 'x'));
  EXPECT_EQ(t.ref.encoding(), Encoding::kSkiplist);
  EXPECT_EQ(t.ref.Size(), 1u);
}

TEST(ZsetRef, PackedTurnsNegativeZeroIntoZeroAsAListpackDoes) {
  TestZset p(true), s(false);
  p.ref.Set("a", -0.0, kPackedLimits);
  s.ref.Set("a", -0.0, kPackedLimits);
  EXPECT_FALSE(std::signbit(*p.ref.Score("a")));
  EXPECT_TRUE(std::signbit(*s.ref.Score("a")));
}

TEST(ZsetRef, PackedScoresOfEveryWidthReadBackExactly) {
  TestZset t(true);
  std::vector<double> scores = {
      0,   1,     -126,    126,  127,  -127,     1e9,       -2147483648.0, 1.5,
      0.1, 1e300, -1e-300, 3e38, 4e38, HUGE_VAL, -HUGE_VAL, 2147483648.0,  1.7e12};
  ZsetRef::Limits lim{1000, 64};
  for (size_t i = 0; i < scores.size(); ++i) t.ref.Set("m" + std::to_string(i), scores[i], lim);
  ASSERT_EQ(t.ref.encoding(), Encoding::kListpack);
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_EQ(*t.ref.Score("m" + std::to_string(i)), scores[i]) << i;
  }
  // Small integers take one byte: 126 members of score 1 fit in far less than 9 bytes each.
  TestZset small(true);
  for (int i = 0; i < 100; ++i) small.ref.Set("k" + std::to_string(i), i % 7, lim);
  EXPECT_LT(small.ref.entry()->val_len, 100u * 6);
}

TEST(ZsetRef, ReverseRangeOfPackedSet) {
  TestZset t(true);
  for (int i = 0; i < 10; ++i) t.ref.Set(std::to_string(i), i, kPackedLimits);
  std::vector<double> seen;
  t.ref.Range(2, 5, true, [&](std::string_view, double s) {
    seen.push_back(s);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<double>{4, 3, 2}));
}

TEST(ZsetRef, ConvertToPackedIfFitsPacksASmallDetachedSkiplist) {
  TestZset t(false);
  t.ref.Set("b", 2, kPackedLimits);
  t.ref.Set("a", 1, kPackedLimits);
  t.ref.ConvertToPackedIfFits(kPackedLimits);
  EXPECT_EQ(t.ref.encoding(), Encoding::kListpack);
  EXPECT_EQ(Contents(t.ref), (std::vector<std::pair<double, std::string>>{{1, "a"}, {2, "b"}}));
}

}  // namespace
}  // namespace keel
