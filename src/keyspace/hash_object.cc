#include "keel/keyspace/hash_object.h"

#include <malloc.h>

#include <cstring>
#include <new>

namespace keel {

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

size_t HashtableHash::SampledMemoryUsage(size_t samples) const {
  return sizeof(*this) + table.SampledBytes(samples);
}

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

// ---- HashRef ----

namespace {

// One packed field/value pair, and the bytes it takes.
struct Pair {
  std::string_view field;
  std::string_view value;
  size_t size;
  size_t value_offset;  // from the start of the pair
};

Pair ReadPair(const char* p) {
  size_t fsize;
  size_t vsize;
  std::string_view f = packed::GetElem(p, &fsize);
  std::string_view v = packed::GetElem(p + fsize, &vsize);
  return {f, v, fsize + vsize, fsize};
}

}  // namespace

Entry* HashRef::NewEntry(std::string_view key) {
  return NewPackedEntry(key, ObjType::kHash, Encoding::kListpack, {}, -1);
}

size_t HashRef::FindPair(std::string_view field, size_t* pairs) const {
  std::string_view run = bytes();
  size_t n = 0;
  for (size_t off = 0; off < run.size(); ++n) {
    Pair pair = ReadPair(run.data() + off);
    if (pair.field == field) {
      *pairs = n;
      return off;
    }
    off += pair.size;
  }
  *pairs = n;
  return std::string_view::npos;
}

size_t HashRef::Size() const {
  if (!packed()) return entry()->object()->ElementCount();
  return packed::CountElems(bytes()) / 2;
}

std::optional<std::string_view> HashRef::Get(std::string_view field) const {
  if (!packed()) return table()->Get(field);
  size_t pairs;
  size_t off = FindPair(field, &pairs);
  if (off == std::string_view::npos) return std::nullopt;
  return ReadPair(bytes().data() + off).value;
}

void HashRef::ConvertToTable() {
  if (!packed()) return;
  auto* t = new HashtableHash();
  t->table.Reserve(Size() + 1);
  ForEach([&](std::string_view f, std::string_view v) { t->Set(f, v); });
  Adopt(t, Encoding::kHashtable);
}

void HashRef::TryConversion(std::initializer_list<std::string_view> strings, size_t max_value) {
  if (!packed()) return;
  for (std::string_view s : strings) {
    if (s.size() > max_value) {
      ConvertToTable();
      return;
    }
  }
}

bool HashRef::Set(std::string_view field, std::string_view value, size_t max_entries,
                  size_t max_value) {
  TryConversion({field, value}, max_value);
  if (!packed()) return table()->Set(field, value);
  size_t pairs;
  size_t off = FindPair(field, &pairs);
  size_t vsize = packed::ElemSize(value);
  if (off == std::string_view::npos) {
    size_t add = packed::ElemSize(field) + vsize;
    if (bytes().size() + add > kMaxPackedBytes) {
      ConvertToTable();
      return table()->Set(field, value);
    }
    char* p = Splice(bytes().size(), 0, add);
    p += packed::PutElem(p, field);
    packed::PutElem(p, value);
    if (pairs + 1 > max_entries) ConvertToTable();
    return true;
  }
  Pair old = ReadPair(bytes().data() + off);
  size_t old_vsize = old.size - old.value_offset;
  if (bytes().size() - old_vsize + vsize > kMaxPackedBytes) {
    ConvertToTable();
    return table()->Set(field, value);
  }
  packed::PutElem(Splice(off + old.value_offset, old_vsize, vsize), value);
  return false;
}

bool HashRef::Remove(std::string_view field) {
  if (!packed()) return table()->Remove(field);
  size_t pairs;
  size_t off = FindPair(field, &pairs);
  if (off == std::string_view::npos) return false;
  Splice(off, ReadPair(bytes().data() + off).size, 0);
  return true;
}

void HashRef::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (!packed()) {
    table()->table.ForEach([&](const HashNode* n) { fn(n->key(), n->value()); });
    return;
  }
  std::string_view run = bytes();
  for (size_t off = 0; off < run.size();) {
    Pair pair = ReadPair(run.data() + off);
    fn(pair.field, pair.value);
    off += pair.size;
  }
}

std::pair<std::string, std::string> HashRef::RandomPair(std::mt19937_64& rng) const {
  if (!packed()) {
    auto [f, v] = table()->Random(rng);
    return {std::string(f), std::string(v)};
  }
  size_t i = std::uniform_int_distribution<size_t>(0, Size() - 1)(rng);
  std::pair<std::string, std::string> out;
  size_t n = 0;
  ForEach([&](std::string_view f, std::string_view v) {
    if (n++ == i) out = {std::string(f), std::string(v)};
  });
  return out;
}

}  // namespace keel
