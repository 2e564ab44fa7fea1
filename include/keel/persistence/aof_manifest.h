#pragma once

// The multi-part AOF's manifest, in Redis 7.0's format: one line per file,
// "file <name> seq <n> type <b|h|i>" (base, history, incremental), the base first. The AOF
// (keel/commands/aof.h) keeps one in memory and persists it with PersistManifest: a temporary
// file, fsynced, renamed over the old one, then the directory fsynced.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keel/common/status.h"

namespace keel::aof {

struct AofFile {
  std::string name;
  int64_t seq = 0;
  char type = 'i';  // b: base, h: history (not loaded, removed later), i: incremental
};

struct Manifest {
  std::vector<AofFile> files;  // in file order: Format writes the base, history, then incr

  // The base, or nullptr.
  const AofFile* base() const;
  // The highest sequence number of files of `type` ('b' also counts bases now in history).
  int64_t LastSeq(char type) const;
  std::string Format() const;
};

// Parses a manifest's text. Errors name `path` and the line ("Invalid AOF manifest file format").
Status ParseManifest(const std::string& text, const std::string& path, Manifest* m);
Status PersistManifest(const std::string& dir, const std::string& name, const Manifest& m);

// File names: <fname>.<seq>.base.rdb|aof, <fname>.<seq>.incr.aof, <fname>.manifest.
std::string BaseName(const std::string& fname, int64_t seq, bool rdb);
std::string IncrName(const std::string& fname, int64_t seq);
std::string ManifestName(const std::string& fname);

// Small file helpers for the AOF's files. WriteFully writes all of `data` to `fd` (retrying
// short writes and EINTR); it returns 0, or the errno of the write that failed.
int WriteFully(int fd, std::string_view data, size_t* written);
Status ReadWholeFile(const std::string& path, std::string* out);
Status WriteFileSynced(const std::string& path, std::string_view data);
void FsyncDir(const std::string& dir);

}  // namespace keel::aof
