#pragma once

// The write path's vocabulary: what a change to the keyspace is, and who may listen to it.
//
// Every change to a key, whatever causes it (a command, lazy or active expiry, a served blocking
// pop, FLUSHDB/FLUSHALL, SWAPDB, MOVE, COPY, eviction; later RESTORE), is reported to one
// place, Keyspace::Changed (or Keyspace::ChangedDb for whole databases). Off that seam hang the
// WATCH invalidation, the dirty counter (Redis's rdb_changes_since_last_save), the "expired"
// keyspace notification and a ChangeObserver (the AOF and replication plug in there). See
// docs/architecture.md, "The write path".

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace keel {

struct Entry;

enum class ChangeKind : uint8_t {
  kWrite,    // a command stored, edited or re-timed the key (even to the same value)
  kDelete,   // a command removed the key (DEL, a collection left empty, a pop of the last element)
  kExpired,  // the key's TTL passed: removed by a lookup (lazy) or the active cycle
  kFlush,    // FLUSHDB / FLUSHALL emptied the database (a whole-database change, no key)
  kSwap,     // SWAPDB exchanged the database with another (a whole-database change, no key)
  kEvicted,  // maxmemory eviction removed the key (logged, like expiry, as a deletion)
};

// One change, as the seam reports it. `key` is valid only during the call; it is empty for the
// whole-database kinds. `other_db` is the second database of a SWAPDB, else -1. `dirty` is what
// the change added to the dirty counter (0 for expiry, which Redis does not count).
struct KeyChange {
  int db;
  std::string_view key;
  ChangeKind kind;
  int other_db;
  uint64_t dirty;
};

// ChangeObserver receives every change in the order it was applied to its key. OnChange runs on
// the thread that made the change, with the key's shard lock held (every shard of the database,
// or of both databases, for kFlush and kSwap), so it must be quick and must not take a shard
// lock; a writer thread (AOF) copies what it needs into its own buffer. A command's changes come
// between the dispatcher's CommandObserver calls for that command (see
// keel/commands/dispatcher.h), which carry the command's arguments for the replayable form.
class ChangeObserver {
 public:
  virtual ~ChangeObserver() = default;
  virtual void OnChange(const KeyChange& change) = 0;
};

// The before-change hook. A point-in-time snapshot (the RDB writer) registers one to serialize
// the old value of an entry it has not reached yet, before a change overwrites it. It is told,
// under the entry's shard lock and BEFORE the change, that the entry is about to be:
enum class BeforeChangeKind : uint8_t {
  kOverwrite,  // replaced by a new entry (SET, an overwrite by RENAME/COPY/SINTERSTORE,
               // re-encoding)
  kEdit,       // edited in place: its value (INCR, APPEND, a list/set/hash change) or its TTL.
               // Announced for every key of a write command before the command runs (it may
               // then change nothing), and for the keys a served blocking pop edits
  kRelocate,   // moved to a new block for the same key (a packed value resized, a TTL slot added
               // or dropped); the value may already be edited, which kEdit announced before
  kRemove,     // unlinked by a command (DEL, a collection left empty, RENAME's source, MOVE)
  kExpire,     // unlinked because its TTL passed (lazy or active expiry)
  kFlush,      // its database is being emptied (FLUSHDB/FLUSHALL): once per entry
  kSwap,       // its database is being swapped with another (SWAPDB): once per entry of both
};

// Except for kRelocate, the entry is intact when the hook runs: its key, TTL and value are the
// ones a snapshot taken before the change must hold. The hook runs on the thread making the
// change with the shard lock held: it must not take a shard lock, and should copy what it needs
// into its own buffer. `shard` is the index in `db` (0..kShards-1).
class BeforeChangeHook {
 public:
  virtual ~BeforeChangeHook() = default;
  virtual void BeforeChange(int db, size_t shard, const Entry* e, BeforeChangeKind kind) = 0;
  // A new key (no live entry) is about to be inserted into `shard` of `db` (Keyspace::Store).
  // A snapshot uses it to leave out keys created after its start.
  virtual void BeforeInsert(int db, size_t shard, std::string_view key) {}
  // Every entry of `db` is about to be flushed or swapped (kFlush, kSwap), before the per-entry
  // calls; every shard of the database is locked. Also told for an empty database, whose
  // shards a SWAPDB fills.
  virtual void BeforeDbChange(int db, BeforeChangeKind kind) {}
};

}  // namespace keel
