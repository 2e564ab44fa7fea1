#include "keel/keyspace/list_object.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

namespace keel {
namespace {

std::deque<std::string> Items(const ListObject& l) {
  std::deque<std::string> out;
  if (l.empty()) return out;
  l.ForRange(0, l.size() - 1, [&](size_t, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

// Random operations against a std::deque model, for both representations: a packed list that
// stays small and one that converts (element limit 8) part way.
void RunModel(int64_t node_limit, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ListObject list(node_limit);
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
  std::unique_ptr<Object> copy(list.Clone());
  ASSERT_EQ(Items(*static_cast<ListObject*>(copy.get())), model);
}

TEST(ListObject, MatchesADequeModelWhenPacked) { RunModel(-5, 1); }
TEST(ListObject, MatchesADequeModelAcrossConversion) { RunModel(8, 2); }

TEST(ListObject, ConvertsPastTheNodeLimit) {
  ListObject bytes_limited(-1);  // 4 KiB
  for (int i = 0; i < 100; ++i) bytes_limited.PushBack(std::string(10, 'x'));
  EXPECT_TRUE(bytes_limited.packed());
  for (int i = 0; i < 400; ++i) bytes_limited.PushBack(std::string(10, 'x'));
  EXPECT_FALSE(bytes_limited.packed());
  ListObject count_limited(3);
  for (int i = 0; i < 3; ++i) count_limited.PushBack("v");
  EXPECT_TRUE(count_limited.packed());
  count_limited.PushFront("w");
  EXPECT_FALSE(count_limited.packed());
  EXPECT_EQ(count_limited.At(0), "w");
}

TEST(ListObject, BackwardIterationAndBinaryValues) {
  ListObject l(-2);
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
