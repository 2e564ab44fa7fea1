#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "keel/keyspace/entry.h"

namespace keel {

// ListObject is a list value. Small lists are one packed allocation (a listpack-like buffer of
// length-prefixed elements); a list whose packed form outgrows the list-max-listpack-size limit
// becomes a deque of strings. Redis 7.0 reports every list as "quicklist", so the entry's
// encoding stays kQuicklist either way.
class ListObject : public Object {
 public:
  // `node_limit` is list-max-listpack-size: negative = a byte limit class (-1: 4 KiB ... -5:
  // 64 KiB), positive = an element count.
  explicit ListObject(int64_t node_limit);
  ~ListObject() override;
  ListObject(const ListObject&) = delete;
  ListObject& operator=(const ListObject&) = delete;

  size_t ElementCount() const override { return size(); }
  size_t MemoryUsage() const override;
  Object* Clone() const override;

  size_t size() const { return big_ ? big_->size() : count_; }
  bool empty() const { return size() == 0; }
  bool packed() const { return big_ == nullptr; }

  void PushFront(std::string_view v);
  void PushBack(std::string_view v);
  // REQUIRES: !empty().
  std::string PopFront();
  std::string PopBack();
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
  // Keeps [start, stop] (already clamped, start <= stop < size()), or clears when start > stop.
  void Trim(size_t start, size_t stop);
  void Clear();

 private:
  void MaybeConvert();
  // Makes room in the packed buffer for `add` more bytes.
  void Reserve(size_t add);
  void ToBig();
  // Packed buffer helpers.
  size_t ElementOffset(size_t i) const;
  void Rebuild(const std::deque<std::string>& items);

  int64_t node_limit_;
  // Packed form: buf_[0, used_) holds count_ elements, each a LEB128 length then the bytes.
  char* buf_ = nullptr;
  uint32_t used_ = 0;
  uint32_t cap_ = 0;
  uint32_t count_ = 0;
  std::unique_ptr<std::deque<std::string>> big_;
};

}  // namespace keel
