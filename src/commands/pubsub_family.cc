// Publish/subscribe commands.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"

namespace keel {

void PubsubUnsubscribeAll(ServerState& server, Client& client, ReplyBuilder* reply) {}

void RegisterPubsubFamily(CommandRegistry* r) {}

}  // namespace keel
