#pragma once

// BGSAVE: a fork-less point-in-time snapshot. A thread walks each shard's table in chunks of
// about kChunkEntries entries with the table's reverse-binary scan cursor, one shard lock held
// per chunk (never two), and writes the file while no lock is held. Point in time: the snapshot
// is the keyspace's BeforeChangeHook for its duration. The cursor is the visited mark: a key is
// walked already iff the bit-reversal of its hash is below the bit-reversal of its shard's cursor
// (or the shard is done), whatever resizes happened between chunks. A change to a key not
// walked yet first serializes the key's old entry into a side buffer and records the key in the
// shard's skip set; a key inserted at a place not walked yet is recorded in the skip set too; the
// walker leaves skip-set keys out, and the side buffers go to the file with their database.
// docs/persistence.md, "BGSAVE", and docs/architecture.md have the details and the invariant.

#include <atomic>
#include <cstdint>
#include <functional>
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
  // Test knob (keel-bgsave-shard-delay-us): sleep this long after each chunk, to make a
  // snapshot slow enough for tests to change keys while it runs. 0 in production.
  int64_t shard_delay_us = 0;
  std::atomic<bool>* abort = nullptr;  // set to stop early (shutdown)
  // Entries per lock hold (kChunkEntries; tests make it small), and a test seam called on the
  // walker's thread after each chunk with no lock held (tests change keys there).
  size_t chunk_entries = 0;
  std::function<void()> after_chunk;
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
  // Entries the walker serializes per lock hold (it stops early past kChunkBytes of output).
  static constexpr size_t kChunkEntries = 1000;
  static constexpr size_t kChunkBytes = 256 * 1024;

  // True if the entry of `hash` in a shard whose walk reached `cursor` (not done) has been
  // walked: the scan has emitted every hash whose bit-reversal is below the cursor's.
  static bool Walked(uint64_t cursor, uint64_t hash);

  // The longest the walker held one shard lock, and the longest a writer spent in the hook
  // saving an old entry (under its shard lock), in microseconds: the snapshot's stalls.
  int64_t longest_walk_us() const { return longest_walk_us_; }
  // The most CPU time the walker used in one lock hold: the hold itself, without the time the
  // thread was preempted while holding the lock (a loaded machine's scheduler gaps).
  int64_t longest_walk_cpu_us() const { return longest_walk_cpu_us_; }
  int64_t longest_hook_us() const { return longest_hook_us_.load(); }

  void BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) override;
  void BeforeInsert(int db, size_t shard, std::string_view key) override;
  void BeforeDbChange(int db, BeforeChangeKind kind) override;

 private:
  using KeySet = std::unordered_set<std::string>;
  // Serializes the next entries of the shard (not in its skip set) into `out`, scan step by scan
  // step, until `max_entries` are written (the last step's bucket may add a few), `out` has
  // grown by `max_bytes` or the shard ends; advances the shard's cursor; at the end marks it done
  // and drops its skip set. REQUIRES: the shard's lock.
  void WalkChunk(size_t flat, std::string* out, size_t max_entries, size_t max_bytes);
  bool Visited(size_t flat, std::string_view key) const;
  void AppendOne(const Entry& e, std::string* out) const;
  void AddSide(int db, std::string_view bytes, int64_t set_bytes);

  Keyspace& ks_;
  BgsaveOptions options_;
  bool registered_ = false;
  // Per flat shard (db * kShards + shard), read and written under that shard's lock only.
  std::vector<uint64_t> cursor_;  // the walk's scan cursor (0: not started, or done)
  std::vector<uint8_t> done_;
  std::vector<std::unique_ptr<KeySet>> skip_;
  std::vector<uint64_t> db_keys_, db_expires_;  // at the start (RESIZEDB hints)
  // Old entries serialized by the hook, per database; guarded by side_mu_.
  std::mutex side_mu_;
  std::vector<std::string> side_;
  int64_t side_bytes_ = 0;
  std::atomic<uint64_t> peak_side_bytes_{0};
  int64_t longest_walk_us_ = 0;
  int64_t longest_walk_cpu_us_ = 0;
  std::atomic<int64_t> longest_hook_us_{0};
};

}  // namespace keel
