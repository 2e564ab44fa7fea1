// libFuzzer target: the AOF loader's reading of one file (src/commands/aof.cc, LoadOneFile): an
// optional RDB preamble ("REDIS..."), then RESP commands and "#..." annotation lines
// (aof::ScanCommands). The commands are not run (that is the dispatcher's job); the harness
// checks what the loader relies on: every command it is handed has arguments, the offsets it
// reports are inside the file and in order, and the truncation point never cuts a MULTI ... EXEC
// in half (the bytes after it hold a MULTI, or nothing complete).
//
// The last byte steers the harness: bit 0 verifies the preamble's checksum, bit 1 makes the
// callback refuse a command named "unknown" (as the loader does for a command it does not know).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "keel/common/status.h"
#include "keel/common/strings.h"
#include "keel/keyspace/entry.h"
#include "keel/persistence/aof_reader.h"
#include "keel/persistence/rdb_reader.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "aof_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  uint8_t ctl = size > 0 ? data[size - 1] : 0;
  size_t pos = 0;
  if (file.size() >= 5 && file.compare(0, 5, "REDIS") == 0) {
    keel::rdb::MemorySource src(file);
    keel::rdb::LoadOptions options;
    options.verify_checksum = (ctl & 1) != 0;
    options.now_ms = 0;  // as the loader: the preamble keeps expired keys
    keel::rdb::LoadStats stats;
    keel::Status st = keel::rdb::LoadRdb(
        src, options,
        [](int, keel::Entry* e, const keel::rdb::SavedAccess&) {
          keel::FreeEntry(e);
          return keel::Status::Ok();
        },
        &stats);
    if (!st.ok()) return 0;
    if (src.offset() > file.size()) Fail("the preamble ends past the file");
    pos = static_cast<size_t>(src.offset());
  }
  const size_t start = pos;
  keel::aof::CommandScan scan;
  uint64_t seen = 0;
  bool in_multi = false;
  keel::Status st = keel::aof::ScanCommands(
      file.data(), file.size(), pos,
      [&](std::span<const std::string_view> args) {
        if (args.empty()) Fail("an empty command was handed to the loader");
        if ((ctl & 2) && keel::EqualsIgnoreCase(args[0], "unknown")) {
          return keel::Status::Error("unknown command");
        }
        if (keel::EqualsIgnoreCase(args[0], "multi")) in_multi = true;
        if (keel::EqualsIgnoreCase(args[0], "exec")) in_multi = false;
        ++seen;
        return keel::Status::Ok();
      },
      &scan);
  using End = keel::aof::CommandScan::End;
  if (!st.ok() != (scan.end == End::kStopped)) Fail("the error and the end disagree");
  if (scan.commands != seen) Fail("the command count is wrong");
  if (scan.valid_end < start || scan.valid_end > file.size()) Fail("valid_end outside the file");
  if (scan.end == End::kBadFormat &&
      (scan.bad_offset < scan.valid_end || scan.bad_offset >= file.size())) {
    Fail("bad_offset outside the unread part");
  }
  if (scan.end == End::kComplete && (scan.valid_end != file.size() || in_multi)) {
    Fail("a complete read that stops early or inside a MULTI");
  }
  if (scan.end == End::kTruncated && scan.valid_end == file.size() && !in_multi) {
    Fail("a truncation with nothing to cut");
  }
  return 0;
}
