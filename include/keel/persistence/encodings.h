#pragma once

// Redis's compact blob encodings as they appear inside RDB files: listpack (written and read),
// intset (written and read), and the older ziplist and zipmap (read only: Redis 7.0 no longer
// writes them but loads them from older files). Readers are fully bounds-checked: a blob whose
// headers disagree with its bytes gives an error, never an out-of-range read.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "keel/common/status.h"

namespace keel::rdb {

// Builds a listpack: each element is stored as an integer when it is a canonical int64 string
// (as Redis's lpAppend does), else as a string, each followed by its back-length.
class ListpackWriter {
 public:
  ListpackWriter();
  void Add(std::string_view element);
  size_t count() const { return count_; }
  // Bytes the finished listpack will take.
  size_t bytes() const { return buf_.size() + 1; }
  // Writes the header and terminator; the writer is then empty again.
  std::string Finish();

 private:
  std::string buf_;
  size_t count_ = 0;
};

// Calls fn for each element; integers are formatted as decimal strings (the view is valid only
// during the call). A false return from fn stops the walk (no error).
using ElementFn = std::function<bool(std::string_view)>;
Status ParseListpack(std::string_view blob, const ElementFn& fn);
Status ParseZiplist(std::string_view blob, const ElementFn& fn);
// Zipmap (RDB hash type 9): fn gets field then value, alternately.
Status ParseZipmap(std::string_view blob, const ElementFn& fn);
// Intset: a 4-byte width (2, 4 or 8), a 4-byte count, then sorted integers, little endian.
Status ParseIntset(std::string_view blob, const ElementFn& fn);
// REQUIRES: `sorted` ascending, no duplicates.
std::string BuildIntset(std::span<const int64_t> sorted);

}  // namespace keel::rdb
