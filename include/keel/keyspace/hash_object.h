#pragma once

// The hash value type, in Redis 7.0's two encodings:
//
// * ListpackHash ("listpack"): ONE malloc block holding the object header and the field/value
//   pairs packed in insertion order, each string as a varint length (1 byte up to 127 bytes)
//   followed by its bytes. Used while the hash has at most hash-max-listpack-entries fields and
//   no field or value is longer than hash-max-listpack-value bytes.
// * HashtableHash ("hashtable"): a ChainedTable (see set_object.h) of one-allocation
//   field+value nodes, from then on (never back).
//
// HashValue is the encoding-independent handle the commands use (see SetValue).

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/set_object.h"

namespace keel {

// Layout: [vptr 8][pairs 4][used bytes 4] then `used` bytes of entries
// (varint len, bytes) field, value, field, value, ... with spare room up to malloc_usable_size.
class ListpackHash final : public Object {
 public:
  static ListpackHash* New();
  static void operator delete(void* p) { std::free(p); }

  size_t ElementCount() const override { return pairs_; }
  size_t MemoryUsage() const override;
  Object* Clone() const override;

  size_t size() const { return pairs_; }
  size_t used_bytes() const { return used_; }
  std::optional<std::string_view> Get(std::string_view field) const;
  // Sets field to value (appending a new field at the end). May reallocate: returns the object
  // to use from now on.
  static ListpackHash* Set(ListpackHash* h, std::string_view field, std::string_view value,
                           bool* inserted);
  static ListpackHash* Remove(ListpackHash* h, std::string_view field, bool* removed);
  // Pairs in insertion order; fn returns false to stop.
  void ForEach(const std::function<bool(std::string_view, std::string_view)>& fn) const;
  std::pair<std::string_view, std::string_view> At(size_t index) const;

 private:
  ListpackHash() = default;
  static ListpackHash* Allocate(size_t data_bytes);
  static ListpackHash* Resized(ListpackHash* h, size_t data_bytes);
  size_t CapacityBytes() const;
  // Offset of the pair whose field is `field`, or used_.
  size_t FindPair(std::string_view field) const;
  std::string_view Read(size_t* off) const;
  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }

  uint32_t pairs_ = 0;
  uint32_t used_ = 0;
};
static_assert(sizeof(ListpackHash) == 16);

// A field and its value: ONE malloc block [next 8][field len 4][value len 4][field][value].
struct HashNode {
  HashNode* next;
  uint32_t flen;
  uint32_t vlen;

  static HashNode* Make(std::string_view field, std::string_view value);
  // Replaces the value, reallocating when it does not fit (or would waste much of the block):
  // returns the node to use from now on (the old one is freed when it differs).
  static HashNode* SetValue(HashNode* n, std::string_view value);
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {bytes(), flen}; }
  std::string_view value() const { return {bytes() + flen, vlen}; }
  size_t Bytes() const;
};
static_assert(sizeof(HashNode) == 16);

class HashtableHash final : public Object {
 public:
  size_t ElementCount() const override { return table.size(); }
  size_t MemoryUsage() const override;
  Object* Clone() const override;
  std::optional<std::string_view> Get(std::string_view field) const {
    const HashNode* n = table.Find(field);
    if (n == nullptr) return std::nullopt;
    return n->value();
  }
  // Sets field to value; returns true if the field is new.
  bool Set(std::string_view field, std::string_view value);
  bool Remove(std::string_view field) { return table.Erase(field); }
  // See HashSetObject::Random. REQUIRES: ElementCount() > 0.
  std::pair<std::string_view, std::string_view> Random(std::mt19937_64& rng) const {
    const HashNode* n = table.Random(rng);
    return {n->key(), n->value()};
  }
  // One HSCAN step (see ChainedTable::Scan): fn(field, value).
  template <typename F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    return table.Scan(cursor, [&](const HashNode* n) { fn(n->key(), n->value()); });
  }

  ChainedTable<HashNode> table;
};

struct HashValue {
  Encoding enc = Encoding::kListpack;
  Object* obj = nullptr;

  static HashValue Create() { return {Encoding::kListpack, ListpackHash::New()}; }
  static HashValue Of(const Entry* e) { return {e->enc, e->object()}; }

  ListpackHash* listpack() const { return static_cast<ListpackHash*>(obj); }
  HashtableHash* table() const { return static_cast<HashtableHash*>(obj); }

  size_t Size() const { return obj->ElementCount(); }
  std::optional<std::string_view> Get(std::string_view field) const;
  // Converts to a hashtable first when any of `strings` is longer than max_value (Redis's
  // hashTypeTryConversion).
  void TryConversion(std::initializer_list<std::string_view> strings, size_t max_value);
  // Sets a field (converting when the field or value is too long for a listpack, or when the
  // listpack grows past max_entries). Returns true if the field is new.
  bool Set(std::string_view field, std::string_view value, size_t max_entries, size_t max_value);
  bool Remove(std::string_view field);
  // Pairs in the encoding's order (listpack: insertion order).
  void ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const;
  std::pair<std::string, std::string> RandomPair(std::mt19937_64& rng) const;
  void ConvertToHashtable();
};

void StoreHash(Entry* e, const HashValue& v);

}  // namespace keel
