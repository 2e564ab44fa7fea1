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

}  // namespace keel
