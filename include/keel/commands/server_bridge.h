#pragma once

#include <string>

#include "keel/commands/server_state.h"

namespace keel {

inline constexpr const char* kKeelVersionString = "0.1.0";
inline constexpr const char* kRedisCompatVersion = "7.0.15";

// Values command handlers read from the live configuration (thread-safe).
int ServerDatabases(const ServerState& server);
std::string ServerRequirePass(const ServerState& server);

}  // namespace keel

namespace keel {
// Keyspace figures for INFO and DBSIZE (thread-safe, lock-free reads of counters).
uint64_t ServerDbSize(const ServerState& server, int db);
void ServerDbStats(const ServerState& server, int db, uint64_t* keys, uint64_t* expires,
                   uint64_t* avg_ttl);
uint64_t ServerExpiredKeys(const ServerState& server);
// Bytes allocated by the process (INFO used_memory).
uint64_t ServerUsedMemory();
// One measurement of memory, as INFO memory and MEMORY STATS report it (memory_family.cc): the
// allocator's and the process's figures, the buffers, and how used memory splits into overhead
// (start-up, client and AOF buffers, script caches, key tables) and dataset (the rest), with the
// dataset's share of the memory used since start-up.
struct MemoryOverview {
  uint64_t used = 0, peak = 0, startup = 0, rss = 0, active = 0, resident = 0;
  uint64_t clients_normal = 0, aof_buffer = 0;
  uint64_t overhead = 0, dataset = 0;
  double dataset_percentage = 0;
};
MemoryOverview ServerMemoryOverview(ServerState& server);
// Redis's local client: connected from exactly 127.0.0.1 or ::1, or over a Unix socket.
bool IsLocalClient(const Client& c);
}  // namespace keel
