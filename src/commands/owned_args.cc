#include "keel/commands/owned_args.h"

namespace keel::owned_args {

namespace {
thread_local std::vector<std::unique_ptr<std::string>>* t_lent = nullptr;
thread_local uint64_t t_taken = 0;
}  // namespace

void Lend(std::vector<std::unique_ptr<std::string>>* args) { t_lent = args; }

std::unique_ptr<std::string> Take(std::string_view arg) {
  if (t_lent == nullptr) return nullptr;
  for (auto& s : *t_lent) {
    if (s != nullptr && s->data() == arg.data() && s->size() == arg.size()) {
      ++t_taken;
      return std::move(s);
    }
  }
  return nullptr;
}

bool Any() { return t_lent != nullptr && !t_lent->empty(); }

uint64_t TakenCount() { return t_taken; }

}  // namespace keel::owned_args
