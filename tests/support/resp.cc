#include "support/resp.h"

#include <charconv>
#include <cstdio>

namespace keel::test {
namespace {

bool ParseSigned(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool IsLineType(char t) {
  return t == '+' || t == '-' || t == ':' || t == '_' || t == ',' || t == '#' || t == '(';
}
bool IsBulkType(char t) { return t == '$' || t == '=' || t == '!'; }
bool IsArrayType(char t) { return t == '*' || t == '~' || t == '>'; }
bool IsMapType(char t) { return t == '%' || t == '|'; }

// Parses the value at *pos (which FindReplyEnd has already validated) and advances *pos.
bool ParseAt(std::string_view buf, size_t* pos, RespValue* out) {
  size_t start = *pos;
  size_t crlf = buf.find("\r\n", start);
  if (crlf == std::string_view::npos || crlf == start) return false;
  char type = buf[start];
  std::string_view line = buf.substr(start + 1, crlf - start - 1);
  out->type = type;
  size_t next = crlf + 2;
  if (IsLineType(type)) {
    out->text.assign(line);
    out->is_null = type == '_';
  } else if (IsBulkType(type)) {
    int64_t n;
    if (!ParseSigned(line, &n)) return false;
    if (n < 0) {
      out->is_null = true;
    } else {
      if (next + n + 2 > buf.size()) return false;
      out->text.assign(buf.substr(next, n));
      next += n + 2;
    }
  } else if (IsArrayType(type) || IsMapType(type)) {
    int64_t n;
    if (!ParseSigned(line, &n)) return false;
    if (n < 0) {
      out->is_null = true;
    } else {
      int64_t count = IsMapType(type) ? 2 * n + (type == '|' ? 1 : 0) : n;
      out->elements.resize(count);
      for (auto& e : out->elements) {
        if (!ParseAt(buf, &next, &e)) return false;
      }
    }
  } else {
    return false;
  }
  out->raw.assign(buf.substr(start, next - start));
  *pos = next;
  return true;
}

}  // namespace

FrameStatus FindReplyEnd(std::string_view buf, size_t* length) {
  size_t pos = 0;
  // Elements still expected by each open aggregate, innermost last.
  std::vector<int64_t> open;
  while (true) {
    if (pos >= buf.size()) return FrameStatus::kIncomplete;
    size_t crlf = buf.find("\r\n", pos);
    if (crlf == std::string_view::npos) {
      // A line may legitimately be split between reads; only a bad type byte is certain.
      char t = buf[pos];
      if (!IsLineType(t) && !IsBulkType(t) && !IsArrayType(t) && !IsMapType(t)) {
        return FrameStatus::kMalformed;
      }
      return FrameStatus::kIncomplete;
    }
    char type = buf[pos];
    std::string_view line = buf.substr(pos + 1, crlf - pos - 1);
    bool item_done = true;
    if (IsLineType(type)) {
      pos = crlf + 2;
    } else if (IsBulkType(type)) {
      int64_t n;
      if (!ParseSigned(line, &n)) return FrameStatus::kMalformed;
      pos = crlf + 2;
      if (n >= 0) {
        if (buf.size() < pos + n + 2) return FrameStatus::kIncomplete;
        if (buf.substr(pos + n, 2) != "\r\n") return FrameStatus::kMalformed;
        pos += n + 2;
      }
    } else if (IsArrayType(type) || IsMapType(type)) {
      int64_t n;
      if (!ParseSigned(line, &n)) return FrameStatus::kMalformed;
      pos = crlf + 2;
      int64_t count = IsMapType(type) ? 2 * n + (type == '|' ? 1 : 0) : n;
      if (count > 0) {
        open.push_back(count);
        item_done = false;
      }
    } else {
      return FrameStatus::kMalformed;
    }
    if (item_done) {
      while (!open.empty() && --open.back() == 0) open.pop_back();
      if (open.empty()) {
        *length = pos;
        return FrameStatus::kComplete;
      }
    }
  }
}

bool ParseReply(std::string_view bytes, RespValue* out) {
  size_t pos = 0;
  *out = RespValue();
  return ParseAt(bytes, &pos, out) && pos == bytes.size();
}

std::string ReplyType(const RespValue& value) {
  std::string s(1, value.type);
  if (value.is_null) s += "nil";
  return s;
}

std::string ReplyShape(const RespValue& value) {
  std::string s = ReplyType(value);
  if (!value.is_null && (IsArrayType(value.type) || IsMapType(value.type))) {
    s += std::to_string(value.elements.size()) + "[";
    for (size_t i = 0; i < value.elements.size(); ++i) {
      if (i > 0) s += ",";
      s += ReplyShape(value.elements[i]);
    }
    s += "]";
  }
  return s;
}

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

std::string EscapeBytes(std::string_view bytes, size_t max_bytes) {
  std::string out;
  size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", c);
          out += hex;
        }
    }
  }
  if (n < bytes.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool SplitArgs(std::string_view line, std::vector<Token>* out, std::string* error) {
  out->clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i >= n) return true;
    Token token;
    bool done = false;
    while (!done) {
      if (i >= n) break;
      char c = line[i];
      if (c == '"' || c == '\'') {
        char quote = c;
        token.quoted = true;
        ++i;
        bool closed = false;
        while (i < n) {
          char q = line[i];
          if (quote == '"' && q == '\\' && i + 3 < n && line[i + 1] == 'x' &&
              HexValue(line[i + 2]) >= 0 && HexValue(line[i + 3]) >= 0) {
            token.text += static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
            i += 4;
          } else if (quote == '"' && q == '\\' && i + 1 < n) {
            char e = line[i + 1];
            switch (e) {
              case 'n':
                token.text += '\n';
                break;
              case 'r':
                token.text += '\r';
                break;
              case 't':
                token.text += '\t';
                break;
              case 'b':
                token.text += '\b';
                break;
              case 'a':
                token.text += '\a';
                break;
              default:
                token.text += e;
            }
            i += 2;
          } else if (quote == '\'' && q == '\\' && i + 1 < n && line[i + 1] == '\'') {
            token.text += '\'';
            i += 2;
          } else if (q == quote) {
            ++i;
            closed = true;
            break;
          } else {
            token.text += q;
            ++i;
          }
        }
        if (!closed) {
          *error = "unbalanced quotes";
          return false;
        }
        if (i < n && !IsSpace(line[i])) {
          *error = "closing quote must be followed by a space";
          return false;
        }
        done = true;
      } else if (IsSpace(c)) {
        done = true;
      } else {
        token.text += c;
        ++i;
      }
    }
    out->push_back(std::move(token));
  }
}

}  // namespace keel::test
