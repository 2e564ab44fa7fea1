#include "keel/persistence/rdb_reader.h"

#include <fcntl.h>
#include <lzf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "keel/keyspace/hash_object.h"
#include "keel/keyspace/list_object.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"
#include "keel/persistence/crc64.h"
#include "keel/persistence/encodings.h"
#include "keel/persistence/rdb_format.h"

namespace keel::rdb {

// ---- sources ----

bool MemorySource::Read(char* dst, size_t n) {
  if (n > data_.size() - pos_) return false;
  if (n > 0) std::memcpy(dst, data_.data() + pos_, n);
  pos_ += n;
  return true;
}

uint64_t MemorySource::crc() const { return Crc64(0, data_.data(), pos_); }

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSource::Open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return Status::Error(std::strerror(errno));
  struct stat st;
  if (fstat(fd_, &st) != 0) return Status::Error(std::strerror(errno));
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

bool FileSource::Read(char* dst, size_t n) {
  if (n > remaining()) return false;
  while (n > 0) {
    if (buf_pos_ == buf_.size()) {
      crc_ = Crc64(crc_, buf_.data() + crc_pos_, buf_pos_ - crc_pos_);
      crc_pos_ = 0;
      buf_.resize(1 << 20);
      ssize_t got;
      do {
        got = ::read(fd_, buf_.data(), buf_.size());
      } while (got < 0 && errno == EINTR);
      if (got <= 0) {
        buf_.clear();
        buf_pos_ = 0;
        return false;
      }
      buf_.resize(static_cast<size_t>(got));
      buf_pos_ = 0;
    }
    size_t take = std::min(n, buf_.size() - buf_pos_);
    std::memcpy(dst, buf_.data() + buf_pos_, take);
    buf_pos_ += take;
    offset_ += take;
    dst += take;
    n -= take;
  }
  return true;
}

uint64_t FileSource::crc() const {
  return Crc64(crc_, buf_.data() + crc_pos_, buf_pos_ - crc_pos_);
}

namespace {

// Reading helpers that turn a short read or a bad value into an error with the offset.
class Reader {
 public:
  Reader(Source& src, int version) : src_(src), version_(version) {}

  Status Error(std::string_view what) const { return ErrorAt(src_.offset(), what); }
  static Status ErrorAt(uint64_t off, std::string_view what) {
    return Status::Error(std::string(what) + " at offset " + std::to_string(off));
  }

  Status Bytes(char* dst, size_t n) {
    if (!src_.Read(dst, n)) return Error("unexpected end of file");
    return Status::Ok();
  }
  Status U8(uint8_t* v) {
    char c;
    if (Status st = Bytes(&c, 1); !st.ok()) return st;
    *v = static_cast<uint8_t>(c);
    return Status::Ok();
  }
  Status LE(uint64_t* v, int n) {
    unsigned char b[8];
    if (Status st = Bytes(reinterpret_cast<char*>(b), static_cast<size_t>(n)); !st.ok()) return st;
    *v = 0;
    for (int i = n - 1; i >= 0; --i) *v = (*v << 8) | b[i];
    return Status::Ok();
  }

  // A length; *encoded is set (and *len is the encoding) for the special string encodings.
  Status Length(uint64_t* len, bool* encoded = nullptr) {
    uint8_t b;
    if (Status st = U8(&b); !st.ok()) return st;
    if (encoded) *encoded = false;
    switch (b >> 6) {
      case kLen6:
        *len = b & 0x3f;
        return Status::Ok();
      case kLen14: {
        uint8_t c;
        if (Status st = U8(&c); !st.ok()) return st;
        *len = (uint64_t{b & 0x3fu} << 8) | c;
        return Status::Ok();
      }
      case kEncVal:
        if (encoded == nullptr) return Error("unexpected string encoding in a length");
        *encoded = true;
        *len = b & 0x3f;
        return Status::Ok();
      default: {
        int n = b == kLen32 ? 4 : b == kLen64 ? 8 : 0;
        if (n == 0) return Error("invalid length encoding");
        unsigned char d[8];
        if (Status st = Bytes(reinterpret_cast<char*>(d), static_cast<size_t>(n)); !st.ok()) {
          return st;
        }
        *len = 0;
        for (int i = 0; i < n; ++i) *len = (*len << 8) | d[i];
        return Status::Ok();
      }
    }
  }

  // A length that counts items of at least `min_bytes` bytes each still to come.
  Status Count(uint64_t* n, uint64_t min_bytes = 1) {
    uint64_t at = src_.offset();
    if (Status st = Length(n); !st.ok()) return st;
    if (*n > src_.remaining() / min_bytes) return ErrorAt(at, "length past the end of the data");
    return Status::Ok();
  }

  Status String(std::string* out) {
    uint64_t at = src_.offset();
    bool encoded;
    uint64_t len;
    if (Status st = Length(&len, &encoded); !st.ok()) return st;
    if (!encoded) {
      if (len > src_.remaining()) return ErrorAt(at, "string length past the end of the data");
      out->resize(len);
      return Bytes(out->data(), len);
    }
    switch (len) {
      case kEncInt8:
      case kEncInt16:
      case kEncInt32: {
        int n = len == kEncInt8 ? 1 : len == kEncInt16 ? 2 : 4;
        uint64_t u;
        if (Status st = LE(&u, n); !st.ok()) return st;
        int64_t v = n == 1   ? static_cast<int8_t>(u)
                    : n == 2 ? static_cast<int16_t>(u)
                             : static_cast<int32_t>(u);
        *out = std::to_string(v);
        return Status::Ok();
      }
      case kEncLzf: {
        uint64_t clen, ulen;
        if (Status st = Length(&clen); !st.ok()) return st;
        if (Status st = Length(&ulen); !st.ok()) return st;
        if (clen > src_.remaining()) return ErrorAt(at, "compressed string past the end");
        // LZF expands at most about 1:264 per back-reference; anything more is a lie.
        if (ulen == 0 || ulen > clen * 300 + 64 || ulen > UINT32_MAX || clen > UINT32_MAX) {
          return ErrorAt(at, "absurd compressed string length");
        }
        std::string c(clen, '\0');
        if (Status st = Bytes(c.data(), clen); !st.ok()) return st;
        out->resize(ulen);
        unsigned int got = lzf_decompress(c.data(), static_cast<unsigned int>(clen), out->data(),
                                          static_cast<unsigned int>(ulen));
        if (got != ulen) return ErrorAt(at, "invalid LZF compressed string");
        return Status::Ok();
      }
      default:
        return ErrorAt(at, "unknown string encoding");
    }
  }

  Source& src() { return src_; }
  void CountPackedBlob() { ++packed_blobs_; }
  uint64_t packed_blobs() const { return packed_blobs_; }
  int version() const { return version_; }

 private:
  Source& src_;
  int version_;
  uint64_t packed_blobs_ = 0;
};

// Frees a detached entry unless released.
struct EntryHolder {
  Entry* e = nullptr;
  ~EntryHolder() {
    if (e != nullptr) FreeEntry(e);
  }
  Entry* Release() {
    Entry* r = e;
    e = nullptr;
    return r;
  }
};

// Builds a list one element at a time.
class ListBuilder {
 public:
  ListBuilder(std::string_view key, const ValueLimits& l)
      : holder_{ListRef::NewEntry(key)},
        ref_(holder_.e, l.list_max_listpack_size, l.list_compress_depth) {}
  void Add(std::string_view v) {
    ref_.PushBack(v);
    holder_.e = ref_.entry();
    ++n_;
  }
  Entry* Finish() { return n_ == 0 ? nullptr : holder_.Release(); }

 private:
  EntryHolder holder_;
  ListRef ref_;
  size_t n_ = 0;
};

class SetBuilder {
 public:
  SetBuilder(std::string_view key, const ValueLimits& l) : key_(key), limits_(l) {}
  bool Add(std::string_view m) {  // false for a duplicate
    if (holder_.e == nullptr) {
      // NewEntry picks the encoding that suits the first member; Add puts it in.
      holder_.e = SetRef::NewEntry(key_, m);
    }
    SetRef s(holder_.e);
    bool added = s.Add(m, limits_.set_max_intset_entries);
    holder_.e = s.entry();
    return added;
  }
  Entry* Finish() { return holder_.Release(); }

 private:
  std::string_view key_;
  const ValueLimits& limits_;
  EntryHolder holder_;
};

class HashBuilder {
 public:
  HashBuilder(std::string_view key, const ValueLimits& l, uint64_t expected)
      : holder_{HashRef::NewEntry(key)}, limits_(l) {
    if (expected > l.hash_max_listpack_entries) {
      HashRef h(holder_.e);
      h.ConvertToTable();
      holder_.e = h.entry();
    }
  }
  bool Set(std::string_view f, std::string_view v) {  // false for a duplicate field
    HashRef h(holder_.e);
    bool added = h.Set(f, v, limits_.hash_max_listpack_entries, limits_.hash_max_listpack_value);
    holder_.e = h.entry();
    ++n_;
    return added;
  }
  Entry* Finish() { return n_ == 0 ? nullptr : holder_.Release(); }

 private:
  EntryHolder holder_;
  const ValueLimits& limits_;
  size_t n_ = 0;
};

Status BlobError(Reader& r, uint64_t at, const Status& st) {
  return Reader::ErrorAt(at, st.message());
}

// Reads a blob string and walks it with `parse`.
template <typename Parse>
Status ReadBlob(Reader& r, Parse parse, const ElementFn& fn) {
  r.CountPackedBlob();
  uint64_t at = r.src().offset();
  std::string blob;
  if (Status st = r.String(&blob); !st.ok()) return st;
  if (Status st = parse(blob, fn); !st.ok()) return BlobError(r, at, st);
  return Status::Ok();
}

Status ReadList(Reader& r, int type, std::string_view key, const ValueLimits& limits, Entry** out) {
  ListBuilder b(key, limits);
  auto add = [&](std::string_view v) {
    b.Add(v);
    return true;
  };
  if (type == kTypeList) {
    uint64_t n;
    if (Status st = r.Count(&n); !st.ok()) return st;
    std::string v;
    for (uint64_t i = 0; i < n; ++i) {
      if (Status st = r.String(&v); !st.ok()) return st;
      b.Add(v);
    }
  } else if (type == kTypeListZiplist) {
    if (Status st = ReadBlob(r, ParseZiplist, add); !st.ok()) return st;
  } else {
    uint64_t nodes;
    if (Status st = r.Count(&nodes); !st.ok()) return st;
    for (uint64_t i = 0; i < nodes; ++i) {
      uint64_t container = kQuicklistPacked;
      if (type == kTypeListQuicklist2) {
        uint64_t at = r.src().offset();
        if (Status st = r.Length(&container); !st.ok()) return st;
        if (container != kQuicklistPacked && container != kQuicklistPlain) {
          return Reader::ErrorAt(at, "invalid quicklist node container");
        }
      }
      if (container == kQuicklistPlain) {
        std::string v;
        if (Status st = r.String(&v); !st.ok()) return st;
        b.Add(v);
      } else if (type == kTypeListQuicklist) {
        if (Status st = ReadBlob(r, ParseZiplist, add); !st.ok()) return st;
      } else {
        if (Status st = ReadBlob(r, ParseListpack, add); !st.ok()) return st;
      }
    }
  }
  *out = b.Finish();
  return Status::Ok();
}

Status ReadSet(Reader& r, int type, std::string_view key, const ValueLimits& limits, Entry** out) {
  SetBuilder b(key, limits);
  bool dup = false;
  auto add = [&](std::string_view m) {
    if (!b.Add(m)) dup = true;
    return !dup;
  };
  uint64_t at = r.src().offset();
  if (type == kTypeSet) {
    uint64_t n;
    if (Status st = r.Count(&n); !st.ok()) return st;
    std::string m;
    for (uint64_t i = 0; i < n && !dup; ++i) {
      if (Status st = r.String(&m); !st.ok()) return st;
      add(m);
    }
  } else if (type == kTypeSetIntset) {
    if (Status st = ReadBlob(r, ParseIntset, add); !st.ok()) return st;
  } else {
    if (Status st = ReadBlob(r, ParseListpack, add); !st.ok()) return st;
  }
  if (dup) return Reader::ErrorAt(at, "duplicate set members detected");
  *out = b.Finish();
  return Status::Ok();
}

Status ReadHash(Reader& r, int type, std::string_view key, const ValueLimits& limits, Entry** out) {
  uint64_t at = r.src().offset();
  bool dup = false;
  if (type == kTypeHash) {
    uint64_t n;
    if (Status st = r.Count(&n, 2); !st.ok()) return st;
    HashBuilder b(key, limits, n);
    std::string f, v;
    for (uint64_t i = 0; i < n && !dup; ++i) {
      if (Status st = r.String(&f); !st.ok()) return st;
      if (Status st = r.String(&v); !st.ok()) return st;
      if (!b.Set(f, v)) dup = true;
    }
    if (dup) return Reader::ErrorAt(at, "duplicate hash fields detected");
    *out = b.Finish();
    return Status::Ok();
  }
  HashBuilder b(key, limits, 0);
  std::string field;
  bool have_field = false;
  auto add = [&](std::string_view s) {
    if (!have_field) {
      field.assign(s);
      have_field = true;
      return true;
    }
    have_field = false;
    if (!b.Set(field, s)) dup = true;
    return !dup;
  };
  auto parse = type == kTypeHashZipmap    ? ParseZipmap
               : type == kTypeHashZiplist ? ParseZiplist
                                          : ParseListpack;
  if (Status st = ReadBlob(r, parse, add); !st.ok()) return st;
  if (dup) return Reader::ErrorAt(at, "duplicate hash fields detected");
  if (have_field) return Reader::ErrorAt(at, "hash with an odd number of elements");
  *out = b.Finish();
  return Status::Ok();
}

// A score of the old ZSET type: a length byte, then that many characters of text; 253, 254
// and 255 stand for nan, inf and -inf.
Status ReadTextScore(Reader& r, double* v) {
  uint8_t len;
  if (Status st = r.U8(&len); !st.ok()) return st;
  if (len >= 253) {
    *v = len == 253 ? std::nan("") : len == 254 ? HUGE_VAL : -HUGE_VAL;
    return Status::Ok();
  }
  char buf[256];
  if (Status st = r.Bytes(buf, len); !st.ok()) return st;
  buf[len] = '\0';
  *v = std::strtod(buf, nullptr);
  return Status::Ok();
}

// Sorted sets: ZSET (text scores), ZSET_2 (binary scores), and the ziplist and listpack blobs
// of member, score pairs. Built as a skiplist, then packed when it fits the limits, which is
// where Redis 7.0 leaves each of them after loading.
Status ReadZset(Reader& r, int type, std::string_view key, const ValueLimits& limits, Entry** out) {
  uint64_t at = r.src().offset();
  ZsetRef z(ZsetRef::NewEntry(key, false));
  const ZsetRef::Limits unlimited{SIZE_MAX, SIZE_MAX};
  Status bad = Status::Ok();
  auto add = [&](std::string_view m, double s) {
    if (std::isnan(s)) {
      bad = Reader::ErrorAt(at, "Zset with NAN score detected");
    } else if (!z.Set(m, s, unlimited)) {
      bad = Reader::ErrorAt(at, "duplicate zset elements detected");
    }
    return bad.ok();
  };
  Status st = Status::Ok();
  if (type == kTypeZset || type == kTypeZset2) {
    uint64_t n;
    st = r.Count(&n, 2);
    std::string m;
    for (uint64_t i = 0; st.ok() && bad.ok() && i < n; ++i) {
      st = r.String(&m);
      double s = 0;
      if (st.ok() && type == kTypeZset) {
        st = ReadTextScore(r, &s);
      } else if (st.ok()) {
        uint64_t bits = 0;
        st = r.LE(&bits, 8);
        std::memcpy(&s, &bits, sizeof(s));
      }
      if (st.ok()) add(m, s);
    }
  } else {
    std::string member;
    bool have_member = false;
    auto pair = [&](std::string_view e) {
      if (!have_member) {
        member.assign(e);
        have_member = true;
        return true;
      }
      have_member = false;
      std::string text(e);
      char* end = nullptr;
      double s = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') {
        bad = Reader::ErrorAt(at, "invalid zset score");
        return false;
      }
      return add(member, s);
    };
    st = ReadBlob(r, type == kTypeZsetZiplist ? ParseZiplist : ParseListpack, pair);
    if (st.ok() && bad.ok() && have_member) {
      bad = Reader::ErrorAt(at, "zset with an odd number of elements");
    }
  }
  if (st.ok()) st = bad;
  if (!st.ok() || z.Size() == 0) {
    FreeEntry(z.entry());
    return st;
  }
  z.ConvertToPackedIfFits({limits.zset_max_listpack_entries, limits.zset_max_listpack_value});
  *out = z.entry();
  return Status::Ok();
}

Status ReadValueAt(Reader& r, int type, std::string_view key, const ValueLimits& limits,
                   Entry** out) {
  *out = nullptr;
  switch (type) {
    case kTypeString: {
      std::string v;
      if (Status st = r.String(&v); !st.ok()) return st;
      *out = NewStringEntry(key, v, -1);
      return Status::Ok();
    }
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return ReadList(r, type, key, limits, out);
    case kTypeSet:
    case kTypeSetIntset:
      return ReadSet(r, type, key, limits, out);
    case kTypeSetListpack:  // Redis 7.2's, accepted only where 7.2 writes it: RDB 11
      if (r.version() < 11) {
        return r.Error("listpack set (type 20) in an RDB version " + std::to_string(r.version()) +
                       " file (key '" + std::string(key) + "')");
      }
      return ReadSet(r, type, key, limits, out);
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
      return ReadHash(r, type, key, limits, out);
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return ReadZset(r, type, key, limits, out);
    default:
      break;
  }
  std::string what = IsKnownObjectType(type)
                         ? "Keel cannot load " + std::string(TypeName(type)) + " values yet"
                         : "unknown value type " + std::to_string(type);
  return r.Error(what + " (key '" + std::string(key) + "')");
}

}  // namespace

Status ReadValue(Source& src, int type, std::string_view key, int rdb_version,
                 const ValueLimits& limits, Entry** out) {
  Reader r(src, rdb_version);
  return ReadValueAt(r, type, key, limits, out);
}

Status LoadRdb(Source& src, const LoadOptions& options, const EntryFn& on_entry, LoadStats* stats) {
  Reader r(src, 0);
  if (options.total_bytes != nullptr) options.total_bytes->store(src.offset() + src.remaining());
  char magic[9];
  if (!src.Read(magic, 9) || std::memcmp(magic, "REDIS", 5) != 0) {
    return Reader::ErrorAt(0, "Wrong signature trying to load DB from file");
  }
  int version = 0;
  for (int i = 5; i < 9; ++i) {
    if (magic[i] < '0' || magic[i] > '9') {
      return Reader::ErrorAt(5, "Wrong signature trying to load DB from file");
    }
    version = version * 10 + (magic[i] - '0');
  }
  if (version < 1 || version > kMaxReadVersion) {
    return Reader::ErrorAt(5, "Can't handle RDB format version " + std::to_string(version));
  }
  stats->version = version;
  Reader rv(src, version);
  int db = 0;
  bool has_expire = false;  // an expire opcode came before this key
  int64_t expire_ms = 0;    // may be negative (a 32-bit seconds value past 2038): expired
  SavedAccess access;
  for (;;) {
    uint64_t op_at = src.offset();
    uint8_t op;
    if (Status st = rv.U8(&op); !st.ok()) return st;
    switch (op) {
      case kOpExpireTime: {
        uint64_t s;
        if (Status st = rv.LE(&s, 4); !st.ok()) return st;
        expire_ms = static_cast<int64_t>(static_cast<int32_t>(s)) * 1000;
        has_expire = true;
        continue;
      }
      case kOpExpireTimeMs: {
        uint64_t ms;
        if (Status st = rv.LE(&ms, 8); !st.ok()) return st;
        expire_ms = static_cast<int64_t>(ms);
        has_expire = true;
        continue;
      }
      case kOpFreq: {
        uint8_t f;
        if (Status st = rv.U8(&f); !st.ok()) return st;
        access.lfu_freq = f;
        continue;
      }
      case kOpIdle: {
        uint64_t v;
        if (Status st = rv.Length(&v); !st.ok()) return st;
        access.idle_s = static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX));
        continue;
      }
      case kOpEof:
        break;
      case kOpSelectDb: {
        uint64_t v;
        if (Status st = rv.Length(&v); !st.ok()) return st;
        if (v > INT32_MAX) return Reader::ErrorAt(op_at, "database index out of range");
        db = static_cast<int>(v);
        continue;
      }
      case kOpResizeDb: {
        uint64_t a, b;
        if (Status st = rv.Length(&a); !st.ok()) return st;
        if (Status st = rv.Length(&b); !st.ok()) return st;
        if (options.on_resize_db) options.on_resize_db(db, a);
        continue;
      }
      case kOpAux: {
        std::string k, v;
        if (Status st = rv.String(&k); !st.ok()) return st;
        if (Status st = rv.String(&v); !st.ok()) return st;
        continue;
      }
      case kOpModuleAux:
        return Reader::ErrorAt(op_at, "Keel cannot load module data (MODULE_AUX) yet");
      case kOpFunction:
        return Reader::ErrorAt(op_at, "Pre-GA function format not supported");
      case kOpFunction2: {
        std::string code;
        if (Status st = rv.String(&code); !st.ok()) return st;
        if (options.on_function) {
          if (Status st = options.on_function(std::move(code)); !st.ok()) return st;
        } else {
          stats->function_codes.push_back(std::move(code));
        }
        continue;
      }
      default: {
        std::string key;
        if (Status st = rv.String(&key); !st.ok()) return st;
        if (!IsKnownObjectType(op)) {
          return Reader::ErrorAt(
              op_at, "unknown value type or opcode " + std::to_string(op) + " (key '" + key + "')");
        }
        Entry* e = nullptr;
        if (Status st = ReadValueAt(rv, op, key, options.limits, &e); !st.ok()) return st;
        bool exp_set = has_expire;
        int64_t exp = std::max<int64_t>(expire_ms, 0);
        SavedAccess key_access = access;
        has_expire = false;
        access = SavedAccess();
        if (e == nullptr) {
          ++stats->empty_keys_skipped;
          continue;
        }
        if (exp_set && options.now_ms > 0 && exp < options.now_ms) {
          FreeEntry(e);
          ++stats->keys_expired;
          continue;
        }
        if (exp_set) {
          Entry* with = CloneEntry(e, key, exp, /*steal=*/true);
          FreeEntryShell(e);
          e = with;
        }
        if (Status st = on_entry(db, e, key_access); !st.ok()) {
          return Reader::ErrorAt(op_at, st.message());
        }
        ++stats->keys_loaded;
        if (options.loaded_bytes != nullptr) {
          options.loaded_bytes->store(src.offset(), std::memory_order_relaxed);
        }
        if (options.loaded_keys != nullptr) {
          options.loaded_keys->store(stats->keys_loaded, std::memory_order_relaxed);
        }
        if (options.key_delay_us > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(options.key_delay_us));
        }
        if (options.abort != nullptr && options.abort->load(std::memory_order_relaxed)) {
          return Reader::ErrorAt(src.offset(), "loading aborted");
        }
        continue;
      }
    }
    break;  // EOF
  }
  if (version >= 5) {
    uint64_t expected = src.crc();
    uint64_t got;
    if (Status st = rv.LE(&got, 8); !st.ok()) return st;
    if (options.verify_checksum && got != 0 && got != expected) {
      return Reader::ErrorAt(src.offset() - 8, "Wrong RDB checksum");
    }
  }
  return Status::Ok();
}

namespace {

// A DUMP-style payload's trailer: the RDB version (2 bytes, at most ours; *version) and the CRC-64
// of everything before the CRC (8 bytes, little endian).
bool PayloadTrailerOk(std::string_view payload, int* version, bool skip_checksum) {
  if (payload.size() < 10) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  size_t n = payload.size();
  *version = p[n - 10] | (p[n - 9] << 8);
  if (*version > kVersion) return false;
  uint64_t crc = 0;
  if (skip_checksum) return true;
  for (int i = 7; i >= 0; --i) crc = (crc << 8) | p[n - 8 + i];
  return Crc64(0, p, n - 8) == crc;
}

}  // namespace

Status RestorePayload(std::string_view payload, std::string_view key, const ValueLimits& limits,
                      Entry** out, bool skip_checksum, uint64_t* packed_blobs) {
  *out = nullptr;
  int version = 0;
  if (!PayloadTrailerOk(payload, &version, skip_checksum))
    return Status::Error(std::string(kBadPayloadTrailer));
  MemorySource src(payload.substr(0, payload.size() - 10));
  Reader r(src, version == 0 ? kVersion : version);
  uint8_t type;
  if (Status st = r.U8(&type); !st.ok()) return Status::Error(std::string(kBadDataFormat));
  Entry* e = nullptr;
  Status st = ReadValueAt(r, type, key, limits, &e);
  if (packed_blobs != nullptr) *packed_blobs = r.packed_blobs();
  if (!st.ok()) {
    if (IsKnownObjectType(type) && st.message().rfind("Keel cannot", 0) == 0) {
      return Status::Error(std::string(kBadDataFormat) + " (" + std::string(TypeName(type)) +
                           " values are not supported by Keel yet)");
    }
    return Status::Error(std::string(kBadDataFormat));
  }
  if (e == nullptr) return Status::Error(std::string(kBadDataFormat));
  *out = e;
  return Status::Ok();
}

Status ReadFunctionsPayload(std::string_view payload, std::vector<std::string>* codes,
                            bool skip_checksum) {
  codes->clear();
  int version = 0;
  if (!PayloadTrailerOk(payload, &version, skip_checksum))
    return Status::Error(std::string(kBadPayloadTrailer));
  MemorySource src(payload.substr(0, payload.size() - 10));
  Reader r(src, version == 0 ? kVersion : version);
  while (src.remaining() > 0) {
    uint8_t type;
    if (Status st = r.U8(&type); !st.ok()) return Status::Error("can not read data type");
    if (type == kOpFunction) return Status::Error("Pre-GA function format not supported");
    if (type != kOpFunction2) return Status::Error("given type is not a function");
    std::string code;
    if (Status st = r.String(&code); !st.ok()) return Status::Error("Failed loading library");
    codes->push_back(std::move(code));
  }
  return Status::Ok();
}

}  // namespace keel::rdb
