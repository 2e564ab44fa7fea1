#include "keel/keyspace/entry.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>

#include "keel/common/strings.h"

namespace keel {

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kInt:
      return "int";
    case Encoding::kEmbstr:
      return "embstr";
    case Encoding::kRaw:
      return "raw";
    case Encoding::kListpack:
      return "listpack";
    case Encoding::kQuicklist:
      return "quicklist";
    case Encoding::kIntset:
      return "intset";
    case Encoding::kHashtable:
      return "hashtable";
    case Encoding::kSkiplist:
      return "skiplist";
  }
  return "unknown";
}

std::string_view TypeName(ObjType t) {
  switch (t) {
    case ObjType::kString:
      return "string";
    case ObjType::kList:
      return "list";
    case ObjType::kSet:
      return "set";
    case ObjType::kHash:
      return "hash";
    case ObjType::kZset:
      return "zset";
  }
  return "none";
}

bool IsCanonicalInt(std::string_view s, int64_t* v) {
  if (s.size() > 20) return false;
  auto n = ParseInt64(s);
  if (!n) return false;
  *v = *n;
  return true;
}

namespace {

Entry* Allocate(std::string_view key, size_t value_bytes, int64_t expire_ms) {
  bool has_expire = expire_ms >= 0;
  bool long_key = key.size() >= Entry::kLongKey;
  size_t size =
      sizeof(Entry) + (has_expire ? 8 : 0) + (long_key ? 4 : 0) + key.size() + value_bytes;
  void* mem = std::malloc(size);
  if (mem == nullptr) throw std::bad_alloc();
  Entry* e = static_cast<Entry*>(mem);
  e->next = nullptr;
  e->key_len8 = long_key ? Entry::kLongKey : key.size();
  e->val_len = 0;
  e->lru = 0;
  e->type = ObjType::kString;
  e->storage = Entry::kInline;
  e->enc = Encoding::kEmbstr;
  e->flags = has_expire ? Entry::kHasExpire : 0;
  if (has_expire) e->set_expire_ms(expire_ms);
  if (long_key) {
    auto n = static_cast<uint32_t>(key.size());
    std::memcpy(e->ExpireEnd(), &n, sizeof(n));
  }
  if (!key.empty()) std::memcpy(e->KeyPtr(), key.data(), key.size());
  return e;
}

void StorePointer(Entry* e, const void* p) { std::memcpy(e->ValuePtr(), &p, sizeof(p)); }

}  // namespace

std::string_view Entry::StringValue(char* buf) const {
  switch (storage) {
    case kInline:
      return {inline_data(), val_len};
    case kInt: {
      std::string s;
      AppendInt(&s, int_value());
      std::memcpy(buf, s.data(), s.size());
      return {buf, s.size()};
    }
    case kHeap:
      return *heap();
    case kObject:
    case kPacked:
      break;
  }
  return {};
}

namespace {
Entry* NewBytesEntry(std::string_view key, std::string_view value, int64_t expire_ms, Encoding enc,
                     size_t inline_limit) {
  if (value.size() <= inline_limit) {
    Entry* e = Allocate(key, value.size(), expire_ms);
    e->val_len = static_cast<uint32_t>(value.size());
    if (!value.empty()) std::memcpy(e->inline_data(), value.data(), value.size());
    e->enc = enc;
    return e;
  }
  Entry* e = Allocate(key, sizeof(void*), expire_ms);
  e->storage = Entry::kHeap;
  e->enc = enc;
  StorePointer(e, new std::string(value));
  return e;
}
}  // namespace

Entry* NewStringEntry(std::string_view key, std::string_view value, int64_t expire_ms) {
  int64_t iv;
  if (IsCanonicalInt(value, &iv)) return NewIntEntry(key, iv, expire_ms);
  return NewBytesEntry(key, value, expire_ms,
                       value.size() <= kEmbstrLimit ? Encoding::kEmbstr : Encoding::kRaw,
                       kMaxInlineString);
}

Entry* NewRawStringEntry(std::string_view key, std::string_view value, int64_t expire_ms) {
  return NewBytesEntry(key, value, expire_ms, Encoding::kRaw, kMaxGrowableInline);
}

Entry* NewHeapStringEntry(std::string_view key, std::unique_ptr<std::string> value,
                          int64_t expire_ms) {
  // Longer than any canonical integer and than kEmbstrLimit: "raw", as NewStringEntry says.
  Entry* e = Allocate(key, sizeof(void*), expire_ms);
  e->storage = Entry::kHeap;
  e->enc = Encoding::kRaw;
  StorePointer(e, value.release());
  return e;
}

Entry* NewIntEntry(std::string_view key, int64_t value, int64_t expire_ms) {
  Entry* e = Allocate(key, sizeof(int64_t), expire_ms);
  e->storage = Entry::kInt;
  e->enc = Encoding::kInt;
  e->set_int_value(value);
  return e;
}

Entry* NewObjectEntry(std::string_view key, ObjType type, Encoding enc, Object* obj,
                      int64_t expire_ms) {
  Entry* e = Allocate(key, sizeof(void*), expire_ms);
  e->type = type;
  e->storage = Entry::kObject;
  e->enc = enc;
  StorePointer(e, obj);
  return e;
}

Entry* NewPackedEntry(std::string_view key, ObjType type, Encoding enc, std::string_view bytes,
                      int64_t expire_ms) {
  if (bytes.size() > kMaxValueBytes) throw std::length_error("packed value too long");
  Entry* e = Allocate(key, bytes.size(), expire_ms);
  e->type = type;
  e->storage = Entry::kPacked;
  e->enc = enc;
  e->val_len = static_cast<uint32_t>(bytes.size());
  if (!bytes.empty()) std::memcpy(e->ValuePtr(), bytes.data(), bytes.size());
  return e;
}

Entry* ResizePacked(Entry* e, size_t bytes) {
  if (bytes > kMaxValueBytes) throw std::length_error("packed value too long");
  size_t off = e->ValueOffset();
  size_t need = off + bytes;
  size_t usable = malloc_usable_size(e);
  // Shrinking moves only when it gives back a good part of the block.
  bool wasteful = usable >= 2 * need && usable - need >= 64;
  if (need <= usable && !wasteful) {
    e->val_len = static_cast<uint32_t>(bytes);
    return e;
  }
  auto* copy = static_cast<Entry*>(std::malloc(need));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, e, off + std::min<size_t>(e->val_len, bytes));
  copy->val_len = static_cast<uint32_t>(bytes);
  return copy;
}

Entry* CloneEntry(const Entry* src, std::string_view key, int64_t expire_ms, bool steal) {
  bool bytes = src->storage == Entry::kInline || src->storage == Entry::kPacked;
  size_t value_bytes = bytes ? src->val_len : 8;
  Entry* e = Allocate(key, value_bytes, expire_ms);
  e->val_len = src->val_len;
  e->lru = src->lru;
  e->type = src->type;
  e->storage = src->storage;
  e->enc = src->enc;
  switch (src->storage) {
    case Entry::kInline:
    case Entry::kInt:
    case Entry::kPacked:
      if (value_bytes) std::memcpy(e->ValuePtr(), src->ValuePtr(), value_bytes);
      break;
    case Entry::kHeap:
      StorePointer(e, steal ? src->heap() : new std::string(*src->heap()));
      break;
    case Entry::kObject:
      StorePointer(e, steal ? src->object() : src->object()->Clone());
      break;
  }
  return e;
}

void FreeEntryShell(Entry* e) { std::free(e); }

void FreeEntry(Entry* e) {
  if (e->storage == Entry::kHeap) {
    delete e->heap();
  } else if (e->storage == Entry::kObject) {
    delete e->object();
  }
  std::free(e);
}

size_t EntryMemorySampled(const Entry* e, size_t samples) {
  size_t n = malloc_usable_size(const_cast<Entry*>(e));
  switch (e->storage) {
    case Entry::kHeap: {
      // The std::string object, and its buffer unless the characters fit inside it (SSO).
      const std::string* s = e->heap();
      n += malloc_usable_size(const_cast<std::string*>(s));
      if (s->capacity() > 15) n += malloc_usable_size(const_cast<char*>(s->data()));
      return n;
    }
    case Entry::kObject:
      return n + e->object()->SampledMemoryUsage(samples);
    default:
      return n;
  }
}

size_t EntryMemory(const Entry* e) {
  size_t n = e->ValueOffset();
  switch (e->storage) {
    case Entry::kInline:
    case Entry::kPacked:
      return n + e->val_len;
    case Entry::kInt:
      return n + 8;
    case Entry::kHeap:
      return n + 8 + sizeof(std::string) + e->heap()->capacity();
    case Entry::kObject:
      return n + 8 + e->object()->MemoryUsage();
  }
  return n;
}

}  // namespace keel
