#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel::owned_args {

// Big arguments without a copy (docs/architecture.md, "Big bulk arguments"). A connection
// receives a big bulk (keel/protocol/parser.h, kBigBulkThreshold) straight into a string of its
// own and lends the command's such strings to it while it runs; a handler that stores a whole
// argument as a string value takes the string into the new entry instead of copying it.
//
// Rules for a handler that takes: its command locks its keys through the dispatcher
// (LockMode::kKeys), and the taken argument's bytes must stay where they are until the command
// ends, so it must not later free or change the entry it stored them in (MSET of one key twice
// takes only the last value). The argument's view then stays valid: the dispatcher finishes a
// command that took (AOF observer, slowlog, MONITOR) before it releases the shard locks.
// Everything is per io thread; no locking.

// Lends `args` (or nothing: null) to the commands run on this thread until the next call.
void Lend(std::vector<std::unique_ptr<std::string>>* args);

// The lent string whose bytes `arg` views exactly (same address and length), moved out of the
// lent set; null when `arg` is not one (every small argument: one branch).
std::unique_ptr<std::string> Take(std::string_view arg);

// Whether anything is lent now (a handler may skip work that only taking needs).
bool Any();

// How many strings were taken on this thread so far (the dispatcher compares it around a
// command).
uint64_t TakenCount();

}  // namespace keel::owned_args
