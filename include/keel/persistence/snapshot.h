#pragma once

// Whole-keyspace RDB files: SAVE (synchronous, point in time because every shard lock is held
// while it runs), loading at start-up and DEBUG RELOAD. Background saving (BGSAVE) is in
// keel/persistence/bgsave.h.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
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
  // The start-up load, while `loading` (INFO's loading_* fields); load_abort stops it (shutdown).
  std::atomic<int64_t> loading_start_s{0};
  std::atomic<uint64_t> loading_total_bytes{0};
  std::atomic<uint64_t> loading_loaded_bytes{0};
  std::atomic<bool> load_abort{false};

  // BGSAVE (keel/persistence/bgsave.h): rdb_bgsave_in_progress and the rest of INFO.
  std::atomic<bool> bgsave_in_progress{false};
  std::atomic<bool> last_bgsave_ok{true};
  std::atomic<int64_t> bgsave_start_ms{0};
  std::atomic<int64_t> last_bgsave_try_ms{0};  // when the last BGSAVE ended (retry delay)
  std::atomic<int64_t> last_bgsave_time_sec{-1};
  std::atomic<uint64_t> last_cow_size{0};  // the snapshot's side-buffer peak, in bytes
  std::atomic<uint64_t> bgsave_keys_processed{0};
  std::atomic<uint64_t> bgsave_keys_total{0};
  // The snapshot thread (joined before the next one starts, and at destruction, which asks it
  // to stop first: ServerState goes before the Keyspace).
  std::thread bgsave_thread;
  std::atomic<bool> bgsave_abort{false};
  std::atomic<bool> bgsave_scheduled{false};  // BGSAVE SCHEDULE behind an AOF rewrite

  PersistenceInfo() = default;
  PersistenceInfo(const PersistenceInfo&) = delete;
  PersistenceInfo& operator=(const PersistenceInfo&) = delete;
  ~PersistenceInfo() {
    bgsave_abort.store(true);
    if (bgsave_thread.joinable()) bgsave_thread.join();
  }
};

struct SaveOptions {
  bool compress = true;
  bool checksum = true;
  uint64_t used_mem = 0;   // the used-mem AUX field
  bool save_idle = false;  // write each key's idle time (IDLE), as Redis does under LRU policies
  // >= 0: write each key's LFU counter decayed with this lfu-decay-time (FREQ), as Redis does
  // under the LFU policies.
  int64_t save_freq_decay = -1;
  bool aof_base = false;  // the aof-base AUX field: the file is an AOF's RDB base
};

// Writes every database to `file` (a name relative to the working directory, i.e. `dir`):
// first to temp-<pid>.rdb beside it, fsynced, then renamed over `file`, so a crash or a full
// disk never leaves a damaged file; a failure removes the temporary file. Locks every shard of
// every database, in ascending order, for its duration (a SAVE blocks writers, as Redis's
// does). REQUIRES: no shard lock held by this thread, unless it holds all of them.
Status SaveRdbFile(Keyspace& ks, const std::string& file, const SaveOptions& options);

// Sets save_idle / save_freq_decay from the keyspace's maxmemory policy: IDLE under the LRU
// policies, FREQ under the LFU ones, neither otherwise (Redis's rule).
void SetAccessToSave(const Keyspace& ks, SaveOptions* options);
// What to write before `e` under `options` (IDLE and FREQ; -1 for neither).
void AccessToSave(const Entry& e, const SaveOptions& options, int64_t* idle_s, int* lfu_freq);

// Writes an RDB file through `write` into <dir of file>/<temp_prefix><pid>.rdb, fsyncs it and
// renames it over `file`; on failure removes the temporary file. The error is the log line.
// `commit`, when given, does the rename itself (under the caller's lock) or refuses with an error.
Status WriteRdbFileAtomically(const std::string& file, const std::string& temp_prefix,
                              const std::function<Status(rdb::Sink*)>& write,
                              const std::function<Status(const std::string&)>& commit = {});

// Renames a finished temporary file over `file` (the default commit above).
Status RenameRdbFile(const std::string& tmp, const std::string& file);

// Serializes the whole keyspace into `sink`. REQUIRES: every shard lock held.
Status WriteKeyspace(Keyspace& ks, rdb::Sink* sink, const SaveOptions& options);

// Locks every shard of every database in ascending order (SAVE, DEBUG RELOAD, start-up load).
// Re-entrant per thread, like every ShardGuard.
std::vector<ShardGuard> LockAllShards(Keyspace& ks);

// Loads `file` into the keyspace, dropping keys whose expire has passed. A key already present
// is an error (a file with a duplicated key) unless `replace` (DEBUG RELOAD MERGE). The error
// names the file and offset. A missing file is not an error (*found is set false). Each key is
// put in under its shard's lock, one lock at a time (re-entrant: DEBUG RELOAD holds them all),
// so that clients are answered -LOADING while the start-up load runs. With `background_insert`
// (the start-up load: no shard lock held by the caller, no blocked clients) the keys are put in
// by a second thread while this one reads and decodes the file.
Status LoadRdbFile(Keyspace& ks, const std::string& file, const rdb::LoadOptions& options,
                   bool replace, rdb::LoadStats* stats, bool* found,
                   bool background_insert = false);

}  // namespace keel
