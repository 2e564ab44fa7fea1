#pragma once

// Reading an AOF file's commands (the part after an optional RDB preamble): RESP multibulk
// commands and "#..." annotation lines, with a MULTI ... EXEC counted as one unit for the
// truncation point. Pure: the caller runs each command (the server's loader, src/commands/aof.cc)
// or only inspects it (tests/fuzz/aof_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "keel/common/status.h"

namespace keel::aof {

struct CommandScan {
  enum class End {
    kComplete,   // every byte was read
    kTruncated,  // the file ends inside a command, an annotation or an open MULTI
    kBadFormat,  // a byte that starts no command, or a malformed or empty command
    kStopped,    // the callback returned an error (ScanCommands returns it)
  };
  End end = End::kComplete;
  size_t bad_offset = 0;  // kBadFormat: where the unreadable command starts
  size_t valid_end = 0;   // after the last command (or annotation) outside a MULTI ... EXEC
  uint64_t commands = 0;  // the commands handed to the callback that returned OK
};

// Reads the commands of data[pos, size), handing each to `command` (the arguments are valid only
// during the call), and fills *scan. Returns the callback's first error (scan->end kStopped),
// else OK whatever the end. The parser may rewrite bytes of `data` in place.
Status ScanCommands(char* data, size_t size, size_t pos,
                    const std::function<Status(std::span<const std::string_view>)>& command,
                    CommandScan* scan);

}  // namespace keel::aof
