#pragma once

// Whole-keyspace RDB files: SAVE (synchronous, point in time because every shard lock is held
// while it runs), loading at start-up and DEBUG RELOAD. Background saving (BGSAVE, save points,
// a fork-less snapshot walking shards step by step) is not built yet; it will reuse RdbWriter.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "keel/common/status.h"
#include "keel/keyspace/keyspace.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"

namespace keel {

// What INFO persistence and LASTSAVE report. Thread-safe (atomics); `save_mu` serializes saves.
struct PersistenceInfo {
  std::mutex save_mu;
  std::atomic<int64_t> lastsave{0};  // unix seconds of the last successful save (or start)
  std::atomic<bool> last_save_ok{true};
  std::atomic<uint64_t> saves{0};  // successful saves since start (rdb_saves)
  std::atomic<uint64_t> last_load_keys_loaded{0};
  std::atomic<uint64_t> last_load_keys_expired{0};
  std::atomic<bool> loading{false};
};

struct SaveOptions {
  bool compress = true;
  bool checksum = true;
  uint64_t used_mem = 0;   // the used-mem AUX field
  bool save_idle = false;  // write each key's idle time (IDLE), as Redis does under LRU policies
};

// Writes every database to `file` (a name relative to the working directory, i.e. `dir`):
// first to temp-<pid>.rdb beside it, fsynced, then renamed over `file`, so a crash or a full
// disk never leaves a damaged file; a failure removes the temporary file. Locks every shard of
// every database, in ascending order, for its duration (a SAVE blocks writers, as Redis's
// does). REQUIRES: no shard lock held by this thread, unless it holds all of them.
Status SaveRdbFile(Keyspace& ks, const std::string& file, const SaveOptions& options);

// Serializes the whole keyspace into `sink`. REQUIRES: every shard lock held.
Status WriteKeyspace(Keyspace& ks, rdb::Sink* sink, const SaveOptions& options);

// Locks every shard of every database in ascending order (SAVE, DEBUG RELOAD, start-up load).
// Re-entrant per thread, like every ShardGuard.
std::vector<ShardGuard> LockAllShards(Keyspace& ks);

// Loads `file` into the keyspace, dropping keys whose expire has passed. A key already present
// is an error (a file with a duplicated key) unless `replace` (DEBUG RELOAD MERGE). The error
// names the file and offset. A missing file is not an error (*found is set false).
// REQUIRES: every shard lock held by this thread (LockAllShards).
Status LoadRdbFile(Keyspace& ks, const std::string& file, const rdb::LoadOptions& options,
                   bool replace, rdb::LoadStats* stats, bool* found);

}  // namespace keel
