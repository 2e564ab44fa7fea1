#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keel/commands/client.h"

namespace keel {

// PubsubRegistry maps channels and patterns to their subscribers, for every io thread.
// Thread-safe; its mutex is a leaf lock: PUBLISH collects the receivers under it and delivers
// after releasing it, each message posted to the subscriber's own io thread (ClientHandle::
// Deliver), so one publisher's messages reach each subscriber in publish order.
class PubsubRegistry {
 public:
  struct Subscriber {
    uint64_t id;
    std::weak_ptr<ClientHandle> handle;
    int protocol = 2;  // the subscriber's RESP version: messages are encoded for it
  };

  // Return false when the client was already (or not) subscribed.
  bool Subscribe(std::string_view channel, const Subscriber& s);
  bool Unsubscribe(std::string_view channel, uint64_t id);
  bool PSubscribe(std::string_view pattern, const Subscriber& s);
  bool PUnsubscribe(std::string_view pattern, uint64_t id);

  // Delivers to channel subscribers and matching pattern subscribers; returns how many.
  // `kind` names the message ("message"; "smessage" for the shard-channel registry).
  int64_t Publish(std::string_view channel, std::string_view message,
                  std::string_view kind = "message");

  std::vector<std::string> Channels(std::string_view pattern, bool all) const;
  int64_t NumSub(std::string_view channel) const;
  int64_t NumPat() const;
  // Channels with at least one subscriber (INFO's pubsub_channels, pubsubshard_channels).
  int64_t NumChannels() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Subscriber>> channels_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::vector<Subscriber>> patterns_;  // GUARDED_BY(mu_)
};

// The registry of this process.
PubsubRegistry& GlobalPubsub();
// The shard channels of this process (SSUBSCRIBE, SPUBLISH): a registry without patterns.
PubsubRegistry& GlobalShardPubsub();

// Publishes a keyspace notification for `key` in `db` if notify-keyspace-events selects the
// event's class (`type`, one of the kNotify* letters below).
struct ServerState;
void NotifyKeyspaceEvent(ServerState& server, char type, std::string_view event,
                         std::string_view key, int db);

}  // namespace keel
