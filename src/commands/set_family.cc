// Set commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void RegisterSetFamily(CommandRegistry* r) {}

}  // namespace keel
