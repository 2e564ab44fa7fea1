#include "keel/keyspace/keyspace.h"

namespace keel {

Keyspace::Keyspace(int databases) : databases_(databases) {}

uint64_t Keyspace::DbSize(int db) const { return 0; }
uint64_t Keyspace::DbExpires(int db) const { return 0; }
uint64_t Keyspace::ExpiredKeys() const { return 0; }

}  // namespace keel
