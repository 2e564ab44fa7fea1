#pragma once

#include <asio.hpp>
#include <string_view>

namespace keel {

class Config;

// protected-mode, as Redis 7.0: while it is on and the default user has no password
// (requirepass empty), a TCP client whose address is not exactly 127.0.0.1 or ::1 gets
// errors::kProtectedModeDenied as soon as it connects and is closed. Unix-socket clients are local
// and never refused. Thread-safe (reads the config's atomics).
bool ProtectedModeRefuses(const Config& config, const asio::ip::address& peer);

}  // namespace keel
