#pragma once

#include <atomic>
#include <span>
#include <string>
#include <string_view>

// Redis 7.0's ACL: users, their passwords (SHA-256), and what they may run and touch. The users
// live in one process-wide table (its own mutex); a client names its user (Client::acl_user).
//
// The hot path: while every enabled user may run every command on every key and channel (the
// default user alone, as after start-up), AclRestricted() is false and the dispatcher skips the
// check with that one relaxed load.
namespace keel {

class Config;
struct Client;
struct CommandMeta;
struct ServerState;
class CommandRegistry;

namespace acl_internal {
extern std::atomic<bool> restricted;
}  // namespace acl_internal

inline bool AclRestricted() { return acl_internal::restricted.load(std::memory_order_relaxed); }

// The default user's password from requirepass ("" makes it nopass), at start-up and on CONFIG
// SET requirepass, as Redis does.
void AclSetRequirePass(std::string_view pass);
// Whether a new connection starts authenticated (the default user is on and nopass).
bool AclDefaultUserNoPass();
// Whether the default user has the nopass flag (on or off): protected mode refuses non-local
// clients exactly then, as Redis 7.0 does (requirepass and ACL SETUSER default >pw both lift it).
bool AclDefaultUserHasNopassFlag();

// AUTH / HELLO AUTH: true (and the client is now `user`) when the user exists, is on and the
// password matches (or it is nopass). A failure is logged in ACL LOG, `object` being the
// command as sent.
bool AclAuthenticate(ServerState& server, Client& client, std::string_view user,
                     std::string_view pass, std::string_view object);

// The client's command against its user's permissions: "" when allowed, else the NOPERM error
// (logged in ACL LOG, context "multi" inside MULTI). While EXEC runs the queued commands
// (client.in_exec) the error is Redis's "ACLs rules changed ..." text. Call only when
// AclRestricted().
std::string AclCheckCommand(ServerState& server, Client& client, const CommandMeta& meta,
                            std::span<const std::string_view> args);

// A command redis.call / redis.pcall runs for a script's caller: "" when its user may, else the
// script's error text ("ERR The user executing the script can't ..."), logged in ACL LOG with
// context "lua". Call only when AclRestricted().
std::string AclCheckScriptCommand(ServerState& server, Client& caller, const CommandMeta& meta,
                                  std::span<const std::string_view> args);
// Whether the client's user may run the command with these arguments (redis.acl_check_cmd);
// nothing is logged.
bool AclAllows(Client& client, const CommandMeta& meta, std::span<const std::string_view> args);
// Whether the client's user has the skip-sanitize-payload flag (sanitize-dump-payload clients).
bool AclSkipsSanitizePayload(const Client& client);

// acl-pubsub-default and acllog-max-len are read from `config` from now on (main, before
// AclLoadAtStartup). REQUIRES: config outlives the ACL users.
void AclUseConfig(const Config& config);

// Fuzzing and tests: one ACL file line ("user name rule ..."). Returns "" or the error; on
// success *description is the user's ACL LIST text and *round_trip_ok whether loading that text
// again gives the same user (same description, command bits, keys and channels).
std::string AclParseFileLine(std::string_view line, std::string* description, bool* round_trip_ok);

// `user name rule...` lines of the config file: kept (Config's user handler), applied by
// AclLoadAtStartup.
std::string AclConfigUser(std::span<const std::string_view> args);
// At start-up, after the configuration: the config file's users, then `aclfile` if set (empty:
// none). Returns "" or the lines to log before exiting with code 1, as Redis.
std::string AclLoadAtStartup(const std::string& aclfile);

// The client line of CLIENT LIST / ACL LOG's client-info (connection_family.cc).
std::string ClientInfoLine(ServerState& server, const Client& client);

void RegisterAclFamily(CommandRegistry* registry);  // acl_family.cc: ACL

}  // namespace keel
