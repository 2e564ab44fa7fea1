#include "connection.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "keel/commands/acl.h"
#include "keel/commands/aof.h"
#include "keel/commands/client_eviction.h"
#include "keel/commands/owned_args.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/reply.h"

namespace keel {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
// Reads grow past kReadChunk while they keep filling it, up to this: the size of the pooled
// read buffers.
constexpr size_t kMaxReadBuffer = 32 * 1024;
// Free read buffers a thread keeps for its connections' next reads; more are freed. Only
// connections with unconsumed bytes hold one, so a thread rarely needs more than a few.
constexpr size_t kPooledReadBuffers = 64;
// How far a big payload's string is grown ahead of its reads (see DoRead).
constexpr size_t kBigReadAhead = 4 << 20;
thread_local std::vector<std::unique_ptr<char[]>> t_read_buffers;
// client-output-pause-limit, read at each ProcessInput; per thread rather than per connection
// (8 bytes of every connection), as every use is on the connection's own thread.
thread_local uint64_t t_pause_limit = 4 << 20;

// A payload at least this big asks for transparent huge pages (AdviseHugePages).
constexpr size_t kHugePagePayload = 8 << 20;
constexpr uintptr_t kHugePage = 2 << 20;

// Asks the kernel to back the whole 2 MiB pages inside [p, p + n) with huge pages
// (MADV_HUGEPAGE; a no-op where THP is "never", and what "madvise" mode waits for). Receiving a
// big value is mostly page faults: 4 KiB faults cost about 3 s for 600 MiB on the 2-core VM of
// docs/performance.md, 2 MiB ones under 0.2 s. Only pages the value fills completely are
// advised, so no memory is added; Keel's snapshots do not fork, so THP's copy-on-write cost (the
// reason Redis asks for THP to be off) does not apply.
void AdviseHugePages(char* p, size_t n) {
  uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// Commands parsed ahead of running them (ProcessInput), and where their first keys live; the
// first entry of a key's chain is prefetched kChainAhead commands ahead of it. They are used
// only within one ProcessInput, which never nests, so one set per thread serves every
// connection (instead of about a kilobyte in each).
constexpr size_t kParseAhead = 16;
constexpr size_t kChainAhead = 2;
struct Parsed {
  std::vector<std::string_view> args;
  size_t end = 0;            // offset in the read buffer just past the command
  Dispatcher::Resolved cmd;  // looked up once, for its first key and for Execute
};
thread_local Parsed t_batch[kParseAhead];
thread_local Keyspace::PrefetchHint t_hints[kParseAhead];
// Output buffers larger than this are released after use instead of kept for reuse.
constexpr size_t kKeepBufferCapacity = 1024 * 1024;

// Replies are not written the moment they are made: every connection that has new output joins
// its thread's flush list, and one handler posted behind the batch of ready sockets writes them
// all in a burst (as Redis's beforeSleep does). A burst wakes a sleeping client once, instead of
// once per socket, which is most of the kernel time of a send on a busy loopback.
struct FlushList {
  std::vector<std::shared_ptr<Connection>> pending;
  std::vector<std::shared_ptr<Connection>> running;
  bool posted = false;
};
thread_local FlushList t_flush;

std::string FormatEndpoint(const asio::ip::tcp::endpoint& ep) {
  const asio::ip::address addr = ep.address();
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, size_t thread, ConnectionEnv* env)
    : env_(env),
      socket_(std::move(socket)),
      reactor_(&asio::use_service<asio::detail::reactor>(*env->contexts[thread])),
      protocol_(asio::ip::tcp::v4()),
      thread_(thread),
      home_(env->contexts[thread]),
      client_(std::make_shared<Client>()),
      read_size_(kReadChunk) {}

Connection::~Connection() = default;

void Connection::SetPeer(const asio::ip::tcp::endpoint& peer) {
  client_->addr = FormatEndpoint(peer);
}

void Connection::Start(bool speculative_read) {
  speculative_read_ = speculative_read;
  ServerState& state = *env_->state;
  Client& c = *client_;
  c.id = state.next_client_id.fetch_add(1);
  asio::error_code ec;
  if (!unix_socket_) {  // a Unix-socket client was named by SetUnixSocketPath
    if (c.addr.empty()) {
      auto remote = socket_.remote_endpoint(ec);
      if (!ec) c.addr = FormatEndpoint(remote);
    }
    auto local = socket_.local_endpoint(ec);
    if (!ec) {
      c.laddr = FormatEndpoint(local);
      protocol_ = local.protocol();
    }
  }
  c.fd = socket_.native_handle();
  c.ctime_ms = NowUnixMs();
  c.last_interaction_ms = c.ctime_ms;
  c.authenticated = AclDefaultUserNoPass();
  c.handle = std::static_pointer_cast<ClientHandle>(shared_from_this());
  c.self = c.handle;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // MaybeWrite sends directly and must not block.
  socket_.non_blocking(true, ec);
  state.clients.Add(client_);
  state.io_thread_clients[thread_].fetch_add(1, std::memory_order_relaxed);
  state.stats.total_connections_received.fetch_add(1, std::memory_order_relaxed);
  UpdateMemory();
  DoRead();
}

char* Connection::TakeReadBuffer() {
  if (in_cap_ == 0) {
    if (t_read_buffers.empty()) {
      in_.reset(new char[kMaxReadBuffer]);  // not zeroed: pages are touched as reads fill them
    } else {
      in_ = std::move(t_read_buffers.back());
      t_read_buffers.pop_back();
    }
    in_cap_ = kMaxReadBuffer;
  }
  return in_.get();
}

void Connection::ReleaseReadBuffer() {
  // A read in flight writes at in_ + in_end_ when it completes: the buffer and the offsets stay
  // as they are until then (OnRead appends at in_end_).
  if (read_in_flight_ && read_op_.data != nullptr) return;
  ReturnReadBuffer();
}

void Connection::ReturnReadBuffer() {
  if (in_cap_ == 0) return;
  if (in_cap_ == kMaxReadBuffer && t_read_buffers.size() < kPooledReadBuffers) {
    t_read_buffers.push_back(std::move(in_));
  }
  in_.reset();
  in_cap_ = 0;
  in_start_ = in_end_ = 0;
}

void Connection::GrowReadBuffer(size_t capacity) {
  std::unique_ptr<char[]> bigger(new char[capacity]);
  std::memcpy(bigger.get(), in_.get() + in_start_, in_end_ - in_start_);
  in_end_ -= in_start_;
  in_start_ = 0;
  size_t bytes = in_end_;
  ReturnReadBuffer();  // the old one goes back to the pool if it came from there
  in_ = std::move(bigger);
  in_cap_ = capacity;
  in_end_ = bytes;
}

void Connection::DoRead() {
  if (closed_ || closing_ || read_in_flight_) return;
  // While commands wait for the output to drain (ProcessInput), or much is still unsent, what the
  // client sends next stays in the socket: its input is bounded by our read buffer, its output
  // by the pause limit plus one reply.
  if (output_paused_ || (write_in_flight_ && PendingOutput() > t_pause_limit)) {
    read_paused_ = true;
    return;
  }
  read_paused_ = false;
  if (big_ != nullptr && big_->receiving != nullptr) {
    // A big payload: straight into its string, as much as the socket has.
    read_in_flight_ = true;
    read_op_.ec_ = asio::error_code();
    read_op_.bytes_transferred_ = 0;
    // The string grows (zero-filled) a few MiB ahead of the reads, not all at once: touching
    // every page of a 600 MiB string up front costs about 2 s of page faults here before the
    // first byte is read; this way they overlap with the client's sending.
    std::string& payload = *big_->receiving;
    if (payload.size() == big_->filled) {
      payload.resize(std::min(big_->total, big_->filled + kBigReadAhead));
    }
    read_op_.data = payload.data() + big_->filled;
    read_op_.size = payload.size() - big_->filled;
    read_op_.fd = socket_.native_handle();
    read_op_.conn = shared_from_this();
    reactor_->start_op(asio::detail::reactor::read_op, read_op_.fd, socket_.reactor_data(),
                       &read_op_, /*is_continuation=*/false, /*allow_speculative=*/true);
    return;
  }
  size_t room;
  if (in_start_ < in_end_) {
    // Part of a command is held: make room by moving it to the front, and grow when a large
    // command needs it.
    if (in_start_ > 0 && in_cap_ - in_end_ < kReadChunk) {
      std::memmove(in_.get(), in_.get() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    if (in_cap_ - in_end_ < kReadChunk / 2) GrowReadBuffer(in_cap_ * 2);
    room = in_cap_ - in_end_;
  } else {
    ReturnReadBuffer();  // nothing held: the next read takes a buffer when data arrives
    if (read_size_ > kReadChunk && small_reads_ >= 64) {
      read_size_ = kReadChunk;  // traffic went back to small requests for a while
      small_reads_ = 0;
    }
    room = read_size_;
  }
  read_in_flight_ = true;
  read_op_.ec_ = asio::error_code();
  read_op_.bytes_transferred_ = 0;
  read_op_.data = in_cap_ > 0 ? in_.get() + in_end_ : nullptr;  // null: Perform takes one
  read_op_.size = room;
  // A client that keeps more waiting than the largest buffer takes (a deep pipeline of big
  // commands, redis-cli --pipe) gains nothing from bigger reads: its batch takes several turns
  // anyway. Smaller turns reach its first replies, and the other clients of the thread, sooner.
  if (capped_reads_ > 0) read_op_.size = std::min(read_op_.size, kReadChunk);
  read_op_.fd = socket_.native_handle();
  read_op_.conn = shared_from_this();
  bool speculative = speculative_read_;
  speculative_read_ = true;
  reactor_->start_op(asio::detail::reactor::read_op, read_op_.fd, socket_.reactor_data(), &read_op_,
                     /*is_continuation=*/false, speculative);
}

asio::detail::reactor_op::status Connection::ReadOp::Perform(asio::detail::reactor_op* base) {
  auto* op = static_cast<ReadOp*>(base);
  // Runs on the connection's io thread (the reactor performs on the thread running its
  // context), so it may take from that thread's pool.
  bool took = op->data == nullptr;
  if (took) op->data = op->conn->TakeReadBuffer();
  for (;;) {
    ssize_t r = ::recv(op->fd, op->data, op->size, 0);
    if (r > 0) {
      op->bytes_transferred_ = static_cast<size_t>(r);
      // Short of the room given: the socket is drained until epoll reports it again.
      return static_cast<size_t>(r) < op->size ? done_and_exhausted : done;
    }
    if (r == 0) {
      op->ec_ = asio::error::eof;
      return done_and_exhausted;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (took) {  // nothing came: no buffer held while waiting
        op->conn->ReturnReadBuffer();
        op->data = nullptr;
      }
      return not_done;
    }
    op->ec_ = asio::error_code(errno, asio::error::get_system_category());
    return done;
  }
}

void Connection::ReadOp::Complete(void* owner, asio::detail::scheduler_operation* base,
                                  const asio::error_code& /*ec*/, size_t /*n*/) {
  auto* op = static_cast<ReadOp*>(base);
  // Taken out first: OnRead may start the next read with this same operation, and dropping the
  // last reference may destroy the connection (and the operation) when this returns.
  std::shared_ptr<Connection> conn = std::move(op->conn);
  if (owner == nullptr) return;  // the io_context is being destroyed with the read queued
  conn->OnRead(op->ec_, op->bytes_transferred_);
}

void Connection::OnRead(const asio::error_code& ec, size_t n) {
  read_in_flight_ = false;
  if (closed_) return;
  if (moving_to_ != SIZE_MAX) {
    FinishMove(ec, n);
    return;
  }
  env_->state->stats.total_reads_processed.fetch_add(1, std::memory_order_relaxed);
  if (ec || n == 0) {
    // The peer went away (or we were closed): drop whatever it sent half of.
    Close();
    return;
  }
  if (big_ != nullptr && big_->receiving != nullptr) {
    env_->state->stats.total_net_input_bytes.fetch_add(n, std::memory_order_relaxed);
    client_->last_interaction_ms.store(NowUnixMsCoarse(), std::memory_order_relaxed);
    big_->filled += n;
    std::string& payload = *big_->receiving;
    if (big_->filled < big_->total) {
      client_->qbuf.store(QueryBufferBytes(), std::memory_order_relaxed);
      UpdateMemory();
      if (closed_) return;
      if (QueryBufferBytes() >
          static_cast<uint64_t>(env_->state->config->client_query_buffer_limit())) {
        KEEL_LOG_WARNING("Closing client that reached max query buffer length: id={} addr={}",
                         client_->id, client_->addr);
        Close();
        return;
      }
      DoRead();
      return;
    }
    payload.resize(payload.size() - 2);  // the CRLF, unchecked as Redis does
    parser_.BigBulkReceived(payload);
    big_->received.push_back(std::move(big_->receiving));
    AfterInput();
    return;
  }
  last_read_filled_ = n == read_op_.size;
  if (last_read_filled_ && read_op_.size == read_size_ && read_size_ < kMaxReadBuffer &&
      capped_reads_ == 0) {
    // A read of read_size_ filled all its room, so more was probably waiting: the next one
    // reads twice as much, so that one read takes a whole pipelined batch (one read and one
    // write per batch, not two each). Decided here rather than when the next read starts: a
    // batch that ends in the middle of a command is completed by a small read into the held
    // part, and the batch after it must still find the bigger size.
    read_size_ *= 2;
  }
  if (capped_reads_ > 0) {
    --capped_reads_;
  } else if (!last_read_filled_ || read_op_.size < kMaxReadBuffer) {
    full_reads_ = 0;
  } else if (++full_reads_ == 2) {
    full_reads_ = 0;
    capped_reads_ = 64;
  }
  small_reads_ = n < read_op_.size / 8 ? small_reads_ + 1 : 0;
  in_end_ += n;
  ServerState& state = *env_->state;
  state.stats.total_net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  client_->last_interaction_ms.store(NowUnixMsCoarse(), std::memory_order_relaxed);
  AfterInput();
}

void Connection::AfterInput() {
  ServerState& state = *env_->state;
  ProcessInput();
  if (closed_ || OverOutputLimit()) return;
  uint64_t pending = QueryBufferBytes();
  client_->qbuf.store(pending, std::memory_order_relaxed);
  if (pending > static_cast<uint64_t>(state.config->client_query_buffer_limit())) {
    KEEL_LOG_WARNING("Closing client that reached max query buffer length: id={} addr={}",
                     client_->id, client_->addr);
    Close();
    return;
  }
  DoRead();
  ScheduleWrite();
  UpdateMemory();
}

namespace {

// Whether a command may run from inside a script's hook (AnswerWhileBusy). Everything that is
// not allow_busy gets -BUSY from the dispatcher before any lock; of the allow_busy ones only the
// KILLs and FUNCTION STATS take no shard lock (MULTI/EXEC/WATCH's bookkeeping, AUTH, HELLO,
// RESET, QUIT and SHUTDOWN wait for the script's end), and only with maxmemory off (the
// dispatcher's eviction before an allowed command locks shards).
bool RunsWhileBusy(std::span<const std::string_view> args, bool maxmemory_set) {
  static constexpr std::string_view kWaits[] = {"multi", "exec",  "discard", "watch", "unwatch",
                                                "auth",  "hello", "reset",   "quit",  "shutdown"};
  for (std::string_view w : kWaits) {
    if (EqualsIgnoreCase(args[0], w)) return false;
  }
  bool kill_or_stats =
      args.size() == 2 &&
      ((EqualsIgnoreCase(args[0], "script") && EqualsIgnoreCase(args[1], "kill")) ||
       (EqualsIgnoreCase(args[0], "function") &&
        (EqualsIgnoreCase(args[1], "kill") || EqualsIgnoreCase(args[1], "stats"))));
  return !kill_or_stats || !maxmemory_set;
}

}  // namespace

void Connection::AnswerWhileBusy() {
  // Idle as a move requires it: a read waiting that has taken no buffer (so no bytes of this
  // connection are held anywhere but in its socket), no write in flight.
  if (closed_ || closing_ || !read_in_flight_ || read_op_.data != nullptr || in_cap_ != 0 ||
      big_ != nullptr || write_in_flight_ || output_paused_ || client_->blocked ||
      moving_to_ != SIZE_MAX) {
    return;
  }
  int fd = socket_.native_handle();
  // Peeked, not read: the bytes of the commands answered are taken out below, and whatever
  // remains (a partial command, one that waits) stays for the reactor's read after the script.
  char buf[16 * 1024];
  ssize_t got = ::recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
  if (got <= 0) return;  // nothing, or the peer gone: the normal read finds out later
  ServerState& state = *env_->state;
  ParserLimits limits;
  limits.max_bulk_len = state.config->proto_max_bulk_len();
  limits.big_bulk = kBigBulkThreshold;
  bool maxmemory_set = state.keyspace->evictor().maxmemory() != 0;
  RespParser parser;
  std::vector<std::string_view> args;
  size_t pos = 0;
  while (pos < static_cast<size_t>(got) && !client_->close_after_reply) {
    limits.authenticated = client_->authenticated;
    size_t consumed = 0;
    RespParser::Result r =
        parser.Parse(buf + pos, static_cast<size_t>(got) - pos, limits, &consumed, &args);
    if (r != RespParser::Result::kCommand) break;  // partial, big or bad: the normal path's
    if (args.empty()) {                            // an empty line: skipped, as ProcessInput does
      pos += consumed;
      continue;
    }
    if (!RunsWhileBusy(args, maxmemory_set)) break;
    env_->dispatcher->Execute(*client_, args, &out_);
    pos += consumed;
  }
  if (pos == 0) return;
  // Take the answered commands' bytes out of the socket (they are there: just peeked).
  size_t left = pos;
  while (left > 0) {
    ssize_t n = ::recv(fd, buf, std::min(left, sizeof(buf)), MSG_DONTWAIT);
    if (n <= 0 && errno == EINTR) continue;
    if (n <= 0) break;
    left -= static_cast<size_t>(n);
  }
  state.stats.total_net_input_bytes.fetch_add(pos - left, std::memory_order_relaxed);
  client_->last_interaction_ms.store(NowUnixMsCoarse(), std::memory_order_relaxed);
  if (client_->close_after_reply) closing_ = true;
  MaybeWrite();  // a direct send; what does not fit goes on with an async write after the script
}

// A connection's size is memory per idle client (bench/pressure; docs/performance.md): with
// make_shared's 16-byte control block it fits jemalloc's 640-byte class (the next is 768), and
// a field that pushes it past needs a look at the whole layout.
static_assert(sizeof(Connection) + 16 <= 640, "Connection outgrew jemalloc's 640-byte class");
// The same for its Client (made by make_shared too): the 512-byte class.
static_assert(sizeof(Client) + 16 <= 512, "Client outgrew jemalloc's 512-byte class");

void Connection::ScheduleWrite() {
  flush_need_ = aof::ThisThreadAppended();
  if (flush_scheduled_ || closed_ || write_in_flight_) return;
  flush_scheduled_ = true;
  t_flush.pending.push_back(shared_from_this());
  if (t_flush.posted) return;
  t_flush.posted = true;
  asio::post(socket_.get_executor(), [ex = socket_.get_executor()] { RunFlushList(ex); });
}

void Connection::RunFlushList(const asio::any_io_executor& ex) {
  // With the AOF on, each connection's replies wait for the records logged before them: their
  // write (everysec, no; the io thread may make it itself) or the group fsync that covers them
  // (always; the writer thread posts the flush back here then, and the list stays posted
  // meanwhile). Per connection, not per thread: the connections an fsync covers go at once,
  // while those whose commands ran during it wait for the next one. Waiting for this thread's
  // latest record instead held every connection of the thread for one more fsync each time.
  uint64_t released = aof::ReleasedUpTo();
  bool held = false;
  if (released != UINT64_MAX) {
    uint64_t need = 0;
    for (const auto& conn : t_flush.pending) need = std::max(need, conn->flush_need_);
    if (need > released) {
      held = aof::HoldRepliesUntil(need, [ex] { asio::post(ex, [ex] { RunFlushList(ex); }); });
      released = held ? aof::ReleasedUpTo() : UINT64_MAX;
    }
  }
  t_flush.posted = held;
  t_flush.running.swap(t_flush.pending);
  for (auto& conn : t_flush.running) {
    if (conn->flush_need_ > released) {
      t_flush.pending.push_back(std::move(conn));  // still flush_scheduled_
      continue;
    }
    conn->flush_scheduled_ = false;
    conn->MaybeWrite();
    conn->ResumeInput();
  }
  t_flush.running.clear();
  // A connection of the list that ran more commands meanwhile (ResumeInput of the one before it)
  // may have been kept for a newer record: it needs a pass of its own.
  if (!t_flush.pending.empty() && !t_flush.posted) {
    t_flush.posted = true;
    asio::post(ex, [ex] { RunFlushList(ex); });
  }
}

void Connection::ResumeInput() {
  if (closed_) return;
  if (output_paused_) {
    if (PendingOutput() > t_pause_limit) return;
    output_paused_ = false;
    AfterInput();  // the commands that waited, then reading again
    return;
  }
  if (read_paused_) DoRead();
}

void Connection::ProcessInput() {
  ServerState& state = *env_->state;
  ParserLimits limits;
  limits.max_bulk_len = state.config->proto_max_bulk_len();
  limits.big_bulk = kBigBulkThreshold;
  t_pause_limit = static_cast<uint64_t>(state.config->client_output_pause_limit());
  if (big_ != nullptr && big_->receiving != nullptr) return;  // the rest of a payload first
  while (!closing_ && !client_->blocked && in_start_ < in_end_) {
    if (big_ != nullptr && big_->ready) {
      // A command with big arguments runs alone, and is never parsed again: its payloads are
      // not in in_.
      if (PendingOutput() > t_pause_limit) {
        output_paused_ = true;
        return;
      }
      RunBigCommand();
      if (client_->close_after_reply) closing_ = true;
      if (closing_ || client_->blocked) break;
      continue;
    }
    // Parse a batch of pipelined commands ahead of running them, so that the keys they will
    // look up can be prefetched: a big keyspace makes every lookup a cache miss, and prefetching
    // overlaps those misses instead of taking them one after the other.
    size_t n = 0;
    size_t pos = in_start_;
    size_t skipped = 0;  // empty commands before a trailing partial one
    bool partial = false;
    while (n < kParseAhead && pos < in_end_) {
      // Only multibulk commands are parsed ahead: inline ones are unescaped in place, so they
      // must not be parsed twice, and before AUTH the limits may change after each command.
      if (n > 0 && (in_[pos] != '*' || !client_->authenticated)) break;
      limits.authenticated = client_->authenticated;
      size_t consumed = 0;
      Parsed& cmd = t_batch[n];
      RespParser::Result r =
          parser_.Parse(in_.get() + pos, in_end_ - pos, limits, &consumed, &cmd.args);
      if (r == RespParser::Result::kCommand) {
        if (big_ != nullptr) {
          // Its big payloads were received (always the batch's first command: see kBigBulk).
          big_->args.assign(cmd.args.begin(), cmd.args.end());
          big_->end = pos + consumed;
          big_->ready = true;
          break;
        }
        pos += consumed;
        cmd.end = pos;
        ++n;
        continue;
      }
      if (r == RespParser::Result::kBigBulk) {
        // A read in flight (one issued while the client was blocked: Unblock runs this) lands
        // at in_'s end: the payload is received there, as any bulk, until it completes.
        if (n == 0 && !read_in_flight_) {
          StartBigBulk(pos + consumed);
          return;
        }
        if (n > 0) {
          // The commands before it run first; it is met again at the head of the next round,
          // once nothing before it can be parsed again.
          parser_.Reset();
          break;
        }
      }
      if (r == RespParser::Result::kNeedMore || r == RespParser::Result::kBigBulk) {
        skipped = consumed;
        partial = true;
        break;
      }
      if (n > 0) {
        // A bad command after good ones: the good ones run first, and it is met again at the
        // head of the next round.
        parser_.Reset();
        break;
      }
      ReplyBuilder(&out_, client_->protocol).Error(parser_.error());
      state.stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
      state.error_stats.Count(parser_.error());
      closing_ = true;
      ReleaseReadBuffer();
      return;
    }
    if (big_ != nullptr && big_->ready) continue;
    // Where each command's first key lives: its shard's line first, for the whole batch (a
    // single command too: its lock is taken a few hundred nanoseconds from now), then, for a
    // batch, the bucket slot; then each key's first entry, kChainAhead commands ahead of running
    // it: far enough for the miss to be over when the command runs, after the bucket slot's
    // miss is (most likely) over. The first key is where the command's key specs put it (the
    // dispatcher knows: EVAL's is after numkeys, XREAD's after STREAMS; PING and PUBLISH have
    // none). A key the command before also named (a pipeline of pushes to one list) is as cached
    // as it will get, and is skipped.
    int db = client_->db.load(std::memory_order_relaxed);
    std::string_view prev_key;
    bool prev_has_key = false;
    for (size_t i = 0; i < n; ++i) {
      const auto& args = t_batch[i].args;
      t_batch[i].cmd = env_->dispatcher->Lookup(args);
      int pos = Dispatcher::FirstKeyPosition(t_batch[i].cmd, args);
      std::string_view key = pos > 0 ? args[static_cast<size_t>(pos)] : std::string_view();
      bool fetch = pos > 0 && !(prev_has_key && prev_key == key);
      t_hints[i] = fetch ? state.keyspace->Locate(db, key) : Keyspace::PrefetchHint{};
      prev_key = key;
      prev_has_key = pos > 0;
    }
    if (n > 1) {
      for (size_t i = 0; i < n; ++i) Keyspace::PrefetchBucket(t_hints[i]);
      for (size_t i = 0; i < std::min(n, kChainAhead); ++i) Keyspace::PrefetchChain(t_hints[i]);
    }
    int64_t clock_us = 0;  // chained from one command's end to the next one's start
    for (size_t i = 0; i < n; ++i) {
      if (PendingOutput() > t_pause_limit) {
        // Output is bounded in bytes, not replies: a command runs only while the client's unsent
        // output is within the pause limit, so a client that pipelines big replies and does not
        // read them holds at most the limit plus one reply. The rest waits in in_ until the
        // output drains (ResumeInput), and reading waits too.
        output_paused_ = true;
        if (i > 0 || partial) parser_.Reset();
        if (in_start_ == in_end_) ReleaseReadBuffer();
        return;
      }
      if (i + kChainAhead < n) Keyspace::PrefetchChain(t_hints[i + kChainAhead]);
      env_->dispatcher->Execute(*client_, t_batch[i].args, &out_, &clock_us, &t_batch[i].cmd);
      in_start_ = t_batch[i].end;
      if (client_->close_after_reply) closing_ = true;
      if (closing_ || client_->blocked) {
        // The rest waits (a blocking command) or never runs; what was parsed of it is parsed
        // again from in_start_.
        if (i + 1 < n || partial) parser_.Reset();
        if (in_start_ == in_end_) ReleaseReadBuffer();
        return;
      }
    }
    if (partial) {
      in_start_ += skipped;
      break;
    }
  }
  if (in_start_ == in_end_) ReleaseReadBuffer();
}

void Connection::StartBigBulk(size_t start) {
  in_start_ = start;
  size_t payload = in_start_ + parser_.big_bulk_offset();
  size_t len = parser_.big_bulk_len();
  if (big_ == nullptr) big_ = std::make_unique<BigArgs>();
  // Exactly the payload and its CRLF: the CRLF is cut off once read, which leaves the string's
  // capacity two bytes over the value.
  big_->receiving = std::make_unique<std::string>();
  big_->receiving->reserve(len + 2);  // allocated, not touched: see DoRead
  if (len >= kHugePagePayload) AdviseHugePages(big_->receiving->data(), len + 2);
  size_t have = in_end_ - payload;  // less than len + 2, or Parse would have returned kCommand
  big_->receiving->assign(in_.get() + payload, have);
  big_->filled = have;
  big_->total = len + 2;
  in_end_ = payload;  // the bytes after the payload's CRLF will be appended here
}

void Connection::RunBigCommand() {
  std::unique_ptr<BigArgs> big = std::move(big_);
  owned_args::Lend(&big->received);
  env_->dispatcher->Execute(*client_, big->args, &out_);
  owned_args::Lend(nullptr);
  in_start_ = big->end;
  // What the command did not take is freed here.
}

void Connection::MaybeWrite() {
  if (closed_ || write_in_flight_) return;
  if (out_.empty()) {
    if (closing_) Close();
    return;
  }
  // Send directly: on a socket with room (nearly always) this is the one sendto of the turn, with
  // no operation to allocate or completion to dispatch. Only what does not fit goes to an async
  // write, which finishes it once the socket drains.
  asio::error_code ec;
  size_t n = socket_.write_some(asio::buffer(out_), ec);
  env_->state->stats.total_writes_processed.fetch_add(1, std::memory_order_relaxed);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    n = 0;
  } else if (ec) {
    Close();
    return;
  }
  env_->state->stats.total_net_output_bytes.fetch_add(n, std::memory_order_relaxed);
  if (n == out_.size()) {
    out_.clear();
    if (out_.capacity() > kKeepBufferCapacity) std::string().swap(out_);
    client_->obl.store(0, std::memory_order_relaxed);
    UpdateMemory();
    if (closing_) Close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  client_->obl.store(writing_.size() - n, std::memory_order_relaxed);
  UpdateMemory();
  asio::async_write(
      socket_, asio::buffer(writing_.data() + n, writing_.size() - n),
      [self = shared_from_this()](const asio::error_code& ec, size_t n) { self->OnWrite(ec, n); });
}

void Connection::OnWrite(const asio::error_code& ec, size_t n) {
  write_in_flight_ = false;
  if (closed_) return;
  env_->state->stats.total_writes_processed.fetch_add(1, std::memory_order_relaxed);
  if (ec) {
    Close();
    return;
  }
  env_->state->stats.total_net_output_bytes.fetch_add(n, std::memory_order_relaxed);
  writing_.clear();
  if (writing_.capacity() > kKeepBufferCapacity) std::string().swap(writing_);
  client_->obl.store(out_.size(), std::memory_order_relaxed);
  UpdateMemory();
  // Replies made while the write was in flight go through the flush list, which holds them for
  // the AOF as it holds any other (RunFlushList).
  if (out_.empty()) {
    MaybeWrite();
  } else {
    ScheduleWrite();
  }
  ResumeInput();
}

void Connection::ShutdownGracefully() {
  if (closed_) return;
  closing_ = true;
  MaybeWrite();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  std::function<void(int)> handoff;
  if (client_->has_extras()) handoff = std::move(client_->extras().on_handoff);
  ReleaseReadBuffer();
  if (client_->blocked) {
    client_->blocked = false;
    if (block_timer_) block_timer_->cancel();
    if (client_->on_close_blocked) client_->on_close_blocked();
    client_->on_close_blocked = nullptr;
  }
  env_->dispatcher->OnClose(*client_);
  env_->state->client_memory.total.fetch_sub(accounted_mem_, std::memory_order_relaxed);
  accounted_mem_ = 0;
  client_->tot_mem.store(0, std::memory_order_relaxed);
  env_->state->clients.Remove(client_->id);
  env_->state->io_thread_clients[thread_].fetch_sub(1, std::memory_order_relaxed);
  asio::error_code ec;
  if (handoff) {
    // SYNC's snapshot transfer takes the connection over: everything queued for it was written
    // (close after reply), and a shutdown would end the duplicate's connection too.
    int fd = ::dup(socket_.native_handle());
    socket_.close(ec);
    if (fd >= 0) handoff(fd);
  } else {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  // A big payload half received goes now (closing the socket took any read of it off the
  // reactor: it completes as aborted, without reading).
  big_.reset();
}

void Connection::Kill() {
  RunAtHome([](Connection& self) { self.Close(); });
}

void Connection::Post(std::function<void()> fn) {
  RunAtHome([fn = std::move(fn)](Connection& self) {
    if (!self.closed_) fn();
  });
}

void Connection::StartBlockTimeout(int64_t ms, std::function<void()> fn) {
  // A timeout may be up to 2^63 ms (BLPOP k 1e10 is 1e13 ms), which overflows the timer's
  // nanoseconds; a century is as good as forever.
  constexpr int64_t kCenturyMs = 100LL * 366 * 24 * 3600 * 1000;
  // Made on first use: most connections never block with a timeout, and a timer is 120 bytes.
  if (!block_timer_) block_timer_ = std::make_unique<asio::steady_timer>(*env_->contexts[thread_]);
  block_timer_->expires_after(std::chrono::milliseconds(std::min(ms, kCenturyMs)));
  std::weak_ptr<Connection> weak = weak_from_this();
  block_timer_->async_wait([weak, fn = std::move(fn)](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || !self->client_->blocked) return;
    fn();
  });
}

void Connection::Unblock(std::string_view reply) {
  if (closed_ || !client_->blocked) return;
  client_->blocked = false;
  client_->on_close_blocked = nullptr;
  if (block_timer_) block_timer_->cancel();
  if (client_->reply_mode == ReplyMode::kOn) out_.append(reply);
  ProcessInput();
  ScheduleWrite();
  DoRead();
  UpdateMemory();
}

void Connection::Deliver(std::string bytes) {
  RunAtHome([bytes = std::move(bytes)](Connection& self) {
    if (self.closed_) return;
    self.out_.append(bytes);
    if (self.OverOutputLimit()) return;
    aof::NoteDelivered();  // appendfsync always: a served pop's reply waits for its record
    self.ScheduleWrite();
    self.UpdateMemory();
  });
}

void Connection::RunAtHome(std::function<void(Connection&)> fn) {
  std::lock_guard<std::mutex> lock(home_mu_);
  if (home_ == nullptr) {
    parked_.push_back(std::move(fn));
    return;
  }
  PostHomeLocked(std::move(fn));
}

void Connection::PostHomeLocked(std::function<void(Connection&)> fn) {
  ++posts_in_flight_;
  asio::io_context* ctx = home_;
  asio::post(*ctx, [weak = weak_from_this(), ctx, fn = std::move(fn)]() mutable {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard<std::mutex> lock(self->home_mu_);
      --self->posts_in_flight_;
      // MoveTo waits for posts in flight, so the connection is still served here; should that
      // ever not hold, follow it rather than run on the wrong thread.
      if (self->home_ != ctx) {
        if (self->home_ == nullptr) {
          self->parked_.push_back(std::move(fn));
        } else {
          self->PostHomeLocked(std::move(fn));
        }
        return;
      }
    }
    fn(*self);
  });
}

void Connection::PostParkedLocked() {
  for (auto& fn : parked_) PostHomeLocked(std::move(fn));
  parked_.clear();
}

void Connection::SettleHome() {
  // Under the lock, so nothing posted from now on can overtake what was parked.
  std::lock_guard<std::mutex> lock(home_mu_);
  home_ = env_->contexts[thread_];
  PostParkedLocked();
}

void Connection::AbortMove() {
  moving_to_ = SIZE_MAX;
  moving_fd_ = -1;
  on_arrival_ = nullptr;
  SettleHome();
}

bool Connection::ServedBy(size_t thread) const {
  std::lock_guard<std::mutex> lock(home_mu_);
  return home_ == env_->contexts[thread];
}

bool Connection::MoveTo(size_t to,
                        std::function<void(const std::shared_ptr<Connection>&)> arrived) {
  if (to == thread_ || closed_ || closing_ || moving_to_ != SIZE_MAX || !read_in_flight_ ||
      big_ != nullptr || write_in_flight_ || flush_scheduled_ || !out_.empty() ||
      client_->blocked) {
    return false;
  }
  {
    // Only with nothing posted to it on its way here: what other threads post from now on waits
    // for the move, and runs in the order it was posted.
    std::lock_guard<std::mutex> lock(home_mu_);
    if (posts_in_flight_ > 0) return false;
    home_ = nullptr;
  }
  moving_to_ = to;
  on_arrival_ = std::move(arrived);
  // Leaves this thread's epoll set; the queued read comes back aborted (OnRead -> FinishMove).
  asio::error_code ec;
  moving_fd_ = socket_.release(ec);
  if (ec) {
    // Not open after all: stay, and let the read's failure close it here.
    AbortMove();
    return false;
  }
  return true;
}

void Connection::FinishMove(const asio::error_code& ec, size_t n) {
  if (ec != asio::error::operation_aborted) {
    // The read had completed before the release: keep what it brought, or close here.
    if (ec || n == 0) {
      ::close(moving_fd_);
      AbortMove();  // what was parked finds it closed
      Close();
      return;
    }
    in_end_ += n;
    env_->state->stats.total_net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  }
  asio::post(*env_->contexts[moving_to_],
             [self = shared_from_this(), fd = moving_fd_] { self->Arrive(fd); });
}

void Connection::Arrive(int fd) {
  size_t from = thread_;
  thread_ = moving_to_;
  moving_to_ = SIZE_MAX;
  moving_fd_ = -1;
  asio::io_context& here = *env_->contexts[thread_];
  ServerState& state = *env_->state;
  state.io_thread_clients[from].fetch_sub(1, std::memory_order_relaxed);
  state.io_thread_clients[thread_].fetch_add(1, std::memory_order_relaxed);
  state.stats.io_thread_moves.fetch_add(1, std::memory_order_relaxed);
  asio::ip::tcp::socket s(here);
  asio::error_code ec;
  s.assign(protocol_, fd, ec);
  if (!ec) s.non_blocking(true, ec);
  socket_ = Socket(std::move(s));
  reactor_ = &asio::use_service<asio::detail::reactor>(here);
  block_timer_.reset();  // bound to the old thread's context; made again here when needed
  if (ec) {
    SettleHome();
    if (!socket_.is_open()) ::close(fd);
    Close();
    return;
  }
  // What other threads posted during the move (messages, served pops) runs here, before the
  // input the move carried: a client that sent a command after a PUBLISH was answered gets the
  // message first, as it would have without the move. What is posted from now on queues behind.
  std::vector<std::function<void(Connection&)>> parked;
  {
    std::lock_guard<std::mutex> lock(home_mu_);
    home_ = &here;
    parked.swap(parked_);
  }
  auto arrived = std::move(on_arrival_);
  on_arrival_ = nullptr;
  arrived(shared_from_this());
  for (auto& fn : parked) fn(*this);
  if (!closed_) AfterInput();
}

bool Connection::OverOutputLimit() {
  Config::ClientClass cls =
      client_->pubsub_count > 0 ? Config::ClientClass::kPubsub : Config::ClientClass::kNormal;
  int64_t hard, soft, seconds;
  env_->state->config->output_buffer_limit(cls, &hard, &soft, &seconds);
  uint64_t pending = PendingOutput();
  client_->obl.store(pending, std::memory_order_relaxed);
  bool over_hard = hard > 0 && pending >= static_cast<uint64_t>(hard);
  bool over_soft = false;
  if (soft > 0 && pending >= static_cast<uint64_t>(soft)) {
    int64_t now = NowMonotonicUs();
    if (soft_limit_since_us_ == 0) soft_limit_since_us_ = now;
    over_soft = now - soft_limit_since_us_ >= seconds * 1000000;
  } else {
    soft_limit_since_us_ = 0;
  }
  if (!over_hard && !over_soft) return false;
  KEEL_LOG_WARNING(
      "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
      client_->id, client_->addr);
  // Drop what it could not take: the connection goes away, and its memory with it.
  std::string().swap(out_);
  Close();
  return true;
}

void Connection::UpdateMemory() {
  if (closed_) return;
  // A std::string holds no heap block while its text fits in the object (capacity 15).
  auto heap = [](const std::string& str) -> uint64_t {
    return str.capacity() > 15 ? str.capacity() + 1 : 0;
  };
  uint64_t qbuf_alloc = in_cap_;
  uint64_t qbuf_free = in_cap_ - in_end_;
  if (big_ != nullptr) {
    if (big_->receiving != nullptr) {
      qbuf_alloc += big_->receiving->capacity();
      qbuf_free += big_->receiving->capacity() - big_->filled;
    }
    for (const auto& arg : big_->received) qbuf_alloc += heap(*arg);
    qbuf_alloc += sizeof(BigArgs) + big_->args.capacity() * sizeof(std::string_view);
  }
  uint64_t omem = heap(out_) + heap(writing_);
  uint64_t figure = client_eviction::kConnectionOverhead + qbuf_alloc + omem +
                    client_->multi_mem.load(std::memory_order_relaxed);
  client_->qbuf_free.store(qbuf_free, std::memory_order_relaxed);
  if (figure == accounted_mem_) return;
  client_->omem.store(omem, std::memory_order_relaxed);
  client_->tot_mem.store(figure, std::memory_order_relaxed);
  uint64_t before = accounted_mem_;
  accounted_mem_ = figure;
  client_eviction::Account(*env_->state, before, figure, qbuf_alloc, omem);
}

}  // namespace keel
