#pragma once

// RDB reading: every encoding Redis 7.0 loads for strings, lists, sets and hashes (RDB versions
// 1 to 10, plus version 11's listpack sets as an extension), turned into Keel entries through
// the keyspace's own value builders. Every read is bounds-checked against the input: a damaged
// file or payload gives a Status naming the offset, never a crash.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/common/status.h"
#include "keel/keyspace/entry.h"

namespace keel::rdb {

// Bytes to read. offset() is the position of the next byte; remaining() how many are left.
class Source {
 public:
  virtual ~Source() = default;
  // Reads exactly n bytes; false (nothing promised about dst) when fewer remain.
  [[nodiscard]] virtual bool Read(char* dst, size_t n) = 0;
  virtual uint64_t offset() const = 0;
  virtual uint64_t remaining() const = 0;
  // CRC-64 of every byte read so far.
  virtual uint64_t crc() const = 0;
};

class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  bool Read(char* dst, size_t n) override;
  uint64_t offset() const override { return pos_; }
  uint64_t remaining() const override { return data_.size() - pos_; }
  uint64_t crc() const override;

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// A file read through a 1 MiB buffer.
class FileSource final : public Source {
 public:
  FileSource() = default;
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  Status Open(const std::string& path);
  bool Read(char* dst, size_t n) override;
  uint64_t offset() const override { return offset_; }
  uint64_t remaining() const override { return size_ - offset_; }
  uint64_t crc() const override;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  // The CRC of the bytes before buf_[crc_pos_]: the rest of what was read is hashed when the
  // buffer is refilled or crc() is asked, in big runs rather than per small read.
  uint64_t crc_ = 0;
  size_t crc_pos_ = 0;
  std::string buf_;
  size_t buf_pos_ = 0;
};

// How loaded values are encoded in memory: the same thresholds the commands use.
struct ValueLimits {
  int64_t list_max_listpack_size = -2;
  int64_t list_compress_depth = 0;
  size_t set_max_intset_entries = 512;
  size_t hash_max_listpack_entries = 128;
  size_t hash_max_listpack_value = 64;
  size_t zset_max_listpack_entries = 128;
  size_t zset_max_listpack_value = 64;
};

// Reads one value of RDB type `type` into a new detached entry for `key` (no expire), at
// *out. An empty collection (which Redis skips too) gives OK with *out == nullptr. `rdb_version`
// is the file's (or payload's) version. Unknown types, streams and modules are errors
// naming the type.
Status ReadValue(Source& src, int type, std::string_view key, int rdb_version,
                 const ValueLimits& limits, Entry** out);

struct LoadOptions {
  ValueLimits limits;
  bool verify_checksum = true;  // rdbchecksum: a zero checksum in the file is never checked
  int64_t now_ms = 0;           // keys whose expire is before this are dropped (when > 0)
  // Told each RESIZEDB hint (the database's key count, as the file claims it) before its keys.
  std::function<void(int db, uint64_t keys)> on_resize_db;
  // Progress for INFO (the file's size, then the offset after each key), when given.
  std::atomic<uint64_t>* total_bytes = nullptr;
  std::atomic<uint64_t>* loaded_bytes = nullptr;
  std::atomic<uint64_t>* loaded_keys = nullptr;  // keys loaded so far (as Redis's INFO shows)
  // Set to stop the load with an error (a shutdown while loading).
  const std::atomic<bool>* abort = nullptr;
  int64_t key_delay_us = 0;  // test knob (keel-load-key-delay-us): sleep after each key
  // Told each function library (a FUNCTION2 record: the library's code). Unset, the codes are
  // collected in LoadStats::function_codes for the caller to install.
  std::function<Status(std::string code)> on_function;
};

struct LoadStats {
  int version = 0;
  uint64_t keys_loaded = 0;
  uint64_t keys_expired = 0;
  uint64_t empty_keys_skipped = 0;
  std::vector<std::string> function_codes;  // the FUNCTION2 records (without on_function)
};

// What the opcodes before a key said about its use: IDLE (seconds since the last access, as
// Redis writes it under the LRU policies) and FREQ (the LFU counter, under the LFU policies);
// -1 where absent.
struct SavedAccess {
  int64_t idle_s = -1;
  int lfu_freq = -1;
};

// Called for each loaded key: `e` is detached, carries its expire, and is the callee's to keep
// or free; `access` is what IDLE / FREQ said of it. A failure stops the load.
using EntryFn = std::function<Status(int db, Entry* e, const SavedAccess& access)>;

// Loads a whole RDB stream. Errors say what and where ("... at offset N").
Status LoadRdb(Source& src, const LoadOptions& options, const EntryFn& on_entry, LoadStats* stats);

// Checks a DUMP payload's trailer (RDB version <= ours and, unless `skip_checksum` (DEBUG
// SET-SKIP-CHECKSUM-VALIDATION), the CRC-64) and reads its value. On a bad trailer the message is
// Redis's "DUMP payload version or checksum are wrong"; on a bad value "Bad data format".
// `packed_blobs`, when given, counts the ziplists, listpacks, intsets and zipmaps read (INFO's
// dump_payload_sanitizations counts them when RESTORE sanitizes).
Status RestorePayload(std::string_view payload, std::string_view key, const ValueLimits& limits,
                      Entry** out, bool skip_checksum = false, uint64_t* packed_blobs = nullptr);
// FUNCTION RESTORE: checks the trailer as RestorePayload does and reads the libraries' codes.
// Errors are Redis's texts (without "ERR ").
Status ReadFunctionsPayload(std::string_view payload, std::vector<std::string>* codes,
                            bool skip_checksum = false);

inline constexpr std::string_view kBadPayloadTrailer = "DUMP payload version or checksum are wrong";
inline constexpr std::string_view kBadDataFormat = "Bad data format";

}  // namespace keel::rdb
