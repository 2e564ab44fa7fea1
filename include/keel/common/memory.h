#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Memory accounting: what Redis calls used_memory (the bytes the application holds from the
// allocator; blocks freed into a thread's cache are free), cheap enough to check before every
// command while maxmemory is set (docs/architecture.md, "Memory accounting").
//
// jemalloc answers exactly (`stats.allocated` less `tcache_bytes` after an `epoch` refresh),
// but the refresh merges every arena's statistics: 8 us on an idle process, 230 us with a
// million live blocks and four threads. So the figure is a sum instead: every thread that runs
// Keel's code registers (RegisterThisThread, or its first reading), and Used() adds up, for
// each registered thread, jemalloc's own per-thread counters of bytes allocated and freed
// (`thread.allocatedp`/`deallocatedp`, exact and cumulative since the thread started), plus
// the net figures of registered threads that exited. A block freed by another thread than the
// one that allocated it nets out in the sum. What the sum cannot see (jemalloc's own small
// allocations, threads that never registered) is the calibration offset: Calibrate() takes the
// exact figure and keeps the difference, which stays nearly constant (tests/unit/memory
// measures both).
//
// The limit check (UsedForLimit) reads the whole sum only when it matters: a thread whose own
// figure moved by less than kGateStep since its last full reading, while the last full
// reading of any thread lies more than 2 * kGateStep per registered thread under the limit,
// takes that reading plus its own change and reads nothing else.
//
// Without jemalloc (sanitizer builds, the unit test binaries) Used() is the last calibration
// (mallinfo2, or the sanitizer's count), refreshed by Calibrate().
namespace keel::memory {

inline constexpr int64_t kGateStep = 64 * 1024;
// A calibration moves the offset only when the registered threads allocated and freed less
// than this in all while jemalloc merged its statistics (the exact figure is no more
// consistent than that activity).
inline constexpr uint64_t kCalibrationActivity = 64 * 1024;
// ...and only to within this of the previous quiet calibration's figure (a quiet reading was
// seen 128 KiB off, most likely a thread descheduled inside a free of a large block).
inline constexpr int64_t kCalibrationAgreement = 16 * 1024;

// Registers the calling thread's counters (idempotent; a thread_local test once registered).
// Every thread Keel starts calls it first; a thread's counters count from its start, so a late
// registration loses nothing. Unregistering is automatic at the thread's exit.
void RegisterThisThread();
// Bytes allocated, Redis's used_memory: the registered threads' sum plus the calibration
// offset. Any thread (it registers the caller); two loads per registered thread.
uint64_t Used();
// Used() for a check against `limit`: exact when memory may be within the gate's margin of the
// limit, else an estimate known to be under it (two thread-local loads). Any thread.
uint64_t UsedForLimit(uint64_t limit);
// Reads the exact figure (jemalloc epoch + stats.allocated - tcache_bytes) and, when the
// reading was quiet enough and agrees with the previous quiet one (kCalibrationActivity,
// kCalibrationAgreement; always the first time), resets the offset
// Used() adds; returns Used() after it and raises the peak. Tens to hundreds of microseconds:
// cron, INFO and MEMORY only.
uint64_t Calibrate();
// What the last Calibrate() found outside the registered threads' sum (bytes; may be < 0).
int64_t CalibrationOffset();
// Threads registered now.
int RegisteredThreads();
// The exact figure without touching the offset (tests and measurements).
uint64_t ExactForTesting();
// The highest Used() seen by Calibrate (INFO used_memory_peak).
uint64_t Peak();
// Records the memory in use before any data is loaded (MEMORY STATS startup.allocated), and
// returns it.
void MarkStartup();
uint64_t Startup();
// Resident set size of the process (/proc/self/statm).
uint64_t Rss();
// "jemalloc-5.3.0" or "libc" (INFO mem_allocator).
std::string_view AllocatorName();
// jemalloc statistics not exposed above; 0 without jemalloc. "stats.active", "stats.resident",
// "stats.mapped", "stats.retained", "stats.metadata" (refreshed by the last Calibrate()).
uint64_t AllocatorStat(const char* name);
// MEMORY PURGE: returns dirty pages of every arena to the kernel. False without jemalloc.
bool Purge();
// jemalloc's mallctl(3) (DEBUG MALLCTL): 0 or an errno value; ENOENT without jemalloc.
int Mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen);
// MEMORY MALLOC-STATS: the allocator's own report.
std::string MallocStats();
// Bytes as INFO shows them: "512B", "1.50K", "2.00M", "3.25G", "1.00T".
std::string HumanBytes(uint64_t n);

}  // namespace keel::memory
