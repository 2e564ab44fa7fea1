#pragma once

#include <cstdint>
#include <string_view>

namespace keel {

// Process supervision: the `supervised` option, as in Redis 7.0, plus systemd's watchdog and
// start-timeout extension.
//
// Under systemd (Type=notify, NOTIFY_SOCKET in the environment) Keel tells the service manager
// how start-up and shutdown go with sd_notify(3) datagrams: `STATUS=...` lines, `READY=1` once
// connections are accepted, `STOPPING=1` when shutdown begins, `WATCHDOG=1` while every event
// loop makes progress (WatchdogSec=), and `EXTEND_TIMEOUT_USEC=` during a long start-up. Under
// upstart, readiness is signalled by stopping the process (raise(SIGSTOP)), as Redis does.
//
// The datagram protocol is written here directly (a few lines, documented in sd_notify(3))
// rather than linking libsystemd, so the binary has no hard dependency on it.
//
// Thread-safety: InitSupervision runs once in main() before any thread starts; every other
// function may be called from any thread afterwards. Each is a no-op when the process is not
// supervised by systemd (ExtendStartTimeout and the Notify* calls simply return false).

enum class SupervisedMode { kNo = 0, kUpstart = 1, kSystemd = 2, kAuto = 3 };

// Resolves `auto` from the environment (NOTIFY_SOCKET: systemd, UPSTART_JOB: upstart), checks
// that the requested supervisor is really there and logs what was found in Redis's words.
// Returns the effective mode (kNo when the requested supervisor is absent).
SupervisedMode InitSupervision(SupervisedMode requested);
// The effective mode, kNo before InitSupervision.
SupervisedMode Supervision();
// "no", "upstart", "systemd" or "unknown", as INFO's process_supervised.
std::string_view SupervisionName(SupervisedMode mode);

// Sends one sd_notify state block ("READY=1", "STATUS=...", several lines joined with '\n').
// Returns true when it was sent to the systemd notify socket.
bool SystemdNotify(std::string_view state);

// STATUS=<text>: a free-form line `systemctl status` shows.
bool NotifyStatus(std::string_view text);
// Start-up is complete: systemd gets "STATUS=Ready to accept connections" and READY=1; upstart
// gets SIGSTOP. Call once, from the running event loop.
void NotifyReady();
// Shutdown has begun: STOPPING=1.
bool NotifyStopping();

// Asks systemd for `usec` more microseconds before it gives up on the start-up (or the stop)
// in progress: EXTEND_TIMEOUT_USEC=<usec>. A long dataset load calls it every few seconds with
// a margin (e.g. every 5 s with 15 s), so the unit's TimeoutStartSec= bounds a stuck load, not
// a big one. Returns true when it was sent.
bool ExtendStartTimeout(uint64_t usec);

// The watchdog period systemd asked for (WATCHDOG_USEC, honouring WATCHDOG_PID), 0 when none.
uint64_t WatchdogUsec();
// WATCHDOG=1.
bool NotifyWatchdog();

}  // namespace keel
