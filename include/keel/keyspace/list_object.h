#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/value_ref.h"

namespace keel {

// The list value type. A small list is packed inside its entry (Entry::kPacked): the value bytes
// are its elements in order, each a varint length then the bytes (packed::ForEachElem). A list
// whose packed form outgrows list-max-listpack-size becomes a ListObject, a deque of strings,
// and stays one. Redis 7.0 reports every list as "quicklist", so the entry's encoding is
// kQuicklist either way.
class ListObject final : public Object {
 public:
  size_t ElementCount() const override { return items.size(); }
  size_t MemoryUsage() const override;
  Object* Clone() const override;

  std::deque<std::string> items;
};

// ListRef is the handle the list commands use on a list entry, packed or not (see ValueRef for
// the entry's lifetime). REQUIRES for the indexes: as documented per method.
class ListRef : public ValueRef {
 public:
  // `node_limit` is list-max-listpack-size (negative: a byte limit class, -1: 4 KiB ... -5:
  // 64 KiB; positive: an element count); it decides when a growing packed list converts.
  ListRef(Keyspace& ks, int db, Entry* e, int64_t node_limit)
      : ValueRef(&ks, db, e), node_limit_(node_limit) {}
  // A handle on a detached entry (tests).
  ListRef(Entry* e, int64_t node_limit) : ValueRef(nullptr, 0, e), node_limit_(node_limit) {}
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
  std::string PopFront() { return Pop(true); }
  std::string PopBack() { return Pop(false); }
  // Index from the front (0-based). REQUIRES: i < size().
  std::string At(size_t i) const;
  void Set(size_t i, std::string_view v);
  // Calls fn(index, element) from `from` up to and including `to` (REQUIRES from <= to <
  // size()), forward. Stops early when fn returns false.
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
  std::deque<std::string>& items() const {
    return static_cast<ListObject*>(entry()->object())->items;
  }
  // Byte offset of element i of the packed run (its size when i == size()).
  size_t Offset(size_t i) const;
  // Whether a packed list of `bytes` bytes and `count` elements is over the node limit.
  bool Over(size_t bytes, size_t count) const;
  // Converts a packed list to a ListObject.
  void ToObject();

  int64_t node_limit_;
};

}  // namespace keel
