#include "keel/keyspace/list_object.h"

#include <gtest/gtest.h>

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
  explicit TestList(int64_t node_limit) : ref(ListRef::NewEntry("k"), node_limit) {}
  ~TestList() { FreeEntry(ref.entry()); }
  ListRef ref;
};

// Random operations against a std::deque model, for both representations: a packed list that
// stays small and one that converts (element limit 8) part way.
void RunModel(int64_t node_limit, uint64_t seed) {
  std::mt19937_64 rng(seed);
  TestList t(node_limit);
  ListRef& list = t.ref;
  std::deque<std::string> model;
  auto value = [&] {
    size_t len = rng() % 4 == 0 ? 200 + rng() % 100 : rng() % 6;  // long values cross varint sizes
    return std::string(len, static_cast<char>('a' + rng() % 3));
  };
  for (int step = 0; step < 3000; ++step) {
    switch (rng() % 9) {
      case 0: {
        std::string v = value();
        list.PushFront(v);
        model.push_front(v);
        break;
      }
      case 1: {
        std::string v = value();
        list.PushBack(v);
        model.push_back(v);
        break;
      }
      case 2:
        if (!model.empty()) {
          ASSERT_EQ(list.PopFront(), model.front());
          model.pop_front();
        }
        break;
      case 3:
        if (!model.empty()) {
          ASSERT_EQ(list.PopBack(), model.back());
          model.pop_back();
        }
        break;
      case 4:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          std::string v = value();
          list.Set(i, v);
          model[i] = v;
        }
        break;
      case 5: {
        std::string pivot = value(), v = value();
        bool after = rng() & 1;
        auto it = std::find(model.begin(), model.end(), pivot);
        bool found = it != model.end();
        ASSERT_EQ(list.Insert(pivot, v, after), found);
        if (found) model.insert(after ? it + 1 : it, v);
        break;
      }
      case 6: {
        std::string v = value();
        int64_t count = static_cast<int64_t>(rng() % 5) - 2;
        size_t expect = 0;
        if (count >= 0) {
          for (auto it = model.begin(); it != model.end();) {
            if (*it == v && (count == 0 || expect < static_cast<size_t>(count))) {
              it = model.erase(it);
              ++expect;
            } else {
              ++it;
            }
          }
        } else {
          for (size_t i = model.size(); i-- > 0;) {
            if (model[i] == v && expect < static_cast<size_t>(-count)) {
              model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
              ++expect;
            }
          }
        }
        ASSERT_EQ(list.Remove(v, count), expect);
        break;
      }
      case 7:
        if (model.size() > 20) {
          size_t start = rng() % 3, stop = model.size() - 1 - rng() % 3;
          list.Trim(start, stop);
          model = std::deque<std::string>(model.begin() + static_cast<std::ptrdiff_t>(start),
                                          model.begin() + static_cast<std::ptrdiff_t>(stop + 1));
        }
        break;
      case 8:
        if (!model.empty()) {
          size_t i = rng() % model.size();
          ASSERT_EQ(list.At(i), model[i]);
        }
        break;
    }
    ASSERT_EQ(list.size(), model.size());
  }
  ASSERT_EQ(Items(list), model);
  Entry* copy = CloneEntry(list.entry(), "k2", -1, /*steal=*/false);
  ASSERT_EQ(Items(ListRef(copy, node_limit)), model);
  FreeEntry(copy);
}

TEST(ListRef, MatchesADequeModelWhenPacked) { RunModel(-5, 1); }
TEST(ListRef, MatchesADequeModelAcrossConversion) { RunModel(8, 2); }

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
