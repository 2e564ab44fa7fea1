#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

// Parses a whole string as a signed 64-bit integer with Redis's strict rules: optional '-',
// no '+', no leading zeros (except "0"), no spaces, no overflow. Empty input fails.
std::optional<int64_t> ParseInt64(std::string_view s);

// Parses a long double the way Redis's strtold-based helpers do: the whole string must be
// consumed, no leading space, and NaN is refused. Infinity is accepted ("inf", "-inf").
std::optional<long double> ParseLongDouble(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// Formats a long double the way Redis stores INCRBYFLOAT/HINCRBYFLOAT results (ld2string's
// human mode): fixed notation with 17 decimals, trailing zeros and a bare '.' removed, "-0"
// written as "0".
std::string FormatIncrFloat(long double v);

// `s` without the leading and trailing bytes found in `chars` (Redis's sdstrim), as config and
// ACL file lines are read.
std::string_view Trim(std::string_view s, std::string_view chars);

// ASCII case-insensitive equality, used for command names and option keywords.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
void ToLowerInPlace(std::string* s);

// Appends the decimal form of v to *out without allocating a temporary.
void AppendInt(std::string* out, int64_t v);
// Writes the decimal digits of v at p (room for 20 needed); returns the end.
char* WriteUint(char* p, uint64_t v);

}  // namespace keel
