#pragma once

// RESP framing for tests: find where one reply ends in a byte buffer, parse it into a tree, and
// print bytes readably. Everything here works on complete in-memory buffers and does no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel::test {

enum class FrameStatus { kComplete, kIncomplete, kMalformed };

// Looks for one complete reply starting at buf[0]. On kComplete, *length is its size in bytes.
// Nested aggregates are handled without recursion, so a hostile depth cannot overflow the stack.
// Understands RESP2 (+ - : $ *) and the RESP3 types, so a server answering in RESP3 by mistake is
// still framed correctly and shows up as a readable mismatch.
FrameStatus FindReplyEnd(std::string_view buf, size_t* length);

// One parsed reply. `raw` always holds the exact bytes the reply occupied.
struct RespValue {
  char type = 0;                    // the RESP type byte: '+', '-', ':', '$', '*', ...
  bool is_null = false;             // $-1 and *-1 (and RESP3 '_')
  std::string text;                 // payload of simple strings, errors, integers and bulk strings
  std::vector<RespValue> elements;  // for aggregates
  std::string raw;
};

// REQUIRES: FindReplyEnd(bytes) == kComplete with length == bytes.size().
// Returns false if the bytes are not exactly one well-formed reply.
bool ParseReply(std::string_view bytes, RespValue* out);

// "$" / "$nil" / "*" / "-": the reply's type and null-ness, nothing below the top.
std::string ReplyType(const RespValue& value);
// Type, aggregate length and element shapes, recursively: e.g. "*2[$,:]".
std::string ReplyShape(const RespValue& value);

// Encodes a command as a RESP multibulk, the way every client library sends it.
std::string EncodeCommand(const std::vector<std::string>& args);

// Printable form of arbitrary bytes: \r \n \t \" \\ and \xHH for everything non-printable.
// At most max_bytes of input are shown, followed by "...(N bytes)" when cut.
std::string EscapeBytes(std::string_view bytes, size_t max_bytes = 2000);

// Splits a line the way redis-cli does: whitespace-separated words, "double quotes" with
// \xHH \n \r \t \b \a \" \\ escapes, and 'single quotes' with only \' as an escape. A closing
// quote must be followed by whitespace or the end of the line.
struct Token {
  std::string text;
  bool quoted = false;
};
bool SplitArgs(std::string_view line, std::vector<Token>* out, std::string* error);

}  // namespace keel::test
