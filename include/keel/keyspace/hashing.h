#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

// Hashing and scan-cursor arithmetic shared by the keyspace's tables and the large set and hash
// tables: one seeded 64-bit string hash, and the reverse-binary cursor step that lets a scan
// survive a table growing or shrinking between calls.
namespace keel::hashing {

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t Hash(std::string_view s, uint64_t seed) {
  uint64_t h = seed ^ (s.size() * 0x9E3779B97F4A7C15ULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = Mix(h ^ w) + 0x9E3779B97F4A7C15ULL;
  }
  uint64_t tail = 0;
  if (s.size() > i) std::memcpy(&tail, s.data() + i, s.size() - i);
  return Mix(h ^ tail ^ (static_cast<uint64_t>(s.size() - i) << 56));
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
