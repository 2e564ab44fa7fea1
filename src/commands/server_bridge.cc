#include "keel/commands/server_bridge.h"

#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

int ServerDatabases(const ServerState& server) { return server.keyspace->databases(); }

std::string ServerRequirePass(const ServerState& server) { return server.config->requirepass(); }

uint64_t ServerDbSize(const ServerState& server, int db) { return server.keyspace->DbSize(db); }

void ServerDbStats(const ServerState& server, int db, uint64_t* keys, uint64_t* expires,
                   uint64_t* avg_ttl) {
  *keys = server.keyspace->DbSize(db);
  *expires = server.keyspace->DbExpires(db);
  *avg_ttl = 0;
}

uint64_t ServerExpiredKeys(const ServerState& server) { return server.keyspace->ExpiredKeys(); }

}  // namespace keel
