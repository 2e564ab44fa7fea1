#pragma once

// The RDB file format as Redis 7.0 writes and reads it: opcodes, value types, and the
// primitive encodings (lengths, strings) every RDB value is built from. Pure functions over
// byte buffers, no I/O: the writer (rdb_writer.h), the loader (rdb_reader.h), DUMP/RESTORE and
// the later AOF base files all share them.

#include <cstdint>
#include <string>
#include <string_view>

namespace keel::rdb {

// The version Keel writes (Redis 7.0's), and the newest it reads: 11 is Redis 7.2's, accepted as
// an extension (Redis 7.0 itself refuses it) so that users of 7.2 can bring their data.
inline constexpr int kVersion = 10;
inline constexpr int kMaxReadVersion = 11;
inline constexpr std::string_view kRedisVersionAux = "7.0.15";

// Opcodes (the byte before each record).
inline constexpr uint8_t kOpFunction2 = 245;
inline constexpr uint8_t kOpFunction = 246;
inline constexpr uint8_t kOpModuleAux = 247;
inline constexpr uint8_t kOpIdle = 248;
inline constexpr uint8_t kOpFreq = 249;
inline constexpr uint8_t kOpAux = 250;
inline constexpr uint8_t kOpResizeDb = 251;
inline constexpr uint8_t kOpExpireTimeMs = 252;
inline constexpr uint8_t kOpExpireTime = 253;
inline constexpr uint8_t kOpSelectDb = 254;
inline constexpr uint8_t kOpEof = 255;

// Value types.
enum Type : uint8_t {
  kTypeString = 0,
  kTypeList = 1,  // linked list (RDB < 7)
  kTypeSet = 2,
  kTypeZset = 3,
  kTypeHash = 4,
  kTypeZset2 = 5,
  kTypeModule = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZsetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
  kTypeSetListpack = 20,  // Redis 7.2 (RDB 11)
  kTypeStreamListpacks3 = 21,
};
// Redis's name for a type byte, for error messages ("zset", "stream", "module", ...).
std::string_view TypeName(int type);
bool IsKnownObjectType(int type);

// Quicklist v2 node containers.
inline constexpr uint64_t kQuicklistPlain = 1;
inline constexpr uint64_t kQuicklistPacked = 2;

// Length encoding: the top two bits of the first byte say how the rest reads.
inline constexpr uint8_t kLen6 = 0;      // 00xxxxxx
inline constexpr uint8_t kLen14 = 1;     // 01xxxxxx xxxxxxxx (big endian)
inline constexpr uint8_t kLen32 = 0x80;  // then 4 bytes big endian
inline constexpr uint8_t kLen64 = 0x81;  // then 8 bytes big endian
inline constexpr uint8_t kEncVal = 3;    // 11xxxxxx: a special string encoding follows
inline constexpr uint8_t kEncInt8 = 0;
inline constexpr uint8_t kEncInt16 = 1;
inline constexpr uint8_t kEncInt32 = 2;
inline constexpr uint8_t kEncLzf = 3;

// ---- Writing (appending to a buffer) ----

void AppendLength(std::string* out, uint64_t len);
// A string as Redis's rdbSaveRawString writes it: integer-encoded (int8/16/32) when it is a
// canonical integer of at most 11 characters that fits 32 bits, else LZF-compressed when
// `compress` and longer than 20 bytes and the result is smaller, else length + bytes.
void AppendString(std::string* out, std::string_view s, bool compress);
// An integer string value (Redis's OBJ_ENCODING_INT): int-encoded when it fits 32 bits, else
// its decimal digits.
void AppendIntString(std::string* out, int64_t v);
void AppendU8(std::string* out, uint8_t v);
void AppendLE32(std::string* out, uint32_t v);
void AppendLE64(std::string* out, uint64_t v);

}  // namespace keel::rdb
