#include "keel/commands/tracking.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <tuple>

#include "keel/commands/client.h"
#include "keel/commands/server_state.h"
#include "keel/config/config.h"
#include "keel/keyspace/keyspace.h"
#include "keel/protocol/reply.h"

namespace keel {

namespace {

constexpr std::string_view kInvalidateChannel = "__redis__:invalidate";

// The payload of one invalidation: the keys, or a null (a flush) written in the protocol of the
// tracking client, not of the receiver (what Redis 7.0 sends to a redirect target).
void AppendPayload(ReplyBuilder& b, const std::vector<std::string_view>* keys, int null_protocol) {
  if (keys == nullptr) {
    std::string* out = b.buffer();
    ReplyBuilder(out, null_protocol).NullBulk();
    return;
  }
  b.ArrayHeader(keys->size());
  for (std::string_view k : *keys) b.Bulk(k);
}

}  // namespace

void Tracking::AddKeys(int64_t delta) {
  tracked_keys_.fetch_add(delta, std::memory_order_relaxed);
  if (server_->keyspace != nullptr) server_->keyspace->AddTrackingInterest(delta);
}

void Tracking::AddBcast(int64_t delta) {
  bcast_clients_.fetch_add(delta, std::memory_order_relaxed);
  if (server_->keyspace != nullptr) server_->keyspace->AddTrackingInterest(delta);
}

size_t Tracking::BucketOf(std::string_view key) {
  return std::hash<std::string_view>()(key) & (kBuckets - 1);
}

void Tracking::Enable(Client& c, const TrackingMode& mode) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = trackers_.try_emplace(c.id);
  if (!added && it->second.mode.bcast) AddBcast(-1);
  Tracker& t = it->second;
  // Turning tracking on again keeps the prefixes already registered (Redis adds to them).
  std::vector<std::string> prefixes = added ? std::vector<std::string>() : t.mode.prefixes;
  // BCAST without PREFIX is the empty prefix: every key.
  std::vector<std::string> fresh = mode.prefixes;
  if (mode.bcast && fresh.empty()) fresh.emplace_back();
  for (std::string& p : fresh) {
    if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) {
      prefixes.push_back(std::move(p));
    }
  }
  t.mode = mode;
  t.mode.prefixes = std::move(prefixes);
  t.broken_redirect = false;
  if (t.mode.bcast) AddBcast(1);
  c.tracking = true;
  c.tracking_bcast = mode.bcast;
  c.tracking_optin = mode.optin;
  c.tracking_optout = mode.optout;
  c.tracking_caching = false;
}

void Tracking::Disable(Client& c) {
  if (!c.tracking) return;
  c.tracking = false;
  c.tracking_bcast = c.tracking_optin = c.tracking_optout = c.tracking_caching = false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = trackers_.find(c.id);
  if (it == trackers_.end()) return;
  if (it->second.mode.bcast) AddBcast(-1);
  trackers_.erase(it);
}

TrackingInfo Tracking::Info(uint64_t id) const {
  TrackingInfo info;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = trackers_.find(id);
  if (it == trackers_.end()) return info;
  info.on = true;
  info.mode = it->second.mode;
  info.broken_redirect = it->second.broken_redirect;
  // Redis keeps a client's prefixes in a radix tree: they are listed sorted.
  std::sort(info.mode.prefixes.begin(), info.mode.prefixes.end());
  return info;
}

size_t Tracking::tracking_clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trackers_.size();
}

size_t Tracking::tracked_prefixes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string_view> all;
  for (const auto& [id, t] : trackers_) {
    if (t.mode.bcast) all.insert(all.end(), t.mode.prefixes.begin(), t.mode.prefixes.end());
  }
  std::sort(all.begin(), all.end());
  return static_cast<size_t>(std::unique(all.begin(), all.end()) - all.begin());
}

void Tracking::Remember(const Client& c, std::span<const std::string_view> keys) {
  if ((c.tracking_optin && !c.tracking_caching) || (c.tracking_optout && c.tracking_caching)) {
    return;
  }
  for (std::string_view key : keys) {
    Bucket& b = buckets_[BucketOf(key)];
    std::lock_guard<std::mutex> lock(b.mu);
    auto [it, added] = b.keys.try_emplace(std::string(key));
    if (added) AddKeys(1);
    std::vector<uint64_t>& ids = it->second;
    if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) {
      ids.push_back(c.id);
      tracked_items_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  EvictOverLimit();
}

void Tracking::EvictOverLimit() {
  int64_t max = server_->config != nullptr ? server_->config->tracking_table_max_keys() : 0;
  if (max <= 0) return;
  // Redis evicts with a bounded effort per call, so a lowered limit is reached over a few calls.
  for (int effort = 0; effort < 1000 && tracked_keys_.load(std::memory_order_relaxed) > max;
       ++effort) {
    size_t i = evict_cursor_.fetch_add(1, std::memory_order_relaxed) % kBuckets;
    Bucket& b = buckets_[i];
    std::lock_guard<std::mutex> lock(b.mu);
    if (!b.keys.empty()) TakeKeyLocked(b, b.keys.begin(), /*writer=*/0);
  }
}

void Tracking::TakeKeyLocked(Bucket& b,
                             std::unordered_map<std::string, std::vector<uint64_t>>::iterator it,
                             uint64_t writer) {
  for (uint64_t id : it->second) pending_.push_back(Pending{id, writer, -1, false, it->first});
  tracked_items_.fetch_sub(static_cast<int64_t>(it->second.size()), std::memory_order_relaxed);
  b.keys.erase(it);
  AddKeys(-1);
}

void Tracking::OnChange(const KeyChange& change) {
  if (tracked_keys_.load(std::memory_order_relaxed) != 0) {
    Bucket& b = buckets_[BucketOf(change.key)];
    std::lock_guard<std::mutex> lock(b.mu);
    auto it = b.keys.find(std::string(change.key));
    if (it != b.keys.end()) TakeKeyLocked(b, it, writer_);
  }
  if (bcast_clients_.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, t] : trackers_) {
      if (!t.mode.bcast) continue;
      for (size_t i = 0; i < t.mode.prefixes.size(); ++i) {
        if (change.key.substr(0, t.mode.prefixes[i].size()) == t.mode.prefixes[i]) {
          pending_.push_back(
              Pending{id, writer_, static_cast<int>(i), false, std::string(change.key)});
          break;  // a client's prefixes do not overlap
        }
      }
    }
  }
}

void Tracking::InvalidateAll() {
  for (Bucket& b : buckets_) {
    std::lock_guard<std::mutex> lock(b.mu);
    AddKeys(-static_cast<int64_t>(b.keys.size()));
    for (const auto& [key, ids] : b.keys) {
      tracked_items_.fetch_sub(static_cast<int64_t>(ids.size()), std::memory_order_relaxed);
    }
    b.keys.clear();
  }
  pending_.push_back(Pending{0, writer_, -1, true, {}});
}

void Tracking::Flush(Client* self, std::string* out) {
  if (pending_.empty()) return;
  std::vector<Pending> work;
  work.swap(pending_);

  // 1. Under mu_: who gets what. BCAST keys go together per client and prefix, default-mode
  //    ones key by key, a flush to every tracking client.
  struct Item {
    uint64_t target;
    uint64_t redirect;
    bool null;  // a flush: "drop everything"
    std::vector<std::string_view> keys;
    std::string_view prefix;  // BCAST
  };
  std::vector<Item> items;
  std::vector<Item> bcast;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::pair<uint64_t, int>, size_t>> groups;  // (target, prefix) -> item
    for (const Pending& p : work) {
      if (p.all) {
        std::vector<uint64_t> ids;
        for (const auto& [id, t] : trackers_) ids.push_back(id);
        std::sort(ids.begin(), ids.end());
        for (uint64_t id : ids)
          items.push_back(Item{id, trackers_.at(id).mode.redirect, true, {}, {}});
        continue;
      }
      auto it = trackers_.find(p.target);
      if (it == trackers_.end()) continue;
      const TrackingMode& mode = it->second.mode;
      if (mode.noloop && p.writer == p.target) continue;
      if (p.prefix < 0) {
        if (!mode.bcast) items.push_back(Item{p.target, mode.redirect, false, {p.key}, {}});
        continue;
      }
      auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& e) {
        return e.first == std::make_pair(p.target, p.prefix);
      });
      if (g == groups.end()) {
        groups.push_back({{p.target, p.prefix}, bcast.size()});
        bcast.push_back(Item{p.target, mode.redirect, false, {}, mode.prefixes[p.prefix]});
        g = groups.end() - 1;
      }
      bcast[g->second].keys.push_back(p.key);
    }
    // As Redis sends them: per client, prefix by prefix in sorted order, each prefix's keys
    // sorted and once. (Under mu_: `prefix` views the registry.)
    std::sort(bcast.begin(), bcast.end(), [](const Item& x, const Item& y) {
      return std::tie(x.target, x.prefix) < std::tie(y.target, y.prefix);
    });
    for (Item& item : bcast) {
      std::sort(item.keys.begin(), item.keys.end());
      item.keys.erase(std::unique(item.keys.begin(), item.keys.end()), item.keys.end());
      item.prefix = {};
      items.push_back(std::move(item));
    }
  }

  // 2. No lock held: build each message in its receiver's protocol and hand it over. Messages
  //    for `self` are appended to `out`; others go to the receiver's io thread.
  std::vector<uint64_t> broken;
  for (const Item& item : items) {
    std::shared_ptr<Client> tc = server_->clients.Find(item.target);
    if (tc == nullptr) continue;
    int tc_protocol = tc->protocol.load(std::memory_order_relaxed);
    std::shared_ptr<Client> to = tc;
    if (item.redirect != 0) {
      to = server_->clients.Find(item.redirect);
      if (to == nullptr) {
        // The redirect target is gone: say so to a RESP3 tracking client.
        broken.push_back(item.target);
        if (tc_protocol != ReplyBuilder::kResp3) continue;
        std::string bytes;
        ReplyBuilder b(&bytes, ReplyBuilder::kResp3);
        b.PushHeader(2);
        b.Bulk("tracking-redir-broken");
        b.Integer(static_cast<int64_t>(item.redirect));
        Send(self, out, tc, std::move(bytes), /*channel=*/false);
        continue;
      }
    }
    int protocol = to->protocol.load(std::memory_order_relaxed);
    std::string bytes;
    ReplyBuilder b(&bytes, protocol);
    bool channel = false;
    if (protocol == ReplyBuilder::kResp3) {
      b.PushHeader(2);
      b.Bulk("invalidate");
    } else if (item.redirect != 0) {
      channel = true;
      b.PushHeader(3);
      b.Bulk("message");
      b.Bulk(kInvalidateChannel);
    } else {
      continue;  // a RESP2 client without REDIRECT cannot receive invalidations
    }
    AppendPayload(b, item.null ? nullptr : &item.keys, tc_protocol);
    Send(self, out, to, std::move(bytes), channel);
  }

  // 3. Remember the broken redirects (CLIENT TRACKINGINFO, CLIENT LIST's R flag).
  if (!broken.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t id : broken) {
      auto it = trackers_.find(id);
      if (it != trackers_.end()) it->second.broken_redirect = true;
    }
  }
}

void Tracking::Send(Client* self, std::string* out, const std::shared_ptr<Client>& to,
                    std::string bytes, bool channel) {
  if (self != nullptr && out != nullptr && to.get() == self) {
    // On the receiver's own thread, right after its command's reply.
    if (!channel || self->pubsub_count > 0) out->append(bytes);
    return;
  }
  std::shared_ptr<ClientHandle> h = to->handle.lock();
  if (h == nullptr) return;
  if (!channel) {
    h->Deliver(std::move(bytes));
    return;
  }
  // Whether a RESP2 client is subscribed (and so may receive __redis__:invalidate messages) is
  // known on its own thread only.
  std::weak_ptr<Client> weak = to;
  h->Post([weak, bytes = std::move(bytes)]() mutable {
    std::shared_ptr<Client> c = weak.lock();
    if (c == nullptr || c->pubsub_count == 0) return;
    if (auto handle = c->handle.lock()) handle->Deliver(std::move(bytes));
  });
}

}  // namespace keel
