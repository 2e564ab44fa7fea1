// libFuzzer target: the ACL rule parser, through ACL file lines ("user name rule ...").
//
// The input is cut into lines; each line is parsed as an ACL file line. Whatever parses must
// describe itself (the ACL LIST / ACL SAVE text: greedy categories, single commands, first
// arguments, selectors) in a form that loads back as the same user: a difference would make
// ACL SAVE + ACL LOAD change a user's permissions. The input's words after "user x" are also
// tried as one line, so rules seen in other seeds mix.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/commands/acl.h"
#include "keel/common/logging.h"

namespace {

void Check(std::string_view line) {
  std::string description;
  bool round_trip_ok = true;
  std::string err = keel::AclParseFileLine(line, &description, &round_trip_ok);
  if (err.empty() && !round_trip_ok) {
    std::fprintf(stderr, "ACL line does not round-trip:\n  %.*s\n  -> %s\n",
                 static_cast<int>(line.size()), line.data(), description.c_str());
    std::abort();
  }
}

}  // namespace

// Rules like "+get|x" log Redis's deprecation warning, a line per rule: hundreds of bytes of
// stderr per input, which was most of the target's time.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  keel::SetLogLevel(keel::LogLevel::kNothing);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string joined = "user x";
  while (!input.empty()) {
    size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input.remove_prefix(eol == std::string_view::npos ? input.size() : eol + 1);
    Check(line);
    if (line.substr(0, 5) == "user ") {
      size_t name_end = line.find(' ', 5);
      if (name_end != std::string_view::npos) joined += std::string(line.substr(name_end));
    }
  }
  Check(joined);
  return 0;
}
