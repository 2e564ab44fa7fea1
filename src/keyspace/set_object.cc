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

uint64_t NextCursor(uint64_t v, uint64_t mask) { return hashing::NextCursor(v, mask); }

}  // namespace ht

std::string_view FormatInt(int64_t v, char* buf) {
  auto r = std::to_chars(buf, buf + 21, v);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

// ---- IntsetObject ----

IntsetObject* IntsetObject::Allocate(size_t data_bytes) {
  void* mem = std::malloc(sizeof(IntsetObject) + data_bytes);
  if (mem == nullptr) throw std::bad_alloc();
  return ::new (mem) IntsetObject();
}

IntsetObject* IntsetObject::New() { return Allocate(0); }

size_t IntsetObject::CapacityBytes() const {
  return malloc_usable_size(const_cast<IntsetObject*>(this)) - sizeof(IntsetObject);
}

size_t IntsetObject::MemoryUsage() const {
  return malloc_usable_size(const_cast<IntsetObject*>(this));
}

Object* IntsetObject::Clone() const {
  IntsetObject* c = Allocate(size_t{len_} * width_);
  c->len_ = len_;
  c->width_ = width_;
  std::memcpy(c->data(), data(), size_t{len_} * width_);
  return c;
}

// A copy of s in a block with room for data_bytes; s is freed.
IntsetObject* IntsetObject::Resized(IntsetObject* s, size_t data_bytes) {
  IntsetObject* c = Allocate(data_bytes);
  c->len_ = s->len_;
  c->width_ = s->width_;
  std::memcpy(c->data(), s->data(), std::min(data_bytes, size_t{s->len_} * s->width_));
  delete s;
  return c;
}

int64_t IntsetObject::At(size_t i) const {
  const char* p = data() + i * width_;
  switch (width_) {
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

void IntsetObject::Put(size_t i, int64_t v) {
  char* p = data() + i * width_;
  switch (width_) {
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

bool IntsetObject::Find(int64_t v, size_t* pos) const {
  size_t lo = 0, hi = len_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (At(mid) < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return lo < len_ && At(lo) == v;
}

IntsetObject* IntsetObject::Add(IntsetObject* s, int64_t v, bool* added) {
  unsigned w = WidthFor(v);
  if (w > s->width_) {
    // A wider value lies outside the current range: it goes first (negative) or last.
    size_t n = s->len_;
    IntsetObject* c = Allocate((n + 1) * w);
    c->width_ = static_cast<uint8_t>(w);
    c->len_ = static_cast<uint32_t>(n + 1);
    size_t shift = v < 0 ? 1 : 0;
    for (size_t i = 0; i < n; ++i) c->Put(i + shift, s->At(i));
    c->Put(v < 0 ? 0 : n, v);
    delete s;
    *added = true;
    return c;
  }
  size_t pos;
  if (s->Find(v, &pos)) {
    *added = false;
    return s;
  }
  size_t need = (size_t{s->len_} + 1) * s->width_;
  if (need > s->CapacityBytes()) s = Resized(s, need);
  char* at = s->data() + pos * s->width_;
  std::memmove(at + s->width_, at, (s->len_ - pos) * s->width_);
  ++s->len_;
  s->Put(pos, v);
  *added = true;
  return s;
}

IntsetObject* IntsetObject::Remove(IntsetObject* s, int64_t v, bool* removed) {
  size_t pos;
  if (WidthFor(v) > s->width_ || !s->Find(v, &pos)) {
    *removed = false;
    return s;
  }
  char* at = s->data() + pos * s->width_;
  std::memmove(at, at + s->width_, (s->len_ - pos - 1) * s->width_);
  --s->len_;
  *removed = true;
  size_t used = size_t{s->len_} * s->width_;
  size_t cap = s->CapacityBytes();
  if (cap > 64 && used * 2 < cap) s = Resized(s, used);
  return s;
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

Object* HashSetObject::Clone() const {
  auto* c = new HashSetObject();
  c->table.Reserve(table.size());
  table.ForEach([&](const SetNode* n) {
    std::string_view m = n->key();
    c->table.Insert(SetNode::Make(m), ht::Hash(m));
  });
  return c;
}

bool HashSetObject::Add(std::string_view member) {
  uint64_t h = ht::Hash(member);
  int t;
  if (table.FindLink(member, h, &t) != nullptr) return false;
  table.Insert(SetNode::Make(member), h);
  return true;
}

// ---- SetValue ----

SetValue SetValue::CreateFor(std::string_view first) {
  int64_t v;
  if (IsCanonicalInt(first, &v)) return CreateIntset();
  return {Encoding::kHashtable, new HashSetObject()};
}

SetValue SetValue::CreateIntset() { return {Encoding::kIntset, IntsetObject::New()}; }

size_t SetValue::Size() const { return obj->ElementCount(); }

bool SetValue::Contains(std::string_view member) const {
  if (enc == Encoding::kIntset) {
    int64_t v;
    return IsCanonicalInt(member, &v) && intset()->Contains(v);
  }
  return hashset()->Contains(member);
}

void SetValue::ConvertToHashtable() {
  if (enc != Encoding::kIntset) return;
  auto* h = new HashSetObject();
  IntsetObject* is = intset();
  h->table.Reserve(is->size() + 1);
  char buf[24];
  for (size_t i = 0; i < is->size(); ++i) h->Add(FormatInt(is->At(i), buf));
  delete is;
  obj = h;
  enc = Encoding::kHashtable;
}

bool SetValue::Add(std::string_view member, size_t max_intset) {
  if (enc == Encoding::kIntset) {
    int64_t v;
    if (IsCanonicalInt(member, &v)) {
      bool added;
      obj = IntsetObject::Add(intset(), v, &added);
      if (added && intset()->size() > max_intset) ConvertToHashtable();
      return added;
    }
    ConvertToHashtable();
  }
  return hashset()->Add(member);
}

bool SetValue::Remove(std::string_view member) {
  if (enc == Encoding::kIntset) {
    int64_t v;
    if (!IsCanonicalInt(member, &v)) return false;
    bool removed;
    obj = IntsetObject::Remove(intset(), v, &removed);
    return removed;
  }
  return hashset()->Remove(member);
}

void SetValue::ForEach(const std::function<void(std::string_view)>& fn) const {
  if (enc == Encoding::kIntset) {
    char buf[24];
    IntsetObject* is = intset();
    for (size_t i = 0; i < is->size(); ++i) fn(FormatInt(is->At(i), buf));
    return;
  }
  hashset()->table.ForEach([&](const SetNode* n) { fn(n->key()); });
}

std::vector<std::string> SetValue::Members() const {
  std::vector<std::string> out;
  out.reserve(Size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::string SetValue::RandomMember(std::mt19937_64& rng) const {
  if (enc == Encoding::kIntset) {
    IntsetObject* is = intset();
    char buf[24];
    size_t i = std::uniform_int_distribution<size_t>(0, is->size() - 1)(rng);
    return std::string(FormatInt(is->At(i), buf));
  }
  return std::string(hashset()->Random(rng));
}

void StoreSet(Entry* e, const SetValue& v) {
  Object* o = v.obj;
  std::memcpy(e->ValuePtr(), &o, sizeof(o));
  e->enc = v.enc;
}

}  // namespace keel
