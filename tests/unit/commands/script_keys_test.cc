// ScriptStaysInDeclaredKeys: which Lua scripts may run holding only their declared keys' shard
// locks. Every "false" case is a way out of KEYS that the proof must catch; every "true" case
// is a common script shape that should keep the fast path.

#include "keel/commands/script_keys.h"

#include <gtest/gtest.h>

#include "keel/commands/dispatcher.h"

namespace keel {
namespace {

class ScriptKeysTest : public ::testing::Test {
 protected:
  ScriptKeysTest() { RegisterAllCommands(); }
};

TEST_F(ScriptKeysTest, CommonScriptsOnTheirKeysQualify) {
  // A rate limiter, a compare-and-delete, a loop over KEYS, a local bound to a key.
  EXPECT_TRUE(
      ScriptStaysInDeclaredKeys("local c = redis.call('INCR', KEYS[1]) "
                                "if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
                                "return redis.call('GET', KEYS[1])"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
      "else return 0 end"));
  EXPECT_TRUE(
      ScriptStaysInDeclaredKeys("for i = 1, #KEYS do redis.call('set', KEYS[i], ARGV[i]) end"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys(
      "local key = KEYS[1]\nlocal n = tonumber(ARGV[1])\nredis.call('incrby', key, n)\n"
      "return redis.call('get', key)"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("redis.call('mset', KEYS[1], 'a', KEYS[2], 'b')"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("return redis.pcall('hget', KEYS[1], ARGV[1])"));
  // No key at all, PUBLISH (no lock), an unknown command (runs nothing), redis.log.
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("return redis.call('time')"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("redis.call('publish', 'ch', ARGV[1])"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("redis.call('nosuchcommand', 'x')"));
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("redis.log(redis.LOG_WARNING, 'x') return 1"));
  // A last argument that may expand to several values cannot move a fixed key position.
  EXPECT_TRUE(ScriptStaysInDeclaredKeys("redis.call('set', KEYS[1], tostring(ARGV[1]))"));
  // Strings and comments are not code; a shebang line is skipped.
  EXPECT_TRUE(ScriptStaysInDeclaredKeys(
      "#!lua flags=no-writes\n-- redis.call('get', 'x')\n--[[ _G ]] local s = \"redis.call\" "
      "return [[redis.call('flushall')]] .. redis.call('get', KEYS[1])"));
}

TEST_F(ScriptKeysTest, UndeclaredKeysAndWholeKeyspaceCommandsDoNot) {
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('get', 'literal')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('get', ARGV[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('get', KEYS[1] .. 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call('incr', KEYS[1]) redis.call('incr', 'b')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call('select', 1)"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('dbsize')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('keys', '*')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('flushall')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('move', KEYS[1], 1)"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('sort', KEYS[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return redis.call('object', 'encoding', KEYS[1])"));
  // Movable keys, a non-literal command name.
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call('zunionstore', KEYS[1], 1, KEYS[2])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call(ARGV[1], KEYS[1])"));
  // An open key range whose last argument may expand: unpack(...) could add keys.
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call('del', KEYS[1], unpack(ARGV))"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call('rename', KEYS[1], f())"));
}

TEST_F(ScriptKeysTest, WaysAroundTheCheckDoNotQualify) {
  // Other handles on redis.call.
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("local c = redis.call c('get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("pcall(redis.call, 'get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("local r = redis r.call('get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis['call']('get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("_G.redis.call('get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("getfenv(1).redis.call('get', 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("loadstring('return 1')()"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("redis.call 'flushall'"));
  // KEYS changed, replaced or shadowed.
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("KEYS[1] = 'x' redis.call('get', KEYS[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("KEYS[1], y = 'x', 1 redis.call('get', KEYS[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("local KEYS = {'x'} redis.call('get', KEYS[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("table.insert(KEYS, 'x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("rawset(KEYS, 1, 'x')"));
  // A key local that is assigned again, declared twice, or shadowed by a parameter.
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("local k = KEYS[1] k = ARGV[1] redis.call('get', k)"));
  EXPECT_FALSE(
      ScriptStaysInDeclaredKeys("local k = KEYS[1] local a, k = 1, 'x' redis.call('get', k)"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys(
      "local k = KEYS[1] local function f(k) return redis.call('get', k) end return f('x')"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("local k = KEYS[1] .. 'x' redis.call('get', k)"));
  // A function in the arguments could hide commas; a source that does not lex.
  EXPECT_FALSE(
      ScriptStaysInDeclaredKeys("redis.call('set', KEYS[1], function() local a, b = 1, 2 end)"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("return 'unterminated"));
}

// Long scripts that name their keys once at the top: every use of every local is checked, and
// one bad use among many disqualifies the script.
TEST_F(ScriptKeysTest, ManyKeyLocalsAreEachCheckedAtEveryUse) {
  std::string body;
  for (int i = 1; i <= 150; ++i) {
    body += "local k" + std::to_string(i) + " = KEYS[" + std::to_string(i) + "]\n";
  }
  for (int i = 1; i <= 150; ++i) {
    body += "redis.call('set', k" + std::to_string(i) + ", ARGV[1]) redis.call('get', k" +
            std::to_string(i) + ")\n";
  }
  EXPECT_TRUE(ScriptStaysInDeclaredKeys(body));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys(body + "k77 = ARGV[2] redis.call('get', k77)\n"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys(body + "k1, k150 = 1, 'x'\n"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys(body + "local k150 = 'x'\n"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys(body + "redis.call('get', k151)\n"));
  // A bracket closes the innermost open one whatever its kind, as the depth count did.
  EXPECT_TRUE(
      ScriptStaysInDeclaredKeys("local t = {1, {2, (3)}} return redis.call('get', "
                                "KEYS[1])"));
  EXPECT_FALSE(ScriptStaysInDeclaredKeys("KEYS[(1)] = 'x'"));
}

}  // namespace
}  // namespace keel
