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

}  // namespace keel
