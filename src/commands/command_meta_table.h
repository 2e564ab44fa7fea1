#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "keel/commands/command_meta.h"

// The full layout of a command's metadata, for the table in command_meta_table.cc, the
// introspection commands and tests. Callers that only dispatch should use the accessors in
// command_meta.h instead. Every string_view here points at static storage.
namespace keel {

// Key spec flags (Redis 7.0), in the order COMMAND INFO lists them.
enum KeySpecFlag : uint32_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,
  kKeyIncomplete = 1u << 9,
  kKeyVariableFlags = 1u << 10,
};

// Where the search for a key spec's keys starts: a fixed argument index, or just after a keyword
// found by scanning from `startfrom` (a negative value scans backwards from the end), or unknown
// (SORT's STORE and BY/GET keys: only the legacy finder knows them).
struct BeginSearch {
  enum Type : uint8_t { kIndex, kKeyword, kUnknown } type = kIndex;
  int index = 0;
  std::string_view keyword = {};
  int startfrom = 0;
};

// How many keys follow the start: a range (lastkey relative to the start, negative counts from
// the end; with a limit, only 1/limit of the remaining arguments), or a count taken from the
// argument at keynumidx (relative to the start), the keys starting at firstkey; or unknown.
struct FindKeys {
  enum Type : uint8_t { kRange, kKeynum, kUnknown } type = kRange;
  int lastkey = 0;
  int keystep = 1;
  int limit = 0;
  int keynumidx = 0;
  int firstkey = 0;
};

constexpr BeginSearch BsIndex(int pos) { return {BeginSearch::kIndex, pos, {}, 0}; }
constexpr BeginSearch BsKeyword(std::string_view keyword, int startfrom) {
  return {BeginSearch::kKeyword, 0, keyword, startfrom};
}
constexpr BeginSearch BsUnknown() { return {BeginSearch::kUnknown, 0, {}, 0}; }
constexpr FindKeys FkUnknown() { return {FindKeys::kUnknown, 0, 0, 0, 0, 0}; }
constexpr FindKeys FkRange(int lastkey, int keystep, int limit) {
  return {FindKeys::kRange, lastkey, keystep, limit, 0, 0};
}
constexpr FindKeys FkKeynum(int keynumidx, int firstkey, int keystep) {
  return {FindKeys::kKeynum, 0, keystep, 0, keynumidx, firstkey};
}

struct KeySpec {
  uint32_t flags = 0;  // KeySpecFlag bits
  BeginSearch bs;
  FindKeys fk;
  std::string_view notes = {};  // empty: not reported
};

// COMMAND DOCS argument types and flags.
enum class ArgType : uint8_t {
  kString,
  kInteger,
  kDouble,
  kKey,
  kPattern,
  kUnixTime,
  kPureToken,
  kOneof,
  kBlock,
};

enum ArgFlag : uint8_t {
  kArgOptional = 1u << 0,
  kArgMultiple = 1u << 1,
  kArgMultipleToken = 1u << 2,
};

struct CommandArg {
  std::string_view name;
  ArgType type = ArgType::kString;
  int key_spec_index = -1;  // kKey only
  std::string_view token = {};
  std::string_view since = {};
  std::string_view deprecated_since = {};
  uint8_t flags = 0;                      // ArgFlag bits
  std::span<const CommandArg> args = {};  // kOneof and kBlock
};

// One key a command touches: its argument index and the flags of the key spec that found it.
struct KeyRef {
  int pos;
  uint32_t flags;  // KeySpecFlag bits
};

// A legacy key finder used when the key specs cannot describe the arguments (Redis's
// getkeys_proc). Appends to *keys and returns the number found (0: none or malformed).
using GetKeysProc = int (*)(std::span<const std::string_view> args, std::vector<KeyRef>* keys);

// COMMAND DOCS "doc_flags".
enum DocFlag : uint32_t {
  kDocDeprecated = 1u << 0,
  kDocSyscmd = 1u << 1,
};

// One entry of a command's change history (COMMAND DOCS "history"). Keel publishes none yet.
struct DocHistory {
  std::string_view since;
  std::string_view change;
};

struct CommandMeta {
  // COMMAND INFO facts.
  std::string_view name;  // lower case; "config|get" for subcommands
  int arity = 0;
  uint32_t flags = 0;  // CommandFlag bits
  int first_key = 0;
  int last_key = 0;
  int key_step = 0;
  uint32_t acl = 0;  // AclCategory bits
  std::span<const std::string_view> tips = {};
  std::span<const KeySpec> key_specs = {};
  std::span<const CommandMeta> subcommands = {};
  GetKeysProc getkeys = nullptr;

  // COMMAND DOCS facts. The summary is Keel's own one-line description. Fields left empty are
  // omitted from the reply (Keel does not publish complexity notes, history or doc flags).
  std::string_view group;
  std::string_view since;
  std::string_view summary;
  std::string_view complexity = {};
  uint32_t doc_flags = 0;  // DocFlag bits; 0 omits the field
  std::span<const DocHistory> history = {};
  std::span<const CommandArg> args = {};
};

// The whole table of top-level commands, in a stable order (the order COMMAND lists them).
std::span<const CommandMeta> AllCommandMeta();

// Like GetKeyPositions, with each key's flags (COMMAND GETKEYSANDFLAGS). Returns false when the
// command has keys but the arguments are malformed (Redis then answers "Invalid arguments
// specified for command"). A command without key arguments returns true and no keys.
bool GetKeysWithFlags(const CommandMeta& m, std::span<const std::string_view> args,
                      std::vector<KeyRef>* keys);

// True when the command has at least one real key spec (or a legacy key finder).
bool CommandHasKeys(const CommandMeta& m);

}  // namespace keel
