#pragma once

// The writers/readers harness of the atomicity tests (transactions_test.cc, scripting_test.cc,
// script_locking_test.cc): writer threads change keys that must move together (in one
// transaction or one script), reader threads read them together until the writers are done. A
// read that sees them differ saw the middle of a transaction or a script: a torn view.

#include <atomic>
#include <charconv>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "integration/fixture.h"

namespace keel::test {

// An integer or integer-string reply as a number; nil (a key not yet written) as 0; any other
// reply as -1.
inline int64_t ReplyInt(const redisReply* r) {
  if (r == nullptr || r->type == REDIS_REPLY_NIL) return 0;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  int64_t v = -1;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
    std::from_chars(r->str, r->str + r->len, v);
  }
  return v;
}

// What one read saw.
enum class ReadOutcome { kWhole, kTorn, kError };

// A read whose reply must be an array with elements `first` and `second` equal.
inline ReadOutcome PairEqual(const RedisReplyPtr& reply, size_t first = 0, size_t second = 1) {
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements <= second) {
    return ReadOutcome::kError;
  }
  return ReplyInt(reply->element[first]) == ReplyInt(reply->element[second]) ? ReadOutcome::kWhole
                                                                             : ReadOutcome::kTorn;
}

// One run of writers and readers, each thread on its own connection. Add every writer before
// the readers, then Join and check errors() and torn() (both must be 0).
class AtomicityRun {
 public:
  using Connect = std::function<RedisContextPtr()>;
  // One round of a writer; false when a reply was not the expected one.
  using WriteFn = std::function<bool(redisContext*)>;
  using ReadFn = std::function<ReadOutcome(redisContext*)>;

  explicit AtomicityRun(Connect connect) : connect_(std::move(connect)) {}
  AtomicityRun(const AtomicityRun&) = delete;
  AtomicityRun& operator=(const AtomicityRun&) = delete;
  ~AtomicityRun() { Join(); }

  // A writer thread: `rounds` calls of `write`.
  void AddWriter(int rounds, WriteFn write) {
    ++writers_left_;
    writers_.emplace_back([this, rounds, write = std::move(write)] {
      auto c = connect_();
      for (int r = 0; c && r < rounds; ++r) {
        if (!write(c.get())) ++errors_;
      }
      if (!c) ++errors_;
      --writers_left_;
    });
  }

  // A reader thread: runs `setup` once (when given; false is an error), then calls `read`
  // until every writer is done, and at least 10 times; stops at the first error.
  void AddReader(ReadFn read, WriteFn setup = nullptr) {
    readers_.emplace_back([this, read = std::move(read), setup = std::move(setup)] {
      auto c = connect_();
      if (!c || (setup && !setup(c.get()))) return ++errors_, void();
      for (int reads = 0; writers_left_.load() > 0 || reads < 10; ++reads) {
        ReadOutcome outcome = read(c.get());
        if (outcome == ReadOutcome::kError) return ++errors_, void();
        if (outcome == ReadOutcome::kTorn) ++torn_;
      }
    });
  }

  // Waits for the writers, then the readers.
  void Join() {
    for (auto& t : writers_) {
      if (t.joinable()) t.join();
    }
    for (auto& t : readers_) {
      if (t.joinable()) t.join();
    }
  }

  int errors() const { return errors_.load(); }
  int torn() const { return torn_.load(); }

 private:
  Connect connect_;
  std::atomic<int> writers_left_{0};
  std::atomic<int> errors_{0};
  std::atomic<int> torn_{0};
  std::vector<std::thread> writers_;
  std::vector<std::thread> readers_;
};

}  // namespace keel::test
