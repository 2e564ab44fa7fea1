#include "support/hiredis_util.h"

#include "support/resp.h"

namespace keel::test {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

void ToArgv(const std::vector<std::string>& args, std::vector<const char*>* argv,
            std::vector<size_t>* lens) {
  for (const auto& a : args) {
    argv->push_back(a.data());
    lens->push_back(a.size());
  }
}

}  // namespace

RedisContextPtr HiredisConnect(int port, std::chrono::milliseconds timeout, std::string* error) {
  RedisContextPtr ctx(redisConnectWithTimeout("127.0.0.1", port, ToTimeval(timeout)));
  if (ctx == nullptr) {
    if (error != nullptr) *error = "redisConnectWithTimeout returned null";
    return nullptr;
  }
  if (ctx->err != 0) {
    if (error != nullptr) *error = ctx->errstr;
    return nullptr;
  }
  redisSetTimeout(ctx.get(), ToTimeval(timeout));
  return ctx;
}

RedisReplyPtr HiredisCommand(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  ToArgv(args, &argv, &lens);
  return RedisReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

bool HiredisAppend(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  ToArgv(args, &argv, &lens);
  return redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

RedisReplyPtr HiredisGetReply(redisContext* ctx) {
  void* reply = nullptr;
  if (redisGetReply(ctx, &reply) != REDIS_OK) return nullptr;
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

std::string DescribeReply(const redisReply* reply) {
  if (reply == nullptr) return "no reply (I/O error)";
  std::string_view s(reply->str != nullptr ? reply->str : "", reply->len);
  switch (reply->type) {
    case REDIS_REPLY_STATUS:
      return "status " + EscapeBytes(s);
    case REDIS_REPLY_ERROR:
      return "error " + EscapeBytes(s);
    case REDIS_REPLY_INTEGER:
      return "integer " + std::to_string(reply->integer);
    case REDIS_REPLY_STRING:
      return "string \"" + EscapeBytes(s) + "\"";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_ARRAY:
      return "array[" + std::to_string(reply->elements) + "]";
    default:
      return "type " + std::to_string(reply->type);
  }
}

}  // namespace keel::test
