#!/usr/bin/env python3
"""Writes tests/differential/cases/watch_writes.txt and dirty.txt: for each write command form,
whether it aborts a WATCHed EXEC and how much it adds to rdb_changes_since_last_save, compared
with Redis. Each case is (setup commands, the write)."""

import os

CASES = [
    # strings
    ([], "SET k v"),
    (["SET k v"], "SET k v"),
    (["SET k v"], "SET k w NX"),
    ([], "SET k w XX"),
    ([], "SET k w NX"),
    (["SET k v"], "SET k w GET"),
    (["SET k v"], "SETNX k w"),
    ([], "SETNX k w"),
    ([], "SETEX k 100 v"),
    ([], "PSETEX k 100000 v"),
    (["SET k v"], "GETSET k w"),
    (["SET k v"], "GETDEL k"),
    ([], "GETDEL k"),
    (["SET k v"], "GETEX k"),
    (["SET k v"], "GETEX k PX 100000"),
    (["SET k v"], "GETEX k PERSIST"),
    (["SET k v EX 100"], "GETEX k PERSIST"),
    (["SET k v"], "GETEX k PXAT 1"),
    ([], "MSET k 1 j 2"),
    (["SET k v"], "MSETNX k 1 j 2"),
    ([], "MSETNX k 1 j 2"),
    ([], "APPEND k abc"),
    (["SET k v"], "APPEND k \"\""),
    (["SET k v"], "SETRANGE k 0 \"\""),
    ([], "SETRANGE k 0 \"\""),
    (["SET k v"], "SETRANGE k 1 zz"),
    ([], "INCR k"),
    (["SET k 5"], "INCRBY k 0"),
    (["SET k 5"], "DECR k"),
    (["SET k 5"], "DECRBY k 2"),
    (["SET k 1.5"], "INCRBYFLOAT k 1"),
    (["SET k abc"], "INCR k"),
    ([], "SETBIT k 3 1"),
    (["SETBIT k 3 1"], "SETBIT k 3 1"),
    (["SETBIT k 3 1"], "SETBIT k 3 0"),
    (["SET a abc"], "BITOP AND k a a"),
    (["SET k v"], "BITOP AND k none none"),
    ([], "BITOP AND k none none"),
    # keys
    (["SET k v"], "DEL k"),
    ([], "DEL k"),
    (["SET k v", "SET j v"], "DEL k j nokey"),
    (["SET k v"], "UNLINK k"),
    ([], "UNLINK k"),
    (["SET k v"], "RENAME k j"),
    (["SET j v"], "RENAME j k"),
    (["SET k v", "SET j v"], "RENAMENX k j"),
    (["SET k v"], "RENAME k k"),
    (["SET j v"], "COPY j k"),
    (["SET j v", "SET k v"], "COPY j k"),
    (["SET j v", "SET k v"], "COPY j k REPLACE"),
    (["SET k v"], "MOVE k 1"),
    ([], "MOVE k 1"),
    (["SET k v"], "EXPIRE k 100"),
    ([], "EXPIRE k 100"),
    (["SET k v"], "EXPIRE k 100 XX"),
    (["SET k v EX 100"], "EXPIRE k 200 NX"),
    (["SET k v EX 100"], "EXPIRE k 50 GT"),
    (["SET k v EX 100"], "EXPIRE k 200 GT"),
    (["SET k v"], "PEXPIRE k 0"),
    (["SET k v"], "EXPIREAT k 1"),
    (["SET k v"], "PEXPIREAT k 99999999999999"),
    (["SET k v"], "PERSIST k"),
    (["SET k v EX 100"], "PERSIST k"),
    ([], "PERSIST k"),
    (["SET k v"], "TOUCH k"),
    # lists
    ([], "LPUSH k a b"),
    ([], "LPUSHX k a"),
    (["RPUSH k a"], "RPUSHX k b"),
    (["RPUSH k a b"], "LPOP k"),
    (["RPUSH k a"], "LPOP k"),
    ([], "LPOP k"),
    (["RPUSH k a b c"], "RPOP k 2"),
    (["RPUSH k a"], "RPOP k 0"),
    (["RPUSH k a b"], "LSET k 0 z"),
    (["RPUSH k a b"], "LINSERT k BEFORE b x"),
    (["RPUSH k a b"], "LINSERT k BEFORE nope x"),
    (["RPUSH k a b a"], "LREM k 0 a"),
    (["RPUSH k a b"], "LREM k 0 zz"),
    (["RPUSH k a b c d"], "LTRIM k 1 2"),
    (["RPUSH k a b"], "LTRIM k 0 -1"),
    ([], "LTRIM k 0 -1"),
    (["RPUSH k a b"], "RPOPLPUSH k j"),
    (["RPUSH j a b"], "RPOPLPUSH j k"),
    ([], "RPOPLPUSH j k"),
    (["RPUSH k a b"], "LMOVE k k LEFT RIGHT"),
    (["RPUSH k a b c"], "LMPOP 1 k LEFT COUNT 2"),
    ([], "LMPOP 1 k LEFT"),
    (["RPUSH k a"], "BLPOP k 1"),
    (["RPUSH j a"], "BLMOVE j k LEFT LEFT 1"),
    # sets
    ([], "SADD k a b"),
    (["SADD k a b"], "SADD k a b"),
    (["SADD k a b"], "SADD k a c"),
    (["SADD k a b"], "SREM k a x"),
    (["SADD k a"], "SREM k a"),
    (["SADD k a"], "SREM k x"),
    ([], "SREM k x"),
    (["SADD k a"], "SPOP k"),
    ([], "SPOP k"),
    (["SADD k a b c"], "!type SPOP k 2"),
    (["SADD k a b c"], "!unordered SPOP k 5"),
    (["SADD k a"], "SPOP k 0"),
    (["SADD k a", "SADD j b"], "SMOVE k j a"),
    (["SADD k a", "SADD j a"], "SMOVE k j a"),
    (["SADD k a"], "SMOVE k j zz"),
    (["SADD j a"], "SMOVE j k a"),
    (["SADD a x", "SADD b x"], "SINTERSTORE k a b"),
    (["SET k v"], "SINTERSTORE k none1 none2"),
    ([], "SINTERSTORE k none1 none2"),
    (["SADD a x"], "SUNIONSTORE k a"),
    (["SADD a x"], "SDIFFSTORE k a a"),
    # hashes
    ([], "HSET k a 1 b 2"),
    (["HSET k a 1"], "HSET k a 1"),
    (["HSET k a 1"], "HSET k a 1 c 3"),
    ([], "HMSET k a 1"),
    (["HSET k a 1"], "HSETNX k a 2"),
    (["HSET k a 1"], "HSETNX k b 2"),
    (["HSET k a 1 b 2"], "HDEL k a zz"),
    (["HSET k a 1"], "HDEL k a"),
    (["HSET k a 1"], "HDEL k zz"),
    ([], "HDEL k zz"),
    (["HSET k a 1"], "HINCRBY k a 0"),
    ([], "HINCRBYFLOAT k a 1.5"),
    (["HSET k a x"], "HINCRBY k a 1"),
    # whole databases
    (["SET k v"], "FLUSHDB"),
    ([], "FLUSHDB"),
    (["SET k v", "SET j v"], "FLUSHALL"),
    (["SET k v"], "SWAPDB 0 1"),
    (["SET k v"], "SWAPDB 0 0"),
    (["SELECT 1", "SET k v", "SELECT 0"], "SWAPDB 0 1"),
    ([], "SWAPDB 0 1"),
]

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "differential", "cases")


def main():
    watch = ["# Generated by tests/tools/gen_write_path_cases.py: whether each write aborts a",
             "# WATCHed EXEC. A write that ran counts even when it stored the same value; a write",
             "# that did nothing (SET NX on an existing key, DEL of a missing key...) does not."]
    dirty = ["# Generated by tests/tools/gen_write_path_cases.py: what each write adds to the",
             "# dirty counter (INFO persistence rdb_changes_since_last_save), as Redis counts it.",
             "!delta rdb_changes_since_last_save INFO persistence"]
    for setup, write in CASES:
        watch.append("FLUSHALL")
        watch.extend(setup)
        watch += ["WATCH k", write, "MULTI", "PING", "EXEC"]
        dirty.append("FLUSHALL")
        dirty.extend(setup)
        dirty.append("!delta rdb_changes_since_last_save INFO persistence")
        dirty.append(write)
        dirty.append("!delta rdb_changes_since_last_save INFO persistence")
    # Expiry: a key whose TTL passed is a change for WATCH, but not for the dirty counter.
    watch += ["FLUSHALL", "SET k v PX 50", "WATCH k", "!sleep 120", "MULTI", "PING", "EXEC"]
    watch += ["FLUSHALL", "SET k v PX 50", "WATCH k", "!sleep 120", "GET k", "MULTI", "PING",
              "EXEC"]
    dirty += ["FLUSHALL", "SET k v PX 50", "!delta rdb_changes_since_last_save INFO persistence",
              "!sleep 120", "GET k", "!delta rdb_changes_since_last_save INFO persistence"]
    # A transaction's changes add up; a failed command inside it adds nothing.
    dirty += ["FLUSHALL", "!delta rdb_changes_since_last_save INFO persistence", "MULTI",
              "SET a 1", "SADD s x y", "INCR s", "DEL a b", "EXEC",
              "!delta rdb_changes_since_last_save INFO persistence"]
    for name, lines in (("watch_writes.txt", watch), ("dirty.txt", dirty)):
        with open(os.path.join(OUT, name), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
