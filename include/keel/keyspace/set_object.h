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

#include "keel/keyspace/entry.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

namespace ht {

// Seeded 64-bit hash of a member / field (a plain function: no per-thread memo).
uint64_t Hash(std::string_view s);
// Reverse-binary cursor increment: the next cursor after v for a table with this mask.
uint64_t NextCursor(uint64_t v, uint64_t mask);

}  // namespace ht

// A chained hash table of one-allocation nodes with incremental rehashing (like the keyspace's
// Shard): power-of-two bucket arrays, grown at load 1 and shrunk when under 1/8 full, with two
// arrays during a rehash and a couple of buckets moved per insert or removal. Node must have a
// `Node* next` member, `std::string_view key() const` and `size_t Bytes() const` (its usable
// allocation size); nodes are malloc blocks freed with std::free. Owns its nodes.
template <typename Node>
class ChainedTable {
 public:
  ChainedTable() = default;
  ChainedTable(const ChainedTable&) = delete;
  ChainedTable& operator=(const ChainedTable&) = delete;
  ~ChainedTable() { Clear(); }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool empty() const { return size() == 0; }
  bool rehashing() const { return rehash_idx_ >= 0; }
  // Buckets of both arrays.
  size_t bucket_count() const { return Buckets(t_[0]) + Buckets(t_[1]); }

  Node* Find(std::string_view key) const {
    int t;
    Node** link = const_cast<ChainedTable*>(this)->FindLink(key, ht::Hash(key), &t);
    return link ? *link : nullptr;
  }
  // The link (bucket head or a node's next) that points at `key`'s node, or nullptr; *table is
  // set to the array holding it.
  Node** FindLink(std::string_view key, uint64_t hash, int* table) {
    for (int t = 0; t < 2; ++t) {
      if (t_[t].buckets == nullptr) break;
      Node** link = &t_[t].buckets[hash & t_[t].mask];
      while (*link != nullptr) {
        if ((*link)->key() == key) {
          *table = t;
          return link;
        }
        link = &(*link)->next;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }
  // Inserts a node whose key is absent; hash is ht::Hash(n->key()).
  void Insert(Node* n, uint64_t hash) {
    MaybeResize();
    Table& t = rehashing() ? t_[1] : t_[0];
    size_t idx = hash & t.mask;
    n->next = t.buckets[idx];
    t.buckets[idx] = n;
    ++t.used;
  }
  // Unlinks the node at `link` (found by FindLink in array `table`) and returns it.
  Node* Unlink(Node** link, int table) {
    Node* n = *link;
    *link = n->next;
    n->next = nullptr;
    --t_[table].used;
    MaybeResize();
    return n;
  }
  // Removes and frees key's node; false when absent.
  bool Erase(std::string_view key) {
    int t;
    Node** link = FindLink(key, ht::Hash(key), &t);
    if (link == nullptr) return false;
    std::free(Unlink(link, t));
    return true;
  }
  // Sizes an empty table for n elements.
  void Reserve(size_t n) {
    if (t_[0].buckets != nullptr) return;
    size_t size = 4;
    while (size < n) size *= 2;
    StartRehash(size);
  }
  // Fills this (empty) table with a copy of every node of `other`, each made by make(node).
  template <typename Make>
  void CopyFrom(const ChainedTable& other, Make&& make) {
    Reserve(other.size());
    other.ForEach([&](const Node* n) { Insert(make(n), ht::Hash(n->key())); });
  }
  void Clear() {
    for (Table& t : t_) {
      if (t.buckets == nullptr) continue;
      for (size_t i = 0; i <= t.mask; ++i) {
        for (Node* n = t.buckets[i]; n != nullptr;) {
          Node* next = n->next;
          std::free(n);
          n = next;
        }
      }
      std::free(t.buckets);
      t = Table{};
    }
    rehash_idx_ = -1;
  }
  template <typename F>
  void ForEach(F&& fn) const {
    for (const Table& t : t_) {
      if (t.buckets == nullptr) continue;
      for (size_t i = 0; i <= t.mask; ++i) {
        for (const Node* n = t.buckets[i]; n != nullptr; n = n->next) fn(n);
      }
    }
  }
  // Bytes of the bucket arrays and nodes.
  size_t MemoryBytes() const {
    size_t b = bucket_count() * sizeof(Node*);
    ForEach([&](const Node* n) { b += n->Bytes(); });
    return b;
  }
  // One reverse-binary scan step from cursor v (0 starts, a returned 0 ends): calls fn for the
  // nodes of the next bucket (and, during a rehash, of the larger array's buckets expanding it).
  // Every node present for the whole scan is reported at least once, whatever resizes happen
  // between calls.
  template <typename F>
  uint64_t Scan(uint64_t v, F&& fn) const {
    if (t_[0].buckets == nullptr) return 0;
    auto emit = [&](const Table& t, uint64_t idx) {
      for (const Node* n = t.buckets[idx & t.mask]; n != nullptr; n = n->next) fn(n);
    };
    if (!rehashing()) {
      emit(t_[0], v & t_[0].mask);
      return ht::NextCursor(v, t_[0].mask);
    }
    const Table* small = &t_[0];
    const Table* large = &t_[1];
    if (small->mask > large->mask) std::swap(small, large);
    uint64_t m0 = small->mask, m1 = large->mask;
    emit(*small, v & m0);
    do {
      emit(*large, v & m1);
      v = ht::NextCursor(v, m1);
    } while (v & (m0 ^ m1));
    return v;
  }
  // A random non-empty bucket, then a random node of its chain. REQUIRES: !empty().
  template <typename Rng>
  const Node* Random(Rng& rng) const {
    for (int tries = 0; tries < 1000; ++tries) {
      int t = (rehashing() && (rng() & 1)) ? 1 : 0;
      const Table& tb = t_[t];
      const Node* head = tb.buckets[rng() & tb.mask];
      if (head == nullptr) continue;
      size_t len = 0;
      for (const Node* n = head; n != nullptr; n = n->next) ++len;
      size_t pick = rng() % len;
      while (pick--) head = head->next;
      return head;
    }
    // Very unlucky (or sparse mid-rehash): a uniform pick by walking.
    size_t i = rng() % size();
    const Node* found = nullptr;
    ForEach([&](const Node* n) {
      if (i-- == 0) found = n;
    });
    return found;
  }

 private:
  struct Table {
    Node** buckets = nullptr;
    size_t mask = 0;
    size_t used = 0;
  };
  static size_t Buckets(const Table& t) { return t.buckets ? t.mask + 1 : 0; }

  void StartRehash(size_t new_size) {
    Node** b = static_cast<Node**>(std::calloc(new_size, sizeof(Node*)));
    if (b == nullptr) throw std::bad_alloc();
    if (t_[0].buckets == nullptr) {
      t_[0] = Table{b, new_size - 1, 0};
      return;
    }
    t_[1] = Table{b, new_size - 1, 0};
    rehash_idx_ = 0;
  }
  // Moves up to `buckets` non-empty buckets (visiting at most 10x as many empty ones).
  void RehashStep(size_t buckets) {
    size_t empty_visits = buckets * 10;
    while (buckets > 0 && t_[0].used > 0) {
      Node*& head = t_[0].buckets[rehash_idx_];
      if (head == nullptr) {
        ++rehash_idx_;
        if (--empty_visits == 0) return;
        continue;
      }
      for (Node* n = head; n != nullptr;) {
        Node* next = n->next;
        size_t idx = ht::Hash(n->key()) & t_[1].mask;
        n->next = t_[1].buckets[idx];
        t_[1].buckets[idx] = n;
        --t_[0].used;
        ++t_[1].used;
        n = next;
      }
      head = nullptr;
      ++rehash_idx_;
      --buckets;
    }
    if (t_[0].used == 0) {
      std::free(t_[0].buckets);
      t_[0] = t_[1];
      t_[1] = Table{};
      rehash_idx_ = -1;
    }
  }
  void MaybeResize() {
    if (rehashing()) {
      RehashStep(2);
      return;
    }
    size_t size = Buckets(t_[0]);
    size_t used = t_[0].used;
    if (size == 0) {
      StartRehash(4);
    } else if (used >= size) {
      StartRehash(size * 2);
    } else if (size > 4 && used * 8 < size) {
      size_t target = 4;
      while (target < used) target *= 2;
      StartRehash(target);
    }
  }

  Table t_[2];
  int64_t rehash_idx_ = -1;
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
  // An intset never grows past this many bytes inside its entry (see Entry::val_len).
  static constexpr size_t kMaxIntsetBytes = 8 * 1024 * 1024;

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
