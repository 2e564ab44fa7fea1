// jemalloc's options for keel-server, read by jemalloc at start-up.
//
// background_thread: jemalloc returns freed memory to the kernel (purging dirty pages) from its
// own thread instead of inside whichever malloc or free call crosses the decay deadline. Inline
// purging showed as single SETs taking milliseconds while bench/stall loads 10M keys; Redis
// turns the same option on (jemalloc-bg-thread yes).
extern "C" {
// NOLINTNEXTLINE: the name is jemalloc's.
extern const char* const malloc_conf;
const char* const malloc_conf = "background_thread:true";
}
