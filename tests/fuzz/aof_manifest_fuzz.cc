// libFuzzer target: the multi-part AOF manifest parser (aof::ParseManifest, Redis 7.0's
// "file <name> seq <n> type <b|h|i>" lines, quoted names, comments).
//
// A manifest that parses must survive what the server does with it: Format it (PersistManifest
// writes that text), parse that again and get the same files, base first; Format is then a fixed
// point. A difference would make the manifest the server writes unreadable at its next start.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "keel/persistence/aof_manifest.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "aof_manifest_fuzz: %s:\n%s\n", what, text.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  keel::aof::Manifest m;
  keel::Status st = keel::aof::ParseManifest(text, "fuzz.manifest", &m);
  if (!st.ok()) {
    if (st.message().find("Invalid AOF manifest file format") == std::string::npos) {
      Fail("an error without the manifest's message", st.message());
    }
    return 0;
  }
  if (m.files.empty()) Fail("an empty manifest parsed", text);
  std::string formatted = m.Format();
  keel::aof::Manifest back;
  st = keel::aof::ParseManifest(formatted, "fuzz.manifest", &back);
  if (!st.ok()) Fail(("the written manifest does not parse: " + st.message()).c_str(), formatted);
  if (back.files.size() != m.files.size()) Fail("the written manifest lost files", formatted);
  if (back.Format() != formatted) Fail("Format is not a fixed point", formatted);
  const keel::aof::AofFile* base = m.base();
  const keel::aof::AofFile* base_back = back.base();
  if ((base == nullptr) != (base_back == nullptr) ||
      (base != nullptr && (base->name != base_back->name || base->seq != base_back->seq))) {
    Fail("the base changed", formatted);
  }
  for (char type : {'b', 'h', 'i'}) {
    if (m.LastSeq(type) != back.LastSeq(type)) Fail("a sequence number changed", formatted);
  }
  return 0;
}
