// The Lua states' allocator: counts what each state holds and refuses to grow it past its
// limit (see lua_libs.h). A refusal makes Lua raise its memory error ("not enough memory",
// LUA_ERRMEM) in the script; shrinking and freeing always succeed, as Lua requires.
#include <cstdlib>

#include "lua_libs.h"

namespace keel::lua_libs {

void* CountingAlloc(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* account = static_cast<MemoryAccount*>(ud);
  if (new_size == 0) {
    std::free(ptr);
    account->used -= old_size;
    return nullptr;
  }
  if (new_size > old_size && account->limit != 0 &&
      account->used - old_size + new_size > account->limit) {
    account->refused = true;
    return nullptr;
  }
  void* out = std::realloc(ptr, new_size);
  if (out == nullptr) {
    account->refused = true;
    return nullptr;
  }
  account->used = account->used - old_size + new_size;
  if (account->used > account->peak) account->peak = account->used;
  return out;
}

}  // namespace keel::lua_libs
