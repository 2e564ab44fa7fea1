#include "scan_args.h"

#include <cctype>
#include <optional>

#include "keel/common/strings.h"
#include "keel/protocol/errors.h"
#include "lookup.h"

namespace keel {

bool ParseScanCursor(std::string_view s, uint64_t* out) {
  if (!s.empty() && std::isspace(static_cast<unsigned char>(s[0]))) return false;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == s.size()) {
    // strtoul consumes nothing: only the empty string then leaves no trailing characters.
    *out = 0;
    return s.empty();
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = neg ? (~v + 1) : v;
  return true;
}

bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanOptions* out) {
  for (size_t i = first; i < ctx.args.size(); i += 2) {
    std::string_view opt = ctx.args[i];
    bool has_value = i + 1 < ctx.args.size();
    if (EqualsIgnoreCase(opt, "count") && has_value) {
      std::optional<int64_t> v = ParseInt64(ctx.args[i + 1]);
      if (!v) {
        ctx.reply.Error(errors::kNotInteger);
        return false;
      }
      if (*v < 1) {
        ctx.reply.Error(errors::kSyntax);
        return false;
      }
      out->count = *v;
    } else if (EqualsIgnoreCase(opt, "match") && has_value) {
      out->pattern = ctx.args[i + 1];
      out->use_pattern = out->pattern != "*";
    } else if (allow_type && EqualsIgnoreCase(opt, "type") && has_value) {
      out->type = ctx.args[i + 1];
      out->has_type = true;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

Entry* StartKeyScan(CommandContext& ctx, ObjType type, uint64_t* cursor, ScanOptions* opts) {
  if (!ParseScanCursor(ctx.args[2], cursor)) {
    ctx.reply.Error(kInvalidCursor);
    return nullptr;
  }
  Entry* e = ReadLookup(ctx, ctx.args[1]);
  if (e == nullptr) {
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk("0");
    ctx.reply.EmptyArray();
    return nullptr;
  }
  if (WrongType(ctx, e, type)) return nullptr;
  if (!ParseScanOptions(ctx, 3, false, opts)) return nullptr;
  return e;
}

void ReplyKeyScan(ReplyBuilder& reply, uint64_t next, const std::vector<std::string>& items) {
  reply.ArrayHeader(2);
  reply.Bulk(std::to_string(next));
  reply.ArrayHeader(items.size());
  for (const std::string& s : items) reply.Bulk(s);
}

}  // namespace keel
