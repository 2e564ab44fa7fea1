#pragma once

// Builders and a canonical description of Keel values for the persistence tests.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/hash_object.h"
#include "keel/keyspace/list_object.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"

namespace keel::testing {

// Bytes from a hex string ("0a00" -> "\x0a\x00").
inline std::string Hex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A detached entry freed at the end of the scope.
struct Owned {
  explicit Owned(Entry* entry = nullptr) : e(entry) {}
  ~Owned() {
    if (e != nullptr) FreeEntry(e);
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Entry* e;
};

inline Entry* MakeList(std::string_view key, const std::vector<std::string>& items,
                       int64_t node_limit = -2) {
  ListRef l(ListRef::NewEntry(key), node_limit);
  for (const auto& v : items) l.PushBack(v);
  return l.entry();
}

inline Entry* MakeSet(std::string_view key, const std::vector<std::string>& items,
                      size_t max_intset = 512) {
  SetRef s(SetRef::NewEntry(key, items.at(0)));
  for (const auto& m : items) s.Add(m, max_intset);
  return s.entry();
}

inline Entry* MakeHash(std::string_view key,
                       const std::vector<std::pair<std::string, std::string>>& pairs,
                       size_t max_entries = 128, size_t max_value = 64) {
  HashRef h(HashRef::NewEntry(key));
  for (const auto& [f, v] : pairs) h.Set(f, v, max_entries, max_value);
  return h.entry();
}

// "type:contents" with set members and hash pairs sorted, list elements in order, and the
// expire when there is one.
inline std::string Describe(const Entry* e) {
  std::string out(TypeName(e->type));
  out += ':';
  std::vector<std::string> parts;
  switch (e->type) {
    case ObjType::kString: {
      char buf[24];
      out += e->StringValue(buf);
      break;
    }
    case ObjType::kList: {
      ListRef l(const_cast<Entry*>(e), -2);
      if (l.size() > 0) {
        l.ForRange(0, l.size() - 1, [&](size_t, std::string_view v) {
          out += std::string(v) + ",";
          return true;
        });
      }
      break;
    }
    case ObjType::kSet:
      SetRef::Read(e).ForEach([&](std::string_view m) { parts.emplace_back(m); });
      break;
    case ObjType::kHash:
      HashRef::Read(e).ForEach([&](std::string_view f, std::string_view v) {
        parts.push_back(std::string(f) + "=" + std::string(v));
      });
      break;
    case ObjType::kZset:
      // Ordered already: members with their scores, lowest first.
      ZsetRef::Read(e).ForEach([&](std::string_view m, double s) {
        out += std::string(m) + "=" + FormatScore(s) + ",";
      });
      break;
  }
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts) out += p + ",";
  if (e->has_expire()) out += " px=" + std::to_string(e->expire_ms());
  return out;
}

}  // namespace keel::testing
