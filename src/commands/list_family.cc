// List commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void RegisterListFamily(CommandRegistry* r) {}

}  // namespace keel
