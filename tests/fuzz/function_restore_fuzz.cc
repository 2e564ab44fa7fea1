// libFuzzer target: FUNCTION RESTORE's payload (rdb::ReadFunctionsPayload: FUNCTION2 records,
// each a library's code, then the RDB version and a CRC-64), and the "#!lua name=" header of
// every library it holds (the check CheckLibraries makes before any code runs; running the
// code is Lua's business and would let the fuzzer write endless loops).
//
// The first input byte steers the harness, as in restore_fuzz.cc: 0xff passes the rest as the
// payload, anything else seals it (appends version 10 - byte % 10 and the right checksum) so the
// mutations reach the records. A payload that reads must round-trip: FUNCTION DUMP's writer
// (rdb::FunctionsPayload, compressed or not by bit 4) and the reader agree on the codes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../../src/commands/scripting_internal.h"
#include "keel/persistence/crc64.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  std::string payload(reinterpret_cast<const char*>(data + 1), size - 1);
  if (ctl != 0xff) {
    int version = 10 - ctl % 10;
    payload.push_back(static_cast<char>(version & 0xff));
    payload.push_back(static_cast<char>((version >> 8) & 0xff));
    uint64_t crc = keel::Crc64(0, payload.data(), payload.size());
    for (int i = 0; i < 8; ++i) payload.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  }
  std::vector<std::string> codes;
  if (!keel::rdb::ReadFunctionsPayload(payload, &codes).ok()) return 0;
  for (const std::string& code : codes) {
    std::string name;
    keel::scripting_internal::ParseMetadata(code, &name);
  }
  std::string again = keel::rdb::FunctionsPayload(codes, /*compress=*/(ctl & 0x10) != 0);
  std::vector<std::string> back;
  keel::Status st = keel::rdb::ReadFunctionsPayload(again, &back);
  if (!st.ok() || back != codes) {
    std::fprintf(stderr, "FUNCTION DUMP's payload does not read back: %s\n",
                 st.ok() ? "other codes" : st.message().c_str());
    std::abort();
  }
  return 0;
}
