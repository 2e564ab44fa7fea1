// HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//
// A HyperLogLog is a string in Redis's format, byte for byte, so it moves between Keel and
// Redis (DUMP/RESTORE, RDB) and counts the same:
//   header (16 bytes): "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes, the cached
//   cardinality (8 bytes, little-endian; bit 7 of the last byte set = not valid);
//   dense: 16384 registers of 6 bits, packed from the least significant bit of each byte;
//   sparse: run-length opcodes ZERO (00xxxxxx: 1-64 zero registers), XZERO (01xxxxxx yyyyyyyy:
//   1-16384 zero registers) and VAL (1vvvvvxx: 1-4 registers of value 1-32).
// An element picks its register with the low 14 bits of MurmurHash64A (seed 0xadc83b19) and
// its value is the position of the first 1 bit in the other 50 (plus one). A sparse HLL turns
// dense when a register value exceeds 32 or it would grow past hll-sparse-max-bytes. The count
// is Ertl's estimator over the register histogram, as Redis 7.0 computes it.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "notify.h"
#include "write.h"

namespace keel {

namespace {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kRegisters = 1 << kP;
constexpr int kBits = 6;
constexpr int kRegisterMax = (1 << kBits) - 1;
constexpr size_t kHeader = 16;
constexpr size_t kDenseSize = kHeader + (kRegisters * kBits + 7) / 8;
constexpr uint8_t kDense = 0;
constexpr uint8_t kSparse = 1;
constexpr int kValMaxValue = 32;
constexpr int kValMaxLen = 4;
constexpr int kZeroMaxLen = 64;
constexpr int kXzeroMaxLen = 16384;

uint64_t MurmurHash64A(std::string_view key, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ (static_cast<uint64_t>(key.size()) * m);
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  size_t blocks = key.size() / 8;
  for (size_t i = 0; i < blocks; ++i) {
    uint64_t k = 0;
    for (int b = 0; b < 8; ++b) k |= static_cast<uint64_t>(data[i * 8 + b]) << (8 * b);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const uint8_t* tail = data + blocks * 8;
  size_t rest = key.size() & 7;
  if (rest > 0) {
    for (size_t b = rest; b-- > 0;) h ^= static_cast<uint64_t>(tail[b]) << (8 * b);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

// The register of an element and the value it proposes.
int PatLen(std::string_view ele, int* reg) {
  uint64_t hash = MurmurHash64A(ele, 0xadc83b19ULL);
  *reg = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;
  int count = 1;
  for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) ++count;
  return count;
}

// ---- Dense registers (the bytes after the header) ----

int DenseGet(const std::string& s, int reg) {
  size_t byte = kHeader + static_cast<size_t>(reg) * kBits / 8;
  unsigned fb = static_cast<unsigned>(reg * kBits) & 7;
  unsigned b0 = static_cast<uint8_t>(s[byte]);
  unsigned b1 = byte + 1 < s.size() ? static_cast<uint8_t>(s[byte + 1]) : 0;
  return static_cast<int>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void DenseSet(std::string* s, int reg, int val) {
  size_t byte = kHeader + static_cast<size_t>(reg) * kBits / 8;
  unsigned fb = static_cast<unsigned>(reg * kBits) & 7;
  unsigned v = static_cast<unsigned>(val);
  uint8_t b0 = static_cast<uint8_t>((*s)[byte]);
  b0 = static_cast<uint8_t>((b0 & ~(kRegisterMax << fb)) | (v << fb));
  (*s)[byte] = static_cast<char>(b0);
  if (byte + 1 < s->size()) {
    uint8_t b1 = static_cast<uint8_t>((*s)[byte + 1]);
    b1 = static_cast<uint8_t>((b1 & ~(kRegisterMax >> (8 - fb))) | (v >> (8 - fb)));
    (*s)[byte + 1] = static_cast<char>(b1);
  }
}

// ---- Sparse opcodes ----

bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
bool IsXzero(uint8_t b) { return (b & 0xc0) == 0x40; }
bool IsVal(uint8_t b) { return (b & 0x80) != 0; }
int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
int XzeroLen(uint8_t b0, uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int ValLen(uint8_t b) { return (b & 0x3) + 1; }
uint8_t ValByte(int val, int len) {
  return static_cast<uint8_t>(((val - 1) << 2 | (len - 1)) | 0x80);
}
void AppendZeros(std::string* seq, int len) {
  if (len > kZeroMaxLen) {
    seq->push_back(static_cast<char>(((len - 1) >> 8) | 0x40));
    seq->push_back(static_cast<char>((len - 1) & 0xff));
  } else {
    seq->push_back(static_cast<char>(len - 1));
  }
}

uint8_t At(const std::string& s, size_t i) { return static_cast<uint8_t>(s[i]); }

// Walks the sparse opcodes: fn(first_register, run_length, value) per opcode (value 0 for the
// zero runs). Returns false when the runs do not cover exactly the 16384 registers.
template <typename Fn>
bool ForEachRun(const std::string& s, Fn&& fn) {
  size_t p = kHeader;
  int idx = 0;
  while (p < s.size()) {
    uint8_t b = At(s, p);
    int len, val = 0;
    if (IsZero(b)) {
      len = ZeroLen(b);
      ++p;
    } else if (IsXzero(b)) {
      if (p + 1 >= s.size()) return false;
      len = XzeroLen(b, At(s, p + 1));
      p += 2;
    } else {
      len = ValLen(b);
      val = ValValue(b);
      ++p;
    }
    if (idx + len > kRegisters) return false;
    fn(idx, len, val);
    idx += len;
  }
  return idx == kRegisters;
}

// Converts a sparse HLL to dense in place (the header, cached count included, is kept).
bool SparseToDense(std::string* s) {
  if (At(*s, 4) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), s->data(), kHeader);
  dense[4] = static_cast<char>(kDense);
  bool ok = ForEachRun(*s, [&](int first, int len, int val) {
    if (val == 0) return;
    for (int i = 0; i < len; ++i) DenseSet(&dense, first + i, val);
  });
  if (!ok) return false;
  *s = std::move(dense);
  return true;
}

void InvalidateCache(std::string* s) { (*s)[15] = static_cast<char>(At(*s, 15) | 0x80); }

// Sets register `index` to `count` when that raises it: 1 if it changed, 0 if not, -1 for a
// corrupt HLL. May turn the HLL dense (`max_sparse`: hll-sparse-max-bytes).
int SparseSet(std::string* s, int index, int count, int64_t max_sparse);

int DenseAdd(std::string* s, int index, int count) {
  if (DenseGet(*s, index) >= count) return 0;
  DenseSet(s, index, count);
  return 1;
}

int Promote(std::string* s, int index, int count) {
  if (!SparseToDense(s)) return -1;
  return DenseAdd(s, index, count);
}

int SparseSet(std::string* s, int index, int count, int64_t max_sparse) {
  if (count > kValMaxValue) return Promote(s, index, count);
  // Step 1: the opcode covering `index`.
  size_t p = kHeader, end = s->size();
  std::optional<size_t> prev;
  int first = 0, span = 0;
  while (p < end) {
    uint8_t b = At(*s, p);
    size_t oplen = 1;
    if (IsZero(b)) {
      span = ZeroLen(b);
    } else if (IsVal(b)) {
      span = ValLen(b);
    } else {
      if (p + 1 >= end) return -1;
      span = XzeroLen(b, At(*s, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;
  const uint8_t op = At(*s, p);
  const bool is_zero = IsZero(op), is_xzero = IsXzero(op), is_val = IsVal(op);
  const int runlen = is_zero ? ZeroLen(op) : is_xzero ? XzeroLen(op, At(*s, p + 1)) : ValLen(op);
  bool done = false;
  if (is_val) {
    if (ValValue(op) >= count) return 0;
    if (runlen == 1) {
      (*s)[p] = static_cast<char>(ValByte(count, 1));
      done = true;
    }
  }
  if (!done && is_zero && runlen == 1) {
    (*s)[p] = static_cast<char>(ValByte(count, 1));
    done = true;
  }
  if (!done) {
    // Step 2: the opcode split around `index`.
    const int last = first + span - 1;
    std::string seq;
    if (is_zero || is_xzero) {
      if (index != first) AppendZeros(&seq, index - first);
      seq.push_back(static_cast<char>(ValByte(count, 1)));
      if (index != last) AppendZeros(&seq, last - index);
    } else {
      int cur = ValValue(op);
      if (index != first) seq.push_back(static_cast<char>(ValByte(cur, index - first)));
      seq.push_back(static_cast<char>(ValByte(count, 1)));
      if (index != last) seq.push_back(static_cast<char>(ValByte(cur, last - index)));
    }
    // Step 3: replace it.
    const size_t oldlen = is_xzero ? 2 : 1;
    const int64_t delta = static_cast<int64_t>(seq.size()) - static_cast<int64_t>(oldlen);
    if (delta > 0 && static_cast<int64_t>(s->size()) + delta > max_sparse) {
      return Promote(s, index, count);
    }
    s->replace(p, oldlen, seq);
  }
  // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the one
  // before the change.
  p = prev.value_or(kHeader);
  end = s->size();
  for (int scan = 5; p < end && scan-- > 0;) {
    uint8_t b = At(*s, p);
    if (IsXzero(b)) {
      p += 2;
      continue;
    }
    if (IsZero(b)) {
      ++p;
      continue;
    }
    if (p + 1 < end && IsVal(At(*s, p + 1))) {
      uint8_t n = At(*s, p + 1);
      int len = ValLen(b) + ValLen(n);
      if (ValValue(b) == ValValue(n) && len <= kValMaxLen) {
        (*s)[p + 1] = static_cast<char>(ValByte(ValValue(b), len));
        s->erase(p, 1);
        --end;
        continue;  // try to merge the merged one with its right neighbour again
      }
    }
    ++p;
  }
  InvalidateCache(s);
  return 1;
}

// Adds one element: 1 if a register changed, 0 if not, -1 for a corrupt HLL.
int HllAdd(std::string* s, std::string_view ele, int64_t max_sparse) {
  int reg;
  int count = PatLen(ele, &reg);
  if (At(*s, 4) == kDense) return DenseAdd(s, reg, count);
  return SparseSet(s, reg, count, max_sparse);
}

std::string NewHll() {
  std::string s("HYLL", 4);
  s.push_back(static_cast<char>(kSparse));
  s.append(11, '\0');
  AppendZeros(&s, kXzeroMaxLen);
  return s;
}

// Redis's check of a string's HLL header (isHLLObjectOrReply).
bool LooksLikeHll(std::string_view s) {
  if (s.size() < kHeader || s.substr(0, 4) != "HYLL") return false;
  uint8_t enc = static_cast<uint8_t>(s[4]);
  if (enc > kSparse) return false;
  return enc != kDense || s.size() == kDenseSize;
}

// Folds the registers of `s` into `max`; false for a corrupt HLL.
bool Merge(const std::string& s, std::vector<uint8_t>* max) {
  if (At(s, 4) == kDense) {
    for (int i = 0; i < kRegisters; ++i) {
      (*max)[i] = std::max<uint8_t>((*max)[i], static_cast<uint8_t>(DenseGet(s, i)));
    }
    return true;
  }
  return ForEachRun(s, [&](int first, int len, int val) {
    for (int i = 0; i < len && val > 0; ++i) {
      (*max)[first + i] = std::max<uint8_t>((*max)[first + i], static_cast<uint8_t>(val));
    }
  });
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime, y = 1, z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime, y = 1.0, z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// Ertl's estimate from the histogram of register values.
uint64_t CountFromHisto(const int (&histo)[64]) {
  const double m = kRegisters;
  double z = m * Tau((m - histo[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * Sigma(histo[0] / m);
  constexpr long double kAlphaInf = 0.721347520444481703680L;  // 0.5 / ln(2)
  return static_cast<uint64_t>(std::llroundl(kAlphaInf * m * m / z));
}

uint64_t CountRegisters(const std::vector<uint8_t>& regs) {
  int histo[64] = {};
  for (uint8_t r : regs) ++histo[r];
  return CountFromHisto(histo);
}

// The cardinality of one HLL (nullopt: corrupt).
std::optional<uint64_t> Count(const std::string& s) {
  std::vector<uint8_t> regs(kRegisters, 0);
  if (!Merge(s, &regs)) return std::nullopt;
  return CountRegisters(regs);
}

// ---- Access to the key's string ----

// The HLL at `key` for writing: its bytes copied out (or nullopt when missing). Replies and
// returns false for a value that is not an HLL.
bool ReadHll(CommandContext& ctx, Entry* e, std::string* out) {
  if (e->type != ObjType::kString) {
    ctx.reply.Error(errors::kWrongType);
    return false;
  }
  char buf[32];
  std::string_view v = e->StringValue(buf);
  if (!LooksLikeHll(v)) {
    ctx.reply.Error(errors::kNotHll);
    return false;
  }
  out->assign(v);
  return true;
}

// Stores `s` as the value of `key` (existing entry at *link, keeping its TTL, or a new key).
void StoreHll(CommandContext& ctx, std::string_view key, Entry** link, const std::string& s) {
  Keyspace& ks = ctx.keyspace();
  if (link == nullptr) {
    ks.Put(ctx.db(), NewRawStringEntry(key, s, -1));
    NewKeyEvent(ctx, key);
  } else if ((*link)->storage == Entry::kHeap) {
    *(*link)->heap() = s;
    (*link)->enc = Encoding::kRaw;
  } else {
    Entry* e = *link;
    ks.ReplaceAt(ctx.db(), link, NewRawStringEntry(e->key(), s, e->expire_ms()));
  }
}

int64_t MaxSparse(CommandContext& ctx) {
  return ctx.server.config->IntOption("hll-sparse-max-bytes");
}

// PFADD key [element ...]
void CmdPfadd(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  std::string s;
  int64_t updated = 0;
  if (link == nullptr) {
    s = NewHll();
    updated = 1;
  } else if (!ReadHll(ctx, *link, &s)) {
    return;
  }
  const int64_t max_sparse = MaxSparse(ctx);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    int r = HllAdd(&s, ctx.args[i], max_sparse);
    if (r < 0) {
      ctx.reply.Error(errors::kHllInvalid);
      return;
    }
    updated += r;
  }
  if (updated > 0) {
    InvalidateCache(&s);
    StoreHll(ctx, key, link, s);
    KeyChanged(ctx, key, Event{'$', "pfadd"}, static_cast<uint64_t>(updated));
  }
  ctx.reply.Integer(updated > 0 ? 1 : 0);
}

// PFCOUNT key [key ...]
void CmdPfcount(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    std::vector<uint8_t> regs(kRegisters, 0);
    for (size_t i = 1; i < ctx.args.size(); ++i) {
      Entry* e = ReadLookup(ctx, ctx.args[i]);
      if (e == nullptr) continue;
      std::string s;
      if (!ReadHll(ctx, e, &s)) return;
      if (!Merge(s, &regs)) {
        ctx.reply.Error(errors::kHllInvalid);
        return;
      }
    }
    ctx.reply.Integer(static_cast<int64_t>(CountRegisters(regs)));
    return;
  }
  std::string_view key = ctx.args[1];
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  CountRead(ctx, ctx.db(), key, link != nullptr);
  if (link == nullptr) {
    ctx.reply.Integer(0);
    return;
  }
  std::string s;
  if (!ReadHll(ctx, *link, &s)) return;
  uint64_t card = 0;
  if ((At(s, 15) & 0x80) == 0) {
    for (int i = 7; i >= 0; --i) card = (card << 8) | At(s, 8 + static_cast<size_t>(i));
  } else {
    std::optional<uint64_t> c = Count(s);
    if (!c) {
      ctx.reply.Error(errors::kHllInvalid);
      return;
    }
    card = *c;
    for (int i = 0; i < 8; ++i) s[8 + static_cast<size_t>(i)] = static_cast<char>(card >> (8 * i));
    // The cached count is part of the string: storing it is a change (Redis propagates it).
    StoreHll(ctx, key, link, s);
    KeyChanged(ctx, key, kNoEvent);  // Redis sends no event for the cached count
  }
  ctx.reply.Integer(static_cast<int64_t>(card));
}

// PFMERGE destkey [sourcekey ...]
void CmdPfmerge(CommandContext& ctx) {
  std::vector<uint8_t> regs(kRegisters, 0);
  bool use_dense = false;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    Entry* e = ReadLookup(ctx, ctx.args[i]);
    if (e == nullptr) continue;
    std::string s;
    if (!ReadHll(ctx, e, &s)) return;
    if (At(s, 4) == kDense) use_dense = true;
    if (!Merge(s, &regs)) {
      ctx.reply.Error(errors::kHllInvalid);
      return;
    }
  }
  std::string_view key = ctx.args[1];
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  std::string s;
  if (link == nullptr) {
    s = NewHll();
  } else if (!ReadHll(ctx, *link, &s)) {
    return;
  }
  if (use_dense && !SparseToDense(&s)) {
    ctx.reply.Error(errors::kHllInvalid);
    return;
  }
  const int64_t max_sparse = MaxSparse(ctx);
  for (int j = 0; j < kRegisters; ++j) {
    if (regs[j] == 0) continue;
    if (At(s, 4) == kDense) {
      DenseAdd(&s, j, regs[j]);
    } else if (SparseSet(&s, j, regs[j], max_sparse) < 0) {
      ctx.reply.Error(errors::kHllInvalid);
      return;
    }
  }
  InvalidateCache(&s);
  StoreHll(ctx, key, link, s);
  KeyChanged(ctx, key, Event{'$', "pfadd"});
  ctx.reply.Ok();
}

// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
void CmdPfdebug(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  std::string_view key = ctx.args[2];
  Entry** link = ctx.keyspace().LookupLink(ctx.db(), key);
  if (link == nullptr) {
    ctx.reply.Error("ERR The specified key does not exist");
    return;
  }
  std::string s;
  if (!ReadHll(ctx, *link, &s)) return;
  auto arity = [&](size_t n) {
    if (ctx.args.size() == n) return true;
    ctx.reply.Error("ERR Wrong number of arguments for the '" + std::string(sub) + "' subcommand");
    return false;
  };
  if (EqualsIgnoreCase(sub, "getreg")) {
    if (!arity(3)) return;
    if (At(s, 4) == kSparse) {
      if (!SparseToDense(&s)) {
        ctx.reply.Error(errors::kHllInvalid);
        return;
      }
      StoreHll(ctx, key, link, s);
      KeyChanged(ctx, key, kNoEvent);  // no event for the conversion, as in Redis
    }
    ctx.reply.ArrayHeader(kRegisters);
    for (int i = 0; i < kRegisters; ++i) ctx.reply.Integer(DenseGet(s, i));
  } else if (EqualsIgnoreCase(sub, "decode")) {
    if (!arity(3)) return;
    if (At(s, 4) != kSparse) {
      ctx.reply.Error("ERR HLL encoding is not sparse");
      return;
    }
    std::string out;
    size_t p = kHeader;
    while (p < s.size()) {
      uint8_t b = At(s, p);
      if (IsZero(b)) {
        out += "z:" + std::to_string(ZeroLen(b)) + " ";
        ++p;
      } else if (IsXzero(b) && p + 1 < s.size()) {
        out += "Z:" + std::to_string(XzeroLen(b, At(s, p + 1))) + " ";
        p += 2;
      } else {
        out += "v:" + std::to_string(ValValue(b)) + "," + std::to_string(ValLen(b)) + " ";
        ++p;
      }
    }
    if (!out.empty()) out.pop_back();
    ctx.reply.Bulk(out);
  } else if (EqualsIgnoreCase(sub, "encoding")) {
    if (!arity(3)) return;
    ctx.reply.SimpleString(At(s, 4) == kDense ? "dense" : "sparse");
  } else if (EqualsIgnoreCase(sub, "todense")) {
    if (!arity(3)) return;
    bool conv = At(s, 4) == kSparse;
    if (conv) {
      if (!SparseToDense(&s)) {
        ctx.reply.Error(errors::kHllInvalid);
        return;
      }
      StoreHll(ctx, key, link, s);
      KeyChanged(ctx, key, kNoEvent);  // no event for the conversion, as in Redis
    }
    ctx.reply.Integer(conv ? 1 : 0);
  } else {
    ctx.reply.Error("ERR Unknown PFDEBUG subcommand '" + std::string(sub) + "'");
  }
}

// PFSELFTEST: checks the register packing, the sparse/dense equivalence and the estimate's
// error on this build.
void CmdPfselftest(CommandContext& ctx) {
  std::string dense(kDenseSize, '\0');
  for (int i = 0; i < kRegisters; ++i) DenseSet(&dense, i, (i * 7) % (kRegisterMax + 1));
  for (int i = 0; i < kRegisters; ++i) {
    if (DenseGet(dense, i) != (i * 7) % (kRegisterMax + 1)) {
      ctx.reply.Error("ERR TESTFAILED Register error");
      return;
    }
  }
  std::string sparse = NewHll(), full = NewHll();
  SparseToDense(&full);
  for (int i = 0; i < 20000; ++i) {
    std::string ele = "selftest:" + std::to_string(i);
    if (HllAdd(&sparse, ele, kDenseSize) < 0 || HllAdd(&full, ele, 0) < 0) {
      ctx.reply.Error("ERR TESTFAILED corrupt HLL");
      return;
    }
  }
  std::optional<uint64_t> a = Count(sparse), b = Count(full);
  if (!a || !b || *a != *b || std::abs(static_cast<double>(*a) - 20000) > 20000 * 0.05) {
    ctx.reply.Error("ERR TESTFAILED estimate");
    return;
  }
  ctx.reply.Ok();
}

}  // namespace

void RegisterHllFamily(CommandRegistry* r) {
  r->Register("pfadd", CmdPfadd);
  r->Register("pfcount", CmdPfcount);
  r->Register("pfmerge", CmdPfmerge);
  r->Register("pfdebug", CmdPfdebug);
  r->Register("pfselftest", CmdPfselftest, LockMode::kNone);
}

}  // namespace keel
