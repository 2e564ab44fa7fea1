#pragma once

#include <memory>
#include <string>
#include <vector>

#include "keel/commands/client.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

struct ServerState;

// A client blocked in BLPOP, BRPOP, BLMPOP, BLMOVE or BRPOPLPUSH (see docs/architecture.md,
// "Blocking pops"). Immutable after registration except the claim flag in Waiter.
struct BlockedWaiter : Waiter {
  enum class Kind { kPop, kMPop, kMove };
  Kind kind = Kind::kPop;
  bool pop_left = true;   // which end of the source list
  bool push_left = true;  // kMove: which end of the destination
  int64_t count = 1;      // kMPop
  std::string dest;       // kMove
  int db = 0;
  std::vector<std::string> keys;
  std::weak_ptr<ClientHandle> handle;
  uint64_t client_id = 0;
};

// Removes the waiter from the queues of all its keys, taking one shard lock at a time.
// REQUIRES: no shard lock held.
void UnregisterWaiter(Keyspace& ks, const std::shared_ptr<BlockedWaiter>& w);

// CLIENT UNBLOCK: wakes the client if it is blocked, with a timeout reply or, when `error`, the
// UNBLOCKED error. Returns false if the client was not blocked.
bool UnblockClient(ServerState& server, Client& client, bool error);

}  // namespace keel
