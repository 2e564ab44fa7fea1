#pragma once

// Server-assisted client-side caching (CLIENT TRACKING), as Redis 6+ does it.
//
// A client that turns tracking on is told when a key it may have cached changes:
//   * default mode: the keys its read-only commands named are remembered in the tracking table
//     (key -> ids of clients that read it); a change to the key sends each of them an
//     invalidation and forgets the key. OPTIN remembers only after CLIENT CACHING YES, OPTOUT
//     skips after CLIENT CACHING NO (both for the next command only).
//   * BCAST: nothing is remembered; every change to a key under one of the client's prefixes
//     (all keys without PREFIX) is sent, batched per prefix at the end of the command.
//   * NOLOOP: not about the client's own writes. REDIRECT id: the messages go to another client
//     (a RESP2 one receives them as pub/sub messages on __redis__:invalidate).
//   * FLUSHDB/FLUSHALL send every tracking client a null invalidation and empty the table;
//     Keel does the same for SWAPDB (Redis 7.0 sends nothing there and leaves stale caches).
//   * past tracking-table-max-keys, remembered keys are evicted, with their invalidations.
// Like Redis, the table is keyed by key name, whatever the database.
//
// Threads and locks. The table is split in 256 buckets by a hash of the key, each with its own
// leaf mutex (taken with shard locks held, never the other way round). A read records its keys
// while the dispatcher still holds their shard locks, and a change reports itself from the
// write path under the same locks, so a read and a later write of a key are ordered. The write
// path only queues (target, key) pairs on its own thread; Flush, after the command has released
// its locks, turns them into messages and hands them to each receiver's io thread (or appends
// them to the writer's own output, after its reply). A client that does not track pays nothing
// on its reads; a write pays two relaxed loads while nobody tracks.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/keyspace/changes.h"

namespace keel {

struct Client;
struct ServerState;

// What CLIENT TRACKING ON asked for.
struct TrackingMode {
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  uint64_t redirect = 0;  // 0: none
  std::vector<std::string> prefixes;
};

// A client's tracking state, as CLIENT TRACKINGINFO and CLIENT LIST show it.
struct TrackingInfo {
  bool on = false;
  TrackingMode mode;
  bool broken_redirect = false;
};

class Tracking : public ChangeObserver {
 public:
  explicit Tracking(ServerState* server) : server_(server) {}
  Tracking(const Tracking&) = delete;
  Tracking& operator=(const Tracking&) = delete;

  // CLIENT TRACKING ON (REQUIRES: the mode was validated) and OFF; OFF is also what a
  // disconnect and RESET do. Io thread of `c`.
  void Enable(Client& c, const TrackingMode& mode);
  void Disable(Client& c);
  // The state of client `id` (off when it does not track). Any thread.
  TrackingInfo Info(uint64_t id) const;

  // The read path, for a tracking client in default mode after a read-only command: remembers
  // `keys` unless OPTIN/OPTOUT and CLIENT CACHING say otherwise. REQUIRES the keys' shard locks.
  void Remember(const Client& c, std::span<const std::string_view> keys);

  // The write path (Keyspace::Changed): queues the invalidations a change of `key` causes, on
  // this thread. REQUIRES the key's shard lock.
  void OnChange(const KeyChange& change) override;
  // FLUSHDB, FLUSHALL, SWAPDB: queues a null invalidation for every tracking client and forgets
  // every remembered key.
  void InvalidateAll();

  // Sends what this thread queued. `self` is the client whose command just ran (nullptr from
  // housekeeping): its own messages are appended to `out`, after the command's reply, as Redis
  // does. Call with no shard lock held.
  void Flush(Client* self, std::string* out);
  static bool HasPending() { return !pending_.empty(); }

  // The client whose command is running on this thread, for NOLOOP (0: none, e.g. expiry).
  static void SetWriter(uint64_t id) { writer_ = id; }

  size_t tracked_keys() const {
    return static_cast<size_t>(tracked_keys_.load(std::memory_order_relaxed));
  }
  size_t tracking_clients() const;
  // INFO's tracking_total_items (the remembered (key, client) pairs) and
  // tracking_total_prefixes (the distinct BCAST prefixes of the tracking clients).
  size_t tracked_items() const {
    return static_cast<size_t>(tracked_items_.load(std::memory_order_relaxed));
  }
  size_t tracked_prefixes() const;

 private:
  struct Bucket {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<uint64_t>> keys;  // GUARDED_BY(mu)
  };
  // One queued invalidation: for `target` (a client id; 0 with `all`: every tracking client).
  // `prefix` is the BCAST prefix index the key matched, -1 in default mode.
  struct Pending {
    uint64_t target;
    uint64_t writer;
    int prefix;
    bool all;
    std::string key;
  };
  struct Tracker {
    TrackingMode mode;
    bool broken_redirect = false;
  };

  static constexpr size_t kBuckets = 256;
  // Keep the counters, and the keyspace's count of tracking interest, in step.
  void AddKeys(int64_t delta);
  void AddBcast(int64_t delta);
  static size_t BucketOf(std::string_view key);
  // Hands one message to client `to`: appended to `out` when `to` is `self`, else delivered on
  // its io thread. `channel`: a RESP2 pub/sub message, dropped unless `to` is subscribed.
  static void Send(Client* self, std::string* out, const std::shared_ptr<Client>& to,
                   std::string bytes, bool channel);
  // Evicts remembered keys while there are more than tracking-table-max-keys.
  void EvictOverLimit();
  // Queues the invalidation of `key` for the clients that remembered it, and forgets it.
  // REQUIRES b.mu.
  void TakeKeyLocked(Bucket& b, std::unordered_map<std::string, std::vector<uint64_t>>::iterator it,
                     uint64_t writer);

  ServerState* server_;
  Bucket buckets_[kBuckets];
  std::atomic<int64_t> tracked_keys_{0};
  std::atomic<int64_t> tracked_items_{0};
  std::atomic<int64_t> bcast_clients_{0};
  std::atomic<uint64_t> evict_cursor_{0};
  mutable std::mutex mu_;                           // leaf lock, below the buckets'
  std::unordered_map<uint64_t, Tracker> trackers_;  // GUARDED_BY(mu_)
  static inline thread_local std::vector<Pending> pending_;
  static inline thread_local uint64_t writer_ = 0;
};

}  // namespace keel
