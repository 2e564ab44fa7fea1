// Hash commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void RegisterHashFamily(CommandRegistry* r) {}

}  // namespace keel
