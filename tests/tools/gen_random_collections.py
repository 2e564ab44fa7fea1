#!/usr/bin/env python3
"""Generates tests/differential/cases/random_sets_hashes.txt: a deterministic (seeded) mixed
sequence of set and hash commands for the differential test.

The generator keeps a small model of the keyspace (types, members, field order and encodings)
only to choose how each reply is compared: exactly when Redis's order is defined (intsets are
ascending, listpacks are in insertion order), with !unordered when the members come from a
hashtable, and as sets over a full iteration (!scan-set) for hashtable scans. The replies themselves are always checked
against the real redis-server by the differential test.

Usage: gen_random_collections.py [--seed N] [--steps N] [--out PATH]
"""

import argparse
import os
import random

MAX_INTSET = 16  # set-max-intset-entries used by the script
MAX_LP_ENTRIES = 8  # hash-max-listpack-entries used by the script
MAX_LP_VALUE = 64  # hash-max-listpack-value (the default)

SET_KEYS = ["s0", "s1", "s2", "s3", "s4", "s5"]
HASH_KEYS = ["h0", "h1", "h2", "h3", "h4"]
STR_KEYS = ["str"]


def is_canonical_int(s):
    if not s or len(s) > 20:
        return False
    body = s[1:] if s[0] == "-" else s
    if not body.isdigit():
        return False
    if body != "0" and body[0] == "0":
        return False
    if s == "-0":
        return False
    v = int(s)
    return -(2**63) <= v < 2**63


def quote(s):
    if s and all(c.isalnum() or c in "-_.:+" for c in s):
        return s
    out = '"'
    for c in s:
        if c in '"\\':
            out += "\\" + c
        elif 32 <= ord(c) < 127:
            out += c
        else:
            out += "\\x%02x" % ord(c)
    return out + '"'


class Model:
    def __init__(self):
        self.types = {}  # key -> "set" | "hash" | "string"
        self.sets = {}  # key -> {"members": set, "intset": bool}
        self.hashes = {}  # key -> {"fields": dict (insertion order), "listpack": bool}

    def delete(self, key):
        self.types.pop(key, None)
        self.sets.pop(key, None)
        self.hashes.pop(key, None)

    # ---- sets ----
    def set_of(self, key):
        return self.sets.get(key) if self.types.get(key) == "set" else None

    def new_set(self, first):
        return {"members": set(), "intset": is_canonical_int(first)}

    @staticmethod
    def set_add(s, m):
        if m in s["members"]:
            return
        s["members"].add(m)
        if s["intset"] and (not is_canonical_int(m) or len(s["members"]) > MAX_INTSET):
            s["intset"] = False

    def store_set(self, key, members):
        self.delete(key)
        if not members:
            return
        s = {"members": set(), "intset": True}
        for m in sorted(members, key=lambda x: (not is_canonical_int(x), x)):
            self.set_add(s, m)
        self.types[key] = "set"
        self.sets[key] = s

    def set_ordered(self, key):
        s = self.set_of(key)
        return s is None or s["intset"]

    # ---- hashes ----
    def hash_of(self, key):
        return self.hashes.get(key) if self.types.get(key) == "hash" else None

    def hash_set(self, key, pairs):
        h = self.hash_of(key)
        if h is None:
            h = {"fields": {}, "listpack": True}
            self.types[key] = "hash"
            self.hashes[key] = h
        if any(len(x) > MAX_LP_VALUE for p in pairs for x in p):
            h["listpack"] = False
        for f, v in pairs:
            if len(f) > MAX_LP_VALUE or len(v) > MAX_LP_VALUE:
                h["listpack"] = False
            h["fields"][f] = v
            if len(h["fields"]) > MAX_LP_ENTRIES:
                h["listpack"] = False


def wrong_type(model, key, want):
    t = model.types.get(key)
    return t is not None and t != want


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.model = Model()
        self.lines = []

    def emit(self, args, mode=""):
        line = " ".join(quote(a) for a in args)
        self.lines.append((mode + " " + line) if mode else line)

    def member(self):
        r = self.rng.random()
        if r < 0.6:
            return str(self.rng.randint(-3, 24))
        if r < 0.7:
            return self.rng.choice(["70000", "-70000", "5000000000", "-9223372036854775808"])
        if r < 0.75:
            return self.rng.choice(["01", "+1", "-0", " 1", "1.0", ""])
        return self.rng.choice(["a", "b", "c", "x", "y", "hello", "a b", "\x00z"])

    def set_key(self):
        if self.rng.random() < 0.03:
            return self.rng.choice(HASH_KEYS + STR_KEYS)
        return self.rng.choice(SET_KEYS)

    def hash_key(self):
        if self.rng.random() < 0.03:
            return self.rng.choice(SET_KEYS + STR_KEYS)
        return self.rng.choice(HASH_KEYS)

    def field(self):
        if self.rng.random() < 0.03:
            return "F" * 65
        return "f%d" % self.rng.randint(0, 10)

    def value(self):
        r = self.rng.random()
        if r < 0.4:
            return str(self.rng.randint(-100, 100))
        if r < 0.45:
            return "v" * self.rng.choice([63, 64, 65])
        if r < 0.5:
            return self.rng.choice(["", "1.5", "01", " 2", "\x00\xff"])
        return "val%d" % self.rng.randint(0, 20)

    # ---- set steps ----
    def members_reply_mode(self, key):
        return "" if self.model.set_ordered(key) else "!unordered"

    def step_set(self):
        m = self.model
        op = self.rng.choice(
            ["sadd"] * 6
            + ["srem"] * 3
            + ["smembers", "sismember", "smismember", "scard", "smove", "smove", "sinter"]
            + ["sinterstore", "sunion", "sunionstore", "sdiff", "sdiffstore", "sintercard"]
            + ["spopall", "srandall", "sscan", "encoding", "del"]
        )
        if op == "sadd":
            key = self.set_key()
            ms = [self.member() for _ in range(self.rng.randint(1, 5))]
            self.emit(["SADD", key] + ms)
            if wrong_type(m, key, "set"):
                return
            s = m.set_of(key)
            if s is None:
                s = m.new_set(ms[0])
                m.types[key] = "set"
                m.sets[key] = s
            for x in ms:
                m.set_add(s, x)
        elif op == "srem":
            key = self.set_key()
            ms = [self.member() for _ in range(self.rng.randint(1, 4))]
            self.emit(["SREM", key] + ms)
            s = m.set_of(key)
            if s is not None:
                s["members"] -= set(ms)
                if not s["members"]:
                    m.delete(key)
        elif op == "smembers":
            key = self.set_key()
            self.emit(["SMEMBERS", key], self.members_reply_mode(key))
        elif op == "sismember":
            self.emit(["SISMEMBER", self.set_key(), self.member()])
        elif op == "smismember":
            self.emit(["SMISMEMBER", self.set_key()] + [self.member() for _ in range(3)])
        elif op == "scard":
            self.emit(["SCARD", self.set_key()])
        elif op == "smove":
            src, dst, x = self.set_key(), self.set_key(), self.member()
            self.emit(["SMOVE", src, dst, x])
            s = m.set_of(src)
            if s is None or wrong_type(m, src, "set") or wrong_type(m, dst, "set"):
                return
            if src == dst or x not in s["members"]:
                return
            s["members"].discard(x)
            if not s["members"]:
                m.delete(src)
            d = m.set_of(dst)
            if d is None:
                d = m.new_set(x)
                m.types[dst] = "set"
                m.sets[dst] = d
            m.set_add(d, x)
        elif op in ("sinter", "sinterstore", "sintercard"):
            keys = [self.set_key() for _ in range(self.rng.randint(1, 3))]
            if any(wrong_type(m, k, "set") for k in keys):
                result, ordered = None, True
            elif any(m.set_of(k) is None for k in keys):
                result, ordered = set(), True
            else:
                result = set.intersection(*(m.set_of(k)["members"] for k in keys))
                ordered = all(m.set_of(k)["intset"] for k in keys)
            if op == "sinter":
                self.emit(["SINTER"] + keys, "" if ordered else "!unordered")
            elif op == "sintercard":
                extra = ["LIMIT", str(self.rng.randint(0, 4))] if self.rng.random() < 0.5 else []
                self.emit(["SINTERCARD", str(len(keys))] + keys + extra)
            else:
                dst = self.set_key()
                self.emit(["SINTERSTORE", dst] + keys)
                if result is not None:
                    m.store_set(dst, result)
        elif op in ("sunion", "sunionstore", "sdiff", "sdiffstore"):
            keys = [self.set_key() for _ in range(self.rng.randint(1, 3))]
            result = None
            if not any(wrong_type(m, k, "set") for k in keys):
                sets = [m.set_of(k)["members"] if m.set_of(k) else set() for k in keys]
                if op.startswith("sunion"):
                    result = set().union(*sets)
                else:
                    result = set(sets[0])
                    for x in sets[1:]:
                        result -= x
            if op.endswith("store"):
                dst = self.set_key()
                self.emit([op.upper(), dst] + keys)
                if result is not None:
                    m.store_set(dst, result)
            else:
                ordered = result is None or (
                    len(result) <= MAX_INTSET and all(is_canonical_int(x) for x in result)
                )
                self.emit([op.upper()] + keys, "" if ordered else "!unordered")
        elif op == "spopall":
            key = self.set_key()
            s = m.set_of(key)
            n = len(s["members"]) if s else 1
            self.emit(["SPOP", key, str(n + self.rng.randint(0, 2))], self.members_reply_mode(key))
            if s is not None:
                m.delete(key)
        elif op == "srandall":
            key = self.set_key()
            s = m.set_of(key)
            n = len(s["members"]) if s else 1
            self.emit(
                ["SRANDMEMBER", key, str(n + self.rng.randint(0, 2))], self.members_reply_mode(key)
            )
        elif op == "sscan":
            key = self.set_key()
            args = ["SSCAN", key, "0"]
            if self.rng.random() < 0.5:
                args += ["MATCH", self.rng.choice(["1*", "*a*", "?", "[0-5]", "-*"])]
            ordered = self.model.set_ordered(key)
            # A hashtable scan is compared as a set over a full iteration (!scan-set).
            if self.rng.random() < 0.5 or not ordered:
                args += ["COUNT", "1000"]
            self.emit(args, "" if ordered else "!scan-set")
        elif op == "encoding":
            self.emit(["OBJECT", "ENCODING", self.set_key()])
        elif op == "del":
            key = self.set_key()
            self.emit(["DEL", key])
            m.delete(key)

    # ---- hash steps ----
    def hash_reply_mode(self, key):
        h = self.model.hash_of(key)
        return "" if h is None or h["listpack"] else "!unordered"

    def step_hash(self):
        m = self.model
        op = self.rng.choice(
            ["hset"] * 6
            + ["hdel"] * 2
            + ["hsetnx", "hget", "hmget", "hlen", "hexists", "hstrlen", "hincrby", "hincrby"]
            + ["hincrbyfloat", "hgetall", "hkeys", "hvals", "hrandall", "hscan", "encoding"]
            + ["hmset"]
        )
        if op in ("hset", "hmset"):
            key = self.hash_key()
            pairs = [(self.field(), self.value()) for _ in range(self.rng.randint(1, 4))]
            self.emit([op.upper(), key] + [x for p in pairs for x in p])
            if not wrong_type(m, key, "hash"):
                m.hash_set(key, pairs)
        elif op == "hsetnx":
            key, f, v = self.hash_key(), self.field(), self.value()
            self.emit(["HSETNX", key, f, v])
            if not wrong_type(m, key, "hash"):
                h = m.hash_of(key)
                if h is None or f not in h["fields"]:
                    m.hash_set(key, [(f, v)])
        elif op == "hdel":
            key = self.hash_key()
            fs = [self.field() for _ in range(self.rng.randint(1, 3))]
            self.emit(["HDEL", key] + fs)
            h = m.hash_of(key)
            if h is not None:
                for f in fs:
                    h["fields"].pop(f, None)
                if not h["fields"]:
                    m.delete(key)
        elif op == "hget":
            self.emit(["HGET", self.hash_key(), self.field()])
        elif op == "hmget":
            self.emit(["HMGET", self.hash_key()] + [self.field() for _ in range(3)])
        elif op == "hlen":
            self.emit(["HLEN", self.hash_key()])
        elif op == "hexists":
            self.emit(["HEXISTS", self.hash_key(), self.field()])
        elif op == "hstrlen":
            self.emit(["HSTRLEN", self.hash_key(), self.field()])
        elif op in ("hincrby", "hincrbyfloat"):
            key, f = self.hash_key(), self.field()
            if op == "hincrby":
                incr = str(self.rng.choice([1, -1, 5, 100, -37, 9223372036854775807]))
            else:
                incr = self.rng.choice(["0.1", "-1.5", "2.5e-3", "10", "1e3", "-0.25"])
            self.emit([op.upper(), key, f, incr])
            if wrong_type(m, key, "hash"):
                return
            h = m.hash_of(key)
            old = h["fields"].get(f) if h else None
            if op == "hincrby" and old is not None and old != "?" and not is_canonical_int(old):
                return  # error, nothing changes
            if op == "hincrbyfloat" and old is not None and old != "?":
                try:
                    float(old)
                    if old != old.strip() or old == "":
                        return
                except ValueError:
                    return
            m.hash_set(key, [(f, "?")])
        elif op in ("hgetall", "hkeys", "hvals"):
            key = self.hash_key()
            self.emit([op.upper(), key], self.hash_reply_mode(key))
        elif op == "hrandall":
            key = self.hash_key()
            h = m.hash_of(key)
            n = len(h["fields"]) if h else 1
            args = ["HRANDFIELD", key, str(n + self.rng.randint(0, 2))]
            if self.rng.random() < 0.5:
                args.append("WITHVALUES")
            self.emit(args, self.hash_reply_mode(key))
        elif op == "hscan":
            key = self.hash_key()
            args = ["HSCAN", key, "0"]
            if self.rng.random() < 0.5:
                args += ["MATCH", self.rng.choice(["f1*", "*", "f?", "F*"])]
            h = m.hash_of(key)
            ordered = h is None or h["listpack"]
            if self.rng.random() < 0.5 or not ordered:
                args += ["COUNT", "1000"]
            self.emit(args, "" if ordered else "!scan-set")
        elif op == "encoding":
            self.emit(["OBJECT", "ENCODING", self.hash_key()])

    def run(self, steps):
        self.emit(["CONFIG", "SET", "set-max-intset-entries", str(MAX_INTSET)])
        self.emit(["CONFIG", "SET", "hash-max-listpack-entries", str(MAX_LP_ENTRIES)])
        self.emit(["SET", "str", "a string"])
        self.model.types["str"] = "string"
        for _ in range(steps):
            if self.rng.random() < 0.5:
                self.step_set()
            else:
                self.step_hash()
        # The final state, key by key.
        for key in SET_KEYS + HASH_KEYS:
            self.emit(["TYPE", key])
            self.emit(["OBJECT", "ENCODING", key])
            t = self.model.types.get(key)
            if t == "set":
                self.emit(["SMEMBERS", key], self.members_reply_mode(key))
            elif t == "hash":
                self.emit(["HGETALL", key], self.hash_reply_mode(key))
        self.emit(["CONFIG", "SET", "set-max-intset-entries", "512"])
        self.emit(["CONFIG", "SET", "hash-max-listpack-entries", "512"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "differential", "cases", "random_sets_hashes.txt")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=20240701)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--out", default=default_out)
    a = p.parse_args()
    g = Generator(a.seed)
    g.run(a.steps)
    with open(a.out, "w") as f:
        f.write(
            "# Generated by tests/tools/gen_random_collections.py --seed %d --steps %d;"
            " do not edit.\n" % (a.seed, a.steps)
        )
        f.write("# A seeded random mix of set and hash commands (see the generator).\n")
        for line in g.lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
