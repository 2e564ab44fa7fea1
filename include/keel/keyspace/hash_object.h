#pragma once

// The hash value type, in Redis 7.0's two encodings:
//
// * "listpack": the field/value pairs packed into the key's entry (Entry::kPacked, see
//   value_ref.h), in insertion order, each string as a varint length (one byte up to 127 bytes)
//   followed by its bytes. So a small hash is one allocation, like a small list or set. Used
//   while the hash has at most hash-max-listpack-entries fields, no field or value is longer
//   than hash-max-listpack-value bytes, and the pairs take at most HashRef::kMaxPackedBytes.
// * HashtableHash ("hashtable"): a ChainedTable (see set_object.h) of one-allocation
//   field+value nodes, from then on (never back).
//
// HashRef is the encoding-independent handle the commands use (see SetRef).

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

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
  size_t SampledMemoryUsage(size_t samples) const override;
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

// HashRef is the handle the hash commands use on a hash entry, whatever its encoding (see
// ValueRef for the entry's lifetime). Writes convert a packed hash to a table where Redis 7.0
// converts a listpack (a field or value longer than max_value, more than max_entries fields),
// and when the packed pairs would pass kMaxPackedBytes.
class HashRef : public ValueRef {
 public:
  // A packed hash never grows past this many bytes inside its entry (see Entry::val_len).
  static constexpr size_t kMaxPackedBytes = kMaxValueBytes;

  HashRef(Keyspace& ks, int db, Entry* e) : ValueRef(&ks, db, e) {}
  // A handle on a detached entry (a hash being built) or, for reading only, on any entry.
  explicit HashRef(Entry* e) : ValueRef(nullptr, 0, e) {}
  static const HashRef Read(const Entry* e) { return HashRef(const_cast<Entry*>(e)); }

  // An empty packed hash entry for `key`. Not in any table yet.
  static Entry* NewEntry(std::string_view key);

  // What OBJECT ENCODING reports (kListpack or kHashtable).
  Encoding encoding() const { return entry()->enc; }
  size_t Size() const;
  // The value of `field`. It points into the entry: valid until the next change.
  std::optional<std::string_view> Get(std::string_view field) const;
  // Converts to a table first when any of `strings` is longer than max_value (Redis's
  // hashTypeTryConversion).
  void TryConversion(std::initializer_list<std::string_view> strings, size_t max_value);
  // Sets a field (converting when the field or value is too long to pack, or when the hash
  // grows past max_entries fields). Returns true if the field is new.
  bool Set(std::string_view field, std::string_view value, size_t max_entries, size_t max_value);
  bool Remove(std::string_view field);
  // Pairs in the encoding's order (packed: insertion order).
  void ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const;
  std::pair<std::string, std::string> RandomPair(std::mt19937_64& rng) const;
  void ConvertToTable();
  // The table of an unpacked hash (HSCAN). REQUIRES: !packed().
  const HashtableHash* table() const {
    return static_cast<const HashtableHash*>(entry()->object());
  }

 private:
  HashtableHash* table() { return static_cast<HashtableHash*>(entry()->object()); }
  // The byte offset of the pair whose field is `field`, or npos; *pairs is set to the number of
  // pairs before it (all of them when it is absent).
  size_t FindPair(std::string_view field, size_t* pairs) const;
};

}  // namespace keel
