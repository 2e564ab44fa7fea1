// Generic commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void RegisterGenericFamily(CommandRegistry* r) {}

}  // namespace keel
