#pragma once

// BGSAVE: a fork-less point-in-time snapshot. A thread walks the databases shard by shard, each
// shard serialized whole under its own lock (one lock at a time), and writes the file while no
// lock is held. Point in time: the snapshot is the keyspace's BeforeChangeHook for its duration.
// A change to a key of a shard not walked yet first serializes the key's old entry into a side
// buffer and records the key in that shard's skip set; a key inserted into such a shard after the
// start is recorded in the skip set too; the walker leaves skip-set keys out, and the side
// buffers go to the file with their database. docs/persistence.md, "BGSAVE", has the details.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "keel/common/status.h"
#include "keel/keyspace/changes.h"
#include "keel/keyspace/keyspace.h"
#include "keel/persistence/snapshot.h"

namespace keel {

struct BgsaveOptions {
  SaveOptions save;
  // Test knob (keel-bgsave-chunk-delay-us): sleep this long after each shard, to make a
  // snapshot slow enough for tests to change keys while it runs. 0 in production.
  int64_t shard_delay_us = 0;
  std::atomic<bool>* abort = nullptr;               // set to stop early (shutdown)
  std::atomic<uint64_t>* keys_processed = nullptr;  // progress for INFO, may be null
};

class BackgroundSnapshot final : public BeforeChangeHook {
 public:
  BackgroundSnapshot(Keyspace& ks, BgsaveOptions options);
  ~BackgroundSnapshot() override;
  BackgroundSnapshot(const BackgroundSnapshot&) = delete;
  BackgroundSnapshot& operator=(const BackgroundSnapshot&) = delete;

  // Registers the hook: from now on the snapshot is fixed. Returns the number of keys then.
  // REQUIRES: no shard lock held by this thread.
  uint64_t Start();
  // Writes the snapshot to `sink` (Begin .. Finish) and unregisters the hook. Call once, after
  // Start, on the snapshot thread.
  Status Write(rdb::Sink* sink);
  // Unregisters the hook (idempotent; Write does it); waits until no change can still be in it.
  void Stop();

  // The largest the side buffers and skip sets were at once, in bytes (INFO rdb_last_cow_size).
  uint64_t peak_side_bytes() const { return peak_side_bytes_.load(); }
  // The longest the walker held one shard lock, and the longest a writer spent in the hook
  // saving an old entry (under its shard lock), in microseconds: the snapshot's stalls.
  int64_t longest_walk_us() const { return longest_walk_us_; }
  int64_t longest_hook_us() const { return longest_hook_us_.load(); }

  void BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) override;
  void BeforeInsert(int db, size_t shard, std::string_view key) override;
  void BeforeDbChange(int db, BeforeChangeKind kind) override;

 private:
  using KeySet = std::unordered_set<std::string>;
  // Serializes the shard's entries not in its skip set into `out`, marks it visited and drops
  // its skip set. REQUIRES: the shard's lock.
  void WalkShard(size_t flat, std::string* out);
  void AppendOne(const Entry& e, std::string* out) const;
  void AddSide(int db, std::string_view bytes, int64_t set_bytes);

  Keyspace& ks_;
  BgsaveOptions options_;
  bool registered_ = false;
  // Per flat shard (db * kShards + shard), read and written under that shard's lock only.
  std::vector<uint8_t> visited_;
  std::vector<std::unique_ptr<KeySet>> skip_;
  std::vector<uint64_t> db_keys_, db_expires_;  // at the start (RESIZEDB hints)
  // Old entries serialized by the hook, per database; guarded by side_mu_.
  std::mutex side_mu_;
  std::vector<std::string> side_;
  int64_t side_bytes_ = 0;
  std::atomic<uint64_t> peak_side_bytes_{0};
  int64_t longest_walk_us_ = 0;
  std::atomic<int64_t> longest_hook_us_{0};
};

}  // namespace keel
