// Client-side caching commands: CLIENT TRACKING, CLIENT CACHING, CLIENT TRACKINGINFO and
// CLIENT GETREDIR (the tracking itself is keel/commands/tracking.h).
#include <string>

#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_state.h"
#include "keel/commands/tracking.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// Checks that no two prefixes overlap (one a prefix of the other), in Redis's order: each new
// prefix against those the client already has, then against the new ones after it. Replies
// Redis's error and returns false if two do.
bool PrefixesDisjoint(CommandContext& ctx, const std::vector<std::string>& fresh,
                      const std::vector<std::string>& existing) {
  auto overlaps = [](std::string_view a, std::string_view b) {
    return a.substr(0, b.size()) == b || b.substr(0, a.size()) == a;
  };
  for (size_t i = 0; i < fresh.size(); ++i) {
    for (const std::string& old : existing) {
      if (overlaps(fresh[i], old)) {
        ctx.reply.Error(errors::TrackingPrefixOverlap(fresh[i], old, /*existing=*/true));
        return false;
      }
    }
    for (size_t j = i + 1; j < fresh.size(); ++j) {
      if (overlaps(fresh[i], fresh[j])) {
        ctx.reply.Error(errors::TrackingPrefixOverlap(fresh[i], fresh[j], /*existing=*/false));
        return false;
      }
    }
  }
  return true;
}

// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN]
//                        [OPTOUT] [NOLOOP]
void CmdClientTracking(CommandContext& ctx) {
  auto args = ctx.args;
  TrackingMode mode;
  for (size_t i = 3; i < args.size(); ++i) {
    bool more = i + 1 < args.size();
    if (EqualsIgnoreCase(args[i], "redirect") && more) {
      if (mode.redirect != 0) {
        ctx.reply.Error(errors::kTrackingOneRedirect);
        return;
      }
      auto id = ParseInt64(args[++i]);
      if (!id) {
        ctx.reply.Error(errors::kNotInteger);
        return;
      }
      // The target must exist now (it may leave later: the redirect then breaks).
      if (*id <= 0 || ctx.server.clients.Find(static_cast<uint64_t>(*id)) == nullptr) {
        ctx.reply.Error(errors::kTrackingRedirectMissing);
        return;
      }
      mode.redirect = static_cast<uint64_t>(*id);
    } else if (EqualsIgnoreCase(args[i], "prefix") && more) {
      mode.prefixes.emplace_back(args[++i]);
    } else if (EqualsIgnoreCase(args[i], "bcast")) {
      mode.bcast = true;
    } else if (EqualsIgnoreCase(args[i], "optin")) {
      mode.optin = true;
    } else if (EqualsIgnoreCase(args[i], "optout")) {
      mode.optout = true;
    } else if (EqualsIgnoreCase(args[i], "noloop")) {
      mode.noloop = true;
    } else {
      ctx.reply.Error(errors::kSyntax);
      return;
    }
  }
  Tracking& tracking = *ctx.server.tracking;
  Client& c = ctx.client;
  if (EqualsIgnoreCase(args[2], "off")) {
    tracking.Disable(c);
    ctx.reply.Ok();
    return;
  }
  if (!EqualsIgnoreCase(args[2], "on")) {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  if (!mode.bcast && !mode.prefixes.empty()) {
    ctx.reply.Error(errors::kTrackingPrefixNeedsBcast);
    return;
  }
  if (c.tracking && c.tracking_bcast != mode.bcast) {
    ctx.reply.Error(errors::kTrackingSwitchBcast);
    return;
  }
  if (mode.bcast && (mode.optin || mode.optout)) {
    ctx.reply.Error(errors::kTrackingBcastOptin);
    return;
  }
  if (mode.optin && mode.optout) {
    ctx.reply.Error(errors::kTrackingOptinAndOptout);
    return;
  }
  if ((mode.optin && c.tracking_optout) || (mode.optout && c.tracking_optin)) {
    ctx.reply.Error(errors::kTrackingSwitchOptin);
    return;
  }
  if (mode.bcast) {
    std::vector<std::string> existing;
    if (c.tracking) existing = tracking.Info(c.id).mode.prefixes;
    if (!PrefixesDisjoint(ctx, mode.prefixes, existing)) return;
  }
  tracking.Enable(c, mode);
  ctx.reply.Ok();
}

// CLIENT CACHING YES|NO
void CmdClientCaching(CommandContext& ctx) {
  Client& c = ctx.client;
  if (!c.tracking) {
    ctx.reply.Error(errors::kCachingNeedsTracking);
    return;
  }
  std::string_view v = ctx.args[2];
  if (EqualsIgnoreCase(v, "yes")) {
    if (!c.tracking_optin) {
      ctx.reply.Error(errors::kCachingYesNeedsOptin);
      return;
    }
  } else if (EqualsIgnoreCase(v, "no")) {
    if (!c.tracking_optout) {
      ctx.reply.Error(errors::kCachingNoNeedsOptout);
      return;
    }
  } else {
    ctx.reply.Error(errors::kSyntax);
    return;
  }
  // For the next command only (the dispatcher clears it after any other command).
  c.tracking_caching = true;
  ctx.reply.Ok();
}

// CLIENT GETREDIR
void CmdClientGetRedir(CommandContext& ctx) {
  TrackingInfo info = ctx.server.tracking->Info(ctx.client.id);
  ctx.reply.Integer(info.on ? static_cast<int64_t>(info.mode.redirect) : -1);
}

// CLIENT TRACKINGINFO
void CmdClientTrackingInfo(CommandContext& ctx) {
  TrackingInfo info = ctx.server.tracking->Info(ctx.client.id);
  const Client& c = ctx.client;
  std::vector<std::string_view> flags;
  if (!info.on) {
    flags.push_back("off");
  } else {
    flags.push_back("on");
    if (info.mode.bcast) flags.push_back("bcast");
    if (info.mode.optin) {
      flags.push_back("optin");
      if (c.tracking_caching) flags.push_back("caching-yes");
    }
    if (info.mode.optout) {
      flags.push_back("optout");
      if (c.tracking_caching) flags.push_back("caching-no");
    }
    if (info.mode.noloop) flags.push_back("noloop");
    if (info.broken_redirect) flags.push_back("broken_redirect");
  }
  ctx.reply.MapHeader(3);
  ctx.reply.Bulk("flags");
  ctx.reply.SetHeader(flags.size());
  for (std::string_view f : flags) ctx.reply.Bulk(f);
  ctx.reply.Bulk("redirect");
  ctx.reply.Integer(info.on ? static_cast<int64_t>(info.mode.redirect) : -1);
  ctx.reply.Bulk("prefixes");
  ctx.reply.ArrayHeader(info.mode.prefixes.size());
  for (const std::string& p : info.mode.prefixes) ctx.reply.Bulk(p);
}

}  // namespace

void RegisterTrackingFamily(CommandRegistry* r) {
  r->Register("client|tracking", CmdClientTracking);
  r->Register("client|caching", CmdClientCaching);
  r->Register("client|getredir", CmdClientGetRedir);
  r->Register("client|trackinginfo", CmdClientTrackingInfo);
}

}  // namespace keel
