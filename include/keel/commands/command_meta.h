#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "keel/protocol/reply.h"

// Command metadata: the facts Redis 7.0 publishes about each command through COMMAND INFO and
// COMMAND DOCS (arity, flags, key positions, key specs, ACL categories, tips, arguments). It is
// data, declared once in command_meta_table.cc, and drives both the introspection commands and
// the dispatcher (arity check, auth exemption, which shards to lock).
//
// A command appears to clients (COMMAND COUNT/LIST/INFO/DOCS) only once a handler is registered
// for it, so the table may describe commands that are still to be built.
namespace keel {

// Redis 7.0's command flags, in the order COMMAND INFO lists them.
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyOom = 1u << 2,
  kCmdModule = 1u << 3,
  kCmdAdmin = 1u << 4,
  kCmdPubsub = 1u << 5,
  kCmdNoscript = 1u << 6,
  kCmdBlocking = 1u << 7,
  kCmdLoading = 1u << 8,
  kCmdStale = 1u << 9,
  kCmdSkipMonitor = 1u << 10,
  kCmdSkipSlowlog = 1u << 11,
  kCmdAsking = 1u << 12,
  kCmdFast = 1u << 13,
  kCmdNoAuth = 1u << 14,
  kCmdMayReplicate = 1u << 15,
  kCmdSentinel = 1u << 16,
  kCmdOnlySentinel = 1u << 17,
  kCmdNoMandatoryKeys = 1u << 18,
  kCmdProtected = 1u << 19,
  kCmdNoAsyncLoading = 1u << 20,
  kCmdNoMulti = 1u << 21,
  kCmdMovableKeys = 1u << 22,
  kCmdAllowBusy = 1u << 23,
};

// Redis 7.0's ACL categories.
enum AclCategory : uint32_t {
  kAclKeyspace = 1u << 0,
  kAclRead = 1u << 1,
  kAclWrite = 1u << 2,
  kAclSet = 1u << 3,
  kAclSortedSet = 1u << 4,
  kAclList = 1u << 5,
  kAclHash = 1u << 6,
  kAclString = 1u << 7,
  kAclBitmap = 1u << 8,
  kAclHyperLogLog = 1u << 9,
  kAclGeo = 1u << 10,
  kAclStream = 1u << 11,
  kAclPubsub = 1u << 12,
  kAclAdmin = 1u << 13,
  kAclFast = 1u << 14,
  kAclSlow = 1u << 15,
  kAclBlocking = 1u << 16,
  kAclDangerous = 1u << 17,
  kAclConnection = 1u << 18,
  kAclTransaction = 1u << 19,
  kAclScripting = 1u << 20,
};

struct CommandMeta;  // Defined in src/commands/command_meta_table.cc's header, see below.

// Looks a command (or "container|subcommand") up by name, ASCII case-insensitively.
// Returns nullptr when unknown. Thread-safe (the table is immutable).
const CommandMeta* FindCommandMeta(std::string_view name);
const CommandMeta* FindSubcommandMeta(const CommandMeta& container, std::string_view sub);

// rename-command (config file only, as Redis): renames a top-level command, or disables it when
// `to` is empty. A renamed command answers to its new name only and still reports its own name
// (COMMAND INFO, LIST, errors); a disabled one is gone from COMMAND too. Called at start-up,
// before any client connects; the renames are read-only afterwards. The errors are Redis's
// reasons ("No such command in rename-command", "Target command name already exists").
std::string RenameCommand(std::string_view from, std::string_view to);

// Looks up a name a client sent (a command, or "container|subcommand" for COMMAND INFO/DOCS),
// with the renames applied. Without renames this is FindCommandMeta.
const CommandMeta* LookupCommand(std::string_view name);

// True for a top-level command disabled by rename-command (renamed to ""), and its subcommands.
bool CommandDisabled(const CommandMeta& m);

// Accessors, so callers need not see the full struct.
std::string_view MetaName(const CommandMeta& m);  // lower case, "config|get" for subcommands
int MetaArity(const CommandMeta& m);              // Redis convention: -N means at least N
uint32_t MetaFlags(const CommandMeta& m);
bool MetaHasSubcommands(const CommandMeta& m);

// Positions (indexes into args, args[0] is the command name) of the keys the command touches,
// following its key specs (range and keynum specs, movable keys included). Returns false when
// the arguments are too malformed to find keys (the handler then reports the syntax error).
bool GetKeyPositions(const CommandMeta& m, std::span<const std::string_view> args,
                     std::vector<int>* positions);

// The position of the command's first key in `args` by its key specs (the first key the first
// spec that finds one names: SET's 1, ZUNIONSTORE's destination, EVAL's first key after numkeys,
// XREAD's first stream after STREAMS), or 0 when these arguments name no key (PING, EVAL with
// numkeys 0) or are too malformed to find one. Cheap for commands whose keys do not move.
int FirstKeyPosition(const CommandMeta& m, std::span<const std::string_view> args);

// The set of commands that have a handler, consulted by the introspection commands.
using HandlerPredicate = bool (*)(const CommandMeta&);

// COMMAND [COUNT|LIST|INFO|DOCS|GETKEYS|GETKEYSANDFLAGS|HELP] with Redis 7.0's replies.
// `args` is the whole command including "COMMAND". Only commands for which `implemented`
// returns true are visible.
void ReplyCommandCommand(std::span<const std::string_view> args, HandlerPredicate implemented,
                         ReplyBuilder* reply);

}  // namespace keel
