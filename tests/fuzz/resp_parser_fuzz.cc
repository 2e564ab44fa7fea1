// libFuzzer target: the RESP request parser (multibulk and inline) and SplitArgsInPlace.
//
// The input is fed twice: whole, and in chunks whose sizes come from the input's own bytes, the
// way a connection receives it (the consumed prefix dropped after each command, the parser
// resumed on a partial one). Besides the sanitizers' checks it asserts the parser's contract:
// consumed bytes stay within the data, arguments point into it, a command has arguments, and
// both feedings yield the same commands and the same error, unless a "too big" limit tripped
// (which depends on how much had arrived, in Redis as in Keel).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/protocol/parser.h"

namespace {

using keel::ParserLimits;
using keel::RespParser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

Outcome Feed(std::string_view input, const ParserLimits& limits, const uint8_t* sizes,
             size_t nsizes) {
  Outcome out;
  RespParser parser;
  std::string buf;
  std::vector<std::string_view> args;
  size_t offset = 0;
  size_t turn = 0;
  while (offset < input.size()) {
    size_t chunk = input.size();
    if (nsizes > 0) chunk = 1 + sizes[turn++ % nsizes] % 64;
    chunk = std::min(chunk, input.size() - offset);
    buf.append(input.substr(offset, chunk));
    offset += chunk;
    for (;;) {
      size_t consumed = 0;
      RespParser::Result r = parser.Parse(buf.data(), buf.size(), limits, &consumed, &args);
      Check(consumed <= buf.size());
      if (r == RespParser::Result::kError) {
        out.error = std::string(parser.error());
        return out;
      }
      if (r == RespParser::Result::kCommand) {
        Check(!args.empty());
        std::vector<std::string> copy;
        for (std::string_view a : args) {
          Check(a.data() >= buf.data() && a.data() + a.size() <= buf.data() + consumed);
          copy.emplace_back(a);
        }
        out.commands.push_back(std::move(copy));
      }
      buf.erase(0, consumed);
      if (r == RespParser::Result::kNeedMore) break;
    }
  }
  return out;
}

bool TooBig(const Outcome& o) { return o.error.find("too big") != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the limits; the rest is the stream.
  uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  ParserLimits limits;
  limits.authenticated = (mode & 1) == 0;
  if (mode & 2) limits.max_bulk_len = 1 + (mode >> 2);
  if (mode & 4) limits.max_inline_len = 64 + (mode >> 3);

  Outcome whole = Feed(input, limits, nullptr, 0);
  Outcome chunked = Feed(input, limits, data, std::min<size_t>(size, 16));
  if (!TooBig(whole) && !TooBig(chunked)) {
    Check(whole.commands == chunked.commands);
    Check(whole.error == chunked.error);
  }

  // SplitArgsInPlace on the stream's first line (config files and inline commands use it).
  std::string line(input.substr(0, input.find('\n')));
  std::vector<std::string_view> words;
  if (keel::SplitArgsInPlace(line.data(), line.size(), &words)) {
    for (std::string_view w : words) {
      Check(w.data() >= line.data() && w.data() + w.size() <= line.data() + line.size());
    }
  }
  return 0;
}
