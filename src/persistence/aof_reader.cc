// The AOF's command reader (keel/persistence/aof_reader.h).
#include "keel/persistence/aof_reader.h"

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "keel/common/strings.h"
#include "keel/protocol/parser.h"

namespace keel::aof {

Status ScanCommands(char* data, size_t size, size_t pos,
                    const std::function<Status(std::span<const std::string_view>)>& command,
                    CommandScan* scan) {
  RespParser parser;
  ParserLimits limits;
  limits.max_bulk_len = LLONG_MAX;
  std::vector<std::string_view> args;
  *scan = CommandScan{};
  scan->valid_end = pos;
  size_t multi_start = SIZE_MAX;  // where an open MULTI began
  bool truncated = false;
  while (pos < size) {
    if (data[pos] == '#') {  // an annotation (#TS:...) line
      const void* eol = std::memchr(data + pos, '\n', size - pos);
      if (eol == nullptr) {
        truncated = true;
        break;
      }
      pos = static_cast<size_t>(static_cast<const char*>(eol) - data) + 1;
      if (multi_start == SIZE_MAX) scan->valid_end = pos;
      continue;
    }
    size_t consumed = 0;
    args.clear();
    parser.Reset();
    RespParser::Result res = data[pos] != '*'
                                 ? RespParser::Result::kError
                                 : parser.Parse(data + pos, size - pos, limits, &consumed, &args);
    if (res == RespParser::Result::kNeedMore) {
      truncated = true;
      break;
    }
    if (res != RespParser::Result::kCommand || args.empty()) {
      scan->end = CommandScan::End::kBadFormat;
      scan->bad_offset = pos;
      return Status::Ok();
    }
    if (EqualsIgnoreCase(args[0], "multi")) multi_start = pos;
    bool exec = EqualsIgnoreCase(args[0], "exec");
    if (Status st = command(args); !st.ok()) {
      scan->end = CommandScan::End::kStopped;
      return st;
    }
    pos += consumed;
    ++scan->commands;
    if (exec) multi_start = SIZE_MAX;
    if (multi_start == SIZE_MAX) scan->valid_end = pos;
  }
  // A MULTI without its EXEC at the end of the file counts as a truncation too.
  if (truncated || multi_start != SIZE_MAX) scan->end = CommandScan::End::kTruncated;
  return Status::Ok();
}

}  // namespace keel::aof
