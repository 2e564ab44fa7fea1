// The check that lets a Lua script run holding only its declared keys' shard locks
// (keel/commands/script_keys.h; docs/architecture.md, "Scripting").
//
// Why a check of the source, before the script runs, and not a discovery while it runs: a
// script holding some shard locks cannot take a lower-indexed one later without risking a
// deadlock (a command holding that shard may be waiting for one of the script's), cannot release
// any before its end (another client would see its middle), and cannot be restarted once it has
// written. So the lock set must be known before the first command runs: either the script is
// proven to stay inside KEYS, or it holds everything.
//
// The proof is syntactic and conservative. The script's tokens are read (strings and comments
// skipped), and the script qualifies only if:
// * the names that reach the globals table or other functions' environments (_G, getfenv,
//   setfenv, loadstring, load, rawget, rawset, setmetatable, getmetatable, debug, require,
//   module, dofile, loadfile) never appear;
// * `redis` appears only as `redis.<field>`, and `redis.call` / `redis.pcall` only called
//   directly: `redis.call(...)` (so no other value can hold those functions);
// * `KEYS` appears only as `#KEYS` or `KEYS[...]`, never as an assignment target (so KEYS holds
//   exactly the declared keys all the script long: any `KEYS[...]` is a declared key or nil);
// * each call's command is a string literal, resolved as the dispatcher resolves it, locked by
//   its keys (LockMode::kKeys, key positions fixed by the argument count) or by nothing (kNone);
//   every argument in a key position is `KEYS[...]` or a local declared once as
//   `local name = KEYS[...]` and never assigned again (only in scripts without `function` and
//   `for`, which could declare a parameter of the same name); and no argument that Lua may
//   expand to several values (a call or `...` in the last place) can move a key position.
// An unknown command is fine: redis.call fails on it without running anything.

#include "keel/commands/script_keys.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "command_meta_table.h"
#include "keel/commands/dispatcher.h"

namespace keel {

namespace {

struct Token {
  enum Kind { kName, kString, kNumber, kOp } kind;
  std::string_view text;  // for kString, the quoted contents (escapes left as written)
};

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// The level of a long bracket "[==[" starting at s[i], or -1 if there is none.
int LongBracketLevel(std::string_view s, size_t i) {
  if (i >= s.size() || s[i] != '[') return -1;
  size_t j = i + 1;
  while (j < s.size() && s[j] == '=') ++j;
  return j < s.size() && s[j] == '[' ? static_cast<int>(j - i - 1) : -1;
}

// Skips a long bracket of `level` starting at s[i]; returns the index after it, or npos.
size_t SkipLongBracket(std::string_view s, size_t i, int level) {
  std::string close = "]" + std::string(static_cast<size_t>(level), '=') + "]";
  size_t end = s.find(close, i + static_cast<size_t>(level) + 2);
  return end == std::string_view::npos ? end : end + close.size();
}

// Lua 5.1's lexical grammar, far enough to find names, strings and operators. False for a
// source that does not lex (it will not compile either).
bool Tokenize(std::string_view s, std::vector<Token>* out) {
  size_t i = 0;
  if (s.substr(0, 2) == "#!") i = s.find('\n') == std::string_view::npos ? s.size() : s.find('\n');
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      int level = LongBracketLevel(s, i + 2);
      if (level >= 0) {
        i = SkipLongBracket(s, i + 2, level);
        if (i == std::string_view::npos) return false;
      } else {
        size_t nl = s.find('\n', i);
        i = nl == std::string_view::npos ? s.size() : nl + 1;
      }
    } else if (c == '[' && LongBracketLevel(s, i) >= 0) {
      int level = LongBracketLevel(s, i);
      size_t end = SkipLongBracket(s, i, level);
      if (end == std::string_view::npos) return false;
      size_t open = static_cast<size_t>(level) + 2;
      out->push_back({Token::kString, s.substr(i + open, end - i - 2 * open)});
      i = end;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) {
        if (s[j] == '\\') ++j;
        if (j < s.size() && s[j] == '\n') return false;
        ++j;
      }
      if (j >= s.size()) return false;
      out->push_back({Token::kString, s.substr(i + 1, j - i - 1)});
      i = j + 1;
    } else if (IsNameStart(c)) {
      size_t j = i;
      while (j < s.size() && IsNameChar(s[j])) ++j;
      out->push_back({Token::kName, s.substr(i, j - i)});
      i = j;
    } else if ((c >= '0' && c <= '9') ||
               (c == '.' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      size_t j = i;
      while (j < s.size() &&
             (IsNameChar(s[j]) || s[j] == '.' ||
              ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
        ++j;
      out->push_back({Token::kNumber, s.substr(i, j - i)});
      i = j;
    } else {
      size_t len = 1;
      if (s.substr(i, 3) == "...") {
        len = 3;
      } else if (i + 1 < s.size() && (s.substr(i, 2) == ".." || s[i + 1] == '=') &&
                 (c == '.' || c == '=' || c == '~' || c == '<' || c == '>')) {
        len = 2;
      }
      out->push_back({Token::kOp, s.substr(i, len)});
      i += len;
    }
  }
  return true;
}

class Analyzer {
 public:
  explicit Analyzer(std::vector<Token> t) : t_(std::move(t)), match_(t_.size(), kNone) {
    // Every bracket's partner, in one pass: a closing bracket of any kind closes the innermost
    // open one (the depth count that Lua's own parse would refuse a mismatch of anyway).
    std::vector<size_t> open;
    for (size_t j = 0; j < t_.size(); ++j) {
      if (t_[j].kind != Token::kOp) continue;
      std::string_view o = t_[j].text;
      if (o == "(" || o == "[" || o == "{") open.push_back(j);
      if ((o == ")" || o == "]" || o == "}") && !open.empty()) {
        match_[open.back()] = j;
        open.pop_back();
      }
    }
  }

  bool Run() {
    FindAliases();
    for (size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].kind != Token::kName || IsField(i)) continue;
      std::string_view n = t_[i].text;
      if (n == "_G" || n == "getfenv" || n == "setfenv" || n == "loadstring" || n == "load" ||
          n == "rawget" || n == "rawset" || n == "setmetatable" || n == "getmetatable" ||
          n == "debug" || n == "require" || n == "module" || n == "dofile" || n == "loadfile") {
        return false;
      }
      if (n == "KEYS" && !KeysUseOk(i)) return false;
      if (n == "redis" && !RedisUseOk(i)) return false;
    }
    return true;
  }

 private:
  bool Op(size_t i, std::string_view op) const {
    return i < t_.size() && t_[i].kind == Token::kOp && t_[i].text == op;
  }
  bool Name(size_t i, std::string_view name) const {
    return i < t_.size() && t_[i].kind == Token::kName && t_[i].text == name;
  }
  // A name after "." or ":" is a field, not a variable.
  bool IsField(size_t i) const { return i > 0 && (Op(i - 1, ".") || Op(i - 1, ":")); }

  // The index of the bracket closing the one at i ("(", "[", "{"), or npos.
  size_t Match(size_t i) const { return i < match_.size() ? match_[i] : kNone; }

  // Skips a prefix expression usable as an assignment target (a name, then .f, [x], :m(...),
  // (...) suffixes) starting at i; returns the index after it (i itself if there is none).
  size_t SkipTarget(size_t i) const {
    if (i >= t_.size() || t_[i].kind != Token::kName) return i;
    ++i;
    while (i < t_.size()) {
      if ((Op(i, ".") || Op(i, ":")) && i + 1 < t_.size() && t_[i + 1].kind == Token::kName) {
        i += 2;
      } else if (Op(i, "[") || Op(i, "(") || Op(i, "{")) {
        size_t m = Match(i);
        if (m == kNone) return t_.size();
        i = m + 1;
      } else if (t_[i].kind == Token::kString) {
        ++i;
      } else {
        break;
      }
    }
    return i;
  }

  // True when the tokens from i continue an assignment's target list: "= ..." or ", x, y = ...".
  bool AssignmentFollows(size_t i) const {
    while (i < t_.size()) {
      if (Op(i, "=")) return true;
      if (!Op(i, ",")) return false;
      size_t next = SkipTarget(i + 1);
      if (next == i + 1) return false;
      i = next;
    }
    return false;
  }

  // `KEYS[...]` at i, closing at end (inclusive)?
  bool KeysIndexAt(size_t i, size_t end) const {
    return Name(i, "KEYS") && !IsField(i) && Op(i + 1, "[") && Match(i + 1) == end;
  }

  bool KeysUseOk(size_t i) const {
    if (i > 0 && Op(i - 1, "#")) return true;
    if (!Op(i + 1, "[")) return false;
    size_t close = Match(i + 1);
    return close != kNone && !AssignmentFollows(close + 1);
  }

  // Names declared once as `local name = KEYS[...]` (a whole expression) and never assigned or
  // declared again. None in a script with `function` or `for` (parameters and loop variables).
  // One pass finds the candidates, one more counts every use of them.
  void FindAliases() {
    for (const Token& t : t_) {
      if (t.kind == Token::kName && (t.text == "function" || t.text == "for")) return;
    }
    struct Uses {
      int declarations = 0;
      bool reassigned = false;
    };
    std::unordered_map<std::string_view, Uses> candidates;
    for (size_t i = 0; i + 4 < t_.size(); ++i) {
      if (!Name(i, "local") || t_[i + 1].kind != Token::kName || !Op(i + 2, "=") ||
          !Name(i + 3, "KEYS") || !Op(i + 4, "[")) {
        continue;
      }
      size_t close = Match(i + 4);
      if (close == kNone) continue;
      // The expression ends there: the next token starts a statement (or there is none).
      size_t n = close + 1;
      bool whole = n == t_.size() || Op(n, ";") ||
                   (t_[n].kind == Token::kName && t_[n].text != "and" && t_[n].text != "or");
      if (whole) candidates.try_emplace(t_[i + 1].text);
    }
    if (candidates.empty()) return;
    for (size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].kind != Token::kName || IsField(i)) continue;
      auto it = candidates.find(t_[i].text);
      if (it == candidates.end()) continue;
      // (`local a, name` with no value shadows it with nil: harmless, redis.call then refuses
      // the nil argument.)
      bool declared = i > 0 && Name(i - 1, "local");
      if (declared) ++it->second.declarations;
      if (!(declared && Op(i + 1, "=")) && AssignmentFollows(i + 1)) it->second.reassigned = true;
    }
    for (const auto& [name, uses] : candidates) {
      if (uses.declarations == 1 && !uses.reassigned) aliases_.insert(name);
    }
  }

  bool IsAlias(std::string_view name) const { return aliases_.count(name) != 0; }

  // One argument of redis.call, tokens [b, e): a declared key for sure?
  bool DeclaredKey(size_t b, size_t e) const {
    if (e == b + 1 && t_[b].kind == Token::kName && IsAlias(t_[b].text)) return true;
    return e > b + 3 && KeysIndexAt(b, e - 1);
  }

  bool RedisUseOk(size_t i) const {
    if (!Op(i + 1, ".") || i + 2 >= t_.size() || t_[i + 2].kind != Token::kName) return false;
    std::string_view f = t_[i + 2].text;
    if (f != "call" && f != "pcall") return true;
    if (!Op(i + 3, "(")) return false;
    size_t close = Match(i + 3);
    if (close == kNone) return false;
    // Split the arguments at the top-level commas.
    std::vector<std::pair<size_t, size_t>> args;
    size_t start = i + 4;
    int depth = 0;
    for (size_t j = i + 4; j < close; ++j) {
      if (Name(j, "function")) return false;
      if (t_[j].kind != Token::kOp) continue;
      std::string_view o = t_[j].text;
      if (o == "(" || o == "[" || o == "{") ++depth;
      if (o == ")" || o == "]" || o == "}") --depth;
      if (depth == 0 && o == ",") {
        args.emplace_back(start, j);
        start = j + 1;
      }
    }
    if (start < close) args.emplace_back(start, close);
    return CallOk(args);
  }

  bool CallOk(const std::vector<std::pair<size_t, size_t>>& args) const {
    if (args.empty()) return true;  // redis.call() fails at once
    auto [nb, ne] = args[0];
    if (ne != nb + 1 || t_[nb].kind != Token::kString) return false;
    std::string_view name = t_[nb].text;
    if (name.find('\\') != std::string_view::npos) return false;
    // redis.call checks the name against the table first, then the dispatcher resolves it
    // through rename-command: an unknown name on either side runs nothing.
    if (FindCommandMeta(name) == nullptr) return true;
    const CommandMeta* meta = LookupCommand(name);
    if (meta == nullptr) return true;
    if (MetaHasSubcommands(*meta)) return false;
    const CommandRegistry::Entry* entry = GlobalCommandRegistry().Find(meta);
    if (entry == nullptr) return true;
    if (entry->lock_mode == LockMode::kNone) return true;
    if (entry->lock_mode != LockMode::kKeys) return false;
    if (meta->flags & kCmdMovableKeys) return false;
    if (meta->first_key <= 0) return meta->key_specs.empty();
    if (meta->key_step <= 0) return false;
    // The last argument may stand for several values (a call, or "...").
    auto [lb, le] = args.back();
    bool may_expand = (le == lb + 1 && Op(lb, "...")) || (le > lb && Op(le - 1, ")"));
    int argc = static_cast<int>(args.size());
    if (may_expand && meta->last_key < 0) return false;
    int last = meta->last_key < 0 ? argc + meta->last_key : meta->last_key;
    if (may_expand && last >= argc - 1) return false;
    for (int p = meta->first_key; p <= last && p < argc; p += meta->key_step) {
      auto [b, e] = args[static_cast<size_t>(p)];
      if (!DeclaredKey(b, e)) return false;
    }
    return true;
  }

  static constexpr size_t kNone = std::string::npos;

  std::vector<Token> t_;
  std::vector<size_t> match_;  // the partner of each bracket token, kNone elsewhere
  std::unordered_set<std::string_view> aliases_;
};

}  // namespace

bool ScriptStaysInDeclaredKeys(std::string_view body) {
  std::vector<Token> tokens;
  tokens.reserve(body.size() / 6);  // about one token per 4-8 bytes of typical source
  if (!Tokenize(body, &tokens)) return false;
  return Analyzer(std::move(tokens)).Run();
}

}  // namespace keel
