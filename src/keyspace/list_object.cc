#include "keel/keyspace/list_object.h"

#include <lzf.h>
#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <new>
#include <utility>
#include <vector>

#include "keel/keyspace/varint.h"

namespace keel {

namespace {

// Redis caps a quicklist node at 8 KiB whatever its count limit; a packed list is held to the
// same size, so it always fits its entry.
constexpr size_t kSafetyBytes = 8192;

// The byte limit a negative list-max-listpack-size stands for.
size_t ByteLimit(int64_t node_limit) {
  static constexpr size_t kLimits[] = {4096, 8192, 16384, 32768, 65536};
  int64_t idx = -node_limit - 1;
  if (idx < 0) idx = 0;
  if (idx > 4) idx = 4;
  return kLimits[idx];
}

// How many matches LREM removes for `count` (0: all).
uint64_t RemoveLimit(int64_t count) {
  if (count == 0) return UINT64_MAX;
  return count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
}

// ---- node elements ----
//
// A node element is the packed form (varint length, bytes) followed by the length's varint
// bytes again in reverse order, so the element that ends at a given offset can be read too.

size_t NodeElemSize(std::string_view v) { return packed::ElemSize(v) + varint::Size(v.size()); }

size_t PutNodeElem(char* p, std::string_view v) {
  size_t n = packed::PutElem(p, v);
  char len[10];
  size_t h = varint::Put(len, v.size());
  for (size_t i = 0; i < h; ++i) p[n + i] = len[h - 1 - i];
  return n + h;
}

// The element at p; *size is set to its encoded size.
std::string_view GetNodeElem(const char* p, size_t* size) {
  size_t sz;
  std::string_view v = packed::GetElem(p, &sz);
  *size = sz + (sz - v.size());  // the trailing length is as long as the leading one
  return v;
}

// The element that ends at `end`; *size is set to its encoded size.
std::string_view GetNodeElemBefore(const char* end, size_t* size) {
  size_t len = 0, h = 0;
  int shift = 0;
  for (;;) {
    unsigned char c = static_cast<unsigned char>(*(end - 1 - h));
    ++h;
    len |= static_cast<size_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) break;
    shift += 7;
  }
  *size = 2 * h + len;
  return {end - h - len, len};
}

// Calls fn(offset, size, element) for the elements of node n from byte `off` on, until fn
// returns false. Returns false if fn stopped it.
template <typename F>
bool ForEachInNode(const ListNode* n, size_t off, F&& fn) {
  const char* r = n->run();
  while (off < n->bytes) {
    size_t sz;
    std::string_view v = GetNodeElem(r + off, &sz);
    if (!fn(off, sz, v)) return false;
    off += sz;
  }
  return true;
}

// The same backward, starting with the element that ends at byte `end`.
template <typename F>
bool ForEachInNodeBack(const ListNode* n, size_t end, F&& fn) {
  const char* r = n->run();
  while (end > 0) {
    size_t sz;
    std::string_view v = GetNodeElemBefore(r + end, &sz);
    end -= sz;
    if (!fn(end, sz, v)) return false;
  }
  return true;
}

// ---- node blocks ----

// Whether a node of `count` elements and `bytes` run bytes keeps within the limit. The limit
// counts the node's header too, so that a full node's block is exactly a size class (8 KiB for
// the default -2) as a full Redis listpack is.
bool Fits(const ListNodeLimit& limit, size_t count, size_t bytes) {
  return limit.Allows(count, sizeof(ListNode) + bytes);
}

// How far a node's run grows by doubling: to the limit, header included.
size_t RunCap(const ListNodeLimit& limit) { return limit.max_bytes - sizeof(ListNode); }

// The bytes past the header: the room before the run, the run and the room after it.
size_t Total(const ListNode* n) {
  return malloc_usable_size(const_cast<ListNode*>(n)) - sizeof(ListNode);
}

ListNode* AllocateNode(size_t total) {
  void* mem = std::malloc(sizeof(ListNode) + total);
  if (mem == nullptr) throw std::bad_alloc();
  return static_cast<ListNode*>(mem);
}

ListNodePtr NewNode(size_t bytes) {
  ListNode* n = AllocateNode(bytes);
  n->count = 0;
  n->bytes = 0;
  n->front = 0;
  return ListNodePtr(n);
}

// Replaces run bytes [off, off + erase) of node p by `insert` bytes, whose address is returned
// for the caller to fill (the count is the caller's to update). The shorter side of the edit
// moves: the bytes before it into the room before the run, or the bytes after it into the room
// after the run. When that room is short, the node gets a new block doubled up to `cap` (the node
// limit), with the room on the side that grew, so filling a node from either end copies it only
// a few times. A node left using no more than a quarter of its block is given a block of its
// size.
char* SpliceNode(ListNodePtr& p, size_t off, size_t erase, size_t insert, size_t cap) {
  size_t tail = p->bytes - off - erase;
  size_t n = p->bytes - erase + insert;
  size_t total = Total(p.get());
  bool head_side = off < tail;
  char* base = reinterpret_cast<char*>(p.get() + 1);
  char* r = p->run();
  if (insert <= erase) {
    size_t d = erase - insert;
    if (head_side) {
      std::memmove(r + d, r, off);
      p->front += static_cast<uint32_t>(d);
    } else {
      std::memmove(r + off + insert, r + off + erase, tail);
    }
    p->bytes = static_cast<uint32_t>(n);
    if (total >= 4 * n && total - n >= 64) {
      ListNode* q = AllocateNode(n);
      *q = {p->count, p->bytes, 0};
      std::memcpy(q->run(), p->run(), n);
      p.reset(q);
    }
    return p->run() + off;
  }
  size_t d = insert - erase;
  if (head_side && p->front >= d) {
    std::memmove(r - d, r, off);
    p->front -= static_cast<uint32_t>(d);
    p->bytes = static_cast<uint32_t>(n);
    return p->run() + off;
  }
  if (!head_side && p->front + n <= total) {
    std::memmove(r + off + insert, r + off + erase, tail);
    p->bytes = static_cast<uint32_t>(n);
    return r + off;
  }
  size_t want = std::max(n, std::min(2 * total, cap));
  if (want <= total) {
    // Already as big as it grows: the run moves within its block, all the room to one side.
    size_t front = head_side ? total - n : 0;
    char* to = base + front;
    if (to > r) {  // moving right: the bytes after the edit first
      std::memmove(to + off + insert, r + off + erase, tail);
      std::memmove(to, r, off);
    } else {
      std::memmove(to, r, off);
      std::memmove(to + off + insert, r + off + erase, tail);
    }
    p->front = static_cast<uint32_t>(front);
  } else {
    ListNode* q = AllocateNode(want);
    *q = {p->count, p->bytes, static_cast<uint32_t>(head_side ? want - n : 0)};
    std::memcpy(q->run(), r, off);
    std::memcpy(q->run() + off + insert, r + off + erase, tail);
    p.reset(q);
  }
  p->bytes = static_cast<uint32_t>(n);
  return p->run() + off;
}

// Packs `elems` in order into as few nodes as the limit allows (greedily; an element too big
// for any node gets one of its own).
std::vector<ListNodePtr> Pack(std::span<const std::string_view> elems, const ListNodeLimit& limit) {
  std::vector<ListNodePtr> out;
  for (size_t i = 0; i < elems.size();) {
    size_t bytes = NodeElemSize(elems[i]), j = i + 1;
    while (j < elems.size() && Fits(limit, j - i + 1, bytes + NodeElemSize(elems[j]))) {
      bytes += NodeElemSize(elems[j++]);
    }
    ListNodePtr n = NewNode(bytes);
    char* p = n->run();
    for (size_t k = i; k < j; ++k) p += PutNodeElem(p, elems[k]);
    n->count = static_cast<uint32_t>(j - i);
    n->bytes = static_cast<uint32_t>(bytes);
    out.push_back(std::move(n));
    i = j;
  }
  return out;
}

// Appends node b's elements to node a.
void Append(ListNodePtr& a, const ListNode& b, size_t cap) {
  std::memcpy(SpliceNode(a, a->bytes, 0, b.bytes, cap), b.run(), b.bytes);
  a->count += b.count;
}

// ---- compressed nodes ----

// The compressed form's size field and data, past the header.
char* Packed(ListNode* n) { return reinterpret_cast<char*>(n + 1); }
const char* Packed(const ListNode* n) { return reinterpret_cast<const char*>(n + 1); }
uint32_t PackedSize(const ListNode* n) {
  uint32_t c;
  std::memcpy(&c, Packed(n), sizeof(c));
  return c;
}

// The compressed form of raw node n, or null when it is too small or compression does not save
// enough.
ListNodePtr CompressNode(const ListNode& n) {
  if (n.bytes < ListNode::kMinCompressBytes) return nullptr;
  // lzf_compress fails when the output does not fit: so a success saves enough.
  size_t cap = n.bytes - ListNode::kMinCompressSaving - 1;
  thread_local std::vector<char> buf;
  if (buf.size() < cap) buf.resize(cap);
  unsigned int c = lzf_compress(n.run(), n.bytes, buf.data(), static_cast<unsigned int>(cap));
  if (c == 0) return nullptr;
  ListNode* q = AllocateNode(sizeof(uint32_t) + c);
  *q = {n.count, n.bytes, ListNode::kCompressed};
  uint32_t c32 = c;
  std::memcpy(Packed(q), &c32, sizeof(c32));
  std::memcpy(Packed(q) + sizeof(c32), buf.data(), c);
  return ListNodePtr(q);
}

// The raw form of compressed node n.
ListNodePtr DecompressNode(const ListNode& n) {
  ListNodePtr r = NewNode(n.bytes);
  unsigned int got =
      lzf_decompress(Packed(&n) + sizeof(uint32_t), PackedSize(&n), r->run(), n.bytes);
  if (got != n.bytes) std::abort();  // our own bytes: corrupt memory
  r->count = n.count;
  r->bytes = n.bytes;
  return r;
}

// A copy of node n in the same form.
ListNodePtr CopyNode(const ListNode& n) {
  if (n.compressed()) {
    size_t size = sizeof(uint32_t) + PackedSize(&n);
    ListNode* q = AllocateNode(size);
    std::memcpy(q, &n, sizeof(ListNode) + size);
    return ListNodePtr(q);
  }
  ListNodePtr copy = NewNode(n.bytes);
  copy->count = n.count;
  copy->bytes = n.bytes;
  std::memcpy(copy->run(), n.run(), n.bytes);
  return copy;
}

}  // namespace

ListNodeLimit ListNodeLimit::FromConfig(int64_t list_max_listpack_size, int64_t compress_depth) {
  size_t depth = compress_depth > 0 ? static_cast<size_t>(compress_depth) : 0;
  // Redis: a count limit applies from 0 up (0 makes every node hold one element).
  if (list_max_listpack_size >= 0) {
    return {kSafetyBytes, static_cast<size_t>(list_max_listpack_size), depth};
  }
  return {ByteLimit(list_max_listpack_size), SIZE_MAX, depth};
}

// ---- ListObject ----

size_t ListObject::MemoryUsage() const {
  if (depth_ != 0) Refold();  // what the list holds once the last read's nodes are folded
  size_t n = sizeof(*this) + nodes_.size() * sizeof(ListNodePtr);
  for (const ListNodePtr& node : nodes_) n += malloc_usable_size(node.get());
  return n;
}

size_t ListObject::SampledMemoryUsage(size_t samples) const {
  if (depth_ != 0) Refold();
  if (samples == 0 || samples >= nodes_.size()) return MemoryUsage();
  // Nodes from the head, scaled to the whole list (Redis's quicklist estimate does the same).
  size_t sampled = 0;
  for (size_t i = 0; i < samples; ++i) sampled += malloc_usable_size(nodes_[i].get());
  return sizeof(*this) + nodes_.size() * sizeof(ListNodePtr) + sampled * nodes_.size() / samples;
}

Object* ListObject::Clone() const {
  Refold();
  auto c = std::make_unique<ListObject>(depth_);
  for (const ListNodePtr& n : nodes_) c->nodes_.push_back(CopyNode(*n));
  c->count_ = count_;
  return c.release();
}

// ---- compression ----

ListNode* ListObject::Open(size_t i) const {
  ListNodePtr& n = nodes_[i];
  if (n->compressed()) {
    n = DecompressNode(*n);
    if (Inner(i)) opened_.push_back(i);
  }
  return n.get();
}

void ListObject::Close(size_t i) const {
  ListNodePtr& n = nodes_[i];
  if (n->compressed()) return;
  if (ListNodePtr c = CompressNode(*n)) n = std::move(c);
}

void ListObject::Fold(size_t lo, size_t hi) const {
  hi = std::min(hi, nodes_.size());
  for (size_t i = lo; i < hi; ++i) {
    if (Inner(i)) Close(i);
  }
}

void ListObject::Refold() const {
  for (size_t i : opened_) {
    if (i < nodes_.size() && Inner(i)) Close(i);
  }
  opened_.clear();
}

void ListObject::SettleEnds(size_t extra) const {
  size_t n = nodes_.size(), w = std::min(n, depth_ + extra);
  auto settle = [&](size_t i) {
    if (Inner(i)) {
      Close(i);
    } else {
      Open(i);
    }
  };
  for (size_t i = 0; i < w; ++i) settle(i);
  for (size_t i = std::max(w, n - w); i < n; ++i) settle(i);
}

size_t ListObject::CompressedNodes() const {
  size_t c = 0;
  for (const ListNodePtr& n : nodes_) c += n->compressed() ? 1 : 0;
  return c;
}

ListObject::Pos ListObject::Locate(size_t i) const {
  // Skip whole nodes from the nearer end, then walk the node from its nearer end.
  size_t ni, k;
  if (i < count_ / 2) {
    ni = 0;
    while (i >= nodes_[ni]->count) i -= nodes_[ni++]->count;
    k = i;
  } else {
    size_t back = count_ - 1 - i;
    ni = nodes_.size() - 1;
    while (back >= nodes_[ni]->count) back -= nodes_[ni--]->count;
    k = nodes_[ni]->count - 1 - back;
  }
  const ListNode* n = Open(ni);
  Pos pos{ni, 0, 0};
  auto found = [&](size_t& skip) {
    return [&pos, &skip](size_t off, size_t sz, std::string_view) {
      if (skip-- > 0) return true;
      pos.off = off;
      pos.size = sz;
      return false;
    };
  };
  if (k < n->count / 2) {
    ForEachInNode(n, 0, found(k));
  } else {
    size_t back = n->count - 1 - k;
    ForEachInNodeBack(n, n->bytes, found(back));
  }
  return pos;
}

void ListObject::Push(bool left, std::string_view v, const ListNodeLimit& limit) {
  if (depth_ != 0) Refold();
  size_t sz = NodeElemSize(v), nodes = nodes_.size();
  if (nodes_.empty() || !Fits(limit, (left ? nodes_.front() : nodes_.back())->count + 1,
                              (left ? nodes_.front() : nodes_.back())->bytes + sz)) {
    if (left) {
      nodes_.push_front(NewNode(sz));
    } else {
      nodes_.push_back(NewNode(sz));
    }
  }
  ListNodePtr& n = left ? nodes_.front() : nodes_.back();
  PutNodeElem(SpliceNode(n, left ? 0 : n->bytes, 0, sz, RunCap(limit)), v);
  ++n->count;
  ++count_;
  if (depth_ != 0 && nodes_.size() != nodes) SettleEnds(1);
}

void ListObject::Pop(bool left, const std::function<void(std::string_view)>& take) {
  if (depth_ != 0) Refold();
  ListNodePtr& n = left ? nodes_.front() : nodes_.back();
  size_t sz;
  std::string_view v =
      left ? GetNodeElem(n->run(), &sz) : GetNodeElemBefore(n->run() + n->bytes, &sz);
  take(v);
  --count_;
  if (--n->count == 0) {
    if (left) {
      nodes_.pop_front();
    } else {
      nodes_.pop_back();
    }
    if (depth_ != 0) SettleEnds(1);
  } else {
    SpliceNode(n, left ? 0 : n->bytes - sz, sz, 0, 0);
  }
}

std::string_view ListObject::At(size_t i) const {
  if (depth_ != 0) Refold();
  Pos p = Locate(i);
  size_t sz;
  return GetNodeElem(nodes_[p.node]->run() + p.off, &sz);
}

void ListObject::Set(size_t i, std::string_view v, const ListNodeLimit& limit) {
  if (depth_ != 0) Refold();
  Pos p = Locate(i);
  Edit(p.node, p.off, p.size, 1, {&v, 1}, limit);
}

void ListObject::Edit(size_t ni, size_t off, size_t erase, size_t erase_count,
                      std::span<const std::string_view> adds, const ListNodeLimit& limit) {
  Open(ni);
  if (depth_ != 0) {
    // Once the edit is done: compress the nodes it left (it may split node ni and merge with
    // either neighbour) and settle the ends, which nodes added near one may cross.
    size_t before = nodes_.size();
    EditRaw(ni, off, erase, erase_count, adds, limit);
    size_t grown = nodes_.size() > before ? nodes_.size() - before : 0;
    Fold(ni > 0 ? ni - 1 : 0, ni + grown + 2);
    SettleEnds(grown + 1);
    Refold();
    return;
  }
  EditRaw(ni, off, erase, erase_count, adds, limit);
}

void ListObject::EditRaw(size_t ni, size_t off, size_t erase, size_t erase_count,
                         std::span<const std::string_view> adds, const ListNodeLimit& limit) {
  ListNodePtr& n = nodes_[ni];
  size_t add = 0;
  for (std::string_view v : adds) add += NodeElemSize(v);
  size_t count = n->count - erase_count + adds.size();
  count_ = count_ - erase_count + adds.size();
  if (count <= 1 || Fits(limit, count, n->bytes - erase + add)) {
    char* p = SpliceNode(n, off, erase, add, RunCap(limit));
    for (std::string_view v : adds) p += PutNodeElem(p, v);
    n->count = static_cast<uint32_t>(count);
    return;
  }
  // Over the limit: repack the node's elements with the edit into as many nodes as it takes,
  // then let the last new node merge into the next one and the first into the previous one
  // (so repeated inserts at one place fill nodes instead of leaving small ones behind).
  std::vector<std::string_view> elems;
  elems.reserve(count);
  ForEachInNode(n.get(), 0, [&](size_t o, size_t, std::string_view e) {
    if (o == off) elems.insert(elems.end(), adds.begin(), adds.end());
    if (o < off || o >= off + erase) elems.push_back(e);
    return true;
  });
  if (off == n->bytes) elems.insert(elems.end(), adds.begin(), adds.end());
  std::vector<ListNodePtr> fresh = Pack(elems, limit);  // copies: n may go now
  size_t m = fresh.size();
  n = std::move(fresh[0]);
  nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(ni + 1),
                std::make_move_iterator(fresh.begin() + 1), std::make_move_iterator(fresh.end()));
  MergeAt(ni + m - 1, limit);
  if (ni > 0) MergeAt(ni - 1, limit);
}

void ListObject::MergeAt(size_t i, const ListNodeLimit& limit) {
  if (i + 1 >= nodes_.size()) return;
  ListNodePtr& a = nodes_[i];
  if (!Fits(limit, a->count + nodes_[i + 1]->count, a->bytes + nodes_[i + 1]->bytes)) return;
  Open(i);
  const ListNode& b = *Open(i + 1);
  Append(a, b, RunCap(limit));
  nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(i + 1));
}

void ListObject::ForRange(size_t from, size_t to, const Visitor& fn) const {
  if (depth_ != 0) Refold();
  Pos p = Locate(from);
  size_t i = from;
  for (size_t ni = p.node, off = p.off; ni < nodes_.size(); ++ni, off = 0) {
    bool more = ForEachInNode(
        Open(ni), off, [&](size_t, size_t, std::string_view e) { return i <= to && fn(i++, e); });
    if (!more) return;
  }
}

void ListObject::ForBackward(size_t from, const Visitor& fn) const {
  if (depth_ != 0) Refold();
  Pos p = Locate(from);
  size_t i = from;
  for (size_t ni = p.node + 1; ni-- > 0;) {
    const ListNode* n = Open(ni);
    size_t end = ni == p.node ? p.off + p.size : n->bytes;
    bool more = ForEachInNodeBack(n, end, [&](size_t, size_t, std::string_view e) {
      return fn(i--, e);  // i wraps after index 0, but then there is nothing left to visit
    });
    if (!more) return;
  }
}

bool ListObject::Insert(std::string_view pivot, std::string_view v, bool after,
                        const ListNodeLimit& limit) {
  if (depth_ != 0) Refold();
  for (size_t ni = 0; ni < nodes_.size(); ++ni) {
    size_t at = SIZE_MAX;
    // Nodes opened by the search are below ni: the edit leaves their indexes as they are.
    ForEachInNode(Open(ni), 0, [&](size_t off, size_t sz, std::string_view e) {
      if (e != pivot) return true;
      at = after ? off + sz : off;
      return false;
    });
    if (at != SIZE_MAX) {
      Edit(ni, at, 0, 0, {&v, 1}, limit);
      return true;
    }
  }
  if (depth_ != 0) Refold();
  return false;
}

size_t ListObject::Remove(std::string_view v, int64_t count, const ListNodeLimit& limit) {
  if (depth_ != 0) Refold();
  uint64_t want = RemoveLimit(count);
  bool back = count < 0;
  size_t removed = 0, steps = 0;
  std::vector<std::pair<size_t, size_t>> drops;  // (offset, size) in one node, in order
  for (size_t step = 0; step < nodes_.size() && removed < want; ++step) {
    size_t ni = back ? nodes_.size() - 1 - step : step;
    Open(ni);
    steps = step + 1;
    ListNodePtr& n = nodes_[ni];
    drops.clear();
    auto match = [&](size_t off, size_t sz, std::string_view e) {
      if (e == v) {
        drops.emplace_back(off, sz);
        ++removed;
      }
      return removed < want;
    };
    if (back) {
      ForEachInNodeBack(n.get(), n->bytes, match);
      std::reverse(drops.begin(), drops.end());
    } else {
      ForEachInNode(n.get(), 0, match);
    }
    if (drops.empty()) continue;
    // Close the gaps, then drop the tail.
    char* r = n->run();
    size_t w = drops[0].first;
    for (size_t d = 0; d < drops.size(); ++d) {
      size_t from = drops[d].first + drops[d].second;
      size_t to = d + 1 < drops.size() ? drops[d + 1].first : n->bytes;
      std::memmove(r + w, r + from, to - from);
      w += to - from;
    }
    SpliceNode(n, w, n->bytes - w, 0, 0);
    n->count -= static_cast<uint32_t>(drops.size());
  }
  if (removed == 0) {
    if (depth_ != 0) Refold();
    return 0;
  }
  count_ -= removed;
  // Drop emptied nodes and merge neighbours that now fit together, in one pass.
  size_t w = 0;
  for (size_t r = 0; r < nodes_.size(); ++r) {
    ListNodePtr& n = nodes_[r];
    if (n->count == 0) continue;
    if (w > 0 && Fits(limit, nodes_[w - 1]->count + n->count, nodes_[w - 1]->bytes + n->bytes)) {
      Open(w - 1);
      Open(r);
      Append(nodes_[w - 1], *n, RunCap(limit));
      n.reset();
      continue;
    }
    if (w != r) nodes_[w] = std::move(n);
    ++w;
  }
  nodes_.resize(w);
  if (depth_ != 0) {
    // The scanned nodes (and one they merged into) are now within `steps + 1` of the end the
    // scan began at; nodes may have left the ends' reach.
    opened_.clear();
    if (back) {
      Fold(w > steps + 1 ? w - steps - 1 : 0, w);
    } else {
      Fold(0, steps + 1);
    }
    SettleEnds(1);
  }
  return removed;
}

void ListObject::DropEnd(bool front, size_t k) {
  count_ -= k;
  while (k > 0) {
    ListNodePtr& n = front ? nodes_.front() : nodes_.back();
    if (n->count <= k) {
      k -= n->count;
      if (front) {
        nodes_.pop_front();
      } else {
        nodes_.pop_back();
      }
      continue;
    }
    Open(front ? 0 : nodes_.size() - 1);
    size_t cut = 0, left = k;  // bytes of the first (last) k elements
    auto measure = [&](size_t, size_t sz, std::string_view) {
      cut += sz;
      return --left > 0;
    };
    if (front) {
      ForEachInNode(n.get(), 0, measure);
    } else {
      ForEachInNodeBack(n.get(), n->bytes, measure);
    }
    SpliceNode(n, front ? 0 : n->bytes - cut, cut, 0, 0);
    n->count -= static_cast<uint32_t>(k);
    k = 0;
  }
}

void ListObject::Trim(size_t start, size_t stop) {
  if (depth_ != 0) Refold();
  DropEnd(false, count_ - 1 - stop);
  DropEnd(true, start);
  if (depth_ != 0) {
    opened_.clear();  // the node cut at each end, now raw where it is
    SettleEnds(1);
  }
}

void ListObject::Clear() {
  nodes_.clear();
  opened_.clear();
  count_ = 0;
}

bool ListObject::NodesValid(const ListNodeLimit& limit) const {
  size_t total = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    ListNodePtr n = CopyNode(*nodes_[i]);
    if (n->compressed()) {
      if (!Inner(i)) return false;
      n = DecompressNode(*n);
    }
    if (n->count == 0) return false;
    if (n->count > 1 && !Fits(limit, n->count, n->bytes)) return false;
    size_t fwd = 0, end = 0, bwd = 0;
    ForEachInNode(n.get(), 0, [&](size_t off, size_t sz, std::string_view) {
      ++fwd;
      end = off + sz;
      return end <= n->bytes;
    });
    ForEachInNodeBack(n.get(), n->bytes, [&](size_t, size_t, std::string_view) {
      ++bwd;
      return bwd <= n->count;
    });
    if (fwd != n->count || bwd != n->count || end != n->bytes) return false;
    total += n->count;
  }
  return total == count_;
}

// ---- ListRef ----

Entry* ListRef::NewEntry(std::string_view key) {
  return NewPackedEntry(key, ObjType::kList, Encoding::kQuicklist, {}, -1);
}

size_t ListRef::size() const { return packed() ? packed::CountElems(bytes()) : obj()->size(); }

bool ListRef::empty() const { return packed() ? bytes().empty() : obj()->size() == 0; }

size_t ListRef::Offset(size_t i) const {
  size_t at = bytes().size();
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view) {
    if (i-- > 0) return true;
    at = off;
    return false;
  });
  return at;
}

void ListRef::ToObject() {
  auto obj = std::make_unique<ListObject>(limit_.compress_depth);
  packed::ForEachElem(bytes(), [&](size_t, std::string_view v) {
    obj->Push(false, v, limit_);
    return true;
  });
  Adopt(obj.release(), Encoding::kQuicklist);
}

void ListRef::Push(bool left, std::span<const std::string_view> values) {
  if (packed()) {
    size_t add = 0;
    for (std::string_view v : values) add += packed::ElemSize(v);
    if (Over(bytes().size() + add, size() + values.size())) {
      ToObject();
    } else {
      // One splice for all of them: at the head they land in reverse order.
      char* p = Splice(left ? 0 : bytes().size(), 0, add);
      for (size_t i = 0; i < values.size(); ++i) {
        p += packed::PutElem(p, values[left ? values.size() - 1 - i : i]);
      }
      return;
    }
  }
  ListObject* o = obj();
  for (std::string_view v : values) o->Push(left, v, limit_);
}

std::string ListRef::Pop(bool left) {
  std::string out;
  Pop(left, [&](std::string_view v) { out.assign(v); });
  return out;
}

void ListRef::Pop(bool left, const std::function<void(std::string_view)>& take) {
  if (!packed()) {
    obj()->Pop(left, take);
    return;
  }
  size_t off = 0;
  if (!left) {
    packed::ForEachElem(bytes(), [&](size_t o, std::string_view) {
      off = o;
      return true;
    });
  }
  size_t sz;
  take(packed::GetElem(bytes().data() + off, &sz));
  Splice(off, sz, 0);
}

std::string ListRef::At(size_t i) const {
  if (!packed()) return std::string(obj()->At(i));
  size_t sz;
  return std::string(packed::GetElem(bytes().data() + Offset(i), &sz));
}

void ListRef::Set(size_t i, std::string_view v) {
  if (!packed()) {
    obj()->Set(i, v, limit_);
    return;
  }
  size_t off = Offset(i);
  size_t old;
  packed::GetElem(bytes().data() + off, &old);
  packed::PutElem(Splice(off, old, packed::ElemSize(v)), v);
  if (Over(bytes().size(), size())) ToObject();
}

void ListRef::ForRange(size_t from, size_t to,
                       const std::function<bool(size_t, std::string_view)>& fn) const {
  if (empty()) return;
  if (!packed()) {
    size_t n = obj()->size();
    if (from < n) obj()->ForRange(from, std::min(to, n - 1), fn);
    return;
  }
  size_t i = from;
  packed::ForEachElem(bytes().substr(Offset(from)), [&](size_t, std::string_view v) {
    if (i > to || !fn(i, v)) return false;
    ++i;
    return true;
  });
}

void ListRef::ForBackward(size_t from,
                          const std::function<bool(size_t, std::string_view)>& fn) const {
  if (empty()) return;
  if (!packed()) {
    obj()->ForBackward(from, fn);
    return;
  }
  std::vector<std::string_view> elems;  // small lists only: collecting them is cheap
  elems.reserve(from + 1);
  packed::ForEachElem(bytes(), [&](size_t, std::string_view v) {
    elems.push_back(v);
    return elems.size() <= from;
  });
  for (size_t i = from + 1; i-- > 0;) {
    if (!fn(i, elems[i])) return;
  }
}

bool ListRef::Insert(std::string_view pivot, std::string_view v, bool after) {
  if (!packed()) return obj()->Insert(pivot, v, after, limit_);
  size_t at = SIZE_MAX;
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view e) {
    if (e != pivot) return true;
    at = after ? off + packed::ElemSize(e) : off;
    return false;
  });
  if (at == SIZE_MAX) return false;
  packed::PutElem(Splice(at, 0, packed::ElemSize(v)), v);
  if (Over(bytes().size(), size())) ToObject();
  return true;
}

size_t ListRef::Remove(std::string_view v, int64_t count) {
  if (!packed()) return obj()->Remove(v, count, limit_);
  size_t n = size();
  if (n == 0) return 0;
  std::vector<bool> drop(n, false);
  size_t removed = 0;
  uint64_t limit = RemoveLimit(count);
  auto mark = [&](size_t i, std::string_view e) {
    if (e == v) {
      drop[i] = true;
      ++removed;
    }
    return removed < limit;
  };
  if (count >= 0) {
    ForRange(0, n - 1, mark);
  } else {
    ForBackward(n - 1, mark);
  }
  if (removed == 0) return 0;
  // Compact the kept elements in place, then drop the tail.
  char* d = data();
  size_t w = 0, i = 0;
  packed::ForEachElem(bytes(), [&](size_t off, std::string_view e) {
    size_t sz = packed::ElemSize(e);
    if (!drop[i++]) {
      std::memmove(d + w, d + off, sz);
      w += sz;
    }
    return true;
  });
  Splice(w, bytes().size() - w, 0);
  return removed;
}

void ListRef::Trim(size_t start, size_t stop) {
  if (!packed()) {
    obj()->Trim(start, stop);
    return;
  }
  size_t end = Offset(stop + 1);
  Splice(end, bytes().size() - end, 0);
  Splice(0, Offset(start), 0);
}

void ListRef::Clear() {
  if (!packed()) {
    obj()->Clear();
    return;
  }
  Splice(0, bytes().size(), 0);
}

}  // namespace keel
