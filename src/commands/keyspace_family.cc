// Whole-keyspace commands: FLUSHDB, FLUSHALL.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/commands/server_state.h"
#include "keel/commands/tracking.h"
#include "keel/common/strings.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// Parses the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL; without one, the mode is
// lazyfree-lazy-user-flush's. Returns false on a syntax error.
bool ParseFlushMode(CommandContext& ctx, bool* async) {
  *async = ctx.keyspace().lazy_free().user_flush.load(std::memory_order_relaxed);
  if (ctx.args.size() == 1) return true;
  if (ctx.args.size() == 2) {
    if (EqualsIgnoreCase(ctx.args[1], "async")) {
      *async = true;
      return true;
    }
    if (EqualsIgnoreCase(ctx.args[1], "sync")) {
      *async = false;
      return true;
    }
  }
  ctx.reply.Error(errors::kSyntax);
  return false;
}

// Empties the databases [first, last]: each database's shards are all locked (ascending), its
// entries detached, the locks released, then the entries freed here (SYNC) or by the lazy-free
// thread (ASYNC), so other threads wait only for the detaching.
void FlushDatabases(Keyspace& ks, int first, int last, bool async) {
  for (int db = first; db <= last; ++db) {
    std::vector<Entry*> detached;
    {
      auto locks = ks.LockAll(db);
      // Redis counts one change per key removed.
      ks.ChangedDb(db, -1, ChangeKind::kFlush, ks.db(db).size());
      detached = ks.DetachAll(db);
    }
    ks.FreeDetached(std::move(detached), async);
  }
}

// Client-side caching: whatever database was flushed, every tracking client is told to drop
// its whole cache (a null invalidation), as Redis does.
void InvalidateAllTracked(CommandContext& ctx) {
  if (ctx.server.tracking != nullptr) ctx.server.tracking->InvalidateAll();
}

// FLUSHDB [ASYNC|SYNC]
void CmdFlushDb(CommandContext& ctx) {
  bool async;
  if (!ParseFlushMode(ctx, &async)) return;
  FlushDatabases(ctx.keyspace(), ctx.db(), ctx.db(), async);
  InvalidateAllTracked(ctx);
  ctx.reply.Ok();
}

// FLUSHALL [ASYNC|SYNC]
void CmdFlushAll(CommandContext& ctx) {
  bool async;
  if (!ParseFlushMode(ctx, &async)) return;
  FlushDatabases(ctx.keyspace(), 0, ctx.keyspace().databases() - 1, async);
  InvalidateAllTracked(ctx);
  SaveAfterFlushAll(ctx.server);
  ctx.reply.Ok();
}

}  // namespace

void RegisterKeyspaceFamily(CommandRegistry* r) {
  r->Register("flushdb", CmdFlushDb, LockMode::kDatabase);
  r->Register("flushall", CmdFlushAll, LockMode::kSelf);
}

}  // namespace keel
