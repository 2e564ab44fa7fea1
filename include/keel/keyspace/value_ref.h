#pragma once

// Packed collection values and the handle commands hold on them.
//
// A small list, set or hash is packed into its entry's own block (Entry::kPacked), so it costs
// one allocation. Changing the packed bytes can therefore move the entry: ValueRef is the one
// place that does it, putting the moved block in the old one's place in its shard's table. The
// list, set and hash handles (ListRef, SetRef, HashRef) build their operations on
// Splice/Assign/Adopt and hide whether the value is packed or a heap Object.

#include <cstddef>
#include <cstring>
#include <string_view>

#include "keel/keyspace/entry.h"
#include "keel/keyspace/varint.h"

namespace keel {

class Keyspace;

namespace packed {

// The element run used by packed lists and packed string sets: each element is a LEB128 length
// (one byte under 128) followed by its bytes.
inline size_t ElemSize(std::string_view v) { return varint::Size(v.size()) + v.size(); }

// Writes v at p; returns the bytes written.
inline size_t PutElem(char* p, std::string_view v) {
  size_t h = varint::Put(p, v.size());
  if (!v.empty()) std::memcpy(p + h, v.data(), v.size());
  return h + v.size();
}

// The element at p; *size is set to its encoded size.
inline std::string_view GetElem(const char* p, size_t* size) {
  size_t len;
  size_t h = varint::Get(p, &len);
  *size = h + len;
  return {p + h, len};
}

// Calls fn(offset, element) for each element of `run`, in order, until fn returns false.
template <typename F>
void ForEachElem(std::string_view run, F&& fn) {
  size_t off = 0;
  while (off < run.size()) {
    size_t sz;
    std::string_view v = GetElem(run.data() + off, &sz);
    if (!fn(off, v)) return;
    off += sz;
  }
}

inline size_t CountElems(std::string_view run) {
  size_t n = 0;
  ForEachElem(run, [&](size_t, std::string_view) {
    ++n;
    return true;
  });
  return n;
}

}  // namespace packed

// ValueRef: a command's handle on one collection entry, either in a database of the keyspace
// (its shard's lock held) or detached (a result being built, not in any table yet). After any
// change through the handle, entry() is the only valid pointer to the entry: the old one may
// have been freed.
class ValueRef {
 public:
  Entry* entry() const { return e_; }
  bool packed() const { return e_->storage == Entry::kPacked; }

 protected:
  // `ks` is nullptr for a detached entry.
  ValueRef(Keyspace* ks, int db, Entry* e) : ks_(ks), db_(db), e_(e) {}

  std::string_view bytes() const { return e_->packed(); }
  char* data() { return e_->ValuePtr(); }
  // Replaces bytes [off, off + erase) of the packed value by `insert` bytes, whose address is
  // returned for the caller to fill.
  char* Splice(size_t off, size_t erase, size_t insert);
  // Replaces the whole packed value, and the encoding it reports.
  void Assign(std::string_view bytes, Encoding enc);
  // Replaces the packed value by a heap object (conversion past the packed limits).
  void Adopt(Object* obj, Encoding enc);

 private:
  // Makes `moved` (a new block for this entry, or e_ itself) the entry.
  void Rehome(Entry* moved);

  Keyspace* ks_;
  int db_;
  Entry* e_;
};

}  // namespace keel
