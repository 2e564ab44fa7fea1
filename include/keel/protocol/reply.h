#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

// ReplyBuilder appends RESP2 replies to a caller-owned std::string (the connection's output
// buffer), so a pipelined batch of commands produces one contiguous buffer and one write.
// It never flushes or does I/O. Not thread-safe: it belongs to the connection's io thread.
class ReplyBuilder {
 public:
  explicit ReplyBuilder(std::string* out) : out_(out) {}

  void Ok() { out_->append("+OK\r\n"); }
  // "+<s>\r\n". REQUIRES: s contains no CR or LF.
  void SimpleString(std::string_view s);
  // "-<msg>\r\n". `msg` already carries its prefix ("ERR ...", "WRONGTYPE ..."). Also records
  // that this builder's command failed (failed(), error_offset()): the dispatcher reads the
  // command's outcome from there, never from the reply bytes.
  void Error(std::string_view msg);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  // A run of bulk replies written straight into the buffer, for replies of many short elements:
  // add up BulkSize of each, Extend by the total, then WriteBulk each at the returned pointer.
  static size_t BulkSize(size_t len);
  static char* WriteBulk(char* p, std::string_view s);
  char* Extend(size_t n);
  // A double formatted the way Redis formats a bulk double reply (%.17g).
  void Double(double v);
  void NullBulk() { out_->append("$-1\r\n"); }
  void NullArray() { out_->append("*-1\r\n"); }
  void ArrayHeader(size_t n);
  void EmptyArray() { out_->append("*0\r\n"); }
  // The header of an out-of-band message of n elements (pub/sub messages): a RESP2 array until
  // RESP3's push type exists.
  void PushHeader(size_t n) { ArrayHeader(n); }
  // Map and set headers are RESP2 arrays (2*n and n elements) until RESP3 exists.
  void MapHeader(size_t n) { ArrayHeader(2 * n); }
  void SetHeader(size_t n) { ArrayHeader(n); }

  // Deferred array length for replies whose size is only known after producing them.
  // Returns a token; EndDeferredArray patches the header. Deferred headers may nest but must be
  // closed in reverse order.
  size_t BeginDeferredArray();
  void EndDeferredArray(size_t token, size_t n);

  std::string* buffer() { return out_; }
  size_t size() const { return out_->size(); }
  // Whether an error reply was written through this builder, and where the first one starts
  // in the buffer (its '-').
  bool failed() const { return error_offset_ != kNoError; }
  size_t error_offset() const { return error_offset_; }

 private:
  static constexpr size_t kNoError = ~size_t{0};
  std::string* out_;
  size_t error_offset_ = kNoError;
};

}  // namespace keel
