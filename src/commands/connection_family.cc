// Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET and CLIENT.
#include <string>

#include "blocking.h"
#include "keel/commands/acl.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_bridge.h"
#include "keel/commands/server_state.h"
#include "keel/commands/tracking.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

constexpr std::string_view kKeelVersion = "0.1.0";
constexpr std::string_view kRedisVersion = "7.0.15";

// PING [message]
void CmdPing(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    ctx.reply.Error(errors::WrongArity("ping"));
    return;
  }
  if (ctx.client.pubsub_count > 0 && ctx.client.protocol == ReplyBuilder::kResp2) {
    // A subscribed RESP2 client's PING answers in the message format: ["pong", message or ""].
    // In RESP3 messages are pushes, and PING answers as usual.
    ctx.reply.ArrayHeader(2);
    ctx.reply.Bulk("pong");
    ctx.reply.Bulk(ctx.args.size() == 2 ? ctx.args[1] : std::string_view());
    return;
  }
  if (ctx.args.size() == 1) {
    ctx.reply.SimpleString("PONG");
  } else {
    ctx.reply.Bulk(ctx.args[1]);
  }
}

// ECHO message
void CmdEcho(CommandContext& ctx) { ctx.reply.Bulk(ctx.args[1]); }

// QUIT
void CmdQuit(CommandContext& ctx) {
  ctx.reply.Ok();
  ctx.client.close_after_reply = true;
}

// SELECT index
void CmdSelect(CommandContext& ctx) {
  auto index = ParseInt64(ctx.args[1]);
  if (!index) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (*index < INT32_MIN || *index > INT32_MAX) {
    ctx.reply.Error(errors::kIntRange);
    return;
  }
  if (*index < 0 || *index >= ServerDatabases(ctx.server)) {
    ctx.reply.Error(errors::kDbIndexOutOfRange);
    return;
  }
  ctx.client.db.store(static_cast<int>(*index), std::memory_order_relaxed);
  ctx.reply.Ok();
}

// AUTH [username] password
void CmdAuth(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  std::string_view user = "default";
  std::string_view pass = ctx.args[1];
  if (ctx.args.size() == 3) {
    user = ctx.args[1];
    pass = ctx.args[2];
  } else if (AclDefaultUserNoPass()) {
    ctx.reply.Error(errors::kAuthNotSet);
    return;
  }
  if (!AclAuthenticate(ctx.server, ctx.client, user, pass, ctx.args[0])) {
    ctx.reply.Error(errors::kWrongPass);
    return;
  }
  ctx.client.authenticated = true;
  ctx.reply.Ok();
}

// Client names are printable ASCII without spaces (Redis's rule).
bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
void CmdHello(CommandContext& ctx) {
  auto args = ctx.args;
  // Without a version HELLO keeps the connection's protocol.
  int64_t proto = ctx.client.protocol;
  size_t i = 1;
  if (args.size() >= 2) {
    auto v = ParseInt64(args[1]);
    if (!v) {
      ctx.reply.Error(errors::kProtoVersion);
      return;
    }
    if (*v != ReplyBuilder::kResp2 && *v != ReplyBuilder::kResp3) {
      ctx.reply.Error(errors::kNoProto);
      return;
    }
    proto = *v;
    i = 2;
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (; i < args.size(); ++i) {
    size_t left = args.size() - i - 1;
    if (EqualsIgnoreCase(args[i], "auth") && left >= 2) {
      has_auth = true;
      user = args[i + 1];
      pass = args[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "setname") && left >= 1) {
      has_name = true;
      name = args[i + 1];
      i += 1;
      // Checked while parsing, before AUTH is tried (as Redis does).
      if (!ValidClientName(name)) {
        ctx.reply.Error(errors::kBadClientName);
        return;
      }
    } else {
      ctx.reply.Error(errors::HelloSyntax(args[i]));
      return;
    }
  }
  if (has_auth) {
    if (!AclAuthenticate(ctx.server, ctx.client, user, pass, ctx.args[0])) {
      ctx.reply.Error(errors::kWrongPass);
      return;
    }
    ctx.client.authenticated = true;
  }
  if (!ctx.client.authenticated) {
    ctx.reply.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time");
    return;
  }
  if (has_name) {
    std::lock_guard<std::mutex> lock(ctx.client.mu);
    ctx.client.name.assign(name);
  }
  // Every check passed: only now does the protocol change, and this reply is already in it.
  bool changed = ctx.client.protocol != proto;
  ctx.client.protocol = static_cast<int>(proto);
  ctx.reply.SetProtocol(ctx.client.protocol);
  if (changed && ctx.client.pubsub_count > 0) PubsubProtocolChanged(ctx.client);
  ctx.reply.MapHeader(7);
  ctx.reply.Bulk("server");
  ctx.reply.Bulk("redis");
  ctx.reply.Bulk("version");
  ctx.reply.Bulk(kRedisVersion);
  ctx.reply.Bulk("proto");
  ctx.reply.Integer(proto);
  ctx.reply.Bulk("id");
  ctx.reply.Integer(static_cast<int64_t>(ctx.client.id));
  ctx.reply.Bulk("mode");
  ctx.reply.Bulk("standalone");
  ctx.reply.Bulk("role");
  ctx.reply.Bulk("master");
  ctx.reply.Bulk("modules");
  ctx.reply.EmptyArray();
}

// RESET
void CmdReset(CommandContext& ctx) {
  Client& c = ctx.client;
  ctx.server.dispatcher->DiscardTransaction(c);
  PubsubUnsubscribeAll(ctx.server, c, /*reply=*/nullptr);
  c.db.store(0, std::memory_order_relaxed);
  c.reply_mode = ReplyMode::kOn;
  c.protocol = ReplyBuilder::kResp2;
  ctx.reply.SetProtocol(ReplyBuilder::kResp2);
  if (ctx.server.tracking != nullptr) ctx.server.tracking->Disable(c);
  // CLIENT NO-EVICT stays on, as in Redis 7.0.
  c.flags.fetch_and(~kClientMonitor);
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.name.clear();
    c.acl_user = "default";
  }
  c.acl_unrestricted_gen = 0;
  c.authenticated = AclDefaultUserNoPass();
  ctx.reply.SimpleString("RESET");
}

// ---- CLIENT ----

void AppendClientLine(ServerState& server, const Client& c, int64_t now_ms, std::string* out) {
  std::string name, lib_name, lib_ver, cmd, user;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    name = c.name;
    user = c.acl_user;
    lib_name = c.lib_name;
    lib_ver = c.lib_ver;
    const char* last = c.last_cmd.load(std::memory_order_acquire);
    cmd = last == nullptr ? "NULL" : std::string(last, c.last_cmd_len.load());
  }
  uint32_t flags = c.flags.load(std::memory_order_relaxed);
  uint64_t qbuf = c.qbuf.load(std::memory_order_relaxed);
  uint64_t obl = c.obl.load(std::memory_order_relaxed);
  // The connection's accounted memory (keel/commands/client_eviction.h); 0 for a client that
  // has no connection (or has not measured itself yet).
  uint64_t qbuf_free = c.qbuf_free.load(std::memory_order_relaxed);
  uint64_t omem = c.omem.load(std::memory_order_relaxed);
  uint64_t multi_mem = c.multi_mem.load(std::memory_order_relaxed);
  uint64_t tot_mem = c.tot_mem.load(std::memory_order_relaxed);
  int64_t age = (now_ms - c.ctime_ms) / 1000;
  int64_t idle = (now_ms - c.last_interaction_ms.load(std::memory_order_relaxed)) / 1000;
  bool blocked;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    blocked = c.waiter != nullptr;
  }
  // Redis's letters, in its order.
  std::string flag_str;
  if (flags & kClientMonitor) flag_str += 'O';
  if (flags & kClientPubsub) flag_str += 'P';
  if (blocked) flag_str += 'b';
  // Client-side caching: t (tracking), R (its redirect is gone), B (BCAST); redir= is the
  // redirect (0 for none) while tracking, else -1.
  TrackingInfo tracking;
  if (server.tracking != nullptr) tracking = server.tracking->Info(c.id);
  if (tracking.on) {
    flag_str += 't';
    if (tracking.broken_redirect) flag_str += 'R';
    if (tracking.mode.bcast) flag_str += 'B';
  }
  if (flags & kClientNoEvict) flag_str += 'e';
  if (flag_str.empty()) flag_str = "N";
  int64_t redir = tracking.on ? static_cast<int64_t>(tracking.mode.redirect) : -1;
  *out += "id=" + std::to_string(c.id) + " addr=" + c.addr + " laddr=" + c.laddr +
          " fd=" + std::to_string(c.fd) + " name=" + name + " age=" + std::to_string(age) +
          " idle=" + std::to_string(idle < 0 ? 0 : idle) + " flags=" + flag_str +
          " db=" + std::to_string(c.db.load(std::memory_order_relaxed)) +
          " sub=0 psub=0 ssub=0 multi=-1 qbuf=" + std::to_string(qbuf) +
          " qbuf-free=" + std::to_string(qbuf_free) +
          " argv-mem=0 multi-mem=" + std::to_string(multi_mem) +
          " rbs=16384 rbp=16384 obl=" + std::to_string(obl) +
          " oll=0 omem=" + std::to_string(omem) + " tot-mem=" + std::to_string(tot_mem) +
          " events=r cmd=" + cmd + " user=" + user + " redir=" + std::to_string(redir) +
          " resp=" + std::to_string(c.protocol) + "\n";
}

bool ParseClientType(std::string_view t, bool* normal) {
  if (EqualsIgnoreCase(t, "normal")) {
    *normal = true;
    return true;
  }
  if (EqualsIgnoreCase(t, "master") || EqualsIgnoreCase(t, "replica") ||
      EqualsIgnoreCase(t, "slave") || EqualsIgnoreCase(t, "pubsub")) {
    *normal = false;  // Keel has no replicas, masters or (yet) pub/sub clients.
    return true;
  }
  return false;
}

// CLIENT LIST [TYPE type] [ID id [id ...]]
void CmdClientList(CommandContext& ctx) {
  auto args = ctx.args;
  bool match_type = true;
  std::vector<uint64_t> ids;
  bool filter_ids = false;
  if (args.size() == 4 && EqualsIgnoreCase(args[2], "type")) {
    if (!ParseClientType(args[3], &match_type)) {
      ctx.reply.Error(errors::UnknownClientType(args[3]));
      return;
    }
  } else if (args.size() > 3 && EqualsIgnoreCase(args[2], "id")) {
    filter_ids = true;
    for (size_t i = 3; i < args.size(); ++i) {
      auto id = ParseInt64(args[i]);
      if (!id || *id <= 0) {
        ctx.reply.Error(errors::kInvalidClientId);
        return;
      }
      ids.push_back(static_cast<uint64_t>(*id));
    }
  } else if (args.size() != 2) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  std::string out;
  int64_t now = NowUnixMs();
  if (match_type) {
    ctx.server.clients.ForEach([&](Client& c) {
      if (filter_ids && std::find(ids.begin(), ids.end(), c.id) == ids.end()) return;
      AppendClientLine(ctx.server, c, now, &out);
    });
  }
  ctx.reply.Verbatim(out);
}

// CLIENT INFO
void CmdClientInfo(CommandContext& ctx) {
  std::string out;
  AppendClientLine(ctx.server, ctx.client, NowUnixMs(), &out);
  ctx.reply.Verbatim(out);
}

// CLIENT ID
void CmdClientId(CommandContext& ctx) { ctx.reply.Integer(static_cast<int64_t>(ctx.client.id)); }

// CLIENT SETNAME name
void CmdClientSetName(CommandContext& ctx) {
  if (!ValidClientName(ctx.args[2])) {
    ctx.reply.Error(errors::kBadClientName);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(ctx.client.mu);
    ctx.client.name.assign(ctx.args[2]);
  }
  ctx.reply.Ok();
}

// CLIENT GETNAME
void CmdClientGetName(CommandContext& ctx) {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(ctx.client.mu);
    name = ctx.client.name;
  }
  if (name.empty()) {
    ctx.reply.NullBulk();
  } else {
    ctx.reply.Bulk(name);
  }
}

// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2's addition, which current client libraries
// send after connecting).
void CmdClientSetInfo(CommandContext& ctx) {
  std::string_view attr = ctx.args[2], value = ctx.args[3];
  bool is_name = EqualsIgnoreCase(attr, "lib-name");
  if (!is_name && !EqualsIgnoreCase(attr, "lib-ver")) {
    ctx.reply.Error(errors::UnrecognizedOption(attr));
    return;
  }
  for (char c : value) {
    if (c < '!' || c > '~') {
      ctx.reply.Error(errors::BadLibAttribute(is_name ? "lib-name" : "lib-ver"));
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(ctx.client.mu);
    (is_name ? ctx.client.lib_name : ctx.client.lib_ver).assign(value);
  }
  ctx.reply.Ok();
}

// CLIENT REPLY ON|OFF|SKIP
void CmdClientReply(CommandContext& ctx) {
  std::string_view mode = ctx.args[2];
  if (EqualsIgnoreCase(mode, "on")) {
    ctx.client.reply_mode = ReplyMode::kOn;
    ctx.reply.Ok();
  } else if (EqualsIgnoreCase(mode, "off")) {
    ctx.client.reply_mode = ReplyMode::kOff;
  } else if (EqualsIgnoreCase(mode, "skip")) {
    if (ctx.client.reply_mode == ReplyMode::kOn) ctx.client.reply_mode = ReplyMode::kSkipNext;
  } else {
    ctx.reply.Error(errors::kSyntax);
  }
}

// CLIENT NO-EVICT ON|OFF
void CmdClientNoEvict(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.args[2], "on")) {
    ctx.client.no_evict = true;
    ctx.client.flags.fetch_or(kClientNoEvict);
  } else if (EqualsIgnoreCase(ctx.args[2], "off")) {
    ctx.client.no_evict = false;
    ctx.client.flags.fetch_and(~kClientNoEvict);
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  ctx.reply.Ok();
}

// CLIENT KILL ip:port | CLIENT KILL <filter value> ...
void CmdClientKill(CommandContext& ctx) {
  auto args = ctx.args;
  if (args.size() == 3) {
    // Old form: the address of one client; an error when nobody matches.
    std::shared_ptr<Client> victim;
    ctx.server.clients.ForEach([&](Client& c) {
      if (!victim && c.addr == args[2]) victim = ctx.server.clients.Find(c.id);
    });
    if (!victim) {
      ctx.reply.Error(errors::kNoSuchClient);
      return;
    }
    ctx.reply.Ok();
    if (victim->id == ctx.client.id) {
      ctx.client.close_after_reply = true;
    } else if (auto h = victim->handle.lock()) {
      h->Kill();
    }
    return;
  }
  if (args.size() % 2 != 0) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  uint64_t id = 0;
  bool match_type = true, skipme = true;
  std::string_view addr, laddr, user;
  bool has_addr = false, has_laddr = false, has_user = false;
  for (size_t i = 2; i < args.size(); i += 2) {
    std::string_view opt = args[i], val = args[i + 1];
    if (EqualsIgnoreCase(opt, "id")) {
      auto v = ParseInt64(val);
      if (!v || *v <= 0) {
        ctx.reply.Error(errors::kClientIdPositive);
        return;
      }
      id = static_cast<uint64_t>(*v);
    } else if (EqualsIgnoreCase(opt, "type")) {
      if (!ParseClientType(val, &match_type)) {
        ctx.reply.Error(errors::UnknownClientType(val));
        return;
      }
    } else if (EqualsIgnoreCase(opt, "addr")) {
      addr = val;
      has_addr = true;
    } else if (EqualsIgnoreCase(opt, "laddr")) {
      laddr = val;
      has_laddr = true;
    } else if (EqualsIgnoreCase(opt, "user")) {
      if (val != "default") {
        ctx.reply.Error(errors::NoSuchUser(val));
        return;
      }
      user = val;
      has_user = true;
    } else if (EqualsIgnoreCase(opt, "skipme")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        ctx.reply.Error(errors::kSyntax);
        return;
      }
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  (void)user;
  (void)has_user;
  std::vector<std::shared_ptr<Client>> victims;
  if (match_type) {
    ctx.server.clients.ForEach([&](Client& c) {
      if (id != 0 && c.id != id) return;
      if (has_addr && c.addr != addr) return;
      if (has_laddr && c.laddr != laddr) return;
      if (skipme && c.id == ctx.client.id) return;
      victims.push_back(ctx.server.clients.Find(c.id));
    });
  }
  int64_t killed = 0;
  for (auto& v : victims) {
    if (!v) continue;
    ++killed;
    if (v->id == ctx.client.id) {
      ctx.client.close_after_reply = true;
    } else if (auto h = v->handle.lock()) {
      h->Kill();
    }
  }
  ctx.reply.Integer(killed);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: nothing blocks yet, so no client is ever unblocked.
void CmdClientUnblock(CommandContext& ctx) {
  if (!ParseInt64(ctx.args[2])) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  if (ctx.args.size() == 4 && !EqualsIgnoreCase(ctx.args[3], "timeout") &&
      !EqualsIgnoreCase(ctx.args[3], "error")) {
    ctx.reply.Error(errors::kUnblockReason);
    return;
  }
  bool error = ctx.args.size() == 4 && EqualsIgnoreCase(ctx.args[3], "error");
  auto id = ParseInt64(ctx.args[2]);
  std::shared_ptr<Client> target =
      *id > 0 ? ctx.server.clients.Find(static_cast<uint64_t>(*id)) : nullptr;
  ctx.reply.Integer(target && UnblockClient(ctx.server, *target, error) ? 1 : 0);
}

// CLIENT HELP
void CmdClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CACHING (YES|NO)",
      "    In OPTIN or OPTOUT tracking mode, track (or not) the keys of the next command.",
      "GETREDIR",
      "    Return the id of the client receiving this connection's invalidations.",
      "GETNAME",
      "    Return the name of this connection.",
      "ID",
      "    Return the id of this connection.",
      "INFO",
      "    Return the CLIENT LIST line of this connection.",
      "KILL <ip:port>",
      "    Close the connection from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Close the connections matching every filter: ID, ADDR, LADDR, TYPE, USER,",
      "    SKIPME (YES|NO, default YES).",
      "LIST [TYPE <type>|ID <id> [<id> ...]]",
      "    List the connected clients.",
      "NO-EVICT (ON|OFF)",
      "    Exempt this connection from client eviction.",
      "REPLY (ON|OFF|SKIP)",
      "    Turn replies to this connection's commands on or off, or skip the next one.",
      "SETINFO <LIB-NAME|LIB-VER> <value>",
      "    Record the client library's name or version.",
      "SETNAME <name>",
      "    Name this connection.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT]",
      "         [NOLOOP]",
      "    Turn client-side caching's invalidation messages on or off.",
      "TRACKINGINFO",
      "    Describe this connection's client-side caching state.",
      "UNBLOCK <id> [TIMEOUT|ERROR]",
      "    Unblock a client blocked by a blocking command.",
      "HELP",
      "    Print this help."};
  ctx.reply.StatusLines(kLines);
}

}  // namespace

std::string ClientInfoLine(ServerState& server, const Client& client) {
  std::string out;
  AppendClientLine(server, client, NowUnixMs(), &out);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void RegisterConnectionFamily(CommandRegistry* r) {
  r->Register("ping", CmdPing);
  r->Register("echo", CmdEcho);
  r->Register("quit", CmdQuit);
  r->Register("select", CmdSelect, LockMode::kSelectDb);
  r->Register("auth", CmdAuth);
  r->Register("hello", CmdHello);
  r->Register("reset", CmdReset);
  r->Register("client|list", CmdClientList);
  r->Register("client|info", CmdClientInfo);
  r->Register("client|id", CmdClientId);
  r->Register("client|setname", CmdClientSetName);
  r->Register("client|getname", CmdClientGetName);
  r->Register("client|setinfo", CmdClientSetInfo);
  r->Register("client|reply", CmdClientReply);
  r->Register("client|no-evict", CmdClientNoEvict);
  r->Register("client|kill", CmdClientKill);
  r->Register("client|unblock", CmdClientUnblock);
  r->Register("client|help", CmdClientHelp);
  (void)kKeelVersion;
}

}  // namespace keel
