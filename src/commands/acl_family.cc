// ACL: users, permissions and the ACL command (Redis 7.0). See keel/commands/acl.h.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "command_meta_table.h"
#include "keel/commands/acl.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"
#include "keel/common/glob.h"
#include "keel/common/logging.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/parser.h"

namespace keel {

namespace acl_internal {
std::atomic<bool> restricted{false};
}  // namespace acl_internal

namespace {
// Bumped (under the users' mutex) by every change to the users; never 0.
std::atomic<uint64_t> users_generation{1};
}  // namespace

namespace {

// ---- SHA-256 (FIPS 180-4), for password hashes ----

constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// The lower-case hex SHA-256 of `data`, as ACL GETUSER shows password hashes.
std::string Sha256Hex(std::string_view data) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(data);
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>(bits >> (i * 8)));
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + i * 4);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 =
          hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + kSha256K[i] + w[i];
      uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint32_t v : h) {
    for (int i = 28; i >= 0; i -= 4) out.push_back(kHex[(v >> i) & 0xf]);
  }
  return out;
}

// ---- Commands by dense id ----

// Redis 7.0's categories by bit (keel/commands/command_meta.h's AclCategory order).
constexpr std::string_view kCategories[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

// Redis 7.0 commands and subcommands that Keel's table does not have (yet), with their ACL
// categories (from redis-server 7.0.15's COMMAND). ACL rules name them and Redis's descriptions
// count them (a category "fits" by how many of its commands a user has), so the users' command
// bits hold them too; the ones the table gains later are taken from the table instead.
struct AclOnlyCommand {
  std::string_view name;
  uint32_t acl;
};
constexpr AclOnlyCommand kRedisOnlyCommands[] = {
    {"asking", kAclFast | kAclConnection},
    {"cluster", kAclSlow},
    {"cluster|addslots", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|addslotsrange", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|bumpepoch", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|count-failure-reports", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|countkeysinslot", kAclSlow},
    {"cluster|delslots", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|delslotsrange", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|failover", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|flushslots", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|forget", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|getkeysinslot", kAclSlow},
    {"cluster|help", kAclSlow},
    {"cluster|info", kAclSlow},
    {"cluster|keyslot", kAclSlow},
    {"cluster|links", kAclSlow},
    {"cluster|meet", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|myid", kAclSlow},
    {"cluster|nodes", kAclSlow},
    {"cluster|replicas", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|replicate", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|reset", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|saveconfig", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|set-config-epoch", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|setslot", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|shards", kAclSlow},
    {"cluster|slaves", kAclAdmin | kAclSlow | kAclDangerous},
    {"cluster|slots", kAclSlow},
    {"failover", kAclAdmin | kAclSlow | kAclDangerous},
    {"fcall", kAclSlow | kAclScripting},
    {"fcall_ro", kAclSlow | kAclScripting},
    {"function", kAclSlow},
    {"function|delete", kAclWrite | kAclSlow | kAclScripting},
    {"function|dump", kAclSlow | kAclScripting},
    {"function|flush", kAclWrite | kAclSlow | kAclScripting},
    {"function|help", kAclSlow | kAclScripting},
    {"function|kill", kAclSlow | kAclScripting},
    {"function|list", kAclSlow | kAclScripting},
    {"function|load", kAclWrite | kAclSlow | kAclScripting},
    {"function|restore", kAclWrite | kAclSlow | kAclScripting},
    {"function|stats", kAclSlow | kAclScripting},
    {"migrate", kAclKeyspace | kAclWrite | kAclSlow | kAclDangerous},
    {"module", kAclSlow},
    {"module|help", kAclSlow},
    {"module|list", kAclAdmin | kAclSlow | kAclDangerous},
    {"module|load", kAclAdmin | kAclSlow | kAclDangerous},
    {"module|loadex", kAclAdmin | kAclSlow | kAclDangerous},
    {"module|unload", kAclAdmin | kAclSlow | kAclDangerous},
    {"psync", kAclAdmin | kAclSlow | kAclDangerous},
    {"readonly", kAclFast | kAclConnection},
    {"readwrite", kAclFast | kAclConnection},
    {"replconf", kAclAdmin | kAclSlow | kAclDangerous},
    {"replicaof", kAclAdmin | kAclSlow | kAclDangerous},
    {"restore-asking", kAclKeyspace | kAclWrite | kAclSlow | kAclDangerous},
    {"role", kAclAdmin | kAclFast | kAclDangerous},
    {"script|debug", kAclSlow | kAclScripting},
    {"slaveof", kAclAdmin | kAclSlow | kAclDangerous},
    {"sync", kAclAdmin | kAclSlow | kAclDangerous},
    {"xack", kAclWrite | kAclStream | kAclFast},
    {"xadd", kAclWrite | kAclStream | kAclFast},
    {"xautoclaim", kAclWrite | kAclStream | kAclFast},
    {"xclaim", kAclWrite | kAclStream | kAclFast},
    {"xdel", kAclWrite | kAclStream | kAclFast},
    {"xgroup", kAclSlow},
    {"xgroup|create", kAclWrite | kAclStream | kAclSlow},
    {"xgroup|createconsumer", kAclWrite | kAclStream | kAclSlow},
    {"xgroup|delconsumer", kAclWrite | kAclStream | kAclSlow},
    {"xgroup|destroy", kAclWrite | kAclStream | kAclSlow},
    {"xgroup|help", kAclStream | kAclSlow},
    {"xgroup|setid", kAclWrite | kAclStream | kAclSlow},
    {"xinfo", kAclSlow},
    {"xinfo|consumers", kAclRead | kAclStream | kAclSlow},
    {"xinfo|groups", kAclRead | kAclStream | kAclSlow},
    {"xinfo|help", kAclStream | kAclSlow},
    {"xinfo|stream", kAclRead | kAclStream | kAclSlow},
    {"xlen", kAclRead | kAclStream | kAclFast},
    {"xpending", kAclRead | kAclStream | kAclSlow},
    {"xrange", kAclRead | kAclStream | kAclSlow},
    {"xread", kAclRead | kAclStream | kAclSlow | kAclBlocking},
    {"xreadgroup", kAclWrite | kAclStream | kAclSlow | kAclBlocking},
    {"xrevrange", kAclRead | kAclStream | kAclSlow},
    {"xsetid", kAclWrite | kAclStream | kAclFast},
    {"xtrim", kAclWrite | kAclStream | kAclSlow},
};

// Keel's subcommands that Redis 7.0 lacks (7.2's CLIENT SETINFO): they follow their container
// and categories, but no rule names them and descriptions leave them out, as Redis 7.0 would.
bool HiddenFromAcl(std::string_view name) { return EqualsIgnoreCase(name, "client|setinfo"); }

// Every command and subcommand (the table's, then Redis's others), with a dense id for the
// permission bitmaps.
struct CommandIds {
  std::vector<const CommandMeta*> all;  // each container before its subcommands
  std::vector<const CommandMeta*> top;  // top-level commands, table order
  std::unordered_map<const CommandMeta*, size_t> id;
  std::unordered_map<const CommandMeta*, std::vector<const CommandMeta*>> subs;
  std::map<std::string, const CommandMeta*, std::less<>> extra_by_name;
  std::deque<CommandMeta> extra;  // storage of kRedisOnlyCommands' metadata
  // Per category bit: the ids of its commands and subcommands, in `all` order.
  std::vector<std::vector<size_t>> in_category;
  // Per id: its subcommands' ids, and whether ACL rules can name it.
  std::vector<std::vector<size_t>> sub_ids;
  std::vector<bool> named;

  CommandIds() {
    for (const CommandMeta& m : AllCommandMeta()) {
      top.push_back(&m);
      for (const CommandMeta& sub : m.subcommands) subs[&m].push_back(&sub);
    }
    for (const AclOnlyCommand& c : kRedisOnlyCommands) {
      if (FindCommandMeta(c.name) != nullptr) continue;
      CommandMeta& m = extra.emplace_back();
      m.name = c.name;
      m.acl = c.acl;
      extra_by_name.emplace(std::string(c.name), &m);
      size_t bar = c.name.find('|');
      if (bar == std::string_view::npos) {
        top.push_back(&m);
        continue;
      }
      const CommandMeta* parent = Find(c.name.substr(0, bar));
      if (parent != nullptr) subs[parent].push_back(&m);
    }
    for (const CommandMeta* m : top) {
      id[m] = all.size();
      all.push_back(m);
      for (const CommandMeta* sub : Subs(*m)) {
        id[sub] = all.size();
        all.push_back(sub);
      }
    }
    in_category.resize(std::size(kCategories));
    for (size_t bit = 0; bit < std::size(kCategories); ++bit) {
      for (size_t i = 0; i < all.size(); ++i) {
        if (all[i]->acl & (1u << bit)) in_category[bit].push_back(i);
      }
    }
    sub_ids.resize(all.size());
    named.resize(all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      for (const CommandMeta* sub : Subs(*all[i])) sub_ids[i].push_back(id.at(sub));
      named[i] = !HiddenFromAcl(all[i]->name);
    }
  }
  const std::vector<const CommandMeta*>& Subs(const CommandMeta& m) const {
    static const std::vector<const CommandMeta*> kNone;
    auto it = subs.find(&m);
    return it == subs.end() ? kNone : it->second;
  }
  // A command or "container|subcommand" by name, as ACL rules name them.
  const CommandMeta* Find(std::string_view name) const {
    if (HiddenFromAcl(name)) return nullptr;
    if (const CommandMeta* m = FindCommandMeta(name)) return m;
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = extra_by_name.find(lower);
    return it == extra_by_name.end() ? nullptr : it->second;
  }
  const CommandMeta* FindSub(const CommandMeta& parent, std::string_view sub) const {
    return Find(std::string(parent.name) + "|" + std::string(sub));
  }
};

const CommandIds& Ids() {
  static const CommandIds ids;
  return ids;
}

int CategoryBit(std::string_view name) {
  for (size_t i = 0; i < std::size(kCategories); ++i) {
    if (EqualsIgnoreCase(kCategories[i], name)) return static_cast<int>(i);
  }
  return -1;
}

// ---- Users ----

constexpr uint8_t kKeyRead = 1, kKeyWrite = 2;

struct KeyPattern {
  uint8_t flags;  // kKeyRead | kKeyWrite
  std::string pattern;
};

// What a user may run and touch: its root permissions, or one `(...)` selector of Redis 7.0. A
// command is allowed when the root or any selector allows it with all its keys and channels.
struct Selector {
  bool future = false;         // the last +@all / -@all was +@all (describes as "+@all ...")
  std::vector<bool> commands;  // by CommandIds id
  // `+cmd|arg` of a command without subcommands: the first arguments allowed while the command
  // itself is not, as written (the first spelling of each, compared without case).
  std::map<size_t, std::vector<std::string>> first_args;
  std::vector<KeyPattern> keys;
  bool all_keys = false;
  std::vector<std::string> channels;
  bool all_channels = false;

  Selector() : commands(Ids().all.size(), false) {}

  bool AllCommands() const {
    return std::all_of(commands.begin(), commands.end(), [](bool b) { return b; });
  }
};

struct User {
  std::string name;
  bool on = false;
  bool nopass = false;
  int sanitize = 0;  // 1: sanitize-payload, -1: skip-sanitize-payload, 0: neither flag
  std::vector<std::string> passwords;  // hex SHA-256, in the order added
  Selector root;
  std::vector<Selector> selectors;  // in the order added

  bool Unrestricted() const { return root.AllCommands() && root.all_keys && root.all_channels; }
};

// acl-pubsub-default and acllog-max-len (AclUseConfig); Redis's defaults until then.
std::atomic<const std::atomic<int64_t>*> pubsub_default_cell{nullptr};
std::atomic<const std::atomic<int64_t>*> log_max_len_cell{nullptr};

// Whether new users and selectors start with allchannels (acl-pubsub-default).
bool PubsubDefaultAll() {
  const std::atomic<int64_t>* c = pubsub_default_cell.load(std::memory_order_acquire);
  return c != nullptr && c->load(std::memory_order_relaxed) == 0;
}

size_t LogMaxLen() {
  const std::atomic<int64_t>* c = log_max_len_cell.load(std::memory_order_acquire);
  return c == nullptr ? 128 : static_cast<size_t>(std::max<int64_t>(0, c->load()));
}

// Allows or denies one command (a container with its subcommands) and forgets its first
// arguments, as every change of a command's bit does.
void ChangePerm(Selector* s, size_t id, bool allow) {
  s->commands[id] = allow;
  s->first_args.erase(id);
  for (size_t sub : Ids().sub_ids[id]) s->commands[sub] = allow;
}
void ChangePerm(Selector* s, const CommandMeta& m, bool allow) {
  ChangePerm(s, Ids().id.at(&m), allow);
}

// Every command of the category (a container with all its subcommands), then the category's
// subcommands of the other containers.
void SetCategory(Selector* s, int bit, bool allow) {
  for (size_t id : Ids().in_category[static_cast<size_t>(bit)]) ChangePerm(s, id, allow);
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

constexpr std::string_view kUnknownRule = "Unknown command or category name in ACL";
constexpr std::string_view kSyntaxError = "Syntax error";

// A `+name` / `+name|sub` / `+name|arg` / `-name` / `-name|sub` rule.
std::string ApplyCommandRule(Selector* s, std::string_view rule) {
  bool allow = rule[0] == '+';
  std::string_view what = rule.substr(1);
  size_t bar = what.rfind('|');
  if (!allow || bar == std::string_view::npos) {
    // Denials name a command or a subcommand ("-select|0" is no command at all).
    const CommandIds& ids = Ids();
    const CommandMeta* m = ids.Find(what.substr(0, what.find('|')));
    if (m != nullptr && what.find('|') != std::string_view::npos) {
      size_t first = what.find('|');
      m = ids.Subs(*m).empty() || what.find('|', first + 1) != std::string_view::npos
              ? nullptr
              : ids.FindSub(*m, what.substr(first + 1));
    }
    if (m == nullptr) return std::string(kUnknownRule);
    ChangePerm(s, *m, allow);
    return "";
  }
  std::string_view name = what.substr(0, bar), arg = what.substr(bar + 1);
  const CommandMeta* m = nullptr;
  size_t inner = name.find('|');
  if (inner == std::string_view::npos) {
    m = Ids().Find(name);
  } else if (const CommandMeta* parent = Ids().Find(name.substr(0, inner))) {
    if (name.find('|', inner + 1) == std::string_view::npos && !Ids().Subs(*parent).empty()) {
      m = Ids().FindSub(*parent, name.substr(inner + 1));
    }
    if (m != nullptr) return "Allowing first-arg of a subcommand is not supported";
  }
  if (m == nullptr) return std::string(kUnknownRule);
  if (arg.empty()) return std::string(kSyntaxError);
  // Keel refuses what Redis 7.0 accepts: a first argument with white space is listed as is and
  // would be split apart by ACL LOAD (which splits on spaces and trims tabs and line ends).
  if (HasSpace(arg)) return std::string(kSyntaxError);
  if (!Ids().Subs(*m).empty()) {
    const CommandMeta* sub = Ids().FindSub(*m, arg);
    if (sub == nullptr) return std::string(kUnknownRule);
    ChangePerm(s, *sub, true);
    return "";
  }
  KEEL_LOG_WARNING(
      "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of "
      "ACL and may get disabled in the future (offender: {})",
      rule);
  size_t id = Ids().id.at(m);
  // A command already allowed whole takes every first argument: nothing to remember (a later
  // denial of it would drop the list anyway), so the user reads and loads back the same.
  if (s->commands[id]) return "";
  std::vector<std::string>& args = s->first_args[id];
  auto same = [&](const std::string& a) { return EqualsIgnoreCase(a, arg); };
  if (std::none_of(args.begin(), args.end(), same)) args.emplace_back(arg);
  return "";
}

// Applies one rule that a selector holds (commands, keys, channels). Returns "" or Redis's
// reason; `*known` is false when the rule is none of those.
std::string ApplySelectorRule(Selector* s, std::string_view rule, bool* known) {
  *known = true;
  if (EqualsIgnoreCase(rule, "allkeys") || EqualsIgnoreCase(rule, "~*")) {
    s->all_keys = true;
    s->keys.clear();
  } else if (EqualsIgnoreCase(rule, "resetkeys")) {
    s->all_keys = false;
    s->keys.clear();
  } else if (EqualsIgnoreCase(rule, "allchannels") || EqualsIgnoreCase(rule, "&*")) {
    s->all_channels = true;
    s->channels.clear();
  } else if (EqualsIgnoreCase(rule, "resetchannels")) {
    s->all_channels = false;
    s->channels.clear();
  } else if (EqualsIgnoreCase(rule, "allcommands") || EqualsIgnoreCase(rule, "+@all")) {
    s->future = true;
    s->commands.assign(s->commands.size(), true);
    s->first_args.clear();
  } else if (EqualsIgnoreCase(rule, "nocommands") || EqualsIgnoreCase(rule, "-@all")) {
    s->future = false;
    s->commands.assign(s->commands.size(), false);
    s->first_args.clear();
  } else if (rule[0] == '~' || rule[0] == '%') {
    if (s->all_keys) {
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
             "does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    }
    uint8_t flags = kKeyRead | kKeyWrite;
    size_t start = 1;
    if (rule[0] == '%') {
      flags = 0;
      for (; start < rule.size(); ++start) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(rule[start])));
        if (c == 'R' && !(flags & kKeyRead)) {
          flags |= kKeyRead;
        } else if (c == 'W' && !(flags & kKeyWrite)) {
          flags |= kKeyWrite;
        } else if (c == '~') {
          ++start;
          break;
        } else {
          return std::string(kSyntaxError);
        }
      }
      if (flags == 0) return std::string(kSyntaxError);
    }
    std::string_view pattern = rule.substr(std::min(start, rule.size()));
    if (HasSpace(pattern)) return std::string(kSyntaxError);
    auto same = [&](const KeyPattern& k) { return k.pattern == pattern; };
    auto it = std::find_if(s->keys.begin(), s->keys.end(), same);
    if (it != s->keys.end()) {
      it->flags |= flags;
    } else {
      s->keys.push_back({flags, std::string(pattern)});
    }
  } else if (rule[0] == '&') {
    if (s->all_channels) {
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    }
    std::string_view pattern = rule.substr(1);
    if (HasSpace(pattern)) return std::string(kSyntaxError);
    if (std::find(s->channels.begin(), s->channels.end(), pattern) == s->channels.end()) {
      s->channels.emplace_back(pattern);
    }
  } else if ((rule[0] == '+' || rule[0] == '-') && rule.size() > 1 && rule[1] == '@') {
    int bit = CategoryBit(rule.substr(2));
    if (bit < 0) return std::string(kUnknownRule);
    SetCategory(s, bit, rule[0] == '+');
  } else if (rule[0] == '+' || rule[0] == '-') {
    return ApplyCommandRule(s, rule);
  } else {
    *known = false;
  }
  return "";
}

// A new selector: no commands, keys or channels (allchannels under acl-pubsub-default
// allchannels).
Selector NewSelector() {
  Selector s;
  s.all_channels = PubsubDefaultAll();
  return s;
}

// `(rule rule ...)`: a new selector from the rules inside, split as redis-cli splits (quotes
// that do not balance leave it empty, as in Redis).
std::string ParseSelector(std::string_view text, Selector* out) {
  *out = NewSelector();
  std::string inner(text.substr(1, text.size() - 2));
  std::vector<std::string_view> rules;
  if (!SplitArgsInPlace(inner.data(), inner.size(), &rules)) return "";
  for (std::string_view r : rules) {
    bool known = true;
    std::string err = ApplySelectorRule(out, r, &known);
    if (!known) return std::string(kSyntaxError);
    if (!err.empty()) return err;
    // Keel refuses what Redis 7.0 accepts here, items the selector's listing could not give
    // back: a key or channel pattern ending with ')' is listed as `(... &c) ...)`, which ACL
    // LOAD and aclfile read as a selector closing early; a quote (left by the quoting of the
    // rules, `(~'a"b')`) is listed bare and the listed selector's rules no longer split. (An
    // item starting with '(' is refused by both.)
    if (((r[0] == '~' || r[0] == '%' || r[0] == '&') && r.back() == ')') ||
        r.find_first_of("\"'") != std::string_view::npos) {
      return std::string(kSyntaxError);
    }
  }
  return "";
}

// Applies one ACL SETUSER rule. Returns "" or Redis's reason.
std::string ApplyRule(User* u, std::string_view rule) {
  const std::string_view hash_error =
      "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
      "characters";
  if (rule.empty()) return "";
  if (EqualsIgnoreCase(rule, "on")) {
    u->on = true;
  } else if (EqualsIgnoreCase(rule, "off")) {
    u->on = false;
  } else if (EqualsIgnoreCase(rule, "nopass")) {
    u->nopass = true;
    u->passwords.clear();
  } else if (EqualsIgnoreCase(rule, "sanitize-payload")) {
    u->sanitize = 1;
  } else if (EqualsIgnoreCase(rule, "skip-sanitize-payload")) {
    u->sanitize = -1;
  } else if (EqualsIgnoreCase(rule, "resetpass")) {
    u->nopass = false;
    u->passwords.clear();
  } else if (EqualsIgnoreCase(rule, "clearselectors")) {
    u->selectors.clear();
  } else if (EqualsIgnoreCase(rule, "reset")) {
    for (std::string_view r : {"resetpass", "resetkeys", "resetchannels"}) ApplyRule(u, r);
    if (PubsubDefaultAll()) ApplyRule(u, "allchannels");
    for (std::string_view r : {"off", "sanitize-payload", "clearselectors", "-@all"}) {
      ApplyRule(u, r);
    }
  } else if (rule[0] == '>' || rule[0] == '#') {
    std::string hash = rule[0] == '>' ? Sha256Hex(rule.substr(1)) : std::string(rule.substr(1));
    if (rule[0] == '#' && !IsLowerHex64(hash)) return std::string(hash_error);
    if (std::find(u->passwords.begin(), u->passwords.end(), hash) == u->passwords.end()) {
      u->passwords.push_back(hash);
    }
    u->nopass = false;
  } else if (rule[0] == '<' || rule[0] == '!') {
    std::string hash = rule[0] == '<' ? Sha256Hex(rule.substr(1)) : std::string(rule.substr(1));
    if (rule[0] == '!' && !IsLowerHex64(hash)) return std::string(hash_error);
    auto it = std::find(u->passwords.begin(), u->passwords.end(), hash);
    if (it == u->passwords.end()) {
      return "The password you are trying to remove from the user does not exist";
    }
    u->passwords.erase(it);
  } else if (rule[0] == '(' && rule.back() == ')') {
    Selector s;
    if (std::string err = ParseSelector(rule, &s); !err.empty()) return err;
    u->selectors.push_back(std::move(s));
  } else {
    bool known = true;
    std::string err = ApplySelectorRule(&u->root, rule, &known);
    if (!known) return std::string(kSyntaxError);
    return err;
  }
  return "";
}

// Joins `(` ... `)` arguments split by the client's quoting into one selector rule each, as
// Redis does for ACL SETUSER and the ACL file. Returns false (and *open the argument that
// started it) when a `(` is never closed.
bool MergeSelectorArgs(std::span<const std::string_view> args, std::vector<std::string>* out,
                       std::string* open) {
  std::string selector;
  bool in_selector = false;
  for (std::string_view a : args) {
    if (!a.empty() && a[0] == '(' && a.back() != ')') {
      selector.assign(a);
      *open = std::string(a);
      in_selector = true;
      continue;
    }
    if (in_selector) {
      selector += ' ';
      selector += a;
      if (!a.empty() && a.back() == ')') {
        out->push_back(std::move(selector));
        in_selector = false;
      }
      continue;
    }
    out->emplace_back(a);
  }
  return !in_selector;
}

// Redis's description of a selector's command bits: "+@all" or "-@all", then categories chosen
// greedily (each round the one with the fewest commands set otherwise than the user has them,
// among those that fit more than they miss; ties go to the one that fits more, then to the
// earlier category), then single commands and first arguments for what is left. Redis lists the
// single commands in its command table's hash order, which differs from run to run; Keel
// lists them in its table order.
std::string DescribeCommands(const Selector& s) {
  const CommandIds& ids = Ids();
  constexpr size_t kBits = std::size(kCategories);
  bool additive = !s.future;
  Selector fake;
  fake.commands.assign(ids.all.size(), !additive);
  // The user's bits as the chosen categories leave them to describe, and per category how many
  // of its nameable commands are set and unset there, kept current as categories apply.
  std::vector<bool> temp = s.commands;
  std::array<size_t, kBits> on{}, off{};
  auto count = [&](size_t id, bool add) {
    if (!ids.named[id]) return;
    for (uint32_t acl = ids.all[id]->acl; acl != 0; acl &= acl - 1) {
      size_t& n = (temp[id] ? on : off)[static_cast<size_t>(std::countr_zero(acl))];
      n = add ? n + 1 : n - 1;
    }
  };
  auto set = [&](size_t id, bool v) {
    if (temp[id] == v) return;
    count(id, false);
    temp[id] = v;
    count(id, true);
  };
  for (size_t id = 0; id < ids.all.size(); ++id) count(id, true);
  std::string out = additive ? "-@all" : "+@all";
  std::array<bool, kBits> applied{};
  while (true) {
    int best = -1;
    size_t min_diff = SIZE_MAX, max_same = 0;
    for (size_t bit = 0; bit < kBits; ++bit) {
      if (applied[bit]) continue;
      size_t diff = additive ? off[bit] : on[bit], same = additive ? on[bit] : off[bit];
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(bit);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    SetCategory(&fake, best, additive);
    // As SetCategory(temp, best, !additive): each command of the category with its subcommands.
    for (size_t id : ids.in_category[static_cast<size_t>(best)]) {
      set(id, !additive);
      for (size_t sub : ids.sub_ids[id]) set(sub, !additive);
    }
    out += additive ? " +@" : " -@";
    out += kCategories[best];
    applied[static_cast<size_t>(best)] = true;
  }
  // What the categories left different, command by command in `all` order (each top-level
  // command, then its subcommands, then its first arguments).
  auto single = [&](size_t id) {
    if (!ids.named[id] || s.commands[id] == fake.commands[id]) return;
    bool v = s.commands[id];
    out += v ? " +" : " -";
    out += ids.all[id]->name;
    ChangePerm(&fake, id, v);
  };
  for (size_t id = 0; id < ids.all.size(); id += 1 + ids.sub_ids[id].size()) {
    single(id);
    for (size_t sub : ids.sub_ids[id]) single(sub);
    auto fa = s.first_args.find(id);
    if (!s.commands[id] && fa != s.first_args.end()) {
      for (const std::string& a : fa->second)
        out += " +" + std::string(ids.all[id]->name) + "|" + a;
    }
  }
  return out;
}

// A user as ACL SETUSER creates it: off, no password, no permissions (allchannels under
// acl-pubsub-default allchannels).
User NewUser(std::string name) {
  User u;
  u.name = std::move(name);
  u.root.all_channels = PubsubDefaultAll();
  return u;
}

std::string DescribeKeys(const Selector& s) {
  if (s.all_keys) return "~*";
  std::string out;
  for (const KeyPattern& k : s.keys) {
    if (!out.empty()) out += ' ';
    if (k.flags == kKeyRead) {
      out += "%R~";
    } else if (k.flags == kKeyWrite) {
      out += "%W~";
    } else {
      out += "~";
    }
    out += k.pattern;
  }
  return out;
}

std::string DescribeChannels(const Selector& s) {
  if (s.all_channels) return "&*";
  std::string out;
  for (const std::string& c : s.channels) {
    if (!out.empty()) out += ' ';
    out += "&" + c;
  }
  return out;
}

// A selector as ACL LIST writes it: keys, channels ("resetchannels" first unless all), commands.
std::string DescribeSelector(const Selector& s) {
  std::string out = DescribeKeys(s);
  if (!out.empty()) out += ' ';
  out += s.all_channels ? "&*" : "resetchannels";
  if (!s.all_channels && !s.channels.empty()) out += " " + DescribeChannels(s);
  out += " " + DescribeCommands(s);
  return out;
}

// The ACL LIST line (without "user <name> ").
std::string DescribeUser(const User& u) {
  std::string out = u.on ? "on" : "off";
  if (u.nopass) out += " nopass";
  if (u.sanitize != 0) out += u.sanitize > 0 ? " sanitize-payload" : " skip-sanitize-payload";
  for (const std::string& p : u.passwords) out += " #" + p;
  out += " " + DescribeSelector(u.root);
  for (const Selector& s : u.selectors) out += " (" + DescribeSelector(s) + ")";
  return out;
}

// ACL LOG entries, newest first.
struct LogEntry {
  int64_t count = 1;
  std::string reason, context, object, username, client_info;
  int64_t updated_ms = 0;  // the latest occurrence: age-seconds counts from it, as in Redis
};

struct Acl {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<User>> users;  // sorted, as ACL USERS/LIST list them
  std::deque<LogEntry> log;

  Acl() {
    auto u = std::make_shared<User>();
    u->name = "default";
    for (std::string_view r : {"on", "nopass", "~*", "&*", "+@all"}) ApplyRule(u.get(), r);
    users["default"] = u;
  }
  // Called with mu held, after any change: the fast path's flag.
  void Refresh() {
    bool restricted = false;
    for (const auto& [name, u] : users) {
      // Off users count too: clients that authenticated before it was turned off remain.
      if (!u->Unrestricted()) restricted = true;
    }
    acl_internal::restricted.store(restricted, std::memory_order_relaxed);
    users_generation.fetch_add(1, std::memory_order_release);
  }
  void Log(std::string reason, std::string context, std::string object, std::string username,
           std::string info) {
    int64_t now = NowUnixMs();
    // As Redis: the 10 newest entries are candidates; a match counts one more, takes the new
    // time and client-info, and moves to the front.
    for (size_t i = 0; i < log.size() && i < 10; ++i) {
      LogEntry& e = log[i];
      if (e.reason == reason && e.context == context && e.object == object &&
          e.username == username && now - e.updated_ms < 60000) {
        LogEntry moved = std::move(e);
        ++moved.count;
        moved.updated_ms = now;
        moved.client_info = std::move(info);
        log.erase(log.begin() + static_cast<std::ptrdiff_t>(i));
        log.push_front(std::move(moved));
        return;
      }
    }
    log.push_front({1, std::move(reason), std::move(context), std::move(object),
                    std::move(username), std::move(info), now});
    // acllog-max-len trims at the next entry, as in Redis (not when it is set).
    while (log.size() > LogMaxLen()) log.pop_back();
  }
};

Acl& Users() {
  static Acl acl;
  return acl;
}

std::string UserOf(const Client& c) {
  std::lock_guard<std::mutex> lock(c.mu);
  return c.acl_user;
}

// Why a selector refuses a command, by rank: Redis reports the refusal that got furthest
// (channel over key over command; among equals, the later argument).
enum class DenyKind { kNone = 0, kCommand = 1, kKey = 2, kChannel = 4 };

struct Refusal {
  DenyKind kind = DenyKind::kNone;
  size_t pos = 0;  // the key's or channel's argument index (0 for the command)
};

bool FirstArgAllowed(const Selector& s, size_t id, std::span<const std::string_view> args) {
  if (args.size() < 2) return false;
  auto it = s.first_args.find(id);
  if (it == s.first_args.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& a) { return EqualsIgnoreCase(a, args[1]); });
}

Refusal CheckSelector(const Selector& s, const CommandMeta& meta,
                      std::span<const std::string_view> args) {
  size_t id = Ids().id.at(&meta);
  if (!s.commands[id] && !FirstArgAllowed(s, id, args)) return {DenyKind::kCommand, 0};
  if (!s.all_keys && CommandHasKeys(meta)) {
    std::vector<KeyRef> keys;
    GetKeysWithFlags(meta, args, &keys);
    for (const KeyRef& k : keys) {
      uint8_t need = 0;
      if (k.flags & kKeyAccess) need |= kKeyRead;
      if (k.flags & (kKeyInsert | kKeyDelete | kKeyUpdate)) need |= kKeyWrite;
      std::string_view key = args[static_cast<size_t>(k.pos)];
      bool ok = std::any_of(s.keys.begin(), s.keys.end(), [&](const KeyPattern& p) {
        return (p.flags & need) == need && GlobMatch(p.pattern, key);
      });
      if (!ok) return {DenyKind::kKey, static_cast<size_t>(k.pos)};
    }
  }
  if (!s.all_channels && (meta.acl & kAclPubsub)) {
    std::string_view name = meta.name;
    size_t first = 1, last = 0;
    bool literal = false;  // PSUBSCRIBE: its patterns must be the user's, literally
    if (name == "publish" || name == "spublish") {
      last = 1;
    } else if (name == "subscribe" || name == "ssubscribe") {
      last = args.size() - 1;
    } else if (name == "psubscribe") {
      last = args.size() - 1;
      literal = true;
    }
    for (size_t i = first; i <= last && i < args.size(); ++i) {
      std::string_view ch = args[i];
      bool ok = std::any_of(s.channels.begin(), s.channels.end(), [&](const std::string& p) {
        return literal ? p == ch : GlobMatch(p, ch);
      });
      if (!ok) return {DenyKind::kChannel, i};
    }
  }
  return {};
}

// The root, then each selector: allowed when one allows; else the refusal that ranks first.
Refusal CheckUser(const User& u, const CommandMeta& meta, std::span<const std::string_view> args) {
  Refusal worst = CheckSelector(u.root, meta, args);
  if (worst.kind == DenyKind::kNone) return worst;
  for (const Selector& s : u.selectors) {
    Refusal r = CheckSelector(s, meta, args);
    if (r.kind == DenyKind::kNone) return r;
    if (r.kind > worst.kind || (r.kind == worst.kind && r.pos > worst.pos)) worst = r;
  }
  return worst;
}

// What `u` may not do with this command, as DRYRUN says it ("" when allowed); *error gets the
// NOPERM text, *reason/*object the ACL LOG fields and *kind the refusal's kind.
std::string Denial(const User& u, const CommandMeta& meta, std::span<const std::string_view> args,
                   std::string* error, std::string* reason, std::string* object,
                   DenyKind* kind = nullptr) {
  Refusal r = CheckUser(u, meta, args);
  if (kind != nullptr) *kind = r.kind;
  switch (r.kind) {
    case DenyKind::kNone:
      return "";
    case DenyKind::kCommand:
      *error =
          "NOPERM this user has no permissions to run the '" + std::string(meta.name) + "' command";
      *reason = "command";
      *object = std::string(meta.name);
      return "This user has no permissions to run the '" + std::string(meta.name) + "' command";
    case DenyKind::kKey:
      *error = "NOPERM this user has no permissions to access one of the keys used as arguments";
      *reason = "key";
      *object = std::string(args[r.pos]);
      return "This user has no permissions to access the '" + *object + "' key";
    case DenyKind::kChannel:
      *error =
          "NOPERM this user has no permissions to access one of the channels used as arguments";
      *reason = "channel";
      *object = std::string(args[r.pos]);
      return "This user has no permissions to access the '" + *object + "' channel";
  }
  return "";
}

// Closes the connections authenticated as one of `names` (a deleted user).
void KillClientsOf(ServerState& server, const std::vector<std::string>& names) {
  server.clients.ForEach([&](Client& c) {
    std::string user = UserOf(c);
    if (std::find(names.begin(), names.end(), user) == names.end()) return;
    if (auto h = c.handle.lock()) h->Kill();
  });
}

// Users as ACL LIST describes them, one "user ..." line each, sorted by name.
std::vector<std::string> DescribeAll(const Acl& acl) {
  std::vector<std::string> lines;
  for (const auto& [name, u] : acl.users) lines.push_back("user " + name + " " + DescribeUser(*u));
  return lines;
}

// One line of an ACL file, as Redis 7.0's ACL LOAD reads it: trimmed of spaces, tabs and line
// ends (the caller skips it when nothing is left), split on single spaces with no quoting (`"`
// is an ordinary byte; two spaces make an empty rule, which does nothing), the `(` ... `)`
// arguments merged into selectors, each rule trimmed of tabs and line ends. Fills *out and
// returns "", or returns the line's errors worded and joined as Redis appends them: every
// unknown command or category, and the first other error. `where` is "<path>:<line>"; `taken`
// says whether the file already declared a user of that name.
std::string ReadAclFileLine(std::string_view line, const std::string& where, int line_no,
                            const std::function<bool(const std::string&)>& taken, User* out) {
  std::vector<std::string_view> args;
  for (size_t b = 0;;) {
    size_t e = line.find(' ', b);
    args.push_back(line.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  if (args.size() < 2 || args[0] != "user") {
    return where + " should start with user keyword followed by the username. ";
  }
  std::string name(args[1]);
  if (HasSpace(name) || name.find('\0') != std::string::npos) {
    return "'" + where + ": username '" + name + "' contains invalid characters. ";
  }
  if (taken && taken(name)) {
    return "WARNING: Duplicate user '" + name + "' found on line " + std::to_string(line_no) + ". ";
  }
  *out = NewUser(name);
  std::vector<std::string> rules;
  std::string open;
  if (!MergeSelectorArgs(std::span(args).subspan(2), &rules, &open)) {
    return where + ": Unmatched parenthesis in selector definition.";
  }
  std::string errors;
  bool other_error = false;
  for (std::string& rule : rules) {
    rule = std::string(Trim(rule, "\t\r\n"));
    std::string err = ApplyRule(out, rule);
    if (err.empty()) continue;
    if (err == kUnknownRule) {
      errors += where + ": Error in applying operation '" + rule + "': " + err + ". ";
    } else if (!other_error) {
      errors += where + ": " + err + ". ";
      other_error = true;
    }
  }
  return errors;
}

// Parses an ACL file into users (all or nothing). Returns "" or Redis's error text.
std::string ParseAclFile(const std::string& path,
                         std::map<std::string, std::shared_ptr<User>>* out) {
  std::ifstream in(path);
  if (!in) return "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
  std::string errors, line;
  int line_no = 0;
  auto taken = [&](const std::string& name) { return out->count(name) != 0; };
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view trimmed = Trim(line, " \t\r\n");
    if (trimmed.empty()) continue;
    auto u = std::make_shared<User>();
    std::string err =
        ReadAclFileLine(trimmed, path + ":" + std::to_string(line_no), line_no, taken, u.get());
    if (err.empty()) {
      (*out)[u->name] = u;
    } else {
      errors += err;
    }
  }
  if (!errors.empty()) {
    return errors +
           "WARNING: ACL errors detected, no change to the previously active ACL rules was "
           "performed";
  }
  return "";
}

// Replaces every user with the file's (the default user stays as it is when the file does not
// name it) and closes the connections of users that are gone.
std::string LoadAclFile(ServerState* server, const std::string& path) {
  std::map<std::string, std::shared_ptr<User>> users;
  if (std::string err = ParseAclFile(path, &users); !err.empty()) return err;
  Acl& acl = Users();
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> lock(acl.mu);
    if (users.count("default") == 0) users["default"] = acl.users["default"];
    for (const auto& [name, u] : acl.users) {
      if (users.count(name) == 0) gone.push_back(name);
    }
    acl.users = std::move(users);
    acl.Refresh();
  }
  if (server != nullptr && !gone.empty()) KillClientsOf(*server, gone);
  return "";
}

std::string AclFileOf(ServerState& server) {
  std::vector<std::pair<std::string, std::string>> v;
  std::string_view name = "aclfile";
  server.config->Get(std::span<const std::string_view>(&name, 1), &v);
  return v.empty() ? "" : v[0].second;
}

constexpr std::string_view kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";

// ACL LOAD
void CmdAclLoad(CommandContext& ctx) {
  std::string path = AclFileOf(ctx.server);
  if (path.empty()) {
    ctx.reply.Error(kNoAclFile);
    return;
  }
  if (std::string err = LoadAclFile(&ctx.server, path); !err.empty()) {
    ctx.reply.Error("ERR " + err);
    return;
  }
  ctx.reply.Ok();
}

// ACL SAVE: the ACL LIST lines, written to a temporary file renamed over the ACL file.
void CmdAclSave(CommandContext& ctx) {
  std::string path = AclFileOf(ctx.server);
  if (path.empty()) {
    ctx.reply.Error(kNoAclFile);
    return;
  }
  std::string text;
  {
    Acl& acl = Users();
    std::lock_guard<std::mutex> lock(acl.mu);
    for (const std::string& l : DescribeAll(acl)) text += l + "\n";
  }
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  bool ok = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    ok = static_cast<bool>(out);
  }
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    std::remove(tmp.c_str());
    KEEL_LOG_WARNING("Failed to save the ACL file '{}': {}", path, std::strerror(errno));
    ctx.reply.Error(
        "ERR There was an error trying to save the ACLs. Please check the server logs for more "
        "information");
    return;
  }
  ctx.reply.Ok();
}

// ---- The ACL command ----

void ReplyUserNotFound(CommandContext& ctx, std::string_view name) {
  ctx.reply.Error("ERR User '" + std::string(name) + "' not found");
}

// ACL SETUSER username [rule ...]
void CmdAclSetUser(CommandContext& ctx) {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  std::string name(ctx.args[2]);
  auto it = acl.users.find(name);
  User u = it != acl.users.end() ? *it->second : NewUser(name);
  std::vector<std::string> rules;
  std::string open;
  if (!MergeSelectorArgs(ctx.args.subspan(3), &rules, &open)) {
    ctx.reply.Error("ERR Unmatched parenthesis in acl selector starting at '" + open + "'.");
    return;
  }
  for (const std::string& rule : rules) {
    // As Redis: an empty rule changes nothing.
    if (std::string err = ApplyRule(&u, rule); !err.empty()) {
      ctx.reply.Error("ERR Error in ACL SETUSER modifier '" + rule + "': " + err);
      return;
    }
  }
  // A changed user takes effect for its connected clients at once (they read it per command).
  if (it != acl.users.end()) {
    *it->second = u;
  } else {
    acl.users[name] = std::make_shared<User>(u);
  }
  acl.Refresh();
  ctx.reply.Ok();
}

// GETUSER's commands, keys and channels fields of one selector.
void ReplySelectorFields(CommandContext& ctx, const Selector& s) {
  ctx.reply.Bulk("commands");
  ctx.reply.Bulk(DescribeCommands(s));
  ctx.reply.Bulk("keys");
  ctx.reply.Bulk(DescribeKeys(s));
  ctx.reply.Bulk("channels");
  ctx.reply.Bulk(DescribeChannels(s));
}

// ACL GETUSER username
void CmdAclGetUser(CommandContext& ctx) {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  auto it = acl.users.find(std::string(ctx.args[2]));
  if (it == acl.users.end()) {
    ctx.reply.NullBulk();
    return;
  }
  const User& u = *it->second;
  ctx.reply.MapHeader(6);
  ctx.reply.Bulk("flags");
  std::vector<std::string_view> flags = {u.on ? "on" : "off"};
  if (u.nopass) flags.push_back("nopass");
  if (u.sanitize != 0)
    flags.push_back(u.sanitize > 0 ? "sanitize-payload" : "skip-sanitize-payload");
  ctx.reply.SetHeader(flags.size());
  for (std::string_view f : flags) ctx.reply.Bulk(f);
  ctx.reply.Bulk("passwords");
  ctx.reply.ArrayHeader(u.passwords.size());
  for (const std::string& p : u.passwords) ctx.reply.Bulk(p);
  ReplySelectorFields(ctx, u.root);
  ctx.reply.Bulk("selectors");
  ctx.reply.ArrayHeader(u.selectors.size());
  for (const Selector& s : u.selectors) {
    ctx.reply.MapHeader(3);
    ReplySelectorFields(ctx, s);
  }
}

// ACL DELUSER username [username ...]
void CmdAclDelUser(CommandContext& ctx) {
  Acl& acl = Users();
  std::vector<std::string> deleted;
  {
    std::lock_guard<std::mutex> lock(acl.mu);
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      if (ctx.args[i] == "default") {
        ctx.reply.Error("ERR The 'default' user cannot be removed");
        return;
      }
    }
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      if (acl.users.erase(std::string(ctx.args[i])) != 0) deleted.emplace_back(ctx.args[i]);
    }
    acl.Refresh();
  }
  ctx.reply.Integer(static_cast<int64_t>(deleted.size()));
  if (!deleted.empty()) KillClientsOf(ctx.server, deleted);
}

// ACL LIST
void CmdAclList(CommandContext& ctx) {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  std::vector<std::string> lines = DescribeAll(acl);
  ctx.reply.ArrayHeader(lines.size());
  for (const std::string& l : lines) ctx.reply.Bulk(l);
}

// ACL USERS
void CmdAclUsers(CommandContext& ctx) {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  ctx.reply.ArrayHeader(acl.users.size());
  for (const auto& [name, u] : acl.users) ctx.reply.Bulk(name);
}

// ACL WHOAMI
void CmdAclWhoami(CommandContext& ctx) { ctx.reply.Bulk(UserOf(ctx.client)); }

// ACL CAT [category]
void CmdAclCat(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    ctx.reply.ArrayHeader(std::size(kCategories));
    for (std::string_view c : kCategories) ctx.reply.Bulk(c);
    return;
  }
  int bit = CategoryBit(ctx.args[2]);
  if (bit < 0) {
    ctx.reply.Error("ERR Unknown category '" + std::string(ctx.args[2]) + "'");
    return;
  }
  // Top-level commands of the category that Keel serves (Redis lists no subcommands here).
  std::vector<std::string_view> names;
  const CommandRegistry& reg = GlobalCommandRegistry();
  for (const CommandMeta& m : AllCommandMeta()) {
    if (!(m.acl & (1u << bit))) continue;
    if (reg.Find(&m) == nullptr && !reg.HasRegisteredSubcommands(&m)) continue;
    if (CommandDisabled(m)) continue;
    names.push_back(m.name);
  }
  ctx.reply.ArrayHeader(names.size());
  for (std::string_view n : names) ctx.reply.Bulk(n);
}

// ACL GENPASS [bits]
void CmdAclGenPass(CommandContext& ctx) {
  int64_t bits = 256;
  if (ctx.args.size() == 3) {
    auto v = ParseInt64(ctx.args[2]);
    if (!v) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    if (*v <= 0 || *v > 4096) {
      ctx.reply.Error(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a "
          "positive number up to 4096");
      return;
    }
    bits = *v;
  }
  size_t chars = static_cast<size_t>((bits + 3) / 4);
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  while (out.size() < chars) {
    uint32_t r = rd();
    for (int i = 0; i < 8 && out.size() < chars; ++i, r >>= 4) out.push_back(kHex[r & 0xf]);
  }
  ctx.reply.Bulk(out);
}

// ACL DRYRUN username command [arg ...]
void CmdAclDryRun(CommandContext& ctx) {
  std::shared_ptr<User> u;
  {
    Acl& acl = Users();
    std::lock_guard<std::mutex> lock(acl.mu);
    auto it = acl.users.find(std::string(ctx.args[2]));
    if (it == acl.users.end()) {
      ReplyUserNotFound(ctx, ctx.args[2]);
      return;
    }
    u = std::make_shared<User>(*it->second);
  }
  std::span<const std::string_view> cmd = ctx.args.subspan(3);
  const CommandMeta* m = LookupCommand(cmd[0]);
  if (m != nullptr && !m->subcommands.empty() && cmd.size() >= 2) {
    m = FindSubcommandMeta(*m, cmd[1]);
  }
  if (m == nullptr) {
    ctx.reply.Error("ERR Command '" + std::string(cmd[0]) + "' not found");
    return;
  }
  if ((m->arity > 0 && static_cast<int>(cmd.size()) != m->arity) ||
      static_cast<int>(cmd.size()) < -m->arity) {
    ctx.reply.Error(errors::WrongArity(m->name));
    return;
  }
  std::string error, reason, object;
  std::string denial = Denial(*u, *m, cmd, &error, &reason, &object);
  if (denial.empty()) {
    ctx.reply.Ok();
  } else {
    ctx.reply.Bulk(denial);
  }
}

// ACL LOG [count | RESET]
void CmdAclLog(CommandContext& ctx) {
  Acl& acl = Users();
  int64_t count = 10;
  if (ctx.args.size() == 3) {
    if (EqualsIgnoreCase(ctx.args[2], "reset")) {
      std::lock_guard<std::mutex> lock(acl.mu);
      acl.log.clear();
      ctx.reply.Ok();
      return;
    }
    auto v = ParseInt64(ctx.args[2]);
    if (!v) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    count = std::max<int64_t>(*v, 0);
  }
  std::lock_guard<std::mutex> lock(acl.mu);
  size_t n = std::min(acl.log.size(), static_cast<size_t>(count));
  int64_t now = NowUnixMs();
  ctx.reply.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) {
    const LogEntry& e = acl.log[i];
    ctx.reply.MapHeader(7);
    ctx.reply.Bulk("count");
    ctx.reply.Integer(e.count);
    ctx.reply.Bulk("reason");
    ctx.reply.Bulk(e.reason);
    ctx.reply.Bulk("context");
    ctx.reply.Bulk(e.context);
    ctx.reply.Bulk("object");
    ctx.reply.Bulk(e.object);
    ctx.reply.Bulk("username");
    ctx.reply.Bulk(e.username);
    ctx.reply.Bulk("age-seconds");
    ctx.reply.Double(static_cast<double>(now - e.updated_ms) / 1000.0);
    ctx.reply.Bulk("client-info");
    ctx.reply.Bulk(e.client_info);
  }
}

// ACL HELP
void CmdAclHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

namespace {
std::vector<std::vector<std::string>>& ConfigUsers() {
  static std::vector<std::vector<std::string>> lines;
  return lines;
}
}  // namespace

std::string AclConfigUser(std::span<const std::string_view> args) {
  ConfigUsers().emplace_back(args.begin(), args.end());
  return "";
}

std::string AclLoadAtStartup(const std::string& aclfile) {
  Acl& acl = Users();
  for (const std::vector<std::string>& line : ConfigUsers()) {
    std::lock_guard<std::mutex> lock(acl.mu);
    auto u = std::make_shared<User>(NewUser(line[0]));
    std::vector<std::string_view> args(line.begin() + 1, line.end());
    std::vector<std::string> rules;
    std::string open;
    if (!MergeSelectorArgs(args, &rules, &open)) {
      return "Unmatched parenthesis in acl selector starting at '" + open +
             "'.\nCritical error while loading ACLs. Exiting.";
    }
    for (const std::string& rule : rules) {
      if (std::string err = ApplyRule(u.get(), rule); !err.empty()) {
        return "Error loading ACL rule '" + rule + "' for the user named '" + line[0] +
               "': " + err + "\nCritical error while loading ACLs. Exiting.";
      }
    }
    acl.users[line[0]] = u;
    acl.Refresh();
  }
  if (!aclfile.empty()) {
    if (std::string err = LoadAclFile(nullptr, aclfile); !err.empty()) {
      return "Aborting Redis startup because of ACL errors: " + err;
    }
  }
  return "";
}

void AclSetRequirePass(std::string_view pass) {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  User& u = *acl.users["default"];
  ApplyRule(&u, "resetpass");
  if (pass.empty()) {
    ApplyRule(&u, "nopass");
  } else {
    ApplyRule(&u, ">" + std::string(pass));
  }
  acl.Refresh();
}

bool AclDefaultUserNoPass() {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  const User& u = *acl.users["default"];
  return u.on && u.nopass;
}

bool AclDefaultUserHasNopassFlag() {
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  return acl.users["default"]->nopass;
}

bool AclAuthenticate(ServerState& server, Client& client, std::string_view user,
                     std::string_view pass, std::string_view object) {
  Acl& acl = Users();
  {
    std::lock_guard<std::mutex> lock(acl.mu);
    auto it = acl.users.find(std::string(user));
    if (it != acl.users.end() && it->second->on) {
      const User& u = *it->second;
      bool ok = u.nopass || std::find(u.passwords.begin(), u.passwords.end(), Sha256Hex(pass)) !=
                                u.passwords.end();
      if (ok) {
        std::lock_guard<std::mutex> client_lock(client.mu);
        client.acl_user.assign(user);
        client.acl_unrestricted_gen = 0;
        return true;
      }
    }
  }
  std::string info = ClientInfoLine(server, client);
  std::lock_guard<std::mutex> lock(acl.mu);
  acl.Log("auth", "toplevel", std::string(object), std::string(user), std::move(info));
  return false;
}

namespace {

// Checks the client's user: kNone (allowed) or the refusal, with its texts. A client whose user
// was unrestricted when nothing has changed since needs no lookup.
DenyKind CheckClient(Client& client, const CommandMeta& meta,
                     std::span<const std::string_view> args, std::string* name, std::string* error,
                     std::string* reason, std::string* object) {
  uint64_t gen = users_generation.load(std::memory_order_acquire);
  if (client.acl_unrestricted_gen == gen) return DenyKind::kNone;
  *name = UserOf(client);
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  auto it = acl.users.find(*name);
  if (it == acl.users.end()) return DenyKind::kNone;  // its connections close as it is deleted
  if (it->second->Unrestricted()) {
    client.acl_unrestricted_gen = gen;
    return DenyKind::kNone;
  }
  DenyKind kind = DenyKind::kNone;
  Denial(*it->second, meta, args, error, reason, object, &kind);
  return kind;
}

void LogDenial(ServerState& server, Client& client, std::string reason, std::string_view context,
               std::string object, std::string name) {
  std::string info = ClientInfoLine(server, client);
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  acl.Log(std::move(reason), std::string(context), std::move(object), std::move(name),
          std::move(info));
}

}  // namespace

bool AclSkipsSanitizePayload(const Client& client) {
  std::string name = UserOf(client);
  Acl& acl = Users();
  std::lock_guard<std::mutex> lock(acl.mu);
  auto it = acl.users.find(name);
  return it != acl.users.end() && it->second->sanitize < 0;
}

std::string AclCheckCommand(ServerState& server, Client& client, const CommandMeta& meta,
                            std::span<const std::string_view> args) {
  std::string name, error, reason, object;
  DenyKind kind = CheckClient(client, meta, args, &name, &error, &reason, &object);
  if (kind == DenyKind::kNone) return "";
  if (client.in_exec) {
    // EXEC checks its queued commands again: the user may have changed since they were queued.
    // client-info names EXEC, as in Redis (not the queued command that ran before).
    static const std::string_view kExec = MetaName(*FindCommandMeta("exec"));
    client.last_cmd_len.store(kExec.size(), std::memory_order_relaxed);
    client.last_cmd.store(kExec.data(), std::memory_order_release);
    LogDenial(server, client, reason, "multi", object, name);
    std::string_view why =
        kind == DenyKind::kCommand ? "no permission to execute the command or subcommand"
        : kind == DenyKind::kKey   ? "no permission to touch the specified keys"
                                 : "no permission to access one of the channels used as arguments";
    return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
           "EXEC call. This command is no longer allowed for the following reason: " +
           std::string(why);
  }
  // As Redis: the denied command is the client's last command (CLIENT LIST, client-info).
  client.last_cmd_len.store(meta.name.size(), std::memory_order_relaxed);
  client.last_cmd.store(meta.name.data(), std::memory_order_release);
  LogDenial(server, client, reason, client.in_multi ? "multi" : "toplevel", object, name);
  return error;
}

std::string AclCheckScriptCommand(ServerState& server, Client& caller, const CommandMeta& meta,
                                  std::span<const std::string_view> args) {
  std::string name, error, reason, object;
  DenyKind kind = CheckClient(caller, meta, args, &name, &error, &reason, &object);
  if (kind == DenyKind::kNone) return "";
  LogDenial(server, caller, reason, "lua", object, name);
  return kind == DenyKind::kCommand
             ? "ERR The user executing the script can't run this command or subcommand"
         : kind == DenyKind::kKey
             ? "ERR The user executing the script can't access at least one of the keys "
               "mentioned in the command arguments"
             : "ERR The user executing the script can't publish to the channel mentioned in the "
               "command";
}

bool AclAllows(Client& client, const CommandMeta& meta, std::span<const std::string_view> args) {
  if (!AclRestricted()) return true;
  std::string name, error, reason, object;
  return CheckClient(client, meta, args, &name, &error, &reason, &object) == DenyKind::kNone;
}

namespace {

bool SameSelector(const Selector& a, const Selector& b) {
  const CommandIds& ids = Ids();
  for (size_t i = 0; i < ids.all.size(); ++i) {
    if (a.commands[i] != b.commands[i] && !HiddenFromAcl(ids.all[i]->name)) return false;
  }
  if (a.future != b.future || a.first_args.size() != b.first_args.size() ||
      a.all_keys != b.all_keys || a.channels != b.channels || a.all_channels != b.all_channels ||
      a.keys.size() != b.keys.size()) {
    return false;
  }
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (a.keys[i].flags != b.keys[i].flags || a.keys[i].pattern != b.keys[i].pattern) return false;
  }
  for (const auto& [id, args] : a.first_args) {
    auto it = b.first_args.find(id);
    if (it == b.first_args.end() || it->second != args) return false;
  }
  return true;
}

// One ACL file line into a user (the line trimmed as ACL LOAD trims it); "" or the errors,
// placed at "line:1".
std::string ParseUserLine(std::string_view line, User* out) {
  std::string_view trimmed = Trim(line, " \t\r\n");
  if (trimmed.empty()) return "empty line";
  return ReadAclFileLine(trimmed, "line:1", 1, nullptr, out);
}

}  // namespace

std::string AclParseFileLine(std::string_view line, std::string* description, bool* round_trip_ok) {
  User u;
  if (std::string err = ParseUserLine(line, &u); !err.empty()) return err;
  *description = DescribeUser(u);
  // What ACL SAVE writes must load back as the same user (Redis checks the commands part as it
  // describes them, and stops the server when they differ).
  User again;
  *round_trip_ok = ParseUserLine("user x " + *description, &again).empty() &&
                   DescribeUser(again) == *description && SameSelector(u.root, again.root) &&
                   u.selectors.size() == again.selectors.size() && u.on == again.on &&
                   u.nopass == again.nopass && u.sanitize == again.sanitize &&
                   u.passwords == again.passwords;
  for (size_t i = 0; *round_trip_ok && i < u.selectors.size(); ++i) {
    *round_trip_ok = SameSelector(u.selectors[i], again.selectors[i]);
  }
  return "";
}

void AclUseConfig(const Config& config) {
  pubsub_default_cell.store(config.IntOptionCell("acl-pubsub-default"), std::memory_order_release);
  log_max_len_cell.store(config.IntOptionCell("acllog-max-len"), std::memory_order_release);
}

void RegisterAclFamily(CommandRegistry* r) {
  r->Register("acl|setuser", CmdAclSetUser, LockMode::kNone);
  r->Register("acl|getuser", CmdAclGetUser, LockMode::kNone);
  r->Register("acl|deluser", CmdAclDelUser, LockMode::kNone);
  r->Register("acl|list", CmdAclList, LockMode::kNone);
  r->Register("acl|users", CmdAclUsers, LockMode::kNone);
  r->Register("acl|whoami", CmdAclWhoami, LockMode::kNone);
  r->Register("acl|cat", CmdAclCat, LockMode::kNone);
  r->Register("acl|genpass", CmdAclGenPass, LockMode::kNone);
  r->Register("acl|dryrun", CmdAclDryRun, LockMode::kNone);
  r->Register("acl|log", CmdAclLog, LockMode::kNone);
  r->Register("acl|help", CmdAclHelp, LockMode::kNone);
  r->Register("acl|load", CmdAclLoad, LockMode::kNone);
  r->Register("acl|save", CmdAclSave, LockMode::kNone);
}

}  // namespace keel
