#pragma once

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

// The list value type, in two forms. Redis 7.0 reports every list as "quicklist", so the entry's
// encoding is kQuicklist either way.
//
// A small list is packed inside its entry (Entry::kPacked): the value bytes are its elements in
// order, each a varint length then the bytes (packed::ForEachElem). A list whose packed form
// outgrows list-max-listpack-size becomes a ListObject and stays one: a deque of nodes, as
// Redis's quicklist is. Each node is one malloc block, a count and a byte size then a run of
// elements, each in the packed form followed by its length again as reversed LEB128 bytes, so a
// node can be read from either end (tail pops and backward walks need no scan). Every node keeps
// within the node limit (ListNodeLimit; its header counts, so a full node is one size class),
// except that an element too big for it has a node of its own. Pushes touch only the end node,
// index lookups skip whole nodes by count, and nodes left empty are dropped and small
// neighbours merged.
//
// With list-compress-depth d > 0 (fixed when the list becomes a ListObject, as Redis fixes it
// when it creates a quicklist), every node but the d at each end is kept LZF-compressed when
// that pays (see ListNode). Pushes and pops touch only raw end nodes; a read or change in the
// middle decompresses the nodes it needs in place, and they are compressed again at the next
// call on the list (reads: their views stay valid until then) or at the end of the change.

// list-max-listpack-size as a node bound: at most max_count elements and max_bytes bytes.
struct ListNodeLimit {
  // Negative values are byte classes (-1: 4 KiB ... -5: 64 KiB); a positive one is an element
  // count, with the bytes still capped at 8 KiB, as Redis caps its quicklist nodes.
  // `compress_depth` is list-compress-depth (0: no compression), used by lists created with
  // this limit.
  static ListNodeLimit FromConfig(int64_t list_max_listpack_size, int64_t compress_depth = 0);
  bool Allows(size_t count, size_t bytes) const { return count <= max_count && bytes <= max_bytes; }

  size_t max_bytes;
  size_t max_count;
  size_t compress_depth = 0;
};

// One node of a big list: [count 4][bytes 4][front 4], then `front` unused bytes, then `bytes`
// bytes of elements, with spare room after them up to malloc_usable_size. The room before the
// run makes pushes and pops at the head of a node as cheap as at its tail: they move no bytes
// (a node that grows at its head leaves its spare room there). Allocated with malloc
// (ListNodePtr frees it).
//
// A compressed node has front == kCompressed; `count` and `bytes` still describe its elements
// (bytes is the raw run's size), and the header is followed by the compressed size (4 bytes)
// and the LZF form of the run. run() must not be used on it. A node is stored compressed only
// when its run is at least kMinCompressBytes and the LZF form saves more than kMinCompressSaving
// bytes (Redis's thresholds: 48 and 8).
struct ListNode {
  static constexpr uint32_t kCompressed = UINT32_MAX;
  static constexpr size_t kMinCompressBytes = 48;
  static constexpr size_t kMinCompressSaving = 8;

  uint32_t count;
  uint32_t bytes;
  uint32_t front;

  bool compressed() const { return front == kCompressed; }
  char* run() { return reinterpret_cast<char*>(this + 1) + front; }
  const char* run() const { return reinterpret_cast<const char*>(this + 1) + front; }
};

struct FreeListNode {
  void operator()(ListNode* n) const { std::free(n); }
};
using ListNodePtr = std::unique_ptr<ListNode, FreeListNode>;

// The big-list form. Indexes are 0-based from the head; REQUIRES as on ListRef. Operations
// that add bytes take the node limit in force (the config may change between calls; nodes built
// under an older limit are left as they are).
class ListObject final : public Object {
 public:
  using Visitor = std::function<bool(size_t, std::string_view)>;

  ListObject() = default;
  explicit ListObject(size_t compress_depth) : depth_(compress_depth) {}

  size_t ElementCount() const override { return count_; }
  size_t MemoryUsage() const override;
  size_t SampledMemoryUsage(size_t samples) const override;
  Object* Clone() const override;

  size_t size() const { return count_; }
  void Push(bool left, std::string_view v, const ListNodeLimit& limit);
  // Pops the head (or tail) element after passing its bytes to `take` (no copy of its own).
  void Pop(bool left, const std::function<void(std::string_view)>& take);
  // The element's bytes, valid until the next call on the list.
  std::string_view At(size_t i) const;
  void Set(size_t i, std::string_view v, const ListNodeLimit& limit);
  // The visitor's views stay valid until the next call on the list.
  void ForRange(size_t from, size_t to, const Visitor& fn) const;
  void ForBackward(size_t from, const Visitor& fn) const;
  bool Insert(std::string_view pivot, std::string_view v, bool after, const ListNodeLimit& limit);
  size_t Remove(std::string_view v, int64_t count, const ListNodeLimit& limit);
  void Trim(size_t start, size_t stop);
  void Clear();

  // For tests: the nodes, and whether every node's header matches its elements, no node is
  // empty, and each keeps within `limit` or holds a single element.
  // With compression, also that the nodes within the depth of either end are raw and every
  // compressed node decompresses to its header's size.
  const std::deque<ListNodePtr>& nodes() const { return nodes_; }
  bool NodesValid(const ListNodeLimit& limit) const;
  // list-compress-depth of this list (0: none), and how many of its nodes are compressed now.
  size_t compress_depth() const { return depth_; }
  size_t CompressedNodes() const;
  // Compresses again the nodes the last read left open (their views end here): for a walk
  // over many lists (a save) that would otherwise leave each one raw until its next call.
  void FoldOpened() const {
    if (depth_ != 0) Refold();
  }

 private:
  // Where element i is: node index, and its byte offset and encoded size in that node.
  struct Pos {
    size_t node;
    size_t off;
    size_t size;
  };
  Pos Locate(size_t i) const;
  // Replaces bytes [off, off + erase) of node ni, holding `erase_count` elements, by the
  // elements `adds`; splits the node when the result is over the limit.
  void Edit(size_t ni, size_t off, size_t erase, size_t erase_count,
            std::span<const std::string_view> adds, const ListNodeLimit& limit);
  // Edit without the compression bookkeeping.
  void EditRaw(size_t ni, size_t off, size_t erase, size_t erase_count,
               std::span<const std::string_view> adds, const ListNodeLimit& limit);
  // Merges node i+1 into node i when both exist and fit the limit together.
  void MergeAt(size_t i, const ListNodeLimit& limit);
  // Drops `n` elements from the head (or tail).
  void DropEnd(bool front, size_t n);

  // ---- compression (all no-ops with depth 0) ----
  // Whether node i is an inner one, to be kept compressed.
  bool Inner(size_t i) const { return i >= depth_ && i + depth_ < nodes_.size(); }
  // Decompresses node i in place (an inner one is remembered for Refold). Returns it.
  ListNode* Open(size_t i) const;
  // Compresses node i if it is raw and compression pays.
  void Close(size_t i) const;
  // Compresses the raw inner nodes among [lo, hi).
  void Fold(size_t lo, size_t hi) const;
  // Compresses again the inner nodes that reads opened.
  void Refold() const;
  // Makes the nodes within the depth of either end raw and compresses the raw inner nodes just
  // past it: `extra` nodes on each side (a change near an end moves at most that many nodes
  // across the boundary).
  void SettleEnds(size_t extra) const;

  // Mutable: reads decompress nodes in place (see above); every access is under the shard lock.
  mutable std::deque<ListNodePtr> nodes_;
  mutable std::vector<size_t> opened_;
  size_t count_ = 0;
  size_t depth_ = 0;
};

// ListRef is the handle the list commands use on a list entry, packed or not (see ValueRef for
// the entry's lifetime). REQUIRES for the indexes: as documented per method.
class ListRef : public ValueRef {
 public:
  // `node_limit` is list-max-listpack-size (see ListNodeLimit); it decides when a growing packed
  // list converts and how big the nodes of a big one grow.
  // `compress_depth` is list-compress-depth, for a list that becomes a ListObject through this
  // handle.
  ListRef(Keyspace& ks, int db, Entry* e, int64_t node_limit, int64_t compress_depth = 0)
      : ValueRef(&ks, db, e), limit_(ListNodeLimit::FromConfig(node_limit, compress_depth)) {}
  // A handle on a detached entry (tests).
  ListRef(Entry* e, int64_t node_limit, int64_t compress_depth = 0)
      : ValueRef(nullptr, 0, e), limit_(ListNodeLimit::FromConfig(node_limit, compress_depth)) {}
  // An empty list entry for `key` (packed), to Put into a database.
  static Entry* NewEntry(std::string_view key);

  size_t size() const;
  bool empty() const;

  // Pushes the values one after another at the head (LPUSH: the last ends up first) or tail.
  void Push(bool left, std::span<const std::string_view> values);
  void PushFront(std::string_view v) { Push(true, {&v, 1}); }
  void PushBack(std::string_view v) { Push(false, {&v, 1}); }
  // REQUIRES: !empty().
  std::string Pop(bool left);
  // Pops the head (or tail) element after passing its bytes to `take`, which must not change
  // the list (a reply is built from them without a copy). REQUIRES: !empty().
  void Pop(bool left, const std::function<void(std::string_view)>& take);
  std::string PopFront() { return Pop(true); }
  std::string PopBack() { return Pop(false); }
  // Index from the front (0-based). REQUIRES: i < size().
  std::string At(size_t i) const;
  void Set(size_t i, std::string_view v);
  // Calls fn(index, element) from `from` up to and including `to` (REQUIRES from <= to),
  // forward; elements past the end are not visited, so a packed list is never counted. Stops
  // early when fn returns false.
  void ForRange(size_t from, size_t to,
                const std::function<bool(size_t, std::string_view)>& fn) const;
  // Backward from index `from` down to 0.
  void ForBackward(size_t from, const std::function<bool(size_t, std::string_view)>& fn) const;
  // Inserts before (or after) the first element equal to pivot; false if there is none.
  bool Insert(std::string_view pivot, std::string_view v, bool after);
  // LREM semantics: count > 0 from the head, < 0 from the tail, 0 all. Returns removed count.
  size_t Remove(std::string_view v, int64_t count);
  // Keeps [start, stop] (already clamped, start <= stop < size()).
  void Trim(size_t start, size_t stop);
  void Clear();

 private:
  ListObject* obj() const { return static_cast<ListObject*>(entry()->object()); }
  // Byte offset of element i of the packed run (its size when i == size()).
  size_t Offset(size_t i) const;
  // Whether a packed list of `bytes` bytes and `count` elements is over the node limit.
  bool Over(size_t bytes, size_t count) const { return !limit_.Allows(count, bytes); }
  // Converts a packed list to a ListObject.
  void ToObject();

  ListNodeLimit limit_;
};

}  // namespace keel
