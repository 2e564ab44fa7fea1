// The Lua states' allocator: counts what each state holds and refuses to grow it past its
// limit (see lua_libs.h). A refusal makes Lua raise its memory error ("not enough memory",
// LUA_ERRMEM) in the script; shrinking and freeing always succeed, as Lua requires.
#include <cstdlib>
#include <deque>
#include <mutex>

#include "lua_libs.h"

namespace keel::lua_libs {

void* CountingAlloc(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* account = static_cast<MemoryAccount*>(ud);
  // One writer (the state's thread): plain loads and stores, no read-modify-write.
  size_t used = account->used.load(std::memory_order_relaxed);
  if (new_size == 0) {
    std::free(ptr);
    account->used.store(used - old_size, std::memory_order_relaxed);
    return nullptr;
  }
  if (new_size > old_size && account->limit != 0 && used - old_size + new_size > account->limit) {
    account->refused = true;
    return nullptr;
  }
  void* out = std::realloc(ptr, new_size);
  if (out == nullptr) {
    account->refused = true;
    return nullptr;
  }
  used = used - old_size + new_size;
  account->used.store(used, std::memory_order_relaxed);
  if (used > account->peak) account->peak = used;
  return out;
}

namespace {

struct AccountList {
  std::mutex mu;
  std::deque<MemoryAccount> accounts;  // GUARDED_BY(mu); never shrinks
};

AccountList& Accounts() {
  static auto* list = new AccountList();  // never freed: states close at thread exit
  return *list;
}

}  // namespace

MemoryAccount* NewAccount(bool functions) {
  AccountList& l = Accounts();
  std::lock_guard<std::mutex> lock(l.mu);
  MemoryAccount& a = l.accounts.emplace_back();
  a.functions = functions;
  return &a;
}

size_t StatesMemory(bool functions) {
  AccountList& l = Accounts();
  std::lock_guard<std::mutex> lock(l.mu);
  size_t total = 0;
  for (const MemoryAccount& a : l.accounts) {
    if (a.functions == functions) total += a.used.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace keel::lua_libs
