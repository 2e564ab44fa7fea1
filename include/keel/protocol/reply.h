#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace keel {

// ReplyBuilder appends replies to a caller-owned std::string (the connection's output buffer),
// so a pipelined batch of commands produces one contiguous buffer and one write. It is the only
// writer of RESP bytes: replies, served blocking pops, pub/sub messages, MONITOR lines and the
// connection's own errors all go through it (no RESP literal outside src/protocol; CI checks).
// It never flushes or does I/O. Not thread-safe: it belongs to the connection's io thread, or
// to whoever builds a message for one receiving client.
//
// It carries the receiving client's protocol version (kResp2 or kResp3, chosen by HELLO); the
// typed methods write each protocol's form where they differ (nulls, doubles, booleans,
// verbatim strings, map/set/push headers), so a handler says what it replies and not how.
class ReplyBuilder {
 public:
  static constexpr int kResp2 = 2;
  static constexpr int kResp3 = 3;

  explicit ReplyBuilder(std::string* out, int protocol = kResp2)
      : out_(out), resp3_(protocol == kResp3) {}

  int protocol() const { return resp3_ ? kResp3 : kResp2; }
  // Switches the protocol of the bytes written from now on (HELLO answers in the version it
  // has just selected).
  void SetProtocol(int protocol) { resp3_ = protocol == kResp3; }

  void Ok() { out_->append("+OK\r\n"); }
  // "+<s>\r\n". REQUIRES: s contains no CR or LF.
  void SimpleString(std::string_view s);
  // "-<msg>\r\n", with any CR or LF in msg written as a space (as Redis does, so an error that
  // quotes client bytes stays one line). `msg` already carries its prefix ("ERR ...",
  // "WRONGTYPE ..."). Also records
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
  // A double formatted the way Redis formats a double reply (%.17g): a bulk string in RESP2,
  // ",<v>\r\n" in RESP3.
  void Double(double v);
  // A double already formatted as text (GEOPOS's coordinates): a bulk string in RESP2,
  // ",<text>\r\n" in RESP3.
  void DoubleText(std::string_view text);
  // Text meant for people (INFO, CLIENT LIST, MEMORY DOCTOR): a bulk string in RESP2, a verbatim
  // string of format "txt" ("=<len>\r\ntxt:<text>\r\n") in RESP3.
  void Verbatim(std::string_view text);
  // A boolean: the integer 1 or 0 in RESP2, "#t"/"#f" in RESP3.
  void Bool(bool v);
  // The null bulk string and null array of RESP2; both are "_\r\n" in RESP3.
  void NullBulk() {
    if (__builtin_expect(resp3_, 0)) {
      out_->append("_\r\n");
    } else {
      out_->append("$-1\r\n");
    }
  }
  void NullArray() {
    if (__builtin_expect(resp3_, 0)) {
      out_->append("_\r\n");
    } else {
      out_->append("*-1\r\n");
    }
  }
  void ArrayHeader(size_t n);
  // An array of status lines: the reply of every HELP subcommand (CONFIG HELP, CLIENT HELP...),
  // the same in both protocols. REQUIRES: no line contains CR or LF.
  void StatusLines(std::span<const std::string_view> lines);
  void EmptyArray() { out_->append("*0\r\n"); }
  // The header of an out-of-band message of n elements (pub/sub messages): an array in RESP2,
  // a push (">n") in RESP3.
  void PushHeader(size_t n);
  // Map and set headers: arrays of 2*n and n elements in RESP2, "%n" and "~n" in RESP3.
  void MapHeader(size_t n);
  void SetHeader(size_t n);
  // RESP3's big number ("(<digits>"): a bulk string in RESP2.
  void BigNumber(std::string_view digits);
  // RESP3's attribute header ("|n", n key/value pairs before the reply they describe). RESP2 has
  // no attributes: callers send one only when protocol() is kResp3.
  void AttributeHeader(size_t n);

  // The whole of a one-line reply as a string, for the senders that are not a command's reply
  // (the acceptor's max-clients error, MONITOR lines).
  static std::string ErrorLine(std::string_view msg, int protocol = kResp2);
  static std::string SimpleStringLine(std::string_view s, int protocol = kResp2);

  // Deferred array length for replies whose size is only known after producing them.
  // Returns a token; EndDeferredArray patches the header. Deferred headers may nest but must be
  // closed in reverse order.
  size_t BeginDeferredArray();
  void EndDeferredArray(size_t token, size_t n);
  // The same for a set (an array in RESP2) and a map of n pairs (an array of 2n in RESP2).
  size_t BeginDeferredSet() { return BeginDeferredArray(); }
  void EndDeferredSet(size_t token, size_t n);
  size_t BeginDeferredMap() { return BeginDeferredArray(); }
  void EndDeferredMap(size_t token, size_t n);

  std::string* buffer() { return out_; }
  size_t size() const { return out_->size(); }
  // Whether an error reply was written through this builder, and where the first one starts
  // in the buffer (its '-').
  bool failed() const { return error_offset_ != kNoError; }
  size_t error_offset() const { return error_offset_; }

 private:
  static constexpr size_t kNoError = ~size_t{0};
  std::string* out_;
  bool resp3_;
  size_t error_offset_ = kNoError;

  void PatchDeferred(size_t token, char kind, size_t n);
};

// ReplyReader walks replies that ReplyBuilder wrote (a script's redis.call results), one element
// at a time: an aggregate's header, then its elements with further Next calls. It trusts its
// input (only Keel's own replies are read), so it does no validation beyond staying in bounds.
class ReplyReader {
 public:
  struct Item {
    char type = 0;          // the RESP type byte: + - : $ * _ # , ( = % ~ > |
    std::string_view line;  // the header line after the type byte (a status, a length, ...)
    std::string_view data;  // a bulk or verbatim string's payload
    int64_t count = -1;     // $ = * % ~ > |: the length (-1 for a null bulk or array)
  };
  explicit ReplyReader(std::string_view in) : in_(in) {}
  // Reads the next element; false at the end of the input.
  bool Next(Item* item);

 private:
  std::string_view in_;
};

}  // namespace keel
