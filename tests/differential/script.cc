#include "differential/script.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "support/resp.h"

namespace keel::test {
namespace {

bool ParseInt(std::string_view s, int* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= 0;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Returns the rest of the tokens as command args, failing if there are none.
bool CommandArgs(const std::vector<Token>& tokens, size_t from, ScriptStep* step,
                 std::string* error) {
  if (from >= tokens.size()) {
    *error = "directive needs a command after it";
    return false;
  }
  for (size_t i = from; i < tokens.size(); ++i) step->args.push_back(tokens[i].text);
  return true;
}

bool ParseLine(const std::vector<Token>& tokens, ScriptStep* step, std::string* error) {
  const Token& first = tokens[0];
  if (first.quoted || first.text.empty() || first.text[0] != '!') {
    step->kind = StepKind::kCommand;
    return CommandArgs(tokens, 0, step, error);
  }
  const std::string& d = first.text;
  if (d == "!unordered" || d == "!ignore" || d == "!type" || d == "!noreply" || d == "!scan-set" ||
      d == "!info-fields" || d == "!acl-rules") {
    step->kind = StepKind::kCommand;
    step->compare = d == "!unordered"   ? CompareMode::kUnordered
                    : d == "!ignore"    ? CompareMode::kType
                    : d == "!type"      ? CompareMode::kShape
                    : d == "!noreply"   ? CompareMode::kNoReply
                    : d == "!scan-set"  ? CompareMode::kScanSet
                    : d == "!acl-rules" ? CompareMode::kAclRules
                                        : CompareMode::kInfoFields;
    if (!CommandArgs(tokens, 1, step, error)) return false;
    if (step->compare == CompareMode::kScanSet && ScanCursorIndex(step->args) < 0) {
      *error = "!scan-set needs SCAN, SSCAN, HSCAN or ZSCAN with a cursor";
      return false;
    }
    return true;
  }
  if (d == "!wait") {
    if (tokens.size() < 3) {
      *error = "usage: !wait TEXT CMD...";
      return false;
    }
    step->kind = StepKind::kWait;
    step->wait_for = tokens[1].text;
    return CommandArgs(tokens, 2, step, error);
  }
  if (d == "!fields-ignore") {
    if (tokens.size() < 3) {
      *error = "usage: !fields-ignore field[,field...] CMD...";
      return false;
    }
    std::string_view list = tokens[1].text;
    while (!list.empty()) {
      size_t comma = list.find(',');
      step->ignored_fields.insert(Lower(std::string(list.substr(0, comma))));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    step->kind = StepKind::kCommand;
    step->compare = CompareMode::kFieldsIgnore;
    return CommandArgs(tokens, 2, step, error);
  }
  if (d == "!delta") {
    if (tokens.size() < 3) {
      *error = "usage: !delta FIELD CMD...";
      return false;
    }
    step->field = tokens[1].text;
    step->kind = StepKind::kCommand;
    step->compare = CompareMode::kDelta;
    return CommandArgs(tokens, 2, step, error);
  }
  if (d == "!sleep") {
    step->kind = StepKind::kSleep;
    if (tokens.size() != 2 || !ParseInt(tokens[1].text, &step->sleep_ms)) {
      *error = "usage: !sleep MILLISECONDS";
      return false;
    }
    return true;
  }
  if (d == "!raw") {
    step->kind = StepKind::kRaw;
    std::string last;
    for (size_t i = 1; i < tokens.size(); ++i) {
      const Token& t = tokens[i];
      int count = 0;
      if (!t.quoted && t.text.size() > 1 && t.text[0] == 'x' &&
          ParseInt(std::string_view(t.text).substr(1), &count)) {
        if (i == 1 || count < 1) {
          *error = "xN must follow a token and N must be at least 1";
          return false;
        }
        for (int k = 1; k < count; ++k) step->raw += last;
        continue;
      }
      step->raw += t.text;
      last = t.text;
    }
    if (step->raw.empty()) {
      *error = "!raw needs bytes to send";
      return false;
    }
    return true;
  }
  if (d == "!read") {
    step->kind = StepKind::kRead;
    if (tokens.size() != 1) {
      *error = "usage: !read";
      return false;
    }
    return true;
  }
  if (d == "!reconnect") {
    step->kind = StepKind::kReconnect;
    return true;
  }
  if (d == "!client") {
    if (tokens.size() != 2) {
      *error = "usage: !client NAME";
      return false;
    }
    step->kind = StepKind::kClient;
    step->client = tokens[1].text;
    return true;
  }
  *error = "unknown directive " + d;
  return false;
}

}  // namespace

const char* CompareModeName(CompareMode mode) {
  switch (mode) {
    case CompareMode::kExact:
      return "exact bytes";
    case CompareMode::kUnordered:
      return "unordered elements";
    case CompareMode::kType:
      return "reply type only";
    case CompareMode::kShape:
      return "reply shape only";
    case CompareMode::kFieldsIgnore:
      return "fields, some values ignored";
    case CompareMode::kNoReply:
      return "no reply";
    case CompareMode::kDelta:
      return "change of an INFO field";
    case CompareMode::kScanSet:
      return "set of elements over a full SCAN iteration";
    case CompareMode::kInfoFields:
      return "INFO section headers and field names";
    case CompareMode::kAclRules:
      return "ACL rules, single-command runs as multisets";
  }
  return "?";
}

namespace {

// The reply's bytes with every run of single-command rules sorted. Sorting words keeps every
// length, so the RESP framing stays as it was; a selector's closing ')' is set apart first.
std::string SortSingleRules(const std::string& raw) {
  std::string text;
  for (char c : raw) {
    if (c == ')') text += ' ';
    text += c;
  }
  std::string out;
  std::vector<std::string> run;  // single-command words, and the separator after each
  std::string seps;
  auto flush = [&] {
    std::sort(run.begin(), run.end());
    for (size_t i = 0; i < run.size(); ++i) out += run[i] + seps[i];
    run.clear();
    seps.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(" \r\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    char sep = end < text.size() ? text[end] : '\0';
    if (word.size() > 1 && (word[0] == '+' || word[0] == '-') && word[1] != '@') {
      run.push_back(word);
      seps += sep;
    } else {
      flush();
      out += word;
      out += sep;
    }
    pos = end + 1;
  }
  flush();
  return out;
}

}  // namespace

std::string CompareReplies(const ScriptStep& step, const std::string& a, const std::string& b) {
  switch (step.compare) {
    case CompareMode::kAclRules:
      return SortSingleRules(a) == SortSingleRules(b) ? "" : "bytes differ";
    case CompareMode::kExact:
    case CompareMode::kNoReply:
      return a == b ? "" : "bytes differ";
    case CompareMode::kScanSet:
      // An error must match whole; pages are compared once the runner has iterated them all.
      if (a.empty() || b.empty() || a[0] == '-' || b[0] == '-') return a == b ? "" : "bytes differ";
      return "";
    default:
      break;
  }
  RespValue va, vb;
  if (!ParseReply(a, &va) || !ParseReply(b, &vb)) return "unparsable reply";
  switch (step.compare) {
    case CompareMode::kType:
      return ReplyType(va) == ReplyType(vb)
                 ? ""
                 : "types differ: " + ReplyType(va) + " vs " + ReplyType(vb);
    case CompareMode::kShape:
      return ReplyShape(va) == ReplyShape(vb)
                 ? ""
                 : "shapes differ: " + ReplyShape(va) + " vs " + ReplyShape(vb);
    case CompareMode::kInfoFields: {
      // RESP3 sends INFO as a verbatim string: its "txt:" format prefix is not a field.
      if (va.type != vb.type) return "types differ";
      for (RespValue* v : {&va, &vb}) {
        if (v->type == '=' && v->text.compare(0, 4, "txt:") == 0) {
          v->type = '$';
          v->text.erase(0, 4);
        }
      }
      if (va.type != '$') return a == b ? "" : "not INFO text";
      auto names = [](std::string_view text) {
        std::vector<std::string> out;
        while (!text.empty()) {
          size_t eol = text.find("\r\n");
          std::string_view line = text.substr(0, eol);
          text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 2);
          // Keel's own fields (keel_*) have no Redis counterpart.
          if (line.empty() || line.starts_with("keel_")) continue;
          out.emplace_back(line[0] == '#' ? line : line.substr(0, line.find(':')));
        }
        return out;
      };
      std::vector<std::string> na = names(va.text), nb = names(vb.text);
      for (size_t i = 0; i < std::max(na.size(), nb.size()); ++i) {
        std::string x = i < na.size() ? na[i] : "(none)";
        std::string y = i < nb.size() ? nb[i] : "(none)";
        if (x != y) return "line " + std::to_string(i + 1) + ": '" + x + "' vs '" + y + "'";
      }
      return "";
    }
    case CompareMode::kUnordered: {
      if (ReplyType(va) != ReplyType(vb)) return "types differ";
      if (va.elements.empty() && vb.elements.empty()) return a == b ? "" : "bytes differ";
      std::vector<std::string> ea, eb;
      for (auto& e : va.elements) ea.push_back(e.raw);
      for (auto& e : vb.elements) eb.push_back(e.raw);
      std::sort(ea.begin(), ea.end());
      std::sort(eb.begin(), eb.end());
      return ea == eb ? "" : "element multisets differ";
    }
    case CompareMode::kFieldsIgnore: {
      // A flat field/value array (RESP2) or a map (RESP3): either way, pairs in order.
      bool fields = (va.type == '*' || va.type == '%') && va.type == vb.type;
      if (!fields) return a == b ? "" : "not field arrays";
      if (va.elements.size() != vb.elements.size()) return "field counts differ";
      size_t i = 0;
      for (; i + 1 < va.elements.size(); i += 2) {
        const RespValue& key = va.elements[i];
        if (key.raw != vb.elements[i].raw) return "field names differ at " + std::to_string(i);
        std::string name = Lower(key.text);
        const RespValue& x = va.elements[i + 1];
        const RespValue& y = vb.elements[i + 1];
        if (step.ignored_fields.count(name) != 0) {
          if (ReplyShape(x) != ReplyShape(y)) return "field '" + name + "' shapes differ";
        } else if (x.raw != y.raw) {
          return "field '" + name + "' differs";
        }
      }
      // An odd count leaves a last element with no value: compare it whole.
      if (i < va.elements.size() && va.elements[i].raw != vb.elements[i].raw) {
        return "trailing element " + std::to_string(i) + " differs";
      }
      return "";
    }
    default:
      return a == b ? "" : "bytes differ";
  }
}

int ScanCursorIndex(const std::vector<std::string>& args) {
  if (args.empty()) return -1;
  std::string name = Lower(args[0]);
  if (name == "scan") return args.size() >= 2 ? 1 : -1;
  if (name == "sscan" || name == "hscan" || name == "zscan") return args.size() >= 3 ? 2 : -1;
  return -1;
}

bool AddScanPage(const std::string& reply, bool pairs, std::string* cursor,
                 std::set<std::string>* out) {
  RespValue v;
  if (!ParseReply(reply, &v) || v.type != '*' || v.elements.size() != 2) return false;
  const RespValue& c = v.elements[0];
  const RespValue& items = v.elements[1];
  if (c.type != '$' || c.is_null || items.type != '*') return false;
  if (pairs && items.elements.size() % 2 != 0) return false;
  *cursor = c.text;
  for (size_t i = 0; i < items.elements.size(); i += pairs ? 2 : 1) {
    std::string item = items.elements[i].raw;
    if (pairs) item += std::string(1, '\0') + items.elements[i + 1].raw;
    out->insert(std::move(item));
  }
  return true;
}

std::string CheckOracleInfo(std::string_view info) {
  if (info.find("keel_version:") != std::string_view::npos) {
    return "the oracle answers INFO with keel_version: it is keel-server, not Redis";
  }
  size_t at = info.find("redis_version:");
  if (at == std::string_view::npos) return "the oracle's INFO has no redis_version";
  std::string_view version = info.substr(at + 14);
  version = version.substr(0, version.find_first_of("\r\n"));
  if (version.substr(0, 4) != "7.0.") {
    return "the oracle is redis_version " + std::string(version) + ", not 7.0.x";
  }
  return "";
}

bool ParseScript(std::string_view text, Script* script, std::string* error) {
  *script = Script();
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') continue;
    std::vector<Token> tokens;
    std::string why;
    if (!SplitArgs(line, &tokens, &why)) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return false;
    }
    if (tokens.size() == 2 && !tokens[0].quoted && tokens[0].text == "!skip-until") {
      if (!script->steps.empty()) {
        *error = "line " + std::to_string(line_no) + ": !skip-until must come before any step";
        return false;
      }
      script->skip_until = tokens[1].text;
      continue;
    }
    if (tokens.size() == 2 && !tokens[0].quoted && tokens[0].text == "!resp2-only") {
      if (!script->steps.empty()) {
        *error = "line " + std::to_string(line_no) + ": !resp2-only must come before any step";
        return false;
      }
      script->resp2_only = tokens[1].text;
      continue;
    }
    if (tokens.size() == 1 && !tokens[0].quoted && tokens[0].text == "!resp3") {
      if (!script->steps.empty()) {
        *error = "line " + std::to_string(line_no) + ": !resp3 must come before any step";
        return false;
      }
      script->resp3_only = true;
      continue;
    }
    if (tokens.size() == 1 && !tokens[0].quoted && tokens[0].text == "!requirepass") {
      if (!script->steps.empty()) {
        *error = "line " + std::to_string(line_no) + ": !requirepass must come before any step";
        return false;
      }
      script->requirepass = true;
      continue;
    }
    ScriptStep step;
    step.line = line_no;
    step.source.assign(line.substr(start));
    if (!ParseLine(tokens, &step, &why)) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return false;
    }
    script->steps.push_back(std::move(step));
  }
  bool any_command = std::any_of(script->steps.begin(), script->steps.end(), [](const auto& st) {
    return st.kind == StepKind::kCommand || st.kind == StepKind::kRaw;
  });
  if (!any_command) {
    *error = "the script has no command step: an empty case would pass without testing anything";
    return false;
  }
  return true;
}

}  // namespace keel::test
