// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. The queueing itself happens in the
// dispatcher (Dispatcher::Execute); EXEC's locking in Dispatcher::Exec.
#include "keel/commands/dispatcher.h"
#include "keel/commands/families.h"
#include "keel/protocol/errors.h"

namespace keel {

namespace {

// MULTI
void CmdMulti(CommandContext& ctx) {
  if (ctx.client.in_multi) {
    ctx.reply.Error(errors::kMultiNested);
    return;
  }
  ctx.client.in_multi = true;
  ctx.client.multi_error = false;
  ctx.client.extras().queued.clear();
  ctx.client.multi_mem.store(0, std::memory_order_relaxed);
  ctx.reply.Ok();
}

// EXEC
void CmdExec(CommandContext& ctx) { ctx.server.dispatcher->Exec(ctx.client, ctx.reply); }

// DISCARD
void CmdDiscard(CommandContext& ctx) {
  if (!ctx.client.in_multi) {
    ctx.reply.Error(errors::kDiscardWithoutMulti);
    return;
  }
  ctx.server.dispatcher->DiscardTransaction(ctx.client);
  ctx.reply.Ok();
}

// WATCH key [key ...]
void CmdWatch(CommandContext& ctx) {
  if (ctx.client.in_multi) {
    ctx.reply.Error(errors::kWatchInMulti);
    return;
  }
  ctx.server.dispatcher->Watch(ctx.client, ctx.args.subspan(1));
  ctx.reply.Ok();
}

// UNWATCH
void CmdUnwatch(CommandContext& ctx) {
  ctx.server.dispatcher->Unwatch(ctx.client);
  ctx.reply.Ok();
}

}  // namespace

void RegisterTransactionFamily(CommandRegistry* r) {
  r->Register("multi", CmdMulti, LockMode::kSelf);
  r->Register("exec", CmdExec, LockMode::kSelf);
  r->Register("discard", CmdDiscard, LockMode::kSelf);
  // WATCH locks each key's shard itself, one at a time.
  r->Register("watch", CmdWatch, LockMode::kSelf);
  r->Register("unwatch", CmdUnwatch, LockMode::kSelf);
}

}  // namespace keel
