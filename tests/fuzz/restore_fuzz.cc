// libFuzzer target: RESTORE's payload reader (every RDB value encoding Keel loads).
//
// The first input byte steers the harness: bit 0 small encoding thresholds, bit 1 compressed
// dumps, the high nibble the RDB version (10 - nibble % 10). The rest is the payload. A random
// payload almost never carries a right CRC-64, so the harness seals it: the version and the
// correct checksum are appended, which takes the fuzzer past the trailer into the value
// decoders. A first byte of 0xff passes the payload as it is, to exercise the trailer check.
//
// A value that loads must survive a round trip: DUMP it, RESTORE that, DUMP again, and the two
// dumps must hold the same value (byte for byte, except for the order of a hash table's members,
// which a reload may change): the writer and the reader agree on every encoding they produce.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/keyspace/entry.h"
#include "keel/persistence/crc64.h"
#include "keel/persistence/rdb_format.h"
#include "keel/persistence/rdb_reader.h"
#include "keel/persistence/rdb_writer.h"

namespace {

// Reads an RDB length or string (uncompressed: the harness dumps without LZF) at *pos.
bool ReadLength(std::string_view p, size_t* pos, uint64_t* len, bool* special) {
  if (*pos >= p.size()) return false;
  uint8_t b = static_cast<uint8_t>(p[(*pos)++]);
  *special = (b >> 6) == 3;
  if ((b >> 6) == 0 || *special) {
    *len = b & 0x3f;
  } else if ((b >> 6) == 1) {
    if (*pos >= p.size()) return false;
    *len = ((b & 0x3f) << 8) | static_cast<uint8_t>(p[(*pos)++]);
  } else {
    size_t n = b == 0x80 ? 4 : 8;
    if (p.size() - *pos < n) return false;
    *len = 0;
    for (size_t i = 0; i < n; ++i) *len = (*len << 8) | static_cast<uint8_t>(p[(*pos)++]);
  }
  return true;
}

bool ReadString(std::string_view p, size_t* pos, std::string* out) {
  uint64_t len;
  bool special;
  if (!ReadLength(p, pos, &len, &special)) return false;
  if (special) {  // an int8/16/32: kept as its raw bytes, which is all a comparison needs
    size_t n = len == 0 ? 1 : len == 1 ? 2 : len == 2 ? 4 : SIZE_MAX;
    if (n == SIZE_MAX || p.size() - *pos < n) return false;
    *out = std::string(p.substr(*pos - 1, n + 1));
    *pos += n;
    return true;
  }
  if (p.size() - *pos < len) return false;
  *out = std::string(p.substr(*pos, len));
  *pos += len;
  return true;
}

// An uncompressed DUMP in a form where a hash table's order does not matter: the members of a
// set (type 2) and the field/value pairs of a hash (type 4) sorted; other types as they are.
std::string Canonical(const std::string& dump) {
  std::string_view p(dump);
  uint8_t type = static_cast<uint8_t>(p[0]);
  if (type != keel::rdb::kTypeSet && type != keel::rdb::kTypeHash) return dump;
  size_t pos = 1;
  uint64_t n;
  bool special;
  if (!ReadLength(p, &pos, &n, &special) || special) std::abort();
  std::vector<std::string> items;
  for (uint64_t i = 0; i < n; ++i) {
    std::string item, value;
    if (!ReadString(p, &pos, &item)) std::abort();
    if (type == keel::rdb::kTypeHash) {
      if (!ReadString(p, &pos, &value)) std::abort();
      item += '\0' + std::to_string(item.size()) + value;
    }
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end());
  std::string out(1, static_cast<char>(type));
  for (const std::string& item : items) out += std::to_string(item.size()) + ':' + item;
  return out;
}

std::string Seal(std::string_view body, int version) {
  std::string p(body);
  p.push_back(static_cast<char>(version & 0xff));
  p.push_back(static_cast<char>((version >> 8) & 0xff));
  uint64_t crc = keel::Crc64(0, p.data(), p.size());
  for (int i = 0; i < 8; ++i) p.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string payload = ctl == 0xff ? std::string(body) : Seal(body, 10 - (ctl >> 4) % 10);
  keel::rdb::ValueLimits limits;
  if (ctl & 1) {  // small thresholds: the packed forms convert more often
    limits.list_max_listpack_size = 4;
    limits.set_max_intset_entries = 4;
    limits.hash_max_listpack_entries = 4;
    limits.hash_max_listpack_value = 8;
  }
  keel::Entry* e = nullptr;
  if (!keel::rdb::RestorePayload(payload, "key", limits, &e).ok()) return 0;
  if (e == nullptr) std::abort();  // OK promises a value
  std::string first = keel::rdb::DumpPayload(*e, /*compress=*/(ctl & 2) != 0);
  std::string first_plain = keel::rdb::DumpPayload(*e, /*compress=*/false);
  keel::FreeEntry(e);
  keel::Entry* again = nullptr;
  keel::Status st = keel::rdb::RestorePayload(first, "key", limits, &again);
  if (!st.ok()) {
    std::fprintf(stderr, "RESTORE refused our own DUMP: %s\n", st.message().c_str());
    std::abort();
  }
  std::string second_plain = keel::rdb::DumpPayload(*again, /*compress=*/false);
  keel::FreeEntry(again);
  if (Canonical(first_plain) != Canonical(second_plain)) {
    std::fprintf(stderr, "DUMP -> RESTORE -> DUMP changed the value\n");
    std::abort();
  }
  return 0;
}
