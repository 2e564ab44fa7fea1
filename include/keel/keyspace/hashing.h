#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

// Hashing and scan-cursor arithmetic shared by the keyspace's tables and the large set and hash
// tables: one seeded 64-bit string hash, and the reverse-binary cursor step that lets a scan
// survive a table growing or shrinking between calls.
namespace keel::hashing {

// The 128-bit product of a and b, its halves folded together by XOR: every bit of the result
// depends on every bit of both inputs.
inline uint64_t Fold(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// Keys are mostly short, so up to 16 bytes cost two loads (overlapping when shorter, which with
// the length mixed in still tells every string apart) and two multiplications; longer strings
// fold 16 bytes a step into a running value.
inline uint64_t Hash(std::string_view s, uint64_t seed) {
  constexpr uint64_t k0 = 0x9E3779B97F4A7C15ULL;
  constexpr uint64_t k1 = 0xD6E8FEB86659FD93ULL;
  constexpr uint64_t k2 = 0xA0761D6478BD642FULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = seed;
  uint64_t a = 0;
  uint64_t b = 0;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      const auto* u = reinterpret_cast<const unsigned char*>(p);
      a = (uint64_t{u[0]} << 16) | (uint64_t{u[n / 2]} << 8) | u[n - 1];
    }
  } else {
    size_t left = n;
    for (; left > 16; left -= 16, p += 16) h = Fold(Load64(p) ^ k1, Load64(p + 8) ^ h);
    a = Load64(p + left - 16);
    b = Load64(p + left - 8);
  }
  return Fold(k1 ^ n, Fold(a ^ k1 ^ seed, b ^ h ^ k2) ^ k0);
}

inline uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

// The next cursor of a scan over a table of mask + 1 buckets: set the bits above the mask, then
// add one at the top bit and carry downwards.
inline uint64_t NextCursor(uint64_t v, uint64_t mask) {
  v |= ~mask;
  v = ReverseBits(v);
  ++v;
  return ReverseBits(v);
}

}  // namespace keel::hashing
