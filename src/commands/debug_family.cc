// DEBUG subcommands beyond RELOAD and OBJECT (which live with persistence): SLEEP,
// SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD, LISTPACK, QUICKLIST, CHANGE-REPL-ID, POPULATE,
// LOG, ERROR, LEAK, MALLCTL, MALLCTL-STR, PAUSE-CRON, SDSLEN, CLIENT-EVICTION,
// STRINGMATCH-TEST, DIGEST, DIGEST-VALUE, PROTOCOL, SET-DISABLE-DENY-SCRIPTS, REPLYBUFFER,
// HTSTATS, HTSTATS-KEY, STRUCTSIZE, LOADAOF, AOF-FLUSH-SLEEP, CONFIG-REWRITE-FORCE-ALL,
// SET-SKIP-CHECKSUM-VALIDATION, REPLICATE, DROP-CLUSTER-PACKET-FILTER, CLUSTERLINK, and the
// deliberate crashes ASSERT, PANIC, OOM, SEGFAULT, and RESTART and CRASH-AND-RECOVER.
// CmdDebug (persistence_family.cc) checks enable-debug-command, then asks RunDebugSubcommand.
//
// DIGEST follows Redis's algorithm, so the same dataset digests the same on both servers:
// xor(d, bytes) sets d ^= SHA1(bytes), mix(d, bytes) sets d = SHA1(d ^ SHA1(bytes)). Per
// database that has keys, the database number (4 bytes, big-endian) is mixed into the result;
// per key, a zeroed digest mixes the key name, then the value digest below, and the result is
// xored with it (with its SHA1, as xor does).
// A value digest mixes the type code (4 bytes, big-endian: string 0, list 1, set 2, sorted set 3,
// hash 4), then: a string mixes its bytes; a list mixes each element in order; a set xors each
// member; a hash xors, per field, a zeroed digest mixed with the field and then the value; a key
// with a TTL xors the 10 bytes "!!expire!!". DIGEST-VALUE is the value digest alone.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "keel/commands/aof.h"
#include "keel/commands/client_eviction.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/glob.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/hash_object.h"
#include "keel/keyspace/keyspace.h"
#include "keel/keyspace/list_object.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"
#include "keel/protocol/errors.h"
#include "sha1.h"
#include "write.h"

namespace keel {

namespace {

using Digest = std::array<uint8_t, 20>;

void Xor(Digest* d, std::string_view bytes) {
  Sha1 s;
  s.Update(bytes.data(), bytes.size());
  Digest h = s.Final();
  for (size_t i = 0; i < d->size(); ++i) (*d)[i] ^= h[i];
}

void Mix(Digest* d, std::string_view bytes) {
  Xor(d, bytes);
  Sha1 s;
  s.Update(d->data(), d->size());
  *d = s.Final();
}

std::string_view View(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string_view BigEndian32(uint32_t v, char* buf) {
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (24 - 8 * i));
  return {buf, 4};
}

// Redis's type codes.
uint32_t TypeCode(ObjType t) {
  switch (t) {
    case ObjType::kString:
      return 0;
    case ObjType::kList:
      return 1;
    case ObjType::kSet:
      return 2;
    case ObjType::kZset:
      return 3;
    case ObjType::kHash:
      return 4;
  }
  return 0;
}

// The value digest of one entry (see the top of the file).
void XorValueDigest(ServerState& server, int db, Entry* e, Digest* d) {
  char buf[32];
  Mix(d, BigEndian32(TypeCode(e->type), buf));
  switch (e->type) {
    case ObjType::kString:
      Mix(d, e->StringValue(buf));
      break;
    case ObjType::kList: {
      ListRef list(*server.keyspace, db, e, server.config->list_max_listpack_size());
      if (!list.empty()) {
        list.ForRange(0, list.size() - 1, [&](size_t, std::string_view v) {
          Mix(d, v);
          return true;
        });
      }
      break;
    }
    case ObjType::kSet:
      SetRef::Read(e).ForEach([&](std::string_view m) { Xor(d, m); });
      break;
    case ObjType::kHash:
      HashRef::Read(e).ForEach([&](std::string_view f, std::string_view v) {
        Digest pair{};
        Mix(&pair, f);
        Mix(&pair, v);
        Xor(d, View(pair));
      });
      break;
    case ObjType::kZset:
      // Each member mixed with its score as Redis prints it (%.17g), the pairs xor-ed.
      ZsetRef::Read(e).ForEach([&](std::string_view m, double score) {
        Digest pair{};
        Mix(&pair, m);
        char sbuf[64];
        int n = std::snprintf(sbuf, sizeof(sbuf), "%.17g", score);
        Mix(&pair, std::string_view(sbuf, static_cast<size_t>(n)));
        Xor(d, View(pair));
      });
      break;
  }
  if (e->has_expire()) Xor(d, "!!expire!!");
}

std::string Hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// DEBUG DIGEST: every database, each locked whole while it is walked. As in Redis, a key whose
// TTL has passed but that no lookup or expiry cycle has removed yet is part of the dataset.
void DebugDigest(CommandContext& ctx) {
  Digest final{};
  Keyspace& ks = ctx.keyspace();
  for (int db = 0; db < ks.databases(); ++db) {
    std::vector<ShardGuard> locks = ks.LockAll(db);
    if (ks.db(db).size() == 0) continue;
    char buf[4];
    Mix(&final, BigEndian32(static_cast<uint32_t>(db), buf));
    for (size_t i = 0; i < kShards; ++i) {
      Shard& s = ks.db(db).shard(i);
      uint64_t cursor = 0;
      do {
        cursor = s.Scan(cursor, [&](Entry* e) {
          Digest d{};
          Mix(&d, e->key());
          XorValueDigest(ctx.server, db, e, &d);
          Xor(&final, View(d));
        });
      } while (cursor != 0);
    }
  }
  ctx.reply.SimpleString(Hex(final));
}

// DEBUG DIGEST-VALUE key ...
void DebugDigestValue(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace();
  ctx.reply.ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ShardGuard g = ks.LockShard(ctx.db(), ShardOf(ctx.args[i]));
    Digest d{};
    if (Entry* e = ks.FindEvenExpired(ctx.db(), ctx.args[i])) {
      XorValueDigest(ctx.server, ctx.db(), e, &d);
    }
    ctx.reply.SimpleString(Hex(d));
  }
}

// DEBUG LISTPACK key / DEBUG QUICKLIST key [0|1]: a dump of the value's layout to standard
// output. Redis 7.0 keeps every list as a quicklist and small hashes as listpacks.
void DebugLayout(CommandContext& ctx, bool quicklist) {
  Keyspace& ks = ctx.keyspace();
  ShardGuard g = ks.LockShard(ctx.db(), ShardOf(ctx.args[2]));
  Entry* e = ks.Lookup(ctx.db(), ctx.args[2]);
  if (e == nullptr) {
    ctx.reply.Error(errors::kNoSuchKey);
    return;
  }
  if (quicklist) {
    if (e->type != ObjType::kList) {
      ctx.reply.Error("ERR Not a quicklist encoded object.");
      return;
    }
    ListRef list(ks, ctx.db(), e, ctx.server.config->list_max_listpack_size());
    std::printf("{keel list} key %.*s: %zu elements\n", static_cast<int>(ctx.args[2].size()),
                ctx.args[2].data(), list.size());
    if (!list.packed()) {
      // The nodes: element count, raw run bytes, and whether each is LZF-compressed now.
      const auto* l = static_cast<const ListObject*>(e->object());
      std::printf("{keel quicklist} nodes %zu, compress depth %zu, compressed nodes %zu\n",
                  l->nodes().size(), l->compress_depth(), l->CompressedNodes());
      size_t i = 0;
      for (const ListNodePtr& n : l->nodes()) {
        std::printf("{keel quicklist node %zu} count %u, bytes %u, compressed %d\n", i++, n->count,
                    n->bytes, n->compressed() ? 1 : 0);
      }
    }
    std::fflush(stdout);
    ctx.reply.SimpleString("Quicklist structure printed on stdout");
    return;
  }
  if (e->type != ObjType::kHash || e->enc != Encoding::kListpack) {
    ctx.reply.Error("ERR Not a listpack encoded object.");
    return;
  }
  std::printf("{keel listpack} key %.*s: %zu fields\n", static_cast<int>(ctx.args[2].size()),
              ctx.args[2].data(), HashRef::Read(e).Size());
  std::fflush(stdout);
  ctx.reply.SimpleString("Listpack structure printed on stdout");
}

// DEBUG PROTOCOL type: one reply of each type.
void DebugProtocol(CommandContext& ctx) {
  std::string_view t = ctx.args[2];
  ReplyBuilder& r = ctx.reply;
  bool resp3 = r.protocol() == ReplyBuilder::kResp3;
  if (EqualsIgnoreCase(t, "string")) {
    r.Bulk("Hello World");
  } else if (EqualsIgnoreCase(t, "integer")) {
    r.Integer(12345);
  } else if (EqualsIgnoreCase(t, "double")) {
    if (resp3) {
      r.Double(3.141);
    } else {
      r.Bulk("3.141");  // Redis writes this one with the fewest digits
    }
  } else if (EqualsIgnoreCase(t, "bignum")) {
    r.BigNumber("1234567999999999999999999999999999999");
  } else if (EqualsIgnoreCase(t, "null")) {
    r.NullBulk();
  } else if (EqualsIgnoreCase(t, "array")) {
    r.ArrayHeader(3);
    for (int j = 0; j < 3; ++j) r.Integer(j);
  } else if (EqualsIgnoreCase(t, "set")) {
    r.SetHeader(3);
    for (int j = 0; j < 3; ++j) r.Integer(j);
  } else if (EqualsIgnoreCase(t, "map")) {
    r.MapHeader(3);
    for (int j = 0; j < 3; ++j) {
      r.Integer(j);
      r.Bool(j == 1);
    }
  } else if (EqualsIgnoreCase(t, "attrib")) {
    // The attribute exists in RESP3 only; a RESP2 client gets the reply after it.
    if (resp3) {
      r.AttributeHeader(1);
      r.Bulk("key-popularity");
      r.ArrayHeader(2);
      r.Bulk("key:123");
      r.Integer(90);
    }
    r.Bulk("Some real reply following the attribute");
  } else if (EqualsIgnoreCase(t, "push")) {
    if (!resp3) {
      r.Error("ERR RESP2 is not supported by this command");
      return;
    }
    r.PushHeader(2);
    r.Bulk("server-cpu-usage");
    r.Integer(42);
    r.Bulk("Some real reply following the push reply");
  } else if (EqualsIgnoreCase(t, "verbatim")) {
    r.Verbatim("This is a verbatim\nstring");
  } else if (EqualsIgnoreCase(t, "true")) {
    r.Bool(true);
  } else if (EqualsIgnoreCase(t, "false")) {
    r.Bool(false);
  } else {
    r.Error(
        "ERR Wrong protocol type name. Please use one of the following: "
        "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
  }
}

// DEBUG STRINGMATCH-TEST: glob matching of random patterns against random strings must not
// crash (or take forever).
void DebugStringmatchTest(CommandContext& ctx) {
  std::mt19937 rng(std::random_device{}());
  static constexpr char kAlphabet[] = "ab*?[]^-\\";
  for (int i = 0; i < 100000; ++i) {
    std::string pattern(rng() % 16, ' '), str(rng() % 16, ' ');
    for (char& c : pattern) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    for (char& c : str) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    (void)GlobMatch(pattern, str, rng() % 2 == 0);
  }
  ctx.reply.SimpleString("Apparently Redis did not crash: test passed");
}

std::atomic<bool> g_active_expire{true};
std::atomic<bool> g_cron_paused{false};
std::atomic<bool> g_skip_checksum{false};

// A 0|1 switch (SET-ACTIVE-EXPIRE, PAUSE-CRON, SET-SKIP-CHECKSUM-VALIDATION): args[2] read with
// atoi, as Redis reads it (junk is 0).
void SetFlag(CommandContext& ctx, std::atomic<bool>* flag) {
  std::string v(ctx.args[2]);
  flag->store(std::atoi(v.c_str()) != 0, std::memory_order_relaxed);
  ctx.reply.Ok();
}

// A positive count (DEBUG POPULATE's arguments): Redis's getPositiveLongFromObjectOrReply.
bool PositiveCount(CommandContext& ctx, std::string_view arg, int64_t* out) {
  auto n = ParseInt64(arg);
  if (!n || *n < 0) {
    ctx.reply.Error("ERR value is out of range, must be positive");
    return false;
  }
  *out = *n;
  return true;
}

// DEBUG POPULATE count [prefix] [size]: keys prefix:0 .. prefix:count-1 (prefix "key") with the
// values "value:<i>" (padded with zero bytes or cut to `size` when size > 0); existing keys are
// left as they are. As in Redis the keys count as written for WATCH and client tracking but not
// for the dirty counter, and are not sent to the AOF (DEBUG is not a write command).
void DebugPopulate(CommandContext& ctx) {
  int64_t count = 0;
  int64_t size = 0;
  if (!PositiveCount(ctx, ctx.args[2], &count)) return;
  if (ctx.args.size() == 5 && !PositiveCount(ctx, ctx.args[4], &size)) return;
  std::string prefix = ctx.args.size() >= 4 ? std::string(ctx.args[3]) : "key";
  Keyspace& ks = ctx.keyspace();
  std::string key;
  std::string value;
  for (int64_t i = 0; i < count; ++i) {
    key = prefix + ":" + std::to_string(i);
    ShardGuard g = ks.LockShard(ctx.db(), ShardOf(key));
    if (ks.Lookup(ctx.db(), key) != nullptr) continue;
    value = "value:" + std::to_string(i);
    if (size > 0) value.resize(static_cast<size_t>(size), '\0');
    NewKeyEvent(ctx, key);  // Redis's dbAdd: "new", and no event of the write itself
    ks.Put(ctx.db(), NewStringEntry(key, value, -1));
    KeyChanged(ctx, key, kNoEvent, /*dirty=*/0);
  }
  ctx.reply.Ok();
}

// DEBUG MALLCTL name [value] / MALLCTL-STR name [value]: reads (and, with a value, writes) a
// jemalloc control, answering the old value; an integer control is read at the widest size
// that jemalloc accepts for it, as Redis does.
void DebugMallctl(CommandContext& ctx, bool as_string) {
  std::string name(ctx.args[2]);
  auto fail = [&](int err) { ctx.reply.Error(std::string("ERR ") + std::strerror(err)); };
  if (as_string) {
    const char* old = nullptr;
    size_t len = sizeof(old);
    std::string fresh;
    const char* fresh_ptr = nullptr;
    if (ctx.args.size() == 4) {
      fresh = std::string(ctx.args[3]);
      fresh_ptr = fresh.c_str();
    }
    int err = memory::Mallctl(name.c_str(), &old, &len, fresh_ptr ? &fresh_ptr : nullptr,
                              fresh_ptr ? sizeof(fresh_ptr) : 0);
    if (err != 0) return fail(err);
    ctx.reply.Bulk(old == nullptr ? "" : old);
    return;
  }
  int64_t fresh = 0;
  if (ctx.args.size() == 4) {
    auto v = ParseInt64(ctx.args[3]);
    if (!v) return ctx.reply.Error(errors::kNotInteger);
    fresh = *v;
  }
  int err = EINVAL;
  for (size_t width = sizeof(int64_t); width > 0 && err == EINVAL; width /= 2) {
    uint64_t old = 0;
    size_t len = width;
    err = memory::Mallctl(name.c_str(), &old, &len, ctx.args.size() == 4 ? &fresh : nullptr,
                          ctx.args.size() == 4 ? width : 0);
    if (err == 0) {
      int64_t shown = width == 8   ? static_cast<int64_t>(old)
                      : width == 4 ? static_cast<int32_t>(old)
                      : width == 2 ? static_cast<int16_t>(old)
                                   : static_cast<int8_t>(old);
      ctx.reply.Integer(shown);
      return;
    }
  }
  fail(err);
}

// DEBUG SDSLEN key: Redis's field names, with Keel's numbers: the key's and the string value's
// lengths (Keel keeps no spare capacity: "avail" is 0) and the bytes their blocks take.
void DebugSdslen(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace();
  ShardGuard g = ks.LockShard(ctx.db(), ShardOf(ctx.args[2]));
  Entry* e = ks.FindEvenExpired(ctx.db(), ctx.args[2]);
  if (e == nullptr) return ctx.reply.Error("ERR no such key");
  if (e->type != ObjType::kString) return ctx.reply.Error("ERR Not an sds encoded string.");
  char buf[32];
  std::string_view value = e->StringValue(buf);
  ctx.reply.SimpleString(fmt::format(
      "key_sds_len:{}, key_sds_avail:0, key_zmalloc: {}, val_sds_len:{}, val_sds_avail:0, "
      "val_zmalloc: {}",
      e->key().size(), EntryMemory(e) - value.size(), value.size(), value.size()));
}

// Redis's layout of one table's statistics (its dictGetStats), with the numbers of `st`:
// Keel's own chained tables. `index` 0 is the main array, 1 a rehash's target.
void AppendChainStats(const ChainStats& st, int index, std::string* out) {
  *out += fmt::format("Hash table {} stats ({}):\n", index,
                      index == 0 ? "main hash table" : "rehashing target");
  if (st.elements == 0) {
    *out += "No stats available for empty dictionaries\n";
    return;
  }
  double used = static_cast<double>(std::max<size_t>(st.used_buckets, 1));
  *out += fmt::format(
      " table size: {}\n number of elements: {}\n different slots: {}\n max chain length: {}\n"
      " avg chain length (counted): {:.2f}\n avg chain length (computed): {:.2f}\n"
      " Chain length distribution:\n",
      st.buckets, st.elements, st.used_buckets, st.max_chain, st.chained / used,
      st.elements / used);
  for (size_t len = 0; len < st.buckets_by_length.size(); ++len) {
    size_t n = st.buckets_by_length[len];
    if (n == 0) continue;
    *out += fmt::format("   {}: {} ({:.2f}%)\n", len, n,
                        100.0 * static_cast<double>(n) / static_cast<double>(st.buckets));
  }
}

// A table's statistics: the main array, and a rehash's target while one is in progress.
template <typename Table>
void AppendTableStats(const Table& t, std::string* out) {
  ChainStats main, target;
  t.AddChainStats(0, &main);
  t.AddChainStats(1, &target);
  AppendChainStats(main, 0, out);
  if (target.buckets > 0) AppendChainStats(target, 1, out);
}

// DEBUG HTSTATS dbid: a database's keys live in kShards tables (one per shard); their numbers are
// summed into Redis's layout (table size: every shard's buckets, and so on). Keel keeps no
// expires table (a key's TTL is in its entry): the [Expires HT] part counts the keys with a TTL.
void DebugHtstats(CommandContext& ctx) {
  auto dbid = ParseInt64(ctx.args[2]);
  if (!dbid) return ctx.reply.Error(errors::kNotInteger);
  Keyspace& ks = ctx.keyspace();
  if (*dbid < 0 || *dbid >= ks.databases()) return ctx.reply.Error("ERR Out of range database");
  int db = static_cast<int>(*dbid);
  ChainStats main, target;
  size_t expires = 0;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = ks.db(db).shard(i);
    ShardGuard g = ks.LockShard(db, i);
    shard.AddChainStats(0, &main);
    shard.AddChainStats(1, &target);
    expires += shard.expires();
  }
  std::string out = "[Dictionary HT]\n";
  AppendChainStats(main, 0, &out);
  if (target.buckets > 0) AppendChainStats(target, 1, &out);
  out += "[Expires HT]\nHash table 0 stats (main hash table):\n";
  if (expires == 0) {
    out += "No stats available for empty dictionaries\n";
  } else {
    out += fmt::format(
        " table size: 0\n number of elements: {}\n (Keel keeps each TTL in its key's entry: no "
        "separate table)\n",
        expires);
  }
  ctx.reply.Verbatim(out);
}

// DEBUG HTSTATS-KEY key: the table of a set, hash or sorted set that has one (Redis's
// "hashtable" and "skiplist" encodings; Keel's small packed ones have none).
void DebugHtstatsKey(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace();
  ShardGuard g = ks.LockShard(ctx.db(), ShardOf(ctx.args[2]));
  Entry* e = ks.Lookup(ctx.db(), ctx.args[2]);
  if (e == nullptr) return ctx.reply.Error(errors::kNoSuchKey);
  std::string out;
  if (e->storage == Entry::kObject && e->type == ObjType::kSet) {
    AppendTableStats(static_cast<const HashSetObject*>(e->object())->table, &out);
  } else if (e->storage == Entry::kObject && e->type == ObjType::kHash) {
    AppendTableStats(static_cast<const HashtableHash*>(e->object())->table, &out);
  } else if (e->storage == Entry::kObject && e->type == ObjType::kZset) {
    AppendTableStats(static_cast<const ZsetObject*>(e->object())->dict, &out);
  } else {
    return ctx.reply.Error(
        "ERR The value stored at the specified key is not represented using an hash table");
  }
  ctx.reply.Verbatim(out);
}

// DEBUG STRUCTSIZE: Redis's first fields (the word size), then the sizes of Keel's own core
// structures in its place of Redis's robj, dictEntry and sds headers.
void DebugStructsize(CommandContext& ctx) {
  ctx.reply.Bulk(
      fmt::format("bits:{} entry:{} client:{} set_node:{} hash_node:{} zset_node:{} list_object:{} "
                  "shard:{} ",
                  sizeof(void*) * 8, sizeof(Entry), sizeof(Client), sizeof(SetNode),
                  sizeof(HashNode), sizeof(ZNode), sizeof(ListObject), sizeof(Shard)));
}

// DEBUG RESTART [ms] / CRASH-AND-RECOVER [ms]: executes the server again (its path and command
// line as it started) after `ms`. RESTART first rewrites the config file (when there is one),
// saves the RDB when save points are set and writes out the AOF, as a shutdown does;
// CRASH-AND-RECOVER does none of it. On success no reply comes: every descriptor past standard
// error is closed (the listeners and clients with them) and the process image is replaced.
void DebugRestart(CommandContext& ctx, bool graceful) {
  int64_t delay_ms = 0;
  if (ctx.args.size() > 2) {
    auto v = ParseInt64(ctx.args[2]);
    if (!v) return ctx.reply.Error(errors::kNotInteger);
    delay_ms = std::max<int64_t>(*v, 0);
  }
  ServerState& s = ctx.server;
  auto fail = [&](const std::string& why) {
    KEEL_LOG_WARNING("DEBUG {}: can't restart: {}", ctx.args[1], why);
    ctx.reply.Error("ERR failed to restart the server. Check server logs.");
  };
  if (s.executable.empty() || s.argv.empty() || access(s.executable.c_str(), X_OK) != 0) {
    return fail("the executable '" + s.executable + "' can't be run again");
  }
  if (graceful) {
    if (!s.config->config_file().empty()) {
      if (Status st = s.config->Rewrite(); !st.ok()) return fail(st.message());
    }
    if (!s.config->save_params().empty()) {
      if (Status st = SaveDatabase(s); !st.ok()) return fail(st.message());
    }
    aof::StopAppendOnly();  // writes and fsyncs what is buffered
  }
  KEEL_LOG_WARNING("DEBUG {}: executing {} again", ctx.args[1], s.executable);
  std::vector<char*> argv;
  for (std::string& a : s.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  close_range(3, ~0U, 0);
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  execv(s.executable.c_str(), argv.data());
  // Nothing can serve anymore (the sockets are closed).
  std::fprintf(stderr, "DEBUG RESTART: exec %s failed: %s\n", s.executable.c_str(),
               std::strerror(errno));
  std::_Exit(1);
}

}  // namespace

bool CronRunning() { return !g_cron_paused.load(std::memory_order_relaxed); }

bool ActiveExpireEnabled() { return g_active_expire.load(std::memory_order_relaxed); }

bool SkipChecksumValidation() { return g_skip_checksum.load(std::memory_order_relaxed); }

bool RunDebugSubcommand(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  auto is = [&](std::string_view name, size_t min_argc, size_t max_argc) {
    return EqualsIgnoreCase(sub, name) && argc >= min_argc && argc <= max_argc;
  };
  if (is("sleep", 3, 3)) {
    // Redis reads the seconds with atof: junk is 0.
    std::string secs(ctx.args[2]);
    double s = std::atof(secs.c_str());
    if (s > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(s * 1e6)));
    ctx.reply.Ok();
  } else if (is("set-active-expire", 3, 3)) {
    SetFlag(ctx, &g_active_expire);
  } else if (is("quicklist-packed-threshold", 3, 3)) {
    int64_t bytes = 0;
    if (!ParseMemoryValue(ctx.args[2], &bytes) || bytes < 0 || bytes > (int64_t{1} << 32)) {
      ctx.reply.Error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
      return true;
    }
    // Keel's list nodes have no separate "plain" form for big elements: nothing to change.
    ctx.reply.Ok();
  } else if (is("listpack", 3, 3)) {
    DebugLayout(ctx, false);
  } else if (is("quicklist", 3, 4)) {
    DebugLayout(ctx, true);
  } else if (is("change-repl-id", 2, 2)) {
    ctx.reply.Ok();
  } else if (is("stringmatch-test", 2, 2)) {
    DebugStringmatchTest(ctx);
  } else if (is("digest", 2, 2)) {
    DebugDigest(ctx);
  } else if (EqualsIgnoreCase(sub, "digest-value")) {
    DebugDigestValue(ctx);
  } else if (is("protocol", 3, 3)) {
    DebugProtocol(ctx);
  } else if (is("populate", 3, 5)) {
    DebugPopulate(ctx);
  } else if (is("log", 3, 3)) {
    KEEL_LOG_WARNING("DEBUG LOG: {}", ctx.args[2]);
    ctx.reply.Ok();
  } else if (is("error", 3, 3)) {
    // The argument is the whole error line, sent as it is (Redis's addReplyErrorSds).
    ctx.reply.Error(ctx.args[2]);
  } else if (is("leak", 3, 3)) {
    // A copy of the string that is never freed (memory that does not come back, for tests of
    // memory reporting). It stays reachable from a process-wide list, so LeakSanitizer (the
    // sanitizer builds run the test suite) does not fail the server's exit on it.
    static std::mutex leak_mu;
    static auto* leaked = new std::vector<std::string>();
    std::lock_guard<std::mutex> lock(leak_mu);
    leaked->emplace_back(ctx.args[2]);
    ctx.reply.Ok();
  } else if (is("mallctl", 3, 4)) {
    DebugMallctl(ctx, false);
  } else if (is("mallctl-str", 3, 4)) {
    DebugMallctl(ctx, true);
  } else if (is("pause-cron", 3, 3)) {
    SetFlag(ctx, &g_cron_paused);
  } else if (is("client-eviction", 2, 2)) {
    if (!ctx.server.client_memory.configured.load(std::memory_order_relaxed)) {
      ctx.reply.Error(errors::kClientEvictionDisabled);
      return true;
    }
    ctx.reply.Verbatim(client_eviction::DebugReport(ctx.server));
  } else if (is("sdslen", 3, 3)) {
    DebugSdslen(ctx);
  } else if (is("set-disable-deny-scripts", 3, 3)) {
    ctx.reply.Ok();
  } else if (is("htstats", 3, 3)) {
    DebugHtstats(ctx);
  } else if (is("htstats-key", 3, 3)) {
    DebugHtstatsKey(ctx);
  } else if (is("structsize", 2, 2)) {
    DebugStructsize(ctx);
  } else if (is("aof-flush-sleep", 3, 3)) {
    std::string v(ctx.args[2]);  // atoi, as Redis reads it: junk is 0
    aof::SetFlushSleepUs(std::atoi(v.c_str()));
    ctx.reply.Ok();
  } else if (is("set-skip-checksum-validation", 3, 3)) {
    SetFlag(ctx, &g_skip_checksum);
  } else if (is("config-rewrite-force-all", 2, 2)) {
    // Redis's text names the errno of the failure (with no config file, EFAULT's).
    Config& config = *ctx.server.config;
    std::string why = "Bad address";
    if (!config.config_file().empty()) {
      Status st = config.Rewrite(/*force_all=*/true);
      if (st.ok()) return ctx.reply.Ok(), true;
      why = st.message();
      if (size_t colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
    }
    KEEL_LOG_WARNING("DEBUG CONFIG-REWRITE-FORCE-ALL failed: {}", why);
    ctx.reply.Error("ERR CONFIG-REWRITE-FORCE-ALL failed: " + why);
  } else if (EqualsIgnoreCase(sub, "loadaof")) {  // any arguments, as in Redis
    Status st = aof::ReloadAppendOnly(ctx.server);
    if (!st.ok()) {
      KEEL_LOG_WARNING("DEBUG LOADAOF failed: {}", st.message());
      std::string msg = st.message();
      return ctx.reply.Error(msg.rfind("ERR ", 0) == 0 ? msg : "ERR " + msg), true;
    }
    ctx.reply.Ok();
  } else if (is("replicate", 3, SIZE_MAX)) {
    ctx.reply.Ok();  // Keel has no replicas to send it to
  } else if (is("drop-cluster-packet-filter", 3, 3)) {
    if (!ParseInt64(ctx.args[2])) return ctx.reply.Error(errors::kNotInteger), true;
    ctx.reply.Ok();  // no cluster bus: no packets to drop
  } else if (EqualsIgnoreCase(sub, "clusterlink") && argc == 5 &&
             EqualsIgnoreCase(ctx.args[2], "kill")) {
    ctx.reply.Error("ERR Debug option only available for cluster mode enabled setup!");
  } else if (is("restart", 2, SIZE_MAX) || is("crash-and-recover", 2, SIZE_MAX)) {
    DebugRestart(ctx, EqualsIgnoreCase(sub, "restart"));
  } else if (EqualsIgnoreCase(sub, "segfault")) {
    KEEL_LOG_WARNING("DEBUG SEGFAULT: crashing the server with SIGSEGV");
    std::raise(SIGSEGV);
  } else if (EqualsIgnoreCase(sub, "assert") || EqualsIgnoreCase(sub, "panic") ||
             EqualsIgnoreCase(sub, "oom")) {
    // Redis's three deliberate crashes: a failed assertion, a panic, and an allocation that
    // cannot be served. Each logs what it is and aborts.
    KEEL_LOG_WARNING("DEBUG {}: crashing the server on purpose", sub);
    std::abort();
  } else if (EqualsIgnoreCase(sub, "replybuffer") && argc == 4 &&
             (EqualsIgnoreCase(ctx.args[2], "peak-reset-time") ||
              EqualsIgnoreCase(ctx.args[2], "resizing"))) {
    // Keel's output buffers are not resized by a cron: accepted, no effect.
    std::string_view v = ctx.args[3];
    if (EqualsIgnoreCase(ctx.args[2], "peak-reset-time") && !EqualsIgnoreCase(v, "never") &&
        !EqualsIgnoreCase(v, "reset") && !ParseInt64(v)) {
      ctx.reply.Error(errors::kNotInteger);
      return true;
    }
    ctx.reply.Ok();
  } else {
    return false;
  }
  return true;
}

}  // namespace keel
