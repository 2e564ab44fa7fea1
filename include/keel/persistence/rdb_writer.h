#pragma once

// RDB writing: Keel values serialized in Redis 7.0's encodings (a Keel list becomes a quicklist
// v2 of listpacks, a small integer set an intset, a small hash a listpack, ...), one entry at a
// time over a sink. The same code serves SAVE, DUMP, DEBUG RELOAD, and is meant to serve a
// point-in-time snapshotter and the AOF's RDB base later: nothing here walks the keyspace.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keel/common/status.h"
#include "keel/keyspace/entry.h"

namespace keel::rdb {

// Where serialized bytes go. Write is called with chunks of about 64 KiB or more.
class Sink {
 public:
  virtual ~Sink() = default;
  [[nodiscard]] virtual Status Write(std::string_view bytes) = 0;
};

class StringSink final : public Sink {
 public:
  Status Write(std::string_view bytes) override {
    data.append(bytes);
    return Status::Ok();
  }
  std::string data;
};

// A file opened for writing (created or truncated). Sync() and Close() report errors instead of
// losing them in a destructor (the destructor closes without checking, for error paths).
class FileSink final : public Sink {
 public:
  FileSink() = default;
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  Status Open(const std::string& path);
  Status Write(std::string_view bytes) override;
  Status Sync();
  Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

// Appends the RDB type byte and the serialized value of `e` (a string, list, set or hash entry),
// as Redis 7.0's rdbSaveObjectType + rdbSaveObject write them.
void AppendValue(std::string* out, const Entry& e, bool compress);
// The type byte AppendValue writes, and the value without it.
uint8_t ValueType(const Entry& e);
void AppendValueBody(std::string* out, const Entry& e, bool compress);

// A DUMP payload: the value as above, then the RDB version (2 bytes, little endian), then the
// CRC-64 of all that (8 bytes, little endian).
std::string DumpPayload(const Entry& e, bool compress);

// FUNCTION DUMP's payload: one FUNCTION2 record (opcode and the library's code as an RDB string)
// per library, then the RDB version and CRC-64 trailer as in DumpPayload.
std::string FunctionsPayload(const std::vector<std::string>& codes, bool compress);

// Where RdbWriter::Begin gets the function libraries' codes it writes as FUNCTION2 records after
// the AUX fields (Redis 7.0 saves them before the keys). The commands module sets it once at
// start-up (the libraries are process-wide); unset, files have no libraries. Any thread.
using FunctionCodesFn = std::vector<std::string> (*)();
void SetFunctionCodesSource(FunctionCodesFn fn);

// The AUX fields Redis 7.0 writes at the top of a file.
struct AuxInfo {
  int64_t ctime = 0;  // seconds since the epoch
  uint64_t used_mem = 0;
  bool aof_base = false;
  bool functions = true;  // the function libraries as FUNCTION2 records (SetFunctionCodesSource)
};

// Appends what RdbWriter::WriteEntry writes for one key (see there) to `out`.
void AppendEntry(std::string* out, std::string_view key, const Entry& value, int64_t expire_ms,
                 int64_t idle_s, bool compress, int lfu_freq = -1);

// RdbWriter writes one RDB file: Begin, then for each database SelectDb and its entries
// (WriteEntry, in any order), then Finish. Not thread-safe; the caller makes sure entries do not
// change while they are written (locks, or a snapshot's copy).
class RdbWriter {
 public:
  // `checksum` false writes a zero checksum (rdbchecksum no).
  RdbWriter(Sink* sink, bool compress, bool checksum)
      : sink_(sink), compress_(compress), checksum_(checksum) {}

  Status Begin(const AuxInfo& aux);
  // SELECTDB and RESIZEDB (the sizes are hints for the loader).
  Status SelectDb(int db, uint64_t keys, uint64_t expires);
  // One key: its expire (EXPIRETIME_MS, when expire_ms >= 0), its idle time (IDLE, when
  // idle_s >= 0: Redis writes it under the LRU maxmemory policies) or its LFU counter (FREQ,
  // when lfu_freq >= 0: under the LFU policies), type, key and value.
  // `value` supplies the value only; the key and expire are the arguments.
  Status WriteEntry(std::string_view key, const Entry& value, int64_t expire_ms,
                    int64_t idle_s = -1, int lfu_freq = -1);
  // Bytes AppendEntry produced (a snapshot serializes entries ahead and writes them later).
  Status WriteRaw(std::string_view entries);
  // EOF and the checksum, then flushes everything to the sink.
  Status Finish();

  uint64_t bytes_written() const { return written_ + buf_.size(); }

 private:
  Status MaybeFlush();
  Status Flush();

  Sink* sink_;
  bool compress_;
  bool checksum_;
  std::string buf_;
  uint64_t crc_ = 0;
  uint64_t written_ = 0;
};

}  // namespace keel::rdb
