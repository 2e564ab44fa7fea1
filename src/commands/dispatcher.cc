#include "keel/commands/dispatcher.h"

#include <cstdio>

#include "keel/commands/command_meta_table.h"
#include "keel/commands/families.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

CommandRegistry& GlobalCommandRegistry() {
  static CommandRegistry registry;
  return registry;
}

void CommandRegistry::Register(std::string_view name, CommandHandler handler, LockMode lock_mode) {
  const CommandMeta* meta = nullptr;
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) {
    meta = FindCommandMeta(name);
  } else if (const CommandMeta* container = FindCommandMeta(name.substr(0, bar))) {
    meta = FindSubcommandMeta(*container, name.substr(bar + 1));
    containers_.insert(container);
  }
  if (meta == nullptr) {
    std::fprintf(stderr, "BUG: command '%.*s' has a handler but no metadata\n",
                 static_cast<int>(name.size()), name.data());
    std::abort();
  }
  entries_[meta] = Entry{handler, entries_.size(), lock_mode};
}

const CommandRegistry::Entry* CommandRegistry::Find(const CommandMeta* meta) const {
  auto it = entries_.find(meta);
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {

// Errors that quote what the client sent replace CR and LF with spaces, as Redis does, so the
// error stays one protocol line.
void AppendSanitized(std::string* out, std::string_view s) {
  for (char c : s) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}

void ReplyUnknownCommand(std::span<const std::string_view> args, ReplyBuilder& reply) {
  std::string msg = "ERR unknown command '";
  AppendSanitized(&msg, args[0].substr(0, 128));
  msg += "', with args beginning with: ";
  size_t quoted = 0;
  for (size_t i = 1; i < args.size() && quoted < 128; ++i) {
    size_t room = 128 - quoted;
    std::string part = "'";
    part.append(args[i].substr(0, room));
    part += "' ";
    quoted += part.size();
    AppendSanitized(&msg, part);
  }
  reply.Error(msg);
}

void ReplyUnknownSubcommand(std::span<const std::string_view> args, ReplyBuilder& reply) {
  std::string msg = "ERR unknown subcommand '";
  AppendSanitized(&msg, args[1].substr(0, 128));
  msg += "'. Try ";
  std::string upper(args[0]);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  AppendSanitized(&msg, upper);
  msg += " HELP.";
  reply.Error(msg);
}

bool ArityOk(int arity, size_t argc) {
  return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// The quoting MONITOR uses for arguments (printable bytes as is, others escaped).
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out->push_back(static_cast<char>(c));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out->append(buf);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

Dispatcher::Dispatcher(ServerState* server) : server_(server), registry_(GlobalCommandRegistry()) {
  server_->command_stats = std::make_unique<CommandStats[]>(registry_.size() + 1);
}

void Dispatcher::LockKeys(const CommandMeta& meta, Client& client,
                          std::span<const std::string_view> args, KeyLocks* locks) {
  int db = client.db.load(std::memory_order_relaxed);
  std::vector<int>& positions = positions_scratch();
  positions.clear();
  GetKeyPositions(meta, args, &positions);
  if (positions.size() == 1) {
    std::string_view key = args[static_cast<size_t>(positions[0])];
    *locks = KeyLocks(*server_->keyspace, db, std::span<const std::string_view>(&key, 1));
    return;
  }
  std::vector<std::string_view> keys;
  keys.reserve(positions.size());
  for (int p : positions) keys.push_back(args[static_cast<size_t>(p)]);
  if (!keys.empty()) *locks = KeyLocks(*server_->keyspace, db, keys);
}

std::vector<int>& Dispatcher::positions_scratch() {
  thread_local std::vector<int> v;
  return v;
}

void Dispatcher::FeedMonitors(Client& client, std::span<const std::string_view> args) {
  int64_t us = NowUnixUs();
  char head[96];
  int n = std::snprintf(head, sizeof(head), "+%lld.%06lld [%d ",
                        static_cast<long long>(us / 1000000), static_cast<long long>(us % 1000000),
                        client.db.load(std::memory_order_relaxed));
  std::string line(head, static_cast<size_t>(n));
  line += client.addr;
  line += "]";
  for (std::string_view a : args) {
    line.push_back(' ');
    AppendQuoted(&line, a);
  }
  line += "\r\n";
  server_->clients.FeedMonitors(line);
}

void Dispatcher::Execute(Client& client, std::span<const std::string_view> args, std::string* out) {
  size_t reply_start = out->size();
  if (client.reply_mode == ReplyMode::kSkipNext) client.reply_mode = ReplyMode::kSkipThis;
  ReplyBuilder reply(out);

  const CommandMeta* meta = FindCommandMeta(args[0]);
  const CommandRegistry::Entry* entry = meta ? registry_.Find(meta) : nullptr;
  if (entry == nullptr && meta != nullptr && MetaHasSubcommands(*meta) && args.size() >= 2) {
    const CommandMeta* sub = FindSubcommandMeta(*meta, args[1]);
    const CommandRegistry::Entry* sub_entry = sub ? registry_.Find(sub) : nullptr;
    if (sub_entry == nullptr) {
      ReplyUnknownSubcommand(args, reply);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
      goto done;
    }
    meta = sub;
    entry = sub_entry;
  }
  if (entry == nullptr) {
    if (meta != nullptr && MetaHasSubcommands(*meta) && args.size() < 2) {
      // A container alone ("CONFIG") fails its arity check, like Redis.
      reply.Error("ERR wrong number of arguments for '" + std::string(MetaName(*meta)) +
                  "' command");
    } else {
      ReplyUnknownCommand(args, reply);
    }
    server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
    goto done;
  }
  {
    CommandStats& cs = server_->command_stats[entry->index];
    if (!ArityOk(MetaArity(*meta), args.size())) {
      reply.Error("ERR wrong number of arguments for '" + std::string(MetaName(*meta)) +
                  "' command");
      cs.rejected_calls.fetch_add(1, std::memory_order_relaxed);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
      goto done;
    }
    if (!client.authenticated && !(MetaFlags(*meta) & kCmdNoAuth)) {
      reply.Error(errors::kNoAuth);
      cs.rejected_calls.fetch_add(1, std::memory_order_relaxed);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
      goto done;
    }
    {
      std::lock_guard<std::mutex> lock(client.mu);
      client.last_cmd.assign(MetaName(*meta));
    }
    int64_t start = NowMonotonicUs();
    CommandContext ctx{*server_, client, args, reply, *meta};
    {
      KeyLocks locks;
      if (entry->lock_mode == LockMode::kKeys && CommandHasKeys(*meta)) {
        LockKeys(*meta, client, args, &locks);
      }
      entry->handler(ctx);
    }
    // A push may have made keys ready for blocked clients: serve them now that this command's
    // locks are released (ServeReadyKeys takes the locks it needs).
    if (!Keyspace::ReadyKeys().empty()) ServeReadyKeys(*server_);
    int64_t elapsed = NowMonotonicUs() - start;
    cs.calls.fetch_add(1, std::memory_order_relaxed);
    cs.usec.fetch_add(static_cast<uint64_t>(elapsed), std::memory_order_relaxed);
    server_->stats.total_commands_processed.fetch_add(1, std::memory_order_relaxed);
    if (out->size() > reply_start && (*out)[reply_start] == '-') {
      cs.failed_calls.fetch_add(1, std::memory_order_relaxed);
      server_->stats.total_error_replies.fetch_add(1, std::memory_order_relaxed);
    }
    if (server_->clients.HasMonitors() && !(MetaFlags(*meta) & (kCmdSkipMonitor | kCmdAdmin))) {
      FeedMonitors(client, args);
    }
  }
done:
  if (out->size() > reply_start && (*out)[reply_start] == '-') {
    server_->error_stats.Count(std::string_view(*out).substr(reply_start + 1, 64));
  }
  if (client.reply_mode == ReplyMode::kOff || client.reply_mode == ReplyMode::kSkipThis) {
    out->resize(reply_start);
    if (client.reply_mode == ReplyMode::kSkipThis) client.reply_mode = ReplyMode::kOn;
  }
}

}  // namespace keel
