// The commands of Redis 7.0 features a standalone server without them still answers: ROLE,
// FAILOVER and REPLICAOF NO ONE (a master with no replicas), REPLCONF and SYNC for a client that
// wants one snapshot (redis-cli --rdb), the cluster commands (CLUSTER and all
// its subcommands, READONLY, READWRITE, ASKING: "cluster support disabled", as redis-server answers
// with cluster-enabled no) and MODULE (no module is ever loaded: LIST is empty and a LOAD fails as
// a library that cannot be loaded does, after the enable-module-command check). Clients probe these
// to learn what they talk to (a cluster-aware client sends CLUSTER INFO or CLUSTER SLOTS and falls
// back on this error; redis-py, ioredis and the test suites call ROLE); an unknown command would
// stop them. Replies and errors as redis-server 7.0.15 gives them (tests/differential/cases/
// standalone.txt).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_bridge.h"
#include "keel/common/logging.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/parser.h"

namespace keel {

namespace {

// Redis's NET_HOST_STR_LEN: the longest REPLCONF ip-address is one byte less.
constexpr size_t kHostStrLen = 256;

constexpr std::string_view kClusterDisabled = "ERR This instance has cluster support disabled";

// ROLE: a master (Keel has no replication yet) at replication offset 0, with no replicas.
void CmdRole(CommandContext& ctx) {
  ctx.reply.ArrayHeader(3);
  ctx.reply.Bulk("master");
  ctx.reply.Integer(0);  // master_repl_offset, as INFO replication reports it
  ctx.reply.ArrayHeader(0);
}

// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: Redis's argument checks, then the
// answers of a master that has no replica (Keel never has one): nothing to fail over to, and no
// failover in progress to abort.
void CmdFailover(CommandContext& ctx) {
  if (ctx.args.size() == 2 && EqualsIgnoreCase(ctx.args[1], "abort")) {
    ctx.reply.Error("ERR No failover in progress.");
    return;
  }
  bool timeout = false, to = false, force = false;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    if (EqualsIgnoreCase(a, "timeout") && i + 1 < ctx.args.size() && !timeout) {
      std::optional<int64_t> ms = ParseInt64(ctx.args[i + 1]);
      if (!ms) return ctx.reply.Error(errors::kNotInteger);
      if (*ms <= 0) return ctx.reply.Error("ERR FAILOVER timeout must be greater than 0");
      timeout = true;
      ++i;
    } else if (EqualsIgnoreCase(a, "to") && i + 2 < ctx.args.size() && !to) {
      if (!ParseInt64(ctx.args[i + 2])) return ctx.reply.Error(errors::kNotInteger);
      to = true;
      i += 2;
    } else if (EqualsIgnoreCase(a, "force") && !force) {
      force = true;
    } else {
      return ctx.reply.Error(errors::kSyntax);
    }
  }
  ctx.reply.Error("ERR FAILOVER requires connected replicas.");
}

// REPLICAOF (SLAVEOF) NO ONE: this server is a master already. REPLICAOF host port: Redis's port
// check, then a refusal: Keel has no replication yet (docs/commands.md).
void CmdReplicaof(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.args[1], "no") && EqualsIgnoreCase(ctx.args[2], "one")) {
    ctx.reply.Ok();
    return;
  }
  std::optional<int64_t> port = ParseInt64(ctx.args[2]);
  if (!port || *port < 0 || *port > 65535) return ctx.reply.Error("ERR Invalid master port");
  ctx.reply.Error("ERR Keel does not support replication yet: it can only be a master");
}

// REPLCONF option value [option value ...], as a master answers a client that is not (yet) a
// replica: listening-port, ip-address and capa are checked and kept for nothing; ack and getack
// answer nothing; rdb-only and rdb-filter-only shape what a later SYNC sends (redis-cli --rdb,
// --functions-rdb).
void CmdReplconf(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) return ctx.reply.Error(errors::kSyntax);
  bool rdb_only = ctx.client.extras_view().rdb_only;
  bool exclude_data = ctx.client.extras_view().rdb_exclude_data;
  bool exclude_functions = ctx.client.extras_view().rdb_exclude_functions;
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    std::string_view opt = ctx.args[i], value = ctx.args[i + 1];
    if (EqualsIgnoreCase(opt, "listening-port")) {
      if (!ParseInt64(value)) return ctx.reply.Error(errors::kNotInteger);
    } else if (EqualsIgnoreCase(opt, "ip-address")) {
      if (value.size() >= kHostStrLen) {
        return ctx.reply.Error(
            "ERR REPLCONF ip-address provided by replica instance is too long: " +
            std::to_string(value.size()) + " bytes");
      }
    } else if (EqualsIgnoreCase(opt, "capa")) {
      // Capabilities this master does not know are ignored, as Redis does.
    } else if (EqualsIgnoreCase(opt, "ack") || EqualsIgnoreCase(opt, "getack")) {
      return;  // from a replica (there is none) or to a master's replica: no reply
    } else if (EqualsIgnoreCase(opt, "rdb-only")) {
      std::optional<int64_t> n = ParseInt64(value);
      if (!n) return ctx.reply.Error(errors::kNotInteger);
      if (*n < 0 || *n > 1) {
        return ctx.reply.Error("ERR value is out of range, value must between 0 and 1");
      }
      rdb_only = *n == 1;
    } else if (EqualsIgnoreCase(opt, "rdb-filter-only")) {
      // Include filters: "" keeps nothing, "functions" the function libraries.
      std::string copy(value);
      std::vector<std::string_view> filters;
      if (!SplitArgsInPlace(copy.data(), copy.size(), &filters)) {
        return ctx.reply.Error("ERR Missing rdb-filter-only values");
      }
      exclude_data = exclude_functions = true;
      for (std::string_view f : filters) {
        if (!EqualsIgnoreCase(f, "functions")) {
          return ctx.reply.Error("ERR Unsupported rdb-filter-only option: " + std::string(f));
        }
        exclude_functions = false;
      }
    } else {
      return ctx.reply.Error("ERR Unrecognized REPLCONF option: " + std::string(opt));
    }
  }
  if (rdb_only || exclude_data || exclude_functions || ctx.client.has_extras()) {
    ClientExtras& x = ctx.client.extras();
    x.rdb_only = rdb_only;
    x.rdb_exclude_data = exclude_data;
    x.rdb_exclude_functions = exclude_functions;
  }
  ctx.reply.Ok();
}

// SYNC / PSYNC: for a client that sent REPLCONF rdb-only 1, one snapshot streamed as Redis's
// diskless sync sends it (StartRdbTransfer, once this connection has written what it owes and
// handed its socket over); PSYNC sends +FULLRESYNC first. A replica that wants the command stream
// after the snapshot is refused: Keel has no replication yet.
void CmdSync(CommandContext& ctx) {
  const ClientExtras& x = ctx.client.extras_view();
  if (!x.rdb_only) {
    ctx.reply.Error(
        "ERR Keel does not support replication yet: SYNC and PSYNC only serve clients that sent "
        "REPLCONF rdb-only 1 (redis-cli --rdb)");
    return;
  }
  RdbTransfer what;
  what.psync = EqualsIgnoreCase(ctx.args[0], "psync");
  what.exclude_data = x.rdb_exclude_data;
  what.exclude_functions = x.rdb_exclude_functions;
  ServerState* server = &ctx.server;
  ctx.client.extras().on_handoff = [server, what](int fd) { StartRdbTransfer(*server, fd, what); };
  ctx.client.close_after_reply = true;  // no reply: the transfer writes the rest
}

// CLUSTER <any subcommand>, READONLY, READWRITE, ASKING (arity is checked before, as Redis's).
void CmdClusterDisabled(CommandContext& ctx) { ctx.reply.Error(kClusterDisabled); }

// enable-module-command: no, yes, or local (from a loopback or Unix socket client only). False,
// with Redis's refusal sent, when the client may not run MODULE LOAD, LOADEX or UNLOAD.
bool ModuleCommandAllowed(CommandContext& ctx) {
  if (ctx.server.config->ModuleCommandAllowed(IsLocalClient(ctx.client))) return true;
  ctx.reply.Error(
      "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", "
      "you can run it from a local connection, otherwise you need to set this option in the "
      "configuration file, and then restart the server.");
  return false;
}

void CmdModuleList(CommandContext& ctx) { ctx.reply.ArrayHeader(0); }

// MODULE LOAD path [arg ...] / LOADEX path [CONFIG name value ...] [ARGS ...]: Keel cannot run
// Redis modules (they are built against Redis's own module API), so every load fails as an
// unloadable library does in Redis; the log says why.
void CmdModuleLoad(CommandContext& ctx) {
  if (!ModuleCommandAllowed(ctx)) return;
  KEEL_LOG_WARNING("Module {} failed to load: Keel does not load Redis modules",
                   std::string(ctx.args[2]));
  ctx.reply.Error("ERR Error loading the extension. Please check the server logs.");
}

void CmdModuleUnload(CommandContext& ctx) {
  if (!ModuleCommandAllowed(ctx)) return;
  ctx.reply.Error("ERR Error unloading module: no such module with that name");
}

void CmdModuleHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LIST",
      "    Return a list of loaded modules.",
      "LOAD <path> [<arg> ...]",
      "    Load a module library from <path>, passing to it any optional arguments.",
      "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
      "    Load a module library from <path>, while passing it module configurations and "
      "optional arguments.",
      "UNLOAD <name>",
      "    Unload a module.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

void RegisterStandaloneFamily(CommandRegistry* r) {
  r->Register("role", CmdRole, LockMode::kNone);
  r->Register("failover", CmdFailover, LockMode::kNone);
  r->Register("replicaof", CmdReplicaof, LockMode::kNone);
  r->Register("slaveof", CmdReplicaof, LockMode::kNone);
  r->Register("replconf", CmdReplconf, LockMode::kNone);
  r->Register("sync", CmdSync, LockMode::kNone);
  r->Register("psync", CmdSync, LockMode::kNone);
  for (const char* name : {"readonly", "readwrite", "asking"}) {
    r->Register(name, CmdClusterDisabled, LockMode::kNone);
  }
  static constexpr const char* kClusterSubcommands[] = {"addslots",
                                                        "addslotsrange",
                                                        "bumpepoch",
                                                        "count-failure-reports",
                                                        "countkeysinslot",
                                                        "delslots",
                                                        "delslotsrange",
                                                        "failover",
                                                        "flushslots",
                                                        "forget",
                                                        "getkeysinslot",
                                                        "help",
                                                        "info",
                                                        "keyslot",
                                                        "links",
                                                        "meet",
                                                        "myid",
                                                        "nodes",
                                                        "replicas",
                                                        "replicate",
                                                        "reset",
                                                        "saveconfig",
                                                        "set-config-epoch",
                                                        "setslot",
                                                        "shards",
                                                        "slaves",
                                                        "slots"};
  for (const char* sub : kClusterSubcommands) {
    r->Register(std::string("cluster|") + sub, CmdClusterDisabled, LockMode::kNone);
  }
  r->Register("module|list", CmdModuleList, LockMode::kNone);
  r->Register("module|load", CmdModuleLoad, LockMode::kNone);
  r->Register("module|loadex", CmdModuleLoad, LockMode::kNone);
  r->Register("module|unload", CmdModuleUnload, LockMode::kNone);
  r->Register("module|help", CmdModuleHelp, LockMode::kNone);
}

}  // namespace keel
