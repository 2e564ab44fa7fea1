#pragma once

// RAII wrappers over hiredis (Debian 12 ships 0.14) for tests that want a real client library
// rather than raw bytes: pipelining through redisAppendCommand, many concurrent clients.

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace keel::test {

struct RedisContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisContextPtr = std::unique_ptr<redisContext, RedisContextDeleter>;
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

// Connects to 127.0.0.1:port with the timeout used for both connecting and each later read.
// On failure returns null and puts the reason in *error (when given).
RedisContextPtr HiredisConnect(int port,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10),
                               std::string* error = nullptr);

// Sends args as one command (binary safe) and waits for its reply. Null on an I/O error, with
// the reason in ctx->errstr.
RedisReplyPtr HiredisCommand(redisContext* ctx, const std::vector<std::string>& args);

// Queues a command without sending it; a later HiredisGetReply flushes the queue.
bool HiredisAppend(redisContext* ctx, const std::vector<std::string>& args);
RedisReplyPtr HiredisGetReply(redisContext* ctx);

// One-line description of a reply for assertion messages: "status OK", "error ERR ...",
// "integer 3", "string \"x\"", "nil", "array[2]".
std::string DescribeReply(const redisReply* reply);

}  // namespace keel::test
