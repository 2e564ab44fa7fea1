#include "keel/net/protected_mode.h"

#include "keel/config/config.h"

namespace keel {

const std::string_view kProtectedModeDenied =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

bool ProtectedModeRefuses(const Config& config, const asio::ip::address& peer) {
  if (!config.protected_mode()) return false;
  // Redis compares the printed address with "127.0.0.1" and "::1": 127.0.0.2 is refused.
  if (peer.is_v4() && peer.to_v4() == asio::ip::address_v4::loopback()) return false;
  if (peer.is_v6() && peer.to_v6() == asio::ip::address_v6::loopback()) return false;
  return config.requirepass().empty();
}

}  // namespace keel
