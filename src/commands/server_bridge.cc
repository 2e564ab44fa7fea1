#include "keel/commands/server_bridge.h"

#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

int ServerDatabases(const ServerState& server) { return server.keyspace->databases(); }

std::string ServerRequirePass(const ServerState& server) { return server.config->requirepass(); }

uint64_t ServerDbSize(const ServerState& server, int db) { return server.keyspace->db(db).size(); }

void ServerDbStats(const ServerState& server, int db, uint64_t* keys, uint64_t* expires,
                   uint64_t* avg_ttl) {
  *keys = server.keyspace->db(db).size();
  *expires = server.keyspace->db(db).expires();
  *avg_ttl = *expires ? server.keyspace->avg_ttl(db) : 0;
}

uint64_t ServerExpiredKeys(const ServerState& server) { return server.keyspace->expired_keys(); }

}  // namespace keel
