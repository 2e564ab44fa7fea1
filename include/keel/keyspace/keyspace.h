#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace keel {

// Keyspace: `databases` databases. The sharded hash tables, expiry and the locking order
// described in docs/architecture.md live here; this first slice has the databases only, so
// DBSIZE and INFO keyspace report the (empty) store truthfully.
class Keyspace {
 public:
  explicit Keyspace(int databases);
  int databases() const { return databases_; }
  uint64_t DbSize(int db) const;
  uint64_t DbExpires(int db) const;
  uint64_t ExpiredKeys() const;

 private:
  int databases_;
};

}  // namespace keel
