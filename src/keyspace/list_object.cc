#include "keel/keyspace/list_object.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "keel/keyspace/varint.h"

namespace keel {

namespace {

// The byte limit a negative list-max-listpack-size stands for.
size_t ByteLimit(int64_t node_limit) {
  static constexpr size_t kLimits[] = {4096, 8192, 16384, 32768, 65536};
  int64_t idx = -node_limit - 1;
  if (idx < 0) idx = 0;
  if (idx > 4) idx = 4;
  return kLimits[idx];
}

}  // namespace

ListObject::ListObject(int64_t node_limit) : node_limit_(node_limit) {}

ListObject::~ListObject() { std::free(buf_); }

size_t ListObject::MemoryUsage() const {
  if (!big_) return sizeof(*this) + cap_;
  size_t n = sizeof(*this) + sizeof(*big_);
  for (const std::string& s : *big_) n += sizeof(std::string) + (s.size() > 15 ? s.capacity() : 0);
  return n;
}

Object* ListObject::Clone() const {
  auto* c = new ListObject(node_limit_);
  if (big_) {
    c->big_ = std::make_unique<std::deque<std::string>>(*big_);
  } else if (used_ > 0) {
    c->buf_ = static_cast<char*>(std::malloc(used_));
    if (c->buf_ == nullptr) throw std::bad_alloc();
    std::memcpy(c->buf_, buf_, used_);
    c->used_ = c->cap_ = used_;
    c->count_ = count_;
  }
  return c;
}

size_t ListObject::ElementOffset(size_t i) const {
  size_t off = 0;
  while (i-- > 0) {
    size_t len;
    off += varint::Get(buf_ + off, &len);
    off += len;
  }
  return off;
}

void ListObject::ToBig() {
  auto big = std::make_unique<std::deque<std::string>>();
  ForRange(0, count_ ? count_ - 1 : 0, [&](size_t, std::string_view v) {
    big->emplace_back(v);
    return true;
  });
  if (count_ == 0) big->clear();
  std::free(buf_);
  buf_ = nullptr;
  used_ = cap_ = count_ = 0;
  big_ = std::move(big);
}

void ListObject::MaybeConvert() {
  if (big_) return;
  bool over = node_limit_ > 0 ? count_ > static_cast<uint64_t>(node_limit_)
                              : used_ > ByteLimit(node_limit_);
  if (over) ToBig();
}

void ListObject::Rebuild(const std::deque<std::string>& items) {
  std::free(buf_);
  buf_ = nullptr;
  used_ = cap_ = count_ = 0;
  size_t total = 0;
  for (const auto& s : items) total += varint::Size(s.size()) + s.size();
  if (total > 0) {
    buf_ = static_cast<char*>(std::malloc(total));
    if (buf_ == nullptr) throw std::bad_alloc();
    cap_ = static_cast<uint32_t>(total);
  }
  for (const auto& s : items) {
    used_ += static_cast<uint32_t>(varint::Put(buf_ + used_, s.size()));
    std::memcpy(buf_ + used_, s.data(), s.size());
    used_ += static_cast<uint32_t>(s.size());
  }
  count_ = static_cast<uint32_t>(items.size());
}

void ListObject::Reserve(size_t add) {
  if (used_ + add <= cap_) return;
  size_t ncap = std::max<size_t>(used_ + add, cap_ + cap_ / 2);
  char* nb = static_cast<char*>(std::realloc(buf_, ncap));
  if (nb == nullptr) throw std::bad_alloc();
  buf_ = nb;
  cap_ = static_cast<uint32_t>(ncap);
}

void ListObject::PushFront(std::string_view v) {
  if (big_) {
    big_->emplace_front(v);
    return;
  }
  size_t add = varint::Size(v.size()) + v.size();
  Reserve(add);
  std::memmove(buf_ + add, buf_, used_);
  size_t h = varint::Put(buf_, v.size());
  if (!v.empty()) std::memcpy(buf_ + h, v.data(), v.size());
  used_ += static_cast<uint32_t>(add);
  ++count_;
  MaybeConvert();
}

void ListObject::PushBack(std::string_view v) {
  if (big_) {
    big_->emplace_back(v);
    return;
  }
  size_t add = varint::Size(v.size()) + v.size();
  Reserve(add);
  size_t h = varint::Put(buf_ + used_, v.size());
  if (!v.empty()) std::memcpy(buf_ + used_ + h, v.data(), v.size());
  used_ += static_cast<uint32_t>(add);
  ++count_;
  MaybeConvert();
}

std::string ListObject::PopFront() {
  if (big_) {
    std::string v = std::move(big_->front());
    big_->pop_front();
    return v;
  }
  size_t len;
  size_t h = varint::Get(buf_, &len);
  std::string v(buf_ + h, len);
  std::memmove(buf_, buf_ + h + len, used_ - h - len);
  used_ -= static_cast<uint32_t>(h + len);
  --count_;
  return v;
}

std::string ListObject::PopBack() {
  if (big_) {
    std::string v = std::move(big_->back());
    big_->pop_back();
    return v;
  }
  size_t off = ElementOffset(count_ - 1);
  size_t len;
  size_t h = varint::Get(buf_ + off, &len);
  std::string v(buf_ + off + h, len);
  used_ = static_cast<uint32_t>(off);
  --count_;
  return v;
}

std::string ListObject::At(size_t i) const {
  if (big_) return (*big_)[i];
  size_t off = ElementOffset(i);
  size_t len;
  size_t h = varint::Get(buf_ + off, &len);
  return std::string(buf_ + off + h, len);
}

void ListObject::Set(size_t i, std::string_view v) {
  if (big_) {
    (*big_)[i].assign(v);
    return;
  }
  std::deque<std::string> items;
  ForRange(0, count_ - 1, [&](size_t idx, std::string_view e) {
    items.emplace_back(idx == i ? v : e);
    return true;
  });
  Rebuild(items);
  MaybeConvert();
}

void ListObject::ForRange(size_t from, size_t to,
                          const std::function<bool(size_t, std::string_view)>& fn) const {
  if (size() == 0) return;
  if (big_) {
    for (size_t i = from; i <= to; ++i) {
      if (!fn(i, (*big_)[i])) return;
    }
    return;
  }
  size_t off = ElementOffset(from);
  for (size_t i = from; i <= to; ++i) {
    size_t len;
    off += varint::Get(buf_ + off, &len);
    if (!fn(i, std::string_view(buf_ + off, len))) return;
    off += len;
  }
}

void ListObject::ForBackward(size_t from,
                             const std::function<bool(size_t, std::string_view)>& fn) const {
  if (size() == 0) return;
  if (big_) {
    for (size_t i = from + 1; i-- > 0;) {
      if (!fn(i, (*big_)[i])) return;
    }
    return;
  }
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // small lists only: offsets are cheap
  spans.reserve(from + 1);
  size_t off = 0;
  for (size_t i = 0; i <= from; ++i) {
    size_t len;
    off += varint::Get(buf_ + off, &len);
    spans.emplace_back(static_cast<uint32_t>(off), static_cast<uint32_t>(len));
    off += len;
  }
  for (size_t i = from + 1; i-- > 0;) {
    if (!fn(i, std::string_view(buf_ + spans[i].first, spans[i].second))) return;
  }
}

bool ListObject::Insert(std::string_view pivot, std::string_view v, bool after) {
  if (big_) {
    for (auto it = big_->begin(); it != big_->end(); ++it) {
      if (*it == pivot) {
        big_->insert(after ? it + 1 : it, std::string(v));
        return true;
      }
    }
    return false;
  }
  std::deque<std::string> items;
  bool found = false;
  ForRange(0, count_ ? count_ - 1 : 0, [&](size_t, std::string_view e) {
    if (!found && e == pivot) {
      found = true;
      if (after) {
        items.emplace_back(e);
        items.emplace_back(v);
      } else {
        items.emplace_back(v);
        items.emplace_back(e);
      }
    } else {
      items.emplace_back(e);
    }
    return true;
  });
  if (!found) return false;
  Rebuild(items);
  MaybeConvert();
  return true;
}

size_t ListObject::Remove(std::string_view v, int64_t count) {
  size_t n = size();
  if (n == 0) return 0;
  std::vector<bool> drop(n, false);
  size_t removed = 0;
  uint64_t limit = count == 0 ? UINT64_MAX : static_cast<uint64_t>(count < 0 ? -count : count);
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
  if (big_) {
    std::deque<std::string> kept;
    for (size_t i = 0; i < n; ++i) {
      if (!drop[i]) kept.push_back(std::move((*big_)[i]));
    }
    big_->swap(kept);
    return removed;
  }
  std::deque<std::string> kept;
  ForRange(0, n - 1, [&](size_t i, std::string_view e) {
    if (!drop[i]) kept.emplace_back(e);
    return true;
  });
  Rebuild(kept);
  return removed;
}

void ListObject::Trim(size_t start, size_t stop) {
  if (start > stop || size() == 0) {
    Clear();
    return;
  }
  if (big_) {
    big_->erase(big_->begin() + static_cast<std::ptrdiff_t>(stop + 1), big_->end());
    big_->erase(big_->begin(), big_->begin() + static_cast<std::ptrdiff_t>(start));
    return;
  }
  std::deque<std::string> kept;
  ForRange(start, stop, [&](size_t, std::string_view e) {
    kept.emplace_back(e);
    return true;
  });
  Rebuild(kept);
}

void ListObject::Clear() {
  std::free(buf_);
  buf_ = nullptr;
  used_ = cap_ = count_ = 0;
  if (big_) big_->clear();
}

}  // namespace keel
