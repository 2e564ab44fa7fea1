#!/usr/bin/env python3
"""Regenerates the data section of src/commands/command_meta_table.cc.

The facts (arity, flags, key positions, key specs, ACL categories, tips, argument syntax) are read
from a running Redis 7.0 server through COMMAND INFO and COMMAND DOCS. Descriptions are not taken
from Redis: every summary comes from SUMMARIES below, written for Keel, and complexity, history and
doc flags are left out.

Usage: gen_command_meta.py --port 6379 [--file src/commands/command_meta_table.cc]
The file's text between the BEGIN/END GENERATED markers is replaced; the rest is left alone.
"""

import argparse
import re
import socket
import sys

# Top-level commands, in the order the table lists them (grouped by family).
COMMANDS = """
ping echo quit select auth hello reset client
info config dbsize time shutdown monitor command save bgsave bgrewriteaof lastsave debug
get set setnx setex psetex getset getdel getex mget mset msetnx append strlen getrange substr
setrange incr decr incrby decrby incrbyfloat lcs setbit getbit bitcount bitpos bitop
del unlink exists type keys scan randomkey rename renamenx copy move swapdb flushdb flushall touch
object dump restore expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist
lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos rpoplpush lmove
lmpop blpop brpop brpoplpush blmove blmpop
sadd srem smembers sismember smismember scard spop srandmember smove sinter sintercard sinterstore
sunion sunionstore sdiff sdiffstore sscan
hset hsetnx hget hmget hmset hdel hlen hstrlen hexists hkeys hvals hgetall hincrby hincrbyfloat
hrandfield hscan
zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore
zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange zremrangebyrank
zremrangebyscore zremrangebylex zpopmin zpopmax zmpop bzpopmin bzpopmax bzmpop zrandmember zscan
zunion zinter zdiff zunionstore zinterstore zdiffstore zintercard
multi exec discard watch unwatch
subscribe unsubscribe psubscribe punsubscribe publish pubsub
""".split()
# The rest of the core surface (issue 26).
COMMANDS += """
sort sort_ro slowlog latency wait lolwut bitfield bitfield_ro ssubscribe sunsubscribe spublish
pfadd pfcount pfmerge pfdebug pfselftest
""".split()
# Geo, on sorted sets (issue 25).
COMMANDS += """
geoadd geopos geodist geohash geosearch geosearchstore georadius georadius_ro georadiusbymember
georadiusbymember_ro
""".split()
# What a standalone server answers for the features it runs without (standalone_family.cc). (The
# ACL, MEMORY, client tracking, scripting and function entries between the geo ones and these
# were added to the table by hand.)
COMMANDS += """
role readonly readwrite asking cluster module failover replicaof slaveof replconf sync psync
""".split()

# The subcommands Keel implements, in table order. Other Redis subcommands are left out.
SUBCOMMANDS = {
    "client": "id setname getname list info kill setinfo reply no-evict unblock help pause unpause".split(),
    "config": "get set resetstat rewrite help".split(),
    "command": "count list info docs getkeys getkeysandflags help".split(),
    "object": "encoding refcount idletime freq help".split(),
    "pubsub": "channels numsub numpat help shardchannels shardnumsub".split(),
    "slowlog": "get len reset help".split(),
    "latency": "latest history reset graph doctor histogram help".split(),
    "cluster": ("addslots addslotsrange bumpepoch count-failure-reports countkeysinslot delslots delslotsrange failover flushslots forget getkeysinslot help info keyslot links meet myid nodes replicas replicate reset saveconfig set-config-epoch setslot shards slaves slots").split(),
    "module": "list load loadex unload help".split(),
}

# Commands whose keys the specs alone cannot always give (Redis's getkeys_proc).
GETKEYS = {
    "set": "SetGetKeys",
    "lmpop": "LmpopGetKeys",
    "blmpop": "BlmpopGetKeys",
    "sintercard": "SintercardGetKeys",
    "zunion": "ZalgebraGetKeys",
    "zinter": "ZalgebraGetKeys",
    "zdiff": "ZalgebraGetKeys",
    "zunionstore": "ZalgebraStoreGetKeys",
    "zinterstore": "ZalgebraStoreGetKeys",
    "zdiffstore": "ZalgebraStoreGetKeys",
    "zintercard": "SintercardGetKeys",
    "zmpop": "LmpopGetKeys",
    "bzmpop": "BlmpopGetKeys",
    "sort": "SortGetKeys",
    "sort_ro": "SortRoGetKeys",
    "bitfield": "BitfieldGetKeys",
}

# CLIENT SETINFO is newer than 7.0 (it arrived in 7.2); Keel offers it, with 7.2's facts.
EXTRA_INFO = {
    "client|setinfo": [
        "client|setinfo", 4,
        [("status", "noscript"), ("status", "loading"), ("status", "stale")], 0, 0, 0,
        [("status", "@slow"), ("status", "@connection")],
        ["request_policy:all_nodes", "response_policy:all_succeeded"], [], []],
}
EXTRA_DOCS = {
    "client|setinfo": [
        "summary", "", "since", "7.2.0", "group", "connection", "arguments",
        [["name", "attr", "type", "oneof", "arguments",
          [["name", "libname", "type", "string", "token", "LIB-NAME"],
           ["name", "libver", "type", "string", "token", "LIB-VER"]]]]],
}

# Keel's own one-line descriptions.
SUMMARIES = {
    "ping": "Checks that the connection is alive, optionally echoing a message.",
    "echo": "Replies with the given message.",
    "quit": "Asks the server to close this connection.",
    "select": "Switches this connection to another numbered database.",
    "auth": "Authenticates this connection.",
    "hello": "Negotiates the protocol version and optionally authenticates and names the client.",
    "reset": "Returns this connection to its default state.",
    "client": "Groups the commands that inspect and manage client connections.",
    "client|id": "Returns this connection's unique id.",
    "client|setname": "Names this connection.",
    "client|getname": "Returns this connection's name.",
    "client|list": "Lists the open connections and their state.",
    "client|info": "Describes this connection.",
    "client|kill": "Closes the connections that match a filter.",
    "client|setinfo": "Records the client library's name or version for this connection.",
    "client|reply": "Turns replies to this connection on or off, or skips the next one.",
    "client|no-evict": "Exempts this connection from client eviction, or stops doing so.",
    "client|unblock": "Wakes a client blocked in a blocking command, as a timeout or an error.",
    "client|help": "Lists the CLIENT subcommands.",
    "info": "Reports server statistics and state, by section.",
    "config": "Groups the commands that read and change the server configuration.",
    "config|get": "Returns the configuration parameters matching the given patterns.",
    "config|set": "Changes configuration parameters at run time.",
    "config|resetstat": "Zeroes the statistics that INFO reports.",
    "config|rewrite": "Writes the running configuration back to the configuration file.",
    "config|help": "Lists the CONFIG subcommands.",
    "dbsize": "Counts the keys in the selected database.",
    "time": "Returns the server clock as seconds and microseconds.",
    "shutdown": "Stops the server, optionally saving first.",
    "monitor": "Streams every command the server runs to this connection.",
    "command": "Describes the commands this server offers.",
    "command|count": "Counts the commands this server offers.",
    "command|list": "Lists command names, optionally filtered.",
    "command|info": "Describes the given commands, or all of them.",
    "command|docs": "Returns usage documentation for the given commands, or all of them.",
    "command|getkeys": "Extracts the key names from a full command line.",
    "command|getkeysandflags": "Extracts the key names and their access flags from a full command line.",
    "command|help": "Lists the COMMAND subcommands.",
    "save": "Writes a snapshot of the dataset to disk, blocking meanwhile.",
    "bgsave": "Writes a snapshot of the dataset to disk in the background.",
    "bgrewriteaof": "Compacts the append-only file in the background.",
    "lastsave": "Returns the Unix time of the last successful snapshot.",
    "debug": "Runs server debugging and testing operations (RELOAD, OBJECT).",
    "get": "Reads a string value.",
    "set": "Stores a string value, with optional expiry and conditions.",
    "setnx": "Stores a string value only if the key is absent.",
    "setex": "Stores a string value with an expiry in seconds.",
    "psetex": "Stores a string value with an expiry in milliseconds.",
    "getset": "Stores a string value and returns the previous one.",
    "getdel": "Reads a string value and removes the key.",
    "getex": "Reads a string value and changes or clears its expiry.",
    "mget": "Reads the string values of several keys.",
    "mset": "Stores several string values at once.",
    "msetnx": "Stores several string values only if none of the keys exists.",
    "append": "Adds bytes to the end of a string value.",
    "strlen": "Returns the byte length of a string value.",
    "getrange": "Reads a byte range of a string value.",
    "substr": "Reads a byte range of a string value (old name of GETRANGE).",
    "setrange": "Overwrites part of a string value at an offset.",
    "incr": "Adds one to an integer value.",
    "decr": "Subtracts one from an integer value.",
    "incrby": "Adds an integer to an integer value.",
    "decrby": "Subtracts an integer from an integer value.",
    "incrbyfloat": "Adds a floating point number to a numeric value.",
    "lcs": "Finds the longest common subsequence of two string values.",
    "setbit": "Sets or clears one bit of a string value.",
    "getbit": "Reads one bit of a string value.",
    "bitcount": "Counts the set bits in a string value or a range of it.",
    "bitpos": "Finds the first set or clear bit in a string value.",
    "bitop": "Combines string values bitwise into a destination key.",
    "del": "Removes keys.",
    "unlink": "Removes keys, reclaiming their memory in the background.",
    "exists": "Counts how many of the given keys exist.",
    "type": "Names the type of the value at a key.",
    "keys": "Lists the keys matching a glob pattern.",
    "scan": "Walks the keyspace incrementally with a cursor.",
    "randomkey": "Returns a key picked at random.",
    "rename": "Gives a key a new name, replacing any key already there.",
    "renamenx": "Gives a key a new name only if that name is free.",
    "copy": "Duplicates a value under another key, possibly in another database.",
    "move": "Transfers a key to another database.",
    "swapdb": "Exchanges the contents of two databases.",
    "flushdb": "Empties the selected database.",
    "flushall": "Empties every database.",
    "touch": "Marks keys as accessed and counts those that exist.",
    "object": "Groups the commands that inspect how values are stored.",
    "dump": "Serializes a key's value in the RDB format, for RESTORE.",
    "restore": "Creates a key from a value serialized by DUMP.",
    "object|encoding": "Names the internal encoding of a value.",
    "object|refcount": "Returns the reference count of a value.",
    "object|idletime": "Returns how long a key has gone unaccessed, in seconds.",
    "object|freq": "Returns the access frequency counter of a key.",
    "object|help": "Lists the OBJECT subcommands.",
    "expire": "Sets a key's time to live in seconds.",
    "pexpire": "Sets a key's time to live in milliseconds.",
    "expireat": "Sets the Unix time, in seconds, at which a key expires.",
    "pexpireat": "Sets the Unix time, in milliseconds, at which a key expires.",
    "ttl": "Returns a key's remaining time to live in seconds.",
    "pttl": "Returns a key's remaining time to live in milliseconds.",
    "expiretime": "Returns the Unix time, in seconds, at which a key expires.",
    "pexpiretime": "Returns the Unix time, in milliseconds, at which a key expires.",
    "persist": "Removes a key's expiry.",
    "lpush": "Adds elements to the head of a list.",
    "rpush": "Adds elements to the tail of a list.",
    "lpushx": "Adds elements to the head of a list that already exists.",
    "rpushx": "Adds elements to the tail of a list that already exists.",
    "lpop": "Removes and returns elements from the head of a list.",
    "rpop": "Removes and returns elements from the tail of a list.",
    "llen": "Returns the number of elements in a list.",
    "lrange": "Returns a range of list elements.",
    "lindex": "Returns the list element at an index.",
    "lset": "Replaces the list element at an index.",
    "linsert": "Inserts an element before or after a pivot element of a list.",
    "lrem": "Removes occurrences of an element from a list.",
    "ltrim": "Keeps only a range of a list's elements.",
    "lpos": "Finds the indexes of matching list elements.",
    "rpoplpush": "Moves the tail element of one list to the head of another.",
    "lmove": "Moves an element from one end of a list to an end of another.",
    "lmpop": "Pops elements from the first non-empty list among several.",
    "blpop": "Pops the head of the first non-empty list, waiting for one if needed.",
    "brpop": "Pops the tail of the first non-empty list, waiting for one if needed.",
    "brpoplpush": "Like RPOPLPUSH, waiting for an element if the source is empty.",
    "blmove": "Like LMOVE, waiting for an element if the source is empty.",
    "blmpop": "Like LMPOP, waiting for an element if all the lists are empty.",
    "sadd": "Adds members to a set.",
    "srem": "Removes members from a set.",
    "smembers": "Returns every member of a set.",
    "sismember": "Tells whether a value belongs to a set.",
    "smismember": "Tells, for each value, whether it belongs to a set.",
    "scard": "Returns the number of members of a set.",
    "spop": "Removes and returns random members of a set.",
    "srandmember": "Returns random members of a set without removing them.",
    "smove": "Transfers a member from one set to another.",
    "sinter": "Returns the intersection of sets.",
    "sintercard": "Counts the members of the intersection of sets.",
    "sinterstore": "Stores the intersection of sets in a key.",
    "sunion": "Returns the union of sets.",
    "sunionstore": "Stores the union of sets in a key.",
    "sdiff": "Returns the members of the first set missing from the others.",
    "sdiffstore": "Stores the difference of sets in a key.",
    "sscan": "Walks a set incrementally with a cursor.",
    "hset": "Sets fields of a hash.",
    "hsetnx": "Sets a hash field only if it is absent.",
    "hget": "Reads one field of a hash.",
    "hmget": "Reads several fields of a hash.",
    "hmset": "Sets fields of a hash (older form of HSET).",
    "hdel": "Removes fields from a hash.",
    "hlen": "Returns the number of fields in a hash.",
    "hstrlen": "Returns the byte length of a hash field's value.",
    "hexists": "Tells whether a hash has a field.",
    "hkeys": "Returns every field name of a hash.",
    "hvals": "Returns every value of a hash.",
    "hgetall": "Returns every field and value of a hash.",
    "hincrby": "Adds an integer to a hash field's integer value.",
    "hincrbyfloat": "Adds a floating point number to a hash field's numeric value.",
    "hrandfield": "Returns random fields of a hash, optionally with their values.",
    "hscan": "Walks a hash incrementally with a cursor.",
    "zadd": "Adds members with scores to a sorted set, or updates their scores.",
    "zincrby": "Adds to the score of a sorted set member.",
    "zrem": "Removes members from a sorted set.",
    "zcard": "Returns the number of members of a sorted set.",
    "zscore": "Returns the score of a sorted set member.",
    "zmscore": "Returns the scores of several sorted set members.",
    "zrank": "Returns a member's position in a sorted set, lowest score first.",
    "zrevrank": "Returns a member's position in a sorted set, highest score first.",
    "zcount": "Counts the members of a sorted set within a score range.",
    "zlexcount": "Counts the members of a sorted set within a lexicographical range.",
    "zrange": "Returns members of a sorted set by position, score or lexicographical range.",
    "zrangestore": "Stores a range of a sorted set in a key.",
    "zrangebyscore": "Returns members of a sorted set within a score range (older form).",
    "zrevrangebyscore": "Returns members within a score range, highest first (older form).",
    "zrangebylex": "Returns members within a lexicographical range (older form).",
    "zrevrangebylex": "Returns members within a lexicographical range, last first (older form).",
    "zrevrange": "Returns members of a sorted set by position, highest first (older form).",
    "zremrangebyrank": "Removes the members of a sorted set within a range of positions.",
    "zremrangebyscore": "Removes the members of a sorted set within a score range.",
    "zremrangebylex": "Removes the members of a sorted set within a lexicographical range.",
    "zpopmin": "Removes and returns the members with the lowest scores.",
    "zpopmax": "Removes and returns the members with the highest scores.",
    "zmpop": "Pops the lowest or highest scored members from the first non-empty sorted set.",
    "bzpopmin": "Like ZPOPMIN, waiting for a member if all the sorted sets are empty.",
    "bzpopmax": "Like ZPOPMAX, waiting for a member if all the sorted sets are empty.",
    "bzmpop": "Like ZMPOP, waiting for a member if all the sorted sets are empty.",
    "zrandmember": "Returns random members of a sorted set.",
    "zscan": "Walks a sorted set incrementally with a cursor.",
    "zunion": "Returns the union of sorted sets.",
    "zinter": "Returns the intersection of sorted sets.",
    "zdiff": "Returns the members of the first sorted set missing from the others.",
    "zunionstore": "Stores the union of sorted sets in a key.",
    "zinterstore": "Stores the intersection of sorted sets in a key.",
    "zdiffstore": "Stores the difference of sorted sets in a key.",
    "zintercard": "Counts the members of the intersection of sorted sets.",
    "sort": "Sorts the elements of a list or set, optionally by external keys, and returns or stores them.",
    "client|pause": "Suspends the commands of every client, or only the writes, for a while.",
    "client|unpause": "Ends a pause started by CLIENT PAUSE.",
    "wait": "Waits for replicas to acknowledge this connection's writes (Keel has none yet).",
    "lolwut": "Prints the server version, with generative art for VERSION 5 and 6.",
    "bitfield": "Reads, writes and increments integers of any width at any bit offset of a string.",
    "bitfield_ro": "Reads integers of any width at any bit offset of a string.",
    "ssubscribe": "Subscribes this connection to shard channels.",
    "sunsubscribe": "Unsubscribes this connection from shard channels, or from all of them.",
    "spublish": "Posts a message to a shard channel.",
    "pubsub|shardchannels": "Lists the active shard channels, optionally matching a pattern.",
    "pubsub|shardnumsub": "Counts the subscribers of the given shard channels.",
    "pfadd": "Adds elements to a HyperLogLog.",
    "pfcount": "Estimates the number of distinct elements added to one or more HyperLogLogs.",
    "pfmerge": "Merges HyperLogLogs into a destination key.",
    "geoadd": "Adds members with their longitude and latitude to a sorted set, or moves them.",
    "geopos": "Returns the longitude and latitude of members of a geo sorted set.",
    "geodist": "Returns the distance between two members of a geo sorted set.",
    "geohash": "Returns the standard geohash strings of members of a geo sorted set.",
    "geosearch": "Returns the members of a geo sorted set within a circle or a box.",
    "geosearchstore": "Stores the members of a geo sorted set within a circle or a box in a key.",
    "georadius": "Returns or stores the members within a radius of a point (older form).",
    "georadius_ro": "Returns the members within a radius of a point (older read-only form).",
    "georadiusbymember": "Returns or stores the members within a radius of a member (older form).",
    "georadiusbymember_ro": "Returns the members within a radius of a member (older read-only form).",
    "pfdebug": "Inspects or converts the internal representation of a HyperLogLog.",
    "pfselftest": "Runs the HyperLogLog implementation's self test.",
    "slowlog": "Groups the commands that read and clear the log of slow commands.",
    "slowlog|get": "Returns the newest entries of the slow log.",
    "slowlog|len": "Counts the entries of the slow log.",
    "slowlog|reset": "Empties the slow log.",
    "slowlog|help": "Lists the SLOWLOG subcommands.",
    "latency": "Groups the commands of the latency monitor and the latency histograms.",
    "latency|latest": "Returns the latest and worst latency sample of each event class.",
    "latency|history": "Returns the latency samples of one event class.",
    "latency|reset": "Clears the samples of some or all event classes.",
    "latency|graph": "Draws the latency samples of one event class as text.",
    "latency|doctor": "Reports on the latency spikes seen, in plain text.",
    "latency|histogram": "Returns the cumulative latency histograms of commands.",
    "latency|help": "Lists the LATENCY subcommands.",
    "sort_ro": "Sorts the elements of a list or set, optionally by external keys (read-only form).",
    "multi": "Opens a transaction.",
    "exec": "Runs the commands queued since MULTI.",
    "discard": "Drops the commands queued since MULTI.",
    "watch": "Makes the next transaction conditional on keys staying unchanged.",
    "unwatch": "Forgets every watched key.",
    "subscribe": "Listens for messages on channels.",
    "unsubscribe": "Stops listening on channels.",
    "psubscribe": "Listens for messages on channels matching patterns.",
    "punsubscribe": "Stops listening on channel patterns.",
    "publish": "Sends a message to a channel's subscribers.",
    "pubsub": "Groups the commands that inspect publish/subscribe state.",
    "pubsub|channels": "Lists the channels that have subscribers.",
    "pubsub|numsub": "Counts the subscribers of channels.",
    "pubsub|numpat": "Counts the pattern subscriptions.",
    "pubsub|help": "Lists the PUBSUB subcommands.",
}

# Standalone answers for features Keel runs without (standalone_family.cc).
SUMMARIES.update({
    "role": "Reports this server's replication role: a master with no replicas.",
    "readonly": "Allows reads from a cluster replica (refused: cluster support is disabled).",
    "readwrite": "Ends READONLY on a cluster replica (refused: cluster support is disabled).",
    "asking": "Marks the next command as following an ASK redirection (refused: no cluster).",
    "cluster": "Groups the cluster commands (refused: cluster support is disabled).",
    "module": "Groups the commands that list, load and unload modules.",
    "module|list": "Lists the loaded modules (none in Keel).",
    "module|load": "Loads a module library (Keel loads none: the load fails).",
    "module|loadex": "Loads a module library with configuration (Keel loads none: the load fails).",
    "module|unload": "Unloads a module by name.",
    "module|help": "Lists the MODULE subcommands.",
    "failover": "Hands the master role to a replica (refused: Keel has no replicas).",
    "replicaof": "Makes this server a replica of another, or a master again with NO ONE.",
    "slaveof": "Old name of REPLICAOF.",
    "replconf": "Configures a replication link, or asks for a snapshot only (redis-cli --rdb).",
    "sync": "Asks for a snapshot of the dataset as a replica would (REPLCONF rdb-only clients).",
    "psync": "Asks for a snapshot after +FULLRESYNC as a replica would (REPLCONF rdb-only clients).",
    "cluster|addslots": "The cluster command ADDSLOTS (refused: cluster support is disabled).",
    "cluster|addslotsrange": "The cluster command ADDSLOTSRANGE (refused: cluster support is disabled).",
    "cluster|bumpepoch": "The cluster command BUMPEPOCH (refused: cluster support is disabled).",
    "cluster|count-failure-reports": "The cluster command COUNT-FAILURE-REPORTS (refused: cluster support is disabled).",
    "cluster|countkeysinslot": "The cluster command COUNTKEYSINSLOT (refused: cluster support is disabled).",
    "cluster|delslots": "The cluster command DELSLOTS (refused: cluster support is disabled).",
    "cluster|delslotsrange": "The cluster command DELSLOTSRANGE (refused: cluster support is disabled).",
    "cluster|failover": "The cluster command FAILOVER (refused: cluster support is disabled).",
    "cluster|flushslots": "The cluster command FLUSHSLOTS (refused: cluster support is disabled).",
    "cluster|forget": "The cluster command FORGET (refused: cluster support is disabled).",
    "cluster|getkeysinslot": "The cluster command GETKEYSINSLOT (refused: cluster support is disabled).",
    "cluster|help": "The cluster command HELP (refused: cluster support is disabled).",
    "cluster|info": "The cluster command INFO (refused: cluster support is disabled).",
    "cluster|keyslot": "The cluster command KEYSLOT (refused: cluster support is disabled).",
    "cluster|links": "The cluster command LINKS (refused: cluster support is disabled).",
    "cluster|meet": "The cluster command MEET (refused: cluster support is disabled).",
    "cluster|myid": "The cluster command MYID (refused: cluster support is disabled).",
    "cluster|nodes": "The cluster command NODES (refused: cluster support is disabled).",
    "cluster|replicas": "The cluster command REPLICAS (refused: cluster support is disabled).",
    "cluster|replicate": "The cluster command REPLICATE (refused: cluster support is disabled).",
    "cluster|reset": "The cluster command RESET (refused: cluster support is disabled).",
    "cluster|saveconfig": "The cluster command SAVECONFIG (refused: cluster support is disabled).",
    "cluster|set-config-epoch": "The cluster command SET-CONFIG-EPOCH (refused: cluster support is disabled).",
    "cluster|setslot": "The cluster command SETSLOT (refused: cluster support is disabled).",
    "cluster|shards": "The cluster command SHARDS (refused: cluster support is disabled).",
    "cluster|slaves": "The cluster command SLAVES (refused: cluster support is disabled).",
    "cluster|slots": "The cluster command SLOTS (refused: cluster support is disabled).",
})

CMD_FLAGS = {
    "write": "kCmdWrite", "readonly": "kCmdReadonly", "denyoom": "kCmdDenyOom",
    "module": "kCmdModule", "admin": "kCmdAdmin", "pubsub": "kCmdPubsub",
    "noscript": "kCmdNoscript", "blocking": "kCmdBlocking", "loading": "kCmdLoading",
    "stale": "kCmdStale", "skip_monitor": "kCmdSkipMonitor", "skip_slowlog": "kCmdSkipSlowlog",
    "asking": "kCmdAsking", "fast": "kCmdFast", "no_auth": "kCmdNoAuth",
    "may_replicate": "kCmdMayReplicate", "no_mandatory_keys": "kCmdNoMandatoryKeys",
    "no_async_loading": "kCmdNoAsyncLoading", "no_multi": "kCmdNoMulti",
    "movablekeys": "kCmdMovableKeys", "allow_busy": "kCmdAllowBusy",
}
ACL = {
    "keyspace": "kAclKeyspace", "read": "kAclRead", "write": "kAclWrite", "set": "kAclSet",
    "sortedset": "kAclSortedSet", "list": "kAclList", "hash": "kAclHash",
    "string": "kAclString", "bitmap": "kAclBitmap", "hyperloglog": "kAclHyperLogLog",
    "geo": "kAclGeo", "stream": "kAclStream", "pubsub": "kAclPubsub", "admin": "kAclAdmin",
    "fast": "kAclFast", "slow": "kAclSlow", "blocking": "kAclBlocking",
    "dangerous": "kAclDangerous", "connection": "kAclConnection",
    "transaction": "kAclTransaction", "scripting": "kAclScripting",
}
KEY_FLAGS = {
    "RO": "kKeyRO", "RW": "kKeyRW", "OW": "kKeyOW", "RM": "kKeyRM", "access": "kKeyAccess",
    "update": "kKeyUpdate", "insert": "kKeyInsert", "delete": "kKeyDelete",
    "not_key": "kKeyNotKey", "incomplete": "kKeyIncomplete",
    "variable_flags": "kKeyVariableFlags",
}
ARG_TYPES = {
    "string": "kString", "integer": "kInteger", "double": "kDouble", "key": "kKey",
    "pattern": "kPattern", "unix-time": "kUnixTime", "pure-token": "kPureToken",
    "oneof": "kOneof", "block": "kBlock",
}
ARG_FLAGS = {"optional": "kArgOptional", "multiple": "kArgMultiple",
             "multiple_token": "kArgMultipleToken"}


class Conn:
    """Just enough RESP2 to send a command and parse its reply."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()

    def _read(self):
        line = self.file.readline()[:-2]
        kind, body = line[:1], line[1:].decode()
        if kind == b"+":
            return ("status", body)
        if kind == b"-":
            raise RuntimeError(body)
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            return None if n < 0 else self.file.read(n + 2)[:-2].decode()
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ValueError(line)


def pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


def ident(name):
    parts = re.split(r"[^A-Za-z0-9]+", name)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bits(names, table):
    names = [n[1] if isinstance(n, tuple) else n for n in names]
    return " | ".join(table[n.lstrip("@")] for n in names) if names else "0"


class Emitter:
    def __init__(self):
        self.decls = []  # arrays that entries refer to, in definition order
        self.used = set()

    def unique(self, base):
        name, i = base, 2
        while name in self.used:
            name, i = "%s%d" % (base, i), i + 1
        self.used.add(name)
        return name

    def key_specs(self, cname, specs):
        if not specs:
            return None
        name = self.unique("k%sKeySpecs" % ident(cname))
        lines = []
        for spec in specs:
            d = pairs(spec)
            bs, fk = pairs(d["begin_search"]), pairs(d["find_keys"])
            bss, fks = pairs(bs["spec"]), pairs(fk["spec"])
            if bs["type"] == "index":
                bs_text = "BsIndex(%d)" % bss["index"]
            elif bs["type"] == "unknown":
                bs_text = "BsUnknown()"
            elif bs["type"] == "keyword":
                bs_text = "BsKeyword(%s, %d)" % (cstr(bss["keyword"]), bss["startfrom"])
            else:
                sys.exit("unsupported begin_search in %s" % cname)
            if fk["type"] == "range":
                fk_text = "FkRange(%d, %d, %d)" % (fks["lastkey"], fks["keystep"], fks["limit"])
            elif fk["type"] == "unknown":
                fk_text = "FkUnknown()"
            elif fk["type"] == "keynum":
                fk_text = "FkKeynum(%d, %d, %d)" % (fks["keynumidx"], fks["firstkey"],
                                                   fks["keystep"])
            else:
                sys.exit("unsupported find_keys in %s" % cname)
            text = "{.flags = %s, .bs = %s, .fk = %s" % (bits(d["flags"], KEY_FLAGS), bs_text,
                                                         fk_text)
            if "notes" in d:
                text += ", .notes = %s" % cstr(d["notes"])
            lines.append("    " + text + "},")
        self.decls.append("constexpr KeySpec %s[] = {\n%s\n};" % (name, "\n".join(lines)))
        return name

    def tips(self, cname, tips):
        if not tips:
            return None
        name = self.unique("k%sTips" % ident(cname))
        self.decls.append("constexpr std::string_view %s[] = {%s};" %
                          (name, ", ".join(cstr(t) for t in tips)))
        return name

    def args(self, base, args):
        """Emits nested argument arrays first (a child must be defined before its parent)."""
        if not args:
            return None
        entries = []
        for a in args:
            d = pairs(a)
            fields = [".name = %s" % cstr(d["name"]), ".type = ArgType::%s" % ARG_TYPES[d["type"]]]
            if "key_spec_index" in d:
                fields.append(".key_spec_index = %d" % d["key_spec_index"])
            for f in ("token", "since", "deprecated_since"):
                if f in d:
                    fields.append(".%s = %s" % (f, cstr(d[f])))
            if "flags" in d:
                fields.append(".flags = %s" % bits(d["flags"], ARG_FLAGS))
            if "arguments" in d:
                fields.append(".args = %s" % self.args(base + ident(d["name"]), d["arguments"]))
            entries.append("    {%s}," % ", ".join(fields))
        name = self.unique("k%sArgs" % base)
        self.decls.append("constexpr CommandArg %s[] = {\n%s\n};" % (name, "\n".join(entries)))
        return name

    def entry(self, info, docs, subs_name=None):
        cname = info[0]
        docs = pairs(docs)
        tips = self.tips(cname, info[7])
        specs = self.key_specs(cname, info[8])
        args = self.args(ident(cname), docs.get("arguments"))
        fields = [
            ".name = %s" % cstr(cname),
            ".arity = %d" % info[1],
            ".flags = %s" % bits(info[2], CMD_FLAGS),
            ".first_key = %d" % info[3],
            ".last_key = %d" % info[4],
            ".key_step = %d" % info[5],
            ".acl = %s" % bits(info[6], ACL),
        ]
        if tips:
            fields.append(".tips = %s" % tips)
        if specs:
            fields.append(".key_specs = %s" % specs)
        if subs_name:
            fields.append(".subcommands = %s" % subs_name)
        if cname in GETKEYS:
            fields.append(".getkeys = %s" % GETKEYS[cname])
        fields += [
            ".group = %s" % cstr(docs["group"]),
            ".since = %s" % cstr(docs["since"]),
            ".summary = %s" % cstr(SUMMARIES[cname]),
        ]
        if args:
            fields.append(".args = %s" % args)
        return "    {%s}," % ", ".join(fields)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", default="src/commands/command_meta_table.cc")
    opts = ap.parse_args()
    conn = Conn(opts.port)
    em = Emitter()
    top = []
    for cname in COMMANDS:
        info = conn.call("COMMAND", "INFO", cname)[0]
        docs = pairs(conn.call("COMMAND", "DOCS", cname))[cname]
        subs_name = None
        if cname in SUBCOMMANDS:
            sub_infos = {s[0]: s for s in info[9]}
            sub_docs = pairs(pairs(docs)["subcommands"])
            sub_infos.update(EXTRA_INFO)
            sub_docs.update(EXTRA_DOCS)
            entries = []
            for sub in SUBCOMMANDS[cname]:
                full = "%s|%s" % (cname, sub)
                entries.append(em.entry(sub_infos[full], sub_docs[full]))
            subs_name = em.unique("k%sSubcommands" % ident(cname))
            em.decls.append("constexpr CommandMeta %s[] = {\n%s\n};" %
                            (subs_name, "\n".join(entries)))
        top.append(em.entry(info, docs, subs_name))
    generated = ("// clang-format off\n"
                 "// Generated by tests/tools/gen_command_meta.py from Redis 7.0's COMMAND INFO and\n"
                 "// COMMAND DOCS facts; the summaries are Keel's own. Edit here or regenerate.\n\n" +
                 "\n\n".join(em.decls) +
                 "\n\nconstexpr CommandMeta kCommands[] = {\n" + "\n".join(top) + "\n};\n// clang-format on\n")
    with open(opts.file) as f:
        text = f.read()
    begin, end = "// BEGIN GENERATED TABLE\n", "// END GENERATED TABLE\n"
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    with open(opts.file, "w") as f:
        f.write(head + begin + generated + end + tail)


if __name__ == "__main__":
    main()
