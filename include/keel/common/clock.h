#pragma once

#include <cstdint>

namespace keel {

// Wall-clock and monotonic time in the units Redis uses. Centralised so tests and expiry code can
// reason about one source of time.
int64_t NowUnixMs();
int64_t NowUnixUs();
int64_t NowMonotonicUs();
// Wall-clock seconds from the kernel's tick-resolution clock: cheaper than the others (no clock
// source read), for what needs only seconds (the LRU clock of OBJECT IDLETIME).
int64_t NowUnixSecondsCoarse();
// The same clock in milliseconds (a few ms behind NowUnixMs at most), for times read on every
// request but compared in seconds (a client's last interaction).
int64_t NowUnixMsCoarse();
// A monotonic microsecond clock for timing commands (INFO commandstats), cheaper than
// NowMonotonicUs: on x86 machines whose kernel keeps time with the CPU's time-stamp counter, it
// reads that counter directly (calibrated against CLOCK_MONOTONIC at start-up) instead of going
// through clock_gettime. Elsewhere it is NowMonotonicUs. Its values are only comparable with
// each other: use it for durations.
int64_t CommandClockUs();
// Whether CommandClockUs reads the time-stamp counter (for tests and INFO).
bool CommandClockUsesTsc();

// The time keys expire by, in Unix ms. Inside a command (a CommandTimeScope on this thread) the
// first reading is kept for the outermost command, as Redis 7.0 keeps its cached time for a
// command and every command it runs (fixed_time_expire: a key cannot expire between two
// lookups of one command, an EXEC or a script, which sees the time it started at); elsewhere
// (housekeeping, loading) it is NowUnixMs. One clock read per command instead of one per lookup.
int64_t KeyTimeMs();

// Reads the clock for KeyTimeMs now if this command has not yet: EXEC and scripts call it as
// they start, so that their commands see the time they started at, as in Redis (a single
// command reads it at its first lookup of a key with a TTL, microseconds after its start).
void PinKeyTime();

// Marks a command running on this thread for KeyTimeMs; nests (EXEC, scripts).
class CommandTimeScope {
 public:
  CommandTimeScope();
  ~CommandTimeScope();
  CommandTimeScope(const CommandTimeScope&) = delete;
  CommandTimeScope& operator=(const CommandTimeScope&) = delete;
};

}  // namespace keel
