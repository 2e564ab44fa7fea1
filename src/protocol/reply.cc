#include "keel/protocol/reply.h"

#include <cmath>
#include <cstdio>

#include "keel/common/strings.h"

namespace keel {

namespace {
// A deferred header is reserved at this width and patched in place: "*" + up to 20 digits is
// more than any array can need, and the unused bytes are removed when the header is closed.
constexpr size_t kDeferredWidth = 24;
}  // namespace

void ReplyBuilder::SimpleString(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Error(std::string_view msg) {
  out_->push_back('-');
  out_->append(msg);
  out_->append("\r\n");
}

void ReplyBuilder::Integer(int64_t v) {
  out_->push_back(':');
  AppendInt(out_, v);
  out_->append("\r\n");
}

void ReplyBuilder::Bulk(std::string_view s) {
  out_->push_back('$');
  AppendInt(out_, static_cast<int64_t>(s.size()));
  out_->append("\r\n");
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Double(double v) {
  char buf[128];
  int n;
  if (std::isinf(v)) {
    n = std::snprintf(buf, sizeof(buf), "%s", v > 0 ? "inf" : "-inf");
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  }
  Bulk(std::string_view(buf, static_cast<size_t>(n)));
}

void ReplyBuilder::ArrayHeader(size_t n) {
  out_->push_back('*');
  AppendInt(out_, static_cast<int64_t>(n));
  out_->append("\r\n");
}

size_t ReplyBuilder::BeginDeferredArray() {
  size_t token = out_->size();
  out_->append(kDeferredWidth, ' ');
  return token;
}

void ReplyBuilder::EndDeferredArray(size_t token, size_t n) {
  std::string header = "*";
  AppendInt(&header, static_cast<int64_t>(n));
  header.append("\r\n");
  out_->replace(token, kDeferredWidth, header);
}

}  // namespace keel
