#include "differential/script.h"

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
  if (d == "!unordered" || d == "!ignore" || d == "!type" || d == "!noreply") {
    step->kind = StepKind::kCommand;
    step->compare = d == "!unordered" ? CompareMode::kUnordered
                    : d == "!ignore"  ? CompareMode::kType
                    : d == "!type"    ? CompareMode::kShape
                                      : CompareMode::kNoReply;
    return CommandArgs(tokens, 1, step, error);
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
  }
  return "?";
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
  return true;
}

}  // namespace keel::test
