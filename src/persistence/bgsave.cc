#include "keel/persistence/bgsave.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "keel/common/clock.h"
#include "keel/keyspace/hashing.h"
#include "keel/persistence/rdb_writer.h"

namespace keel {

namespace {

// What one skip-set key costs beyond its bytes (node, hash slot, string header), roughly.
constexpr int64_t kSkipKeyOverhead = 64;

int64_t ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t SkipSetBytes(const std::unordered_set<std::string>& set) {
  int64_t bytes = 0;
  for (const std::string& k : set) bytes += static_cast<int64_t>(k.size()) + kSkipKeyOverhead;
  return bytes;
}

}  // namespace

BackgroundSnapshot::BackgroundSnapshot(Keyspace& ks, BgsaveOptions options)
    : ks_(ks), options_(options) {
  size_t flats = static_cast<size_t>(ks.databases()) * kShards;
  cursor_.assign(flats, 0);
  done_.assign(flats, 0);
  skip_.resize(flats);
  db_keys_.assign(ks.databases(), 0);
  db_expires_.assign(ks.databases(), 0);
  side_.resize(ks.databases());
}

BackgroundSnapshot::~BackgroundSnapshot() { Stop(); }

uint64_t BackgroundSnapshot::Start() {
  ks_.SetBeforeChangeHook(this);
  registered_ = true;
  // Once every shard has been locked after the hook was set, every change runs with it; the
  // sizes read under each lock add up to the keyspace at that moment.
  uint64_t total = 0;
  for (int db = 0; db < ks_.databases(); ++db) {
    for (size_t s = 0; s < kShards; ++s) {
      ShardGuard g = ks_.LockShard(db, s);
      db_keys_[db] += ks_.db(db).shard(s).size();
    }
    db_expires_[db] = ks_.db(db).expires();
    total += db_keys_[db];
  }
  return total;
}

void BackgroundSnapshot::Stop() {
  if (!registered_) return;
  ks_.SetBeforeChangeHook(nullptr);
  size_t flats = static_cast<size_t>(ks_.databases()) * kShards;
  for (size_t flat = 0; flat < flats; ++flat) ShardGuard g(ks_, flat);
  registered_ = false;
}

void BackgroundSnapshot::AppendOne(const Entry& e, std::string* out) const {
  int64_t idle;
  int freq;
  AccessToSave(e, options_.save, &idle, &freq);
  rdb::AppendEntry(out, e.key(), e, e.expire_ms(), idle, options_.save.compress, freq);
}

void BackgroundSnapshot::AddSide(int db, std::string_view bytes, int64_t set_bytes) {
  std::lock_guard<std::mutex> lock(side_mu_);
  side_[db].append(bytes);
  side_bytes_ += static_cast<int64_t>(bytes.size()) + set_bytes;
  if (side_bytes_ > static_cast<int64_t>(peak_side_bytes_.load(std::memory_order_relaxed))) {
    peak_side_bytes_.store(static_cast<uint64_t>(side_bytes_), std::memory_order_relaxed);
  }
}

bool BackgroundSnapshot::Walked(uint64_t cursor, uint64_t hash) {
  return hashing::ReverseBits(hash) < hashing::ReverseBits(cursor);
}

bool BackgroundSnapshot::Visited(size_t flat, std::string_view key) const {
  if (done_[flat] != 0) return true;
  return cursor_[flat] != 0 && Walked(cursor_[flat], KeyHash(key));
}

void BackgroundSnapshot::BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) {
  size_t flat = static_cast<size_t>(db) * kShards + shard;
  if (Visited(flat, e->key())) return;
  std::unique_ptr<KeySet>& set = skip_[flat];
  if (set == nullptr) set = std::make_unique<KeySet>();
  // Saved already (an earlier change) or created after the start: nothing to keep.
  if (!set->emplace(e->key()).second) return;
  int64_t start = NowMonotonicUs();
  thread_local std::string buf;
  buf.clear();
  AppendOne(*e, &buf);
  AddSide(db, buf, static_cast<int64_t>(e->key().size()) + kSkipKeyOverhead);
  if (buf.capacity() > (size_t{1} << 20)) std::string().swap(buf);
  int64_t took = NowMonotonicUs() - start;
  int64_t seen = longest_hook_us_.load(std::memory_order_relaxed);
  while (took > seen && !longest_hook_us_.compare_exchange_weak(seen, took)) {
  }
}

void BackgroundSnapshot::BeforeInsert(int db, size_t shard, std::string_view key) {
  size_t flat = static_cast<size_t>(db) * kShards + shard;
  if (Visited(flat, key)) return;
  std::unique_ptr<KeySet>& set = skip_[flat];
  if (set == nullptr) set = std::make_unique<KeySet>();
  if (set->emplace(key).second) {
    AddSide(db, {}, static_cast<int64_t>(key.size()) + kSkipKeyOverhead);
  }
}

void BackgroundSnapshot::BeforeDbChange(int db, BeforeChangeKind) {
  // FLUSHDB, FLUSHALL or SWAPDB (every shard of the database locked): what the walker has not
  // reached yet is saved now, and the database counts as walked.
  std::string buf;
  for (size_t s = 0; s < kShards; ++s) {
    size_t flat = static_cast<size_t>(db) * kShards + s;
    if (done_[flat] != 0) continue;
    WalkChunk(flat, &buf, SIZE_MAX, SIZE_MAX);
  }
  AddSide(db, buf, 0);
}

void BackgroundSnapshot::WalkChunk(size_t flat, std::string* out, size_t max_entries,
                                   size_t max_bytes) {
  const KeySet* set = skip_[flat].get();
  const Shard& shard = ks_.FlatShard(flat);
  uint64_t v = cursor_[flat];
  uint64_t n = 0;
  size_t limit = out->size() + std::min(max_bytes, SIZE_MAX - out->size());
  // The chunk's first step may emit again entries below the cursor (a bucket of a table that
  // shrank since the last chunk covers more than the part not walked yet): those were written
  // already. Only the first: the table does not change while the lock is held, and its next
  // cursor is aligned to its buckets, so the later steps cover only hashes past the cursor.
  uint64_t from = v == 0 ? 0 : hashing::ReverseBits(v);
  // Entries are collected a few buckets at a time (the chain walk reads each entry's header, and
  // those independent misses overlap in a tight loop), then serialized from the cache: one at a
  // time, each serialization waited for its own misses (the walker took 1.4x SAVE's CPU). Only
  // entries whose size the header tells (inline, integer, packed) wait in the batch, and their
  // bytes count against the chunk's byte limit before they are written; a value behind a pointer
  // (a long string, a big collection) may be large: the batch is written first, then it alone.
  constexpr size_t kBatch = 32;
  Entry* batch[kBatch];
  size_t batched = 0;
  size_t pending = 0;  // bytes the batch will add, about
  auto emit = [&](Entry* e) {
    if (set != nullptr && set->count(std::string(e->key())) != 0) return;
    AppendOne(*e, out);
    ++n;
  };
  auto flush = [&] {
    for (size_t i = 0; i < batched; ++i) emit(batch[i]);
    batched = 0;
    pending = 0;
  };
  auto collect = [&](Entry* e) {
    if (from != 0 && hashing::ReverseBits(KeyHash(e->key())) < from) return;
    if (e->storage == Entry::kHeap || e->storage == Entry::kObject) {
      flush();
      emit(e);
      return;
    }
    if (batched == kBatch) flush();
    __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);
    batch[batched++] = e;
    pending += e->val_len + e->key_len8 + 32;
  };
  do {
    v = shard.Scan(v, collect);
    from = 0;
  } while (v != 0 && n + batched < max_entries && out->size() + pending < limit);
  flush();
  cursor_[flat] = v;
  if (v == 0) {
    done_[flat] = 1;
    if (set != nullptr) {
      int64_t bytes = SkipSetBytes(*set);
      skip_[flat].reset();
      std::lock_guard<std::mutex> lock(side_mu_);
      side_bytes_ -= bytes;
    }
  }
  if (options_.keys_processed != nullptr) options_.keys_processed->fetch_add(n);
}

Status BackgroundSnapshot::Write(rdb::Sink* sink) {
  rdb::RdbWriter w(sink, options_.save.compress, options_.save.checksum);
  rdb::AuxInfo aux;
  aux.ctime = NowUnixMs() / 1000;
  aux.used_mem = options_.save.used_mem;
  aux.aof_base = options_.save.aof_base;
  Status st = w.Begin(aux);
  std::string chunk, side;
  // Moves the database's side buffer into the file.
  auto drain = [&](int db) {
    {
      std::lock_guard<std::mutex> lock(side_mu_);
      side.swap(side_[db]);
      side_bytes_ -= static_cast<int64_t>(side.size());
    }
    if (!side.empty()) {
      if (st.ok()) st = w.WriteRaw(side);
      side.clear();
    }
  };
  for (int db = 0; db < ks_.databases() && st.ok(); ++db) {
    if (db_keys_[db] == 0) continue;  // nothing at the start: nothing to save
    st = w.SelectDb(db, db_keys_[db], db_expires_[db]);
    for (size_t s = 0; s < kShards && st.ok(); ++s) {
      if (options_.abort != nullptr && options_.abort->load()) {
        st = Status::Error("background save aborted");
        break;
      }
      size_t flat = static_cast<size_t>(db) * kShards + s;
      bool done = false;
      while (!done && st.ok()) {
        {
          ShardGuard g(ks_, flat);
          int64_t start = NowMonotonicUs();
          int64_t cpu_start = ThreadCpuUs();
          size_t entries = options_.chunk_entries > 0 ? options_.chunk_entries : kChunkEntries;
          if (done_[flat] == 0) WalkChunk(flat, &chunk, entries, kChunkBytes);
          done = done_[flat] != 0;
          longest_walk_us_ = std::max(longest_walk_us_, NowMonotonicUs() - start);
          longest_walk_cpu_us_ = std::max(longest_walk_cpu_us_, ThreadCpuUs() - cpu_start);
        }
        if (!chunk.empty()) st = w.WriteRaw(chunk);
        chunk.clear();
        drain(db);
        if (options_.shard_delay_us > 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(options_.shard_delay_us));
        }
        if (options_.after_chunk) options_.after_chunk();
      }
    }
    drain(db);  // every shard walked: no more old entries can arrive for this database
  }
  Stop();
  if (!st.ok()) return st;
  return w.Finish();
}

}  // namespace keel
