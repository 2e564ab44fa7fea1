#pragma once

// The slow log, the latency monitor and per-command latency tracking (diagnostics_family.cc):
// what SLOWLOG, LATENCY and INFO latencystats report.
//
// The dispatcher calls RecordCommand once per executed command, on the client's io thread, after
// its locks are released. Its cost when nothing is recorded is a few relaxed loads (the
// thresholds are cached atomics of the config) plus one increment in this thread's own
// histogram; the slow log's and the latency monitor's mutexes are taken only when an entry or a
// sample is actually recorded.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel {

struct Client;
struct CommandMeta;
struct ServerState;

// Records `elapsed_us` of one command run by `client` (args as sent) where it is due: the slow
// log (slowlog-log-slower-than, unless the command has skip_slowlog), the latency monitor's
// "command"/"fast-command" events (latency-monitor-threshold, in milliseconds) and the
// command's latency histogram (latency-tracking). `index` is the command's dense registry index.
void RecordCommand(ServerState& server, const Client& client, const CommandMeta& meta, size_t index,
                   std::span<const std::string_view> args, int64_t elapsed_us);

// INFO latencystats: one "latency_percentiles_usec_<name>:p50=...,..." line per command that
// was called since the last reset, for the percentiles of latency-tracking-info-percentiles.
// Returns the fields (name, value) in order.
std::vector<std::pair<std::string, std::string>> LatencyStatsFields(ServerState& server);
// CONFIG RESETSTAT: zeroes the latency histograms.
void ResetLatencyHistograms();

// DEBUG (debug_family.cc): runs the subcommands beyond RELOAD and OBJECT. Returns false when
// args[1] is none of them (or its argument count does not fit); the caller replies the error.
struct CommandContext;
bool RunDebugSubcommand(CommandContext& ctx);
// DEBUG SET-ACTIVE-EXPIRE: whether the housekeeping cron runs the active expiry cycle.
bool ActiveExpireEnabled();
// False while DEBUG PAUSE-CRON 1 holds the periodic work (active expiry, rehashing, background
// eviction, the 10 Hz cron: statistics and client timeouts), as Redis pauses serverCron.
bool CronRunning();
// DEBUG SET-SKIP-CHECKSUM-VALIDATION 1: RDB loads (DEBUG RELOAD, an AOF preamble) and RESTORE skip
// their CRC-64 check.
bool SkipChecksumValidation();

}  // namespace keel
