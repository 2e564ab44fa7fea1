#include "keel/common/name_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keel {
namespace {

TEST(NameCache, KeepsEveryNameOfAScriptAndTellsCaseApart) {
  NameCache<int> cache;
  // The ten-command script's names: a first-letter-and-length cache kept only some of them.
  std::vector<std::string> names = {"INCR", "GET",    "HSET",    "HGET",   "EXPIRE",
                                    "TTL",  "EXISTS", "HINCRBY", "STRLEN", "get"};
  for (size_t i = 0; i < names.size(); ++i) cache.Put(names[i], static_cast<int>(i));
  for (size_t i = 0; i < names.size(); ++i) {
    const int* v = cache.Find(names[i]);
    ASSERT_NE(v, nullptr) << names[i];
    EXPECT_EQ(*v, static_cast<int>(i)) << names[i];
  }
  EXPECT_EQ(cache.Find("Get"), nullptr);  // bytes as written: another name
  EXPECT_EQ(cache.Find("HSETX"), nullptr);
}

TEST(NameCache, EmptyAndLongNamesAreNotKept) {
  NameCache<int> cache;
  cache.Put("", 1);
  cache.Put("abcdefghijklmnopq", 2);  // 17 bytes
  cache.Put("abcdefghijklmnop", 3);   // 16 bytes: kept
  EXPECT_EQ(cache.Find(""), nullptr);
  EXPECT_EQ(cache.Find("abcdefghijklmnopq"), nullptr);
  ASSERT_NE(cache.Find("abcdefghijklmnop"), nullptr);
  EXPECT_EQ(*cache.Find("abcdefghijklmnop"), 3);
}

TEST(NameCache, AFullWindowReplacesItsHomeSlotAndStaysConsistent) {
  NameCache<int> cache;
  // Many more names than slots: whatever Find returns must be the value last Put for that name.
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) names.push_back("cmd" + std::to_string(i));
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < names.size(); ++i)
      cache.Put(names[i], round * 1000 + static_cast<int>(i));
    size_t found = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      if (const int* v = cache.Find(names[i])) {
        EXPECT_EQ(*v, round * 1000 + static_cast<int>(i)) << names[i];
        ++found;
      }
    }
    EXPECT_GT(found, 0u);
    EXPECT_LE(found, 64u);
  }
}

}  // namespace
}  // namespace keel
