#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Memory accounting: what Redis calls used_memory (every byte allocated through the allocator),
// cheap enough to read before every command while maxmemory is set.
//
// jemalloc answers exactly (`stats.allocated` after an `epoch` refresh), but the refresh merges
// every arena's statistics: 8 us on an idle process, 230 us with a million live blocks and four
// threads (bench note in docs/performance.md, "Memory accounting"). So the exact reading is the
// calibration, and the hot path reads a running sum instead: each thread that runs commands
// folds its own jemalloc counters (`thread.allocatedp`/`deallocatedp`, two loads from its own
// thread state) into one shared atomic whenever they moved by more than kPublishStep since it
// last did; Calibrate() reads the exact figure and keeps the difference as an offset, which
// absorbs what the threads that never publish (jemalloc's own, a snapshot writer) allocated.
// Between calibrations the reading is off by at most kPublishStep per publishing thread plus
// what the non-publishing threads allocated since the last calibration.
//
// Without jemalloc (sanitizer builds) Used() is the last calibration (mallinfo2, or the RSS when
// the allocator reports nothing), refreshed by Calibrate().
namespace keel::memory {

inline constexpr int64_t kPublishStep = 64 * 1024;

// Bytes allocated, Redis's used_memory: the published sum plus the calibration offset. Any
// thread; a few loads.
uint64_t Used();
// Folds this thread's allocation counters into the shared sum if they moved by more than
// kPublishStep (call it where a thread's work allocates: before each command, after a batch of
// frees), or by any amount with `force` (after an eviction pass, so that the next reading sees
// what it freed). Any thread; two thread-local loads when nothing is due.
void PublishThisThread(bool force = false);
// The exact figure (jemalloc epoch + stats.allocated), which also resets the offset Used()
// adds and raises the peak. Tens to hundreds of microseconds: cron and INFO only.
uint64_t Calibrate();
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
