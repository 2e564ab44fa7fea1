#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/client.h"
#include "keel/keyspace/keyspace.h"

namespace keel {

struct CommandContext;
struct ServerState;
class ReplyBuilder;

// The blocking module (see docs/architecture.md, "Blocking"): what every blocking command
// shares, whatever its family. A command that finds nothing to serve makes a BlockedWaiter of
// its kind and calls Block; the module queues it on its keys (oldest first), arms the timeout,
// and hands CLIENT UNBLOCK, disconnects and MULTI. When a write makes one of the keys ready
// (Keyspace::SignalReady), ServeReadyKeys finds the oldest waiter of the key, takes the locks it
// names, asks it whether it can be served, claims it (Waiter::TryClaim) and lets it serve.
//
// A family supplies only the kind: its state (a subclass) and the virtual functions below.
// The waiter is immutable after Block except the claim flag.
struct BlockedWaiter : Waiter {
  // Filled by Block.
  int db = 0;
  int protocol = 2;  // the blocked client's RESP version: the served reply is built for it
  std::weak_ptr<ClientHandle> handle;
  uint64_t client_id = 0;
  bool timed = false;  // it has a timeout: counted in INFO's clients_in_timeout_table
  // Filled by the family: the keys the client waits on, in the command's order.
  std::vector<std::string> keys;

  // Keys besides `key` that serving locks (BLMOVE's destination). Called without locks.
  virtual void ExtraKeys(std::vector<std::string_view>* keys) const { (void)keys; }
  // Whether `key` (one of `keys`) can serve this waiter now. REQUIRES: the locks of `key` and
  // ExtraKeys. False leaves the waiter blocked and stops serving `key`.
  virtual bool Ready(ServerState& server, int db, std::string_view key) = 0;
  // Serves the claimed waiter from `key` (which Ready accepted, under the same locks): applies
  // the change, reports it to the write path, and writes the reply into `reply` (built for the
  // waiting client's protocol).
  virtual void Serve(ServerState& server, int db, std::string_view key, ReplyBuilder& reply) = 0;
  // The reply inside MULTI/EXEC, where a blocking command acts as its non-blocking form and
  // finds nothing.
  virtual void ReplyNothing(ReplyBuilder& reply) const;
  // The reply on timeout and on CLIENT UNBLOCK ... TIMEOUT.
  virtual void ReplyTimeout(ReplyBuilder& reply) const;
};

// Parses a blocking timeout in seconds into milliseconds (0 = forever), with Redis's errors.
// Returns false after replying an error.
bool ParseBlockTimeout(CommandContext& ctx, std::string_view s, int64_t* ms);

// Blocks the client on w->keys until a write serves it, the timeout, CLIENT UNBLOCK or a
// disconnect. Inside EXEC it replies w->ReplyNothing instead. REQUIRES: the dispatcher holds
// the shard locks of w->keys.
void Block(CommandContext& ctx, std::shared_ptr<BlockedWaiter> w, int64_t timeout_ms);

// Removes the waiter from the queues of all its keys, taking one shard lock at a time.
// REQUIRES: no shard lock held.
void UnregisterWaiter(Keyspace& ks, const std::shared_ptr<BlockedWaiter>& w);

// CLIENT UNBLOCK: wakes the client if it is blocked, with its timeout reply or, when `error`,
// the UNBLOCKED error. Returns false if the client was not blocked.
bool UnblockClient(ServerState& server, Client& client, bool error);

// Serves clients blocked on the keys this thread marked ready. REQUIRES: no shard lock held.
void ServeReadyKeys(ServerState& server);

}  // namespace keel
