// libFuzzer target: the readers of a script's text that run before any Lua does: the EVAL
// shebang ("#!lua flags=..."), the function library header ("#!lua name=<lib>") and the token
// reader that proves a script touches only its declared keys (ScriptStaysInDeclaredKeys, which
// reads the whole body: strings, long brackets, comments, numbers). The input is the script.
//
// Checks besides crashes and leaks: a library header that is accepted names a library of
// letters, digits and underscores; the key proof is a pure function of the text (two reads
// agree), and a body that is refused stays refused behind a shebang (the first line is a
// comment to the token reader, as to Lua).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../../src/commands/scripting_internal.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/script_keys.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "scripts_fuzz: %s:\n%.*s\n", what, static_cast<int>(text.size()),
               text.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  keel::RegisterAllCommands();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  uint32_t flags = 0;
  std::string err = keel::scripting_internal::ParseShebang(body, &flags);
  if (body.substr(0, 2) != "#!" && (!err.empty() || flags != 0)) {
    Fail("a script without a shebang got flags or an error", body);
  }
  std::string name;
  if (keel::scripting_internal::ParseMetadata(body, &name).empty()) {
    if (name.empty()) Fail("a library without a name was accepted", body);
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        Fail("a library name with a bad character was accepted", body);
      }
    }
  }
  bool declared = keel::ScriptStaysInDeclaredKeys(body);
  if (keel::ScriptStaysInDeclaredKeys(body) != declared) Fail("the key proof is not stable", body);
  if (!declared && body.substr(0, 2) != "#!") {
    std::string with_shebang = "#!lua\n";
    with_shebang.append(body);
    if (keel::ScriptStaysInDeclaredKeys(with_shebang)) {
      Fail("a shebang line made a refused script provable", body);
    }
  }
  return 0;
}
