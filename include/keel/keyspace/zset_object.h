#pragma once

// The sorted set value type, in Redis 7.0's two encodings:
//
// * "listpack": the (member, score) pairs packed into the key's entry (Entry::kPacked, see
//   value_ref.h), ascending by (score, member): each pair is a varint length, the member's
//   bytes and the score in 1, 5 or 9 bytes (a small integer, an int32 or a float that holds it
//   exactly, or a double; see zset_object.cc). One allocation for a small sorted set. Used
//   while the set has at most zset-max-listpack-entries members of at most
//   zset-max-listpack-value bytes. A zero score is stored as +0, as Redis's listpack (which keeps
//   scores as text or integers) turns -0 into 0.
// * ZsetObject ("skiplist"): a ChainedTable of one-allocation member nodes (member -> score) and
//   an order-statistic B+ tree (ZTree) of pointers to the same nodes, ordered by (score,
//   member). Rank, select, and the bounds of score and lex ranges are O(log n); a member costs
//   its node (20 bytes + its bytes), a bucket slot and a tree slot, instead of Redis's dict
//   entry, sds string and skiplist node.
//
// Conversions go one way, listpack -> skiplist, when a member is too long or the set too big
// (Redis never converts back, except for the results of ZUNIONSTORE and friends, which
// ConvertToPackedIfFits serves). ZsetRef is the encoding-independent handle the commands use.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

// A member and its score: ONE malloc block [next 8][score 8][len 4][member bytes].
struct ZNode {
  static constexpr size_t kHeader = 20;
  ZNode* next;
  double score;
  uint32_t len;

  static ZNode* Make(std::string_view member, double score);
  const char* bytes() const { return reinterpret_cast<const char*>(this) + kHeader; }
  std::string_view key() const { return {bytes(), len}; }
  size_t Bytes() const;
};

// A score as Redis writes one as text (its d2string: ZSCAN replies, listpack scores in RDB
// files): an integral value in the int64 range as an integer, inf as "inf"/"-inf", anything
// else with %.17g.
std::string FormatScore(double s);

// The sorted sets' order: by score, then by member bytes (unsigned, as memcmp).
inline bool ZLess(double sa, std::string_view ma, double sb, std::string_view mb) {
  return sa < sb || (sa == sb && ma < mb);
}

// An order-statistic B+ tree of ZNode pointers, ascending by ZLess. Leaves hold up to kLeafCap
// pointers and are linked both ways; inner nodes hold, for each child, its element count and
// its smallest element. It does not own the ZNodes. Not thread-safe (the shard lock guards it).
class ZTree {
 public:
  static constexpr int kLeafCap = 64;
  static constexpr int kInnerCap = 32;

  ZTree() = default;
  ZTree(const ZTree&) = delete;
  ZTree& operator=(const ZTree&) = delete;
  ~ZTree() { Clear(); }

  size_t size() const { return size_; }
  // REQUIRES: an element equal to n (same score and member) is absent.
  void Insert(ZNode* n);
  // REQUIRES: n is in the tree (with the score it was inserted with).
  void Erase(const ZNode* n);
  // The rank (0-based, ascending) of n. REQUIRES: n is in the tree.
  size_t Rank(const ZNode* n) const;
  // The element of rank r. REQUIRES: r < size().
  ZNode* At(size_t r) const;
  // The number of leading elements e for which below(e) holds (below must hold for a prefix of
  // the order and not after it).
  size_t CountWhile(const std::function<bool(const ZNode*)>& below) const;
  // Calls fn on the elements of ranks [start, stop) ascending, or descending from stop - 1 when
  // `rev`, until fn returns false.
  void Walk(size_t start, size_t stop, bool rev, const std::function<bool(ZNode*)>& fn) const;
  void Clear();
  // Bytes of the tree's own nodes (not the ZNodes).
  size_t MemoryBytes() const;
  // Checks every invariant (tests). Returns false on the first broken one.
  bool Check() const;

 private:
  struct Node;
  struct Leaf;
  struct Inner;
  Node* InsertRec(Node* x, ZNode* n);
  void EraseRec(Node* x, const ZNode* n);
  void FixChild(Inner* in, int i);
  static size_t CountOf(const Node* x);
  static ZNode* MinOf(const Node* x);
  static int ChildFor(const Inner* in, const ZNode* n);
  void FreeRec(Node* x);
  bool CheckRec(const Node* x, int depth, int* leaf_depth, size_t* count, const ZNode** prev) const;

  Node* root_ = nullptr;
  size_t size_ = 0;
  size_t nodes_bytes_ = 0;
};

class ZsetObject final : public Object {
 public:
  size_t ElementCount() const override { return dict.size(); }
  size_t MemoryUsage() const override;
  size_t SampledMemoryUsage(size_t samples) const override;
  Object* Clone() const override;
  ~ZsetObject() override;

  // Adds (true) or re-scores (false) a member.
  bool Set(std::string_view member, double score);
  bool Remove(std::string_view member);

  ChainedTable<ZNode> dict;  // owns the nodes
  ZTree tree;                // the same nodes, in order
};

// ZsetRef is the handle the sorted set commands use on a sorted set entry, whatever its
// encoding (see ValueRef for the entry's lifetime).
class ZsetRef : public ValueRef {
 public:
  // zset-max-listpack-entries and zset-max-listpack-value.
  struct Limits {
    size_t max_entries;
    size_t max_value;
  };
  // A packed sorted set never grows past this many bytes inside its entry.
  static constexpr size_t kMaxPackedBytes = kMaxValueBytes;

  ZsetRef(Keyspace& ks, int db, Entry* e) : ValueRef(&ks, db, e) {}
  // A handle on a detached entry (a result being built) or, for reading only, on any entry.
  explicit ZsetRef(Entry* e) : ValueRef(nullptr, 0, e) {}
  static const ZsetRef Read(const Entry* e) { return ZsetRef(const_cast<Entry*>(e)); }

  // An empty sorted set entry for `key`, packed ("listpack") or not ("skiplist"). Not in any
  // table yet.
  static Entry* NewEntry(std::string_view key, bool packed);

  Encoding encoding() const { return entry()->enc; }
  size_t Size() const;
  std::optional<double> Score(std::string_view member) const;
  // Sets member's score, adding it when absent (converting to a skiplist first when the member
  // is longer than lim.max_value or the set would pass lim.max_entries). Returns true if added.
  bool Set(std::string_view member, double score, const Limits& lim);
  bool Remove(std::string_view member);
  // The ascending rank of member.
  std::optional<size_t> Rank(std::string_view member) const;
  // The number of leading elements (ascending) for which below(member, score) holds; below must
  // hold on a prefix of the order only.
  size_t CountWhile(const std::function<bool(std::string_view, double)>& below) const;
  // Calls fn on the elements of ascending ranks [start, stop), ascending, or descending from
  // stop - 1 when `rev`, until fn returns false. The views are valid until the next change.
  void Range(size_t start, size_t stop, bool rev,
             const std::function<bool(std::string_view, double)>& fn) const;
  void ForEach(const std::function<void(std::string_view, double)>& fn) const {
    Range(0, Size(), false, [&](std::string_view m, double s) {
      fn(m, s);
      return true;
    });
  }
  // Removes the elements of ascending ranks [start, stop).
  void RemoveRange(size_t start, size_t stop);
  void ConvertToSkiplist();
  // Packs a skiplist set when it has at most lim.max_entries members, none longer than
  // lim.max_value (Redis's zsetConvertToListpackIfNeeded, for *STORE results).
  void ConvertToPackedIfFits(const Limits& lim);
  // The skiplist of an unpacked set. REQUIRES: !packed().
  const ZsetObject* object() const { return static_cast<const ZsetObject*>(entry()->object()); }

 private:
  ZsetObject* object() { return static_cast<ZsetObject*>(entry()->object()); }
  // Packed: the byte offset of member's pair, or npos.
  size_t FindPacked(std::string_view member, double* score) const;
  // Packed: inserts a pair (member absent) at its place in the order.
  void InsertPacked(std::string_view member, double score);
};

}  // namespace keel
