#include "keel/keyspace/list_object.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

#include "keel/common/clock.h"
#include "keel/keyspace/keyspace.h"

namespace keel {
namespace {

std::deque<std::string> Items(const ListRef& l) {
  std::deque<std::string> out;
  if (l.empty()) return out;
  l.ForRange(0, l.size() - 1, [&](size_t, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

// A detached list entry with its handle; frees the entry at the end of the test.
struct TestList {
  explicit TestList(int64_t node_limit, int64_t depth = 0)
      : ref(ListRef::NewEntry("k"), node_limit, depth) {}
  ~TestList() { FreeEntry(ref.entry()); }
  ListRef ref;
};

const ListObject* Big(const ListRef& l) {
  return l.packed() ? nullptr : static_cast<const ListObject*>(l.entry()->object());
}

// Every operation against a std::deque model, checking the node invariants (counts, sizes,
// limits) after every step once the list is a ListObject. Values are mostly short ones from a
// small alphabet (so pivots and LREM match), some medium, and (if `huge` > 0) a few of `huge`
// bytes or more, bigger than a node. `converts`: whether the list must become a ListObject
// with several nodes, or must stay packed. `depth`: list-compress-depth (then the run must have
// had compressed nodes, and NodesValid checks that the end nodes are raw).
void RunModel(int64_t node_limit, uint64_t seed, size_t huge, bool converts, int64_t depth = 0) {
  std::mt19937_64 rng(seed);
  TestList t(node_limit, depth);
  ListRef& list = t.ref;
  ListNodeLimit limit = ListNodeLimit::FromConfig(node_limit, depth);
  std::deque<std::string> model;
  size_t most_nodes = 0, most_compressed = 0;
  auto value = [&] {
    uint64_t r = rng() % 40;
    size_t len = r == 0 && huge > 0 ? huge + rng() % 3000 : r < 8 ? 100 + rng() % 200 : rng() % 4;
    return std::string(len, static_cast<char>('a' + rng() % 3));
  };
  for (int step = 0; step < 6000; ++step) {
    SCOPED_TRACE(step);
    uint64_t op = rng() % 16;
    // Keep the list around a few hundred elements: pops give way to pushes while it is short,
    // and pushes to pops once it is long.
    if (op < 4 && model.size() > 600) op += 4;
    if ((op == 4 || op == 5 || op == 9) && model.size() < 300) op = rng() % 4;
    switch (op) {
      case 0:
      case 1: {
        std::string v = value();
        bool left = op == 0;
        list.Push(left, {std::vector<std::string_view>{v}});
        left ? model.push_front(v) : model.push_back(v);
        break;
      }
      case 2:
      case 3: {
        std::vector<std::string> vs(1 + rng() % 6);
        for (std::string& v : vs) v = value();
        std::vector<std::string_view> views(vs.begin(), vs.end());
        bool left = op == 2;
        list.Push(left, views);
        for (const std::string& v : vs) left ? model.push_front(v) : model.push_back(v);
        break;
      }
      case 4:
      case 5:
        if (!model.empty()) {
          bool left = op == 4;
          ASSERT_EQ(list.Pop(left), left ? model.front() : model.back());
          left ? model.pop_front() : model.pop_back();
        }
        break;
      case 6:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          std::string v = value();
          list.Set(i, v);
          model[i] = v;
        }
        break;
      case 7: {
        std::string pivot = value(), v = value();
        bool after = rng() & 1;
        auto it = std::find(model.begin(), model.end(), pivot);
        bool found = it != model.end();
        ASSERT_EQ(list.Insert(pivot, v, after), found);
        if (found) model.insert(after ? it + 1 : it, v);
        break;
      }
      case 8: {
        std::string v = value();
        int64_t count = static_cast<int64_t>(rng() % 9) - 4;
        size_t expect = 0;
        std::deque<std::string> kept;
        if (count >= 0) {
          for (const std::string& e : model) {
            if (e == v && (count == 0 || expect < static_cast<size_t>(count))) {
              ++expect;
            } else {
              kept.push_back(e);
            }
          }
        } else {
          for (size_t i = model.size(); i-- > 0;) {
            if (model[i] == v && expect < static_cast<size_t>(-count)) {
              ++expect;
            } else {
              kept.push_front(model[i]);
            }
          }
        }
        ASSERT_EQ(list.Remove(v, count), expect);
        model.swap(kept);
        break;
      }
      case 9:
        if (model.size() > 1 && rng() % 4 == 0) {
          size_t start = rng() % (model.size() / 4 + 1);
          size_t stop = model.size() - 1 - rng() % (model.size() / 4 + 1);
          if (start > stop) break;
          list.Trim(start, stop);
          model = std::deque<std::string>(model.begin() + static_cast<std::ptrdiff_t>(start),
                                          model.begin() + static_cast<std::ptrdiff_t>(stop + 1));
        }
        break;
      case 10:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          ASSERT_EQ(list.At(i), model[i]);
        }
        break;
      case 11:
        if (!model.empty()) {
          size_t from = rng() % model.size();
          size_t to = from + rng() % (model.size() - from);
          size_t stop_after = rng() % 50;  // an early stop, as LPOS COUNT does
          std::vector<std::string> got, want;
          list.ForRange(from, to, [&](size_t i, std::string_view v) {
            EXPECT_EQ(i, from + got.size());
            got.emplace_back(v);
            return got.size() < stop_after + 1;
          });
          for (size_t i = from; i <= to && want.size() < stop_after + 1; ++i) {
            want.push_back(model[i]);
          }
          ASSERT_EQ(got, want);
        }
        break;
      case 12:
        if (!model.empty()) {
          size_t from = rng() % model.size();
          size_t stop_after = rng() % 50;
          std::vector<std::string> got, want;
          list.ForBackward(from, [&](size_t i, std::string_view v) {
            EXPECT_EQ(i, from - got.size());
            got.emplace_back(v);
            return got.size() < stop_after + 1;
          });
          for (size_t i = from + 1; i-- > 0 && want.size() < stop_after + 1;) {
            want.push_back(model[i]);
          }
          ASSERT_EQ(got, want);
        }
        break;
      case 13:
        if (rng() % 100 == 0) {
          list.Clear();
          model.clear();
        }
        break;
      case 14:
        if (rng() % 20 == 0) {
          Entry* copy = CloneEntry(list.entry(), "k2", -1, /*steal=*/false);
          ListRef c(copy, node_limit, depth);
          EXPECT_EQ(Items(c), model);
          if (Big(c) != nullptr) {
            EXPECT_TRUE(Big(c)->NodesValid(limit));
          }
          c.PushBack("only-in-the-copy");  // the copy owns its own nodes
          FreeEntry(c.entry());
        }
        break;
      default:
        ASSERT_EQ(Items(list), model);
        break;
    }
    ASSERT_EQ(list.size(), model.size());
    ASSERT_EQ(list.empty(), model.empty());
    if (const ListObject* big = Big(list)) {
      ASSERT_TRUE(big->NodesValid(limit));
      ASSERT_EQ(big->ElementCount(), model.size());
      most_nodes = std::max(most_nodes, big->nodes().size());
      most_compressed = std::max(most_compressed, big->CompressedNodes());
      ASSERT_EQ(big->compress_depth(), static_cast<size_t>(depth));
    }
  }
  if (depth > 0) {
    EXPECT_GT(most_compressed, 0u);
  } else {
    EXPECT_EQ(most_compressed, 0u);
  }
  ASSERT_EQ(Items(list), model);
  if (converts) {
    EXPECT_GE(most_nodes, 5u);  // the run did cross node boundaries
  } else {
    EXPECT_TRUE(list.packed());
  }
}

TEST(ListRef, MatchesADequeModelWhenPacked) { RunModel(-5, 1, 0, false); }
TEST(ListRef, MatchesADequeModelAcrossConversion) { RunModel(8, 2, 0, true); }
TEST(ListObject, MatchesADequeModelWithTwoElementNodes) { RunModel(2, 11, 9000, true); }
TEST(ListObject, MatchesADequeModelWithOneElementNodes) { RunModel(1, 12, 9000, true); }
TEST(ListObject, MatchesADequeModelWithCountLimitZero) { RunModel(0, 13, 9000, true); }
TEST(ListObject, MatchesADequeModelWithFiveElementNodes) { RunModel(5, 14, 9000, true); }
TEST(ListObject, MatchesADequeModelWithCountLimitAndByteCap) { RunModel(128, 15, 9000, true); }
TEST(ListObject, MatchesADequeModelWith4KiBNodes) { RunModel(-1, 16, 5000, true); }
TEST(ListObject, MatchesADequeModelWith8KiBNodes) { RunModel(-2, 17, 9000, true); }
TEST(ListObject, MatchesADequeModelWith64KiBNodes) { RunModel(-5, 18, 70000, true); }

TEST(ListObject, MatchesADequeModelCompressedDepth1) { RunModel(8, 21, 9000, true, 1); }
TEST(ListObject, MatchesADequeModelCompressedDepth2) { RunModel(4, 22, 9000, true, 2); }
TEST(ListObject, MatchesADequeModelCompressedOneElementNodes) { RunModel(1, 23, 9000, true, 1); }
TEST(ListObject, MatchesADequeModelCompressed8KiBNodes) { RunModel(-2, 24, 9000, true, 3); }

// A list of many nodes with depth 2: all but two nodes at each end are compressed, every
// element reads back, and a read in the middle leaves nodes raw only until the next call.
TEST(ListObject, CompressedNodesRoundTrip) {
  TestList t(16, 2);
  std::vector<std::string> want;
  for (int i = 0; i < 1600; ++i) {
    want.push_back("element-" + std::to_string(i % 50) + "-padding-padding");
    t.ref.PushBack(want.back());
  }
  const ListObject* big = Big(t.ref);
  ASSERT_NE(big, nullptr);
  ASSERT_EQ(big->nodes().size(), 100u);
  EXPECT_EQ(big->CompressedNodes(), 96u);
  for (size_t i = 0; i < big->nodes().size(); ++i) {
    EXPECT_EQ(big->nodes()[i]->compressed(), i >= 2 && i < 98) << i;
    EXPECT_EQ(big->nodes()[i]->count, 16u);
  }
  size_t raw_bytes = 0, usage_before = big->MemoryUsage();
  for (const ListNodePtr& n : big->nodes()) raw_bytes += n->bytes;
  EXPECT_LT(usage_before, raw_bytes / 2);  // repetitive elements compress well
  EXPECT_TRUE(big->NodesValid(ListNodeLimit::FromConfig(16, 2)));
  for (size_t i = 0; i < want.size(); i += 7) EXPECT_EQ(t.ref.At(i), want[i]);
  // Views from one ForRange stay valid after it returns.
  std::vector<std::string_view> views;
  t.ref.ForRange(500, 899, [&](size_t, std::string_view v) {
    views.push_back(v);
    return true;
  });
  ASSERT_EQ(views.size(), 400u);
  for (size_t i = 0; i < views.size(); ++i) ASSERT_EQ(views[i], want[500 + i]);
  EXPECT_LT(big->CompressedNodes(), 96u);
  EXPECT_EQ(t.ref.At(0), want[0]);  // the next call compresses them again
  EXPECT_EQ(big->CompressedNodes(), 96u);
  t.ref.ForRange(0, want.size() - 1, [](size_t, std::string_view) { return true; });
  EXPECT_EQ(big->CompressedNodes(), 0u);
  big->FoldOpened();  // or FoldOpened does
  EXPECT_EQ(big->CompressedNodes(), 96u);
  // Pops from both ends down to a few nodes leave the new end nodes raw.
  for (int i = 0; i < 760; ++i) {
    EXPECT_EQ(t.ref.PopFront(), want[static_cast<size_t>(i)]);
    EXPECT_EQ(t.ref.PopBack(), want[want.size() - 1 - static_cast<size_t>(i)]);
  }
  EXPECT_EQ(big->nodes().size(), 6u);  // 8 + 4 * 16 + 8 elements
  EXPECT_EQ(big->CompressedNodes(), 2u);
  EXPECT_TRUE(big->NodesValid(ListNodeLimit::FromConfig(16, 2)));
  // Incompressible elements are kept raw.
  TestList r(16, 1);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 800; ++i) {
    std::string v(40, ' ');
    for (char& c : v) c = static_cast<char>(rng());
    r.ref.PushBack(v);
  }
  EXPECT_EQ(Big(r.ref)->CompressedNodes(), 0u);
  // A small node (under 48 bytes) is never compressed.
  TestList s(2, 1);
  for (int i = 0; i < 100; ++i) s.ref.PushBack("aaaaaaaaaa");
  EXPECT_EQ(Big(s.ref)->CompressedNodes(), 0u);
}

TEST(ListObject, PushesFillEndNodesUpToTheLimit) {
  TestList t(4);
  for (int i = 0; i < 1000; ++i) t.ref.PushBack("v" + std::to_string(i));
  for (int i = 0; i < 1000; ++i) t.ref.PushFront("w" + std::to_string(i));
  const ListObject* big = Big(t.ref);
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->NodesValid(ListNodeLimit::FromConfig(4)));
  EXPECT_EQ(big->nodes().size(), 500u);
  for (const ListNodePtr& n : big->nodes()) EXPECT_EQ(n->count, 4u);
  EXPECT_EQ(t.ref.At(0), "w999");
  EXPECT_EQ(t.ref.At(1000), "v0");
  EXPECT_EQ(t.ref.At(1999), "v999");
}

// Pushes and pops at the head use the room before a node's run: a node's block changes only
// when it doubles (or shrinks to a quarter), not on every push as it would if the run had to
// move up, and no block grows past the node limit.
TEST(ListObject, HeadPushesAndPopsReallocateOnlyToGrowOrShrink) {
  TestList t(-2);  // 8 KiB nodes
  ListNodeLimit limit = ListNodeLimit::FromConfig(-2);
  const ListNode* last = nullptr;
  const char* head = nullptr;  // where the head element's bytes were before the push
  size_t moves = 0;
  size_t unmoved = 0;
  for (int i = 0; i < 20000; ++i) {
    t.ref.PushFront("e" + std::to_string(i));
    const ListObject* big = Big(t.ref);
    if (big == nullptr) continue;
    if (big->nodes().front().get() != last) {
      ++moves;
    } else {
      // Same block: the element that was first has not moved.
      ASSERT_EQ(big->At(1).data(), head) << i;
      ++unmoved;
    }
    last = big->nodes().front().get();
    head = big->At(0).data();
  }
  EXPECT_GT(unmoved, 18000u);  // the rest: the packed list before it converted, and moves
  const ListObject* big = Big(t.ref);
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->NodesValid(limit));
  size_t nodes = big->nodes().size();
  EXPECT_GE(nodes, 20u);
  // A node starts at one element and doubles to 8 KiB: about ten blocks each.
  EXPECT_LE(moves, nodes * 12);
  // (glibc's malloc, which the unit tests use, rounds an 8 KiB block up by a few bytes.)
  for (const ListNodePtr& n : big->nodes()) EXPECT_LE(malloc_usable_size(n.get()), 8192u + 16);
  EXPECT_EQ(t.ref.At(0), "e19999");
  EXPECT_EQ(t.ref.At(19999), "e0");

  moves = 0;
  last = big->nodes().front().get();
  for (int i = 19999; i >= 10000; --i) {
    ASSERT_EQ(t.ref.PopFront(), "e" + std::to_string(i));
    if (big->nodes().front().get() != last) ++moves;
    last = big->nodes().front().get();
  }
  // Each emptied node is dropped (one change) after shrinking at most twice.
  EXPECT_LE(moves, nodes * 3);
  EXPECT_TRUE(big->NodesValid(limit));
  // A queue: pushed at the head, popped at the tail, and the other way round.
  for (int i = 0; i < 5000; ++i) {
    t.ref.PushFront("q" + std::to_string(i));
    t.ref.PushBack("r" + std::to_string(i));
    ASSERT_EQ(t.ref.PopBack(), "r" + std::to_string(i));
    ASSERT_EQ(t.ref.PopBack(), "e" + std::to_string(i));
  }
  EXPECT_EQ(t.ref.size(), 10000u);
  EXPECT_EQ(t.ref.At(0), "q4999");
  EXPECT_EQ(t.ref.At(9999), "e5000");
  EXPECT_TRUE(big->NodesValid(limit));
}

TEST(ListObject, ByteLimitKeepsNodesSmallAndHugeElementsAlone) {
  TestList t(-1);  // 4 KiB nodes
  ListNodeLimit limit = ListNodeLimit::FromConfig(-1);
  for (int i = 0; i < 300; ++i) t.ref.PushBack(std::string(100, 'x'));
  t.ref.PushBack(std::string(10000, 'h'));
  t.ref.PushBack("after");
  t.ref.PushFront(std::string(5000, 'g'));
  const ListObject* big = Big(t.ref);
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->NodesValid(limit));
  EXPECT_EQ(big->nodes().front()->count, 1u);  // the 5000-byte head
  size_t huge = 0;
  for (const ListNodePtr& n : big->nodes()) {
    if (n->bytes > limit.max_bytes) {
      EXPECT_EQ(n->count, 1u);
      ++huge;
    }
  }
  EXPECT_EQ(huge, 2u);
  EXPECT_EQ(t.ref.At(301), std::string(10000, 'h'));
  EXPECT_EQ(t.ref.PopBack(), "after");
  EXPECT_EQ(t.ref.PopBack(), std::string(10000, 'h'));
  // Growing an element past the limit with LSET splits its node.
  t.ref.Set(150, std::string(6000, 's'));
  EXPECT_TRUE(big->NodesValid(limit));
  EXPECT_EQ(t.ref.At(150), std::string(6000, 's'));
  EXPECT_EQ(t.ref.At(151), std::string(100, 'x'));
}

TEST(ListObject, RemovalDropsEmptiedNodesAndMergesNeighbours) {
  TestList t(4);
  for (int i = 0; i < 400; ++i) t.ref.PushBack(i % 2 ? "a" : "b");
  ASSERT_EQ(Big(t.ref)->nodes().size(), 100u);
  EXPECT_EQ(t.ref.Remove("a", 0), 200u);
  EXPECT_EQ(t.ref.size(), 200u);
  EXPECT_EQ(Big(t.ref)->nodes().size(), 50u);  // halves merged pairwise
  EXPECT_TRUE(Big(t.ref)->NodesValid(ListNodeLimit::FromConfig(4)));
  t.ref.Trim(3, 196);  // partial end nodes and whole ones
  EXPECT_EQ(t.ref.size(), 194u);
  EXPECT_TRUE(Big(t.ref)->NodesValid(ListNodeLimit::FromConfig(4)));
  // Repeated inserts at one place fill nodes instead of leaving one-element ones.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(t.ref.Insert("b", "new", true));
  EXPECT_TRUE(Big(t.ref)->NodesValid(ListNodeLimit::FromConfig(4)));
  EXPECT_LE(Big(t.ref)->nodes().size(), (294u + 3) / 4 + 2);
}

TEST(ListObject, MemoryUsageCountsNodeBlocks) {
  TestList t(-2);
  for (int i = 0; i < 7000; ++i) t.ref.PushBack(std::string(1024, 'x'));
  size_t mem = EntryMemory(t.ref.entry());
  // Seven 1 KiB elements to an 8 KiB node: about 1170 bytes an element, not 1280 + 32.
  EXPECT_GT(mem, 7000u * 1024);
  EXPECT_LT(mem, 7000u * 1200);
  EXPECT_EQ(Big(t.ref)->nodes().size(), 1000u);
}

TEST(ListRef, ConvertsPastTheNodeLimit) {
  TestList bytes_limited(-1);  // 4 KiB
  for (int i = 0; i < 100; ++i) bytes_limited.ref.PushBack(std::string(10, 'x'));
  EXPECT_TRUE(bytes_limited.ref.packed());
  for (int i = 0; i < 400; ++i) bytes_limited.ref.PushBack(std::string(10, 'x'));
  EXPECT_FALSE(bytes_limited.ref.packed());
  EXPECT_EQ(bytes_limited.ref.size(), 500u);
  TestList count_limited(3);
  for (int i = 0; i < 3; ++i) count_limited.ref.PushBack("v");
  EXPECT_TRUE(count_limited.ref.packed());
  count_limited.ref.PushFront("w");
  EXPECT_FALSE(count_limited.ref.packed());
  EXPECT_EQ(count_limited.ref.At(0), "w");
  // A multi-element push over the limit converts once and keeps LPUSH order.
  TestList multi(3);
  std::vector<std::string_view> values{"a", "b", "c", "d"};
  multi.ref.Push(true, values);
  EXPECT_FALSE(multi.ref.packed());
  EXPECT_EQ(Items(multi.ref), (std::deque<std::string>{"d", "c", "b", "a"}));
  // LSET and LINSERT growing a packed list past its byte limit convert too.
  TestList set_grows(-1);
  set_grows.ref.PushBack("a");
  set_grows.ref.PushBack("b");
  set_grows.ref.Set(0, std::string(5000, 'x'));
  EXPECT_FALSE(set_grows.ref.packed());
  EXPECT_EQ(set_grows.ref.At(1), "b");
  TestList insert_grows(-1);
  insert_grows.ref.PushBack("a");
  EXPECT_TRUE(insert_grows.ref.Insert("a", std::string(5000, 'y'), true));
  EXPECT_FALSE(insert_grows.ref.packed());
  EXPECT_EQ(insert_grows.ref.size(), 2u);
}

TEST(ListRef, TenElementsArePackedInOneBlock) {
  // The entry header, the key and 10 * (1 length byte + 9 bytes): nothing else.
  Entry* e = ListRef::NewEntry("list:0000001");
  ListRef l(e, -2);
  std::vector<std::string> elems;
  for (int i = 0; i < 10; ++i) elems.push_back("element-" + std::to_string(i));
  std::vector<std::string_view> views(elems.begin(), elems.end());
  l.Push(false, views);
  EXPECT_EQ(l.entry()->storage, Entry::kPacked);
  EXPECT_EQ(l.entry()->enc, Encoding::kQuicklist);
  EXPECT_EQ(EntryMemory(l.entry()), sizeof(Entry) + 12 + 100);
  EXPECT_EQ(l.size(), 10u);
  // Popping most of it gives the block back.
  for (int i = 0; i < 9; ++i) l.PopBack();
  EXPECT_EQ(l.At(0), "element-0");
  EXPECT_EQ(EntryMemory(l.entry()), sizeof(Entry) + 12 + 10);
  FreeEntry(l.entry());
}

// Growing a packed list moves its entry: the table must point at the new block, with the TTL,
// the access clock and every other key of the shard still in place.
TEST(ListRef, MovedEntryStaysInItsTableWithItsTtl) {
  Keyspace ks(1);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back("{tag}" + std::to_string(i));  // one shard
  for (const std::string& k : keys) ks.Put(0, ListRef::NewEntry(k));
  int64_t ttl = NowUnixMs() + 100000;
  Entry* e = ks.SetExpire(0, ks.LookupLink(0, keys[777]), ttl);
  uint32_t lru = e->lru;
  ListRef l(ks, 0, e, -2);
  for (int i = 0; i < 300; ++i) l.PushBack("value-" + std::to_string(i));
  EXPECT_NE(l.entry(), e);  // it did move
  Entry* found = ks.Lookup(0, keys[777]);
  EXPECT_EQ(found, l.entry());
  EXPECT_EQ(found->expire_ms(), ttl);
  EXPECT_GE(found->lru, lru);
  EXPECT_EQ(ks.db(0).expires(), 1u);
  EXPECT_EQ(ListRef(ks, 0, found, -2).size(), 300u);
  for (const std::string& k : keys) ASSERT_NE(ks.Lookup(0, k), nullptr) << k;
  EXPECT_EQ(ks.db(0).size(), keys.size());
  // And a conversion to a heap object takes its place the same way.
  for (int i = 0; i < 1000; ++i) l.PushBack("value-" + std::to_string(i));
  EXPECT_FALSE(l.packed());
  found = ks.Lookup(0, keys[777]);
  EXPECT_EQ(found, l.entry());
  EXPECT_EQ(found->expire_ms(), ttl);
  EXPECT_EQ(ListRef(ks, 0, found, -2).size(), 1300u);
}

TEST(ListRef, BackwardIterationAndBinaryValues) {
  TestList t(-2);
  ListRef& l = t.ref;
  std::string bin("a\0b\r\n", 5);
  l.PushBack(bin);
  l.PushBack("");
  l.PushBack("z");
  std::vector<std::string> back;
  l.ForBackward(2, [&](size_t, std::string_view v) {
    back.emplace_back(v);
    return true;
  });
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], "z");
  EXPECT_EQ(back[1], "");
  EXPECT_EQ(back[2], bin);
}

}  // namespace
}  // namespace keel
