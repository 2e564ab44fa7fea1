#pragma once

// A small per-thread cache of what a command name resolves to, keyed by the name's bytes exactly
// as the client or the script wrote them (names of at most 16 bytes; longer ones are not kept).
// 64 slots, open addressing over a window of 4 from a hash of every byte, so a script's or a
// pipeline's handful of names do not evict each other (a one-slot-per-first-letter cache made
// HSET, HGET and HINCRBY take turns). Not thread-safe: one per thread (thread_local).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace keel {

template <typename T>
class NameCache {
 public:
  static constexpr size_t kMaxName = 16;

  // The value stored for `name`, or nullptr.
  const T* Find(std::string_view name) const {
    if (name.empty() || name.size() > kMaxName) return nullptr;
    // The name found last first, without hashing: a pipeline repeats one command.
    if (Matches(slots_[last_], name)) return &slots_[last_].value;
    size_t home = Home(name);
    for (size_t i = 0; i < kWindow; ++i) {
      size_t at = (home + i) & (kSlots - 1);
      const Slot& s = slots_[at];
      if (s.len == 0) return nullptr;
      if (Matches(s, name)) {
        last_ = at;
        return &s.value;
      }
    }
    return nullptr;
  }

  // Keeps `value` for `name`: in the first free slot of its window, else in its home slot.
  void Put(std::string_view name, const T& value) {
    if (name.empty() || name.size() > kMaxName) return;
    size_t home = Home(name);
    Slot* target = &slots_[home];
    for (size_t i = 0; i < kWindow; ++i) {
      Slot& s = slots_[(home + i) & (kSlots - 1)];
      if (s.len == 0) {
        target = &s;
        break;
      }
    }
    std::memcpy(target->name, name.data(), name.size());
    target->len = static_cast<uint8_t>(name.size());
    target->value = value;
  }

 private:
  static constexpr size_t kSlots = 64;
  static constexpr size_t kWindow = 4;
  struct Slot {
    char name[kMaxName];
    uint8_t len = 0;  // 0: empty
    T value{};
  };

  static bool Matches(const Slot& s, std::string_view name) {
    return s.len == name.size() && std::memcmp(s.name, name.data(), name.size()) == 0;
  }

  static size_t Home(std::string_view name) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return (h ^ (h >> 15)) & (kSlots - 1);
  }

  Slot slots_[kSlots];
  mutable size_t last_ = 0;  // the slot Find matched last
};

}  // namespace keel
