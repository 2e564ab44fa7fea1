// ACL: users, permissions and the ACL command (Redis 7.0). See keel/commands/acl.h.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "keel/commands/acl.h"
#include "keel/commands/command_meta_table.h"
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

// Every command and subcommand of the table, with a dense id for the permission bitmaps.
struct CommandIds {
  std::vector<const CommandMeta*> all;  // in table order, each container before its subcommands
  std::unordered_map<const CommandMeta*, size_t> id;
  CommandIds() {
    for (const CommandMeta& m : AllCommandMeta()) {
      id[&m] = all.size();
      all.push_back(&m);
      for (const CommandMeta& sub : m.subcommands) {
        id[&sub] = all.size();
        all.push_back(&sub);
      }
    }
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

struct User {
  std::string name;
  bool on = false;
  bool nopass = false;
  int sanitize = 0;  // 1: sanitize-payload, -1: skip-sanitize-payload, 0: neither flag
  std::vector<std::string> passwords;  // hex SHA-256, in the order added
  bool all_commands_flag = false;      // +@all / allcommands (describes as "+@all")
  std::vector<bool> commands;          // by CommandIds id
  std::vector<KeyPattern> keys;
  bool all_keys = false;
  std::vector<std::string> channels;
  bool all_channels = false;

  User() : commands(Ids().all.size(), false) {}

  bool AllCommands() const {
    return std::all_of(commands.begin(), commands.end(), [](bool b) { return b; });
  }
  bool Unrestricted() const { return AllCommands() && all_keys && all_channels; }
};

// Sets or clears a command's bit, and its subcommands' for a container.
void SetCommand(std::vector<bool>* bits, const CommandMeta& m, bool allow) {
  const CommandIds& ids = Ids();
  (*bits)[ids.id.at(&m)] = allow;
  for (const CommandMeta& sub : m.subcommands) (*bits)[ids.id.at(&sub)] = allow;
}

void SetCategory(std::vector<bool>* bits, int bit, bool allow) {
  for (const CommandMeta* m : Ids().all) {
    if (m->acl & (1u << bit)) (*bits)[Ids().id.at(m)] = allow;
  }
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Applies one ACL SETUSER rule. Returns "" or Redis's reason.
std::string ApplyRule(User* u, std::string_view rule) {
  const std::string_view hash_error =
      "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
      "characters";
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
  } else if (EqualsIgnoreCase(rule, "allkeys") || rule == "~*") {
    u->all_keys = true;
    u->keys.clear();
  } else if (EqualsIgnoreCase(rule, "resetkeys")) {
    u->all_keys = false;
    u->keys.clear();
  } else if (EqualsIgnoreCase(rule, "allchannels") || rule == "&*") {
    u->all_channels = true;
    u->channels.clear();
  } else if (EqualsIgnoreCase(rule, "resetchannels")) {
    u->all_channels = false;
    u->channels.clear();
  } else if (EqualsIgnoreCase(rule, "allcommands") || EqualsIgnoreCase(rule, "+@all")) {
    u->all_commands_flag = true;
    u->commands.assign(u->commands.size(), true);
  } else if (EqualsIgnoreCase(rule, "nocommands") || EqualsIgnoreCase(rule, "-@all")) {
    u->all_commands_flag = false;
    u->commands.assign(u->commands.size(), false);
  } else if (EqualsIgnoreCase(rule, "reset")) {
    for (std::string_view r :
         {"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "-@all"}) {
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
  } else if (rule[0] == '~' || rule[0] == '%') {
    uint8_t flags = kKeyRead | kKeyWrite;
    std::string_view pattern = rule.substr(1);
    if (rule[0] == '%') {
      size_t tilde = rule.find('~');
      if (tilde == std::string_view::npos || tilde == 1) return "Syntax error";
      flags = 0;
      for (char c : rule.substr(1, tilde - 1)) {
        if (c == 'R' || c == 'r') {
          flags |= kKeyRead;
        } else if (c == 'W' || c == 'w') {
          flags |= kKeyWrite;
        } else {
          return "Syntax error";
        }
      }
      pattern = rule.substr(tilde + 1);
    }
    if (u->all_keys) {
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
             "does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    }
    if (pattern == "*" && flags == (kKeyRead | kKeyWrite)) {
      u->all_keys = true;
      u->keys.clear();
    } else {
      auto same = [&](const KeyPattern& k) { return k.pattern == pattern; };
      auto it = std::find_if(u->keys.begin(), u->keys.end(), same);
      if (it != u->keys.end()) {
        it->flags |= flags;
      } else {
        u->keys.push_back({flags, std::string(pattern)});
      }
    }
  } else if (rule[0] == '&') {
    if (u->all_channels) {
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    }
    std::string pattern(rule.substr(1));
    if (std::find(u->channels.begin(), u->channels.end(), pattern) == u->channels.end()) {
      u->channels.push_back(pattern);
    }
  } else if (rule[0] == '+' || rule[0] == '-') {
    bool allow = rule[0] == '+';
    std::string_view what = rule.substr(1);
    const std::string_view unknown = "Unknown command or category name in ACL";
    if (!what.empty() && what[0] == '@') {
      int bit = CategoryBit(what.substr(1));
      if (bit < 0) return std::string(unknown);
      SetCategory(&u->commands, bit, allow);
      return "";
    }
    size_t bar = what.find('|');
    const CommandMeta* m = FindCommandMeta(what.substr(0, bar));
    if (m == nullptr) return std::string(unknown);
    if (bar != std::string_view::npos) {
      if (m->subcommands.empty()) {
        return "Allowing first-arg of a subcommand is not supported";  // first-args: not built
      }
      m = FindSubcommandMeta(*m, what.substr(bar + 1));
      if (m == nullptr) return std::string(unknown);
    }
    SetCommand(&u->commands, *m, allow);
  } else {
    return "Syntax error";
  }
  return "";
}

// Redis's description of a user's command bits: "+@all" or "-@all", the categories that fit,
// then single commands (a container before its subcommands).
std::string DescribeCommands(const User& u) {
  const CommandIds& ids = Ids();
  bool additive = !u.all_commands_flag;
  std::vector<bool> fake(ids.all.size(), !additive);
  std::string out = additive ? "-@all" : "+@all";
  for (size_t bit = 0; bit < std::size(kCategories); ++bit) {
    // Redis's best fit: a category is named when most of its commands are as the rule would
    // set them. (Redis's own output differs for some mixes of overlapping categories.)
    size_t on = 0, off = 0;
    for (const CommandMeta* m : ids.all) {
      if (!(m->acl & (1u << bit))) continue;
      ++(u.commands[ids.id.at(m)] ? on : off);
    }
    if ((additive && on > off) || (!additive && off > on)) {
      out += additive ? " +@" : " -@";
      out += kCategories[bit];
      SetCategory(&fake, static_cast<int>(bit), additive);
    }
  }
  for (const CommandMeta& m : AllCommandMeta()) {
    size_t id = ids.id.at(&m);
    if (u.commands[id] != fake[id]) {
      out += u.commands[id] ? " +" : " -";
      out += m.name;
      SetCommand(&fake, m, u.commands[id]);
    }
    for (const CommandMeta& sub : m.subcommands) {
      size_t sid = ids.id.at(&sub);
      if (u.commands[sid] != fake[sid]) {
        out += u.commands[sid] ? " +" : " -";
        out += sub.name;
        fake[sid] = u.commands[sid];
      }
    }
  }
  return out;
}

std::string DescribeKeys(const User& u) {
  if (u.all_keys) return "~*";
  std::string out;
  for (const KeyPattern& k : u.keys) {
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

std::string DescribeChannels(const User& u) {
  if (u.all_channels) return "&*";
  std::string out;
  for (const std::string& c : u.channels) {
    if (!out.empty()) out += ' ';
    out += "&" + c;
  }
  return out;
}

// The ACL LIST line (without "user <name> ").
std::string DescribeUser(const User& u) {
  std::string out = u.on ? "on" : "off";
  if (u.nopass) out += " nopass";
  if (u.sanitize != 0) out += u.sanitize > 0 ? " sanitize-payload" : " skip-sanitize-payload";
  for (const std::string& p : u.passwords) out += " #" + p;
  std::string keys = DescribeKeys(u);
  if (!keys.empty()) out += " " + keys;
  out += u.all_channels ? " &*" : " resetchannels";
  if (!u.all_channels && !u.channels.empty()) out += " " + DescribeChannels(u);
  out += " " + DescribeCommands(u);
  return out;
}

// ACL LOG entries, newest first.
struct LogEntry {
  int64_t count = 1;
  std::string reason, context, object, username, client_info;
  int64_t created_ms = 0, updated_ms = 0;
};

constexpr size_t kMaxLogEntries = 128;  // acllog-max-len's default

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
    for (LogEntry& e : log) {
      if (e.reason == reason && e.context == context && e.object == object &&
          e.username == username && now - e.updated_ms < 60000) {
        ++e.count;
        e.updated_ms = now;
        e.client_info = std::move(info);
        return;
      }
    }
    log.push_front({1, std::move(reason), std::move(context), std::move(object),
                    std::move(username), std::move(info), now, now});
    if (log.size() > kMaxLogEntries) log.pop_back();
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

// What `u` may not do with this command, as DRYRUN says it ("" when allowed); *error gets the
// NOPERM text and *reason/*object the ACL LOG fields.
std::string Denial(const User& u, const CommandMeta& meta, std::span<const std::string_view> args,
                   std::string* error, std::string* reason, std::string* object) {
  const CommandIds& ids = Ids();
  if (!u.commands[ids.id.at(&meta)]) {
    *error =
        "NOPERM this user has no permissions to run the '" + std::string(meta.name) + "' command";
    *reason = "command";
    *object = std::string(meta.name);
    return "This user has no permissions to run the '" + std::string(meta.name) + "' command";
  }
  if (!u.all_keys && CommandHasKeys(meta)) {
    std::vector<KeyRef> keys;
    GetKeysWithFlags(meta, args, &keys);
    for (const KeyRef& k : keys) {
      uint8_t need = 0;
      if (k.flags & kKeyAccess) need |= kKeyRead;
      if (k.flags & (kKeyInsert | kKeyDelete | kKeyUpdate)) need |= kKeyWrite;
      std::string_view key = args[static_cast<size_t>(k.pos)];
      bool ok = std::any_of(u.keys.begin(), u.keys.end(), [&](const KeyPattern& p) {
        return (p.flags & need) == need && GlobMatch(p.pattern, key);
      });
      if (!ok) {
        *error = "NOPERM this user has no permissions to access one of the keys used as arguments";
        *reason = "key";
        *object = std::string(key);
        return "This user has no permissions to access the '" + std::string(key) + "' key";
      }
    }
  }
  if (!u.all_channels && (meta.acl & kAclPubsub)) {
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
      bool ok = std::any_of(u.channels.begin(), u.channels.end(), [&](const std::string& p) {
        return literal ? p == ch : GlobMatch(p, ch);
      });
      if (!ok) {
        *error =
            "NOPERM this user has no permissions to access one of the channels used as "
            "arguments";
        *reason = "channel";
        *object = std::string(ch);
        return "This user has no permissions to access the '" + std::string(ch) + "' channel";
      }
    }
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

// Parses an ACL file into users (all or nothing). Returns "" or Redis's error text.
std::string ParseAclFile(const std::string& path,
                         std::map<std::string, std::shared_ptr<User>>* out) {
  std::ifstream in(path);
  if (!in) return "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
  std::string errors, line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t b = line.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    size_t e = line.find_last_not_of(" \t\r\n");
    std::string work = line.substr(b, e - b + 1);
    std::vector<std::string_view> args;
    if (!SplitArgsInPlace(work.data(), work.size(), &args) || args.empty()) {
      errors += path + ":" + std::to_string(line_no) + ": unbalanced quotes in acl line. ";
      continue;
    }
    if (args[0] != "user" || args.size() < 2) {
      errors += path + ":" + std::to_string(line_no) +
                " should start with user keyword followed by the username. ";
      continue;
    }
    std::string name(args[1]);
    if (out->count(name) != 0) {
      errors +=
          "WARNING: Duplicate user '" + name + "' found on line " + std::to_string(line_no) + ". ";
      continue;
    }
    auto u = std::make_shared<User>();
    u->name = name;
    bool ok = true;
    for (size_t i = 2; i < args.size() && ok; ++i) {
      if (args[i].empty()) continue;
      if (std::string err = ApplyRule(u.get(), args[i]); !err.empty()) {
        errors += path + ":" + std::to_string(line_no) + ": Error in applying operation '" +
                  std::string(args[i]) + "': " + err + ". ";
        ok = false;
      }
    }
    if (ok) (*out)[name] = u;
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
  User u;
  if (it != acl.users.end()) {
    u = *it->second;
  } else {
    u.name = name;
  }
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    std::string_view rule = ctx.args[i];
    if (rule.empty()) continue;  // as Redis: an empty rule changes nothing
    std::string err = ApplyRule(&u, rule);
    if (!err.empty()) {
      ctx.reply.Error("ERR Error in ACL SETUSER modifier '" + std::string(rule) + "': " + err);
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
  ctx.reply.Bulk("commands");
  ctx.reply.Bulk(DescribeCommands(u));
  ctx.reply.Bulk("keys");
  ctx.reply.Bulk(DescribeKeys(u));
  ctx.reply.Bulk("channels");
  ctx.reply.Bulk(DescribeChannels(u));
  ctx.reply.Bulk("selectors");
  ctx.reply.EmptyArray();
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
    ctx.reply.Double(static_cast<double>(now - e.created_ms) / 1000.0);
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
  ctx.reply.ArrayHeader(std::size(kLines));
  for (std::string_view l : kLines) ctx.reply.SimpleString(l);
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
    auto u = std::make_shared<User>();
    u->name = line[0];
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i].empty()) continue;
      if (std::string err = ApplyRule(u.get(), line[i]); !err.empty()) {
        return "Error loading ACL rule '" + line[i] + "' for the user named '" + line[0] +
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

std::string AclCheckCommand(ServerState& server, Client& client, const CommandMeta& meta,
                            std::span<const std::string_view> args) {
  // A client whose user was unrestricted when nothing has changed since: no lookup.
  uint64_t gen = users_generation.load(std::memory_order_acquire);
  if (client.acl_unrestricted_gen == gen) return "";
  std::string name = UserOf(client);
  Acl& acl = Users();
  std::string error, reason, object;
  {
    std::lock_guard<std::mutex> lock(acl.mu);
    auto it = acl.users.find(name);
    if (it == acl.users.end()) return "";  // its connections are closed as it is deleted
    if (it->second->Unrestricted()) {
      client.acl_unrestricted_gen = gen;
      return "";
    }
    if (Denial(*it->second, meta, args, &error, &reason, &object).empty()) return "";
  }
  // As Redis: the denied command is the client's last command (CLIENT LIST, client-info).
  client.last_cmd_len.store(meta.name.size(), std::memory_order_relaxed);
  client.last_cmd.store(meta.name.data(), std::memory_order_release);
  std::string info = ClientInfoLine(server, client);
  std::lock_guard<std::mutex> lock(acl.mu);
  acl.Log(reason, client.in_multi ? "multi" : "toplevel", object, name, std::move(info));
  return error;
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
