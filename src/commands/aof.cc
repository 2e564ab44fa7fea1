// The append-only file: Redis 7.0's multi-part layout (a manifest, one base, incr files), the
// writer thread with the three fsync policies, loading at start-up, BGREWRITEAOF.
// docs/persistence.md ("AOF") and docs/architecture.md ("The AOF") describe the design.
#include "keel/commands/aof.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "functions.h"
#include "keel/commands/client.h"
#include "keel/commands/diagnostics.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_state.h"
#include "keel/common/clock.h"
#include "keel/common/logging.h"
#include "keel/common/memory.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/keyspace/changes.h"
#include "keel/persistence/aof_manifest.h"
#include "keel/persistence/aof_reader.h"
#include "keel/persistence/bgsave.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/snapshot.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/parser.h"
#include "keel/protocol/reply.h"

namespace keel::aof {
namespace {

enum class Fsync { kEverysec = 0, kAlways = 1, kNo = 2 };  // appendfsync's choices, in order

std::string ConfigString(const Config& c, std::string_view name) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view pattern[] = {name};
  c.Get(pattern, &out);
  return out.empty() ? std::string() : out[0].second;
}

// ---- the log ----

bool SnapshotRunning(ServerState& s);  // an AOF rewrite or a BGSAVE (no-appendfsync-on-rewrite)

thread_local int t_exec_depth = 0;
thread_local int t_not_logged = 0;  // NotLogged scopes alive on this thread
// DEBUG AOF-FLUSH-SLEEP: microseconds the writer sleeps before each write (0: none).
std::atomic<int64_t> g_flush_sleep_us{0};
thread_local std::vector<std::pair<int, std::string>> t_tx;  // the EXEC's records, by db
thread_local bool t_logged_as = false;  // the running command logged its own form
thread_local uint64_t t_appended = 0;   // the log's end after this thread's last record
thread_local ChangeKind t_last_kind = ChangeKind::kWrite;  // of this thread's last key change
thread_local std::string t_last_key;                       // (blocking pops served at once)

std::string Encode(std::span<const std::string_view> args) {
  std::string out;
  ReplyBuilder b(&out);
  b.ArrayHeader(args.size());
  for (std::string_view a : args) b.Bulk(a);
  return out;
}

std::string Encode(std::initializer_list<std::string_view> args) {
  return Encode(std::span<const std::string_view>(args.begin(), args.size()));
}

class AofLog final : public CommandObserver, public ChangeObserver {
 public:
  explicit AofLog(ServerState& s) : s_(s) {}
  ~AofLog() override { Stop(); }

  bool on() const { return on_.load(std::memory_order_acquire); }

  // ---- feeding (under the shard locks of the record's keys) ----

  void Append(int db, std::string rec) {
    if (t_not_logged > 0) return;
    if (t_exec_depth > 0) {
      t_tx.emplace_back(db, std::move(rec));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    AppendLocked(db, rec);
    WakeForRecord();
  }

  // The common case, a command written as its arguments: encoded straight into the buffer.
  void AppendArgs(int db, std::span<const std::string_view> args) {
    if (t_not_logged > 0) return;
    if (t_exec_depth > 0) {
      t_tx.emplace_back(db, Encode(args));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    AppendLocked(db, {});
    ReplyBuilder b(&buf_);
    b.ArrayHeader(args.size());
    for (std::string_view a : args) b.Bulk(a);
    Appended();
    WakeForRecord();
  }

  void FlushTransaction() {
    if (t_tx.empty()) return;
    std::string multi = Encode({"MULTI"}), exec = Encode({"EXEC"});
    std::lock_guard<std::mutex> lock(mu_);
    // The SELECT of the first record goes before MULTI, as Redis writes it.
    AppendLocked(t_tx.front().first, multi);
    for (auto& [db, rec] : t_tx) AppendLocked(db, rec);
    AppendLocked(-1, exec);
    t_tx.clear();
    WakeForRecord();
  }

  void OnChange(const KeyChange& c) override {
    if (!on()) return;
    switch (c.kind) {
      case ChangeKind::kExpired:
      case ChangeKind::kEvicted:  // both logged as the deletion they are, as in Redis
        Append(c.db, Encode({"DEL", c.key}));
        return;
      case ChangeKind::kFlush:
        Append(c.db, Encode({"FLUSHDB"}));
        return;
      case ChangeKind::kSwap: {
        std::string a = std::to_string(c.db), b = std::to_string(c.other_db);
        Append(c.db, Encode({"SWAPDB", a, b}));
        return;
      }
      default:
        t_last_kind = c.kind;
        t_last_key.assign(c.key);
    }
  }

  void OnCommand(const Client& client, int db, const CommandMeta& meta,
                 std::span<const std::string_view> args, bool in_exec) override {
    if (t_logged_as) {
      t_logged_as = false;
      return;
    }
    if (!on()) return;
    std::string rec;
    switch (Replayable(db, args, &rec)) {
      case Form::kNone:
        return;
      case Form::kArgs:
        return AppendArgs(db, args);
      case Form::kRecord:
        return Append(db, std::move(rec));
    }
  }

  // ---- the writer ----

  // Opens `incr` (appending) as the file the writer writes to, and starts the writer.
  Status Open(const std::string& incr_path) {
    int fd = open(incr_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::Error("Can't open the append-only file " + incr_path + ": " +
                           std::strerror(errno));
    }
    struct stat st {};
    fstat(fd, &st);
    fd_ = fd;
    incr_size_.store(st.st_size);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_db_ = -1;  // a file opened for appending gets a SELECT before its first record
      // Records appended while the log was being turned off belong to no file.
      buf_base_ += buf_.size();
      buf_.clear();
      written_ = buf_base_;
      writing_ = false;  // the token the last writer kept when it stopped
    }
    stop_ = false;
    on_.store(true, std::memory_order_release);
    writer_ = std::thread([this] { WriterLoop(); });
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!writer_.joinable()) return;
      on_.store(false);  // no new waiters; the writer releases the ones there are
      stop_ = true;
      cv_.notify_all();
    }
    writer_.join();
    if (fd_ >= 0) {
      fdatasync(fd_);
      close(fd_);
      fd_ = -1;
    }
  }

  // How far replies may go: see aof::ReleasedUpTo.
  uint64_t ReleasedUpTo() const {
    if (fsync_.load(std::memory_order_relaxed) != static_cast<int>(Fsync::kAlways) &&
        has_error_.load(std::memory_order_relaxed)) {
      return UINT64_MAX;
    }
    return synced_.load(std::memory_order_acquire);
  }

  bool HoldReplies(uint64_t need, std::function<void()>& resume) {
    // always: until the fsync that covers the records. everysec and no: until their write, so
    // that, as in Redis, a crash of the process loses no acknowledged write (only a crash of the
    // machine can lose the last second or so), unless the AOF cannot be written at all, when
    // Redis answers anyway.
    if (need <= synced_.load(std::memory_order_acquire)) return false;
    if (fsync_.load(std::memory_order_relaxed) != static_cast<int>(Fsync::kAlways) &&
        has_error_.load(std::memory_order_relaxed)) {
      return false;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (need <= synced_.load(std::memory_order_acquire)) return false;
    if (WriteInline(lock)) return false;
    waiters_.emplace_back(need, std::move(resume));
    Wake();
    return true;
  }

  // Switches the writer to a new incr file: what was logged before goes to the old one. Called
  // with every shard locked (the rewrite's point in time).
  void SwitchTo(int new_fd) {
    std::lock_guard<std::mutex> lock(mu_);
    switch_fd_ = new_fd;
    switch_at_ = appended_;
    last_db_ = -1;  // a new file starts with its SELECT
    Wake();
  }

  // Waits until what was appended so far is written (with always: and fsynced), or found
  // unwritable (DEBUG LOADAOF).
  void WaitWritten() {
    std::promise<void> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (appended_ <= synced_.load(std::memory_order_acquire)) return;
      waiters_.emplace_back(appended_, [&done] { done.set_value(); });
      Wake();
    }
    done.get_future().wait();
  }

  void SetFsync(int policy) { fsync_.store(policy); }
  void SetTimestamps(bool on) { timestamps_.store(on); }
  std::string write_error() const {
    if (!has_error_.load(std::memory_order_relaxed)) return {};
    std::lock_guard<std::mutex> lock(err_mu_);
    return write_error_;
  }
  uint64_t incr_size() const { return incr_size_.load(); }
  uint64_t buffer_length() const {
    std::lock_guard<std::mutex> lock(mu_);
    return buf_.size();
  }
  uint64_t delayed_fsync() const { return delayed_fsync_.load(); }
  uint64_t appended() const { return appended_seen_.load(std::memory_order_acquire); }

  // Manifest state (under manifest_mu_): the dir, the names, the current files.
  std::mutex manifest_mu;
  Manifest manifest;
  std::string dir, fname;

 private:
  // everysec and no: the io thread that wants its replies released writes what the log holds
  // itself when nobody else is writing (a write into the page cache, never an fsync), rather than
  // handing it to the writer thread and waiting for it to wake: at one request per batch the
  // hand-off cost more than the write. One writer at a time (the write token, `writing_`) keeps
  // the file in log order. True when this thread's records are written; false to hand off: the
  // token is taken (the writer is writing or fsyncing), a rewrite's file switch is pending, the
  // log is stopping, the policy is always (its group commit stays with the writer), or the write
  // failed (the bytes go back, and the writer retries and reports the error as before).
  // REQUIRES: `lock` holds mu_; it is held again on return.
  bool WriteInline(std::unique_lock<std::mutex>& lock) {
    if (writing_ || switch_fd_ >= 0 || stop_ || buf_.empty() ||
        g_flush_sleep_us.load(std::memory_order_relaxed) > 0 ||
        fsync_.load(std::memory_order_relaxed) == static_cast<int>(Fsync::kAlways)) {
      return false;
    }
    writing_ = true;
    std::string data;
    data.swap(spare_);
    data.swap(buf_);
    uint64_t data_base = buf_base_;
    buf_base_ += data.size();
    lock.unlock();
    int err = WriteAll(fd_, data);
    if (err == 0) {
      incr_size_.fetch_add(data.size());
      NoteWriteOk();
    }
    lock.lock();
    writing_ = false;
    if (err != 0) {
      buf_.insert(0, data);
      buf_base_ -= data.size();
      if (token_waiting_) token_cv_.notify_all();
      return false;
    }
    written_ = data_base + data.size();
    synced_.store(written_, std::memory_order_release);
    data.clear();
    spare_.swap(data);  // keep the capacity for the next batch
    if (token_waiting_) token_cv_.notify_all();
    // Other threads' replies that this write covers go too.
    if (!waiters_.empty()) {
      std::vector<std::function<void()>> ready = TakeWaiters(written_);
      if (!ready.empty()) {
        lock.unlock();
        for (auto& r : ready) r();
        lock.lock();
      }
    }
    return true;
  }

  // A new record: with everysec and no the writer writes it at once; with always it waits for
  // the first io thread that wants its replies released (HoldReplies, at the end of the thread's
  // batch of ready sockets), so that one fsync covers the whole batch of every client on it
  // rather than its first record (or the 100 ms tick, for records nobody waits for).
  // With everysec and no the writer is woken at the end of an io thread's batch too
  // (HoldReplies), or when much is waiting: one write per batch, not per record.
  void WakeForRecord() {
    if (buf_.size() >= (1u << 20)) Wake();
  }
  void Wake() {
    if (!writer_waiting_) return;
    writer_waiting_ = false;
    cv_.notify_one();
  }

  // REQUIRES: mu_.
  void AppendLocked(int db, std::string_view rec) {
    if (timestamps_.load(std::memory_order_relaxed)) {
      int64_t now = NowUnixMs() / 1000;
      if (now != last_ts_) {
        last_ts_ = now;
        buf_ += "#TS:" + std::to_string(now) + "\r\n";  // not RESP: the AOF's annotation line
      }
    }
    if (db >= 0 && db != last_db_) {
      std::string n = std::to_string(db);
      std::string select = Encode({"SELECT", n});
      buf_ += select;
      last_db_ = db;
    }
    buf_ += rec;
    Appended();
  }

  // The log's end moved. REQUIRES: mu_.
  void Appended() {
    appended_ = buf_base_ + buf_.size();
    appended_seen_.store(appended_, std::memory_order_release);
    t_appended = appended_;
  }

  // The parked flushes waiting for offsets up to `upto`, taken out. REQUIRES: mu_.
  std::vector<std::function<void()>> TakeWaiters(uint64_t upto) {
    std::vector<std::function<void()>> ready;
    for (size_t i = 0; i < waiters_.size();) {
      if (waiters_[i].first <= upto) {
        ready.push_back(std::move(waiters_[i].second));
        waiters_[i] = std::move(waiters_.back());
        waiters_.pop_back();
      } else {
        ++i;
      }
    }
    return ready;
  }

  // A write succeeded: a write error reported before is over.
  void NoteWriteOk() {
    if (!has_error_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> e(err_mu_);
    if (!write_error_.empty()) {
      KEEL_LOG_WARNING("AOF write error looks solved, Keel can write again.");
      write_error_.clear();
      has_error_.store(false);
    }
  }

  // Writes `data` fully to `fd`; on a failure undoes a partial write (as Redis does) and returns
  // errno.
  int WriteAll(int fd, std::string_view data) {
    off_t start = lseek(fd, 0, SEEK_END);
    size_t done = 0;
    int e = WriteFully(fd, data, &done);
    if (e != 0 && done > 0 && start >= 0 && ftruncate(fd, start) != 0) {
      KEEL_LOG_WARNING("Could not remove short write from the append-only file");
    }
    return e;
  }

  void WriterLoop() {
    memory::RegisterThisThread();
    int64_t last_fsync_ms = NowUnixMs();
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      bool want_sync_wait = !waiters_.empty();
      if (buf_.empty() && !want_sync_wait && switch_fd_ < 0 && !stop_) {
        writer_waiting_ = true;
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        writer_waiting_ = false;
      }
      // The write token: an io thread may be writing (WriteInline); its bytes go first.
      while (writing_) {
        token_waiting_ = true;
        token_cv_.wait(lock);
        token_waiting_ = false;
      }
      writing_ = true;
      std::string data;
      data.swap(buf_);
      uint64_t data_base = buf_base_;
      buf_base_ += data.size();
      int new_fd = switch_fd_;
      uint64_t switch_at = switch_at_;
      switch_fd_ = -1;
      bool stopping = stop_;
      lock.unlock();

      int policy = fsync_.load();
      if (int64_t us = g_flush_sleep_us.load(std::memory_order_relaxed); us > 0 && !data.empty()) {
        std::this_thread::sleep_for(std::chrono::microseconds(us));
      }
      // The part before a switch goes to the old file, the rest to the new one.
      size_t cut = data.size();
      if (new_fd >= 0) cut = static_cast<size_t>(std::min<uint64_t>(switch_at - data_base, cut));
      int err = 0;
      if (cut > 0) err = WriteAll(fd_, std::string_view(data).substr(0, cut));
      if (err == 0 && new_fd >= 0) {
        fdatasync(fd_);
        fsynced_ = data_base + cut;
        close(fd_);
        fd_ = new_fd;
        incr_size_.store(0);
        if (cut < data.size()) err = WriteAll(fd_, std::string_view(data).substr(cut));
      }
      if (err != 0) {
        if (policy == static_cast<int>(Fsync::kAlways)) {
          KEEL_LOG_WARNING(
              "Can't write to the append-only file: {}. Exiting: with appendfsync always a "
              "write that cannot be made durable must not be acknowledged.",
              std::strerror(err));
          std::_Exit(1);
        }
        {
          std::lock_guard<std::mutex> e(err_mu_);
          write_error_ = std::strerror(err);
          has_error_.store(true);
        }
        KEEL_LOG_WARNING("Error writing to the AOF file: {}", std::strerror(err));
        // Keep the bytes and retry in a second; writes are refused meanwhile (MISCONF).
        lock.lock();
        buf_.insert(0, data);
        buf_base_ -= data.size();
        if (new_fd >= 0 && cut == 0) {
          switch_fd_ = new_fd;
          switch_at_ = switch_at;
        }
        if (stopping) return;  // keeping the token: nothing writes to the file after the writer
        writing_ = false;
        std::vector<std::function<void()>> ready = TakeWaiters(UINT64_MAX);
        lock.unlock();
        for (auto& r : ready) r();  // everysec, no: replies go while the AOF cannot be written
        std::this_thread::sleep_for(std::chrono::seconds(1));
        lock.lock();
        continue;
      }
      if (!data.empty()) {
        incr_size_.fetch_add(data.size() - (new_fd >= 0 ? cut : 0));
        NoteWriteOk();
      }
      written_ = data_base + data.size();
      const bool always = policy == static_cast<int>(Fsync::kAlways);
      if (!always) {
        // everysec, no: the replies waited for the write only; they go before any fsync.
        synced_.store(written_);
        std::vector<std::function<void()>> ready;
        {
          std::lock_guard<std::mutex> relock(mu_);
          ready = TakeWaiters(written_);
        }
        for (auto& r : ready) r();
      }
      int64_t now = NowUnixMs();
      bool fsync_now =
          written_ > fsynced_ &&
          (always || stopping ||
           (policy == static_cast<int>(Fsync::kEverysec) && now - last_fsync_ms >= 1000));
      if (fsync_now && !stopping && s_.config->IntOption("no-appendfsync-on-rewrite") != 0 &&
          SnapshotRunning(s_)) {
        fsync_now = false;  // with always the replies go all the same, as in Redis
      }
      if (fsync_now) {
        int64_t t0 = NowMonotonicUs();
        fdatasync(fd_);
        if (NowMonotonicUs() - t0 > 2000000) delayed_fsync_.fetch_add(1);
        last_fsync_ms = now;
        fsynced_ = written_;
      }
      if (always) synced_.store(written_);
      lock.lock();
      writing_ = false;
      // Release the replies this write (everysec, no) or fsync (always) covers.
      std::vector<std::function<void()>> ready = TakeWaiters(synced_.load());
      if (!ready.empty()) {
        lock.unlock();
        for (auto& r : ready) r();
        lock.lock();
      }
      if (stopping && buf_.empty()) {
        // Nothing is left to make durable: release whoever still waits. The writer keeps the
        // token: nothing writes to the file after it.
        writing_ = true;
        std::vector<std::function<void()>> rest = TakeWaiters(UINT64_MAX);
        lock.unlock();
        for (auto& r : rest) r();
        return;
      }
    }
  }

  // The replayable form of a command that changed the keyspace (docs/persistence.md).
  enum class Form { kNone, kArgs, kRecord };
  Form Replayable(int db, std::span<const std::string_view> args, std::string* rec) {
    // The lower-case name, without an allocation; the commands rewritten all have short names.
    char lower[16];
    if (args[0].size() >= sizeof(lower)) return Form::kArgs;
    for (size_t i = 0; i < args[0].size(); ++i) {
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(args[0][i])));
    }
    const std::string_view name(lower, args[0].size());
    // The absolute expire the command gave `key`: read from its entry (we hold its lock), so
    // the file holds exactly what the keyspace holds; computed from the argument otherwise.
    auto abs_ms = [&](std::string_view key, std::string_view unit,
                      std::string_view v) -> std::string {
      KeyPlace place = PlaceOf(key);
      const Entry* e = s_.keyspace->db(db).shard(place.shard).Find(key, place.hash);
      if (e != nullptr && e->has_expire()) return std::to_string(e->expire_ms());
      int64_t n = ParseInt64(v).value_or(0);
      std::string u = ToLower(unit);
      int64_t now = NowUnixMs();
      if (u == "ex" || u == "expire" || u == "setex") return std::to_string(now + n * 1000);
      if (u == "px" || u == "pexpire" || u == "psetex") return std::to_string(now + n);
      if (u == "exat" || u == "expireat") return std::to_string(n * 1000);
      return std::to_string(n);  // pxat, pexpireat
    };
    if (name == "exec" || name == "flushdb" || name == "flushall" || name == "swapdb") {
      return Form::kNone;  // EXEC: EndExec; the others: their ChangeObserver calls
    }
    if (name == "debug") {
      return Form::kNone;  // as in Redis: POPULATE's keys and a reload are not logged
    }
    if (name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" ||
        name == "fcall" || name == "fcall_ro") {
      return Form::kNone;  // a script is logged as the commands it ran (its EndExec)
    }
    if (name == "set" && args.size() > 3) {
      std::vector<std::string_view> out(args.begin(), args.end());
      std::string at;
      for (size_t i = 3; i + 1 < out.size(); ++i) {
        std::string o = ToLower(out[i]);
        if (o == "ex" || o == "px" || o == "exat" || o == "pxat") {
          at = abs_ms(args[1], o, out[i + 1]);
          out[i] = "PXAT";
          out[i + 1] = at;
          break;
        }
      }
      *rec = Encode(out);
      return Form::kRecord;
    }
    if ((name == "setex" || name == "psetex") && args.size() == 4) {
      std::string at = abs_ms(args[1], name, args[2]);
      *rec = Encode({"SET", args[1], args[3], "PXAT", at});
      return Form::kRecord;
    }
    if (name == "expire" || name == "pexpire" || name == "expireat" || name == "pexpireat") {
      if (t_last_kind == ChangeKind::kDelete) {
        *rec = Encode({"DEL", args[1]});
      } else {
        std::string at = abs_ms(args[1], name, args[2]);
        *rec = Encode({"PEXPIREAT", args[1], at});
      }
      return Form::kRecord;
    }
    if (name == "getex" && args.size() >= 3) {
      std::string o = ToLower(args[2]);
      if (o == "persist") {
        *rec = Encode({"PERSIST", args[1]});
      } else if (args.size() >= 4) {
        std::string at = abs_ms(args[1], o, args[3]);
        *rec = Encode({"PEXPIREAT", args[1], at});
      } else {
        return Form::kNone;
      }
      return Form::kRecord;
    }
    if (name == "restore" && args.size() >= 4) {
      bool absttl = false;
      for (size_t i = 4; i < args.size(); ++i)
        absttl = absttl || EqualsIgnoreCase(args[i], "absttl");
      int64_t ttl = ParseInt64(args[2]).value_or(0);
      if (ttl > 0 && !absttl) {
        std::vector<std::string_view> out(args.begin(), args.end());
        std::string at = abs_ms(args[1], "px", args[2]);
        out[2] = at;
        out.push_back("ABSTTL");
        *rec = Encode(out);
        return Form::kRecord;
      }
    }
    if (name == "blpop" || name == "brpop") {
      *rec = Encode({name == "blpop" ? "LPOP" : "RPOP", t_last_key});
      return Form::kRecord;
    }
    if (name == "blmpop") {
      std::vector<std::string_view> out(args.begin() + 1, args.end());
      out[0] = "LMPOP";
      *rec = Encode(out);
      return Form::kRecord;
    }
    if (name == "bzpopmin" || name == "bzpopmax") {
      *rec = Encode({name == "bzpopmin" ? "ZPOPMIN" : "ZPOPMAX", t_last_key});
      return Form::kRecord;
    }
    if (name == "bzmpop") {
      std::vector<std::string_view> out(args.begin() + 1, args.end());
      out[0] = "ZMPOP";
      *rec = Encode(out);
      return Form::kRecord;
    }
    if (name == "brpoplpush" && args.size() == 4) {
      *rec = Encode({"RPOPLPUSH", args[1], args[2]});
      return Form::kRecord;
    }
    if (name == "blmove" && args.size() == 6) {
      *rec = Encode({"LMOVE", args[1], args[2], args[3], args[4]});
      return Form::kRecord;
    }
    return Form::kArgs;
  }

  ServerState& s_;
  std::atomic<bool> on_{false};
  std::atomic<int> fsync_{0};
  std::atomic<bool> timestamps_{false};  // aof-timestamp-enabled
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool writer_waiting_ = false;
  bool stop_ = false;
  // The write token: whoever holds it (the writer, or an io thread in WriteInline) is the only
  // one writing the file, so the file is in log order. The writer keeps it once stopped.
  bool writing_ = false;
  bool token_waiting_ = false;  // the writer waits for an io thread's write
  std::condition_variable token_cv_;
  std::string buf_;
  std::string spare_;                       // an emptied buffer kept for its capacity (WriteInline)
  uint64_t buf_base_ = 0;                   // the log offset of buf_[0]
  uint64_t appended_ = 0;                   // the log offset after the last record
  std::atomic<uint64_t> appended_seen_{0};  // appended_, for readers without the mutex
  int last_db_ = -1;
  int64_t last_ts_ = 0;
  int switch_fd_ = -1;
  uint64_t switch_at_ = 0;
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters_;
  std::thread writer_;
  // The file's state, touched only by the holder of the write token.
  int fd_ = -1;
  uint64_t written_ = 0;
  uint64_t fsynced_ = 0;  // the log offset the last fsync covered
  std::atomic<uint64_t> synced_{0};
  std::atomic<uint64_t> incr_size_{0};
  std::atomic<uint64_t> delayed_fsync_{0};
  std::atomic<bool> has_error_{false};
  mutable std::mutex err_mu_;
  std::string write_error_;
};

// Created at start-up (CreateLog, before the server's threads start; tools that load without a
// server create it in LoadAppendOnly) and kept for the process's life.
std::unique_ptr<AofLog> g_log_owner;
AofLog* g_log = nullptr;
// Serializes CONFIG SET appendonly (an io thread) with the loader thread's StartAppendOnly at the
// end of the start-up load. Until that has run (g_started), the hook only records the setting:
// StartAppendOnly reads it under the same mutex, so a change made during the load is applied
// once, by the loader, and the log's writer thread is never started and stopped concurrently.
std::mutex g_toggle_mu;
bool g_started = false;  // guarded by g_toggle_mu

// ---- rewrite state ----
struct RewriteState {
  std::atomic<bool> in_progress{false};
  std::atomic<bool> scheduled{false};
  std::atomic<bool> last_ok{true};
  std::atomic<int64_t> start_ms{0};
  std::atomic<int64_t> last_time_sec{-1};
  std::atomic<uint64_t> rewrites{0};
  std::atomic<uint64_t> consecutive_failures{0};
  std::atomic<uint64_t> base_size{0};
  std::atomic<uint64_t> last_cow{0};
  std::atomic<uint64_t> growth_base{0};  // the AOF's size after the last rewrite or the load
  std::atomic<int64_t> last_try_ms{0};
  std::thread thread;
};
RewriteState g_rw;

bool SnapshotRunning(ServerState& s) {
  return g_rw.in_progress.load() || s.persistence.bgsave_in_progress.load();
}

// ---- loading ----

struct Replayer {
  ServerState& s;
  Client client;
  std::string out;
  explicit Replayer(ServerState& st) : s(st) {
    client.authenticated = true;
    client.id = 0;
    client.loading_client = true;
  }
};

// Replays the commands of one AOF file's text starting at `pos`. `last` says whether it is the
// last file of the manifest (a truncated tail may then be cut, with aof-load-truncated yes).
Status ReplayCommands(Replayer& r, const std::string& path, std::string& data, size_t pos,
                      bool last, uint64_t* commands) {
  CommandScan scan;
  Status run = ScanCommands(
      data.data(), data.size(), pos,
      [&](std::span<const std::string_view> args) {
        // Copies: the dispatcher may queue (MULTI) the arguments.
        std::vector<std::string> owned(args.begin(), args.end());
        std::vector<std::string_view> views(owned.begin(), owned.end());
        r.out.clear();
        r.s.dispatcher->Execute(r.client, views, &r.out);
        if (!r.out.empty() && r.out[0] == '-' && r.out.rfind("-ERR unknown command", 0) == 0) {
          return Status::Error("Unknown command '" + owned[0] + "' reading the append only file " +
                               path);
        }
        return Status::Ok();
      },
      &scan);
  *commands += scan.commands;
  if (!run.ok()) return run;
  if (scan.end == CommandScan::End::kBadFormat) {
    return Status::Error("Bad file format reading the append only file " + path + " at offset " +
                         std::to_string(scan.bad_offset) +
                         ": make a backup of your AOF file, then use ./redis-check-aof --fix "
                         "<filename.manifest>");
  }
  if (scan.end != CommandScan::End::kTruncated) return Status::Ok();
  size_t valid_end = scan.valid_end;
  if (!last) {
    return Status::Error("Unexpected end of file reading the append only file " + path +
                         " (it is not the last file of the manifest)");
  }
  if (r.s.config->IntOption("aof-load-truncated") == 0) {
    return Status::Error(
        "Unexpected end of file reading the append only file " + path + " at offset " +
        std::to_string(valid_end) +
        ". You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
        "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
        "configuration option to yes and restart the server.");
  }
  if (r.client.in_multi) r.s.dispatcher->DiscardTransaction(r.client);
  KEEL_LOG_WARNING("!!! Warning: short read while loading the AOF file {}!!!", path);
  KEEL_LOG_WARNING("!!! Truncating the AOF {} at offset {} !!!", path, valid_end);
  if (truncate(path.c_str(), static_cast<off_t>(valid_end)) != 0) {
    return Status::Error("Error truncating the AOF file " + path + ": " + std::strerror(errno));
  }
  KEEL_LOG_WARNING("AOF {} loaded anyway because aof-load-truncated is enabled", path);
  return Status::Ok();
}

// Loads one file: an RDB preamble (base files and old single files may start with one), then
// commands.
Status LoadOneFile(Replayer& r, const std::string& path, bool last, uint64_t* keys) {
  std::string data;
  if (Status st = ReadWholeFile(path, &data); !st.ok()) {
    return Status::Error("Fatal error: can't open the append log file " + path +
                         " for reading: " + st.message());
  }
  size_t pos = 0;
  if (data.size() >= 5 && data.compare(0, 5, "REDIS") == 0) {
    Keyspace& ks = *r.s.keyspace;
    rdb::MemorySource src(data);
    rdb::LoadOptions opt;
    opt.verify_checksum = r.s.config->rdbchecksum() && !SkipChecksumValidation();
    opt.now_ms = 0;  // an AOF's preamble keeps expired keys; the commands after it decide
    rdb::LoadStats stats;
    std::vector<ShardGuard> locks = LockAllShards(ks);
    Status st = rdb::LoadRdb(
        src, opt,
        [&](int db, Entry* e, const rdb::SavedAccess& access) {
          if (db >= ks.databases()) {
            FreeEntry(e);
            return Status::Error("the file uses more databases than configured");
          }
          ks.Put(db, e);
          ks.ApplySavedAccess(e, access.lfu_freq, access.idle_s);
          return Status::Ok();
        },
        &stats);
    if (!st.ok()) {
      return Status::Error("Bad RDB preamble in the append only file " + path + ": " +
                           st.message());
    }
    if (Status fs = functions::ReplaceAllFromRdb(stats.function_codes); !fs.ok()) {
      return Status::Error("Bad RDB preamble in the append only file " + path + ": " +
                           fs.message());
    }
    *keys += stats.keys_loaded;
    pos = static_cast<size_t>(src.offset());
    KEEL_LOG_NOTICE("Reading RDB base file on AOF loading...");
  }
  uint64_t commands = 0;
  Status st = ReplayCommands(r, path, data, pos, last, &commands);
  if (st.ok())
    KEEL_LOG_NOTICE("DB loaded from {} file {}: {} commands", last ? "incr" : "base", path,
                    commands);
  return st;
}

void RemoveHistory(Manifest* m, const std::string& dir) {
  std::vector<AofFile> keep;
  for (const AofFile& f : m->files) {
    if (f.type == 'h') {
      KEEL_LOG_NOTICE("Removing the history file {}", f.name);
      unlink((dir + "/" + f.name).c_str());
    } else {
      keep.push_back(f);
    }
  }
  m->files = std::move(keep);
}

// Writes a base of the whole keyspace (RDB with aof-base) to `path`. REQUIRES: every shard lock.
Status WriteBaseLocked(ServerState& s, const std::string& path) {
  SaveOptions so;
  so.aof_base = true;
  so.compress = s.config->rdbcompression();
  so.checksum = s.config->rdbchecksum();
  SetAccessToSave(*s.keyspace, &so);
  rdb::FileSink sink;
  if (Status st = sink.Open(path); !st.ok()) return st;
  if (Status st = WriteKeyspace(*s.keyspace, &sink, so); !st.ok()) return st;
  if (Status st = sink.Sync(); !st.ok()) return st;
  return sink.Close();
}

// aof-use-rdb-preamble no: the base as commands. The snapshot's RDB file is read back key by key
// and each key written as RESTORE with Redis's DUMP payload (ABSTTL for a TTL), after a SELECT
// per database: a file any Redis 7.0 replays and redis-check-aof accepts.
Status RdbToCommands(ServerState& s, const std::string& rdb_path, const std::string& out_path) {
  rdb::FileSource src;
  if (Status st = src.Open(rdb_path); !st.ok()) return st;
  rdb::FileSink sink;
  if (Status st = sink.Open(out_path); !st.ok()) return st;
  bool compress = s.config->rdbcompression();
  std::string out;
  int last_db = -1;
  rdb::LoadOptions opt;
  opt.verify_checksum = false;
  // The libraries come first in the file, as FUNCTION LOAD commands (as Redis writes them).
  opt.on_function = [&](std::string code) {
    out += Encode({"FUNCTION", "LOAD", code});
    return Status::Ok();
  };
  rdb::LoadStats stats;
  Status st = rdb::LoadRdb(
      src, opt,
      [&](int db, Entry* e, const rdb::SavedAccess&) {
        if (db != last_db) {
          std::string n = std::to_string(db);
          out += Encode({"SELECT", n});
          last_db = db;
        }
        std::string payload = rdb::DumpPayload(*e, compress);
        int64_t expire = e->expire_ms();
        std::string ttl = std::to_string(expire < 0 ? 0 : expire);
        if (expire < 0) {
          out += Encode({"RESTORE", e->key(), ttl, payload});
        } else {
          out += Encode({"RESTORE", e->key(), ttl, payload, "ABSTTL"});
        }
        FreeEntry(e);
        if (out.size() < (1 << 20)) return Status::Ok();
        Status w = sink.Write(out);
        out.clear();
        return w;
      },
      &stats);
  if (st.ok() && !out.empty()) st = sink.Write(out);
  if (st.ok()) st = sink.Sync();
  if (st.ok()) st = sink.Close();
  return st;
}

void FinishRewrite(ServerState& s, std::unique_ptr<BackgroundSnapshot> snap, int64_t new_base_seq,
                   std::string temp_path) {
  memory::RegisterThisThread();
  AofLog& log = *g_log;
  Status st;
  bool preamble = s.config->IntOption("aof-use-rdb-preamble") != 0;
  std::string rdb_path = preamble ? temp_path : temp_path + ".rdb";
  {
    rdb::FileSink sink;
    st = sink.Open(rdb_path);
    if (st.ok()) st = snap->Write(&sink);
    if (st.ok()) st = sink.Sync();
    if (st.ok()) st = sink.Close();
  }
  snap->Stop();
  if (st.ok() && !preamble) st = RdbToCommands(s, rdb_path, temp_path);
  if (!preamble) unlink(rdb_path.c_str());
  g_rw.last_cow.store(snap->peak_side_bytes());
  if (st.ok()) {
    std::lock_guard<std::mutex> lock(log.manifest_mu);
    std::string base = BaseName(log.fname, new_base_seq, preamble);
    if (rename(temp_path.c_str(), (log.dir + "/" + base).c_str()) != 0) {
      st = Status::Error(std::string("Can't rename the temporary AOF base: ") +
                         std::strerror(errno));
    } else {
      // The new base replaces the old one and every incr file before the one opened at the
      // snapshot's start: they become history.
      Manifest m = log.manifest;
      int64_t new_incr_seq = m.LastSeq('i');
      for (AofFile& f : m.files) {
        if (f.type == 'b' || (f.type == 'i' && f.seq < new_incr_seq)) f.type = 'h';
      }
      m.files.insert(m.files.begin(), AofFile{base, new_base_seq, 'b'});
      st = PersistManifest(log.dir, ManifestName(log.fname), m);
      if (st.ok()) {
        struct stat sb {};
        if (stat((log.dir + "/" + base).c_str(), &sb) == 0) g_rw.base_size.store(sb.st_size);
        if (s.config->IntOption("aof-disable-auto-gc") == 0) {
          RemoveHistory(&m, log.dir);
          if (Status gc = PersistManifest(log.dir, ManifestName(log.fname), m); !gc.ok()) {
            KEEL_LOG_WARNING("{}", gc.message());
          }
        }
        log.manifest = std::move(m);
      }
    }
  }
  if (!st.ok()) unlink(temp_path.c_str());
  int64_t took = (NowUnixMs() - g_rw.start_ms.load()) / 1000;
  g_rw.last_time_sec.store(took);
  g_rw.last_ok.store(st.ok());
  if (st.ok()) {
    g_rw.growth_base.store(g_rw.base_size.load() + log.incr_size());
    g_rw.rewrites.fetch_add(1);
    g_rw.consecutive_failures.store(0);
    KEEL_LOG_NOTICE("Background AOF rewrite finished successfully");
  } else {
    g_rw.consecutive_failures.fetch_add(1);
    KEEL_LOG_WARNING("Background AOF rewrite failed: {}", st.message());
  }
  g_rw.in_progress.store(false);
}

// Starts a rewrite: a new incr file from this instant, a point-in-time snapshot for the base.
// `*scheduled` is set instead when a BGSAVE holds the snapshot hook (the cron starts it later).
Status StartRewrite(ServerState& s, bool* scheduled) {
  AofLog& log = *g_log;
  *scheduled = false;
  std::lock_guard<std::mutex> save_lock(s.persistence.save_mu);
  if (s.persistence.bgsave_in_progress.load()) {
    g_rw.scheduled.store(true);
    *scheduled = true;
    return Status::Ok();
  }
  if (g_rw.thread.joinable()) g_rw.thread.join();
  g_rw.scheduled.store(false);
  g_rw.last_try_ms.store(NowUnixMs());
  std::unique_ptr<BackgroundSnapshot> snap;
  int64_t base_seq;
  {
    std::vector<ShardGuard> locks = LockAllShards(*s.keyspace);
    std::lock_guard<std::mutex> mlock(log.manifest_mu);
    int64_t incr_seq = log.manifest.LastSeq('i') + 1;
    base_seq = log.manifest.LastSeq('b') + 1;
    std::string incr = IncrName(log.fname, incr_seq);
    std::string path = log.dir + "/" + incr;
    int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return Status::Error("Can't open the AOF incr file " + path + ": " + std::strerror(errno));
    Manifest m = log.manifest;
    m.files.push_back(AofFile{incr, incr_seq, 'i'});
    if (Status st = PersistManifest(log.dir, ManifestName(log.fname), m); !st.ok()) {
      close(fd);
      unlink(path.c_str());
      return st;
    }
    log.manifest = std::move(m);
    KEEL_LOG_NOTICE("Creating AOF incr file {} on background rewrite", incr);
    BgsaveOptions o;
    o.shard_delay_us = s.config->bgsave_shard_delay_us();
    o.save.aof_base = true;
    o.save.compress = s.config->rdbcompression();
    o.save.checksum = s.config->rdbchecksum();
    SetAccessToSave(*s.keyspace, &o.save);
    snap = std::make_unique<BackgroundSnapshot>(*s.keyspace, o);
    snap->Start();
    log.SwitchTo(fd);
  }
  g_rw.in_progress.store(true);
  g_rw.start_ms.store(NowUnixMs());
  std::string temp = log.dir + "/temp-rewriteaof-bg-" + std::to_string(getpid()) + ".aof";
  g_rw.thread = std::thread(FinishRewrite, std::ref(s), std::move(snap), base_seq, temp);
  return Status::Ok();
}

// The "appendonly" apply hook: yes at run time writes a base first, as Redis does.
Status TurnOn(ServerState& s);
void TurnOff();

void CmdBgrewriteaof(CommandContext& ctx) {
  if (g_log == nullptr || !g_log->on()) {
    // Redis 7.0 rewrites even with AOF off; Keel's rewrite needs the log's files.
    return ctx.reply.Error(
        "ERR Background append only file rewriting is only available with "
        "appendonly yes in Keel");
  }
  if (g_rw.in_progress.load()) {
    return ctx.reply.Error("ERR Background append only file rewriting already in progress");
  }
  bool scheduled = false;
  Status st = StartRewrite(ctx.server, &scheduled);
  if (scheduled) {
    return ctx.reply.SimpleString("Background append only file rewriting scheduled");
  }
  if (!st.ok()) {
    KEEL_LOG_WARNING("{}", st.message());
    return ctx.reply.Error(
        "ERR Can't execute an AOF background rewriting. Please check the "
        "server logs for more information.");
  }
  ctx.reply.SimpleString("Background append only file rewriting started");
}

}  // namespace

void LogAs(int db, std::span<const std::string_view> args) {
  if (g_log == nullptr || !g_log->on() || t_not_logged > 0) return;
  t_logged_as = true;
  g_log->Append(db, Encode(args));
}

void LogServed(int db, std::initializer_list<std::string_view> args) {
  if (g_log == nullptr || !g_log->on()) return;
  g_log->Append(db, Encode(args));
}

void LogCommand(int db, std::span<const std::string_view> args) {
  if (g_log == nullptr || !g_log->on() || t_not_logged > 0) return;
  g_log->Append(db, Encode(args));
}

bool Enabled() { return g_log != nullptr && g_log->on(); }

bool RewriteInProgress() { return g_rw.in_progress.load(); }

NotLogged::NotLogged() { ++t_not_logged; }
NotLogged::~NotLogged() { --t_not_logged; }

void NoteDelivered() {
  if (g_log == nullptr || !g_log->on()) return;
  t_appended = std::max(t_appended, g_log->appended());
}

void Cron(ServerState& s) {
  PersistenceInfo& p = s.persistence;
  if (p.bgsave_scheduled.load() && !g_rw.in_progress.load() && !p.bgsave_in_progress.load()) {
    p.bgsave_scheduled.store(false);
    if (Status st = StartBackgroundSave(s); !st.ok()) KEEL_LOG_WARNING("{}", st.message());
  }
  if (!Enabled() || g_rw.in_progress.load() || p.bgsave_in_progress.load()) return;
  bool scheduled = false;
  if (g_rw.scheduled.load()) {
    if (Status st = StartRewrite(s, &scheduled); !st.ok()) KEEL_LOG_WARNING("{}", st.message());
    return;
  }
  // Automatic rewrites, as Redis decides them: the AOF grew by the percentage over its size
  // after the last rewrite (or the load) and is past the minimum size. After a failure, wait.
  int64_t percentage = s.config->IntOption("auto-aof-rewrite-percentage");
  if (percentage <= 0) return;
  if (!g_rw.last_ok.load() && NowUnixMs() - g_rw.last_try_ms.load() < 60000) return;
  uint64_t current = g_rw.base_size.load() + g_log->incr_size();
  uint64_t base = std::max<uint64_t>(g_rw.growth_base.load(), 1);
  if (current < static_cast<uint64_t>(s.config->IntOption("auto-aof-rewrite-min-size"))) return;
  uint64_t growth = current > base ? (current - base) * 100 / base : 0;
  if (growth < static_cast<uint64_t>(percentage)) return;
  KEEL_LOG_NOTICE("Starting automatic rewriting of AOF on {}% growth", growth);
  if (Status st = StartRewrite(s, &scheduled); !st.ok()) KEEL_LOG_WARNING("{}", st.message());
}

void BeginExec() {
  if (g_log != nullptr) ++t_exec_depth;
}

void EndExec() {
  if (g_log == nullptr) return;
  if (--t_exec_depth == 0) g_log->FlushTransaction();
}

void EndExecDiscarding() {
  if (g_log == nullptr) return;
  if (--t_exec_depth == 0) t_tx.clear();
}

bool HoldReplies(std::function<void()> resume) {
  if (g_log == nullptr || !g_log->on()) return false;
  return g_log->HoldReplies(t_appended, resume);
}

uint64_t ThisThreadAppended() { return t_appended; }

uint64_t ReleasedUpTo() {
  if (g_log == nullptr || !g_log->on()) return UINT64_MAX;
  return g_log->ReleasedUpTo();
}

bool HoldRepliesUntil(uint64_t need, std::function<void()> resume) {
  if (g_log == nullptr || !g_log->on()) return false;
  return g_log->HoldReplies(need, resume);
}

uint64_t BufferBytes() {
  if (g_log == nullptr || !g_log->on()) return 0;
  return g_log->buffer_length();
}

std::string WriteError() {
  if (g_log == nullptr || !g_log->on()) return {};
  std::string e = g_log->write_error();
  if (e.empty()) return {};
  return "MISCONF Errors writing to the AOF file: " + e;
}

void CreateLog(ServerState& s) {
  if (g_log != nullptr) return;
  g_log = (g_log_owner = std::make_unique<AofLog>(s)).get();
  AofLog& log = *g_log;
  log.dir = ConfigString(*s.config, "appenddirname");
  log.fname = ConfigString(*s.config, "appendfilename");
  // The observers and hooks are in place before any thread that serves clients starts: they are
  // plain pointers every io thread reads. The log ignores what it hears until it is on.
  s.command_observer = &log;
  s.keyspace->SetChangeObserver(&log);
  log.SetFsync(static_cast<int>(s.config->IntOption("appendfsync")));
  log.SetTimestamps(s.config->IntOption("aof-timestamp-enabled") != 0);
  s.config->SetApplyHook("aof-timestamp-enabled", [](const Config& c) {
    if (g_log != nullptr) g_log->SetTimestamps(c.IntOption("aof-timestamp-enabled") != 0);
    return Status::Ok();
  });
  s.config->SetApplyHook("appendfsync", [](const Config& c) {
    if (g_log != nullptr) g_log->SetFsync(static_cast<int>(c.IntOption("appendfsync")));
    return Status::Ok();
  });
  s.config->SetApplyHook("appendonly", [&s](const Config& c) {
    std::lock_guard<std::mutex> toggle(g_toggle_mu);
    if (!g_started) return Status::Ok();  // the loader applies it (StartAppendOnly)
    bool want = c.IntOption("appendonly") != 0;
    if (want == Enabled()) return Status::Ok();
    if (!want) {
      TurnOff();
      return Status::Ok();
    }
    return TurnOn(s);
  });
}

// Replays the files `m` lists (the base, then the increments) from `dir`.
Status ReplayManifest(Replayer& r, const std::string& dir, const Manifest& m, uint64_t* keys) {
  std::vector<const AofFile*> load;
  if (const AofFile* b = m.base()) load.push_back(b);
  for (const AofFile& f : m.files) {
    if (f.type == 'i') load.push_back(&f);
  }
  for (const AofFile* f : load) {
    std::string p = dir + "/" + f->name;
    struct stat sb {};
    if (stat(p.c_str(), &sb) != 0) {
      return Status::Error("The AOF file " + p + " listed in the manifest doesn't exist");
    }
  }
  for (size_t i = 0; i < load.size(); ++i) {
    if (Status st = LoadOneFile(r, dir + "/" + load[i]->name, i + 1 == load.size(), keys);
        !st.ok()) {
      return st;
    }
  }
  return Status::Ok();
}

Status LoadAppendOnly(ServerState& s) {
  if (g_log == nullptr) {  // a tool that loads without a server (no observers: nothing to log)
    g_log = (g_log_owner = std::make_unique<AofLog>(s)).get();
    g_log->dir = ConfigString(*s.config, "appenddirname");
    g_log->fname = ConfigString(*s.config, "appendfilename");
  }
  AofLog& log = *g_log;
  std::string mpath = log.dir + "/" + ManifestName(log.fname);
  // The replay runs on the server's dispatcher (the start-up load runs once the server exists);
  // tools that load without a server get one of their own.
  std::unique_ptr<Dispatcher> own_dispatcher;
  if (s.dispatcher == nullptr) own_dispatcher = std::make_unique<Dispatcher>(&s);
  Replayer r(s);
  uint64_t keys = 0;
  int64_t start = NowMonotonicUs();
  std::string text;
  if (ReadWholeFile(mpath, &text).ok()) {
    Manifest m;
    if (Status st = ParseManifest(text, mpath, &m); !st.ok()) return st;
    if (Status st = ReplayManifest(r, log.dir, m, &keys); !st.ok()) return st;
    if (const AofFile* b = m.base()) {
      struct stat sb {};
      if (stat((log.dir + "/" + b->name).c_str(), &sb) == 0) g_rw.base_size.store(sb.st_size);
    }
    log.manifest = std::move(m);
  } else if (struct stat sb{}; stat(log.fname.c_str(), &sb) == 0) {
    // Redis 6's single file: load it, then move it into the directory as the base.
    if (Status st = LoadOneFile(r, log.fname, true, &keys); !st.ok()) return st;
    if (mkdir(log.dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Error("Can't create the AOF directory " + log.dir + ": " +
                           std::strerror(errno));
    }
    // Crash-safe: a second name in the directory, then the manifest naming it, then the old
    // name goes. A crash before the manifest leaves the old file to load again.
    std::string moved = log.dir + "/" + log.fname;
    unlink(moved.c_str());
    if (link(log.fname.c_str(), moved.c_str()) != 0) {
      return Status::Error("Can't move " + log.fname + " into " + log.dir + ": " +
                           std::strerror(errno));
    }
    log.manifest.files.push_back(AofFile{log.fname, 1, 'b'});
    if (Status st = PersistManifest(log.dir, ManifestName(log.fname), log.manifest); !st.ok()) {
      return st;
    }
    unlink(log.fname.c_str());
    g_rw.base_size.store(sb.st_size);
    KEEL_LOG_NOTICE("Successfully migrated an old-style AOF into the AOF directory {}", log.dir);
  } else {
    KEEL_LOG_NOTICE("No AOF found in {}: starting empty (appendonly yes reads no RDB file)",
                    log.dir);
    return Status::Ok();
  }
  if (r.client.in_multi) s.dispatcher->DiscardTransaction(r.client);
  s.keyspace->SubtractDirty(s.keyspace->dirty());  // replaying is not changing, as in Redis
  s.persistence.last_load_keys_loaded.store(keys);
  KEEL_LOG_NOTICE("DB loaded from append only file: {:.3f} seconds",
                  static_cast<double>(NowMonotonicUs() - start) / 1e6);
  return Status::Ok();
}

Status ReloadAppendOnly(ServerState& s) {
  if (g_log == nullptr || !g_log->on()) {
    return Status::Error("ERR The AOF is off (appendonly no): there is no AOF to load");
  }
  AofLog& log = *g_log;
  Keyspace& ks = *s.keyspace;
  PersistenceInfo& p = s.persistence;
  // Other clients get -LOADING until the replay is done (as while Redis loads), and nothing of
  // the reload itself is logged: the emptying and the replayed commands are in the file already.
  p.loading.store(true);
  aof::NotLogged not_logged;
  {
    std::vector<ShardGuard> locks = LockAllShards(ks);
    log.WaitWritten();
    for (int db = 0; db < ks.databases(); ++db) {
      ks.ChangedDb(db, -1, ChangeKind::kFlush, 0);
      ks.FreeDetached(ks.DetachAll(db), /*async=*/false);
    }
  }
  Manifest m;
  {
    std::lock_guard<std::mutex> mlock(log.manifest_mu);
    m = log.manifest;
  }
  Replayer r(s);
  uint64_t keys = 0;
  Status st = ReplayManifest(r, log.dir, m, &keys);
  if (r.client.in_multi) s.dispatcher->DiscardTransaction(r.client);
  ks.SubtractDirty(ks.dirty());  // replaying is not changing, as in Redis
  p.loading.store(false);
  if (!st.ok()) return st;
  p.last_load_keys_loaded.store(keys);
  KEEL_LOG_NOTICE("Append Only File loaded by DEBUG LOADAOF");
  return Status::Ok();
}

void SetFlushSleepUs(int64_t us) { g_flush_sleep_us.store(std::max<int64_t>(us, 0)); }

Status StartAppendOnly(ServerState& s) {
  CreateLog(s);
  AofLog& log = *g_log;
  std::lock_guard<std::mutex> toggle(g_toggle_mu);
  g_started = true;
  if (s.config->IntOption("appendonly") == 0) return Status::Ok();
  std::lock_guard<std::mutex> mlock(log.manifest_mu);
  if (mkdir(log.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error("Can't create the AOF directory " + log.dir + ": " + std::strerror(errno));
  }
  bool changed = false;
  if (log.manifest.base() == nullptr && log.manifest.files.empty()) {
    std::string base = BaseName(log.fname, 1, true);
    std::vector<ShardGuard> locks = LockAllShards(*s.keyspace);
    if (Status st = WriteBaseLocked(s, log.dir + "/" + base); !st.ok()) return st;
    log.manifest.files.push_back(AofFile{base, 1, 'b'});
    struct stat sb {};
    if (stat((log.dir + "/" + base).c_str(), &sb) == 0) g_rw.base_size.store(sb.st_size);
    KEEL_LOG_NOTICE("Creating AOF base file {} on server start", base);
    changed = true;
  }
  int64_t incr_seq = log.manifest.LastSeq('i');
  if (incr_seq == 0) {
    incr_seq = 1;
    log.manifest.files.push_back(AofFile{IncrName(log.fname, 1), 1, 'i'});
    KEEL_LOG_NOTICE("Creating AOF incr file {} on server start", IncrName(log.fname, 1));
    changed = true;
  }
  std::string incr;
  for (const AofFile& f : log.manifest.files) {
    if (f.type == 'i') incr = f.name;
  }
  if (Status st = log.Open(log.dir + "/" + incr); !st.ok()) return st;
  g_rw.growth_base.store(g_rw.base_size.load() + log.incr_size());
  if (changed) {
    if (Status st = PersistManifest(log.dir, ManifestName(log.fname), log.manifest); !st.ok()) {
      return st;
    }
  }
  return Status::Ok();
}

namespace {

Status TurnOn(ServerState& s) {
  AofLog& log = *g_log;
  // Shard locks before the manifest's mutex, as a rewrite takes them.
  std::vector<ShardGuard> locks = LockAllShards(*s.keyspace);
  std::lock_guard<std::mutex> mlock(log.manifest_mu);
  if (mkdir(log.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error("Can't create the AOF directory: " + std::string(std::strerror(errno)));
  }
  // A base of the data as it is now, written with every shard locked (a pause like SAVE's), then
  // a fresh incr file that gets every write from the same instant.
  Manifest m;
  std::string mpath = log.dir + "/" + ManifestName(log.fname);
  std::string text;
  if (ReadWholeFile(mpath, &text).ok() && ParseManifest(text, mpath, &m).ok()) {
    for (AofFile& f : m.files) f.type = 'h';
  }
  int64_t base_seq = m.LastSeq('b') + 1, incr_seq = m.LastSeq('i') + 1;
  for (const AofFile& f : m.files) incr_seq = std::max(incr_seq, f.seq + 1);
  std::string base = BaseName(log.fname, base_seq, true), incr = IncrName(log.fname, incr_seq);
  if (Status st = WriteBaseLocked(s, log.dir + "/" + base); !st.ok()) return st;
  m.files.insert(m.files.begin(), AofFile{base, base_seq, 'b'});
  m.files.push_back(AofFile{incr, incr_seq, 'i'});
  RemoveHistory(&m, log.dir);
  if (Status st = PersistManifest(log.dir, ManifestName(log.fname), m); !st.ok()) return st;
  log.manifest = std::move(m);
  truncate((log.dir + "/" + incr).c_str(), 0);
  KEEL_LOG_NOTICE("AOF enabled at run time: base {} and incr {} written", base, incr);
  return log.Open(log.dir + "/" + incr);
}

void TurnOff() {
  if (g_rw.thread.joinable() && !g_rw.in_progress.load()) g_rw.thread.join();
  g_log->Stop();
}

}  // namespace

void StopAppendOnly() {
  if (g_rw.thread.joinable()) g_rw.thread.join();
  if (g_log != nullptr) g_log->Stop();
}

std::vector<std::pair<std::string, std::string>> InfoFields(bool tail) {
  std::vector<std::pair<std::string, std::string>> f;
  auto add = [&f](std::string name, auto v) {
    if constexpr (std::is_convertible_v<decltype(v), std::string>) {
      f.emplace_back(std::move(name), std::string(v));
    } else {
      f.emplace_back(std::move(name), std::to_string(v));
    }
  };
  bool on = Enabled();
  bool rw = g_rw.in_progress.load();
  if (!tail) {
    add("aof_enabled", on ? 1 : 0);
    add("aof_rewrite_in_progress", rw ? 1 : 0);
    add("aof_rewrite_scheduled", g_rw.scheduled.load() ? 1 : 0);
    add("aof_last_rewrite_time_sec", g_rw.last_time_sec.load());
    add("aof_current_rewrite_time_sec", rw ? (NowUnixMs() - g_rw.start_ms.load()) / 1000 : -1);
    add("aof_last_bgrewrite_status", g_rw.last_ok.load() ? "ok" : "err");
    add("aof_rewrites", g_rw.rewrites.load());
    add("aof_rewrites_consecutive_failures", g_rw.consecutive_failures.load());
    add("aof_last_write_status", WriteError().empty() ? "ok" : "err");
    add("aof_last_cow_size", g_rw.last_cow.load());
    return f;
  }
  if (!on) return f;
  add("aof_current_size", g_rw.base_size.load() + g_log->incr_size());
  add("aof_base_size", g_rw.base_size.load());
  add("aof_pending_rewrite", g_rw.scheduled.load() ? 1 : 0);
  add("aof_buffer_length", g_log->buffer_length());
  add("aof_pending_bio_fsync", 0);
  add("aof_delayed_fsync", g_log->delayed_fsync());
  return f;
}

}  // namespace keel::aof

namespace keel {
void RegisterAofFamily(CommandRegistry* r) {
  // kSelf: inside an EXEC the batch then holds every shard, as for BGSAVE.
  r->Register("bgrewriteaof", aof::CmdBgrewriteaof, LockMode::kSelf);
}
}  // namespace keel
