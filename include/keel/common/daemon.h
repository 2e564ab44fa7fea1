#pragma once

#include <string>

namespace keel {

// Process set-up as redis-server does it (`daemonize`, `pidfile`). Called from main() only.

// Detaches from the terminal: fork (the parent exits 0), setsid, standard streams to /dev/null,
// so `logfile ""` logs nothing once daemonized. REQUIRES: no threads started yet.
void Daemonize();

// The pidfile a daemonized server writes when `pidfile` is not set (Redis: /var/run/redis.pid).
inline constexpr const char* kDefaultPidFile = "/var/run/keel.pid";

// Writes getpid() and a newline to `path`. Best effort, as in Redis: false when it could not,
// and the caller logs a warning and carries on.
bool WritePidFile(const std::string& path);

}  // namespace keel
