#include "protected_mode.h"

#include "keel/commands/acl.h"
#include "keel/config/config.h"

namespace keel {

bool ProtectedModeRefuses(const Config& config, const asio::ip::address& peer) {
  if (!config.protected_mode()) return false;
  // Redis compares the printed address with "127.0.0.1" and "::1": 127.0.0.2 is refused.
  if (peer.is_v4() && peer.to_v4() == asio::ip::address_v4::loopback()) return false;
  if (peer.is_v6() && peer.to_v6() == asio::ip::address_v6::loopback()) return false;
  // The default user without a password (requirepass empty and no ACL SETUSER default >pw).
  return AclDefaultUserHasNopassFlag();
}

}  // namespace keel
