#include "keel/persistence/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "keel/common/clock.h"
#include "keel/common/memory.h"
#include "keel/persistence/rdb_writer.h"

namespace keel {

namespace {

std::string CurrentWorkingDir() {
  char buf[4096];
  return getcwd(buf, sizeof(buf)) != nullptr ? buf : "?";
}

// fsyncs the directory holding `file`, so that the rename itself is durable.
void SyncDirectoryOf(const std::string& file) {
  size_t slash = file.rfind('/');
  std::string dir = slash == std::string::npos ? "." : file.substr(0, slash + 1);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// LoadInserter puts loaded entries into the keyspace on a thread of its own, in the order they
// were added. Add() hands entries over in batches; after a failure (a duplicate key without
// `replace`) it refuses, and Finish() returns that failure once the thread is done.
class LoadInserter {
 public:
  // Without `threaded` each entry is put in at once, on the caller's thread: DEBUG RELOAD holds
  // every shard lock and its blocked clients' ready keys are kept per thread.
  LoadInserter(Keyspace& ks, bool replace, bool threaded) : ks_(ks), replace_(replace) {
    if (!threaded) return;
    batch_.reserve(kBatch);
    thread_ = std::thread([this] { Run(); });
  }
  ~LoadInserter() { (void)Finish(); }

  Status Add(int db, Entry* e, const rdb::SavedAccess& access) {
    if (!thread_.joinable()) return Put(Item{db, e, access});
    if (failed_.load(std::memory_order_acquire)) {
      FreeEntry(e);
      return Status::Error("stopped");  // Finish() returns the real reason
    }
    batch_.push_back(Item{db, e, access});
    if (batch_.size() == kBatch) Hand();
    return Status::Ok();
  }

  Status Finish() {
    if (!thread_.joinable()) return error_;
    if (!batch_.empty()) Hand();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    ready_cv_.notify_one();
    thread_.join();
    return error_;
  }

 private:
  struct Item {
    int db;
    Entry* e;
    rdb::SavedAccess access;
  };
  static constexpr size_t kBatch = 512;
  static constexpr size_t kMaxQueued = 64;  // batches in flight: bounds the entries held here

  void Hand() {
    std::unique_lock<std::mutex> lock(mu_);
    room_cv_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
    queue_.push_back(std::move(batch_));
    lock.unlock();
    ready_cv_.notify_one();
    batch_ = std::vector<Item>();
    batch_.reserve(kBatch);
  }

  void Run() {
    memory::RegisterThisThread();
    for (;;) {
      std::vector<Item> items;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        items = std::move(queue_.front());
        queue_.pop_front();
      }
      room_cv_.notify_one();
      for (Item& item : items) {
        if (failed_.load(std::memory_order_relaxed)) {
          FreeEntry(item.e);
        } else if (Status st = Put(item); !st.ok()) {
          error_ = st;
          failed_.store(true, std::memory_order_release);
        }
      }
    }
  }

  Status Put(const Item& item) {
    Entry* e = item.e;
    bool saved = ks_.ApplySavedAccess(e, item.access.lfu_freq, item.access.idle_s);
    size_t shard_index = ShardOf(e->key());
    ShardGuard lock = ks_.LockShard(item.db, shard_index);
    Shard& shard = ks_.db(item.db).shard(shard_index);
    size_t before = shard.size();
    uint32_t lru = e->lru;
    ks_.Put(item.db, e);  // stamps the access clock; replaces a key already there
    if (!replace_ && shard.size() == before) {
      return Status::Error("RDB has duplicated key '" + std::string(e->key()) + "' in DB " +
                           std::to_string(item.db));
    }
    if (saved) e->lru = lru;
    return Status::Ok();
  }

  Keyspace& ks_;
  const bool replace_;
  std::vector<Item> batch_;  // being filled by the reading thread
  std::mutex mu_;
  std::condition_variable ready_cv_;
  std::condition_variable room_cv_;
  std::deque<std::vector<Item>> queue_;
  bool done_ = false;
  std::atomic<bool> failed_{false};
  Status error_ = Status::Ok();  // written by the inserter, read after join
  std::thread thread_;
};

}  // namespace

std::vector<ShardGuard> LockAllShards(Keyspace& ks) {
  std::vector<ShardGuard> guards;
  size_t total = static_cast<size_t>(ks.databases()) * kShards;
  guards.reserve(total);
  for (size_t flat = 0; flat < total; ++flat) guards.emplace_back(ks, flat);
  return guards;
}

void SetAccessToSave(const Keyspace& ks, SaveOptions* options) {
  const Evictor& ev = ks.evictor();
  EvictionPolicy p = ev.policy();
  options->save_idle = p == EvictionPolicy::kAllkeysLru || p == EvictionPolicy::kVolatileLru;
  options->save_freq_decay = ev.lfu() ? ev.lfu_decay_time() : -1;
}

void AccessToSave(const Entry& e, const SaveOptions& options, int64_t* idle_s, int* lfu_freq) {
  *idle_s = -1;
  *lfu_freq = -1;
  if (options.save_idle) *idle_s = (Keyspace::LruClock() - e.lru) & Entry::kLruMask;
  if (options.save_freq_decay >= 0) {
    *lfu_freq = static_cast<int>(
        LfuDecayedCounter(static_cast<uint32_t>(e.lru), options.save_freq_decay, LfuMinutes()));
  }
}

Status WriteKeyspace(Keyspace& ks, rdb::Sink* sink, const SaveOptions& options) {
  rdb::RdbWriter w(sink, options.compress, options.checksum);
  rdb::AuxInfo aux;
  aux.ctime = NowUnixMs() / 1000;
  aux.used_mem = options.used_mem;
  aux.aof_base = options.aof_base;
  if (Status st = w.Begin(aux); !st.ok()) return st;
  for (int db = 0; db < ks.databases(); ++db) {
    Db& d = ks.db(db);
    uint64_t keys = d.size();
    if (keys == 0) continue;
    if (Status st = w.SelectDb(db, keys, d.expires()); !st.ok()) return st;
    for (size_t s = 0; s < kShards; ++s) {
      Status st;
      d.shard(s).ForEach([&](const Entry* e) {
        if (!st.ok()) return;
        int64_t idle;
        int freq;
        AccessToSave(*e, options, &idle, &freq);
        st = w.WriteEntry(e->key(), *e, e->expire_ms(), idle, freq);
      });
      if (!st.ok()) return st;
    }
  }
  return w.Finish();
}

Status RenameRdbFile(const std::string& tmp, const std::string& file) {
  if (std::rename(tmp.c_str(), file.c_str()) == 0) return Status::Ok();
  return Status::Error("Error moving temp DB file " + tmp + " on the final destination " + file +
                       " (in server root dir " + CurrentWorkingDir() +
                       "): " + std::strerror(errno));
}

Status WriteRdbFileAtomically(const std::string& file, const std::string& temp_prefix,
                              const std::function<Status(rdb::Sink*)>& write,
                              const std::function<Status(const std::string&)>& commit) {
  size_t slash = file.rfind('/');
  std::string tmp = (slash == std::string::npos ? "" : file.substr(0, slash + 1)) + temp_prefix +
                    std::to_string(getpid()) + ".rdb";
  rdb::FileSink sink;
  if (Status st = sink.Open(tmp); !st.ok()) {
    return Status::Error("Failed opening the temp RDB file " + tmp + " (in server root dir " +
                         CurrentWorkingDir() + ") for saving: " + st.message());
  }
  Status st = write(&sink);
  if (st.ok()) st = sink.Sync();
  if (Status c = sink.Close(); st.ok()) st = c;
  if (!st.ok()) {
    st = Status::Error("Write error saving DB on disk: " + st.message());
  } else {
    st = commit ? commit(tmp) : RenameRdbFile(tmp, file);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  SyncDirectoryOf(file);
  return Status::Ok();
}

Status SaveRdbFile(Keyspace& ks, const std::string& file, const SaveOptions& options) {
  return WriteRdbFileAtomically(file, "temp-", [&](rdb::Sink* sink) {
    std::vector<ShardGuard> locks = LockAllShards(ks);
    return WriteKeyspace(ks, sink, options);
  });
}

Status LoadRdbFile(Keyspace& ks, const std::string& file, const rdb::LoadOptions& options,
                   bool replace, rdb::LoadStats* stats, bool* found, bool background_insert) {
  rdb::FileSource src;
  *found = true;
  if (Status st = src.Open(file); !st.ok()) {
    if (errno == ENOENT) {
      *found = false;
      return Status::Ok();
    }
    return Status::Error("Fatal error loading the DB " + file + ": " + st.message());
  }
  // Pre-size each shard's table from the RESIZEDB hints, so that the load does not rehash every
  // table a dozen times. A hint is only trusted up to what the file could hold (a key takes at
  // least 3 bytes), so a bad file cannot make it allocate.
  rdb::LoadOptions opts = options;
  struct stat sb;
  uint64_t max_keys = ::stat(file.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) / 3 : 0;
  opts.on_resize_db = [&](int db, uint64_t keys) {
    if (db < 0 || db >= ks.databases()) return;
    uint64_t per_shard = std::min(keys, max_keys) / kShards;
    if (per_shard < 64) return;
    for (size_t s = 0; s < kShards; ++s) {
      ShardGuard lock = ks.LockShard(db, s);
      ks.db(db).shard(s).Reserve(per_shard + per_shard / 8);
    }
  };
  // The file is read and decoded on this thread while another one puts the keys into the shards
  // (most of a load's time is the inserts' cache misses): a load takes about the longer of the
  // two instead of their sum. The inserter works through the keys in file order, so a duplicate
  // key is still found at the first repeat.
  LoadInserter inserter(ks, replace, background_insert);
  Status st = rdb::LoadRdb(
      src, opts,
      [&](int db, Entry* e, const rdb::SavedAccess& access) {
        if (db >= ks.databases()) {
          FreeEntry(e);
          return Status::Error(
              "FATAL: Data file was created with a Redis server configured to "
              "handle more than " +
              std::to_string(ks.databases()) + " databases");
        }
        return inserter.Add(db, e, access);
      },
      stats);
  // What the inserter refused comes before anything the reader found after it.
  if (Status ins = inserter.Finish(); !ins.ok()) st = ins;
  if (!st.ok()) {
    return Status::Error("Bad RDB file " + file + ": " + st.message());
  }
  return Status::Ok();
}

}  // namespace keel
