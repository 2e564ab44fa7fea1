// COMMAND and its subcommands: the metadata table rendered in Redis 7.0's reply shapes.
//
// Everything here reads the immutable table, so it is safe from any io thread. Only commands the
// `implemented` predicate accepts are visible, so a client never sees a command Keel lacks.

#include <array>
#include <string>
#include <utility>

#include "command_meta_table.h"
#include "keel/commands/command_meta.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {
namespace {

template <typename Flag>
struct FlagName {
  Flag flag;
  std::string_view name;
};

// Redis hides may_replicate, sentinel, only_sentinel and protected from COMMAND INFO.
constexpr FlagName<uint32_t> kCommandFlagNames[] = {
    {kCmdWrite, "write"},
    {kCmdReadonly, "readonly"},
    {kCmdDenyOom, "denyoom"},
    {kCmdModule, "module"},
    {kCmdAdmin, "admin"},
    {kCmdPubsub, "pubsub"},
    {kCmdNoscript, "noscript"},
    {kCmdBlocking, "blocking"},
    {kCmdLoading, "loading"},
    {kCmdStale, "stale"},
    {kCmdSkipMonitor, "skip_monitor"},
    {kCmdSkipSlowlog, "skip_slowlog"},
    {kCmdAsking, "asking"},
    {kCmdFast, "fast"},
    {kCmdNoAuth, "no_auth"},
    {kCmdNoMandatoryKeys, "no_mandatory_keys"},
    {kCmdNoAsyncLoading, "no_async_loading"},
    {kCmdNoMulti, "no_multi"},
    {kCmdMovableKeys, "movablekeys"},
    {kCmdAllowBusy, "allow_busy"},
};

constexpr FlagName<uint32_t> kAclNames[] = {
    {kAclKeyspace, "keyspace"},
    {kAclRead, "read"},
    {kAclWrite, "write"},
    {kAclSet, "set"},
    {kAclSortedSet, "sortedset"},
    {kAclList, "list"},
    {kAclHash, "hash"},
    {kAclString, "string"},
    {kAclBitmap, "bitmap"},
    {kAclHyperLogLog, "hyperloglog"},
    {kAclGeo, "geo"},
    {kAclStream, "stream"},
    {kAclPubsub, "pubsub"},
    {kAclAdmin, "admin"},
    {kAclFast, "fast"},
    {kAclSlow, "slow"},
    {kAclBlocking, "blocking"},
    {kAclDangerous, "dangerous"},
    {kAclConnection, "connection"},
    {kAclTransaction, "transaction"},
    {kAclScripting, "scripting"},
};

constexpr FlagName<uint32_t> kKeySpecFlagNames[] = {
    {kKeyRO, "RO"},
    {kKeyRW, "RW"},
    {kKeyOW, "OW"},
    {kKeyRM, "RM"},
    {kKeyAccess, "access"},
    {kKeyUpdate, "update"},
    {kKeyInsert, "insert"},
    {kKeyDelete, "delete"},
    {kKeyNotKey, "not_key"},
    {kKeyIncomplete, "incomplete"},
    {kKeyVariableFlags, "variable_flags"},
};

constexpr FlagName<uint32_t> kArgFlagNames[] = {
    {kArgOptional, "optional"},
    {kArgMultiple, "multiple"},
    {kArgMultipleToken, "multiple_token"},
};

constexpr FlagName<uint32_t> kDocFlagNames[] = {
    {kDocDeprecated, "deprecated"},
    {kDocSyscmd, "syscmd"},
};

constexpr std::string_view kArgTypeNames[] = {
    "string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block",
};

// COMMAND HELP, line for line as Redis 7.0 prints it.
constexpr std::string_view kHelpLines[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
};

template <size_t N>
void ReplyFlags(uint32_t bits, const FlagName<uint32_t> (&names)[N], std::string_view prefix,
                ReplyBuilder* reply) {
  size_t n = 0;
  for (const auto& f : names) n += (bits & f.flag) != 0;
  reply->SetHeader(n);
  std::string buf;
  for (const auto& f : names) {
    if (!(bits & f.flag)) continue;
    if (prefix.empty()) {
      reply->SimpleString(f.name);
    } else {
      buf.assign(prefix);
      buf.append(f.name);
      reply->SimpleString(buf);
    }
  }
}

void ReplyKeySpec(const KeySpec& spec, ReplyBuilder* reply) {
  reply->MapHeader(spec.notes.empty() ? 3 : 4);
  if (!spec.notes.empty()) {
    reply->Bulk("notes");
    reply->Bulk(spec.notes);
  }
  reply->Bulk("flags");
  ReplyFlags(spec.flags, kKeySpecFlagNames, "", reply);

  reply->Bulk("begin_search");
  reply->MapHeader(2);
  reply->Bulk("type");
  if (spec.bs.type == BeginSearch::kIndex) {
    reply->Bulk("index");
    reply->Bulk("spec");
    reply->MapHeader(1);
    reply->Bulk("index");
    reply->Integer(spec.bs.index);
  } else if (spec.bs.type == BeginSearch::kUnknown) {
    reply->Bulk("unknown");
    reply->Bulk("spec");
    reply->MapHeader(0);
  } else {
    reply->Bulk("keyword");
    reply->Bulk("spec");
    reply->MapHeader(2);
    reply->Bulk("keyword");
    reply->Bulk(spec.bs.keyword);
    reply->Bulk("startfrom");
    reply->Integer(spec.bs.startfrom);
  }

  reply->Bulk("find_keys");
  reply->MapHeader(2);
  reply->Bulk("type");
  if (spec.fk.type == FindKeys::kRange) {
    reply->Bulk("range");
    reply->Bulk("spec");
    reply->MapHeader(3);
    reply->Bulk("lastkey");
    reply->Integer(spec.fk.lastkey);
    reply->Bulk("keystep");
    reply->Integer(spec.fk.keystep);
    reply->Bulk("limit");
    reply->Integer(spec.fk.limit);
  } else if (spec.fk.type == FindKeys::kUnknown) {
    reply->Bulk("unknown");
    reply->Bulk("spec");
    reply->MapHeader(0);
  } else {
    reply->Bulk("keynum");
    reply->Bulk("spec");
    reply->MapHeader(3);
    reply->Bulk("keynumidx");
    reply->Integer(spec.fk.keynumidx);
    reply->Bulk("firstkey");
    reply->Integer(spec.fk.firstkey);
    reply->Bulk("keystep");
    reply->Integer(spec.fk.keystep);
  }
}

size_t CountVisible(std::span<const CommandMeta> cmds, HandlerPredicate implemented) {
  size_t n = 0;
  for (const CommandMeta& m : cmds) n += implemented(m);
  return n;
}

// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories, tips,
// key specs, subcommands.
void ReplyInfo(const CommandMeta& m, HandlerPredicate implemented, ReplyBuilder* reply) {
  reply->ArrayHeader(10);
  reply->Bulk(m.name);
  reply->Integer(m.arity);
  ReplyFlags(m.flags, kCommandFlagNames, "", reply);
  reply->Integer(m.first_key);
  reply->Integer(m.last_key);
  reply->Integer(m.key_step);
  ReplyFlags(m.acl, kAclNames, "@", reply);
  reply->SetHeader(m.tips.size());
  for (std::string_view tip : m.tips) reply->Bulk(tip);
  reply->SetHeader(m.key_specs.size());
  for (const KeySpec& spec : m.key_specs) ReplyKeySpec(spec, reply);
  // Redis 7.0 answers "no subcommands" with an empty set, and lists them in an array.
  size_t subs = CountVisible(m.subcommands, implemented);
  if (subs == 0) {
    reply->SetHeader(0);
  } else {
    reply->ArrayHeader(subs);
  }
  for (const CommandMeta& sub : m.subcommands) {
    if (implemented(sub)) ReplyInfo(sub, implemented, reply);
  }
}

void ReplyArgs(std::span<const CommandArg> args, ReplyBuilder* reply) {
  reply->ArrayHeader(args.size());
  for (const CommandArg& a : args) {
    bool is_key = a.type == ArgType::kKey;
    size_t fields = 2 + is_key + !a.token.empty() + !a.since.empty() + !a.deprecated_since.empty() +
                    (a.flags != 0) + !a.args.empty();
    reply->MapHeader(fields);
    reply->Bulk("name");
    reply->Bulk(a.name);
    reply->Bulk("type");
    reply->Bulk(kArgTypeNames[static_cast<size_t>(a.type)]);
    if (is_key) {
      reply->Bulk("key_spec_index");
      reply->Integer(a.key_spec_index);
    }
    if (!a.token.empty()) {
      reply->Bulk("token");
      reply->Bulk(a.token);
    }
    if (!a.since.empty()) {
      reply->Bulk("since");
      reply->Bulk(a.since);
    }
    if (!a.deprecated_since.empty()) {
      reply->Bulk("deprecated_since");
      reply->Bulk(a.deprecated_since);
    }
    if (a.flags != 0) {
      reply->Bulk("flags");
      ReplyFlags(a.flags, kArgFlagNames, "", reply);
    }
    if (!a.args.empty()) {
      reply->Bulk("arguments");
      ReplyArgs(a.args, reply);
    }
  }
}

// One COMMAND DOCS value (the caller writes the name key).
void ReplyDocs(const CommandMeta& m, HandlerPredicate implemented, ReplyBuilder* reply) {
  size_t visible_subs = CountVisible(m.subcommands, implemented);
  size_t fields = 1 + !m.summary.empty() + !m.since.empty() + !m.complexity.empty() +
                  (m.doc_flags != 0) + !m.history.empty() + !m.args.empty() + (visible_subs > 0);
  reply->MapHeader(fields);
  if (!m.summary.empty()) {
    reply->Bulk("summary");
    reply->Bulk(m.summary);
  }
  if (!m.since.empty()) {
    reply->Bulk("since");
    reply->Bulk(m.since);
  }
  reply->Bulk("group");
  reply->Bulk(m.group);
  if (!m.complexity.empty()) {
    reply->Bulk("complexity");
    reply->Bulk(m.complexity);
  }
  if (m.doc_flags != 0) {
    reply->Bulk("doc_flags");
    ReplyFlags(m.doc_flags, kDocFlagNames, "", reply);
  }
  if (!m.history.empty()) {
    reply->Bulk("history");
    reply->ArrayHeader(m.history.size());
    for (const DocHistory& h : m.history) {
      reply->ArrayHeader(2);
      reply->Bulk(h.since);
      reply->Bulk(h.change);
    }
  }
  if (!m.args.empty()) {
    reply->Bulk("arguments");
    ReplyArgs(m.args, reply);
  }
  if (visible_subs > 0) {
    reply->Bulk("subcommands");
    reply->MapHeader(visible_subs);
    for (const CommandMeta& sub : m.subcommands) {
      if (!implemented(sub)) continue;
      reply->Bulk(sub.name);
      ReplyDocs(sub, implemented, reply);
    }
  }
}

// COMMAND INFO and DOCS accept "container|sub" but nothing deeper.
const CommandMeta* LookupVisible(std::string_view name, HandlerPredicate implemented) {
  size_t bar = name.find('|');
  if (bar != std::string_view::npos && name.find('|', bar + 1) != std::string_view::npos) {
    return nullptr;
  }
  const CommandMeta* m = LookupCommand(name);
  return m != nullptr && implemented(*m) ? m : nullptr;
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
void ReplyList(std::span<const std::string_view> args, HandlerPredicate implemented,
               ReplyBuilder* reply) {
  enum class Filter { kNone, kModule, kAclCat, kPattern } filter = Filter::kNone;
  std::string_view filter_arg;
  for (size_t i = 2; i < args.size(); ++i) {
    size_t more = args.size() - 1 - i;
    if (!EqualsIgnoreCase(args[i], "filterby") || more != 2) {
      reply->Error(errors::kSyntax);
      return;
    }
    std::string_view type = args[i + 1];
    if (EqualsIgnoreCase(type, "module")) {
      filter = Filter::kModule;
    } else if (EqualsIgnoreCase(type, "aclcat")) {
      filter = Filter::kAclCat;
    } else if (EqualsIgnoreCase(type, "pattern")) {
      filter = Filter::kPattern;
    } else {
      reply->Error(errors::kSyntax);
      return;
    }
    filter_arg = args[i + 2];
    i += 2;
  }
  uint32_t acl = 0;
  if (filter == Filter::kAclCat) {
    for (const auto& c : kAclNames) {
      if (EqualsIgnoreCase(c.name, filter_arg)) acl = c.flag;
    }
  }
  auto keep = [&](const CommandMeta& m) {
    switch (filter) {
      case Filter::kNone:
        return true;
      case Filter::kModule:
        return false;  // Keel loads no modules.
      case Filter::kAclCat:
        return (m.acl & acl) != 0;
      case Filter::kPattern:
        return GlobMatch(filter_arg, m.name, /*nocase=*/true);
    }
    return false;
  };
  std::vector<std::string_view> names;
  for (const CommandMeta& m : AllCommandMeta()) {
    if (!implemented(m)) continue;
    if (keep(m)) names.push_back(m.name);
    for (const CommandMeta& sub : m.subcommands) {
      if (implemented(sub) && keep(sub)) names.push_back(sub.name);
    }
  }
  reply->ArrayHeader(names.size());
  for (std::string_view n : names) reply->Bulk(n);
}

// COMMAND GETKEYS|GETKEYSANDFLAGS command [arg ...]
void ReplyGetKeys(std::span<const std::string_view> args, bool with_flags,
                  HandlerPredicate implemented, ReplyBuilder* reply) {
  std::span<const std::string_view> target = args.subspan(2);
  // Resolve the way the dispatcher would: a top-level name, then a subcommand if it has any.
  const CommandMeta* m = nullptr;
  if (target[0].find('|') == std::string_view::npos) m = LookupCommand(target[0]);
  if (m != nullptr && !m->subcommands.empty() && target.size() > 1) {
    m = FindSubcommandMeta(*m, target[1]);
  }
  if (m == nullptr || !implemented(*m)) {
    reply->Error(errors::kCommandInvalid);
    return;
  }
  if (!CommandHasKeys(*m)) {
    reply->Error(errors::kCommandNoKeys);
    return;
  }
  int argc = static_cast<int>(target.size());
  if ((m->arity > 0 && m->arity != argc) || argc < -m->arity) {
    reply->Error(errors::kCommandBadArgCount);
    return;
  }
  std::vector<KeyRef> keys;
  if (!GetKeysWithFlags(*m, target, &keys)) {
    reply->Error(errors::kCommandBadArgs);
    return;
  }
  reply->ArrayHeader(keys.size());
  for (const KeyRef& k : keys) {
    if (with_flags) reply->ArrayHeader(2);
    reply->Bulk(target[k.pos]);
    if (with_flags) ReplyFlags(k.flags, kKeySpecFlagNames, "", reply);
  }
}

}  // namespace

void ReplyCommandCommand(std::span<const std::string_view> args, HandlerPredicate implemented,
                         ReplyBuilder* reply) {
  std::span<const CommandMeta> all = AllCommandMeta();
  if (args.size() == 1) {
    reply->ArrayHeader(CountVisible(all, implemented));
    for (const CommandMeta& m : all) {
      if (implemented(m)) ReplyInfo(m, implemented, reply);
    }
    return;
  }

  const CommandMeta* container = FindCommandMeta("command");
  const CommandMeta* sub = container ? FindSubcommandMeta(*container, args[1]) : nullptr;
  if (sub == nullptr) {
    reply->Error(errors::UnknownSubcommand(args[1], args[0]));
    return;
  }
  int argc = static_cast<int>(args.size());
  if ((sub->arity > 0 && argc != sub->arity) || (sub->arity < 0 && argc < -sub->arity)) {
    reply->Error(errors::WrongArity(sub->name));
    return;
  }

  std::string_view name = sub->name.substr(sizeof("command|") - 1);
  if (name == "count") {
    reply->Integer(static_cast<int64_t>(CountVisible(all, implemented)));
  } else if (name == "list") {
    ReplyList(args, implemented, reply);
  } else if (name == "info") {
    if (args.size() == 2) {
      reply->ArrayHeader(CountVisible(all, implemented));
      for (const CommandMeta& m : all) {
        if (implemented(m)) ReplyInfo(m, implemented, reply);
      }
      return;
    }
    reply->ArrayHeader(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      const CommandMeta* m = LookupVisible(args[i], implemented);
      if (m == nullptr) {
        reply->NullBulk();
      } else {
        ReplyInfo(*m, implemented, reply);
      }
    }
  } else if (name == "docs") {
    std::vector<const CommandMeta*> found;
    if (args.size() == 2) {
      for (const CommandMeta& m : all) {
        if (implemented(m)) found.push_back(&m);
      }
    } else {
      for (size_t i = 2; i < args.size(); ++i) {
        if (const CommandMeta* m = LookupVisible(args[i], implemented)) found.push_back(m);
      }
    }
    reply->MapHeader(found.size());
    for (const CommandMeta* m : found) {
      reply->Bulk(m->name);
      ReplyDocs(*m, implemented, reply);
    }
  } else if (name == "getkeys" || name == "getkeysandflags") {
    ReplyGetKeys(args, name == "getkeysandflags", implemented, reply);
  } else {  // help
    reply->StatusLines(kHelpLines);
  }
}

}  // namespace keel
