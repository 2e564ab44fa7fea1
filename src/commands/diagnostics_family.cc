// Diagnostics: SLOWLOG, LATENCY and INFO latencystats (keel/commands/diagnostics.h).
//
// Threads: RecordCommand runs on every io thread after each command. The slow log and the
// latency monitor are global, each behind its own leaf mutex, taken only when something is
// recorded (a command over its threshold) or read. The per-command latency histograms are per
// thread (relaxed atomic buckets that only their thread increments), merged when read.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "command_meta_table.h"
#include "keel/commands/client.h"
#include "keel/commands/command_meta.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// ---- Cached config cells (the hot path reads these, never the option table) ----

struct DiagnosticsConfig {
  const std::atomic<int64_t>* slower_than = nullptr;
  const std::atomic<int64_t>* max_len = nullptr;
  const std::atomic<int64_t>* latency_threshold = nullptr;
  const std::atomic<int64_t>* tracking = nullptr;
};

// Per thread and per Config (unit tests make one Config after another; a cache of the first
// one's cells would read freed memory in the next test).
const DiagnosticsConfig& Cells(const Config& c) {
  thread_local uint64_t owner = 0;
  thread_local DiagnosticsConfig cells;
  if (owner != c.serial()) {
    cells = DiagnosticsConfig{
        c.IntOptionCell("slowlog-log-slower-than"), c.IntOptionCell("slowlog-max-len"),
        c.IntOptionCell("latency-monitor-threshold"), c.IntOptionCell("latency-tracking")};
    owner = c.serial();
  }
  return cells;
}

int64_t Load(const std::atomic<int64_t>* cell) { return cell->load(std::memory_order_relaxed); }

// ---- The slow log ----

// Redis keeps at most 32 arguments per entry (the last one then says how many more there were)
// and cuts each argument at 128 bytes.
constexpr size_t kSlowlogMaxArgc = 32;
constexpr size_t kSlowlogMaxString = 128;

struct SlowlogEntry {
  int64_t id;
  int64_t time;         // Unix seconds
  int64_t duration_us;  // execution time
  std::vector<std::string> argv;
  std::string peer;
  std::string name;
};

class Slowlog {
 public:
  void Push(SlowlogEntry e, size_t max_len) {
    std::lock_guard<std::mutex> lock(mu_);
    e.id = next_id_++;
    entries_.push_front(std::move(e));
    while (entries_.size() > max_len) entries_.pop_back();
  }
  size_t Len() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.clear();
  }
  // The newest `count` entries (all with a negative count), newest first.
  std::vector<SlowlogEntry> Get(int64_t count) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = count < 0 ? entries_.size() : std::min(entries_.size(), static_cast<size_t>(count));
    return {entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(n)};
  }

 private:
  std::mutex mu_;
  int64_t next_id_ = 0;               // GUARDED_BY(mu_)
  std::deque<SlowlogEntry> entries_;  // GUARDED_BY(mu_), newest first
};

Slowlog& GlobalSlowlog() {
  static Slowlog log;
  return log;
}

// Whether argument `i` of the command is a secret Redis shows as "(redacted)": AUTH's arguments,
// HELLO's AUTH username and password, and CONFIG SET's values of requirepass and masterauth.
bool Redacted(std::string_view name, std::span<const std::string_view> args, size_t i) {
  if (name == "auth") return i >= 1;
  if (name == "hello") {
    for (size_t j = 2; j < i; ++j) {
      if (EqualsIgnoreCase(args[j], "auth") && i <= j + 2) return true;
    }
    return false;
  }
  if (name == "config|set" && i >= 3 && i % 2 == 1) {
    return EqualsIgnoreCase(args[i - 1], "requirepass") ||
           EqualsIgnoreCase(args[i - 1], "masterauth");
  }
  return false;
}

SlowlogEntry MakeSlowlogEntry(const Client& client, std::string_view name,
                              std::span<const std::string_view> args, int64_t duration_us) {
  SlowlogEntry e;
  e.id = 0;
  e.time = NowUnixMs() / 1000;
  e.duration_us = duration_us;
  size_t argc = std::min(args.size(), kSlowlogMaxArgc);
  e.argv.reserve(argc);
  for (size_t j = 0; j < argc; ++j) {
    if (argc != args.size() && j == argc - 1) {
      e.argv.push_back("... (" + std::to_string(args.size() - argc + 1) + " more arguments)");
    } else if (Redacted(name, args, j)) {
      e.argv.emplace_back("(redacted)");
    } else if (args[j].size() > kSlowlogMaxString) {
      std::string s(args[j].substr(0, kSlowlogMaxString));
      s += "... (" + std::to_string(args[j].size() - kSlowlogMaxString) + " more bytes)";
      e.argv.push_back(std::move(s));
    } else {
      e.argv.emplace_back(args[j]);
    }
  }
  e.peer = client.addr;
  std::lock_guard<std::mutex> lock(client.mu);
  e.name = client.name;
  return e;
}

// ---- The latency monitor ----

constexpr size_t kLatencySamples = 160;

struct LatencySample {
  int64_t time = 0;  // Unix seconds
  uint32_t latency_ms = 0;
};

struct LatencyEvent {
  std::array<LatencySample, kLatencySamples> samples{};
  size_t next = 0;  // where the next sample goes
  uint32_t max_ms = 0;
};

class LatencyMonitor {
 public:
  // Adds a sample; samples of the same second keep the largest.
  void Add(std::string_view event, uint32_t ms) {
    int64_t now = NowUnixMs() / 1000;
    std::lock_guard<std::mutex> lock(mu_);
    LatencyEvent& ev = events_[std::string(event)];
    ev.max_ms = std::max(ev.max_ms, ms);
    size_t prev = (ev.next + kLatencySamples - 1) % kLatencySamples;
    if (ev.samples[prev].time == now) {
      ev.samples[prev].latency_ms = std::max(ev.samples[prev].latency_ms, ms);
      return;
    }
    ev.samples[ev.next] = {now, ms};
    ev.next = (ev.next + 1) % kLatencySamples;
  }
  // Calls fn(name, event) for each event, under the lock.
  template <typename Fn>
  void ForEach(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, ev] : events_) fn(name, ev);
  }
  bool Find(std::string_view name, LatencyEvent* out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = events_.find(std::string(name));
    if (it == events_.end()) return false;
    *out = it->second;
    return true;
  }
  size_t Reset(std::span<const std::string_view> names) {
    std::lock_guard<std::mutex> lock(mu_);
    if (names.empty()) {
      size_t n = events_.size();
      events_.clear();
      return n;
    }
    size_t n = 0;
    for (std::string_view name : names) n += events_.erase(std::string(name));
    return n;
  }

 private:
  std::mutex mu_;
  std::map<std::string, LatencyEvent> events_;  // GUARDED_BY(mu_)
};

LatencyMonitor& GlobalLatency() {
  static LatencyMonitor monitor;
  return monitor;
}

// The samples of an event, oldest first.
std::vector<LatencySample> History(const LatencyEvent& ev) {
  std::vector<LatencySample> out;
  for (size_t i = 0; i < kLatencySamples; ++i) {
    const LatencySample& s = ev.samples[(ev.next + i) % kLatencySamples];
    if (s.time != 0) out.push_back(s);
  }
  return out;
}

// ---- Per-command latency histograms ----

// Bucket b holds the durations whose microsecond count has bit width b (0 us in bucket 0, 1 us in
// bucket 1, 2-3 us in bucket 2, ...): powers of two, as Redis's LATENCY HISTOGRAM reports them.
constexpr size_t kBuckets = 40;

struct ThreadHistograms {
  explicit ThreadHistograms(size_t commands)
      : counts(new std::array<std::atomic<uint64_t>, kBuckets>[commands]()), size(commands) {}
  std::unique_ptr<std::array<std::atomic<uint64_t>, kBuckets>[]> counts;
  size_t size;
};

std::mutex& HistogramsMu() {
  static std::mutex mu;
  return mu;
}
// Every thread's histograms, kept for the process's life: threads that end (the start-up
// loader, which replays the AOF through the dispatcher) leave theirs counted. The list itself is
// never destroyed, so what it holds stays reachable at exit (no destructor-order race with
// threads still recording, no leak report).
std::vector<ThreadHistograms*>& AllHistograms() {
  static auto* all = new std::vector<ThreadHistograms*>;  // GUARDED_BY(HistogramsMu())
  return *all;
}

ThreadHistograms* MyHistograms() {
  thread_local ThreadHistograms* mine = [] {
    auto* h = new ThreadHistograms(GlobalCommandRegistry().size());
    std::lock_guard<std::mutex> lock(HistogramsMu());
    AllHistograms().push_back(h);
    return h;
  }();
  return mine;
}

size_t BucketOf(int64_t us) {
  size_t b = static_cast<size_t>(std::bit_width(static_cast<uint64_t>(std::max<int64_t>(us, 0))));
  return std::min(b, kBuckets - 1);
}

// The merged buckets of command `index`.
std::array<uint64_t, kBuckets> Merged(size_t index) {
  std::array<uint64_t, kBuckets> sum{};
  std::lock_guard<std::mutex> lock(HistogramsMu());
  for (ThreadHistograms* h : AllHistograms()) {
    if (index >= h->size) continue;
    for (size_t b = 0; b < kBuckets; ++b) {
      sum[b] += h->counts[index][b].load(std::memory_order_relaxed);
    }
  }
  return sum;
}

uint64_t BucketUpperUs(size_t b) { return uint64_t{1} << b; }

// ---- Replies ----

// SLOWLOG GET [count]
void CmdSlowlogGet(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::SubcommandSyntax(ctx.args[1], "slowlog"));
    return;
  }
  int64_t count = 10;
  if (ctx.args.size() == 3) {
    std::optional<int64_t> v = ParseInt64(ctx.args[2]);
    if (!v || *v < -1) {
      ctx.reply.Error(errors::kSlowlogCount);
      return;
    }
    count = *v;
  }
  std::vector<SlowlogEntry> entries = GlobalSlowlog().Get(count);
  ctx.reply.ArrayHeader(entries.size());
  for (const SlowlogEntry& e : entries) {
    ctx.reply.ArrayHeader(6);
    ctx.reply.Integer(e.id);
    ctx.reply.Integer(e.time);
    ctx.reply.Integer(e.duration_us);
    ctx.reply.ArrayHeader(e.argv.size());
    for (const std::string& a : e.argv) ctx.reply.Bulk(a);
    ctx.reply.Bulk(e.peer);
    ctx.reply.Bulk(e.name);
  }
}

// SLOWLOG LEN
void CmdSlowlogLen(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<int64_t>(GlobalSlowlog().Len()));
}

// SLOWLOG RESET
void CmdSlowlogReset(CommandContext& ctx) {
  GlobalSlowlog().Reset();
  ctx.reply.Ok();
}

// SLOWLOG HELP
void CmdSlowlogHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

// LATENCY LATEST
void CmdLatencyLatest(CommandContext& ctx) {
  size_t token = ctx.reply.BeginDeferredArray();
  size_t n = 0;
  GlobalLatency().ForEach([&](const std::string& name, const LatencyEvent& ev) {
    const LatencySample& last = ev.samples[(ev.next + kLatencySamples - 1) % kLatencySamples];
    ctx.reply.ArrayHeader(4);
    ctx.reply.Bulk(name);
    ctx.reply.Integer(last.time);
    ctx.reply.Integer(last.latency_ms);
    ctx.reply.Integer(ev.max_ms);
    ++n;
  });
  ctx.reply.EndDeferredArray(token, n);
}

// LATENCY HISTORY event
void CmdLatencyHistory(CommandContext& ctx) {
  LatencyEvent ev;
  if (!GlobalLatency().Find(ctx.args[2], &ev)) {
    ctx.reply.EmptyArray();
    return;
  }
  std::vector<LatencySample> samples = History(ev);
  ctx.reply.ArrayHeader(samples.size());
  for (const LatencySample& s : samples) {
    ctx.reply.ArrayHeader(2);
    ctx.reply.Integer(s.time);
    ctx.reply.Integer(s.latency_ms);
  }
}

// LATENCY RESET [event ...]
void CmdLatencyReset(CommandContext& ctx) {
  ctx.reply.Integer(static_cast<int64_t>(GlobalLatency().Reset(ctx.args.subspan(2))));
}

// How long ago `t` was, in Redis's graph labels: seconds, minutes, hours or days.
std::string Ago(int64_t now, int64_t t) {
  int64_t d = std::max<int64_t>(now - t, 0);
  if (d < 60) return std::to_string(d) + "s";
  if (d < 3600) return std::to_string(d / 60) + "m";
  if (d < 86400) return std::to_string(d / 3600) + "h";
  return std::to_string(d / 86400) + "d";
}

// LATENCY GRAPH event: a header with the range, then one column per sample (oldest left), four
// rows high, and each column's age written vertically below it.
void CmdLatencyGraph(CommandContext& ctx) {
  LatencyEvent ev;
  if (!GlobalLatency().Find(ctx.args[2], &ev)) {
    ctx.reply.Error(errors::NoLatencySamples(ctx.args[2]));
    return;
  }
  std::vector<LatencySample> samples = History(ev);
  uint32_t high = 0, low = UINT32_MAX;
  for (const LatencySample& s : samples) {
    high = std::max(high, s.latency_ms);
    low = std::min(low, s.latency_ms);
  }
  if (samples.empty()) low = 0;
  char head[256];
  std::snprintf(head, sizeof(head), "%.*s - high %u ms, low %u ms (all time high %u ms)\n",
                static_cast<int>(std::min<size_t>(ctx.args[2].size(), 64)), ctx.args[2].data(),
                high, low, ev.max_ms);
  std::string out = head;
  out.append(80, '-');
  out += "\n";
  constexpr int kRows = 4;
  for (int row = kRows; row >= 1; --row) {
    std::string line;
    for (const LatencySample& s : samples) {
      double level =
          high == low ? kRows : 1.0 + (kRows - 1.0) * (s.latency_ms - low) / (high - low);
      line += level >= row ? (level < row + 1 && row == static_cast<int>(level) ? '#' : '|') : ' ';
    }
    out += line + "\n";
  }
  int64_t now = NowUnixMs() / 1000;
  std::vector<std::string> labels;
  size_t longest = 0;
  for (const LatencySample& s : samples) {
    labels.push_back(Ago(now, s.time));
    longest = std::max(longest, labels.back().size());
  }
  for (size_t r = 0; r < longest; ++r) {
    std::string line;
    for (const std::string& l : labels) line += r < l.size() ? l[r] : ' ';
    out += line + "\n";
  }
  ctx.reply.Verbatim(out);
}

// LATENCY DOCTOR: Keel's own plain-text report of the events seen.
void CmdLatencyDoctor(CommandContext& ctx) {
  std::string out;
  int64_t threshold = Load(Cells(*ctx.server.config).latency_threshold);
  if (threshold == 0) {
    out =
        "Latency monitoring is disabled on this Keel server. Enable it with "
        "CONFIG SET latency-monitor-threshold <milliseconds> and ask again later.\n";
  } else {
    size_t events = 0;
    std::string body;
    GlobalLatency().ForEach([&](const std::string& name, const LatencyEvent& ev) {
      std::vector<LatencySample> samples = History(ev);
      uint64_t sum = 0;
      for (const LatencySample& s : samples) sum += s.latency_ms;
      char buf[256];
      std::snprintf(buf, sizeof(buf),
                    "%zu. %s: %zu latency spikes (average %" PRIu64
                    "ms, worst %ums). Latest spike at %" PRId64 ".\n",
                    ++events, name.c_str(), samples.size(),
                    samples.empty() ? 0 : sum / samples.size(), ev.max_ms,
                    samples.empty() ? 0 : samples.back().time);
      body += buf;
    });
    if (events == 0) {
      out = "No latency spike over the threshold of " + std::to_string(threshold) +
            " ms was seen since the monitor was last reset.\n";
    } else {
      out = "Latency spikes over " + std::to_string(threshold) + " ms were seen for " +
            std::to_string(events) + " event class(es):\n\n" + body +
            "\nSlow commands: see SLOWLOG GET and INFO commandstats. Fast commands that were "
            "slow usually mean the host is overloaded or swapping.\n";
    }
  }
  ctx.reply.Verbatim(out);
}

void ReplyHistogram(CommandContext& ctx, std::string_view name, size_t index) {
  std::array<uint64_t, kBuckets> b = Merged(index);
  uint64_t calls = 0;
  size_t used = 0;
  for (uint64_t c : b) {
    calls += c;
    used += c != 0;
  }
  ctx.reply.Bulk(name);
  ctx.reply.MapHeader(2);
  ctx.reply.Bulk("calls");
  ctx.reply.Integer(static_cast<int64_t>(calls));
  ctx.reply.Bulk("histogram_usec");
  ctx.reply.MapHeader(used);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (b[i] == 0) continue;
    cumulative += b[i];
    ctx.reply.Integer(static_cast<int64_t>(BucketUpperUs(i)));
    ctx.reply.Integer(static_cast<int64_t>(cumulative));
  }
}

bool HasCalls(size_t index) {
  for (uint64_t c : Merged(index)) {
    if (c != 0) return true;
  }
  return false;
}

// LATENCY HISTOGRAM [command ...]: the named commands (a container names its subcommands too),
// or every command that was called.
void CmdLatencyHistogram(CommandContext& ctx) {
  const CommandRegistry& reg = GlobalCommandRegistry();
  std::vector<std::pair<std::string_view, size_t>> picked;
  auto add = [&](const CommandMeta& m) {
    const CommandRegistry::Entry* e = reg.Find(&m);
    if (e == nullptr || !HasCalls(e->index)) return;
    for (const auto& p : picked) {
      if (p.first == m.name) return;
    }
    picked.emplace_back(m.name, e->index);
  };
  if (ctx.args.size() == 2) {
    reg.ForEach([&](const CommandMeta& m, size_t) { add(m); });
  } else {
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      const CommandMeta* m = LookupCommand(ctx.args[i]);
      if (m == nullptr) continue;
      add(*m);
      for (const CommandMeta& sub : m->subcommands) add(sub);
    }
  }
  ctx.reply.MapHeader(picked.size());
  for (const auto& [name, index] : picked) ReplyHistogram(ctx, name, index);
}

// LATENCY HELP
void CmdLatencyHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a histogram for the "
      "specified command names.",
      "    If no commands are specified then all histograms are replied.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

// The percentiles of latency-tracking-info-percentiles (numbers in [0, 100]).
std::vector<double> InfoPercentiles(const Config& config) {
  std::vector<std::pair<std::string, std::string>> kv;
  std::string_view pat = "latency-tracking-info-percentiles";
  config.Get({&pat, 1}, &kv);
  std::vector<double> out;
  if (kv.empty()) return out;
  std::string s = kv[0].second;
  const char* p = s.c_str();
  char* end = nullptr;
  for (double d = std::strtod(p, &end); end != p; d = std::strtod(p, &end)) {
    out.push_back(d);
    p = end;
  }
  return out;
}

// The smallest bucket bound that covers `pct` percent of the calls.
double Percentile(const std::array<uint64_t, kBuckets>& b, uint64_t calls, double pct) {
  double want = pct / 100.0 * static_cast<double>(calls);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += b[i];
    if (b[i] != 0 && static_cast<double>(cumulative) >= want) {
      return static_cast<double>(BucketUpperUs(i));
    }
  }
  return 0;
}

}  // namespace

void RecordCommand(ServerState& server, const Client& client, const CommandMeta& meta, size_t index,
                   std::span<const std::string_view> args, int64_t elapsed_us) {
  const DiagnosticsConfig& c = Cells(*server.config);
  if (Load(c.tracking) != 0) {
    ThreadHistograms* h = MyHistograms();
    if (index < h->size) {
      auto& cell = h->counts[index][BucketOf(elapsed_us)];
      cell.store(cell.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }
  const uint32_t flags = MetaFlags(meta);
  int64_t slower = Load(c.slower_than);
  if (slower >= 0 && elapsed_us >= slower && !(flags & kCmdSkipSlowlog)) {
    GlobalSlowlog().Push(MakeSlowlogEntry(client, MetaName(meta), args, elapsed_us),
                         static_cast<size_t>(Load(c.max_len)));
  }
  int64_t threshold = Load(c.latency_threshold);
  int64_t ms = elapsed_us / 1000;
  if (threshold > 0 && ms >= threshold) {
    GlobalLatency().Add((flags & kCmdFast) ? "fast-command" : "command",
                        static_cast<uint32_t>(std::min<int64_t>(ms, UINT32_MAX)));
  }
}

std::vector<std::pair<std::string, std::string>> LatencyStatsFields(ServerState& server) {
  std::vector<double> pcts = InfoPercentiles(*server.config);
  std::vector<std::pair<std::string, std::string>> fields;
  GlobalCommandRegistry().ForEach([&](const CommandMeta& meta, size_t index) {
    std::array<uint64_t, kBuckets> b = Merged(index);
    uint64_t calls = 0;
    for (uint64_t v : b) calls += v;
    if (calls == 0) return;
    std::string out;
    for (size_t i = 0; i < pcts.size(); ++i) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%sp%g=%.3f", i ? "," : "", pcts[i],
                    Percentile(b, calls, pcts[i]));
      out += buf;
    }
    fields.emplace_back("latency_percentiles_usec_" + std::string(MetaName(meta)), out);
  });
  return fields;
}

void ResetLatencyHistograms() {
  std::lock_guard<std::mutex> lock(HistogramsMu());
  for (ThreadHistograms* h : AllHistograms()) {
    for (size_t i = 0; i < h->size; ++i) {
      for (auto& cell : h->counts[i]) cell.store(0, std::memory_order_relaxed);
    }
  }
}

void RegisterDiagnosticsFamily(CommandRegistry* r) {
  r->Register("slowlog|get", CmdSlowlogGet, LockMode::kNone);
  r->Register("slowlog|len", CmdSlowlogLen, LockMode::kNone);
  r->Register("slowlog|reset", CmdSlowlogReset, LockMode::kNone);
  r->Register("slowlog|help", CmdSlowlogHelp, LockMode::kNone);
  r->Register("latency|latest", CmdLatencyLatest, LockMode::kNone);
  r->Register("latency|history", CmdLatencyHistory, LockMode::kNone);
  r->Register("latency|reset", CmdLatencyReset, LockMode::kNone);
  r->Register("latency|graph", CmdLatencyGraph, LockMode::kNone);
  r->Register("latency|doctor", CmdLatencyDoctor, LockMode::kNone);
  r->Register("latency|histogram", CmdLatencyHistogram, LockMode::kNone);
  r->Register("latency|help", CmdLatencyHelp, LockMode::kNone);
}

}  // namespace keel
