#include "keel/common/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
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

std::atomic<int64_t> g_published{0};  // sum of the publishing threads' net allocations
std::atomic<int64_t> g_offset{0};     // exact figure minus g_published at the last calibration
std::atomic<uint64_t> g_peak{0};

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

#ifdef KEEL_HAVE_JEMALLOC
// This thread's jemalloc counters (bytes ever allocated / freed by it) and what it published.
struct ThreadCounters {
  const uint64_t* allocated = nullptr;
  const uint64_t* deallocated = nullptr;
  int64_t published = 0;
  bool ready = false;
};
thread_local ThreadCounters t_counters;

uint64_t ExactAllocated() {
  if (!HaveJemalloc()) return LibcAllocated();
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return 0;
  return allocated;
}
#else
uint64_t ExactAllocated() { return LibcAllocated(); }
#endif

}  // namespace

void PublishThisThread(bool force) {
#ifdef KEEL_HAVE_JEMALLOC
  ThreadCounters& t = t_counters;
  if (!t.ready) {
    t.ready = true;
    if (!HaveJemalloc()) return;
    uint64_t* p = nullptr;
    size_t len = sizeof(p);
    if (mallctl("thread.allocatedp", &p, &len, nullptr, 0) == 0) t.allocated = p;
    len = sizeof(p);
    if (mallctl("thread.deallocatedp", &p, &len, nullptr, 0) == 0) t.deallocated = p;
  }
  if (t.allocated == nullptr || t.deallocated == nullptr) return;
  int64_t net = static_cast<int64_t>(*t.allocated - *t.deallocated);
  int64_t delta = net - t.published;
  if (delta > kPublishStep || delta < -kPublishStep || (force && delta != 0)) {
    g_published.fetch_add(delta, std::memory_order_relaxed);
    t.published = net;
  }
#endif
}

uint64_t Used() {
  int64_t v =
      g_published.load(std::memory_order_relaxed) + g_offset.load(std::memory_order_relaxed);
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

uint64_t Calibrate() {
  uint64_t exact = ExactAllocated();
  g_offset.store(static_cast<int64_t>(exact) - g_published.load(std::memory_order_relaxed),
                 std::memory_order_relaxed);
  RaisePeak(exact);
  return exact;
}

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
