#include "keel/persistence/rdb_format.h"

#include <lzf.h>

#include <cstring>
#include <memory>

#include "keel/keyspace/entry.h"

namespace keel::rdb {

std::string_view TypeName(int type) {
  switch (type) {
    case kTypeString:
      return "string";
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return "list";
    case kTypeSet:
    case kTypeSetIntset:
    case kTypeSetListpack:
      return "set";
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return "zset";
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
      return "hash";
    case kTypeModule:
    case kTypeModule2:
      return "module";
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
    case kTypeStreamListpacks3:
      return "stream";
    default:
      return "unknown";
  }
}

bool IsKnownObjectType(int type) { return TypeName(type) != "unknown"; }

void AppendU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void AppendLE32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

void AppendLE64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

void AppendLength(std::string* out, uint64_t len) {
  if (len < (1 << 6)) {
    AppendU8(out, static_cast<uint8_t>(len));
  } else if (len < (1 << 14)) {
    AppendU8(out, static_cast<uint8_t>((kLen14 << 6) | (len >> 8)));
    AppendU8(out, static_cast<uint8_t>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    AppendU8(out, kLen32);
    for (int i = 3; i >= 0; --i) AppendU8(out, static_cast<uint8_t>(len >> (8 * i)));
  } else {
    AppendU8(out, kLen64);
    for (int i = 7; i >= 0; --i) AppendU8(out, static_cast<uint8_t>(len >> (8 * i)));
  }
}

namespace {

// Int-encodes v when it fits 32 bits; returns false otherwise.
bool AppendEncodedInt(std::string* out, int64_t v) {
  if (v >= INT8_MIN && v <= INT8_MAX) {
    AppendU8(out, (kEncVal << 6) | kEncInt8);
    AppendU8(out, static_cast<uint8_t>(v));
  } else if (v >= INT16_MIN && v <= INT16_MAX) {
    AppendU8(out, (kEncVal << 6) | kEncInt16);
    AppendU8(out, static_cast<uint8_t>(v));
    AppendU8(out, static_cast<uint8_t>(v >> 8));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    AppendU8(out, (kEncVal << 6) | kEncInt32);
    AppendLE32(out, static_cast<uint32_t>(v));
  } else {
    return false;
  }
  return true;
}

bool AppendLzf(std::string* out, std::string_view s) {
  if (s.size() <= 4) return false;
  size_t room = s.size() - 4;
  auto buf = std::make_unique_for_overwrite<char[]>(room + 1);
  unsigned int n = lzf_compress(s.data(), static_cast<unsigned int>(s.size()), buf.get(),
                                static_cast<unsigned int>(room));
  if (n == 0) return false;
  AppendU8(out, (kEncVal << 6) | kEncLzf);
  AppendLength(out, n);
  AppendLength(out, s.size());
  out->append(buf.get(), n);
  return true;
}

}  // namespace

void AppendString(std::string* out, std::string_view s, bool compress) {
  int64_t v;
  if (s.size() <= 11 && IsCanonicalInt(s, &v) && AppendEncodedInt(out, v)) return;
  // liblzf takes unsigned int lengths: bigger strings are stored as they are.
  if (compress && s.size() > 20 && s.size() < UINT32_MAX && AppendLzf(out, s)) return;
  AppendLength(out, s.size());
  out->append(s);
}

void AppendIntString(std::string* out, int64_t v) {
  if (AppendEncodedInt(out, v)) return;
  std::string digits = std::to_string(v);
  AppendLength(out, digits.size());
  out->append(digits);
}

}  // namespace keel::rdb
