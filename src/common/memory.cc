#include "keel/common/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KEEL_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KEEL_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifndef KEEL_SANITIZER_ALLOCATOR
#define KEEL_SANITIZER_ALLOCATOR 0
#endif
#if KEEL_SANITIZER_ALLOCATOR
// From the sanitizer runtime (declared here: GCC ships no header for it).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

#ifdef KEEL_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
// Weak: keel-server links jemalloc, the test binaries that link this library do not (their
// allocator stays glibc's, which some unit tests' expectations about block addresses assume).
#pragma weak mallctl
#pragma weak malloc_stats_print
#endif

namespace keel::memory {

namespace {

std::atomic<int64_t> g_offset{0};  // exact figure minus the tracked sum at the last calibration
std::atomic<uint64_t> g_peak{0};
std::atomic<uint64_t> g_last_reading{0};  // the last full reading, for the limit check's gate
std::atomic<bool> g_calibrated{false};
// The last quiet calibration's candidate offset (under g_calibrate_mu).
int64_t g_last_candidate = 0;
bool g_have_candidate = false;
std::mutex g_calibrate_mu;

void RaisePeak(uint64_t used) {
  uint64_t peak = g_peak.load(std::memory_order_relaxed);
  while (used > peak && !g_peak.compare_exchange_weak(peak, used)) {
  }
}

bool HaveJemalloc() {
#ifdef KEEL_HAVE_JEMALLOC
  return &mallctl != nullptr;
#else
  return false;
#endif
}

uint64_t LibcAllocated() {
#if KEEL_SANITIZER_ALLOCATOR
  // ASan's and TSan's allocators keep their own exact count (mallinfo2 reports nothing there,
  // and RSS does not fall when keys are evicted).
  return __sanitizer_get_current_allocated_bytes();
#endif
  struct mallinfo2 mi = mallinfo2();
  uint64_t n = mi.uordblks + mi.hblkhd;
  return n != 0 ? n : Rss();  // sanitizers' allocators report nothing here
}

// ---- The thread registry (jemalloc only) ----
//
// Each registered thread owns a slot holding the addresses of its jemalloc counters (bytes ever
// allocated / freed by it, in its own thread state). A reader sums every slot's two counters:
// plain aligned 64-bit loads of words only their owner writes. A thread's counters live in its
// thread state, which is gone once it has exited, so an exiting thread (its thread_local
// destructor, which runs before jemalloc's own clean-up) moves its net figure into g_retired,
// clears its slot and waits until no reader that may have seen the old addresses is still
// summing: each reader makes its own slot's `reading` odd while it sums (a store and a fence,
// no shared read-modify-write), and the exiting thread, after clearing its addresses and a
// fence, waits for every odd `reading` to move on (Dekker's pattern: one of the two sides sees
// the other's store).
constexpr int kMaxSlots = 1024;
struct alignas(64) Slot {
  std::atomic<const uint64_t*> allocated{nullptr};
  std::atomic<const uint64_t*> deallocated{nullptr};
  std::atomic<uint64_t> reading{0};  // odd while this slot's thread sums the others
  bool taken = false;                // under g_registry_mu
};
Slot g_slots[kMaxSlots];
std::atomic<int> g_slots_used{0};   // slots [0, n) may be taken
std::atomic<int> g_threads{0};      // registered threads now
std::atomic<int64_t> g_retired{0};  // net figures of the threads that exited
std::mutex g_registry_mu;

uint64_t LoadCounter(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

#ifdef KEEL_HAVE_JEMALLOC
uint64_t ExactAllocated() {
  if (!HaveJemalloc()) return LibcAllocated();
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return 0;
  // Freed blocks that the threads' caches keep for reuse are still "allocated" to jemalloc's
  // arenas (MBs under load, and they come and go as the caches fill and flush); to the
  // application, and to Redis's used_memory, they are free.
  size_t cached = 0;
  len = sizeof(cached);
  // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
  if (mallctl("stats.arenas.4096.tcache_bytes", &cached, &len, nullptr, 0) != 0) cached = 0;
  return allocated > cached ? allocated - cached : 0;
}

class ThreadRegistration {
 public:
  ThreadRegistration() {
    if (!HaveJemalloc()) return;
    uint64_t* a = nullptr;
    uint64_t* d = nullptr;
    size_t len = sizeof(a);
    if (mallctl("thread.allocatedp", &a, &len, nullptr, 0) != 0) return;
    len = sizeof(d);
    if (mallctl("thread.deallocatedp", &d, &len, nullptr, 0) != 0) return;
    std::lock_guard<std::mutex> lock(g_registry_mu);
    for (int i = 0; i < kMaxSlots; ++i) {
      if (g_slots[i].taken) continue;
      slot_ = &g_slots[i];
      slot_->taken = true;
      allocated_ = a;
      deallocated_ = d;
      slot_->allocated.store(a, std::memory_order_release);
      slot_->deallocated.store(d, std::memory_order_release);
      if (i >= g_slots_used.load(std::memory_order_relaxed)) {
        g_slots_used.store(i + 1, std::memory_order_release);
      }
      g_threads.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  ~ThreadRegistration() {
    if (slot_ == nullptr) return;
    std::lock_guard<std::mutex> lock(g_registry_mu);
    // Retired first, then the slot cleared: a reader in between counts this thread twice for an
    // instant (an over-estimate, the safe side for maxmemory), never not at all.
    g_retired.fetch_add(Net(), std::memory_order_seq_cst);
    slot_->allocated.store(nullptr, std::memory_order_seq_cst);
    slot_->deallocated.store(nullptr, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    int n = g_slots_used.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i) {
      if (&g_slots[i] == slot_) continue;
      uint64_t r = g_slots[i].reading.load(std::memory_order_acquire);
      if ((r & 1) == 0) continue;
      while (g_slots[i].reading.load(std::memory_order_acquire) == r) std::this_thread::yield();
    }
    slot_->taken = false;
    g_threads.fetch_sub(1, std::memory_order_relaxed);
  }
  ThreadRegistration(const ThreadRegistration&) = delete;
  ThreadRegistration& operator=(const ThreadRegistration&) = delete;

  Slot* slot() const { return slot_; }
  int64_t Net() const {
    return static_cast<int64_t>(*allocated_ - *deallocated_);  // own counters: plain loads
  }

 private:
  Slot* slot_ = nullptr;
  const uint64_t* allocated_ = nullptr;
  const uint64_t* deallocated_ = nullptr;
};

ThreadRegistration& ThisThread() {
  thread_local ThreadRegistration reg;
  return reg;
}

// The sum of every registered thread's net allocations, and those of the threads that exited;
// `gross`, when given, gets the sum of their bytes allocated plus bytes freed (the activity).
int64_t Tracked(uint64_t* gross = nullptr) {
  Slot* me = ThisThread().slot();
  uint64_t r = 0;
  if (me != nullptr) {
    r = me->reading.load(std::memory_order_relaxed) + 1;
    me->reading.store(r, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  } else {
    // Not registered (no jemalloc, or no free slot): reading others' counters would not be safe.
    return 0;
  }
  int64_t sum = g_retired.load(std::memory_order_relaxed);
  int n = g_slots_used.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    const uint64_t* a = g_slots[i].allocated.load(std::memory_order_acquire);
    const uint64_t* d = g_slots[i].deallocated.load(std::memory_order_acquire);
    if (a == nullptr || d == nullptr) continue;
    uint64_t av = LoadCounter(a), dv = LoadCounter(d);
    sum += static_cast<int64_t>(av - dv);
    if (gross != nullptr) *gross += av + dv;
  }
  me->reading.store(r + 1, std::memory_order_release);
  return sum;
}
#else
uint64_t ExactAllocated() { return LibcAllocated(); }
int64_t Tracked(uint64_t* = nullptr) { return 0; }
#endif

// This thread's own net figure and the one it had at its last full reading (the gate's state).
struct Gate {
  int64_t own_at_reading = 0;
  bool valid = false;
};
thread_local Gate t_gate;

int64_t OwnNet() {
#ifdef KEEL_HAVE_JEMALLOC
  ThreadRegistration& reg = ThisThread();
  return reg.slot() != nullptr ? reg.Net() : 0;
#else
  return 0;
#endif
}

}  // namespace

void RegisterThisThread() {
#ifdef KEEL_HAVE_JEMALLOC
  ThisThread();
#endif
}

int RegisteredThreads() { return g_threads.load(std::memory_order_relaxed); }

uint64_t Used() {
  int64_t v = Tracked() + g_offset.load(std::memory_order_relaxed);
  uint64_t used = v > 0 ? static_cast<uint64_t>(v) : 0;
  g_last_reading.store(used, std::memory_order_relaxed);
  return used;
}

uint64_t UsedForLimit(uint64_t limit) {
  Gate& g = t_gate;
  int64_t own = OwnNet();
  int64_t moved = own - g.own_at_reading;
  uint64_t margin = 2 * static_cast<uint64_t>(kGateStep) *
                    static_cast<uint64_t>(std::max(1, g_threads.load(std::memory_order_relaxed)));
  uint64_t last = g_last_reading.load(std::memory_order_relaxed);
  if (g.valid && moved < kGateStep && moved > -kGateStep && last + margin <= limit) {
    int64_t estimate = static_cast<int64_t>(last) + moved;
    return estimate > 0 ? static_cast<uint64_t>(estimate) : 0;
  }
  g.valid = true;
  g.own_at_reading = own;
  return Used();
}

uint64_t Calibrate() {
  uint64_t exact = 0;
  if (HaveJemalloc()) {
    // jemalloc merges its arenas' statistics one after the other while the threads go on
    // allocating and freeing, so the exact figure is only as consistent as the activity during
    // the merge: a thread preempted in the middle of it, with others moving 100 KiB blocks
    // between arenas meanwhile, read 1 MB off (tests/unit/memory). A quiet merge is not enough
    // either: two back-to-back quiet readings agreed on a figure 128 KiB off (most likely a
    // thread descheduled inside a free of a large block, between jemalloc's arena statistics
    // and its own counter, doing nothing while it sleeps). The offset hardly changes (jemalloc's
    // own blocks, ~28 KiB of cache per thread, threads that never registered), so a reading is a
    // candidate only when the registered threads allocated and freed less than kCalibrationActivity
    // in all during it, and the offset moves only to a candidate within kCalibrationAgreement of
    // the previous calibration's candidate; other readings leave it as it was.
    std::lock_guard<std::mutex> lock(g_calibrate_mu);
    uint64_t gross_before = 0, gross_after = 0;
    int64_t before = Tracked(&gross_before);
    exact = ExactAllocated();
    int64_t after = Tracked(&gross_after);
    int64_t candidate = static_cast<int64_t>(exact) - (before + after) / 2;
    bool quiet = gross_after - gross_before <= kCalibrationActivity;
    if (!g_calibrated.load(std::memory_order_relaxed)) {
      g_offset.store(candidate, std::memory_order_relaxed);
      g_calibrated.store(true, std::memory_order_relaxed);
    } else if (quiet && g_have_candidate &&
               std::abs(candidate - g_last_candidate) <= kCalibrationAgreement) {
      g_offset.store(candidate, std::memory_order_relaxed);
    }
    if (quiet) {
      g_last_candidate = candidate;
      g_have_candidate = true;
    }
    exact = Used();
  } else {
    exact = ExactAllocated();
    g_offset.store(static_cast<int64_t>(exact), std::memory_order_relaxed);
  }
  g_last_reading.store(exact, std::memory_order_relaxed);
  RaisePeak(exact);
  return exact;
}

int64_t CalibrationOffset() { return g_offset.load(std::memory_order_relaxed); }

uint64_t ExactForTesting() { return ExactAllocated(); }

std::string HumanBytes(uint64_t n) {
  char buf[32];
  double d = static_cast<double>(n);
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "B", n);
  } else if (n < 1024ull * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  } else if (n < 1024ull * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024 * 1024));
  } else if (n < 1024ull * 1024 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
  }
  return buf;
}

namespace {
std::atomic<uint64_t> g_startup{0};
}  // namespace

void MarkStartup() { g_startup.store(Calibrate(), std::memory_order_relaxed); }
uint64_t Startup() { return g_startup.load(std::memory_order_relaxed); }

uint64_t Peak() { return g_peak.load(std::memory_order_relaxed); }

uint64_t Rss() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

#ifdef KEEL_HAVE_JEMALLOC
std::string_view AllocatorName() { return HaveJemalloc() ? "jemalloc-5.3.0" : "libc"; }

uint64_t AllocatorStat(const char* name) {
  if (!HaveJemalloc()) return 0;
  size_t v = 0;
  size_t len = sizeof(v);
  if (mallctl(name, &v, &len, nullptr, 0) != 0) return 0;
  return v;
}

bool Purge() {
  if (!HaveJemalloc()) return malloc_trim(0) != 0;
  // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
  return mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0;
}

int Mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen) {
  if (!HaveJemalloc()) return ENOENT;
  return mallctl(name, oldp, oldlenp, newp, newlen);
}

std::string MallocStats() {
  if (!HaveJemalloc()) return "Stats not supported for the current allocator";
  std::string out;
  malloc_stats_print(
      [](void* opaque, const char* text) { static_cast<std::string*>(opaque)->append(text); }, &out,
      nullptr);
  return out;
}
#else
std::string_view AllocatorName() { return "libc"; }
uint64_t AllocatorStat(const char*) { return 0; }
bool Purge() { return malloc_trim(0) != 0; }
int Mallctl(const char*, void*, size_t*, void*, size_t) { return ENOENT; }
std::string MallocStats() { return "Stats not supported for the current allocator"; }
#endif

}  // namespace keel::memory
