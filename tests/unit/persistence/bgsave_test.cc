#include "keel/persistence/bgsave.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "keel/keyspace/hashing.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"

namespace keel {
namespace {

// The visited mark: after a scan step returns cursor c, every hash whose bit-reversal is below
// c's has been emitted, at any table size.
TEST(BackgroundSnapshot, WalkedMeansBelowTheCursorInBitReversedOrder) {
  for (uint64_t mask : {3ULL, 63ULL, 1023ULL}) {
    uint64_t cursor = 0;
    std::vector<uint64_t> emitted;
    do {
      emitted.push_back(cursor & mask);
      cursor = hashing::NextCursor(cursor, mask);
      for (uint64_t bucket = 0; bucket <= mask; ++bucket) {
        bool seen = std::find(emitted.begin(), emitted.end(), bucket) != emitted.end();
        // A hash in `bucket` with arbitrary high bits.
        uint64_t hash = bucket | (0xABCDEF12345ULL << 20);
        EXPECT_EQ(cursor == 0 || BackgroundSnapshot::Walked(cursor, hash), seen)
            << "mask " << mask << " bucket " << bucket;
      }
    } while (cursor != 0);
  }
}

std::map<std::string, std::string> LoadStrings(const std::string& bytes, size_t* entries) {
  std::map<std::string, std::string> out;
  *entries = 0;
  rdb::MemorySource src(bytes);
  rdb::LoadStats stats;
  Status st = rdb::LoadRdb(
      src, {},
      [&](int, Entry* e, const rdb::SavedAccess&) {
        char buf[24];
        out[std::string(e->key())] = std::string(e->StringValue(buf));
        ++*entries;
        FreeEntry(e);
        return Status::Ok();
      },
      &stats);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

// The walk goes in small chunks with the shard unlocked between them, and between chunks a
// writer deletes most of the shard, then again and again fills it (the table grows) and empties
// it (it shrinks: a bucket of the smaller table covers places walked and not walked yet, which
// the walker must not write twice), overwrites keys and creates new ones. The file must hold
// exactly the keys and values of the start, each once.
TEST(BackgroundSnapshot, ChunkedWalkIsPointInTimeWhileTheTableShrinksAndGrows) {
  Keyspace ks(1);
  constexpr int kKeys = 8000;  // all in one shard (a hash tag)
  std::map<std::string, std::string> expected;
  auto key = [](const char* kind, int i) { return "{t}:" + std::string(kind) + std::to_string(i); };
  Shard& shard = ks.db(0).ShardFor("{t}");
  auto locked = [&](auto&& fn) {
    std::lock_guard<ShardMutex> lock(shard.mu);
    fn();
  };
  for (int i = 0; i < kKeys; ++i) {
    locked([&] { ks.Put(0, NewStringEntry(key("k", i), "v" + std::to_string(i), -1)); });
    expected[key("k", i)] = "v" + std::to_string(i);
  }
  std::mt19937 rng(7);
  std::vector<int> order(kKeys);
  for (int i = 0; i < kKeys; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  constexpr int kKept = 2000;  // order[0..kKept) stay (and are overwritten), the rest go

  int chunk = 0;
  int shrinks = 0;
  BgsaveOptions o;
  o.chunk_entries = 40;
  std::atomic<uint64_t> walked{0};
  o.keys_processed = &walked;
  o.after_chunk = [&] {
    if (walked.load() == 0) return;  // the empty shards before {t}'s
    ++chunk;
    if (chunk == 3) {
      for (int i = kKept; i < kKeys; ++i) {
        locked([&] { EXPECT_TRUE(ks.Delete(0, key("k", order[i]))); });
      }
    } else if (chunk > 3 && chunk < 40 && chunk % 2 == 0) {  // fill: the table grows 8x
      for (int i = 0; i < 7 * kKept; ++i) {
        locked([&] { ks.Put(0, NewStringEntry(key("f", i), "filler", -1)); });
      }
    } else if (chunk > 3 && chunk < 40) {  // empty: it shrinks back
      size_t buckets_before = 0;
      locked([&] { buckets_before = shard.bucket_count(); });
      for (int i = 0; i < 7 * kKept; ++i) {
        locked([&] { EXPECT_TRUE(ks.Delete(0, key("f", i))); });
      }
      size_t buckets_after = 0;
      locked([&] {
        while (shard.RehashStep(1024)) {  // as the cron does: the shrink completes
        }
        buckets_after = shard.bucket_count();
      });
      if (buckets_after < buckets_before) ++shrinks;
    } else if (chunk == 40) {
      for (int i = 0; i < kKept; ++i) {
        locked([&] { ks.Put(0, NewStringEntry(key("k", order[i]), "changed", -1)); });
      }
      for (int i = 0; i < kKeys; ++i) {
        locked([&] { ks.Put(0, NewStringEntry(key("n", i), "new", -1)); });
      }
    }
  };
  BackgroundSnapshot snap(ks, o);
  ASSERT_EQ(snap.Start(), uint64_t{kKeys});
  rdb::StringSink sink;
  Status written = snap.Write(&sink);
  ASSERT_TRUE(written.ok()) << written.message();
  EXPECT_GE(shrinks, 10) << "the table did not shrink between chunks: nothing was tested";
  EXPECT_GT(chunk, 40);

  size_t entries = 0;
  std::map<std::string, std::string> got = LoadStrings(sink.data, &entries);
  EXPECT_EQ(entries, expected.size()) << "a key saved twice or lost";
  EXPECT_TRUE(got == expected);
  EXPECT_EQ(ks.db(0).size(), size_t{kKept + kKeys});
  EXPECT_GT(snap.peak_side_bytes(), 0u);
}

// The walker batches entries whose size the header tells (inline strings, integers) and writes
// a value behind a pointer (here 40 KB strings, stored on the heap) on its own: every entry is
// saved exactly once, whatever the mix, and a lock hold's output stays near kChunkBytes (plus
// the last scan step's values) instead of taking in big values unseen.
TEST(BackgroundSnapshot, MixedSmallIntegerAndHeapValuesAreSavedOnceInBoundedChunks) {
  Keyspace ks(1);
  std::map<std::string, std::string> expected;
  Shard& shard = ks.db(0).ShardFor("{m}");
  auto put = [&](Entry* e, std::string value) {
    std::lock_guard<ShardMutex> lock(shard.mu);
    expected[std::string(e->key())] = std::move(value);
    ks.Put(0, e);
  };
  std::string big(40000, ' ');  // incompressible: LZF would shrink a run of one byte
  std::mt19937 rng(3);
  for (char& ch : big) ch = static_cast<char>('a' + rng() % 26);
  for (int i = 0; i < 3000; ++i) {
    std::string k = "{m}:" + std::to_string(i);
    if (i % 6 == 0) {
      put(NewStringEntry(k, big + std::to_string(i), -1), big + std::to_string(i));
    } else if (i % 3 == 0) {
      put(NewIntEntry(k, i * 7, -1), std::to_string(i * 7));
    } else {
      put(NewStringEntry(k, "small-" + std::to_string(i), -1), "small-" + std::to_string(i));
    }
  }
  ASSERT_EQ(shard.size(), 3000u);
  rdb::StringSink sink;
  size_t last = 0, largest = 0;
  BgsaveOptions o;
  o.after_chunk = [&] {
    largest = std::max(largest, sink.data.size() - last);
    last = sink.data.size();
  };
  BackgroundSnapshot snap(ks, o);
  ASSERT_EQ(snap.Start(), 3000u);
  Status written = snap.Write(&sink);
  ASSERT_TRUE(written.ok()) << written.message();
  size_t entries = 0;
  std::map<std::string, std::string> got = LoadStrings(sink.data, &entries);
  EXPECT_EQ(entries, expected.size()) << "a key saved twice or lost";
  EXPECT_TRUE(got == expected);
  // 500 big values (20 MB) in one shard: without the bound, a chunk takes in any number of them.
  // (A scan step is a whole bucket, and a bucket may chain a few big values: the check comes
  // after each step, as it always did.)
  EXPECT_LE(largest, BackgroundSnapshot::kChunkBytes + 4 * big.size());
  EXPECT_GT(largest, BackgroundSnapshot::kChunkBytes / 2) << "chunks should be near the bound";
}

}  // namespace
}  // namespace keel
