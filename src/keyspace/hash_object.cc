#include "keel/keyspace/hash_object.h"

#include <malloc.h>

#include <cstring>
#include <new>

#include "keel/keyspace/varint.h"

namespace keel {

namespace {

size_t EncodedSize(std::string_view s) { return varint::Size(s.size()) + s.size(); }

// Writes (varint len, bytes) at p; returns the bytes written.
size_t WriteString(char* p, std::string_view s) {
  size_t i = varint::Put(p, s.size());
  if (!s.empty()) std::memcpy(p + i, s.data(), s.size());
  return i + s.size();
}

}  // namespace

// ---- ListpackHash ----

ListpackHash* ListpackHash::Allocate(size_t data_bytes) {
  void* mem = std::malloc(sizeof(ListpackHash) + data_bytes);
  if (mem == nullptr) throw std::bad_alloc();
  return ::new (mem) ListpackHash();
}

ListpackHash* ListpackHash::New() { return Allocate(0); }

ListpackHash* ListpackHash::Resized(ListpackHash* h, size_t data_bytes) {
  ListpackHash* c = Allocate(data_bytes);
  c->pairs_ = h->pairs_;
  c->used_ = h->used_;
  std::memcpy(c->data(), h->data(), std::min<size_t>(data_bytes, h->used_));
  delete h;
  return c;
}

size_t ListpackHash::CapacityBytes() const {
  return malloc_usable_size(const_cast<ListpackHash*>(this)) - sizeof(ListpackHash);
}

size_t ListpackHash::MemoryUsage() const {
  return malloc_usable_size(const_cast<ListpackHash*>(this));
}

Object* ListpackHash::Clone() const {
  ListpackHash* c = Allocate(used_);
  c->pairs_ = pairs_;
  c->used_ = used_;
  std::memcpy(c->data(), data(), used_);
  return c;
}

std::string_view ListpackHash::Read(size_t* off) const {
  const char* p = data() + *off;
  size_t n = 0;
  size_t i = varint::Get(p, &n);
  std::string_view s(p + i, n);
  *off += i + n;
  return s;
}

size_t ListpackHash::FindPair(std::string_view field) const {
  size_t off = 0;
  while (off < used_) {
    size_t start = off;
    std::string_view f = Read(&off);
    if (f == field) return start;
    Read(&off);
  }
  return used_;
}

std::optional<std::string_view> ListpackHash::Get(std::string_view field) const {
  size_t off = FindPair(field);
  if (off == used_) return std::nullopt;
  Read(&off);
  return Read(&off);
}

ListpackHash* ListpackHash::Set(ListpackHash* h, std::string_view field, std::string_view value,
                                bool* inserted) {
  size_t off = h->FindPair(field);
  if (off == h->used_) {
    size_t need = h->used_ + EncodedSize(field) + EncodedSize(value);
    if (need > h->CapacityBytes()) h = Resized(h, need);
    size_t at = h->used_;
    at += WriteString(h->data() + at, field);
    at += WriteString(h->data() + at, value);
    h->used_ = static_cast<uint32_t>(at);
    ++h->pairs_;
    *inserted = true;
    return h;
  }
  *inserted = false;
  h->Read(&off);  // skip the field
  size_t vstart = off;
  h->Read(&off);
  size_t old_len = off - vstart;
  size_t new_len = EncodedSize(value);
  if (new_len != old_len) {
    size_t tail = h->used_ - off;
    size_t need = h->used_ - old_len + new_len;
    if (need > h->CapacityBytes()) h = Resized(h, need);
    std::memmove(h->data() + vstart + new_len, h->data() + off, tail);
    h->used_ = static_cast<uint32_t>(need);
  }
  WriteString(h->data() + vstart, value);
  return h;
}

ListpackHash* ListpackHash::Remove(ListpackHash* h, std::string_view field, bool* removed) {
  size_t start = h->FindPair(field);
  if (start == h->used_) {
    *removed = false;
    return h;
  }
  size_t off = start;
  h->Read(&off);
  h->Read(&off);
  std::memmove(h->data() + start, h->data() + off, h->used_ - off);
  h->used_ -= static_cast<uint32_t>(off - start);
  --h->pairs_;
  *removed = true;
  size_t cap = h->CapacityBytes();
  if (cap > 64 && size_t{h->used_} * 2 < cap) h = Resized(h, h->used_);
  return h;
}

void ListpackHash::ForEach(
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  size_t off = 0;
  while (off < used_) {
    std::string_view f = Read(&off);
    std::string_view v = Read(&off);
    if (!fn(f, v)) return;
  }
}

std::pair<std::string_view, std::string_view> ListpackHash::At(size_t index) const {
  size_t off = 0;
  for (size_t i = 0; i < index; ++i) {
    Read(&off);
    Read(&off);
  }
  std::string_view f = Read(&off);
  std::string_view v = Read(&off);
  return {f, v};
}

// ---- HashNode / HashtableHash ----

HashNode* HashNode::Make(std::string_view field, std::string_view value) {
  void* mem = std::malloc(sizeof(HashNode) + field.size() + value.size());
  if (mem == nullptr) throw std::bad_alloc();
  auto* n = ::new (mem)
      HashNode{nullptr, static_cast<uint32_t>(field.size()), static_cast<uint32_t>(value.size())};
  char* p = reinterpret_cast<char*>(n + 1);
  if (!field.empty()) std::memcpy(p, field.data(), field.size());
  if (!value.empty()) std::memcpy(p + field.size(), value.data(), value.size());
  return n;
}

HashNode* HashNode::SetValue(HashNode* n, std::string_view value) {
  size_t need = sizeof(HashNode) + n->flen + value.size();
  size_t have = n->Bytes();
  if (need > have || (have > 64 && need * 2 < have)) {
    HashNode* c = Make(n->key(), value);
    c->next = n->next;
    std::free(n);
    return c;
  }
  // value may alias the old value's bytes.
  if (!value.empty())
    std::memmove(reinterpret_cast<char*>(n + 1) + n->flen, value.data(), value.size());
  n->vlen = static_cast<uint32_t>(value.size());
  return n;
}

size_t HashNode::Bytes() const { return malloc_usable_size(const_cast<HashNode*>(this)); }

size_t HashtableHash::MemoryUsage() const { return sizeof(*this) + table.MemoryBytes(); }

Object* HashtableHash::Clone() const {
  auto* c = new HashtableHash();
  c->table.CopyFrom(table, [](const HashNode* n) { return HashNode::Make(n->key(), n->value()); });
  return c;
}

bool HashtableHash::Set(std::string_view field, std::string_view value) {
  uint64_t h = ht::Hash(field);
  int t;
  HashNode** link = table.FindLink(field, h, &t);
  if (link != nullptr) {
    *link = HashNode::SetValue(*link, value);
    return false;
  }
  table.Insert(HashNode::Make(field, value), h);
  return true;
}

// ---- HashValue ----

std::optional<std::string_view> HashValue::Get(std::string_view field) const {
  if (enc == Encoding::kListpack) return listpack()->Get(field);
  return table()->Get(field);
}

void HashValue::ConvertToHashtable() {
  if (enc != Encoding::kListpack) return;
  auto* t = new HashtableHash();
  ListpackHash* lp = listpack();
  t->table.Reserve(lp->size() + 1);
  lp->ForEach([&](std::string_view f, std::string_view v) {
    t->Set(f, v);
    return true;
  });
  delete lp;
  obj = t;
  enc = Encoding::kHashtable;
}

void HashValue::TryConversion(std::initializer_list<std::string_view> strings, size_t max_value) {
  if (enc != Encoding::kListpack) return;
  for (std::string_view s : strings) {
    if (s.size() > max_value) {
      ConvertToHashtable();
      return;
    }
  }
}

bool HashValue::Set(std::string_view field, std::string_view value, size_t max_entries,
                    size_t max_value) {
  TryConversion({field, value}, max_value);
  if (enc == Encoding::kListpack) {
    bool inserted;
    obj = ListpackHash::Set(listpack(), field, value, &inserted);
    if (listpack()->size() > max_entries) ConvertToHashtable();
    return inserted;
  }
  return table()->Set(field, value);
}

bool HashValue::Remove(std::string_view field) {
  if (enc == Encoding::kListpack) {
    bool removed;
    obj = ListpackHash::Remove(listpack(), field, &removed);
    return removed;
  }
  return table()->Remove(field);
}

void HashValue::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (enc == Encoding::kListpack) {
    listpack()->ForEach([&](std::string_view f, std::string_view v) {
      fn(f, v);
      return true;
    });
    return;
  }
  table()->table.ForEach([&](const HashNode* n) { fn(n->key(), n->value()); });
}

std::pair<std::string, std::string> HashValue::RandomPair(std::mt19937_64& rng) const {
  if (enc == Encoding::kListpack) {
    size_t i = std::uniform_int_distribution<size_t>(0, listpack()->size() - 1)(rng);
    auto [f, v] = listpack()->At(i);
    return {std::string(f), std::string(v)};
  }
  auto [f, v] = table()->Random(rng);
  return {std::string(f), std::string(v)};
}

void StoreHash(Entry* e, const HashValue& v) {
  Object* o = v.obj;
  std::memcpy(e->ValuePtr(), &o, sizeof(o));
  e->enc = v.enc;
}

}  // namespace keel
