#pragma once

// ChainedTableCore: the hash table under both the keyspace's shards (of Entry) and the big sets
// and hashes (ChainedTable in set_object.h): chains of caller-allocated nodes in power-of-two
// bucket arrays, grown at load 1 and shrunk when under 1/8 full, with incremental rehashing (two
// arrays while a rehash is in progress; inserts go to the new one, and each insert or removal,
// or a RehashStep, moves buckets from the old to the new), reverse-binary cursor scans that
// survive resizes, and a random pick.
//
// Node must have a `Node* next` member. Hasher::Of(const Node*) returns the hash a node is
// bucketed by (the same the caller passes to Insert and FindLink). The core does not own the
// nodes: it frees only its bucket arrays; DetachAll and Clear hand the nodes back.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "keel/keyspace/hashing.h"

namespace keel {

// Chain-length statistics of bucket arrays (DEBUG HTSTATS), summed over the arrays added.
struct ChainStats {
  size_t buckets = 0;
  size_t elements = 0;
  size_t used_buckets = 0;  // buckets with a chain
  size_t max_chain = 0;
  size_t chained = 0;                     // nodes in the used buckets, counted by walking them
  std::vector<size_t> buckets_by_length;  // [n]: how many buckets hold a chain of n nodes
};

template <typename Node, typename Hasher>
class ChainedTableCore {
 public:
  ChainedTableCore() = default;
  ChainedTableCore(const ChainedTableCore&) = delete;
  ChainedTableCore& operator=(const ChainedTableCore&) = delete;
  ~ChainedTableCore() {
    std::free(t_[0].buckets);
    std::free(t_[1].buckets);
  }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool rehashing() const { return rehash_idx_ >= 0; }
  // Buckets of both arrays.
  size_t bucket_count() const { return Buckets(t_[0]) + Buckets(t_[1]); }

  // The link (bucket slot or a node's `next`) that points at the node of `hash` for which
  // eq(node) holds, or nullptr; *table (when given) is set to the array holding it.
  template <typename Eq>
  Node** FindLink(uint64_t hash, Eq&& eq, int* table = nullptr) {
    for (int t = 0; t < 2; ++t) {
      if (t_[t].buckets == nullptr) break;
      Node** link = &t_[t].buckets[hash & t_[t].mask];
      while (*link != nullptr) {
        if (eq(*link)) {
          if (table != nullptr) *table = t;
          return link;
        }
        link = &(*link)->next;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }
  // Inserts a node whose key is absent; hash is Hasher::Of(n).
  void Insert(Node* n, uint64_t hash) {
    MaybeResize(/*inserting=*/true);
    Table& t = rehashing() ? t_[1] : t_[0];
    size_t idx = hash & t.mask;
    n->next = t.buckets[idx];
    t.buckets[idx] = n;
    ++t.used;
  }
  // Puts `n` (same key) where *link was; returns the node it replaces.
  Node* ReplaceAt(Node** link, Node* n) {
    Node* old = *link;
    n->next = old->next;
    *link = n;
    return old;
  }
  // Unlinks the node at `link` (found by FindLink in array `table`) and returns it.
  Node* UnlinkAt(Node** link, int table) {
    Node* n = *link;
    *link = n->next;
    n->next = nullptr;
    --t_[table].used;
    MaybeResize();
    return n;
  }
  // The same when the array is not known: during a rehash it is worked out from the link.
  Node* UnlinkAt(Node** link) { return UnlinkAt(link, TableOf(link)); }

  // Sizes an empty table for n nodes (inserts never shrink it; removals may).
  void Reserve(size_t n) {
    if (t_[0].buckets != nullptr) return;
    size_t size = 4;
    while (size < n) size *= 2;
    StartRehash(size);
  }
  // Moves up to `buckets` non-empty buckets of an ongoing rehash (visiting at most 10x as many
  // empty ones); returns true if the rehash goes on.
  bool RehashStep(size_t buckets) {
    if (!rehashing()) return false;
    size_t empty_visits = buckets * 10;
    while (buckets > 0 && t_[0].used > 0) {
      Node*& head = t_[0].buckets[rehash_idx_];
      if (head == nullptr) {
        ++rehash_idx_;
        if (--empty_visits == 0) return true;
        continue;
      }
      for (Node* n = head; n != nullptr;) {
        Node* next = n->next;
        size_t idx = Hasher::Of(n) & t_[1].mask;
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
    if (t_[0].used > 0) return true;
    std::free(t_[0].buckets);
    t_[0] = t_[1];
    t_[1] = Table{};
    rehash_idx_ = -1;
    return false;
  }

  template <typename F>
  void ForEach(F&& fn) const {
    for (const Table& t : t_) {
      if (t.buckets == nullptr) continue;
      for (size_t i = 0; i <= t.mask; ++i) {
        for (Node* n = t.buckets[i]; n != nullptr; n = n->next) fn(n);
      }
    }
  }
  // Adds array t's chains (0: the main array; 1: a rehash's target, absent otherwise) to *s.
  void AddChainStats(int t, ChainStats* s) const {
    const Table& tb = t_[t];
    if (tb.buckets == nullptr) return;
    s->buckets += tb.mask + 1;
    s->elements += tb.used;
    for (size_t i = 0; i <= tb.mask; ++i) {
      size_t len = 0;
      for (const Node* n = tb.buckets[i]; n != nullptr; n = n->next) ++len;
      if (len >= s->buckets_by_length.size()) s->buckets_by_length.resize(len + 1);
      ++s->buckets_by_length[len];
      if (len == 0) continue;
      ++s->used_buckets;
      s->chained += len;
      s->max_chain = std::max(s->max_chain, len);
    }
  }
  // The bucket slot of `hash` in array t (0 or 1), or nullptr when that array is absent; for
  // prefetching. (A plain accessor on purpose: GCC 12 at -O2 compiled away the
  // __builtin_prefetch calls of a lambda handed to a template method here, which showed as GET
  // -P 16 at 0.99 instead of 0.56 us of user time a request.)
  Node* const* Slot(int t, uint64_t hash) const {
    return t_[t].buckets != nullptr ? &t_[t].buckets[hash & t_[t].mask] : nullptr;
  }

  // One reverse-binary scan step from cursor v (0 starts, a returned 0 ends): calls fn for the
  // nodes of the next bucket (and, during a rehash, of the larger array's buckets expanding it).
  // Every node present for the whole scan is reported at least once, whatever resizes happen
  // between calls. fn must not change the table.
  template <typename F>
  uint64_t Scan(uint64_t v, F&& fn) const {
    if (t_[0].buckets == nullptr) return 0;
    auto emit = [&](const Table& t, uint64_t idx) {
      for (Node* n = t.buckets[idx & t.mask]; n != nullptr; n = n->next) fn(n);
    };
    if (!rehashing()) {
      emit(t_[0], v & t_[0].mask);
      return hashing::NextCursor(v, t_[0].mask);
    }
    const Table* small = &t_[0];
    const Table* large = &t_[1];
    if (small->mask > large->mask) std::swap(small, large);
    uint64_t m0 = small->mask, m1 = large->mask;
    emit(*small, v & m0);
    do {
      emit(*large, v & m1);
      v = hashing::NextCursor(v, m1);
    } while (v & (m0 ^ m1));
    return v;
  }

  // A random non-empty bucket, then a random node of its chain; nullptr when empty.
  template <typename Rng>
  Node* Random(Rng& rng) const {
    if (size() == 0) return nullptr;
    for (int tries = 0; tries < 1000; ++tries) {
      const Table& tb = t_[(rehashing() && (rng() & 1)) ? 1 : 0];
      Node* head = tb.buckets[rng() & tb.mask];
      if (head == nullptr) continue;
      size_t len = 0;
      for (Node* n = head; n != nullptr; n = n->next) ++len;
      size_t pick = rng() % len;
      while (pick--) head = head->next;
      return head;
    }
    // Very unlucky (or sparse mid-rehash): a uniform pick by walking.
    size_t i = rng() % size();
    Node* found = nullptr;
    ForEach([&](Node* n) {
      if (i-- == 0) found = n;
    });
    return found;
  }

  // Empties the table: returns the head of every chain (the caller frees the nodes) and frees
  // the bucket arrays.
  std::vector<Node*> DetachAll() {
    std::vector<Node*> heads;
    for (Table& t : t_) {
      if (t.buckets == nullptr) continue;
      for (size_t i = 0; i <= t.mask; ++i) {
        if (t.buckets[i] != nullptr) heads.push_back(t.buckets[i]);
      }
      std::free(t.buckets);
      t = Table{};
    }
    rehash_idx_ = -1;
    return heads;
  }
  // Empties the table, calling free_node on every node.
  template <typename Free>
  void Clear(Free&& free_node) {
    for (Node* head : DetachAll()) {
      while (head != nullptr) {
        Node* next = head->next;
        free_node(head);
        head = next;
      }
    }
  }
  void Swap(ChainedTableCore& other) {
    std::swap(t_, other.t_);
    std::swap(rehash_idx_, other.rehash_idx_);
  }

 private:
  struct Table {
    Node** buckets = nullptr;
    size_t mask = 0;
    size_t used = 0;
  };
  static size_t Buckets(const Table& t) { return t.buckets ? t.mask + 1 : 0; }

  // Which array holds `link`. Buckets of t_[0] below rehash_idx_ have moved to t_[1]; otherwise
  // the link lives either in t_[0]'s bucket (or a chain hanging off it) or in t_[1] (a node
  // inserted after the rehash began).
  int TableOf(Node** link) const {
    if (!rehashing()) return 0;
    size_t idx0 = Hasher::Of(*link) & t_[0].mask;
    if (static_cast<int64_t>(idx0) < rehash_idx_) return 1;
    Node** b0 = &t_[0].buckets[idx0];
    if (link == b0) return 0;
    for (Node* p = *b0; p != nullptr; p = p->next) {
      if (&p->next == link) return 0;
    }
    return 1;
  }
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
  void MaybeResize(bool inserting = false) {
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
    } else if (!inserting && size > 4 && used * 8 < size) {
      size_t target = 4;
      while (target < used) target *= 2;
      StartRehash(target);
    }
  }

  Table t_[2];
  int64_t rehash_idx_ = -1;
};

}  // namespace keel
