#include "keel/persistence/encodings.h"

#include <charconv>
#include <cstring>

#include "keel/keyspace/entry.h"

namespace keel::rdb {

namespace {

uint64_t LoadLE(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Sign-extends the low `bits` bits of v.
int64_t SignExtend(uint64_t v, int bits) {
  if (bits == 64) return static_cast<int64_t>(v);
  uint64_t m = uint64_t{1} << (bits - 1);
  v &= (uint64_t{1} << bits) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}

// Formats v into buf and calls fn with it.
bool EmitInt(const ElementFn& fn, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return fn(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

Status Corrupt(std::string_view what, size_t off, std::string_view why) {
  return Status::Error(std::string(what) + " corrupt at byte " + std::to_string(off) + ": " +
                       std::string(why));
}

// The listpack back-length of an entry of `l` bytes (encoding + data): 1 to 5 bytes, read from
// right to left, the rightmost holding the low 7 bits.
size_t BacklenSize(uint64_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

void EncodeBacklen(uint64_t l, unsigned char* out) {
  size_t n = BacklenSize(l);
  for (size_t i = 0; i < n; ++i) {
    unsigned char b = static_cast<unsigned char>((l >> (7 * i)) & 127);
    if (i != n - 1) b |= 128;
    out[n - 1 - i] = b;
  }
}

}  // namespace

// ---- listpack ----

ListpackWriter::ListpackWriter() { buf_.assign(6, '\0'); }

void ListpackWriter::Add(std::string_view element) {
  unsigned char hdr[9];
  size_t hlen;
  int64_t v;
  std::string_view data;
  if (IsCanonicalInt(element, &v)) {
    if (v >= 0 && v <= 127) {
      hdr[0] = static_cast<unsigned char>(v);
      hlen = 1;
    } else if (v >= -4096 && v <= 4095) {
      uint64_t u = static_cast<uint64_t>(v) & 0x1fff;
      hdr[0] = static_cast<unsigned char>(0xc0 | (u >> 8));
      hdr[1] = static_cast<unsigned char>(u & 0xff);
      hlen = 2;
    } else {
      int width = v >= INT16_MIN && v <= INT16_MAX   ? 2
                  : v >= -(1 << 23) && v < (1 << 23) ? 3
                  : v >= INT32_MIN && v <= INT32_MAX ? 4
                                                     : 8;
      hdr[0] = width == 2 ? 0xf1 : width == 3 ? 0xf2 : width == 4 ? 0xf3 : 0xf4;
      uint64_t u = static_cast<uint64_t>(v);
      for (int i = 0; i < width; ++i) hdr[1 + i] = static_cast<unsigned char>(u >> (8 * i));
      hlen = 1 + static_cast<size_t>(width);
    }
  } else {
    size_t n = element.size();
    if (n < 64) {
      hdr[0] = static_cast<unsigned char>(0x80 | n);
      hlen = 1;
    } else if (n < 4096) {
      hdr[0] = static_cast<unsigned char>(0xe0 | (n >> 8));
      hdr[1] = static_cast<unsigned char>(n & 0xff);
      hlen = 2;
    } else {
      hdr[0] = 0xf0;
      for (int i = 0; i < 4; ++i) hdr[1 + i] = static_cast<unsigned char>(n >> (8 * i));
      hlen = 5;
    }
    data = element;
  }
  buf_.append(reinterpret_cast<const char*>(hdr), hlen);
  buf_.append(data);
  unsigned char back[5];
  uint64_t l = hlen + data.size();
  EncodeBacklen(l, back);
  buf_.append(reinterpret_cast<const char*>(back), BacklenSize(l));
  ++count_;
}

std::string ListpackWriter::Finish() {
  buf_.push_back(static_cast<char>(0xff));
  uint32_t total = static_cast<uint32_t>(buf_.size());
  uint16_t num = count_ < 65535 ? static_cast<uint16_t>(count_) : 65535;
  for (int i = 0; i < 4; ++i) buf_[i] = static_cast<char>(total >> (8 * i));
  buf_[4] = static_cast<char>(num & 0xff);
  buf_[5] = static_cast<char>(num >> 8);
  std::string out = std::move(buf_);
  buf_.assign(6, '\0');
  count_ = 0;
  return out;
}

Status ParseListpack(std::string_view blob, const ElementFn& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size();
  if (size < 7) return Corrupt("listpack", 0, "shorter than its header");
  if (LoadLE(p, 4) != size) return Corrupt("listpack", 0, "total bytes differ from the blob");
  if (p[size - 1] != 0xff) return Corrupt("listpack", size - 1, "no terminator");
  uint64_t declared = LoadLE(p + 4, 2);
  size_t pos = 6, count = 0;
  bool stopped = false;
  while (pos < size - 1) {
    unsigned char b = p[pos];
    size_t hlen, dlen = 0;
    bool is_int = true;
    int64_t v = 0;
    size_t avail = size - 1 - pos;  // bytes before the terminator
    auto need = [&](size_t n) { return n <= avail; };
    if ((b & 0x80) == 0) {
      hlen = 1;
      v = b;
    } else if ((b & 0xc0) == 0x80) {
      hlen = 1;
      dlen = b & 0x3f;
      is_int = false;
    } else if ((b & 0xe0) == 0xc0) {
      hlen = 2;
      if (!need(2)) return Corrupt("listpack", pos, "truncated entry");
      v = SignExtend((uint64_t{b & 0x1fu} << 8) | p[pos + 1], 13);
    } else if ((b & 0xf0) == 0xe0) {
      hlen = 2;
      if (!need(2)) return Corrupt("listpack", pos, "truncated entry");
      dlen = (size_t{b & 0x0fu} << 8) | p[pos + 1];
      is_int = false;
    } else if (b == 0xf0) {
      hlen = 5;
      if (!need(5)) return Corrupt("listpack", pos, "truncated entry");
      dlen = LoadLE(p + pos + 1, 4);
      is_int = false;
    } else if (b >= 0xf1 && b <= 0xf4) {
      int width = b == 0xf1 ? 2 : b == 0xf2 ? 3 : b == 0xf3 ? 4 : 8;
      hlen = 1 + static_cast<size_t>(width);
      if (!need(hlen)) return Corrupt("listpack", pos, "truncated entry");
      v = SignExtend(LoadLE(p + pos + 1, width), width * 8);
    } else {
      return Corrupt("listpack", pos, "invalid entry encoding");
    }
    if (dlen > avail || hlen + dlen > avail) return Corrupt("listpack", pos, "entry past the end");
    uint64_t l = hlen + dlen;
    size_t bl = BacklenSize(l);
    if (l + bl > avail) return Corrupt("listpack", pos, "entry past the end");
    unsigned char back[5];
    EncodeBacklen(l, back);
    if (std::memcmp(back, p + pos + l, bl) != 0) {
      return Corrupt("listpack", pos, "back-length does not match the entry");
    }
    if (!stopped) {
      bool go = is_int ? EmitInt(fn, v)
                       : fn(std::string_view(reinterpret_cast<const char*>(p + pos + hlen), dlen));
      if (!go) stopped = true;
    }
    pos += l + bl;
    ++count;
  }
  if (declared != 65535 && declared != count) {
    return Corrupt("listpack", 4, "element count differs from the header");
  }
  return Status::Ok();
}

// ---- ziplist ----

Status ParseZiplist(std::string_view blob, const ElementFn& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size();
  if (size < 11) return Corrupt("ziplist", 0, "shorter than its header");
  if (LoadLE(p, 4) != size) return Corrupt("ziplist", 0, "total bytes differ from the blob");
  uint64_t tail = LoadLE(p + 4, 4);
  uint64_t declared = LoadLE(p + 8, 2);
  if (p[size - 1] != 0xff) return Corrupt("ziplist", size - 1, "no terminator");
  size_t pos = 10, count = 0, prev_size = 0, last = 10;
  bool stopped = false;
  while (pos < size - 1) {
    size_t start = pos;
    size_t avail = size - 1 - pos;
    // prevlen
    size_t plen;
    uint64_t prev;
    if (p[pos] < 254) {
      plen = 1;
      prev = p[pos];
    } else if (p[pos] == 254) {
      if (avail < 5) return Corrupt("ziplist", pos, "truncated entry");
      plen = 5;
      prev = LoadLE(p + pos + 1, 4);
    } else {
      return Corrupt("ziplist", pos, "invalid previous-length");
    }
    if (prev != prev_size) return Corrupt("ziplist", pos, "previous-length mismatch");
    pos += plen;
    avail -= plen;
    if (avail < 1) return Corrupt("ziplist", pos, "truncated entry");
    unsigned char enc = p[pos];
    size_t hlen = 1, dlen = 0;
    bool is_int = true;
    int64_t v = 0;
    switch (enc >> 6) {
      case 0:
        dlen = enc & 0x3f;
        is_int = false;
        break;
      case 1:
        if (avail < 2) return Corrupt("ziplist", pos, "truncated entry");
        hlen = 2;
        dlen = (size_t{enc & 0x3fu} << 8) | p[pos + 1];
        is_int = false;
        break;
      case 2:
        if (avail < 5) return Corrupt("ziplist", pos, "truncated entry");
        hlen = 5;
        dlen = (size_t{p[pos + 1]} << 24) | (size_t{p[pos + 2]} << 16) | (size_t{p[pos + 3]} << 8) |
               p[pos + 4];
        is_int = false;
        break;
      default: {
        int width;
        if (enc == 0xc0) {
          width = 2;
        } else if (enc == 0xd0) {
          width = 4;
        } else if (enc == 0xe0) {
          width = 8;
        } else if (enc == 0xf0) {
          width = 3;
        } else if (enc == 0xfe) {
          width = 1;
        } else if (enc >= 0xf1 && enc <= 0xfd) {
          width = 0;
          v = (enc & 0x0f) - 1;
        } else {
          return Corrupt("ziplist", pos, "invalid entry encoding");
        }
        dlen = static_cast<size_t>(width);
        if (width > 0) {
          if (avail < 1 + dlen) return Corrupt("ziplist", pos, "truncated entry");
          v = SignExtend(LoadLE(p + pos + 1, width), width * 8);
        }
      }
    }
    if (hlen > avail || dlen > avail - hlen) return Corrupt("ziplist", pos, "entry past the end");
    if (!stopped) {
      bool go = is_int ? EmitInt(fn, v)
                       : fn(std::string_view(reinterpret_cast<const char*>(p + pos + hlen), dlen));
      if (!go) stopped = true;
    }
    pos += hlen + dlen;
    prev_size = pos - start;
    last = start;
    ++count;
  }
  if (count > 0 && tail != last) return Corrupt("ziplist", 4, "tail offset does not match");
  if (count == 0 && tail != 10) return Corrupt("ziplist", 4, "tail offset does not match");
  if (declared != 65535 && declared != count) {
    return Corrupt("ziplist", 8, "element count differs from the header");
  }
  return Status::Ok();
}

// ---- zipmap ----

Status ParseZipmap(std::string_view blob, const ElementFn& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  size_t size = blob.size();
  if (size < 2) return Corrupt("zipmap", 0, "shorter than its header");
  size_t pos = 1;
  bool stopped = false;
  // Reads a length at pos; false when it does not fit.
  auto read_len = [&](uint64_t* len) {
    if (pos >= size) return false;
    if (p[pos] < 254) {
      *len = p[pos++];
      return true;
    }
    if (p[pos] == 254) {
      if (size - pos < 5) return false;
      *len = LoadLE(p + pos + 1, 4);
      pos += 5;
      return true;
    }
    return false;
  };
  for (;;) {
    if (pos >= size) return Corrupt("zipmap", pos, "no terminator");
    if (p[pos] == 0xff) break;
    uint64_t klen, vlen;
    size_t at = pos;
    if (!read_len(&klen) || klen > size - pos) return Corrupt("zipmap", at, "field past the end");
    std::string_view field(reinterpret_cast<const char*>(p + pos), klen);
    pos += klen;
    at = pos;
    if (!read_len(&vlen) || pos >= size) return Corrupt("zipmap", at, "value past the end");
    uint64_t free = p[pos++];
    if (vlen > size - pos || free > size - pos - vlen) {
      return Corrupt("zipmap", at, "value past the end");
    }
    std::string_view value(reinterpret_cast<const char*>(p + pos), vlen);
    pos += vlen + free;
    if (!stopped && (!fn(field) || !fn(value))) stopped = true;
  }
  if (pos != size - 1) return Corrupt("zipmap", pos, "bytes after the terminator");
  return Status::Ok();
}

// ---- intset ----

Status ParseIntset(std::string_view blob, const ElementFn& fn) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) return Corrupt("intset", 0, "shorter than its header");
  uint64_t width = LoadLE(p, 4), count = LoadLE(p + 4, 4);
  if (width != 2 && width != 4 && width != 8) return Corrupt("intset", 0, "invalid width");
  if (count == 0) return Corrupt("intset", 4, "empty");
  if ((blob.size() - 8) / width != count || (blob.size() - 8) % width != 0) {
    return Corrupt("intset", 4, "count differs from the blob size");
  }
  int64_t prev = 0;
  bool stopped = false;
  for (uint64_t i = 0; i < count; ++i) {
    int64_t v =
        SignExtend(LoadLE(p + 8 + i * width, static_cast<int>(width)), static_cast<int>(width * 8));
    if (i > 0 && v <= prev) return Corrupt("intset", 8 + i * width, "not sorted or duplicate");
    prev = v;
    if (!stopped && !EmitInt(fn, v)) stopped = true;
  }
  return Status::Ok();
}

std::string BuildIntset(std::span<const int64_t> sorted) {
  int width = 2;
  for (int64_t v : sorted) {
    if (v < INT32_MIN || v > INT32_MAX) {
      width = 8;
    } else if ((v < INT16_MIN || v > INT16_MAX) && width < 4) {
      width = 4;
    }
  }
  std::string out;
  out.reserve(8 + sorted.size() * static_cast<size_t>(width));
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(static_cast<uint64_t>(width), 4);
  put(sorted.size(), 4);
  for (int64_t v : sorted) put(static_cast<uint64_t>(v), width);
  return out;
}

}  // namespace keel::rdb
