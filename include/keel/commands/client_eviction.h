#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace keel {

class Config;
struct ServerState;

// Client memory accounting and client eviction (maxmemory-clients), Redis 7.0's meaning.
//
// Each connection measures its own memory on its io thread (query buffer, output buffers, big
// argument strings, queued MULTI commands, a fixed overhead for the connection and client
// objects), publishes it in Client::tot_mem (CLIENT LIST's tot-mem) and adds the change to
// `total`, the sum over all connected clients (INFO memory mem_clients_normal). Connections
// change `total` only when their figure moved, so a client in a steady request/reply loop does
// not touch the shared line at all.
//
// Eviction: when `total` reaches the limit (maxmemory-clients in bytes, or a percentage of
// maxmemory; never under 128 KiB, as Redis), evictable clients are closed, largest first, until
// the total of those not being closed is under the limit. Clients with CLIENT NO-EVICT on and
// MONITOR clients are never evicted, but their memory counts toward the total, as in Redis. A
// pass runs from the connection whose figure grew past the limit (at most once per
// kMinPassIntervalUs) and from the 10 Hz cron; one pass at a time. Victims are closed through
// ClientHandle::Kill, on their own io thread between two of their commands, so no command is
// cut in half. Where Redis keeps clients in 19 memory buckets (32 KiB, doubling) and evicts from
// the top bucket down, Keel sorts the evictable clients by their figure: largest first, exactly.
//
// Thread-safety: every member is an atomic or guarded by pass_mu; any thread may call the
// functions below.
struct ClientMemory {
  std::atomic<uint64_t> total{0};  // the sum of every client's accounted memory
  std::atomic<uint64_t> limit{0};  // effective maxmemory-clients in bytes, 0 = off
  // maxmemory-clients is not 0 (a percentage with no maxmemory is set, but its limit is off).
  std::atomic<bool> configured{false};
  std::atomic<int64_t> last_pass_us{0};
  std::mutex pass_mu;  // one eviction pass at a time (try_lock: busy means being handled)
  // INFO clients client_recent_max_input_buffer / _output_buffer: the largest query and output
  // buffer seen in each of the last kPeakSlots seconds. A slot holds its second (low 16 bits of
  // the Unix second, in the top 16 bits) and the largest size (the low 48 bits): a connection
  // raises the slot of the current second, restarting it when it holds an older second, and a
  // reader takes only slots of the last kPeakSlots seconds. No clearing, so no race with one.
  static constexpr int kPeakSlots = 8;
  std::array<std::atomic<uint64_t>, kPeakSlots> peak_input{};
  std::array<std::atomic<uint64_t>, kPeakSlots> peak_output{};
};

namespace client_eviction {

// Redis's floor for the effective limit: a smaller setting would leave no room to talk to the
// server at all.
inline constexpr uint64_t kMinLimit = 128 * 1024;
inline constexpr int64_t kMinPassIntervalUs = 1000;
// What a connection costs besides its buffers: the Connection and Client objects, the socket's
// reactor state and the registry's entry (measured with bench/pressure: about 1.3 kB of RSS for
// an idle connection).
inline constexpr uint64_t kConnectionOverhead = 1536;

// Reads maxmemory-clients and maxmemory and stores the effective limit. Call at start-up and
// from the apply hooks of both options (it does not take the config lock).
void ApplyConfig(const Config& config, ClientMemory* mem);

// A connection's figure changed from `before` to `after` (its query buffer is `qbuf` bytes
// allocated, its output `omem`): updates the total and the recent peaks, and runs an eviction
// pass when the total grew to the limit.
void Account(ServerState& s, uint64_t before, uint64_t after, uint64_t qbuf, uint64_t omem);

// An eviction pass, if the total is at the limit and no other pass runs (see above).
void EvictIfNeeded(ServerState& s);

// The 10 Hz cron: runs a pass while over the limit.
void Cron(ServerState& s);

// INFO clients' client_recent_max_input_buffer and _output_buffer.
uint64_t RecentMaxInput(const ClientMemory& mem);
uint64_t RecentMaxOutput(const ClientMemory& mem);

// DEBUG CLIENT-EVICTION's text: Redis's 19 memory buckets with each one's total and client count
// (Keel fills them from the evictable clients' figures when asked).
std::string DebugReport(ServerState& s);

}  // namespace client_eviction
}  // namespace keel
