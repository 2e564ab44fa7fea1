#pragma once

#include <string_view>

// Every error string Keel sends, defined once, byte for byte as Redis 7.0 writes it (without the
// leading '-' and trailing CRLF, which ReplyBuilder::Error adds). Errors that embed arguments are
// built by the helpers in commands/ from the prefixes here.
namespace keel::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
// SRANDMEMBER / HRANDFIELD with a count that cannot be negated.
inline constexpr std::string_view kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and "
    "9223372036854775807";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kAuthNotSet =
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kOutOfRange = "ERR index out of range";
inline constexpr std::string_view kInvalidExpire = "ERR invalid expire time in '{}' command";

// Protocol errors: the connection is closed after the reply.
inline constexpr std::string_view kProtoInvalidMultibulk =
    "ERR Protocol error: invalid multibulk length";
inline constexpr std::string_view kProtoInvalidBulk = "ERR Protocol error: invalid bulk length";
inline constexpr std::string_view kProtoUnbalancedQuotes =
    "ERR Protocol error: unbalanced quotes in request";
inline constexpr std::string_view kProtoTooBigInline = "ERR Protocol error: too big inline request";
inline constexpr std::string_view kProtoTooBigMbulk =
    "ERR Protocol error: too big mbulk count string";
inline constexpr std::string_view kProtoTooBigBulk =
    "ERR Protocol error: too big bulk count string";
inline constexpr std::string_view kProtoUnauthMultibulk =
    "ERR Protocol error: unauthenticated multibulk length";
inline constexpr std::string_view kProtoUnauthBulk =
    "ERR Protocol error: unauthenticated bulk length";

}  // namespace keel::errors
