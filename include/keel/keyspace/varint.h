#pragma once

#include <cstddef>

// LEB128 lengths for the packed encodings (lists and small hashes): 7 bits a byte, low bits
// first, the high bit set on every byte but the last. Lengths under 128 take one byte.
namespace keel::varint {

inline size_t Size(size_t n) {
  size_t s = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++s;
  }
  return s;
}

// Writes n at p; returns the bytes written.
inline size_t Put(char* p, size_t n) {
  size_t i = 0;
  while (n >= 0x80) {
    p[i++] = static_cast<char>((n & 0x7f) | 0x80);
    n >>= 7;
  }
  p[i++] = static_cast<char>(n);
  return i;
}

// Reads a length at p into *n; returns the bytes read.
inline size_t Get(const char* p, size_t* n) {
  size_t v = 0, i = 0;
  int shift = 0;
  for (;;) {
    unsigned char c = static_cast<unsigned char>(p[i++]);
    v |= static_cast<size_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) break;
    shift += 7;
  }
  *n = v;
  return i;
}

}  // namespace keel::varint
