#pragma once

// The set value type, in Redis 7.0's two encodings, stored three ways:
//
// * "intset": packed in the entry (Entry::kPacked), a width byte then a sorted array of
//   integers of that width (2, 4 or 8 bytes), widened when a member needs it and never
//   narrowed. Used while every member is a canonical int64 and the set has at most
//   set-max-intset-entries members.
// * "hashtable" while small: packed in the entry as a run of varint-length members in insertion
//   order (at most SetRef::kMaxPackedMembers members of at most kMaxPackedMember bytes). Redis
//   7.0 has no such encoding, so it reports "hashtable" and behaves as one: SMEMBERS order is
//   unspecified, and SSCAN returns everything in one call (as for any small Redis set).
// * "hashtable": a HashSetObject, a ChainedTable of one-allocation member nodes.
//
// Conversions go one way (intset -> packed strings -> table, or straight to the table).
// SetRef is the encoding-independent handle the commands use.

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/keyspace/chained_table.h"
#include "keel/keyspace/entry.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

namespace ht {

// Seeded 64-bit hash of a member / field (a plain function: no per-thread memo).
uint64_t Hash(std::string_view s);

}  // namespace ht

// A chained hash table of one-allocation nodes keyed by their bytes (ChainedTableCore, shared
// with the keyspace's Shard, hashed with ht::Hash), owning its nodes. Node must have a
// `Node* next` member, `std::string_view key() const` and `size_t Bytes() const` (its usable
// allocation size); nodes are malloc blocks freed with std::free.
template <typename Node>
class ChainedTable {
 public:
  ChainedTable() = default;
  ChainedTable(const ChainedTable&) = delete;
  ChainedTable& operator=(const ChainedTable&) = delete;
  ~ChainedTable() { Clear(); }

  size_t size() const { return core_.size(); }
  bool empty() const { return size() == 0; }
  bool rehashing() const { return core_.rehashing(); }
  size_t bucket_count() const { return core_.bucket_count(); }
  void AddChainStats(int t, ChainStats* s) const { core_.AddChainStats(t, s); }

  Node* Find(std::string_view key) const {
    Node** link = const_cast<ChainedTable*>(this)->FindLink(key, ht::Hash(key), nullptr);
    return link ? *link : nullptr;
  }
  // The link (bucket head or a node's next) that points at `key`'s node, or nullptr; *table is
  // set to the array holding it.
  Node** FindLink(std::string_view key, uint64_t hash, int* table) {
    return core_.FindLink(
        hash, [key](const Node* n) { return n->key() == key; }, table);
  }
  // Inserts a node whose key is absent; hash is ht::Hash(n->key()).
  void Insert(Node* n, uint64_t hash) { core_.Insert(n, hash); }
  // Unlinks the node at `link` (found by FindLink in array `table`) and returns it.
  Node* Unlink(Node** link, int table) { return core_.UnlinkAt(link, table); }
  // Removes and frees key's node; false when absent.
  bool Erase(std::string_view key) {
    int t = 0;
    Node** link = FindLink(key, ht::Hash(key), &t);
    if (link == nullptr) return false;
    std::free(Unlink(link, t));
    return true;
  }
  // Sizes an empty table for n elements.
  void Reserve(size_t n) { core_.Reserve(n); }
  // Fills this (empty) table with a copy of every node of `other`, each made by make(node).
  template <typename Make>
  void CopyFrom(const ChainedTable& other, Make&& make) {
    Reserve(other.size());
    other.ForEach([&](const Node* n) { Insert(make(n), ht::Hash(n->key())); });
  }
  void Clear() {
    core_.Clear([](Node* n) { std::free(n); });
  }
  template <typename F>
  void ForEach(F&& fn) const {
    core_.ForEach([&](const Node* n) { fn(n); });
  }
  // Bytes of the bucket arrays and nodes.
  size_t MemoryBytes() const {
    size_t b = bucket_count() * sizeof(Node*);
    ForEach([&](const Node* n) { b += n->Bytes(); });
    return b;
  }
  // MemoryBytes estimated from `samples` random nodes (0 or more than there are: exact).
  size_t SampledBytes(size_t samples) const {
    if (samples == 0 || samples >= size()) return MemoryBytes();
    thread_local std::mt19937_64 rng(0x6b65656c);
    size_t sampled = 0;
    for (size_t i = 0; i < samples; ++i) sampled += Random(rng)->Bytes();
    return bucket_count() * sizeof(Node*) + sampled * size() / samples;
  }
  // One reverse-binary scan step (see ChainedTableCore::Scan).
  template <typename F>
  uint64_t Scan(uint64_t v, F&& fn) const {
    return core_.Scan(v, [&](const Node* n) { fn(n); });
  }
  // A random node. REQUIRES: !empty().
  template <typename Rng>
  const Node* Random(Rng& rng) const {
    return core_.Random(rng);
  }

 private:
  struct KeyHash {
    static uint64_t Of(const Node* n) { return ht::Hash(n->key()); }
  };
  ChainedTableCore<Node, KeyHash> core_;
};

// A set member: ONE malloc block [next 8][len 4][member bytes].
struct SetNode {
  static constexpr size_t kHeader = 12;
  SetNode* next;
  uint32_t len;

  static SetNode* Make(std::string_view m);
  const char* bytes() const { return reinterpret_cast<const char*>(this) + kHeader; }
  std::string_view key() const { return {bytes(), len}; }
  size_t Bytes() const;
};

class HashSetObject final : public Object {
 public:
  size_t ElementCount() const override { return table.size(); }
  size_t MemoryUsage() const override;
  size_t SampledMemoryUsage(size_t samples) const override;
  Object* Clone() const override;
  bool Contains(std::string_view member) const { return table.Find(member) != nullptr; }
  // Returns true if the member was added (false: already present).
  bool Add(std::string_view member);
  bool Remove(std::string_view member) { return table.Erase(member); }
  // A random non-empty bucket, then a member of its chain (like Redis: fast, not perfectly fair
  // across buckets of different lengths). REQUIRES: ElementCount() > 0.
  std::string_view Random(std::mt19937_64& rng) const { return table.Random(rng)->key(); }
  // One SSCAN step (see ChainedTable::Scan).
  template <typename F>
  uint64_t Scan(uint64_t cursor, F&& fn) const {
    return table.Scan(cursor, [&](const SetNode* n) { fn(n->key()); });
  }

  ChainedTable<SetNode> table;
};

// SetRef is the handle the set commands use on a set entry, whatever its encoding (see
// ValueRef for the entry's lifetime). Adds convert where Redis 7.0 converts: an intset becomes
// a hashtable when a member is not an integer or when it would exceed set-max-intset-entries;
// a packed string set becomes a real table past kMaxPackedMembers or kMaxPackedMember.
class SetRef : public ValueRef {
 public:
  // A packed string set holds at most this many members, of at most this many bytes.
  static constexpr size_t kMaxPackedMembers = 128;
  static constexpr size_t kMaxPackedMember = 64;
  // An intset converts past this many bytes inside its entry (see Entry::val_len): a set of
  // 16-bit integers just under it that takes one 64-bit member grows fourfold, which must still
  // fit kMaxValueBytes. 131072 64-bit members (Redis's default set-max-intset-entries is 512).
  static constexpr size_t kMaxIntsetBytes = 1024 * 1024;
  static_assert(4 * (kMaxIntsetBytes + 8) + 1 <= kMaxValueBytes);

  SetRef(Keyspace& ks, int db, Entry* e) : ValueRef(&ks, db, e) {}
  // A handle on a detached entry (a result being built) or, for reading only, on any entry.
  explicit SetRef(Entry* e) : ValueRef(nullptr, 0, e) {}
  static const SetRef Read(const Entry* e) { return SetRef(const_cast<Entry*>(e)); }

  // Redis's setTypeCreate(first): an empty set entry for `key` that is an intset when `first`
  // is an integer, else a (packed) hashtable. Not in any table yet.
  static Entry* NewEntry(std::string_view key, std::string_view first);
  // An empty intset entry (what *STORE results start from).
  static Entry* NewIntsetEntry(std::string_view key);

  // What OBJECT ENCODING reports (kIntset or kHashtable).
  Encoding encoding() const { return entry()->enc; }
  size_t Size() const;
  bool Contains(std::string_view member) const;
  // Adds `member`; `max_intset` is set-max-intset-entries. Returns true if it was added.
  bool Add(std::string_view member, size_t max_intset);
  bool Remove(std::string_view member);
  // Every member, in the encoding's order (intset: ascending; packed: insertion order).
  void ForEach(const std::function<void(std::string_view)>& fn) const;
  std::vector<std::string> Members() const;
  // A random member. REQUIRES: Size() > 0.
  std::string RandomMember(std::mt19937_64& rng) const;
  // The table of an unpacked set (SSCAN). REQUIRES: !packed().
  const HashSetObject* hashset() const {
    return static_cast<const HashSetObject*>(entry()->object());
  }

 private:
  HashSetObject* table() { return static_cast<HashSetObject*>(entry()->object()); }
  bool intset() const { return packed() && encoding() == Encoding::kIntset; }
  // Intset: [width 1][members, `width` bytes each, ascending].
  unsigned width() const { return static_cast<unsigned char>(bytes()[0]); }
  size_t IntCount() const { return (bytes().size() - 1) / width(); }
  int64_t IntAt(size_t i) const;
  bool FindInt(int64_t v, size_t* pos) const;  // lower bound in *pos
  bool AddInt(int64_t v);
  bool RemoveInt(int64_t v);
  // Packed strings: the byte offset of `member`, or npos.
  size_t FindPacked(std::string_view member) const;
  // Intset -> hashtable (packed when it has at most `packed_room` members).
  void ConvertIntset(size_t packed_room);
  // Packed strings -> a table.
  void ToTable();
};

// Formats an integer member (buffer of at least 21 bytes); returns its text.
std::string_view FormatInt(int64_t v, char* buf);

}  // namespace keel
