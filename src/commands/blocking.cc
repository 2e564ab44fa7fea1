// The blocking module: queues, fairness, claims, timeouts, CLIENT UNBLOCK and disconnects for
// every blocking command. The families supply the kinds (BlockedWaiter subclasses).
#include "blocking.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/reply.h"

namespace keel {

void BlockedWaiter::ReplyNothing(ReplyBuilder& reply) const { reply.NullArray(); }
void BlockedWaiter::ReplyTimeout(ReplyBuilder& reply) const { reply.NullArray(); }

namespace {

std::string TimeoutReply(const BlockedWaiter& w) {
  std::string out;
  ReplyBuilder b(&out, w.protocol);
  w.ReplyTimeout(b);
  return out;
}

// Ends a claimed wait on the waiter's own thread: forgets it in every key's queue and in its
// client, and delivers `reply` (a served pop, a timeout's nil, CLIENT UNBLOCK's error).
void FinishWaiter(ServerState& server, const std::shared_ptr<BlockedWaiter>& w, ClientHandle& h,
                  std::string reply) {
  std::weak_ptr<ClientHandle> weak = w->handle;
  ServerState* srv = &server;
  uint64_t id = w->client_id;
  h.Post([srv, w, weak, id, reply = std::move(reply)] {
    UnregisterWaiter(*srv->keyspace, w);
    if (auto c = srv->clients.Find(id)) {
      // The wait ends now: an idle `timeout` counts from here, not from the blocking command.
      c->last_interaction_ms.store(NowUnixMsCoarse(), std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(c->mu);
      c->waiter.reset();
    }
    srv->stats.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
    if (w->timed) srv->stats.clients_in_timeout_table.fetch_sub(1, std::memory_order_relaxed);
    if (auto hh = weak.lock()) hh->Unblock(reply);
  });
}

// Serves the oldest live waiter of (db, key) if it is ready. Returns false when there is
// nothing (more) to serve for this key.
bool ServeOne(ServerState& server, int db, const std::string& key) {
  Keyspace& ks = *server.keyspace;
  std::shared_ptr<BlockedWaiter> w;
  {
    size_t shard = ShardOf(key);
    ShardRegistries& s = ks.registries(db, shard);
    ShardGuard lock = ks.LockShard(db, shard);
    auto it = s.waiters.find(key);
    if (it == s.waiters.end()) return false;
    auto& q = it->second;
    while (!q.empty() && q.front()->claimed()) q.pop_front();
    if (q.empty()) {
      s.waiters.erase(it);
      ks.AddWaitingKeys(-1);
      return false;
    }
    w = std::static_pointer_cast<BlockedWaiter>(q.front());
  }
  // Lock the key and the waiter's other keys, in the global order.
  std::vector<std::string_view> keys{key};
  w->ExtraKeys(&keys);
  KeyLocks locks(ks, db, keys);
  ShardRegistries& s = ks.RegistriesFor(db, key);
  auto it = s.waiters.find(key);
  if (it == s.waiters.end() || it->second.empty() || it->second.front() != w) return true;
  if (!w->Ready(server, db, key)) return false;
  if (!w->TryClaim()) {
    it->second.pop_front();
    return true;
  }
  it->second.pop_front();
  // Serving edits values in place, past any keyspace method: tell a snapshot first.
  for (std::string_view k : keys) ks.BeforeWrite(db, k);
  std::string out;
  ReplyBuilder reply(&out, w->protocol);
  w->Serve(server, db, key, reply);
  if (auto h = w->handle.lock()) FinishWaiter(server, w, *h, std::move(out));
  return true;
}

}  // namespace

bool ParseBlockTimeout(CommandContext& ctx, std::string_view s, int64_t* ms) {
  auto v = ParseLongDouble(s);
  if (!v) {
    ctx.reply.Error(errors::kTimeoutNotFloat);
    return false;
  }
  // Redis 7.0.15 rounds up to whole milliseconds (0.0001 is 1 ms, -0.0001 is 0: no timeout)
  // and converts to long long, where 2^63 ms and more (inf, ~9.22e15 s) come out negative. It
  // has no upper bound below that: 9223372036854775.807 s blocks (checked against 7.0.15).
  long double t = std::ceil(*v * 1000.0L);
  if (!(t < 9223372036854775808.0L) || t < 0) {
    ctx.reply.Error(errors::kTimeoutNegative);
    return false;
  }
  *ms = static_cast<int64_t>(t);
  return true;
}

void Block(CommandContext& ctx, std::shared_ptr<BlockedWaiter> w, int64_t timeout_ms) {
  // Inside MULTI/EXEC a blocking command acts as its non-blocking form: nothing to serve.
  if (ctx.client.in_exec) {
    w->ReplyNothing(ctx.reply);
    return;
  }
  std::shared_ptr<ClientHandle> handle = ctx.client.handle.lock();
  if (!handle) return;
  w->db = ctx.db();
  w->protocol = ctx.reply.protocol();
  w->handle = handle;
  w->client_id = ctx.client.id;
  w->timed = timeout_ms > 0;
  Keyspace& ks = ctx.keyspace();
  for (const std::string& k : w->keys) {
    auto [it, added] = ks.RegistriesFor(w->db, k).waiters.try_emplace(k);
    if (added) ks.AddWaitingKeys(1);
    auto& q = it->second;
    if (q.empty() || q.back() != w) q.push_back(w);
  }
  {
    std::lock_guard<std::mutex> lock(ctx.client.mu);
    ctx.client.waiter = w;
  }
  ctx.server.stats.blocked_clients.fetch_add(1, std::memory_order_relaxed);
  if (w->timed) ctx.server.stats.clients_in_timeout_table.fetch_add(1, std::memory_order_relaxed);
  ctx.client.blocked = true;
  ServerState* server = &ctx.server;
  Client* client = &ctx.client;
  auto finish = [server, client, timed = w->timed] {
    client->last_interaction_ms.store(NowUnixMsCoarse(), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(client->mu);
      client->waiter.reset();
    }
    server->stats.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
    if (timed) server->stats.clients_in_timeout_table.fetch_sub(1, std::memory_order_relaxed);
  };
  ctx.client.on_close_blocked = [server, w, finish] {
    w->TryClaim();
    UnregisterWaiter(*server->keyspace, w);
    finish();
  };
  if (timeout_ms > 0) {
    std::weak_ptr<ClientHandle> weak = handle;
    handle->StartBlockTimeout(timeout_ms, [server, w, weak, finish] {
      if (!w->TryClaim()) return;  // served (the reply is on its way) or unblocked meanwhile
      UnregisterWaiter(*server->keyspace, w);
      finish();
      if (auto h = weak.lock()) h->Unblock(TimeoutReply(*w));
    });
  }
}

void UnregisterWaiter(Keyspace& ks, const std::shared_ptr<BlockedWaiter>& w) {
  for (const std::string& k : w->keys) {
    size_t shard = ShardOf(k);
    ShardRegistries& s = ks.registries(w->db, shard);
    ShardGuard lock = ks.LockShard(w->db, shard);
    auto it = s.waiters.find(k);
    if (it == s.waiters.end()) continue;
    auto& q = it->second;
    for (auto qi = q.begin(); qi != q.end();) {
      if (*qi == w) {
        qi = q.erase(qi);
      } else {
        ++qi;
      }
    }
    if (q.empty()) {
      s.waiters.erase(it);
      ks.AddWaitingKeys(-1);
    }
  }
}

bool UnblockClient(ServerState& server, Client& client, bool error) {
  std::shared_ptr<BlockedWaiter> w;
  {
    std::lock_guard<std::mutex> lock(client.mu);
    w = std::static_pointer_cast<BlockedWaiter>(client.waiter);
  }
  if (!w || !w->TryClaim()) return false;
  auto h = w->handle.lock();
  if (!h) return false;
  std::string reply;
  if (error) {
    ReplyBuilder(&reply, w->protocol).Error(errors::kUnblocked);
  } else {
    reply = TimeoutReply(*w);
  }
  FinishWaiter(server, w, *h, std::move(reply));
  return true;
}

void ServeReadyKeys(ServerState& server) {
  auto& ready = Keyspace::ReadyKeys();
  // Serving can make more keys ready (BLMOVE pushes onto its destination): loop until empty.
  while (!ready.empty()) {
    auto [db, key] = std::move(ready.front());
    ready.erase(ready.begin());
    for (int guard = 0; guard < 100000 && ServeOne(server, db, key); ++guard) {
    }
  }
}

}  // namespace keel
