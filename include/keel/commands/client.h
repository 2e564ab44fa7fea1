#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace keel {

struct WatchFlag;

// ClientHandle is what the command layer may ask of a connection that lives on another io
// thread. The net layer implements it. Both calls are thread-safe: they post work to the
// connection's own io_context and return at once.
class ClientHandle {
 public:
  virtual ~ClientHandle() = default;
  // Closes the connection (after flushing what is already queued). CLIENT KILL, timeouts.
  virtual void Kill() = 0;
  // Appends bytes to the connection's output and writes them: MONITOR lines, later pub/sub
  // messages.
  virtual void Deliver(std::string bytes) = 0;
  // Runs fn on the connection's io thread (dropped if the connection is gone).
  virtual void Post(std::function<void()> fn) = 0;

  // Blocking commands; io thread only. While the client is blocked (Client::blocked) the
  // connection executes nothing more. StartBlockTimeout arms a timer that calls fn; Unblock
  // appends the final reply of the blocking command, cancels the timer and resumes executing
  // the client's buffered commands.
  virtual void StartBlockTimeout(int64_t ms, std::function<void()> fn) = 0;
  virtual void Unblock(std::string_view reply) = 0;
};

enum class ReplyMode { kOn, kOff, kSkipNext, kSkipThis };

// Client is the per-connection state the commands see.
//
// Ownership and threads: the connection owns it (shared_ptr, also held by the ClientRegistry
// while connected). Fields marked [io] are read and written only on the connection's io thread.
// Fields marked [shared] are read by other threads (CLIENT LIST/KILL, INFO, the timeout cron):
// atomics, or guarded by `mu`.
// A client's MULTI queue, WATCH state and pub/sub subscriptions: empty on nearly every client,
// so kept behind one pointer made on first use (Client::extras) instead of 136 bytes in every
// Client (memory per idle connection: docs/performance.md).
struct ClientExtras {
  std::vector<std::vector<std::string>> queued;  // MULTI's commands
  // WATCH: the keys watched (db, key) and the flag writers set.
  std::vector<std::pair<int, std::string>> watched;
  std::shared_ptr<WatchFlag> watch;
  // Pub/sub: channels and patterns subscribed to, in subscription order.
  std::vector<std::string> channels;
  std::vector<std::string> patterns;
  std::vector<std::string> shard_channels;  // SSUBSCRIBE
  // REPLCONF rdb-only 1 and rdb-filter-only (redis-cli --rdb, --functions-rdb): SYNC and PSYNC
  // then send one snapshot (keys unless excluded, functions unless excluded) and close.
  bool rdb_only = false;
  bool rdb_exclude_data = false;
  bool rdb_exclude_functions = false;
  // Set by SYNC: the connection's Close() calls it with a duplicate of the socket instead of
  // shutting the connection down (its own descriptor is closed; the peer stays connected to the
  // duplicate, which the snapshot transfer then owns). [io]
  std::function<void(int fd)> on_handoff;
};

struct Client {
  // Immutable after construction.
  uint64_t id = 0;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  int fd = -1;
  int64_t ctime_ms = 0;
  std::weak_ptr<ClientHandle> handle;  // set before registration, then immutable

  // [shared]
  std::atomic<int> db{0};
  std::atomic<uint32_t> flags{0};  // kClientFlag* below (beside db: no padding between them)
  std::atomic<int64_t> last_interaction_ms{0};
  std::atomic<uint64_t> qbuf{0};  // bytes buffered, not yet parsed
  std::atomic<uint64_t> obl{0};   // bytes of output waiting for the socket
  // Memory accounting (keel/commands/client_eviction.h), published by the connection: the query
  // buffer's free room, the output buffers' allocated bytes, and the client's whole figure
  // (CLIENT LIST's qbuf-free, omem and tot-mem). multi_mem: the queued MULTI commands' bytes,
  // kept by the dispatcher.
  std::atomic<uint64_t> qbuf_free{0};
  std::atomic<uint64_t> omem{0};
  std::atomic<uint64_t> tot_mem{0};
  std::atomic<uint64_t> multi_mem{0};
  mutable std::mutex mu;
  std::string name;                  // GUARDED_BY(mu)
  std::string lib_name;              // GUARDED_BY(mu)
  std::string lib_ver;               // GUARDED_BY(mu)
  std::string acl_user = "default";  // GUARDED_BY(mu): the ACL user it is authenticated as
  // The last command run ("client|list" style name; the metadata table outlives clients).
  std::atomic<const char*> last_cmd{nullptr};
  std::atomic<size_t> last_cmd_len{0};
  std::shared_ptr<void> waiter;  // GUARDED_BY(mu): the BlockedWaiter while blocked

  // The RESP version replies are built for (ReplyBuilder::kResp2 until HELLO 3 is accepted);
  // blocking waiters and subscriptions record it, so served pops and messages are encoded for
  // this client whoever produces them. Written on the io thread (HELLO, RESET); atomic because
  // CLIENT LIST reads it from others.
  std::atomic<int> protocol{2};

  // [io]
  bool authenticated = false;
  // ACL: the users table's generation when this client's user was last found unrestricted (0:
  // not known; AUTH and RESET clear it), so its commands skip the check until a user changes.
  uint64_t acl_unrestricted_gen = 0;
  // The scripts' client: redis.call checks the calling client's user instead of this one's.
  bool acl_checked_by_caller = false;
  bool close_after_reply = false;
  ReplyMode reply_mode = ReplyMode::kOn;
  bool no_evict = false;  // CLIENT NO-EVICT; mirrored in flags (kClientNoEvict) for the evictor
  // The AOF replay's client: served while the start-up load runs (others get -LOADING).
  bool loading_client = false;
  // Blocking commands: set by the command that blocks, cleared by Unblock. `on_close_blocked`
  // runs if the connection closes while blocked (it claims and unregisters the waiter).
  bool blocked = false;
  std::function<void()> on_close_blocked;
  // MULTI/EXEC: commands queued since MULTI (copies of their arguments); multi_error is set when
  // one failed to queue (EXEC then aborts); in_exec while EXEC runs them.
  bool in_multi = false;
  bool multi_error = false;
  bool in_exec = false;
  std::unique_ptr<ClientExtras> extras_;  // MULTI, WATCH, pub/sub: see extras()
  int pubsub_count = 0;  // subscriptions of all three kinds: subscribed mode while > 0
  // CLIENT TRACKING (keel/commands/tracking.h): what the read path needs to know; the rest of
  // the mode lives in the Tracking registry. tracking_caching: CLIENT CACHING was given for the
  // next command.
  bool tracking = false;
  bool tracking_bcast = false;
  bool tracking_optin = false;
  bool tracking_optout = false;
  bool tracking_caching = false;
  // This client's handle as a shared_ptr, for waiters (set with `handle`).
  std::weak_ptr<ClientHandle> self;

  // The extras, made on first use: for changing them.
  ClientExtras& extras() {
    if (!extras_) extras_ = std::make_unique<ClientExtras>();
    return *extras_;
  }
  // For reading: empty ones when the client has none (nothing is made).
  const ClientExtras& extras_view() const {
    static const ClientExtras kNone;
    return extras_ ? *extras_ : kNone;
  }
  bool has_extras() const { return extras_ != nullptr; }
};

inline constexpr uint32_t kClientMonitor = 1u << 0;
inline constexpr uint32_t kClientCloseAsap = 1u << 1;
// Subscribed to at least one channel or pattern (pubsub_count > 0, which is [io]): CLIENT LIST's
// 'P', and `timeout` spares the client, as Redis does.
inline constexpr uint32_t kClientPubsub = 1u << 2;
// CLIENT NO-EVICT on: maxmemory-clients never evicts it (CLIENT LIST's 'e').
inline constexpr uint32_t kClientNoEvict = 1u << 3;

}  // namespace keel
