#include "keel/protocol/reply.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "keel/common/strings.h"

namespace keel {

namespace {
// A deferred header is reserved at this width and patched in place: "*" + up to 20 digits is
// more than any array can need, and the unused bytes are removed when the header is closed.
constexpr size_t kDeferredWidth = 24;

// Writes a length header ("$5\r\n", "*3\r\n") at p; returns the end (at most 23 bytes).
char* WriteHeader(char* p, char kind, uint64_t n) {
  *p++ = kind;
  p = WriteUint(p, n);
  *p++ = '\r';
  *p++ = '\n';
  return p;
}
}  // namespace

void ReplyBuilder::SimpleString(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Error(std::string_view msg) {
  if (error_offset_ == kNoError) error_offset_ = out_->size();
  out_->push_back('-');
  // An error that quotes what a client sent must stay one protocol line: CR and LF become
  // spaces, as Redis's formatted errors do (every error that echoes client bytes goes through
  // here, so none can forget it).
  size_t start = out_->size();
  out_->append(msg);
  for (size_t i = start; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n");
}

void ReplyBuilder::Integer(int64_t v) {
  out_->push_back(':');
  AppendInt(out_, v);
  out_->append("\r\n");
}

void ReplyBuilder::Verbatim(std::string_view text) {
  if (!resp3_) {
    Bulk(text);
    return;
  }
  char buf[32];
  char* p = WriteHeader(buf, '=', text.size() + 4);
  out_->append(buf, static_cast<size_t>(p - buf));
  out_->append("txt:");
  out_->append(text);
  out_->append("\r\n");
}

void ReplyBuilder::Bulk(std::string_view s) {
  // The header is built in a local buffer and appended at once with the value when that is
  // short: each std::string append checks capacity.
  constexpr size_t kShort = 64;
  char buf[kShort + 32];
  if (s.size() > kShort) {
    char* p = WriteHeader(buf, '$', s.size());
    out_->append(buf, static_cast<size_t>(p - buf));
    out_->append(s);
    out_->append("\r\n");
    return;
  }
  out_->append(buf, static_cast<size_t>(WriteBulk(buf, s) - buf));
}

size_t ReplyBuilder::BulkSize(size_t len) {
  size_t digits = 1;
  for (size_t v = len; v >= 10; v /= 10) ++digits;
  return 1 + digits + 2 + len + 2;
}

char* ReplyBuilder::WriteBulk(char* p, std::string_view s) {
  p = WriteHeader(p, '$', s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p += s.size();
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

char* ReplyBuilder::Extend(size_t n) {
  size_t old = out_->size();
  out_->resize(old + n);
  return out_->data() + old;
}

void ReplyBuilder::Double(double v) {
  char buf[128];
  int n;
  if (std::isinf(v)) {
    n = std::snprintf(buf, sizeof(buf), "%s", v > 0 ? "inf" : "-inf");
  } else if (resp3_ && std::isnan(v)) {
    n = std::snprintf(buf, sizeof(buf), "nan");
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  }
  DoubleText(std::string_view(buf, static_cast<size_t>(n)));
}

void ReplyBuilder::DoubleText(std::string_view text) {
  if (!resp3_) {
    Bulk(text);
    return;
  }
  out_->push_back(',');
  out_->append(text);
  out_->append("\r\n");
}

void ReplyBuilder::Bool(bool v) {
  if (resp3_) {
    out_->append(v ? "#t\r\n" : "#f\r\n");
  } else {
    Integer(v ? 1 : 0);
  }
}

void ReplyBuilder::ArrayHeader(size_t n) {
  char buf[32];
  out_->append(buf, static_cast<size_t>(WriteHeader(buf, '*', n) - buf));
}

void ReplyBuilder::StatusLines(std::span<const std::string_view> lines) {
  ArrayHeader(lines.size());
  for (std::string_view line : lines) SimpleString(line);
}

void ReplyBuilder::PushHeader(size_t n) {
  char buf[32];
  out_->append(buf, static_cast<size_t>(WriteHeader(buf, resp3_ ? '>' : '*', n) - buf));
}

void ReplyBuilder::BigNumber(std::string_view digits) {
  if (!resp3_) {
    Bulk(digits);
    return;
  }
  out_->push_back('(');
  out_->append(digits);
  out_->append("\r\n");
}

void ReplyBuilder::AttributeHeader(size_t n) {
  char buf[32];
  out_->append(buf, static_cast<size_t>(WriteHeader(buf, '|', n) - buf));
}

void ReplyBuilder::MapHeader(size_t n) {
  char buf[32];
  char* end = resp3_ ? WriteHeader(buf, '%', n) : WriteHeader(buf, '*', 2 * n);
  out_->append(buf, static_cast<size_t>(end - buf));
}

void ReplyBuilder::SetHeader(size_t n) {
  char buf[32];
  out_->append(buf, static_cast<size_t>(WriteHeader(buf, resp3_ ? '~' : '*', n) - buf));
}

std::string ReplyBuilder::ErrorLine(std::string_view msg, int protocol) {
  std::string out;
  ReplyBuilder(&out, protocol).Error(msg);
  return out;
}

std::string ReplyBuilder::SimpleStringLine(std::string_view s, int protocol) {
  std::string out;
  ReplyBuilder(&out, protocol).SimpleString(s);
  return out;
}

size_t ReplyBuilder::BeginDeferredArray() {
  size_t token = out_->size();
  out_->append(kDeferredWidth, ' ');
  return token;
}

void ReplyBuilder::EndDeferredArray(size_t token, size_t n) { PatchDeferred(token, '*', n); }

void ReplyBuilder::EndDeferredSet(size_t token, size_t n) {
  PatchDeferred(token, resp3_ ? '~' : '*', n);
}

void ReplyBuilder::EndDeferredMap(size_t token, size_t n) {
  if (resp3_) {
    PatchDeferred(token, '%', n);
  } else {
    PatchDeferred(token, '*', 2 * n);
  }
}

void ReplyBuilder::PatchDeferred(size_t token, char kind, size_t n) {
  char buf[32];
  char* end = WriteHeader(buf, kind, n);
  out_->replace(token, kDeferredWidth, buf, static_cast<size_t>(end - buf));
}

bool ReplyReader::Next(Item* item) {
  if (in_.empty()) return false;
  item->type = in_[0];
  size_t end = in_.find("\r\n");
  if (end == std::string_view::npos) end = in_.size();
  item->line = in_.substr(1, end - 1);
  in_.remove_prefix(std::min(in_.size(), end + 2));
  item->data = {};
  item->count = -1;
  switch (item->type) {
    case '$':
    case '=':
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
      item->count = ParseInt64(item->line).value_or(-1);
      break;
    default:
      return true;
  }
  if ((item->type == '$' || item->type == '=') && item->count >= 0) {
    size_t n = std::min(in_.size(), static_cast<size_t>(item->count));
    item->data = in_.substr(0, n);
    in_.remove_prefix(std::min(in_.size(), n + 2));
  }
  return true;
}

}  // namespace keel
