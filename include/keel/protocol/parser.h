#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace keel {

// Limits a connection's parser enforces, as Redis does. They can change at run time (CONFIG SET
// proto-max-bulk-len), so the connection refreshes them before each parse.
struct ParserLimits {
  int64_t max_bulk_len = 512ll * 1024 * 1024;  // proto-max-bulk-len
  // Redis 7.0 accepts up to INT_MAX items per command (checked against 7.0.15).
  int64_t max_multibulk_len = 2147483647;
  size_t max_inline_len = 64 * 1024;  // an inline line, or a '*'/'$' header line
  // Before AUTH, when a password is required, Redis accepts at most 10 items of 16 KiB.
  bool authenticated = true;
  // A bulk of at least this many bytes whose payload is not all in the data yet is handed to
  // the caller to receive elsewhere (Result::kBigBulk); 0 never does. See kBigBulkThreshold.
  size_t big_bulk = 0;
};

// The bulk size from which the connection receives a payload straight into a string of its own
// (as Redis does from PROTO_MBULK_BIG_ARG): past it, a copy through the read buffer costs more
// than the allocation saves. Above kMaxInlineString (keel/keyspace/entry.h), so such a string is
// exactly what a string entry keeps on the heap.
inline constexpr size_t kBigBulkThreshold = 32 * 1024;

// RespParser is an incremental, I/O-free RESP2 request parser (multibulk and inline commands).
//
// Lifetime rule: Parse() hands out arguments as string_views into the caller's buffer. They stay
// valid until the caller discards or moves the bytes that Parse() reported consumed; the
// connection executes each command before it compacts its buffer. Inline commands are unescaped
// in place (an unescaped argument is never longer than its quoted form), which is why the buffer
// is mutable.
//
// The parser remembers its progress through a partially received command, so a large value that
// arrives over many reads is scanned once, not once per read. Offsets it keeps are relative to the
// start of the unconsumed data, so the caller may move that data (compaction) between calls.
class RespParser {
 public:
  enum class Result {
    kCommand,   // *args holds one complete command; *consumed says how many bytes it used.
    kNeedMore,  // The data holds no complete command yet; call again with more.
    kError,     // Protocol error: reply error() and close the connection after the reply.
    // Only with ParserLimits::big_bulk set: the next argument is a bulk of big_bulk_len() bytes
    // (at least big_bulk) and the data holds less than its payload and CRLF. Its header is
    // parsed: the payload starts at big_bulk_offset() from the data start. *consumed counts
    // the empty commands skipped before the command (as for kNeedMore). The caller receives the
    // payload and its CRLF elsewhere, drops the bytes from big_bulk_offset() on from its buffer,
    // and calls BigBulkReceived; or calls Reset to parse the command again later.
    kBigBulk,
  };

  // Parses at most one command from data[0, len). Empty commands (blank inline lines, "*0",
  // "*-1") are consumed silently and parsing continues with the next one.
  Result Parse(char* data, size_t len, const ParserLimits& limits, size_t* consumed,
               std::vector<std::string_view>* args);

  // The exact error text (without '-' and CRLF) after Parse returned kError.
  std::string_view error() const { return error_; }

  // Forgets a partially parsed command.
  void Reset();

  // After kBigBulk: the payload's length, and its offset relative to the data start of the
  // Parse call after skipping `consumed` bytes (the command's start).
  size_t big_bulk_len() const { return static_cast<size_t>(pending_bulk_); }
  size_t big_bulk_offset() const { return pos_; }
  // After kBigBulk: the payload was received elsewhere as `value` (big_bulk_len() bytes, without
  // the CRLF), which stays valid and in place until the command has run. The data passed to the
  // next Parse must continue from big_bulk_offset() with the bytes that followed the CRLF; the
  // command's other arguments are still views into the data.
  void BigBulkReceived(std::string_view value);

 private:
  Result ParseMultibulk(char* data, size_t len, const ParserLimits& limits, size_t* consumed,
                        std::vector<std::string_view>* args);
  Result ParseInline(char* data, size_t len, const ParserLimits& limits, size_t* consumed,
                     std::vector<std::string_view>* args);
  Result Fail(std::string_view message);

  // State of a multibulk command in progress (all offsets relative to the data start).
  bool in_multibulk_ = false;
  bool has_external_ = false;  // a span of spans_ has kExternal (packs with in_multibulk_)
  int64_t expected_args_ = 0;
  size_t pos_ = 0;             // where to continue scanning
  int64_t pending_bulk_ = -1;  // length of the bulk whose header was read, -1 if none
  // An argument: `length` bytes at `offset` in the data, or, with kExternal set in offset, a
  // payload received elsewhere (BigBulkReceived) whose address is the rest of offset (user-space
  // addresses leave the top bit clear).
  struct Span {
    size_t offset;
    size_t length;
  };
  static constexpr size_t kExternal = size_t{1} << 63;
  std::vector<Span> spans_;
  std::string_view error_;  // a constant, or one of ExpectedDollar's texts (parser.cc)
};

// Splits a line into arguments with redis-cli/redis.conf quoting rules (double quotes with
// \n \r \t \b \a \\ \" \xHH escapes, single quotes with \' only). Returns false on unbalanced
// quotes or a closing quote not followed by a space. Unescapes in place; the views point into
// `line`.
bool SplitArgsInPlace(char* line, size_t len, std::vector<std::string_view>* args);

}  // namespace keel
