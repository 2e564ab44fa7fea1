#include "io_threads.h"

#include <algorithm>

#include "keel/config/config.h"

namespace keel {

namespace {

std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
  std::vector<std::unique_ptr<asio::io_context>> v;
  for (int i = 0; i < std::max(1, n); ++i) {
    // Each context is run by exactly one thread, and every socket operation of a connection
    // (reads, writes, close) is started on its own context's thread, so the reactor's
    // per-socket locking is not needed. Posting from other threads (ClientHandle) and timers
    // stay locked: UNSAFE_IO keeps the scheduler and registration locks.
    v.push_back(std::make_unique<asio::io_context>(ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  }
  return v;
}

}  // namespace

IoThreads::IoThreads(ServerState* s, int threads)
    : state(s),
      contexts(MakeContexts(threads)),
      live(contexts.size()),
      live_pruned_size(contexts.size()) {
  for (auto& c : contexts) guards.emplace_back(asio::make_work_guard(*c));
  state->io_thread_clients = std::make_unique<std::atomic<int64_t>[]>(contexts.size());
  size_t pinned = PinnedServing();
  state->io_threads_serving = static_cast<int>(pinned > 0 ? pinned : 1);
}

size_t IoThreads::PinnedServing() const {
  return std::min<size_t>(state->config->io_threads_serving(), contexts.size());
}

size_t IoThreads::AvoidBusy(size_t index) const {
  if (!ThreadBusy(index)) return index;
  for (size_t k = 1; k < contexts.size(); ++k) {
    size_t i = (index + k) % contexts.size();
    if (!ThreadBusy(i)) return i;
  }
  return index;
}

void IoThreads::AddLive(size_t index, const std::shared_ptr<Connection>& conn) {
  if (live[index].size() > 64 && live[index].size() >= 2 * live_pruned_size[index]) {
    PruneLive(index);
  }
  live[index].push_back(conn);
}

void IoThreads::PruneLive(size_t index) {
  std::erase_if(live[index], [index](const std::weak_ptr<Connection>& w) {
    auto c = w.lock();
    return !c || !c->ServedBy(index);
  });
  live_pruned_size[index] = live[index].size();
}

}  // namespace keel
