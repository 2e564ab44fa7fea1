// CLIENT PAUSE, CLIENT UNPAUSE, WAIT and LOLWUT.
//
// The pause is two process-wide atomics (its kind and its end); the dispatcher asks
// PostponeIfPaused before each command (pause.h). A postponed client is blocked
// with a copy of its command and re-checks the pause on its own io thread every few
// milliseconds; when the pause is over it runs the command through the dispatcher and resumes.
// Polling keeps CLIENT UNPAUSE free of any registry of paused clients: it only clears the
// atomics, and each paused client notices within one poll.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "blocking.h"
#include "keel/commands/client.h"
#include "keel/commands/command_meta.h"
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/common/clock.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"
#include "lookup.h"
#include "pause.h"

namespace keel {

namespace {

// Which commands the pause covers (Redis's PAUSE_ACTION sets: WRITE < ALL).
enum PauseKind : int { kNoPause = 0, kPauseWrite = 1, kPauseAll = 2 };

std::atomic<int> g_pause_kind{kNoPause};
std::atomic<int64_t> g_pause_end_ms{0};

// How often a postponed client looks at the pause again.
constexpr int64_t kPausePollMs = 5;

// The kind of pause in force now (an expired pause is none).
int ActivePause() {
  int kind = g_pause_kind.load(std::memory_order_relaxed);
  if (kind == kNoPause) return kNoPause;
  if (NowUnixMs() >= g_pause_end_ms.load(std::memory_order_relaxed)) return kNoPause;
  return kind;
}

// Whether a WRITE pause covers the command: writes and may-replicate commands, and an EXEC
// whose transaction queued one.
bool CoveredByWritePause(const Client& client, const CommandMeta& meta) {
  if (MetaFlags(meta) & (kCmdWrite | kCmdMayReplicate)) return true;
  if (MetaName(meta) != "exec") return false;
  for (const std::vector<std::string>& q : client.extras_view().queued) {
    if (q.empty()) continue;
    const CommandMeta* m = LookupCommand(q[0]);
    if (m != nullptr && MetaHasSubcommands(*m) && q.size() >= 2) {
      const CommandMeta* sub = FindSubcommandMeta(*m, q[1]);
      if (sub != nullptr) m = sub;
    }
    if (m != nullptr && (MetaFlags(*m) & (kCmdWrite | kCmdMayReplicate))) return true;
  }
  return false;
}

bool Covered(const Client& client, const CommandMeta& meta) {
  int kind = ActivePause();
  if (kind == kNoPause) return false;
  return kind == kPauseAll || CoveredByWritePause(client, meta);
}

// Re-checks the pause for a postponed client; runs its command once the pause is over.
void PollPaused(ServerState* server, Client* client, std::weak_ptr<ClientHandle> weak,
                std::shared_ptr<std::vector<std::string>> argv) {
  auto h = weak.lock();
  if (!h) return;
  const CommandMeta* meta = LookupCommand((*argv)[0]);
  if (meta != nullptr && MetaHasSubcommands(*meta) && argv->size() >= 2) {
    if (const CommandMeta* sub = FindSubcommandMeta(*meta, (*argv)[1])) meta = sub;
  }
  if (meta != nullptr && Covered(*client, *meta)) {
    h->StartBlockTimeout(kPausePollMs,
                         [server, client, weak, argv] { PollPaused(server, client, weak, argv); });
    return;
  }
  client->on_close_blocked = nullptr;
  client->blocked = false;
  server->stats.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
  std::vector<std::string_view> views(argv->begin(), argv->end());
  std::string out;
  server->dispatcher->Execute(*client, views, &out);
  if (client->blocked) {
    // The command blocked in its turn (BLPOP, WAIT, another pause): what it wrote so far goes
    // out now, and its own wake-up resumes the client.
    if (!out.empty()) h->Deliver(std::move(out));
    return;
  }
  client->blocked = true;  // Unblock appends the reply and resumes reading
  h->Unblock(out);
}

// A timeout in milliseconds (CLIENT PAUSE, WAIT), with Redis's errors. Returns false after
// replying one.
bool ParseTimeoutMs(CommandContext& ctx, std::string_view arg, int64_t* ms) {
  std::optional<int64_t> v = ParseInt64(arg);
  if (!v) {
    ctx.reply.Error(errors::kTimeoutNotInteger);
    return false;
  }
  if (*v < 0) {
    ctx.reply.Error(errors::kTimeoutNegative);
    return false;
  }
  *ms = *v;
  return true;
}

// CLIENT PAUSE timeout [WRITE|ALL]
void CmdClientPause(CommandContext& ctx) {
  int64_t pause_ms;
  if (!ParseTimeoutMs(ctx, ctx.args[2], &pause_ms)) return;
  const int64_t* ms = &pause_ms;
  int kind = kPauseAll;
  if (ctx.args.size() == 4) {
    if (EqualsIgnoreCase(ctx.args[3], "write")) {
      kind = kPauseWrite;
    } else if (!EqualsIgnoreCase(ctx.args[3], "all")) {
      ctx.reply.Error(errors::kPauseMode);
      return;
    }
  } else if (ctx.args.size() > 4) {
    ctx.reply.Error(errors::SubcommandSyntax(ctx.args[1], "client"));
    return;
  }
  int64_t now = NowUnixMs();
  int64_t end = *ms > INT64_MAX - now ? INT64_MAX : now + *ms;
  // A pause only widens: the stronger kind and the later end win (as Redis's pauseClients).
  if (ActivePause() == kNoPause) {
    g_pause_end_ms.store(end, std::memory_order_relaxed);
    g_pause_kind.store(kind, std::memory_order_relaxed);
  } else {
    if (end > g_pause_end_ms.load(std::memory_order_relaxed)) {
      g_pause_end_ms.store(end, std::memory_order_relaxed);
    }
    if (kind > g_pause_kind.load(std::memory_order_relaxed)) {
      g_pause_kind.store(kind, std::memory_order_relaxed);
    }
  }
  ctx.reply.Ok();
}

// CLIENT UNPAUSE
void CmdClientUnpause(CommandContext& ctx) {
  g_pause_kind.store(kNoPause, std::memory_order_relaxed);
  g_pause_end_ms.store(0, std::memory_order_relaxed);
  ctx.reply.Ok();
}

// WAIT: there are no replicas, so nobody ever acknowledges. Blocks like a blocking command
// without keys (CLIENT UNBLOCK wakes it) and answers 0.
struct WaitWaiter : BlockedWaiter {
  bool Ready(ServerState&, int, std::string_view) override { return false; }
  void Serve(ServerState&, int, std::string_view, ReplyBuilder&) override {}
  void ReplyNothing(ReplyBuilder& reply) const override { reply.Integer(0); }
  void ReplyTimeout(ReplyBuilder& reply) const override { reply.Integer(0); }
};

// WAIT numreplicas timeout
void CmdWait(CommandContext& ctx) {
  std::optional<int64_t> replicas = ParseInt64(ctx.args[1]);
  if (!replicas) {
    ctx.reply.Error(errors::kNotInteger);
    return;
  }
  int64_t timeout;
  if (!ParseTimeoutMs(ctx, ctx.args[2], &timeout)) return;
  // Already satisfied (no replica is asked for), or inside MULTI/EXEC: the count now.
  if (*replicas <= 0 || ctx.client.in_exec) {
    ctx.reply.Integer(0);
    return;
  }
  Block(ctx, std::make_shared<WaitWaiter>(), timeout);
}

// ---- LOLWUT ----

// Redis's version, as LOLWUT signs its output.
constexpr std::string_view kLolwutSignature = "Redis ver. 7.0.15\n";

// A canvas of pixels rendered with Braille characters (2 x 4 pixels per character).
class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), px_(static_cast<size_t>(w * h), 0) {}
  void Set(int x, int y) {
    if (x >= 0 && y >= 0 && x < w_ && y < h_) px_[static_cast<size_t>(y * w_ + x)] = 1;
  }
  bool Get(int x, int y) const {
    return x >= 0 && y >= 0 && x < w_ && y < h_ && px_[static_cast<size_t>(y * w_ + x)];
  }
  void Line(int x0, int y0, int x1, int y1) {
    int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    while (true) {
      Set(x0, y0);
      if (x0 == x1 && y0 == y1) break;
      int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  std::string Render() const {
    // Braille dot bits by (x, y) inside a cell.
    static constexpr int kBits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
    std::string out;
    for (int y = 0; y < h_; y += 4) {
      for (int x = 0; x < w_; x += 2) {
        int code = 0;
        for (int dy = 0; dy < 4; ++dy) {
          for (int dx = 0; dx < 2; ++dx) {
            if (Get(x + dx, y + dy)) code |= kBits[dy][dx];
          }
        }
        int cp = 0x2800 + code;  // U+2800..U+28FF, three bytes in UTF-8
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      out.push_back('\n');
    }
    return out;
  }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

// Version 5: a grid of squares, more rotated and displaced row after row (after Georg Nees's
// "Schotter"), drawn at random each time.
std::string Schotter(int cols, int per_row, int per_col) {
  int width = cols * 2;
  int side = std::max(1, width / per_row);
  int height = side * per_col;
  Canvas canvas(width, height);
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int r = 0; r < per_col; ++r) {
    double disorder = per_col > 1 ? static_cast<double>(r) / (per_col - 1) : 0;
    for (int c = 0; c < per_row; ++c) {
      double cx = c * side + side / 2.0 + unit(rng) * disorder * side / 3;
      double cy = r * side + side / 2.0 + unit(rng) * disorder * side / 3;
      double angle = unit(rng) * disorder * M_PI / 4;
      double half = (side - 2) / 2.0;
      int xs[4], ys[4];
      for (int k = 0; k < 4; ++k) {
        double a = angle + M_PI / 4 + k * M_PI / 2;
        xs[k] = static_cast<int>(std::lround(cx + std::cos(a) * half * M_SQRT2));
        ys[k] = static_cast<int>(std::lround(cy + std::sin(a) * half * M_SQRT2));
      }
      for (int k = 0; k < 4; ++k) canvas.Line(xs[k], ys[k], xs[(k + 1) % 4], ys[(k + 1) % 4]);
    }
  }
  return canvas.Render() + "\nGeorg Nees - schotter, plotter on paper, 1968. " +
         std::string(kLolwutSignature);
}

// Version 6: a random skyline of buildings with lit windows, in terminal colours.
std::string Skyline(int cols, int rows) {
  std::mt19937 rng(std::random_device{}());
  std::vector<int> heights(static_cast<size_t>(cols), 0);
  for (int x = 0; x < cols;) {
    int w = 3 + static_cast<int>(rng() % 6);
    int h = 1 + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, rows - 1)));
    for (int i = 0; i < w && x < cols; ++i, ++x) heights[static_cast<size_t>(x)] = h;
    if (x < cols) heights[static_cast<size_t>(x++)] = 0;
  }
  const std::string sky = "\033[0;97;107m \033[0m";
  const std::string wall = "\033[0;90;100m \033[0m";
  const std::string window = "\033[0;93;103m \033[0m";
  std::string out;
  for (int y = rows; y >= 1; --y) {
    for (int x = 0; x < cols; ++x) {
      if (heights[static_cast<size_t>(x)] < y) {
        out += sky;
      } else {
        out += (rng() % 5 == 0) ? window : wall;
      }
    }
    out += "\n";
  }
  return out + "\nDedicated to the 8 bit game developers of past and present.\n" +
         "A random skyline drawn by Keel. " + std::string(kLolwutSignature);
}

// Parses LOLWUT's optional numeric argument `i` into *v, clamped to [lo, hi].
bool LolwutArg(CommandContext& ctx, size_t i, int64_t lo, int64_t hi, int64_t* v) {
  if (ctx.args.size() <= i) return true;
  std::optional<int64_t> n = ParseInt64(ctx.args[i]);
  if (!n) {
    ctx.reply.Error(errors::kNotInteger);
    return false;
  }
  *v = std::clamp(*n, lo, hi);
  return true;
}

// LOLWUT [VERSION version [arg ...]]
void CmdLolwut(CommandContext& ctx) {
  int64_t version = 7;
  if (ctx.args.size() >= 3 && EqualsIgnoreCase(ctx.args[1], "version")) {
    std::optional<int64_t> v = ParseInt64(ctx.args[2]);
    if (!v) {
      ctx.reply.Error(errors::kNotInteger);
      return;
    }
    version = *v;
  }
  if (version == 5) {
    int64_t cols = 66, per_row = 8, per_col = 12;
    if (!LolwutArg(ctx, 3, 1, 1000, &cols) || !LolwutArg(ctx, 4, 1, 200, &per_row) ||
        !LolwutArg(ctx, 5, 1, 200, &per_col)) {
      return;
    }
    ctx.reply.Verbatim(
        Schotter(static_cast<int>(cols), static_cast<int>(per_row), static_cast<int>(per_col)));
    return;
  }
  if (version == 6) {
    int64_t cols = 80, rows = 20;
    if (!LolwutArg(ctx, 3, 1, 1000, &cols) || !LolwutArg(ctx, 4, 1, 1000, &rows)) return;
    ctx.reply.Verbatim(Skyline(static_cast<int>(cols), static_cast<int>(rows)));
    return;
  }
  ctx.reply.Verbatim(kLolwutSignature);
}

}  // namespace

bool PostponeIfPaused(ServerState& server, Client& client, const CommandMeta& meta,
                      std::span<const std::string_view> args) {
  if (g_pause_kind.load(std::memory_order_relaxed) == kNoPause) return false;
  if (client.in_exec || !Covered(client, meta)) return false;
  std::shared_ptr<ClientHandle> h = client.handle.lock();
  if (!h) return false;
  auto argv = std::make_shared<std::vector<std::string>>(args.begin(), args.end());
  client.blocked = true;
  server.stats.blocked_clients.fetch_add(1, std::memory_order_relaxed);
  ServerState* srv = &server;
  client.on_close_blocked = [srv] {
    srv->stats.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
  };
  std::weak_ptr<ClientHandle> weak = h;
  Client* c = &client;
  h->StartBlockTimeout(kPausePollMs, [srv, c, weak, argv] { PollPaused(srv, c, weak, argv); });
  return true;
}

void RegisterPauseFamily(CommandRegistry* r) {
  r->Register("client|pause", CmdClientPause, LockMode::kNone);
  r->Register("client|unpause", CmdClientUnpause, LockMode::kNone);
  r->Register("wait", CmdWait, LockMode::kNone);
  r->Register("lolwut", CmdLolwut, LockMode::kNone);
}

}  // namespace keel
