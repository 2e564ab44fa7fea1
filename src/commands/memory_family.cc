// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.
//
// MEMORY USAGE counts Keel's own layout (docs/commands.md): the key's entry block as the
// allocator sized it (header, TTL, key and an inline or packed value), what the entry owns (a
// heap string and its buffer, or a collection: its table or nodes, estimated from SAMPLES
// elements, 0 = all of them) and the key's bucket slot in its shard's table.
#include <string>
#include <vector>

#include "keel/commands/aof.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/scripting.h"
#include "keel/commands/server_bridge.h"
#include "keel/common/memory.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// MEMORY USAGE key [SAMPLES count]
void CmdMemoryUsage(CommandContext& ctx) {
  int64_t samples = 5;
  for (size_t i = 3; i < ctx.args.size(); ++i) {
    if (EqualsIgnoreCase(ctx.args[i], "samples") && i + 1 < ctx.args.size()) {
      auto n = ParseInt64(ctx.args[++i]);
      if (!n) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      if (*n < 0) {
        ctx.reply.Error(errors::kSyntax);
        return;
      }
      samples = *n;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  std::string_view key = ctx.args[2];
  // No access: neither the LRU/LFU field nor the hit counters change, and a key whose TTL has
  // passed but that is still in the table is measured, not deleted, as in Redis.
  const Entry* e = ctx.keyspace().FindEvenExpired(ctx.db(), key);
  if (e == nullptr) {
    ctx.reply.NullBulk();
    return;
  }
  size_t bytes = EntryMemorySampled(e, static_cast<size_t>(samples)) + sizeof(Entry*);
  ctx.reply.Integer(static_cast<int64_t>(bytes));
}

// What MEMORY STATS and MEMORY DOCTOR report on.
struct MemoryReport : MemoryOverview {
  uint64_t net = 0;  // used since start-up
  uint64_t lua_caches = 0, functions_caches = 0;
  struct DbOverhead {
    int db;
    uint64_t main, expires;
  };
  std::vector<DbOverhead> dbs;
  uint64_t keys = 0;
};

double Ratio(uint64_t a, uint64_t b) {
  // Redis computes these as floats; so does Keel, for the same digits.
  return b == 0 ? 0.0 : static_cast<double>(static_cast<float>(a) / static_cast<float>(b));
}

// What Redis counts as overhead (MEMORY STATS' overhead.total, INFO's used_memory_overhead):
// the memory at start-up, the clients' buffers, the AOF's buffer, the script and function
// caches and the key tables; the dataset is the rest.
MemoryReport Measure(ServerState& server) {
  Keyspace& ks = *server.keyspace;
  MemoryReport r;
  r.used = memory::Calibrate();
  r.peak = std::max(memory::Peak(), r.used);
  r.startup = memory::Startup();
  r.rss = memory::Rss();
  r.active = memory::AllocatorStat("stats.active");
  r.resident = memory::AllocatorStat("stats.resident");
  r.clients_normal = server.client_memory.total.load(std::memory_order_relaxed);
  r.aof_buffer = aof::BufferBytes();
  scripting::CachesMemory caches = scripting::CachesMemoryNow();
  r.lua_caches = caches.eval_scripts;
  r.functions_caches = caches.functions;
  r.overhead = r.startup + r.clients_normal + r.aof_buffer + r.lua_caches + r.functions_caches;
  for (int db = 0; db < ks.databases(); ++db) {
    uint64_t keys = 0, expires = 0, buckets = 0;
    for (size_t i = 0; i < kShards; ++i) {
      Shard& s = ks.db(db).shard(i);
      keys += s.size();
      expires += s.expires();
      buckets += s.bucket_count_stat();  // without the lock: its copy for statistics
    }
    if (keys == 0) continue;
    // Keel's per-key overhead: the bucket slots and each entry's 16-byte header (the table's
    // "dictEntry"); keys with a TTL carry an 8-byte expire slot instead of an expires table.
    MemoryReport::DbOverhead o{db, buckets * sizeof(Entry*) + keys * sizeof(Entry), expires * 8};
    r.overhead += o.main + o.expires;
    r.keys += keys;
    r.dbs.push_back(o);
  }
  r.net = r.used > r.startup ? r.used - r.startup : 0;
  r.dataset = r.used > r.overhead ? r.used - r.overhead : 0;
  r.dataset_percentage = Ratio(r.dataset * 100, r.net);
  return r;
}

// MEMORY STATS
void CmdMemoryStats(CommandContext& ctx) {
  MemoryReport r = Measure(ctx.server);
  ReplyBuilder& out = ctx.reply;
  out.MapHeader(27 + r.dbs.size());
  auto field = [&](std::string_view name, uint64_t v) {
    out.Bulk(name);
    out.Integer(static_cast<int64_t>(v));
  };
  auto real = [&](std::string_view name, double v) {
    out.Bulk(name);
    out.Double(v);
  };
  field("peak.allocated", r.peak);
  field("total.allocated", r.used);
  field("startup.allocated", r.startup);
  field("replication.backlog", 0);
  field("clients.slaves", 0);
  field("clients.normal", r.clients_normal);
  field("cluster.links", 0);
  field("aof.buffer", r.aof_buffer);
  field("lua.caches", r.lua_caches);
  field("functions.caches", r.functions_caches);
  for (const auto& o : r.dbs) {
    out.Bulk("db." + std::to_string(o.db));
    out.MapHeader(3);
    field("overhead.hashtable.main", o.main);
    field("overhead.hashtable.expires", o.expires);
    field("overhead.hashtable.slot-to-keys", 0);
  }
  field("overhead.total", r.overhead);
  field("keys.count", r.keys);
  field("keys.bytes-per-key", r.keys ? r.net / r.keys : 0);
  field("dataset.bytes", r.dataset);
  real("dataset.percentage", r.dataset_percentage);
  real("peak.percentage", Ratio(r.used * 100, r.peak));
  field("allocator.allocated", r.used);
  field("allocator.active", r.active);
  field("allocator.resident", r.resident);
  real("allocator-fragmentation.ratio", Ratio(r.active, r.used));
  field("allocator-fragmentation.bytes", r.active > r.used ? r.active - r.used : 0);
  real("allocator-rss.ratio", Ratio(r.resident, r.active));
  field("allocator-rss.bytes", r.resident > r.active ? r.resident - r.active : 0);
  real("rss-overhead.ratio", Ratio(r.rss, r.resident));
  field("rss-overhead.bytes", r.rss > r.resident ? r.rss - r.resident : 0);
  real("fragmentation", Ratio(r.rss, r.used));
  field("fragmentation.bytes", r.rss > r.used ? r.rss - r.used : 0);
}

// MEMORY DOCTOR. Redis's two fixed verdicts are kept word for word (tools match on them); the
// findings are Keel's own words.
void CmdMemoryDoctor(CommandContext& ctx) {
  MemoryReport r = Measure(ctx.server);
  if (r.used < 5 * 1024 * 1024) {
    ctx.reply.Verbatim(
        "Hi Sam, this instance is empty or is using very little memory, my issues detector "
        "can't be used in these conditions. Please, leave for your mission on Earth and fill it "
        "with some data. The new Sam and I will be back to our programming as soon as I "
        "finished rebooting.");
    return;
  }
  std::string findings;
  if (r.peak > r.used + r.used / 2) {
    findings += " * Peak memory: the peak (" + memory::HumanBytes(r.peak) +
                ") is more than 150% of the memory in use now (" + memory::HumanBytes(r.used) +
                "); fragmentation figures may look worse than they are until usage grows back.\n\n";
  }
  if (Ratio(r.rss, r.used) > 1.4 && r.rss > r.used + 10 * 1024 * 1024) {
    findings += " * High fragmentation: the process holds " + memory::HumanBytes(r.rss) + " for " +
                memory::HumanBytes(r.used) +
                " allocated. MEMORY PURGE returns dirty pages to the system.\n\n";
  }
  uint64_t maxmemory = ctx.keyspace().evictor().maxmemory();
  if (maxmemory != 0 && r.used > maxmemory) {
    findings += " * Over maxmemory: " + memory::HumanBytes(r.used) + " in use for a limit of " +
                memory::HumanBytes(maxmemory) + "; eviction is working it off.\n\n";
  }
  if (findings.empty()) {
    ctx.reply.Verbatim(
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
        "occurs on this base.");
    return;
  }
  ctx.reply.Verbatim("Sam, I detected a few issues in this Keel instance memory implants:\n\n" +
                     findings);
}

// MEMORY MALLOC-STATS
void CmdMemoryMallocStats(CommandContext& ctx) { ctx.reply.Verbatim(memory::MallocStats()); }

// MEMORY PURGE
void CmdMemoryPurge(CommandContext& ctx) {
  memory::Purge();
  ctx.reply.Ok();
}

// MEMORY HELP
void CmdMemoryHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

MemoryOverview ServerMemoryOverview(ServerState& server) { return Measure(server); }

void RegisterMemoryFamily(CommandRegistry* r) {
  r->Register("memory|usage", CmdMemoryUsage);
  r->Register("memory|stats", CmdMemoryStats, LockMode::kNone);
  r->Register("memory|doctor", CmdMemoryDoctor, LockMode::kNone);
  r->Register("memory|malloc-stats", CmdMemoryMallocStats, LockMode::kNone);
  r->Register("memory|purge", CmdMemoryPurge, LockMode::kNone);
  r->Register("memory|help", CmdMemoryHelp, LockMode::kNone);
}

}  // namespace keel
