#include "keel/keyspace/set_object.h"

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>

#include "keel/keyspace/hashing.h"

namespace keel {

namespace {

unsigned WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

const uint64_t g_member_hash_seed = [] {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}();

}  // namespace

namespace ht {

uint64_t Hash(std::string_view s) { return hashing::Hash(s, g_member_hash_seed); }

}  // namespace ht

std::string_view FormatInt(int64_t v, char* buf) {
  auto r = std::to_chars(buf, buf + 21, v);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

// ---- SetNode / HashSetObject ----

SetNode* SetNode::Make(std::string_view m) {
  void* mem = std::malloc(std::max(sizeof(SetNode), kHeader + m.size()));
  if (mem == nullptr) throw std::bad_alloc();
  auto* n = ::new (mem) SetNode{nullptr, static_cast<uint32_t>(m.size())};
  if (!m.empty()) std::memcpy(reinterpret_cast<char*>(n) + kHeader, m.data(), m.size());
  return n;
}

size_t SetNode::Bytes() const { return malloc_usable_size(const_cast<SetNode*>(this)); }

size_t HashSetObject::MemoryUsage() const { return sizeof(*this) + table.MemoryBytes(); }

size_t HashSetObject::SampledMemoryUsage(size_t samples) const {
  return sizeof(*this) + table.SampledBytes(samples);
}

Object* HashSetObject::Clone() const {
  auto* c = new HashSetObject();
  c->table.CopyFrom(table, [](const SetNode* n) { return SetNode::Make(n->key()); });
  return c;
}

bool HashSetObject::Add(std::string_view member) {
  uint64_t h = ht::Hash(member);
  int t;
  if (table.FindLink(member, h, &t) != nullptr) return false;
  table.Insert(SetNode::Make(member), h);
  return true;
}

// ---- SetRef ----

namespace {

std::string_view IntsetHeader(unsigned width) {
  static const char kWidths[] = {0, 0, 2, 0, 4, 0, 0, 0, 8};
  return {&kWidths[width], 1};
}

void PutInt(char* p, unsigned width, int64_t v) {
  switch (width) {
    case 2: {
      int16_t x = static_cast<int16_t>(v);
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      break;
    }
    default:
      std::memcpy(p, &v, 8);
  }
}

}  // namespace

Entry* SetRef::NewEntry(std::string_view key, std::string_view first) {
  int64_t v;
  if (IsCanonicalInt(first, &v)) return NewIntsetEntry(key);
  if (first.size() > kMaxPackedMember) {
    return NewObjectEntry(key, ObjType::kSet, Encoding::kHashtable, new HashSetObject(), -1);
  }
  return NewPackedEntry(key, ObjType::kSet, Encoding::kHashtable, {}, -1);
}

Entry* SetRef::NewIntsetEntry(std::string_view key) {
  return NewPackedEntry(key, ObjType::kSet, Encoding::kIntset, IntsetHeader(2), -1);
}

int64_t SetRef::IntAt(size_t i) const {
  const char* p = bytes().data() + 1 + i * width();
  switch (width()) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

bool SetRef::FindInt(int64_t v, size_t* pos) const {
  size_t lo = 0, hi = IntCount();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (IntAt(mid) < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return lo < IntCount() && IntAt(lo) == v;
}

bool SetRef::AddInt(int64_t v) {
  unsigned w = WidthFor(v);
  if (w > width()) {
    // A wider value lies outside the current range: it goes first (negative) or last.
    size_t n = IntCount();
    std::string wide(IntsetHeader(w));
    wide.resize(1 + (n + 1) * w);
    size_t shift = v < 0 ? 1 : 0;
    for (size_t i = 0; i < n; ++i) PutInt(&wide[1 + (i + shift) * w], w, IntAt(i));
    PutInt(&wide[1 + (v < 0 ? 0 : n) * w], w, v);
    Assign(wide, Encoding::kIntset);
    return true;
  }
  size_t pos;
  if (FindInt(v, &pos)) return false;
  w = width();
  PutInt(Splice(1 + pos * w, 0, w), w, v);
  return true;
}

bool SetRef::RemoveInt(int64_t v) {
  size_t pos;
  if (WidthFor(v) > width() || !FindInt(v, &pos)) return false;
  Splice(1 + pos * width(), width(), 0);
  return true;
}

size_t SetRef::FindPacked(std::string_view member) const {
  size_t at = std::string_view::npos;
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view m) {
    if (m != member) return true;
    at = off;
    return false;
  });
  return at;
}

void SetRef::ConvertIntset(size_t packed_room) {
  size_t n = IntCount();
  char buf[24];
  if (n <= packed_room) {
    std::string run;
    for (size_t i = 0; i < n; ++i) {
      std::string_view m = FormatInt(IntAt(i), buf);
      run.resize(run.size() + packed::ElemSize(m));
      packed::PutElem(&run[run.size() - packed::ElemSize(m)], m);
    }
    Assign(run, Encoding::kHashtable);
    return;
  }
  auto* h = new HashSetObject();
  h->table.Reserve(n + 1);
  for (size_t i = 0; i < n; ++i) h->Add(FormatInt(IntAt(i), buf));
  Adopt(h, Encoding::kHashtable);
}

void SetRef::ToTable() {
  auto* h = new HashSetObject();
  h->table.Reserve(packed::CountElems(bytes()) + 1);
  packed::ForEachElem(bytes(), [&](size_t, std::string_view m) {
    h->Add(m);
    return true;
  });
  Adopt(h, Encoding::kHashtable);
}

size_t SetRef::Size() const {
  if (!packed()) return hashset()->ElementCount();
  return intset() ? IntCount() : packed::CountElems(bytes());
}

bool SetRef::Contains(std::string_view member) const {
  if (intset()) {
    int64_t v;
    size_t pos;
    return IsCanonicalInt(member, &v) && WidthFor(v) <= width() && FindInt(v, &pos);
  }
  if (packed()) return FindPacked(member) != std::string_view::npos;
  return hashset()->Contains(member);
}

bool SetRef::Add(std::string_view member, size_t max_intset) {
  if (intset()) {
    int64_t v;
    if (IsCanonicalInt(member, &v)) {
      if (!AddInt(v)) return false;
      // Past set-max-intset-entries it converts, as in Redis; the byte bound only matters for
      // a set-max-intset-entries in the millions, which the entry's value length cannot hold.
      if (IntCount() > max_intset || bytes().size() > kMaxIntsetBytes) {
        ConvertIntset(kMaxPackedMembers);
      }
      return true;
    }
    // Room for the new member too, or it would convert again right away.
    ConvertIntset(member.size() <= kMaxPackedMember ? kMaxPackedMembers - 1 : 0);
  }
  if (packed()) {
    if (FindPacked(member) != std::string_view::npos) return false;
    if (member.size() <= kMaxPackedMember && Size() < kMaxPackedMembers) {
      packed::PutElem(Splice(bytes().size(), 0, packed::ElemSize(member)), member);
      return true;
    }
    ToTable();
  }
  return table()->Add(member);
}

bool SetRef::Remove(std::string_view member) {
  if (intset()) {
    int64_t v;
    return IsCanonicalInt(member, &v) && RemoveInt(v);
  }
  if (packed()) {
    size_t at = FindPacked(member);
    if (at == std::string_view::npos) return false;
    Splice(at, packed::ElemSize(member), 0);
    return true;
  }
  return table()->Remove(member);
}

void SetRef::ForEach(const std::function<void(std::string_view)>& fn) const {
  if (intset()) {
    char buf[24];
    for (size_t i = 0; i < IntCount(); ++i) fn(FormatInt(IntAt(i), buf));
  } else if (packed()) {
    packed::ForEachElem(bytes(), [&](size_t, std::string_view m) {
      fn(m);
      return true;
    });
  } else {
    hashset()->table.ForEach([&](const SetNode* n) { fn(n->key()); });
  }
}

std::vector<std::string> SetRef::Members() const {
  std::vector<std::string> out;
  out.reserve(Size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::string SetRef::RandomMember(std::mt19937_64& rng) const {
  if (!packed()) return std::string(hashset()->Random(rng));
  size_t i = std::uniform_int_distribution<size_t>(0, Size() - 1)(rng);
  if (intset()) {
    char buf[24];
    return std::string(FormatInt(IntAt(i), buf));
  }
  std::string out;
  packed::ForEachElem(bytes(), [&](size_t, std::string_view m) {
    if (i-- > 0) return true;
    out = m;
    return false;
  });
  return out;
}

}  // namespace keel
