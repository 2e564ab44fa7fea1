// The AOF manifest (keel/persistence/aof_manifest.h).
#include "keel/persistence/aof_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "keel/common/strings.h"
#include "keel/protocol/parser.h"

namespace keel::aof {

const AofFile* Manifest::base() const {
  for (const AofFile& f : files) {
    if (f.type == 'b') return &f;
  }
  return nullptr;
}

int64_t Manifest::LastSeq(char type) const {
  int64_t seq = 0;
  for (const AofFile& f : files) {
    bool old_base = type == 'b' && f.type == 'h' && f.name.find(".base.") != std::string::npos;
    if (f.type == type || old_base) seq = std::max(seq, f.seq);
  }
  return seq;
}

namespace {

// A file name as the manifest writes it: as it is, or (as Redis does for a name with spaces,
// quotes, backslashes or unprintable bytes) in double quotes with C escapes, so that
// ParseManifest reads back the same name. A single quote is quoted too (the reader, as Redis's,
// takes one anywhere in a bare word as the start of a quoted part).
void AppendName(std::string* out, std::string_view name) {
  static constexpr std::string_view kEscaped = "\\\"\n\r\t\a\b";
  static constexpr std::string_view kLetters = "\\\"nrtab";
  bool plain = !name.empty();
  for (unsigned char c : name) {
    plain = plain && c > 0x20 && c < 0x7f && c != '\\' && c != '"' && c != '\'';
  }
  if (plain) {
    out->append(name);
    return;
  }
  out->push_back('"');
  for (unsigned char c : name) {
    if (size_t i = kEscaped.find(static_cast<char>(c)); c != 0 && i != std::string_view::npos) {
      out->push_back('\\');
      out->push_back(kLetters[i]);
    } else if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out->append({'\\', 'x', kHex[c >> 4], kHex[c & 15]});
    }
  }
  out->push_back('"');
}

}  // namespace

std::string Manifest::Format() const {
  std::string out;
  for (char type : {'b', 'h', 'i'}) {
    for (const AofFile& f : files) {
      if (f.type != type) continue;
      out += "file ";
      AppendName(&out, f.name);
      out += " seq " + std::to_string(f.seq) + " type " + f.type + "\n";
    }
  }
  return out;
}

Status ParseManifest(const std::string& text, const std::string& path, Manifest* m) {
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool have_base = false;
  int64_t last_incr = 0;
  auto bad = [&](std::string_view why) {
    return Status::Error("Invalid AOF manifest file format (" + std::string(why) + ") in " + path +
                         " at line " + std::to_string(lineno));
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> words;
    if (!SplitArgsInPlace(line.data(), line.size(), &words) || words.size() % 2 != 0) {
      return bad("the line does not hold key value pairs");
    }
    AofFile f;
    f.type = 0;
    bool have_seq = false;
    for (size_t i = 0; i < words.size(); i += 2) {
      if (words[i] == "file") {
        f.name = std::string(words[i + 1]);
      } else if (words[i] == "seq") {
        auto n = ParseInt64(words[i + 1]);
        if (!n || *n < 0) return bad("bad seq");
        f.seq = *n;
        have_seq = true;
      } else if (words[i] == "type") {
        if (words[i + 1].size() != 1) return bad("bad type");
        f.type = words[i + 1][0];
      }
    }
    if (f.name.empty() || !have_seq || (f.type != 'b' && f.type != 'h' && f.type != 'i')) {
      return bad("a file line needs file, seq and type b, h or i");
    }
    if (f.name.find('/') != std::string::npos) return bad("file names can't be paths");
    if (f.type == 'b') {
      if (have_base) return bad("found duplicate base file information");
      have_base = true;
    }
    if (f.type == 'i') {
      if (f.seq <= last_incr) return bad("found a non-monotonic sequence number");
      last_incr = f.seq;
    }
    m->files.push_back(std::move(f));
  }
  if (m->files.empty()) return bad("no file is listed");
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::Ok();
}

int WriteFully(int fd, std::string_view data, size_t* written) {
  *written = 0;
  while (*written < data.size()) {
    ssize_t n = write(fd, data.data() + *written, data.size() - *written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    *written += static_cast<size_t>(n);
  }
  return 0;
}

Status WriteFileSynced(const std::string& path, std::string_view data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error("Can't open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  if (int e = WriteFully(fd, data, &done); e != 0) {
    close(fd);
    return Status::Error("Can't write " + path + ": " + std::strerror(e));
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    return Status::Error("Can't fsync " + path + ": " + std::strerror(e));
  }
  close(fd);
  return Status::Ok();
}

void FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

// Writes the manifest to a temporary file, fsyncs it and renames it over the old one.
Status PersistManifest(const std::string& dir, const std::string& name, const Manifest& m) {
  std::string tmp = dir + "/temp-" + name;
  if (Status st = WriteFileSynced(tmp, m.Format()); !st.ok()) return st;
  if (rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Status::Error("Can't rename the AOF manifest: " + std::string(std::strerror(e)));
  }
  FsyncDir(dir);
  return Status::Ok();
}

std::string BaseName(const std::string& fname, int64_t seq, bool rdb) {
  return fname + "." + std::to_string(seq) + ".base." + (rdb ? "rdb" : "aof");
}
std::string IncrName(const std::string& fname, int64_t seq) {
  return fname + "." + std::to_string(seq) + ".incr.aof";
}
std::string ManifestName(const std::string& fname) { return fname + ".manifest"; }

}  // namespace keel::aof
