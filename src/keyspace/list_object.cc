#include "keel/keyspace/list_object.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace keel {

namespace {

constexpr size_t kSafetyBytes = 8192;

// The byte limit a negative list-max-listpack-size stands for.
size_t ByteLimit(int64_t node_limit) {
  static constexpr size_t kLimits[] = {4096, 8192, 16384, 32768, 65536};
  int64_t idx = -node_limit - 1;
  if (idx < 0) idx = 0;
  if (idx > 4) idx = 4;
  return kLimits[idx];
}

}  // namespace

size_t ListObject::MemoryUsage() const {
  size_t n = sizeof(*this);
  for (const std::string& s : items) n += sizeof(std::string) + (s.size() > 15 ? s.capacity() : 0);
  return n;
}

Object* ListObject::Clone() const {
  auto* c = new ListObject();
  c->items = items;
  return c;
}

Entry* ListRef::NewEntry(std::string_view key) {
  return NewPackedEntry(key, ObjType::kList, Encoding::kQuicklist, {}, -1);
}

size_t ListRef::size() const { return packed() ? packed::CountElems(bytes()) : items().size(); }

bool ListRef::empty() const { return packed() ? bytes().empty() : items().empty(); }

size_t ListRef::Offset(size_t i) const {
  size_t at = bytes().size();
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view) {
    if (i-- > 0) return true;
    at = off;
    return false;
  });
  return at;
}

bool ListRef::Over(size_t bytes, size_t count) const {
  // A count limit still keeps a packed list under 8 KiB, as Redis's quicklist caps a node by
  // count and that safety size (so a packed list always fits its entry).
  return node_limit_ > 0 ? count > static_cast<uint64_t>(node_limit_) || bytes > kSafetyBytes
                         : bytes > ByteLimit(node_limit_);
}

void ListRef::ToObject() {
  auto* obj = new ListObject();
  packed::ForEachElem(bytes(), [&](size_t, std::string_view v) {
    obj->items.emplace_back(v);
    return true;
  });
  Adopt(obj, Encoding::kQuicklist);
}

void ListRef::Push(bool left, std::span<const std::string_view> values) {
  if (packed()) {
    size_t add = 0;
    for (std::string_view v : values) add += packed::ElemSize(v);
    if (Over(bytes().size() + add, size() + values.size())) {
      ToObject();
    } else {
      // One splice for all of them: at the head they land in reverse order.
      char* p = Splice(left ? 0 : bytes().size(), 0, add);
      for (size_t i = 0; i < values.size(); ++i) {
        p += packed::PutElem(p, values[left ? values.size() - 1 - i : i]);
      }
      return;
    }
  }
  for (std::string_view v : values) {
    if (left) {
      items().emplace_front(v);
    } else {
      items().emplace_back(v);
    }
  }
}

std::string ListRef::Pop(bool left) {
  if (!packed()) {
    auto& d = items();
    std::string v = std::move(left ? d.front() : d.back());
    if (left) {
      d.pop_front();
    } else {
      d.pop_back();
    }
    return v;
  }
  size_t off = 0;
  if (!left) {
    packed::ForEachElem(bytes(), [&](size_t o, std::string_view) {
      off = o;
      return true;
    });
  }
  size_t sz;
  std::string v(packed::GetElem(bytes().data() + off, &sz));
  Splice(off, sz, 0);
  return v;
}

std::string ListRef::At(size_t i) const {
  if (!packed()) return items()[i];
  size_t sz;
  return std::string(packed::GetElem(bytes().data() + Offset(i), &sz));
}

void ListRef::Set(size_t i, std::string_view v) {
  if (!packed()) {
    items()[i].assign(v);
    return;
  }
  size_t off = Offset(i);
  size_t old;
  packed::GetElem(bytes().data() + off, &old);
  packed::PutElem(Splice(off, old, packed::ElemSize(v)), v);
  if (Over(bytes().size(), size())) ToObject();
}

void ListRef::ForRange(size_t from, size_t to,
                       const std::function<bool(size_t, std::string_view)>& fn) const {
  if (empty()) return;
  if (!packed()) {
    for (size_t i = from; i <= to; ++i) {
      if (!fn(i, items()[i])) return;
    }
    return;
  }
  size_t i = from;
  packed::ForEachElem(bytes().substr(Offset(from)), [&](size_t, std::string_view v) {
    if (i > to || !fn(i, v)) return false;
    ++i;
    return true;
  });
}

void ListRef::ForBackward(size_t from,
                          const std::function<bool(size_t, std::string_view)>& fn) const {
  if (empty()) return;
  if (!packed()) {
    for (size_t i = from + 1; i-- > 0;) {
      if (!fn(i, items()[i])) return;
    }
    return;
  }
  std::vector<std::string_view> elems;  // small lists only: collecting them is cheap
  elems.reserve(from + 1);
  packed::ForEachElem(bytes(), [&](size_t, std::string_view v) {
    elems.push_back(v);
    return elems.size() <= from;
  });
  for (size_t i = from + 1; i-- > 0;) {
    if (!fn(i, elems[i])) return;
  }
}

bool ListRef::Insert(std::string_view pivot, std::string_view v, bool after) {
  if (!packed()) {
    auto& d = items();
    for (auto it = d.begin(); it != d.end(); ++it) {
      if (*it == pivot) {
        d.insert(after ? it + 1 : it, std::string(v));
        return true;
      }
    }
    return false;
  }
  size_t at = SIZE_MAX;
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view e) {
    if (e != pivot) return true;
    at = after ? off + packed::ElemSize(e) : off;
    return false;
  });
  if (at == SIZE_MAX) return false;
  packed::PutElem(Splice(at, 0, packed::ElemSize(v)), v);
  if (Over(bytes().size(), size())) ToObject();
  return true;
}

size_t ListRef::Remove(std::string_view v, int64_t count) {
  size_t n = size();
  if (n == 0) return 0;
  std::vector<bool> drop(n, false);
  size_t removed = 0;
  uint64_t limit = count == 0 ? UINT64_MAX : static_cast<uint64_t>(count < 0 ? -count : count);
  auto mark = [&](size_t i, std::string_view e) {
    if (e == v) {
      drop[i] = true;
      ++removed;
    }
    return removed < limit;
  };
  if (count >= 0) {
    ForRange(0, n - 1, mark);
  } else {
    ForBackward(n - 1, mark);
  }
  if (removed == 0) return 0;
  if (!packed()) {
    auto& d = items();
    std::deque<std::string> kept;
    for (size_t i = 0; i < n; ++i) {
      if (!drop[i]) kept.push_back(std::move(d[i]));
    }
    d.swap(kept);
    return removed;
  }
  // Compact the kept elements in place, then drop the tail.
  char* d = data();
  size_t w = 0, i = 0;
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view e) {
    size_t sz = packed::ElemSize(e);
    if (!drop[i++]) {
      std::memmove(d + w, d + off, sz);
      w += sz;
    }
    return true;
  });
  Splice(w, bytes().size() - w, 0);
  return removed;
}

void ListRef::Trim(size_t start, size_t stop) {
  if (!packed()) {
    auto& d = items();
    d.erase(d.begin() + static_cast<std::ptrdiff_t>(stop + 1), d.end());
    d.erase(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(start));
    return;
  }
  size_t end = Offset(stop + 1);
  Splice(end, bytes().size() - end, 0);
  Splice(0, Offset(start), 0);
}

void ListRef::Clear() {
  if (!packed()) {
    items().clear();
    return;
  }
  Splice(0, bytes().size(), 0);
}

}  // namespace keel
