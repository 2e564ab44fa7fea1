#include "keel/commands/server_state.h"

#include <algorithm>

namespace keel {

void ServerStats::Reset() {
  total_connections_received = 0;
  total_commands_processed = 0;
  rejected_connections = 0;
  total_net_input_bytes = 0;
  total_net_output_bytes = 0;
  total_error_replies = 0;
  unexpected_error_replies = 0;
  keyspace_hits = 0;
  keyspace_misses = 0;
  max_command_usec = 0;
  max_housekeeping_usec = 0;
  io_thread_moves = 0;
  evicted_clients = 0;
  total_reads_processed = 0;
  total_writes_processed = 0;
  expire_cycle_us = 0;
  dump_payload_sanitizations = 0;
}

void ErrorStats::Count(std::string_view reply_line) {
  // reply_line starts after the '-': "ERR ..." or "WRONGTYPE ...".
  std::string_view code = reply_line.substr(0, reply_line.find_first_of(" \r"));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, n] : counts_) {
    if (name == code) {
      ++n;
      return;
    }
  }
  if (counts_.size() < 128) counts_.emplace_back(std::string(code), 1);
}

void ErrorStats::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  counts_.clear();
}

std::vector<std::pair<std::string, uint64_t>> ErrorStats::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto copy = counts_;
  std::sort(copy.begin(), copy.end());
  return copy;
}

void ClientRegistry::Add(std::shared_ptr<Client> c) {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.emplace(c->id, std::move(c));
  count_.store(clients_.size(), std::memory_order_relaxed);
}

void ClientRegistry::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  clients_.erase(id);
  count_.store(clients_.size(), std::memory_order_relaxed);
  size_t before = monitors_.size();
  std::erase_if(monitors_, [id](const std::weak_ptr<Client>& w) {
    auto c = w.lock();
    return c == nullptr || c->id == id;
  });
  if (monitors_.size() != before) monitor_count_.store(monitors_.size());
}

void ClientRegistry::ForEach(const std::function<void(Client&)>& fn) const {
  // Snapshot under the lock, call outside it: fn may use Find() or take a client's own mutex.
  std::vector<std::shared_ptr<Client>> sorted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sorted.reserve(clients_.size());
    for (const auto& [id, c] : clients_) sorted.push_back(c);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  for (const auto& c : sorted) fn(*c);
}

std::shared_ptr<Client> ClientRegistry::Find(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

void ClientRegistry::AddMonitor(std::shared_ptr<Client> c) {
  std::lock_guard<std::mutex> lock(mu_);
  monitors_.push_back(c);
  monitor_count_.store(monitors_.size());
}

void ClientRegistry::FeedMonitors(const std::string& line) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& w : monitors_) {
    if (auto c = w.lock()) {
      if (auto h = c->handle.lock()) h->Deliver(line);
    }
  }
}

}  // namespace keel
