// Publish/subscribe: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, the
// sharded forms (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS / SHARDNUMSUB: Redis
// 7.0's shard channels, a namespace of their own without patterns), and keyspace notifications.
#include <algorithm>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/pubsub.h"
#include "keel/common/glob.h"
#include "keel/common/strings.h"
#include "keel/config/config.h"
#include "keel/protocol/errors.h"
#include "keel/protocol/reply.h"

namespace keel {

namespace {

bool AddTo(std::unordered_map<std::string, std::vector<PubsubRegistry::Subscriber>>& map,
           std::string_view name, const PubsubRegistry::Subscriber& s) {
  auto& subs = map[std::string(name)];
  for (const auto& x : subs) {
    if (x.id == s.id) return false;
  }
  subs.push_back(s);
  return true;
}

bool RemoveFrom(std::unordered_map<std::string, std::vector<PubsubRegistry::Subscriber>>& map,
                std::string_view name, uint64_t id) {
  auto it = map.find(std::string(name));
  if (it == map.end()) return false;
  auto& subs = it->second;
  auto pos = std::find_if(subs.begin(), subs.end(), [id](const auto& x) { return x.id == id; });
  if (pos == subs.end()) return false;
  subs.erase(pos);
  if (subs.empty()) map.erase(it);
  return true;
}

}  // namespace

bool PubsubRegistry::Subscribe(std::string_view channel, const Subscriber& s) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddTo(channels_, channel, s);
}

bool PubsubRegistry::Unsubscribe(std::string_view channel, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveFrom(channels_, channel, id);
}

bool PubsubRegistry::PSubscribe(std::string_view pattern, const Subscriber& s) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddTo(patterns_, pattern, s);
}

bool PubsubRegistry::PUnsubscribe(std::string_view pattern, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveFrom(patterns_, pattern, id);
}

namespace {

using Deliveries = std::vector<std::pair<std::shared_ptr<ClientHandle>, std::string>>;

// Queues a message for each live subscriber of `subs`, encoded for its protocol version by
// encode(ReplyBuilder&): once per version in use, lazily (one encoding while all speak RESP2).
template <typename Encode>
void Collect(const std::vector<PubsubRegistry::Subscriber>& subs, Encode encode,
             Deliveries* deliveries) {
  std::string msg[2];
  for (const auto& s : subs) {
    auto h = s.handle.lock();
    if (!h) continue;
    std::string& m = msg[s.protocol == ReplyBuilder::kResp3];
    if (m.empty()) {
      ReplyBuilder b(&m, s.protocol);
      encode(b);
    }
    deliveries->emplace_back(std::move(h), m);
  }
}

}  // namespace

int64_t PubsubRegistry::Publish(std::string_view channel, std::string_view message,
                                std::string_view kind) {
  Deliveries deliveries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(std::string(channel));
    if (it != channels_.end()) {
      Collect(
          it->second,
          [&](ReplyBuilder& b) {
            b.PushHeader(3);
            b.Bulk(kind);
            b.Bulk(channel);
            b.Bulk(message);
          },
          &deliveries);
    }
    for (const auto& entry : patterns_) {
      // (Not a structured binding: clang before 16 cannot capture one in the lambda, and the
      // fuzz builds use Debian's clang 14.)
      const auto& pattern = entry.first;
      if (!GlobMatch(pattern, channel)) continue;
      Collect(
          entry.second,
          [&](ReplyBuilder& b) {
            b.PushHeader(4);
            b.Bulk("pmessage");
            b.Bulk(pattern);
            b.Bulk(channel);
            b.Bulk(message);
          },
          &deliveries);
    }
  }
  for (auto& [h, msg] : deliveries) h->Deliver(std::move(msg));
  return static_cast<int64_t>(deliveries.size());
}

std::vector<std::string> PubsubRegistry::Channels(std::string_view pattern, bool all) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, subs] : channels_) {
    if (all || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubsubRegistry::NumSub(std::string_view channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(std::string(channel));
  return it == channels_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t PubsubRegistry::NumPat() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Redis counts distinct patterns.
  return static_cast<int64_t>(patterns_.size());
}

int64_t PubsubRegistry::NumChannels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(channels_.size());
}

PubsubRegistry& GlobalPubsub() {
  static PubsubRegistry registry;
  return registry;
}

PubsubRegistry& GlobalShardPubsub() {
  static PubsubRegistry registry;
  return registry;
}

namespace {

// The [p]subscribe/[p]unsubscribe confirmation: kind, name (or null), subscription count.
void ReplySubscription(ReplyBuilder& reply, std::string_view kind, const std::string* name,
                       int count) {
  reply.PushHeader(3);
  reply.Bulk(kind);
  if (name) {
    reply.Bulk(*name);
  } else {
    reply.NullBulk();
  }
  reply.Integer(count);
}

void UpdateCount(Client& c) {
  const ClientExtras& x = c.extras_view();
  c.pubsub_count =
      static_cast<int>(x.channels.size() + x.patterns.size() + x.shard_channels.size());
  if (c.pubsub_count > 0) {
    c.flags.fetch_or(kClientPubsub, std::memory_order_relaxed);
  } else {
    c.flags.fetch_and(~kClientPubsub, std::memory_order_relaxed);
  }
}

// The count the (P)SUBSCRIBE family reports (channels and patterns), and SSUBSCRIBE's.
int RegularCount(const Client& c) {
  return static_cast<int>(c.extras_view().channels.size() + c.extras_view().patterns.size());
}
int ShardCount(const Client& c) { return static_cast<int>(c.extras_view().shard_channels.size()); }

PubsubRegistry::Subscriber Me(CommandContext& ctx) {
  return PubsubRegistry::Subscriber{ctx.client.id, ctx.client.handle, ctx.client.protocol};
}

// SUBSCRIBE channel [channel ...] / PSUBSCRIBE pattern [pattern ...]
void Subscribe(CommandContext& ctx, bool pattern) {
  Client& c = ctx.client;
  auto& mine = pattern ? c.extras().patterns : c.extras().channels;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string name(ctx.args[i]);
    bool added = pattern ? GlobalPubsub().PSubscribe(name, Me(ctx))
                         : GlobalPubsub().Subscribe(name, Me(ctx));
    if (added) mine.push_back(name);
    UpdateCount(c);
    ReplySubscription(ctx.reply, pattern ? "psubscribe" : "subscribe", &name, RegularCount(c));
  }
}

// UNSUBSCRIBE [channel ...] / PUNSUBSCRIBE [pattern ...]; no names means all.
void Unsubscribe(CommandContext& ctx, bool pattern) {
  Client& c = ctx.client;
  auto& mine = pattern ? c.extras().patterns : c.extras().channels;
  std::string_view kind = pattern ? "punsubscribe" : "unsubscribe";
  std::vector<std::string> names;
  if (ctx.args.size() == 1) {
    names = mine;
    if (names.empty()) {
      ReplySubscription(ctx.reply, kind, nullptr, RegularCount(c));
      return;
    }
  } else {
    names.assign(ctx.args.begin() + 1, ctx.args.end());
  }
  for (const std::string& name : names) {
    if (pattern) {
      GlobalPubsub().PUnsubscribe(name, c.id);
    } else {
      GlobalPubsub().Unsubscribe(name, c.id);
    }
    std::erase(mine, name);
    UpdateCount(c);
    ReplySubscription(ctx.reply, kind, &name, RegularCount(c));
  }
}

// SSUBSCRIBE shardchannel [shardchannel ...]
void CmdSSubscribe(CommandContext& ctx) {
  Client& c = ctx.client;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string name(ctx.args[i]);
    if (GlobalShardPubsub().Subscribe(name, Me(ctx))) c.extras().shard_channels.push_back(name);
    UpdateCount(c);
    ReplySubscription(ctx.reply, "ssubscribe", &name, ShardCount(c));
  }
}

// SUNSUBSCRIBE [shardchannel ...]; no names means all.
void CmdSUnsubscribe(CommandContext& ctx) {
  Client& c = ctx.client;
  std::vector<std::string> names;
  if (ctx.args.size() == 1) {
    names = c.extras_view().shard_channels;
    if (names.empty()) {
      ReplySubscription(ctx.reply, "sunsubscribe", nullptr, 0);
      return;
    }
  } else {
    names.assign(ctx.args.begin() + 1, ctx.args.end());
  }
  for (const std::string& name : names) {
    GlobalShardPubsub().Unsubscribe(name, c.id);
    std::erase(c.extras().shard_channels, name);
    UpdateCount(c);
    ReplySubscription(ctx.reply, "sunsubscribe", &name, ShardCount(c));
  }
}

// SPUBLISH shardchannel message
void CmdSPublish(CommandContext& ctx) {
  ctx.reply.Integer(GlobalShardPubsub().Publish(ctx.args[1], ctx.args[2], "smessage"));
}

void CmdSubscribe(CommandContext& ctx) { Subscribe(ctx, false); }
void CmdPSubscribe(CommandContext& ctx) { Subscribe(ctx, true); }
void CmdUnsubscribe(CommandContext& ctx) { Unsubscribe(ctx, false); }
void CmdPUnsubscribe(CommandContext& ctx) { Unsubscribe(ctx, true); }

// PUBLISH channel message
void CmdPublish(CommandContext& ctx) {
  ctx.reply.Integer(GlobalPubsub().Publish(ctx.args[1], ctx.args[2]));
}

// PUBSUB CHANNELS [pattern] / PUBSUB SHARDCHANNELS [pattern]
void ReplyChannels(CommandContext& ctx, const PubsubRegistry& registry) {
  if (ctx.args.size() > 3) {
    ctx.reply.Error(errors::SubcommandSyntax(ctx.args[1], "pubsub"));
    return;
  }
  bool all = ctx.args.size() == 2;
  std::vector<std::string> names = registry.Channels(all ? std::string_view() : ctx.args[2], all);
  ctx.reply.ArrayHeader(names.size());
  for (const std::string& n : names) ctx.reply.Bulk(n);
}
void CmdPubsubChannels(CommandContext& ctx) { ReplyChannels(ctx, GlobalPubsub()); }
void CmdPubsubShardChannels(CommandContext& ctx) { ReplyChannels(ctx, GlobalShardPubsub()); }

// PUBSUB NUMSUB [channel ...] / PUBSUB SHARDNUMSUB [shardchannel ...]
void ReplyNumsub(CommandContext& ctx, const PubsubRegistry& registry) {
  ctx.reply.ArrayHeader(2 * (ctx.args.size() - 2));
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ctx.reply.Bulk(ctx.args[i]);
    ctx.reply.Integer(registry.NumSub(ctx.args[i]));
  }
}
void CmdPubsubNumsub(CommandContext& ctx) { ReplyNumsub(ctx, GlobalPubsub()); }
void CmdPubsubShardNumsub(CommandContext& ctx) { ReplyNumsub(ctx, GlobalShardPubsub()); }

// PUBSUB NUMPAT
void CmdPubsubNumpat(CommandContext& ctx) { ctx.reply.Integer(GlobalPubsub().NumPat()); }

// PUBSUB HELP
void CmdPubsubHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.StatusLines(kLines);
}

}  // namespace

void PubsubUnsubscribeAll(ServerState& server, Client& client, ReplyBuilder* reply) {
  if (client.has_extras()) {
    ClientExtras& x = client.extras();
    for (const std::string& ch : x.channels) GlobalPubsub().Unsubscribe(ch, client.id);
    for (const std::string& p : x.patterns) GlobalPubsub().PUnsubscribe(p, client.id);
    for (const std::string& ch : x.shard_channels) GlobalShardPubsub().Unsubscribe(ch, client.id);
    x.channels.clear();
    x.patterns.clear();
    x.shard_channels.clear();
  }
  client.pubsub_count = 0;
  client.flags.fetch_and(~kClientPubsub, std::memory_order_relaxed);
}

void PubsubProtocolChanged(Client& client) {
  // Subscribers are registered with the protocol their messages are encoded in.
  PubsubRegistry::Subscriber s{client.id, client.handle, client.protocol};
  for (const std::string& ch : client.extras_view().channels) {
    GlobalPubsub().Unsubscribe(ch, client.id);
    GlobalPubsub().Subscribe(ch, s);
  }
  for (const std::string& p : client.extras_view().patterns) {
    GlobalPubsub().PUnsubscribe(p, client.id);
    GlobalPubsub().PSubscribe(p, s);
  }
}

void NotifyKeyspaceEvent(ServerState& server, char type, std::string_view event,
                         std::string_view key, int db) {
  uint32_t flags = server.config->notify_keyspace_flags();
  if (flags == 0 || !(flags & NotifyFlag(type))) return;
  std::string dbs = std::to_string(db);
  if (flags & NotifyFlag('K')) {
    std::string channel = "__keyspace@" + dbs + "__:";
    channel.append(key);
    GlobalPubsub().Publish(channel, event);
  }
  if (flags & NotifyFlag('E')) {
    std::string channel = "__keyevent@" + dbs + "__:";
    channel.append(event);
    GlobalPubsub().Publish(channel, key);
  }
}

void RegisterPubsubFamily(CommandRegistry* r) {
  r->Register("subscribe", CmdSubscribe, LockMode::kNone);
  r->Register("unsubscribe", CmdUnsubscribe, LockMode::kNone);
  r->Register("psubscribe", CmdPSubscribe, LockMode::kNone);
  r->Register("punsubscribe", CmdPUnsubscribe, LockMode::kNone);
  r->Register("publish", CmdPublish, LockMode::kNone);
  r->Register("pubsub|channels", CmdPubsubChannels, LockMode::kNone);
  r->Register("pubsub|numsub", CmdPubsubNumsub, LockMode::kNone);
  r->Register("pubsub|numpat", CmdPubsubNumpat, LockMode::kNone);
  r->Register("pubsub|help", CmdPubsubHelp, LockMode::kNone);
  r->Register("ssubscribe", CmdSSubscribe, LockMode::kNone);
  r->Register("sunsubscribe", CmdSUnsubscribe, LockMode::kNone);
  r->Register("spublish", CmdSPublish, LockMode::kNone);
  r->Register("pubsub|shardchannels", CmdPubsubShardChannels, LockMode::kNone);
  r->Register("pubsub|shardnumsub", CmdPubsubShardNumsub, LockMode::kNone);
}

}  // namespace keel
