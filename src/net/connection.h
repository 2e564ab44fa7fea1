#pragma once

#include <asio.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/client.h"
#include "keel/commands/dispatcher.h"
#include "keel/keyspace/keyspace.h"
#include "keel/protocol/parser.h"

namespace keel {

struct ConnectionEnv;

// Connection serves one client on one io thread. All members are touched only from that thread;
// other threads use the ClientHandle methods, which post to it.
//
// Flow: a read appends to in_; every complete command in it is parsed in place and executed, each
// reply appended to out_; then out_ is written with one write, in a burst with the other
// connections of the thread that have output (see ScheduleWrite). While a write is in flight new
// replies accumulate in out_ and go out in the next write. A command runs only while the client's
// unsent output is within client-output-pause-limit; past it, the client's remaining commands
// and reading wait until the socket drains, so a client that pipelines without reading holds at
// most the limit plus one reply of our memory, whatever the reply sizes.
class Connection : public std::enable_shared_from_this<Connection>, public ClientHandle {
 public:
  // `thread` is the index of the io thread (ConnectionEnv::contexts) whose context owns socket.
  Connection(asio::ip::tcp::socket socket, size_t thread, ConnectionEnv* env);
  ~Connection() override;

  // Marks a client of the Unix socket at `path`: CLIENT LIST shows addr=<path>:0 laddr=<path>:0
  // as Redis does. Call before Start().
  void SetUnixSocketPath(const std::string& path) {
    unix_socket_ = true;
    client_->addr = client_->laddr = path + ":0";
  }
  // A TCP client's address, known from its accept (Start then asks the socket only for the
  // local one; it asks for the peer's when none was given).
  void SetPeer(const asio::ip::tcp::endpoint& peer);
  // Registers the client and starts reading. Call on the connection's io thread.
  // `speculative_read` false: the first read waits for epoll instead of trying the socket at
  // once (a connection accepted from a script's hook: AnswerWhileBusy peeks at its socket, and
  // a read done now would hold its bytes until the script ends).
  void Start(bool speculative_read = true);
  // Flushes pending output, then closes (graceful server shutdown). Io thread only.
  void ShutdownGracefully();

  // Moves the connection to io thread `to`, if it is idle between commands: waiting for input,
  // no output pending, not blocked. Returns false (and stays) if it is not. Io thread only. The
  // socket leaves this thread's epoll set and joins the other's; the bytes read so far, the
  // client's state and its handle go with it. `arrived` runs on the new thread first thing.
  bool MoveTo(size_t to, std::function<void(const std::shared_ptr<Connection>&)> arrived);
  // Whether io thread `thread` serves the connection now (false while it moves). Thread-safe.
  bool ServedBy(size_t thread) const;

  // Called from the Lua hook of a script running on this connection's io thread past
  // busy-reply-threshold (scripting::g_serve_while_busy), while the thread's event loop cannot
  // run. If the connection is idle (a read waiting with no bytes held, nothing being written,
  // not blocked), answers the whole commands waiting in its socket, in order, through the
  // dispatcher (which answers -BUSY), and writes the replies; it stops at the first command that
  // could need a shard lock (an allow_busy command other than SCRIPT KILL, FUNCTION KILL and
  // FUNCTION STATS, or one of those under maxmemory, which may evict) or at a partial command,
  // and leaves it and what follows in the socket for the script's end. Io thread only.
  void AnswerWhileBusy();

  // ClientHandle: thread-safe.
  void Kill() override;
  void Deliver(std::string bytes) override;
  void Post(std::function<void()> fn) override;
  void StartBlockTimeout(int64_t ms, std::function<void()> fn) override;
  void Unblock(std::string_view reply) override;

 private:
  void DoRead();
  void OnRead(const asio::error_code& ec, size_t n);
  // What follows a read: run the complete commands, read again, schedule the replies' write.
  void AfterInput();
  // Runs fn on the thread that serves the connection, following it if it moves. Thread-safe.
  void RunAtHome(std::function<void(Connection&)> fn);
  // REQUIRES home_mu_ held and home_ set: posts fn there, counting it in posts_in_flight_.
  void PostHomeLocked(std::function<void(Connection&)> fn);
  // REQUIRES home_mu_ held and home_ set: posts what waited for a move, in order.
  void PostParkedLocked();
  // home_ becomes thread_'s context again, and what was parked is posted there.
  void SettleHome();
  // A move given up on the old thread: the connection stays where it is.
  void AbortMove();
  // MoveTo's second half, on the old thread once the read in flight is back; then Arrive, on the
  // new one.
  void FinishMove(const asio::error_code& ec, size_t n);
  void Arrive(int fd);

  // The socket, with access to asio's reactor registration of it (for ReadOp).
  class Socket : public asio::ip::tcp::socket {
   public:
    explicit Socket(asio::ip::tcp::socket&& s) : asio::ip::tcp::socket(std::move(s)) {}
    asio::detail::reactor::per_descriptor_data& reactor_data() {
      return impl_.get_implementation().reactor_data_;
    }
  };

  // The read in flight, as a reactor operation of our own, reused for every read. asio 1.22's
  // async_read_some reads again right after each read it completes, and on a request/reply
  // connection that second recv nearly always fails with EAGAIN: one wasted syscall per request.
  // This operation tells the reactor that a read which did not fill the buffer drained the socket,
  // so the next read waits for epoll's next edge. It holds the connection while queued.
  struct ReadOp : asio::detail::reactor_op {
    ReadOp() : reactor_op(asio::error_code(), &Perform, &Complete) {}
    static status Perform(asio::detail::reactor_op* base);
    static void Complete(void* owner, asio::detail::scheduler_operation* base,
                         const asio::error_code& ec, size_t n);
    char* data = nullptr;
    size_t size = 0;
    int fd = -1;
    std::shared_ptr<Connection> conn;
  };
  void ProcessInput();
  // After output drained: runs the commands that waited for it (output_paused_) and reads again.
  void ResumeInput();
  // Output not yet taken by the socket: what is queued plus the write in flight.
  uint64_t PendingOutput() const { return out_.size() + writing_.size(); }
  void MaybeWrite();
  // Queues this connection's output for the thread's next burst of writes.
  void ScheduleWrite();
  // Writes the replies of every connection on this thread's flush list (see connection.cc).
  static void RunFlushList(const asio::any_io_executor& ex);
  void OnWrite(const asio::error_code& ec, size_t n);
  void Close();
  // client-output-buffer-limit: closes the connection (and returns true) when its pending output
  // passed the hard limit, or the soft limit for longer than allowed.
  bool OverOutputLimit();
  int64_t soft_limit_since_us_ = 0;
  // Memory accounting (keel/commands/client_eviction.h): measures what the connection holds
  // now, publishes it in the Client and adds the change to the server's total (which may start
  // an eviction pass). Cheap when nothing changed. accounted_mem_: the figure the total holds for
  // this connection (0 once closed).
  void UpdateMemory();
  uint64_t accounted_mem_ = 0;

  ConnectionEnv* env_;
  Socket socket_;
  asio::detail::reactor* reactor_;  // the reactor of the context that owns socket_
  ReadOp read_op_;
  std::unique_ptr<asio::steady_timer> block_timer_;  // made by the first StartBlockTimeout
  asio::ip::tcp protocol_;

  // The io thread that serves the connection. home_ is its context, null while moving; other
  // threads read it (RunAtHome), and what they post while it is null waits in parked_.
  // posts_in_flight_ counts what was posted to home_ and has not run yet: a move waits for it to
  // be zero, so Deliver/Post/Kill keep their order across moves.
  size_t thread_;
  mutable std::mutex home_mu_;
  asio::io_context* home_;
  std::vector<std::function<void(Connection&)>> parked_;
  int posts_in_flight_ = 0;
  // A move in progress (MoveTo until Arrive).
  int moving_fd_ = -1;
  size_t moving_to_ = SIZE_MAX;
  std::function<void(const std::shared_ptr<Connection>&)> on_arrival_;

  std::shared_ptr<Client> client_;
  RespParser parser_;

  // The read buffer is held only while it has bytes not yet consumed (a partial command, a batch
  // being run): a read takes one from the thread's pool when data arrives (ReadOp::Perform), and
  // ProcessInput gives it back once everything in it is consumed. So an idle connection holds no
  // read buffer, and a busy thread reuses the same few, warm in its cache.
  char* TakeReadBuffer();
  // Gives the buffer back once nothing in it is unconsumed, unless a read in flight targets it.
  void ReleaseReadBuffer();
  // Gives it back now. REQUIRES: no read in flight writes into it.
  void ReturnReadBuffer();
  // Moves the unconsumed bytes into a buffer of `capacity` (a command bigger than the buffer).
  void GrowReadBuffer(size_t capacity);
  std::unique_ptr<char[]> in_;  // bytes [in_start_, in_end_) are received but not yet consumed
  size_t in_cap_ = 0;           // in_'s size; 0 while no buffer is held
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  size_t read_size_;               // how much a read asks for while no bytes are held (see DoRead)
  bool last_read_filled_ = false;  // the last read filled all the room it had
  bool write_in_flight_ = false;
  bool flush_scheduled_ = false;  // on this thread's flush list
  bool read_in_flight_ = false;
  int small_reads_ = 0;   // reads in a row that used under 1/8 of the buffer
  int full_reads_ = 0;    // reads in a row that filled the largest buffer
  int capped_reads_ = 0;  // reads left that take at most kReadChunk (see DoRead)

  // A big bulk argument (ParserLimits::big_bulk) is not read through in_: its payload goes
  // straight into a string of its exact size, which the command then owns and a SET takes into
  // its entry without a copy (keel/commands/owned_args.h). in_ keeps the command's other bytes.
  // Null for nearly every connection; see StartBigBulk, DoRead, OnRead and ProcessInput.
  struct BigArgs {
    std::unique_ptr<std::string> receiving;              // the payload being read, and its CRLF
    size_t filled = 0;                                   // bytes of `receiving` read so far
    size_t total = 0;                                    // the payload's length and its CRLF
    std::vector<std::unique_ptr<std::string>> received;  // the command's complete payloads
    // The command once parsed whole, waiting to run: its arguments (views into in_ and into
    // `received`) and the end of its bytes in in_. Nothing moves in_ until it has run.
    bool ready = false;
    std::vector<std::string_view> args;
    size_t end = 0;
  };
  std::unique_ptr<BigArgs> big_;
  // After Parse said kBigBulk for the command at in_ + start: moves the payload's first bytes
  // out of in_ and reads the rest into a string of its own.
  void StartBigBulk(size_t start);
  // Runs the parsed command that holds big arguments, lending them to it.
  void RunBigCommand();
  // Bytes of the pending request: in_'s unconsumed bytes and a payload being received.
  uint64_t QueryBufferBytes() const {
    return in_end_ - in_start_ + (big_ != nullptr && big_->receiving ? big_->filled : 0);
  }

  std::string out_;      // replies not yet handed to the socket
  std::string writing_;  // the buffer of the write in flight
  // The AOF offset out_'s replies wait for (aof::ThisThreadAppended when output was last added;
  // see RunFlushList).
  uint64_t flush_need_ = 0;
  // The flags together, so that they pack (a connection's size matters: see bench/pressure;
  // three more sit beside last_read_filled_, in what was padding).
  bool read_paused_ = false;
  bool output_paused_ = false;  // commands wait in in_ for the output to drain
  bool closing_ = false;        // close once out_ and writing_ are flushed
  bool closed_ = false;
  bool unix_socket_ = false;      // a Unix-socket client (SetUnixSocketPath)
  bool speculative_read_ = true;  // DoRead may try the socket at once (see Start)
};

// What connections share: set up by the Server, read-only afterwards.
struct ConnectionEnv {
  ServerState* state;
  Dispatcher* dispatcher;
  std::vector<asio::io_context*> contexts;  // one per io thread
};

}  // namespace keel
