// libFuzzer target: the RDB file loader (header, AUX fields, SELECTDB, RESIZEDB, expires, LRU and
// LFU opcodes, every value encoding Keel loads, EOF and the checksum).
//
// The checksum is verified only when the input's last byte is odd (a random file never has a
// right one, and the loader should be explored past it). Inputs that do not start with the
// "REDIS" magic get a version 10 header prepended, so mutations are spent on the body. Every
// loaded entry is handed to the callback, which frees it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/keyspace/entry.h"
#include "keel/persistence/rdb_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string file;
  if (input.substr(0, 5) != "REDIS") file = "REDIS0010";
  file.append(input);
  keel::rdb::MemorySource src(file);
  keel::rdb::LoadOptions options;
  options.verify_checksum = size > 0 && (data[size - 1] & 1) != 0;
  options.now_ms = (size > 1 && (data[size - 2] & 1)) ? 1700000000000 : 0;
  if (size > 2 && (data[size - 3] & 1)) {
    options.limits.list_max_listpack_size = 4;
    options.limits.set_max_intset_entries = 4;
    options.limits.hash_max_listpack_entries = 4;
    options.limits.hash_max_listpack_value = 8;
  }
  keel::rdb::LoadStats stats;
  uint64_t seen = 0;
  keel::Status st = keel::rdb::LoadRdb(
      src, options,
      [&](int db, keel::Entry* e, const keel::rdb::SavedAccess&) {
        if (e == nullptr || db < 0) std::abort();
        ++seen;
        keel::FreeEntry(e);
        return keel::Status::Ok();
      },
      &stats);
  if (st.ok() && seen != stats.keys_loaded) std::abort();
  return 0;
}
