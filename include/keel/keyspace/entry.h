#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace keel {

// 64-bit underneath so that Entry's 3-bit type field packs with the header's other 64-bit
// fields (a uint8_t field may not straddle a byte, which would cost the header a ninth byte).
enum class ObjType : uint64_t { kString = 0, kList = 1, kSet = 2, kHash = 3, kZset = 4 };

// What OBJECT ENCODING reports (Redis's names).
enum class Encoding : uint8_t {
  kInt,
  kEmbstr,
  kRaw,
  kListpack,
  kQuicklist,
  kIntset,
  kHashtable,
  kSkiplist,
};
std::string_view EncodingName(Encoding e);
std::string_view TypeName(ObjType t);

// A collection value (list, set, hash, sorted set): owned by its entry, destroyed with it.
class Object {
 public:
  virtual ~Object() = default;
  // Elements, for deciding whether freeing is worth handing to the lazy-free thread.
  virtual size_t ElementCount() const = 0;
  virtual size_t MemoryUsage() const = 0;
  // MemoryUsage estimated from `samples` elements (or nodes) scaled to the whole, in O(samples):
  // MEMORY USAGE ... SAMPLES and eviction's accounting. 0 means exact (all of them).
  virtual size_t SampledMemoryUsage(size_t samples) const = 0;
  // A deep copy (COPY).
  virtual Object* Clone() const = 0;
};

// Entry is one key with its value, in a single allocation:
//
//   [header: 16 bytes][expire: int64, only if kHasExpire][key length: uint32, only for keys of
//   kLongKey bytes or more][key bytes][value]
//
// and the value is, by `storage`: the bytes of a string (kInline, see kMaxInlineString), an int64
// (kInt), a pointer to a heap std::string for long strings (kHeap), a pointer to an Object
// (kObject), or a small collection packed into the value bytes themselves (kPacked: val_len
// bytes, encoded as list_object.h, set_object.h and hash_object.h describe), so that a small
// list, set or hash is one allocation. Growing a packed value can move the entry to a bigger
// block (see ValueRef). The hash table chains entries through `next`. Entries are created and
// destroyed only by the keyspace (Shard), under the shard's lock.
//
// The header is the chain pointer and one 64-bit word of bit fields: a key length that covers
// the usual short keys (longer ones keep theirs in the body), the inline/packed value length
// (at most kMaxValueBytes), a 23-bit seconds LRU clock that wraps every 97 days (Redis's is 24
// bits), and type, storage and encoding. Every key pays 16 bytes of header, not 24.
//
// The bit budget, for what is coming: `type` has 3 bits (5 types now, room for streams and two
// more); `enc` 3 bits (8 encodings with the sorted set's skiplist: a stream's encoding will take
// `storage`'s unused values or a bit of `val_len`); `storage` 3 bits (5 kinds). Under an LFU
// maxmemory policy the `lru` field holds, as Redis's 24-bit field does, the minutes of the last
// decrement (15 bits here, wrapping every 22 days) and an 8-bit logarithmic access counter
// (keel/keyspace/eviction.h), so LFU costs no memory per key. `val_len` gave its 24th bit to
// `type`: packed values stay under 8 MiB (hash and intset limits, hash_object.h and
// set_object.h).
struct Entry {
  enum Storage : uint8_t { kInline, kInt, kHeap, kObject, kPacked };
  static constexpr uint8_t kHasExpire = 1;
  static constexpr size_t kLongKey = 255;  // key_len8 value: the length is stored in the body
  static constexpr uint32_t kLruMask = (1u << 23) - 1;

  Entry* next;
  uint64_t key_len8 : 8;  // the key's length, or kLongKey (see key_len())
  uint64_t val_len : 23;  // kInline: the string's length; kPacked: the packed value's bytes
  uint64_t lru : 23;      // LRU: seconds clock of the last access, mod 2^23; LFU: see above
  uint64_t flags : 1;
  ObjType type : 3;
  Storage storage : 3;
  Encoding enc : 3;

  size_t key_len() const {
    if (key_len8 != kLongKey) return key_len8;
    uint32_t n;
    std::memcpy(&n, ExpireEnd(), sizeof(n));
    return n;
  }
  bool has_expire() const { return flags & kHasExpire; }
  int64_t expire_ms() const {
    if (!has_expire()) return -1;
    int64_t v;
    std::memcpy(&v, Body(), sizeof(v));
    return v;
  }
  void set_expire_ms(int64_t ms) {  // REQUIRES: has_expire()
    std::memcpy(Body(), &ms, sizeof(ms));
  }
  std::string_view key() const { return {KeyPtr(), key_len()}; }

  // kInt
  int64_t int_value() const {
    int64_t v;
    std::memcpy(&v, ValuePtr(), sizeof(v));
    return v;
  }
  void set_int_value(int64_t v) { std::memcpy(ValuePtr(), &v, sizeof(v)); }
  // kInline
  char* inline_data() { return ValuePtr(); }
  const char* inline_data() const { return ValuePtr(); }
  // kHeap
  std::string* heap() const {
    std::string* p;
    std::memcpy(&p, ValuePtr(), sizeof(p));
    return p;
  }
  // kObject
  Object* object() const {
    Object* p;
    std::memcpy(&p, ValuePtr(), sizeof(p));
    return p;
  }
  // kPacked
  std::string_view packed() const { return {ValuePtr(), val_len}; }

  // The string value (REQUIRES: type == kString). For kInt it is formatted into `buf`
  // (at least 24 bytes).
  std::string_view StringValue(char* buf) const;

  char* Body() { return reinterpret_cast<char*>(this + 1); }
  const char* Body() const { return reinterpret_cast<const char*>(this + 1); }
  char* ExpireEnd() { return Body() + (has_expire() ? 8 : 0); }
  const char* ExpireEnd() const { return Body() + (has_expire() ? 8 : 0); }
  char* KeyPtr() { return ExpireEnd() + (key_len8 == kLongKey ? 4 : 0); }
  const char* KeyPtr() const { return ExpireEnd() + (key_len8 == kLongKey ? 4 : 0); }
  char* ValuePtr() { return KeyPtr() + key_len(); }
  const char* ValuePtr() const { return KeyPtr() + key_len(); }
  // Bytes before the value (header, expire, key length, key).
  size_t ValueOffset() const {
    return static_cast<size_t>(ValuePtr() - reinterpret_cast<const char*>(this));
  }
};
static_assert(sizeof(Entry) == 16);

// The longest inline or packed value an entry can describe (its val_len field).
inline constexpr size_t kMaxValueBytes = (size_t{1} << 23) - 1;

// Strings written whole (SET and friends) of at most kMaxInlineString bytes are stored inside the
// entry: one allocation per key, whatever the value size up to there. Past it, and for strings
// that APPEND, SETRANGE or SETBIT change (kept on the heap past kMaxGrowableInline, so that they
// grow in place), the entry points to a heap std::string. The upper bound keeps the copies that
// RENAME or a new TTL make of an entry short.
inline constexpr size_t kMaxInlineString = 16 * 1024;
inline constexpr size_t kMaxGrowableInline = 64;
// Redis reports strings up to 44 bytes as embstr.
inline constexpr size_t kEmbstrLimit = 44;

// Creating and freeing entries (the only way entries come to be).
Entry* NewStringEntry(std::string_view key, std::string_view value, int64_t expire_ms);
// A string entry that is never integer-encoded and reports "raw" (what APPEND, SETRANGE and
// SETBIT leave behind in Redis).
Entry* NewRawStringEntry(std::string_view key, std::string_view value, int64_t expire_ms);
// A string entry that takes `value` as its heap string, without a copy (a big argument the
// connection received into a string of its own: keel/commands/owned_args.h). It is what
// NewStringEntry makes of the same bytes. REQUIRES: value->size() > kMaxInlineString.
Entry* NewHeapStringEntry(std::string_view key, std::unique_ptr<std::string> value,
                          int64_t expire_ms);
// A string entry holding an integer (OBJECT ENCODING int).
Entry* NewIntEntry(std::string_view key, int64_t value, int64_t expire_ms);
// An entry owning `obj`.
Entry* NewObjectEntry(std::string_view key, ObjType type, Encoding enc, Object* obj,
                      int64_t expire_ms);
// A packed collection entry (type kList, kSet or kHash) whose value bytes are `bytes`; `enc` is
// what OBJECT ENCODING reports for it.
Entry* NewPackedEntry(std::string_view key, ObjType type, Encoding enc, std::string_view bytes,
                      int64_t expire_ms);
// Gives a packed entry `bytes` value bytes (the first min(val_len, bytes) are kept) and sets
// val_len. Returns `e` itself when its block fits (and would not waste half of itself), else a
// resized copy: the caller puts the copy in e's place and frees `e` with FreeEntryShell.
Entry* ResizePacked(Entry* e, size_t bytes);
// A copy of `e` with another key and/or expire (RENAME, COPY, EXPIRE adding a TTL). The value
// is moved for heap strings and objects when `steal` is true (the old entry must then be freed
// with FreeEntryShell), deep-copied otherwise (COPY).
Entry* CloneEntry(const Entry* e, std::string_view key, int64_t expire_ms, bool steal);
void FreeEntry(Entry* e);
// Frees only the entry allocation, not a heap string or object it points to.
void FreeEntryShell(Entry* e);
// Bytes used by the entry and what it owns (approximately: allocator rounding aside).
size_t EntryMemory(const Entry* e);
// The same with collections estimated from `samples` elements (0: all of them; see
// Object::SampledMemoryUsage), and the entry's block as the allocator sized it.
size_t EntryMemorySampled(const Entry* e, size_t samples);

// True if `s` is what Redis would store as an integer: a canonical int64 of at most 20 chars.
bool IsCanonicalInt(std::string_view s, int64_t* v);

}  // namespace keel
