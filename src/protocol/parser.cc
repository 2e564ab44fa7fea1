#include "keel/protocol/parser.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {
// Before authentication Redis caps a request at 10 items of at most 16 KiB each, so an
// unauthenticated peer cannot make the server buffer much.
constexpr int64_t kUnauthMaxItems = 10;
constexpr int64_t kUnauthMaxBulk = 16384;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The common case of a length line, without a memchr: data[pos] is `type`, then a positive
// number of at most 18 digits without a leading zero, then '\r', with the byte after it (the
// '\n') already received. Returns the number and sets *line_end to the offset of the '\r', or
// returns -1 for any other line, which the caller then parses in full (as ParseInt64, Redis's
// string2ll, would).
int64_t QuickLength(const char* data, size_t pos, size_t len, char type, size_t* line_end) {
  size_t i = pos + 1;
  if (i >= len || data[pos] != type || data[i] < '1' || data[i] > '9') return -1;
  size_t limit = std::min(len, i + 18);
  int64_t v = 0;
  for (; i < limit; ++i) {
    unsigned d = static_cast<unsigned char>(data[i]) - '0';
    if (d > 9) break;
    v = v * 10 + d;
  }
  if (i + 1 >= len || data[i] != '\r') return -1;
  *line_end = i;
  return v;
}

// The end of a header or inline line: the first `c` in data[0, len), as Redis finds it with
// strchr over its NUL-terminated query buffer. A NUL byte before it hides it, so a line with a
// NUL in it is never complete: Redis waits for more and refuses the request once more than the
// inline limit is buffered ("too big ... request/count string"). Returns null if not found.
const char* FindLineEnd(const char* data, size_t len, char c) {
  const char* end = static_cast<const char*>(std::memchr(data, c, len));
  if (end == nullptr || std::memchr(data, '\0', static_cast<size_t>(end - data)) != nullptr) {
    return nullptr;
  }
  return end;
}

// The error for a bulk header that starts with `c` instead of '$'. The 256 texts are made once,
// so error() can point at one and a parser carries no buffer for it (it lives in every
// connection).
std::string_view ExpectedDollar(char c) {
  static const std::array<std::string, 256> kTexts = [] {
    std::array<std::string, 256> texts;
    for (int i = 0; i < 256; ++i) {
      char buf[64];
      int n = std::snprintf(buf, sizeof(buf), errors::kProtoExpectedDollarFormat, i);
      texts[i].assign(buf, static_cast<size_t>(n));
    }
    return texts;
  }();
  return kTexts[static_cast<unsigned char>(c)];
}

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}
}  // namespace

void RespParser::Reset() {
  in_multibulk_ = false;
  expected_args_ = 0;
  pos_ = 0;
  pending_bulk_ = -1;
  spans_.clear();
  has_external_ = false;
}

void RespParser::BigBulkReceived(std::string_view value) {
  spans_.push_back(Span{kExternal | reinterpret_cast<uintptr_t>(value.data()), value.size()});
  has_external_ = true;
  pending_bulk_ = -1;
}

RespParser::Result RespParser::Fail(std::string_view message) {
  Reset();
  error_ = message;
  return Result::kError;
}

RespParser::Result RespParser::Parse(char* data, size_t len, const ParserLimits& limits,
                                     size_t* consumed, std::vector<std::string_view>* args) {
  size_t skipped = 0;
  for (;;) {
    size_t used = 0;
    Result r;
    if (in_multibulk_ || (skipped < len && data[skipped] == '*')) {
      r = ParseMultibulk(data + skipped, len - skipped, limits, &used, args);
    } else if (skipped < len) {
      r = ParseInline(data + skipped, len - skipped, limits, &used, args);
    } else {
      r = Result::kNeedMore;
    }
    // An empty command is reported as kCommand with no arguments: skip it and go on.
    if (r == Result::kCommand && args->empty()) {
      skipped += used;
      continue;
    }
    *consumed = skipped + used;
    if (r == Result::kNeedMore || r == Result::kBigBulk) *consumed = skipped;
    return r;
  }
}

RespParser::Result RespParser::ParseMultibulk(char* data, size_t len, const ParserLimits& limits,
                                              size_t* consumed,
                                              std::vector<std::string_view>* args) {
  args->clear();
  if (!in_multibulk_) {
    size_t line_end;
    std::optional<int64_t> n = QuickLength(data, 0, len, '*', &line_end);
    if (*n < 0) {
      const char* cr = FindLineEnd(data, len, '\r');
      if (cr == nullptr) {
        if (len > limits.max_inline_len) return Fail(errors::kProtoTooBigMbulk);
        return Result::kNeedMore;
      }
      line_end = static_cast<size_t>(cr - data);
      if (line_end + 2 > len) return Result::kNeedMore;  // the '\n' has not arrived
      n = ParseInt64(std::string_view(data + 1, line_end - 1));
    }
    if (!n || *n > limits.max_multibulk_len) return Fail(errors::kProtoInvalidMultibulk);
    if (*n > kUnauthMaxItems && !limits.authenticated) return Fail(errors::kProtoUnauthMultibulk);
    pos_ = line_end + 2;
    if (*n <= 0) {
      *consumed = pos_;
      pos_ = 0;
      return Result::kCommand;  // empty command
    }
    in_multibulk_ = true;
    expected_args_ = *n;
    spans_.clear();
    spans_.reserve(static_cast<size_t>(std::min<int64_t>(*n, 1024)));
  }
  while (static_cast<int64_t>(spans_.size()) < expected_args_) {
    if (pending_bulk_ < 0) {
      size_t line_end;
      std::optional<int64_t> blen = QuickLength(data, pos_, len, '$', &line_end);
      if (*blen < 0) {
        const char* cr = FindLineEnd(data + pos_, len - pos_, '\r');
        if (cr == nullptr) {
          if (len - pos_ > limits.max_inline_len) return Fail(errors::kProtoTooBigBulk);
          return Result::kNeedMore;
        }
        line_end = static_cast<size_t>(cr - data);
        if (line_end + 2 > len) return Result::kNeedMore;
        if (data[pos_] != '$') return Fail(ExpectedDollar(data[pos_]));
        blen = ParseInt64(std::string_view(data + pos_ + 1, line_end - pos_ - 1));
      }
      if (!blen || *blen < 0 || *blen > limits.max_bulk_len) return Fail(errors::kProtoInvalidBulk);
      if (*blen > kUnauthMaxBulk && !limits.authenticated) return Fail(errors::kProtoUnauthBulk);
      pos_ = line_end + 2;
      pending_bulk_ = *blen;
    }
    // Like Redis, the two bytes after the payload are skipped without being checked.
    if (len - pos_ < static_cast<size_t>(pending_bulk_) + 2) {
      if (limits.big_bulk != 0 && static_cast<size_t>(pending_bulk_) >= limits.big_bulk) {
        return Result::kBigBulk;
      }
      return Result::kNeedMore;
    }
    spans_.push_back(Span{pos_, static_cast<size_t>(pending_bulk_)});
    pos_ += static_cast<size_t>(pending_bulk_) + 2;
    pending_bulk_ = -1;
  }
  args->reserve(spans_.size());
  if (!has_external_) {
    for (const Span& s : spans_) args->emplace_back(data + s.offset, s.length);
  } else {
    for (const Span& s : spans_) {
      const char* base = s.offset & kExternal ? reinterpret_cast<const char*>(s.offset & ~kExternal)
                                              : data + s.offset;
      args->emplace_back(base, s.length);
    }
    has_external_ = false;
  }
  *consumed = pos_;
  in_multibulk_ = false;
  expected_args_ = 0;
  pos_ = 0;
  spans_.clear();
  return Result::kCommand;
}

RespParser::Result RespParser::ParseInline(char* data, size_t len, const ParserLimits& limits,
                                           size_t* consumed, std::vector<std::string_view>* args) {
  args->clear();
  const char* nl = FindLineEnd(data, len, '\n');
  if (nl == nullptr) {
    if (len > limits.max_inline_len) return Fail(errors::kProtoTooBigInline);
    return Result::kNeedMore;
  }
  size_t line_len = static_cast<size_t>(nl - data);
  *consumed = line_len + 1;
  if (line_len > 0 && data[line_len - 1] == '\r') --line_len;
  if (!SplitArgsInPlace(data, line_len, args)) {
    args->clear();
    return Fail(errors::kProtoUnbalancedQuotes);
  }
  return Result::kCommand;
}

bool SplitArgsInPlace(char* line, size_t len, std::vector<std::string_view>* args) {
  size_t i = 0;
  for (;;) {
    while (i < len && IsSpace(line[i])) ++i;
    if (i >= len) return true;
    char* out = line + i;  // unescaped bytes are written here, never ahead of the reader
    char* start = out;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i >= len) return false;
        char c = line[i];
        if (c == '\\' && i + 3 < len && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          *out++ = static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
          i += 4;
        } else if (c == '\\' && i + 1 < len) {
          char e = line[i + 1];
          switch (e) {
            case 'n':
              *out++ = '\n';
              break;
            case 'r':
              *out++ = '\r';
              break;
            case 't':
              *out++ = '\t';
              break;
            case 'b':
              *out++ = '\b';
              break;
            case 'a':
              *out++ = '\a';
              break;
            default:
              *out++ = e;
              break;
          }
          i += 2;
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end of the line.
          if (i + 1 < len && !IsSpace(line[i + 1])) return false;
          ++i;
          done = true;
        } else {
          *out++ = c;
          ++i;
        }
      } else if (in_single) {
        if (i >= len) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < len && line[i + 1] == '\'') {
          *out++ = '\'';
          i += 2;
        } else if (c == '\'') {
          if (i + 1 < len && !IsSpace(line[i + 1])) return false;
          ++i;
          done = true;
        } else {
          *out++ = c;
          ++i;
        }
      } else {
        if (i >= len) {
          done = true;
          break;
        }
        char c = line[i];
        if (IsSpace(c)) {
          done = true;
        } else if (c == '"') {
          in_double = true;
          ++i;
        } else if (c == '\'') {
          in_single = true;
          ++i;
        } else {
          *out++ = c;
          ++i;
        }
      }
    }
    args->emplace_back(start, static_cast<size_t>(out - start));
  }
}

}  // namespace keel
