// String commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void RegisterStringFamily(CommandRegistry* r) {}

}  // namespace keel
