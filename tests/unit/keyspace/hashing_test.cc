#include "keel/keyspace/hashing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

namespace keel::hashing {
namespace {

// Every length through three 16-byte steps: flipping any one bit of the string changes the
// hash, and so does the seed, and a string and its extension by a zero byte differ.
TEST(Hashing, EveryBitOfEveryLengthCounts) {
  std::mt19937_64 rng(11);
  for (size_t len = 0; len <= 50; ++len) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    uint64_t h = Hash(s, 1);
    EXPECT_NE(Hash(s, 2), h) << len;
    EXPECT_NE(Hash(s + std::string(1, '\0'), 1), h) << len;
    for (size_t bit = 0; bit < 8 * len; ++bit) {
      std::string t = s;
      t[bit / 8] = static_cast<char>(t[bit / 8] ^ (1 << (bit % 8)));
      EXPECT_NE(Hash(t, 1), h) << len << " " << bit;
    }
  }
}

// The keyspace takes a shard from the top bits and a bucket from the low bits, so both ends
// must spread keys that differ only in a counter (the usual "key:N"): every one of 256 cells
// gets a fair share of 256k keys, at both ends, for short and long keys.
TEST(Hashing, TopAndBottomBitsSpreadSequentialKeys) {
  for (const std::string prefix : {"key:", "user:session:0123456789abcdef:"}) {
    std::array<int, 256> top{};
    std::array<int, 256> low{};
    const int n = 256 * 1024;
    for (int i = 0; i < n; ++i) {
      uint64_t h = Hash(prefix + std::to_string(i), 0x1234);
      ++top[h >> 56];
      ++low[h & 255];
    }
    // Expected 1024 per cell, standard deviation 32: 6 deviations either way.
    for (int c = 0; c < 256; ++c) {
      EXPECT_NEAR(top[c], 1024, 192) << prefix << " top " << c;
      EXPECT_NEAR(low[c], 1024, 192) << prefix << " low " << c;
    }
  }
}

TEST(Hashing, NoCollisionsAmongAMillionShortKeys) {
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 1000000; ++i) hashes.push_back(Hash("k" + std::to_string(i), 99));
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::adjacent_find(hashes.begin(), hashes.end()), hashes.end());
}

}  // namespace
}  // namespace keel::hashing
