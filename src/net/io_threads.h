#pragma once

// The io threads' shared parts, used by the server's pieces (listeners.cc, io_balancer.cc,
// cron.cc, server.cc): one asio::io_context per thread, the connections each thread serves, and
// which threads are inside a busy script.

#include <pthread.h>

#include <asio.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "connection.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"

namespace keel {

struct IoThreads {
  IoThreads(ServerState* state, int threads);
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  size_t size() const { return contexts.size(); }

  // New connections go to the first state->io_threads_serving io threads; IoBalancer sets it.
  size_t Serving() const {
    return static_cast<size_t>(state->io_threads_serving.load(std::memory_order_relaxed));
  }
  // io-threads-serving, bounded by the threads there are; 0 when automatic.
  size_t PinnedServing() const;

  // Whether io thread i answered from a busy script's hook in the last 20 ms: it is inside a
  // script past busy-reply-threshold, and a client started or moved there would wait for the
  // script's end (its start is a post the thread cannot run).
  bool ThreadBusy(size_t i) const {
    return busy_seen_us != nullptr &&
           NowMonotonicUs() - busy_seen_us[i].load(std::memory_order_relaxed) < 20000;
  }
  // `index`, or the next thread that is not busy (index when all are).
  size_t AvoidBusy(size_t index) const;

  // On io thread `index`: records a connection it serves (pruning the list now and then).
  void AddLive(size_t index, const std::shared_ptr<Connection>& conn);
  // On io thread `index`: drops the connections gone, or moved to another thread.
  void PruneLive(size_t index);

  ServerState* state;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<pthread_t> thread_ids;  // per io thread, for its CPU clock (set by Server::Run)
  // Connections per io thread, so shutdown and the balancer can reach each on its own thread.
  // Each list is touched only by its thread.
  std::vector<std::vector<std::weak_ptr<Connection>>> live;
  std::vector<size_t> live_pruned_size;
  // Per io thread: when it last answered from a busy script's hook (set by Server::Run).
  std::unique_ptr<std::atomic<int64_t>[]> busy_seen_us;
  std::atomic<bool> shutting_down{false};
};

}  // namespace keel
