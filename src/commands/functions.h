#pragma once
// Redis 7.0 function libraries (src/commands/function_family.cc): what the persistence commands
// need to install the libraries an RDB file holds.

#include <string>
#include <vector>

#include "keel/common/status.h"

namespace keel::functions {

// Replaces every library with the ones whose codes are given (an RDB file's FUNCTION2 records, as
// DEBUG RELOAD and start-up load them: the file's libraries are the server's, as in Redis). All or
// nothing: a code that fails to load leaves the libraries as they were. Not logged to the AOF.
// Any thread.
Status ReplaceAllFromRdb(const std::vector<std::string>& codes);

}  // namespace keel::functions
