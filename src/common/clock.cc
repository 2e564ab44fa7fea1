#include "keel/common/clock.h"

#include <time.h>

#include <chrono>
#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace keel {

int64_t NowUnixMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t NowUnixUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t NowUnixSecondsCoarse() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

int64_t NowUnixMsCoarse() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

int64_t NowMonotonicUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// The time-stamp counter as a clock: usable only where the kernel itself keeps time with it
// (it then runs at a constant rate, in step on every CPU). The rate is measured once, over 2 ms.
struct TscClock {
  bool usable = false;
  double us_per_tick = 0;

  static TscClock Calibrate() {
    TscClock c;
#if defined(__x86_64__)
    std::ifstream f("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string source;
    if (!(f >> source) || source != "tsc") return c;
    int64_t ns0 = MonotonicNs();
    uint64_t t0 = __rdtsc();
    int64_t ns1;
    do {
      ns1 = MonotonicNs();
    } while (ns1 - ns0 < 2000000);
    uint64_t t1 = __rdtsc();
    if (t1 <= t0) return c;
    c.us_per_tick = static_cast<double>(ns1 - ns0) / 1000.0 / static_cast<double>(t1 - t0);
    c.usable = true;
#endif
    return c;
  }
};

const TscClock g_tsc = TscClock::Calibrate();

}  // namespace

int64_t CommandClockUs() {
#if defined(__x86_64__)
  if (g_tsc.usable) return static_cast<int64_t>(static_cast<double>(__rdtsc()) * g_tsc.us_per_tick);
#endif
  return NowMonotonicUs();
}

bool CommandClockUsesTsc() { return g_tsc.usable; }

namespace {
thread_local int t_command_depth = 0;
thread_local int64_t t_command_key_ms = 0;  // 0: not read yet in this command
}  // namespace

int64_t KeyTimeMs() {
  if (t_command_depth == 0) return NowUnixMs();
  if (t_command_key_ms == 0) t_command_key_ms = NowUnixMs();
  return t_command_key_ms;
}

void PinKeyTime() {
  if (t_command_depth > 0 && t_command_key_ms == 0) t_command_key_ms = NowUnixMs();
}

CommandTimeScope::CommandTimeScope() { ++t_command_depth; }

CommandTimeScope::~CommandTimeScope() {
  if (--t_command_depth == 0) t_command_key_ms = 0;
}

}  // namespace keel
