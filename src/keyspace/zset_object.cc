#include "keel/keyspace/zset_object.h"

#include <malloc.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

namespace keel {

std::string FormatScore(double s) {
  if (std::isinf(s)) return s > 0 ? "inf" : "-inf";
  if (s == 0) return std::signbit(s) ? "-0" : "0";
  char buf[64];
  int n;
  if (s > -9223372036854775808.0 && s < 9223372036854775808.0 &&
      static_cast<double>(static_cast<int64_t>(s)) == s) {
    n = std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(s));
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", s);
  }
  return std::string(buf, static_cast<size_t>(n));
}

// ---- ZNode ----

ZNode* ZNode::Make(std::string_view member, double score) {
  void* mem = std::malloc(kHeader + member.size());
  if (mem == nullptr) throw std::bad_alloc();
  auto* n = static_cast<ZNode*>(mem);
  n->next = nullptr;
  n->score = score;
  n->len = static_cast<uint32_t>(member.size());
  if (!member.empty()) std::memcpy(reinterpret_cast<char*>(n) + kHeader, member.data(), n->len);
  return n;
}

size_t ZNode::Bytes() const { return malloc_usable_size(const_cast<ZNode*>(this)); }

// ---- ZTree ----
//
// Every path from the root to a leaf has the same length. Inner nodes keep, per child, the
// number of elements below it (rank and select) and its smallest element (to choose the child
// that holds, or would hold, an element without reading the leaves). Leaves are split when
// full; a child left under a quarter full is merged with a neighbour when both fit in one node,
// and empty nodes are removed, so the tree stays shallow and mostly full after deletions.

struct ZTree::Node {
  bool leaf;
  int n;  // elements (leaf) or children (inner)
};

struct ZTree::Leaf : Node {
  Leaf* prev;
  Leaf* next;
  ZNode* items[kLeafCap];
};

struct ZTree::Inner : Node {
  size_t counts[kInnerCap];
  Node* kids[kInnerCap];
  ZNode* mins[kInnerCap];
};

namespace {

bool Less(const ZNode* a, const ZNode* b) { return ZLess(a->score, a->key(), b->score, b->key()); }

// The first i in [lo, hi) for which below(i) is false (below holds on a prefix of the range).
template <typename Below>
int PartitionPoint(int lo, int hi, Below&& below) {
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (below(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace

size_t ZTree::CountOf(const Node* x) {
  if (x->leaf) return static_cast<size_t>(x->n);
  auto* in = static_cast<const Inner*>(x);
  size_t c = 0;
  for (int i = 0; i < in->n; ++i) c += in->counts[i];
  return c;
}

ZNode* ZTree::MinOf(const Node* x) {
  if (x->leaf) return static_cast<const Leaf*>(x)->items[0];
  return static_cast<const Inner*>(x)->mins[0];
}

// The child whose range holds n: the last one whose smallest element is <= n (the first when
// n is below them all).
int ZTree::ChildFor(const Inner* in, const ZNode* n) {
  return PartitionPoint(1, in->n, [&](int i) { return !Less(n, in->mins[i]); }) - 1;
}

void ZTree::Insert(ZNode* n) {
  if (root_ == nullptr) {
    auto* l = new Leaf();
    nodes_bytes_ += sizeof(Leaf);
    l->leaf = true;
    l->n = 0;
    l->prev = l->next = nullptr;
    root_ = l;
  }
  Node* sibling = InsertRec(root_, n);
  if (sibling != nullptr) {
    auto* r = new Inner();
    nodes_bytes_ += sizeof(Inner);
    r->leaf = false;
    r->n = 2;
    r->kids[0] = root_;
    r->kids[1] = sibling;
    r->counts[0] = CountOf(root_);
    r->counts[1] = CountOf(sibling);
    r->mins[0] = MinOf(root_);
    r->mins[1] = MinOf(sibling);
    root_ = r;
  }
  ++size_;
}

// Inserts n under x; returns the new right sibling of x when x had to split.
ZTree::Node* ZTree::InsertRec(Node* x, ZNode* n) {
  if (x->leaf) {
    auto* l = static_cast<Leaf*>(x);
    int pos = static_cast<int>(
        std::upper_bound(l->items, l->items + l->n, n,
                         [](const ZNode* a, const ZNode* b) { return Less(a, b); }) -
        l->items);
    Leaf* target = l;
    Leaf* right = nullptr;
    if (l->n == kLeafCap) {
      right = new Leaf();
      nodes_bytes_ += sizeof(Leaf);
      right->leaf = true;
      int half = kLeafCap / 2;
      right->n = kLeafCap - half;
      std::memcpy(right->items, l->items + half, sizeof(ZNode*) * right->n);
      l->n = half;
      right->prev = l;
      right->next = l->next;
      if (l->next != nullptr) l->next->prev = right;
      l->next = right;
      if (pos > half) {
        target = right;
        pos -= half;
      }
    }
    std::memmove(target->items + pos + 1, target->items + pos, sizeof(ZNode*) * (target->n - pos));
    target->items[pos] = n;
    ++target->n;
    return right;
  }
  auto* in = static_cast<Inner*>(x);
  int i = ChildFor(in, n);
  Node* s = InsertRec(in->kids[i], n);
  if (s == nullptr) {
    ++in->counts[i];
    in->mins[i] = MinOf(in->kids[i]);
    return nullptr;
  }
  in->counts[i] = CountOf(in->kids[i]);
  in->mins[i] = MinOf(in->kids[i]);
  Inner* target = in;
  int at = i + 1;
  Inner* right = nullptr;
  if (in->n == kInnerCap) {
    right = new Inner();
    nodes_bytes_ += sizeof(Inner);
    right->leaf = false;
    int half = kInnerCap / 2;
    right->n = kInnerCap - half;
    std::memcpy(right->kids, in->kids + half, sizeof(Node*) * right->n);
    std::memcpy(right->counts, in->counts + half, sizeof(size_t) * right->n);
    std::memcpy(right->mins, in->mins + half, sizeof(ZNode*) * right->n);
    in->n = half;
    if (at > half) {
      target = right;
      at -= half;
    }
  }
  int tail = target->n - at;
  std::memmove(target->kids + at + 1, target->kids + at, sizeof(Node*) * tail);
  std::memmove(target->counts + at + 1, target->counts + at, sizeof(size_t) * tail);
  std::memmove(target->mins + at + 1, target->mins + at, sizeof(ZNode*) * tail);
  target->kids[at] = s;
  target->counts[at] = CountOf(s);
  target->mins[at] = MinOf(s);
  ++target->n;
  return right;
}

void ZTree::Erase(const ZNode* n) {
  EraseRec(root_, n);
  --size_;
  // Collapse a root with one child, and drop an empty tree.
  while (!root_->leaf && root_->n == 1) {
    Node* old = root_;
    root_ = static_cast<Inner*>(old)->kids[0];
    delete static_cast<Inner*>(old);
    nodes_bytes_ -= sizeof(Inner);
  }
  if (root_->n == 0) {
    if (root_->leaf) {
      delete static_cast<Leaf*>(root_);
      nodes_bytes_ -= sizeof(Leaf);
    } else {
      delete static_cast<Inner*>(root_);
      nodes_bytes_ -= sizeof(Inner);
    }
    root_ = nullptr;
  }
}

void ZTree::EraseRec(Node* x, const ZNode* n) {
  if (x->leaf) {
    auto* l = static_cast<Leaf*>(x);
    int pos = static_cast<int>(
        std::lower_bound(l->items, l->items + l->n, n,
                         [](const ZNode* a, const ZNode* b) { return Less(a, b); }) -
        l->items);
    // pos < n and items[pos] == n (REQUIRES).
    std::memmove(l->items + pos, l->items + pos + 1, sizeof(ZNode*) * (l->n - pos - 1));
    --l->n;
    return;
  }
  auto* in = static_cast<Inner*>(x);
  int i = ChildFor(in, n);
  EraseRec(in->kids[i], n);
  --in->counts[i];
  FixChild(in, i);
}

// After a removal under child i of `in`: drops the child when empty, else refreshes its minimum
// and merges it with a neighbour when it is under a quarter full and both fit in one node.
void ZTree::FixChild(Inner* in, int i) {
  Node* c = in->kids[i];
  auto remove_slot = [&](int k) {
    int tail = in->n - k - 1;
    std::memmove(in->kids + k, in->kids + k + 1, sizeof(Node*) * tail);
    std::memmove(in->counts + k, in->counts + k + 1, sizeof(size_t) * tail);
    std::memmove(in->mins + k, in->mins + k + 1, sizeof(ZNode*) * tail);
    --in->n;
  };
  if (c->n == 0) {
    if (c->leaf) {
      auto* l = static_cast<Leaf*>(c);
      if (l->prev != nullptr) l->prev->next = l->next;
      if (l->next != nullptr) l->next->prev = l->prev;
      delete l;
      nodes_bytes_ -= sizeof(Leaf);
    } else {
      delete static_cast<Inner*>(c);
      nodes_bytes_ -= sizeof(Inner);
    }
    remove_slot(i);
    return;
  }
  in->mins[i] = MinOf(c);
  int cap = c->leaf ? kLeafCap : kInnerCap;
  if (c->n >= cap / 4 || in->n < 2) return;
  int left = i > 0 ? i - 1 : i;
  int right = left + 1;
  Node* a = in->kids[left];
  Node* b = in->kids[right];
  if (a->n + b->n > cap) return;
  if (a->leaf) {
    auto* la = static_cast<Leaf*>(a);
    auto* lb = static_cast<Leaf*>(b);
    std::memcpy(la->items + la->n, lb->items, sizeof(ZNode*) * lb->n);
    la->n += lb->n;
    la->next = lb->next;
    if (lb->next != nullptr) lb->next->prev = la;
    delete lb;
    nodes_bytes_ -= sizeof(Leaf);
  } else {
    auto* ia = static_cast<Inner*>(a);
    auto* ib = static_cast<Inner*>(b);
    std::memcpy(ia->kids + ia->n, ib->kids, sizeof(Node*) * ib->n);
    std::memcpy(ia->counts + ia->n, ib->counts, sizeof(size_t) * ib->n);
    std::memcpy(ia->mins + ia->n, ib->mins, sizeof(ZNode*) * ib->n);
    ia->n += ib->n;
    delete ib;
    nodes_bytes_ -= sizeof(Inner);
  }
  in->counts[left] += in->counts[right];
  remove_slot(right);
}

size_t ZTree::Rank(const ZNode* n) const {
  size_t rank = 0;
  const Node* x = root_;
  while (!x->leaf) {
    auto* in = static_cast<const Inner*>(x);
    int i = ChildFor(in, n);
    for (int k = 0; k < i; ++k) rank += in->counts[k];
    x = in->kids[i];
  }
  auto* l = static_cast<const Leaf*>(x);
  return rank + static_cast<size_t>(
                    std::lower_bound(l->items, l->items + l->n, n,
                                     [](const ZNode* a, const ZNode* b) { return Less(a, b); }) -
                    l->items);
}

ZNode* ZTree::At(size_t r) const {
  const Node* x = root_;
  while (!x->leaf) {
    auto* in = static_cast<const Inner*>(x);
    int i = 0;
    while (r >= in->counts[i]) r -= in->counts[i++];
    x = in->kids[i];
  }
  return static_cast<const Leaf*>(x)->items[r];
}

size_t ZTree::CountWhile(const std::function<bool(const ZNode*)>& below) const {
  if (root_ == nullptr) return 0;
  size_t rank = 0;
  const Node* x = root_;
  while (!x->leaf) {
    auto* in = static_cast<const Inner*>(x);
    // The last child whose minimum is still below (the first when none is).
    int i = PartitionPoint(1, in->n, [&](int k) { return below(in->mins[k]); }) - 1;
    for (int k = 0; k < i; ++k) rank += in->counts[k];
    x = in->kids[i];
  }
  auto* l = static_cast<const Leaf*>(x);
  return rank +
         static_cast<size_t>(PartitionPoint(0, l->n, [&](int k) { return below(l->items[k]); }));
}

void ZTree::Walk(size_t start, size_t stop, bool rev, const std::function<bool(ZNode*)>& fn) const {
  if (start >= stop) return;
  // Find the leaf and slot of the first rank to visit.
  size_t r = rev ? stop - 1 : start;
  const Node* x = root_;
  while (!x->leaf) {
    auto* in = static_cast<const Inner*>(x);
    int i = 0;
    while (r >= in->counts[i]) r -= in->counts[i++];
    x = in->kids[i];
  }
  auto* l = static_cast<const Leaf*>(x);
  int pos = static_cast<int>(r);
  for (size_t left = stop - start; left > 0; --left) {
    if (!fn(l->items[pos])) return;
    if (rev) {
      if (--pos < 0 && left > 1) {
        l = l->prev;
        pos = l->n - 1;
      }
    } else if (++pos == l->n && left > 1) {
      l = l->next;
      pos = 0;
    }
  }
}

void ZTree::FreeRec(Node* x) {
  if (x->leaf) {
    delete static_cast<Leaf*>(x);
    return;
  }
  auto* in = static_cast<Inner*>(x);
  for (int i = 0; i < in->n; ++i) FreeRec(in->kids[i]);
  delete in;
}

void ZTree::Clear() {
  if (root_ != nullptr) FreeRec(root_);
  root_ = nullptr;
  size_ = 0;
  nodes_bytes_ = 0;
}

size_t ZTree::MemoryBytes() const { return nodes_bytes_; }

bool ZTree::CheckRec(const Node* x, int depth, int* leaf_depth, size_t* count,
                     const ZNode** prev) const {
  if (x->n <= 0) return false;
  if (x->leaf) {
    if (*leaf_depth < 0) *leaf_depth = depth;
    if (*leaf_depth != depth) return false;
    auto* l = static_cast<const Leaf*>(x);
    for (int i = 0; i < l->n; ++i) {
      if (*prev != nullptr && !Less(*prev, l->items[i])) return false;
      *prev = l->items[i];
    }
    *count += static_cast<size_t>(l->n);
    return true;
  }
  auto* in = static_cast<const Inner*>(x);
  for (int i = 0; i < in->n; ++i) {
    size_t c = 0;
    if (in->mins[i] != MinOf(in->kids[i])) return false;
    if (!CheckRec(in->kids[i], depth + 1, leaf_depth, &c, prev)) return false;
    if (c != in->counts[i]) return false;
    *count += c;
  }
  return true;
}

bool ZTree::Check() const {
  if (root_ == nullptr) return size_ == 0;
  int leaf_depth = -1;
  size_t count = 0;
  const ZNode* prev = nullptr;
  if (!CheckRec(root_, 0, &leaf_depth, &count, &prev)) return false;
  if (count != size_) return false;
  // The leaf chain visits every element in order, both ways.
  size_t walked = 0;
  const ZNode* last = nullptr;
  bool ok = true;
  Walk(0, size_, false, [&](ZNode* n) {
    if (last != nullptr && !Less(last, n)) ok = false;
    last = n;
    ++walked;
    return true;
  });
  Walk(0, size_, true, [&](ZNode* n) {
    if (n != At(--walked)) ok = false;
    return true;
  });
  return ok && walked == 0;
}

// ---- ZsetObject ----

ZsetObject::~ZsetObject() { tree.Clear(); }

size_t ZsetObject::MemoryUsage() const {
  return sizeof(*this) + dict.MemoryBytes() + tree.MemoryBytes();
}

// The tree keeps its own byte count; only the member table's nodes are sampled.
size_t ZsetObject::SampledMemoryUsage(size_t samples) const {
  return sizeof(*this) + dict.SampledBytes(samples) + tree.MemoryBytes();
}

Object* ZsetObject::Clone() const {
  auto* c = new ZsetObject();
  c->dict.Reserve(dict.size());
  tree.Walk(0, tree.size(), false, [&](ZNode* n) {
    ZNode* m = ZNode::Make(n->key(), n->score);
    c->dict.Insert(m, ht::Hash(m->key()));
    c->tree.Insert(m);
    return true;
  });
  return c;
}

bool ZsetObject::Set(std::string_view member, double score) {
  uint64_t h = ht::Hash(member);
  int t;
  ZNode** link = dict.FindLink(member, h, &t);
  if (link != nullptr) {
    ZNode* n = *link;
    if (n->score == score) return false;
    tree.Erase(n);
    n->score = score;
    tree.Insert(n);
    return false;
  }
  ZNode* n = ZNode::Make(member, score);
  dict.Insert(n, h);
  tree.Insert(n);
  return true;
}

bool ZsetObject::Remove(std::string_view member) {
  int t = 0;
  ZNode** link = dict.FindLink(member, ht::Hash(member), &t);
  if (link == nullptr) return false;
  tree.Erase(*link);
  std::free(dict.Unlink(link, t));
  return true;
}

// ---- ZsetRef ----

namespace {

// One packed pair.
struct Pair {
  std::string_view member;
  double score;
  size_t size;
};

// A packed score: one tag byte, then what it says. Small integers are the tag itself, other
// integers of 32 bits and values a float holds exactly take 4 more bytes, the rest are a
// double: typical scores (ranks, counters, halves) cost 1 or 5 bytes instead of 8.
constexpr int kSmallBias = 126;  // tags 0..252: the integer tag - 126
constexpr uint8_t kTagInt32 = 253;
constexpr uint8_t kTagFloat = 254;
constexpr uint8_t kTagDouble = 255;

uint8_t ScoreTag(double s) {
  if (s >= -kSmallBias && s <= kSmallBias && s == static_cast<double>(static_cast<int>(s)) &&
      !(s == 0 && std::signbit(s))) {
    return static_cast<uint8_t>(static_cast<int>(s) + kSmallBias);
  }
  if (s >= INT32_MIN && s <= INT32_MAX && s == static_cast<double>(static_cast<int32_t>(s)) &&
      !(s == 0 && std::signbit(s))) {
    return kTagInt32;
  }
  if ((std::isinf(s) || std::fabs(s) <= FLT_MAX) &&
      static_cast<double>(static_cast<float>(s)) == s) {
    return kTagFloat;
  }
  return kTagDouble;
}

size_t ScoreSize(uint8_t tag) { return tag < kTagInt32 ? 1 : tag == kTagDouble ? 9 : 5; }

size_t PutScore(char* p, double s) {
  uint8_t tag = ScoreTag(s);
  p[0] = static_cast<char>(tag);
  if (tag == kTagInt32) {
    auto v = static_cast<int32_t>(s);
    std::memcpy(p + 1, &v, 4);
  } else if (tag == kTagFloat) {
    auto f = static_cast<float>(s);
    std::memcpy(p + 1, &f, 4);
  } else if (tag == kTagDouble) {
    std::memcpy(p + 1, &s, 8);
  }
  return ScoreSize(tag);
}

double GetScore(const char* p, size_t* size) {
  auto tag = static_cast<uint8_t>(p[0]);
  *size = ScoreSize(tag);
  if (tag < kTagInt32) return static_cast<double>(static_cast<int>(tag) - kSmallBias);
  if (tag == kTagInt32) {
    int32_t v;
    std::memcpy(&v, p + 1, 4);
    return v;
  }
  if (tag == kTagFloat) {
    float f;
    std::memcpy(&f, p + 1, 4);
    return f;
  }
  double d;
  std::memcpy(&d, p + 1, 8);
  return d;
}

Pair ReadPair(const char* p) {
  size_t msize;
  std::string_view m = packed::GetElem(p, &msize);
  size_t ssize;
  double s = GetScore(p + msize, &ssize);
  return {m, s, msize + ssize};
}

size_t PairSize(std::string_view member, double score) {
  return packed::ElemSize(member) + ScoreSize(ScoreTag(score));
}

void PutPair(char* p, std::string_view member, double score) {
  p += packed::PutElem(p, member);
  PutScore(p, score);
}

// Calls fn(offset, pair) for each packed pair until it returns false.
template <typename F>
void ForEachPair(std::string_view run, F&& fn) {
  for (size_t off = 0; off < run.size();) {
    Pair p = ReadPair(run.data() + off);
    if (!fn(off, p)) return;
    off += p.size;
  }
}

}  // namespace

Entry* ZsetRef::NewEntry(std::string_view key, bool packed) {
  if (packed) return NewPackedEntry(key, ObjType::kZset, Encoding::kListpack, {}, -1);
  return NewObjectEntry(key, ObjType::kZset, Encoding::kSkiplist, new ZsetObject(), -1);
}

size_t ZsetRef::Size() const {
  if (!packed()) return object()->ElementCount();
  size_t n = 0;
  ForEachPair(bytes(), [&](size_t, const Pair&) {
    ++n;
    return true;
  });
  return n;
}

size_t ZsetRef::FindPacked(std::string_view member, double* score) const {
  size_t found = std::string_view::npos;
  ForEachPair(bytes(), [&](size_t off, const Pair& p) {
    if (p.member != member) return true;
    found = off;
    *score = p.score;
    return false;
  });
  return found;
}

std::optional<double> ZsetRef::Score(std::string_view member) const {
  if (!packed()) {
    const ZNode* n = object()->dict.Find(member);
    if (n == nullptr) return std::nullopt;
    return n->score;
  }
  double s;
  if (FindPacked(member, &s) == std::string_view::npos) return std::nullopt;
  return s;
}

void ZsetRef::InsertPacked(std::string_view member, double score) {
  if (score == 0) score = 0;  // -0 -> +0, as a listpack keeps it
  size_t at = bytes().size();
  ForEachPair(bytes(), [&](size_t off, const Pair& p) {
    if (!ZLess(score, member, p.score, p.member)) return true;
    at = off;
    return false;
  });
  PutPair(Splice(at, 0, PairSize(member, score)), member, score);
}

bool ZsetRef::Set(std::string_view member, double score, const Limits& lim) {
  if (packed()) {
    double old;
    size_t off = FindPacked(member, &old);
    if (off != std::string_view::npos) {
      if (old == score) return false;
      Splice(off, ReadPair(bytes().data() + off).size, 0);
      InsertPacked(member, score);
      return false;
    }
    if (member.size() > lim.max_value || Size() + 1 > lim.max_entries ||
        bytes().size() + PairSize(member, score) > kMaxPackedBytes) {
      ConvertToSkiplist();
    } else {
      InsertPacked(member, score);
      return true;
    }
  }
  return object()->Set(member, score);
}

bool ZsetRef::Remove(std::string_view member) {
  if (!packed()) return object()->Remove(member);
  double s;
  size_t off = FindPacked(member, &s);
  if (off == std::string_view::npos) return false;
  Splice(off, ReadPair(bytes().data() + off).size, 0);
  return true;
}

std::optional<size_t> ZsetRef::Rank(std::string_view member) const {
  if (!packed()) {
    const ZNode* n = object()->dict.Find(member);
    if (n == nullptr) return std::nullopt;
    return object()->tree.Rank(n);
  }
  std::optional<size_t> rank;
  size_t i = 0;
  ForEachPair(bytes(), [&](size_t, const Pair& p) {
    if (p.member == member) {
      rank = i;
      return false;
    }
    ++i;
    return true;
  });
  return rank;
}

size_t ZsetRef::CountWhile(const std::function<bool(std::string_view, double)>& below) const {
  if (!packed()) {
    return object()->tree.CountWhile([&](const ZNode* n) { return below(n->key(), n->score); });
  }
  size_t n = 0;
  ForEachPair(bytes(), [&](size_t, const Pair& p) {
    if (!below(p.member, p.score)) return false;
    ++n;
    return true;
  });
  return n;
}

void ZsetRef::Range(size_t start, size_t stop, bool rev,
                    const std::function<bool(std::string_view, double)>& fn) const {
  if (start >= stop) return;
  if (!packed()) {
    object()->tree.Walk(start, stop, rev, [&](ZNode* n) { return fn(n->key(), n->score); });
    return;
  }
  if (!rev) {
    size_t i = 0;
    ForEachPair(bytes(), [&](size_t, const Pair& p) {
      if (i >= stop) return false;
      if (i++ < start) return true;
      return fn(p.member, p.score);
    });
    return;
  }
  std::vector<size_t> offs;
  offs.reserve(stop);
  ForEachPair(bytes(), [&](size_t off, const Pair&) {
    offs.push_back(off);
    return offs.size() < stop;
  });
  for (size_t i = stop; i-- > start;) {
    Pair p = ReadPair(bytes().data() + offs[i]);
    if (!fn(p.member, p.score)) return;
  }
}

void ZsetRef::RemoveRange(size_t start, size_t stop) {
  if (start >= stop) return;
  if (!packed()) {
    ZsetObject* o = object();
    for (size_t k = start; k < stop; ++k) {
      ZNode* n = o->tree.At(start);
      o->Remove(n->key());
    }
    return;
  }
  size_t i = 0, from = 0, to = bytes().size();
  ForEachPair(bytes(), [&](size_t off, const Pair&) {
    if (i == start) from = off;
    if (i == stop) {
      to = off;
      return false;
    }
    ++i;
    return true;
  });
  Splice(from, to - from, 0);
}

void ZsetRef::ConvertToSkiplist() {
  if (!packed()) return;
  auto* o = new ZsetObject();
  o->dict.Reserve(Size() + 1);
  ForEachPair(bytes(), [&](size_t, const Pair& p) {
    ZNode* n = ZNode::Make(p.member, p.score);
    o->dict.Insert(n, ht::Hash(n->key()));
    o->tree.Insert(n);
    return true;
  });
  Adopt(o, Encoding::kSkiplist);
}

void ZsetRef::ConvertToPackedIfFits(const Limits& lim) {
  if (packed()) return;
  const ZsetObject* o = object();
  if (o->dict.size() > lim.max_entries) return;
  size_t total = 0;
  bool fits = true;
  o->tree.Walk(0, o->tree.size(), false, [&](ZNode* n) {
    if (n->len > lim.max_value) fits = false;
    total += PairSize(n->key(), n->score == 0 ? 0.0 : n->score);
    return fits;
  });
  if (!fits || total > kMaxPackedBytes) return;
  std::string run(total, '\0');
  size_t off = 0;
  o->tree.Walk(0, o->tree.size(), false, [&](ZNode* n) {
    double score = n->score == 0 ? 0.0 : n->score;
    PutPair(run.data() + off, n->key(), score);
    off += PairSize(n->key(), score);
    return true;
  });
  // Assign keeps the entry's object pointer bytes out of the way: build a packed entry anew.
  Entry* old = entry();
  Entry* e = NewPackedEntry(old->key(), ObjType::kZset, Encoding::kListpack, run, -1);
  FreeEntry(old);
  *this = ZsetRef(e);
}

}  // namespace keel
