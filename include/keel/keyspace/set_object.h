#pragma once

// The set value type, in Redis 7.0's two encodings:
//
// * IntsetObject ("intset"): ONE malloc block holding the object header and a sorted array of
//   integers of a single width (2, 4 or 8 bytes), widened when a member needs it and never
//   narrowed. Used while every member is a canonical int64 and the set has at most
//   set-max-intset-entries members.
// * HashSetObject ("hashtable"): an unordered_set of strings, used from then on (never back).
//
// SetValue is the encoding-independent handle the commands use: it carries the encoding and
// the object pointer, converts where Redis converts, and is written back into the entry with
// StoreSet() when an operation replaced the object (intset growth, conversion).

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "keel/keyspace/entry.h"

namespace keel {

// Transparent hashing, so string_view lookups do not build a std::string.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Layout: [vptr 8][len 4][width 1][pad 3] then len * width bytes of sorted integers (native byte
// order), with spare room up to what malloc actually gave the block (malloc_usable_size).
class IntsetObject final : public Object {
 public:
  static IntsetObject* New();
  // Memory comes from malloc (one block with the header), so delete must go back to free.
  static void operator delete(void* p) { std::free(p); }

  size_t ElementCount() const override { return len_; }
  size_t MemoryUsage() const override;
  Object* Clone() const override;

  size_t size() const { return len_; }
  unsigned width() const { return width_; }
  int64_t At(size_t i) const;
  bool Contains(int64_t v) const {
    size_t pos;
    return Find(v, &pos);
  }
  // Adds v. The block may be reallocated: returns the object to use from now on (the old one is
  // freed when it differs).
  static IntsetObject* Add(IntsetObject* s, int64_t v, bool* added);
  // Removes v (returns false if absent). May shrink the block: returns the object to use.
  static IntsetObject* Remove(IntsetObject* s, int64_t v, bool* removed);
  // Bytes of integer storage available without reallocating.
  size_t CapacityBytes() const;

 private:
  IntsetObject() = default;
  static IntsetObject* Allocate(size_t data_bytes);
  static IntsetObject* Resized(IntsetObject* s, size_t data_bytes);
  bool Find(int64_t v, size_t* pos) const;  // lower bound in *pos
  void Put(size_t i, int64_t v);
  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }

  uint32_t len_ = 0;
  uint8_t width_ = 2;
};
static_assert(sizeof(IntsetObject) == 16);

class HashSetObject final : public Object {
 public:
  using Set = std::unordered_set<std::string, StringViewHash, std::equal_to<>>;
  size_t ElementCount() const override { return set.size(); }
  size_t MemoryUsage() const override;
  Object* Clone() const override;
  // Gives memory back after many removals, so random picks (random bucket) stay cheap.
  void MaybeShrink();
  // A uniformly chosen bucket among the non-empty ones, then a member in it (like Redis: fast,
  // not perfectly fair across buckets of different lengths). REQUIRES: !set.empty().
  Set::const_iterator Random(std::mt19937_64& rng) const;

  Set set;
};

// The set value of an entry, as a (encoding, object) pair. Does not own the object.
struct SetValue {
  Encoding enc = Encoding::kIntset;
  Object* obj = nullptr;

  // Redis's setTypeCreate(first): an intset when `first` is an integer, else a hashtable.
  static SetValue CreateFor(std::string_view first);
  // An empty intset (what *STORE results start from).
  static SetValue CreateIntset();
  static SetValue Of(const Entry* e) { return {e->enc, e->object()}; }

  IntsetObject* intset() const { return static_cast<IntsetObject*>(obj); }
  HashSetObject* hashset() const { return static_cast<HashSetObject*>(obj); }

  size_t Size() const;
  bool Contains(std::string_view member) const;
  // Adds `member`, converting to a hashtable when it is not an integer or when the intset
  // would exceed max_intset members. Returns true if it was added.
  bool Add(std::string_view member, size_t max_intset);
  bool Remove(std::string_view member);
  // Every member, in the encoding's order (intset: ascending).
  void ForEach(const std::function<void(std::string_view)>& fn) const;
  std::vector<std::string> Members() const;
  // A random member. REQUIRES: Size() > 0.
  std::string RandomMember(std::mt19937_64& rng) const;
  void ConvertToHashtable();
  void Destroy() {
    delete obj;
    obj = nullptr;
  }
};

// Writes v's object pointer and encoding into the entry (after v changed them).
void StoreSet(Entry* e, const SetValue& v);

// Formats an integer member (buffer of at least 21 bytes); returns its text.
std::string_view FormatInt(int64_t v, char* buf);

}  // namespace keel
