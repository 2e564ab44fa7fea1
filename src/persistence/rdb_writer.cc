#include "keel/persistence/rdb_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "keel/keyspace/hash_object.h"
#include "keel/keyspace/list_object.h"
#include "keel/keyspace/set_object.h"
#include "keel/keyspace/zset_object.h"
#include "keel/persistence/crc64.h"
#include "keel/persistence/encodings.h"
#include "keel/persistence/rdb_format.h"

namespace keel::rdb {

namespace {

constexpr size_t kFlushBytes = 64 * 1024;

// A list as a quicklist v2: one packed listpack node per Keel node (a packed Keel list is one
// node), so node sizes follow list-max-listpack-size as Redis's would.
void AppendList(std::string* out, const Entry& e, bool compress) {
  ListpackWriter lp;
  auto emit_node = [&] {
    AppendLength(out, kQuicklistPacked);
    AppendString(out, lp.Finish(), compress);
  };
  if (e.storage == Entry::kPacked) {
    AppendLength(out, 1);
    packed::ForEachElem(e.packed(), [&](size_t, std::string_view v) {
      lp.Add(v);
      return true;
    });
    emit_node();
    return;
  }
  const auto* obj = static_cast<const ListObject*>(e.object());
  std::vector<size_t> counts;
  for (const ListNodePtr& n : obj->nodes()) {
    if (n->count > 0) counts.push_back(n->count);
  }
  AppendLength(out, counts.size());
  if (obj->size() == 0) return;
  size_t node = 0;
  obj->ForRange(0, obj->size() - 1, [&](size_t, std::string_view v) {
    lp.Add(v);
    if (lp.count() == counts[node]) {
      emit_node();
      ++node;
    }
    return true;
  });
  obj->FoldOpened();
}

void AppendSet(std::string* out, const Entry& e, bool compress) {
  const SetRef s = SetRef::Read(&e);
  if (e.storage == Entry::kPacked && e.enc == Encoding::kIntset) {
    std::vector<int64_t> ints;
    ints.reserve(s.Size());
    s.ForEach([&](std::string_view m) {
      int64_t v = 0;
      IsCanonicalInt(m, &v);
      ints.push_back(v);
    });
    std::sort(ints.begin(), ints.end());
    AppendString(out, BuildIntset(ints), compress);
    return;
  }
  AppendLength(out, s.Size());
  s.ForEach([&](std::string_view m) { AppendString(out, m, compress); });
}

void AppendHash(std::string* out, const Entry& e, bool compress) {
  const HashRef h = HashRef::Read(&e);
  if (e.storage == Entry::kPacked) {
    ListpackWriter lp;
    h.ForEach([&](std::string_view f, std::string_view v) {
      lp.Add(f);
      lp.Add(v);
    });
    AppendString(out, lp.Finish(), compress);
    return;
  }
  AppendLength(out, h.Size());
  h.ForEach([&](std::string_view f, std::string_view v) {
    AppendString(out, f, compress);
    AppendString(out, v, compress);
  });
}

// A packed sorted set as a listpack of member, score pairs (scores as Redis's listpack keeps
// them: integers when integral, else text); a skiplist as ZSET_2, from the highest score down
// (Redis's order), each score as a little-endian binary double.
void AppendZset(std::string* out, const Entry& e, bool compress) {
  const ZsetRef z = ZsetRef::Read(&e);
  if (e.storage == Entry::kPacked) {
    ListpackWriter lp;
    z.ForEach([&](std::string_view m, double s) {
      lp.Add(m);
      lp.Add(FormatScore(s));
    });
    AppendString(out, lp.Finish(), compress);
    return;
  }
  AppendLength(out, z.Size());
  z.Range(0, z.Size(), true, [&](std::string_view m, double s) {
    AppendString(out, m, compress);
    uint64_t bits;
    std::memcpy(&bits, &s, sizeof(bits));
    AppendLE64(out, bits);
    return true;
  });
}

}  // namespace

uint8_t ValueType(const Entry& e) {
  switch (e.type) {
    case ObjType::kString:
      return kTypeString;
    case ObjType::kList:
      return kTypeListQuicklist2;
    case ObjType::kSet:
      return e.storage == Entry::kPacked && e.enc == Encoding::kIntset ? kTypeSetIntset : kTypeSet;
    case ObjType::kHash:
      return e.storage == Entry::kPacked ? kTypeHashListpack : kTypeHash;
    case ObjType::kZset:
      return e.storage == Entry::kPacked ? kTypeZsetListpack : kTypeZset2;
  }
  return kTypeString;
}

void AppendValue(std::string* out, const Entry& e, bool compress) {
  AppendU8(out, ValueType(e));
  AppendValueBody(out, e, compress);
}

void AppendValueBody(std::string* out, const Entry& e, bool compress) {
  switch (e.type) {
    case ObjType::kString:
      if (e.storage == Entry::kInt) {
        AppendIntString(out, e.int_value());
      } else {
        char buf[24];
        AppendString(out, e.StringValue(buf), compress);
      }
      return;
    case ObjType::kList:
      AppendList(out, e, compress);
      return;
    case ObjType::kSet:
      AppendSet(out, e, compress);
      return;
    case ObjType::kHash:
      AppendHash(out, e, compress);
      return;
    case ObjType::kZset:
      AppendZset(out, e, compress);
      return;
  }
}

std::string DumpPayload(const Entry& e, bool compress) {
  std::string out;
  AppendValue(&out, e, compress);
  out.push_back(static_cast<char>(kVersion & 0xff));
  out.push_back(static_cast<char>((kVersion >> 8) & 0xff));
  AppendLE64(&out, Crc64(0, out.data(), out.size()));
  return out;
}

namespace {
std::atomic<FunctionCodesFn> g_function_codes{nullptr};
}  // namespace

void SetFunctionCodesSource(FunctionCodesFn fn) { g_function_codes.store(fn); }

std::string FunctionsPayload(const std::vector<std::string>& codes, bool compress) {
  std::string out;
  for (const std::string& code : codes) {
    AppendU8(&out, kOpFunction2);
    AppendString(&out, code, compress);
  }
  out.push_back(static_cast<char>(kVersion & 0xff));
  out.push_back(static_cast<char>((kVersion >> 8) & 0xff));
  AppendLE64(&out, Crc64(0, out.data(), out.size()));
  return out;
}

// ---- RdbWriter ----

Status RdbWriter::Begin(const AuxInfo& aux) {
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", kVersion);
  buf_.append(magic, 9);
  auto field = [&](std::string_view k, std::string_view v) {
    AppendU8(&buf_, kOpAux);
    AppendString(&buf_, k, compress_);
    AppendString(&buf_, v, compress_);
  };
  field("redis-ver", kRedisVersionAux);
  field("redis-bits", "64");
  field("ctime", std::to_string(aux.ctime));
  field("used-mem", std::to_string(aux.used_mem));
  field("aof-base", aux.aof_base ? "1" : "0");
  FunctionCodesFn codes = aux.functions ? g_function_codes.load() : nullptr;
  if (codes != nullptr) {
    for (const std::string& code : codes()) {
      AppendU8(&buf_, kOpFunction2);
      AppendString(&buf_, code, compress_);
    }
  }
  return MaybeFlush();
}

Status RdbWriter::SelectDb(int db, uint64_t keys, uint64_t expires) {
  AppendU8(&buf_, kOpSelectDb);
  AppendLength(&buf_, static_cast<uint64_t>(db));
  AppendU8(&buf_, kOpResizeDb);
  AppendLength(&buf_, keys);
  AppendLength(&buf_, expires);
  return MaybeFlush();
}

void AppendEntry(std::string* out, std::string_view key, const Entry& value, int64_t expire_ms,
                 int64_t idle_s, bool compress, int lfu_freq) {
  if (expire_ms >= 0) {
    AppendU8(out, kOpExpireTimeMs);
    AppendLE64(out, static_cast<uint64_t>(expire_ms));
  }
  if (idle_s >= 0) {
    AppendU8(out, kOpIdle);
    AppendLength(out, static_cast<uint64_t>(idle_s));
  }
  if (lfu_freq >= 0) {
    AppendU8(out, kOpFreq);
    AppendU8(out, static_cast<uint8_t>(lfu_freq));
  }
  AppendU8(out, ValueType(value));
  AppendString(out, key, compress);
  AppendValueBody(out, value, compress);
}

Status RdbWriter::WriteEntry(std::string_view key, const Entry& value, int64_t expire_ms,
                             int64_t idle_s, int lfu_freq) {
  AppendEntry(&buf_, key, value, expire_ms, idle_s, compress_, lfu_freq);
  return MaybeFlush();
}

Status RdbWriter::WriteRaw(std::string_view entries) {
  buf_.append(entries);
  return MaybeFlush();
}

Status RdbWriter::Finish() {
  AppendU8(&buf_, kOpEof);
  crc_ = Crc64(crc_, buf_.data(), buf_.size());
  AppendLE64(&buf_, checksum_ ? crc_ : 0);
  // The checksum bytes are not part of the checksum: flush without hashing them again.
  Status st = sink_->Write(buf_);
  written_ += buf_.size();
  buf_.clear();
  return st;
}

Status RdbWriter::MaybeFlush() {
  if (buf_.size() < kFlushBytes) return Status::Ok();
  return Flush();
}

Status RdbWriter::Flush() {
  if (checksum_) crc_ = Crc64(crc_, buf_.data(), buf_.size());
  Status st = sink_->Write(buf_);
  written_ += buf_.size();
  buf_.clear();
  return st;
}

// ---- FileSink ----

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSink::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::Error(std::strerror(errno));
  return Status::Ok();
}

Status FileSink::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FileSink::Sync() {
  if (::fsync(fd_) != 0) return Status::Error(std::strerror(errno));
  return Status::Ok();
}

Status FileSink::Close() {
  int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) return Status::Error(std::strerror(errno));
  return Status::Ok();
}

}  // namespace keel::rdb
