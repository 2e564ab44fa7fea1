#include "keel/common/glob.h"

#include <cstddef>

namespace keel {

namespace {

inline unsigned char Fold(unsigned char c, bool nocase) {
  return (nocase && c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// Matches the single-character token that starts at pattern[p] (anything but '*') against `c`.
// Sets *next to the index just past the token. The corner cases follow Redis's stringmatchlen
// byte for byte, because KEYS, SCAN MATCH and PSUBSCRIBE results must be identical:
//  - a '\' that is the last byte of the pattern is an ordinary character;
//  - an unterminated class ("[abc") runs to the end of the pattern;
//  - a range is any "x-y" with at least one byte after the '-', even if that byte is ']'
//    ("[a-]" is the range ']'..'a'); reversed ranges are swapped;
//  - an escaped byte inside a class is compared without case folding, as Redis does.
bool MatchOne(std::string_view pat, size_t p, unsigned char c, bool nocase, size_t* next) {
  const size_t n = pat.size();
  switch (pat[p]) {
    case '?':
      *next = p + 1;
      return true;
    case '[': {
      ++p;
      bool negate = false;
      if (p < n && pat[p] == '^') {
        negate = true;
        ++p;
      }
      bool hit = false;
      while (p < n) {
        unsigned char pc = static_cast<unsigned char>(pat[p]);
        if (pc == '\\' && n - p >= 2) {
          if (static_cast<unsigned char>(pat[p + 1]) == c) hit = true;
          p += 2;
        } else if (pc == ']') {
          break;
        } else if (n - p >= 3 && pat[p + 1] == '-') {
          unsigned char lo = Fold(pc, nocase);
          unsigned char hi = Fold(static_cast<unsigned char>(pat[p + 2]), nocase);
          if (lo > hi) std::swap(lo, hi);
          unsigned char fc = Fold(c, nocase);
          if (fc >= lo && fc <= hi) hit = true;
          p += 3;
        } else {
          if (Fold(pc, nocase) == Fold(c, nocase)) hit = true;
          ++p;
        }
      }
      *next = p < n ? p + 1 : n;  // skip the closing ']' when there is one
      return hit != negate;
    }
    case '\\':
      if (n - p >= 2) {
        *next = p + 2;
        return Fold(static_cast<unsigned char>(pat[p + 1]), nocase) == Fold(c, nocase);
      }
      [[fallthrough]];
    default:
      *next = p + 1;
      return Fold(static_cast<unsigned char>(pat[p]), nocase) == Fold(c, nocase);
  }
}

}  // namespace

// Every token other than '*' consumes exactly one byte of the subject, so the classic
// "remember the last star" backtracking is exact: on a mismatch, only the most recent '*'
// needs to absorb one more byte, because anything an earlier star could absorb the later one
// can too. That makes the worst case O(pattern * subject) instead of exponential, with no
// recursion and no nesting limit.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase) {
  // Redis's matcher never matches an empty subject unless the pattern is empty too ("**" does
  // not match ""), but every caller short-cuts the lone "*" as "match everything" (KEYS *,
  // SCAN without MATCH). Doing the same here keeps callers from having to remember it.
  if (pattern == "*") return true;
  if (str.empty()) return pattern.empty();

  size_t p = 0, s = 0;
  size_t star_p = std::string_view::npos;  // index just past the last '*' seen
  size_t star_s = 0;                       // subject index that star is currently up to
  const size_t pn = pattern.size(), sn = str.size();
  while (s < sn) {
    if (p < pn && pattern[p] == '*') {
      while (p < pn && pattern[p] == '*') ++p;
      if (p == pn) return true;  // a trailing star swallows the rest
      star_p = p;
      star_s = s;
      continue;
    }
    size_t next = 0;
    if (p < pn && MatchOne(pattern, p, static_cast<unsigned char>(str[s]), nocase, &next)) {
      p = next;
      ++s;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < pn && pattern[p] == '*') ++p;
  return p == pn;
}

}  // namespace keel
