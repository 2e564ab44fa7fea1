#include "keel/keyspace/value_ref.h"

#include "keel/keyspace/keyspace.h"

namespace keel {

char* ValueRef::Splice(size_t off, size_t erase, size_t insert) {
  size_t old = e_->val_len;
  size_t tail = old - off - erase;
  size_t n = old - erase + insert;
  if (insert > erase) {
    // Grow first (the block may move), then open the gap.
    Rehome(ResizePacked(e_, n));
    char* d = data();
    std::memmove(d + off + insert, d + off + erase, tail);
  } else {
    // Close the gap first, then shrink (only the first n bytes are kept).
    char* d = data();
    std::memmove(d + off + insert, d + off + erase, tail);
    Rehome(ResizePacked(e_, n));
  }
  return data() + off;
}

void ValueRef::Assign(std::string_view bytes, Encoding enc) {
  Rehome(ResizePacked(e_, bytes.size()));
  if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
  e_->enc = enc;
}

void ValueRef::Adopt(Object* obj, Encoding enc) {
  Entry* n = NewObjectEntry(e_->key(), e_->type, enc, obj, e_->expire_ms());
  n->lru = e_->lru;
  Rehome(n);
}

void ValueRef::Rehome(Entry* moved) {
  if (moved == e_) return;
  if (ks_ != nullptr) ks_->Relocate(db_, e_, moved);
  FreeEntryShell(e_);
  e_ = moved;
}

}  // namespace keel
