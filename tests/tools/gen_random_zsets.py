#!/usr/bin/env python3
"""Generates tests/differential/cases/random_zsets.txt: a deterministic (seeded) mixed sequence
of sorted set commands for the differential test, run with small listpack limits so that keys
convert to the skiplist encoding (by entries and by member length) along the way.

A sorted set's order is defined whatever its encoding, so every reply is compared byte for byte,
except ZSCAN (compared as a set over a full iteration). Scores are multiples of 1/4 of small
magnitude, so sums are exact whatever order the aggregates run in. Lex ranges are only asked of
the keys whose members all have score 0 (the only case where Redis defines them).

Usage: gen_random_zsets.py [--seed N] [--steps N] [--out PATH]
"""

import argparse
import os
import random

MAX_LP_ENTRIES = 16  # zset-max-listpack-entries used by the script
MAX_LP_VALUE = 24  # zset-max-listpack-value used by the script

ZKEYS = ["z0", "z1", "z2", "z3", "z4"]
MEMBERS = 40  # member names m0..mN (--big: many more, so the skiplist form has inner nodes)
PAIRS = 6  # at most this many pairs a ZADD
LEXKEYS = ["l0", "l1"]


def member(rng):
    r = rng.random()
    if r < 0.03:
        return "long" + "x" * rng.randint(21, 40)
    return "m%d" % rng.randint(0, MEMBERS)


def lexmember(rng):
    n = rng.randint(1, 3)
    return "".join(rng.choice("abcdef") for _ in range(n))


def score(rng):
    r = rng.random()
    if r < 0.02:
        return rng.choice(["+inf", "-inf"])
    return str(rng.randint(-40, 40) / 4).rstrip("0").rstrip(".") or "0"


def bound(rng):
    r = rng.random()
    if r < 0.1:
        return "-inf"
    if r < 0.2:
        return "+inf"
    s = str(rng.randint(-48, 48) / 4)
    return ("(" if rng.random() < 0.3 else "") + s


def lexbound(rng):
    r = rng.random()
    if r < 0.1:
        return "-"
    if r < 0.2:
        return "+"
    return rng.choice("[(") + lexmember(rng)


def limit(rng):
    if rng.random() < 0.6:
        return []
    return ["LIMIT", str(rng.randint(-1, 6)), str(rng.randint(-1, 8))]


def gen(rng, steps):
    out = [
        "CONFIG SET zset-max-listpack-entries %d" % MAX_LP_ENTRIES,
        "CONFIG SET zset-max-listpack-value %d" % MAX_LP_VALUE,
        'SET str "a string"',
        "SADD plainset m1 m2 m3 m7",
    ]
    for _ in range(steps):
        k = rng.choice(ZKEYS)
        lk = rng.choice(LEXKEYS)
        r = rng.random()
        cmd = None
        if r < 0.22:
            flags = []
            for f, p in (("NX", 0.08), ("XX", 0.1), ("GT", 0.08), ("LT", 0.08), ("CH", 0.2)):
                if rng.random() < p:
                    flags.append(f)
            n = rng.randint(1, PAIRS)
            if rng.random() < 0.08:
                flags.append("INCR")
                n = 1
            pairs = []
            for _ in range(n):
                pairs += [score(rng), member(rng)]
            cmd = ["ZADD", k] + flags + pairs
        elif r < 0.28:
            cmd = ["ZINCRBY", k, score(rng), member(rng)]
        elif r < 0.34:
            cmd = ["ZREM", k] + [member(rng) for _ in range(rng.randint(1, 4))]
        elif r < 0.40:
            a, b = rng.randint(-8, 8), rng.randint(-8, 8)
            if MEMBERS > 100 and rng.random() < 0.5:
                a, b = rng.randint(-2000, 2000), rng.randint(-2000, 2000)
            cmd = ["ZRANGE", k, str(a), str(b)]
            if rng.random() < 0.3:
                cmd.append("REV")
            if rng.random() < 0.5:
                cmd.append("WITHSCORES")
        elif r < 0.46:
            lo, hi = bound(rng), bound(rng)
            if rng.random() < 0.5:
                cmd = ["ZRANGEBYSCORE", k, lo, hi]
            else:
                cmd = ["ZREVRANGEBYSCORE", k, hi, lo]
            if rng.random() < 0.5:
                cmd.append("WITHSCORES")
            cmd += limit(rng)
        elif r < 0.49:
            cmd = ["ZRANGE", k, bound(rng), bound(rng), "BYSCORE"]
            if rng.random() < 0.5:
                cmd.append("REV")
            cmd += limit(rng)
        elif r < 0.52:
            cmd = [rng.choice(["ZRANK", "ZREVRANK", "ZSCORE"]), k, member(rng)]
        elif r < 0.54:
            cmd = ["ZMSCORE", k] + [member(rng) for _ in range(3)]
        elif r < 0.57:
            cmd = ["ZCOUNT", k, bound(rng), bound(rng)]
        elif r < 0.59:
            cmd = [rng.choice(["ZCARD", "OBJECT ENCODING"]), k]
            cmd = cmd[0].split() + cmd[1:]
        elif r < 0.62:
            cmd = [rng.choice(["ZPOPMIN", "ZPOPMAX"]), k]
            if rng.random() < 0.6:
                cmd.append(str(rng.randint(0, 4)))
        elif r < 0.64:
            cmd = ["ZMPOP", "2", k, rng.choice(ZKEYS), rng.choice(["MIN", "MAX"])]
            if rng.random() < 0.5:
                cmd += ["COUNT", str(rng.randint(1, 4))]
        elif r < 0.66:
            cmd = ["ZREMRANGEBYRANK", k, str(rng.randint(-6, 6)), str(rng.randint(-6, 6))]
        elif r < 0.68:
            cmd = ["ZREMRANGEBYSCORE", k, bound(rng), bound(rng)]
        elif r < 0.74:
            op = rng.choice(["ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
            n = rng.randint(1, 3)
            srcs = [rng.choice(ZKEYS + ["plainset", "nokey"]) for _ in range(n)]
            cmd = [op]
            if op.endswith("STORE"):
                cmd.append(rng.choice(ZKEYS))
            cmd += [str(n)] + srcs
            if op not in ("ZDIFF", "ZDIFFSTORE"):
                if rng.random() < 0.4:
                    cmd += ["WEIGHTS"] + [rng.choice(["1", "2", "0.5", "-1", "0"]) for _ in srcs]
                if rng.random() < 0.4:
                    cmd += ["AGGREGATE", rng.choice(["SUM", "MIN", "MAX"])]
            if not op.endswith("STORE") and rng.random() < 0.6:
                cmd.append("WITHSCORES")
        elif r < 0.76:
            cmd = ["ZINTERCARD", "2", k, rng.choice(ZKEYS + ["plainset"])]
            if rng.random() < 0.5:
                cmd += ["LIMIT", str(rng.randint(0, 3))]
        elif r < 0.78:
            dst = rng.choice(ZKEYS)
            cmd = ["ZRANGESTORE", dst, k, bound(rng), bound(rng), "BYSCORE"] + limit(rng)
        elif r < 0.80:
            cmd = ["ZRANGESTORE", rng.choice(ZKEYS), k, str(rng.randint(-6, 6)), str(rng.randint(-6, 6))]
        elif r < 0.86:
            cmd = ["ZADD", lk] + sum([["0", lexmember(rng)] for _ in range(rng.randint(1, 5))], [])
        elif r < 0.92:
            a, b = lexbound(rng), lexbound(rng)
            which = rng.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZRANGE"])
            if which == "ZRANGE":
                cmd = ["ZRANGE", lk, a, b, "BYLEX"] + (["REV"] if rng.random() < 0.5 else [])
                cmd += limit(rng)
            elif which == "ZLEXCOUNT":
                cmd = [which, lk, a, b]
            else:
                cmd = [which, lk, a, b] + limit(rng)
        elif r < 0.94:
            cmd = ["ZREMRANGEBYLEX", lk, lexbound(rng), lexbound(rng)]
        elif r < 0.95:
            cmd = ["OBJECT", "ENCODING", lk]
        elif r < 0.96:
            out.append("!scan-set ZSCAN %s 0" % k)
            continue
        elif r < 0.97:
            cmd = ["DEL", k] if MEMBERS < 100 else ["ZCARD", k]
        elif r < 0.98:
            cmd = ["ZADD", "str", "1", "x"]
        else:
            cmd = ["ZRANGE", k, "0", "-1", "WITHSCORES"]
        out.append(" ".join(cmd))
    for k in ZKEYS + LEXKEYS:
        out.append("ZRANGE %s 0 -1 WITHSCORES" % k)
        out.append("OBJECT ENCODING %s" % k)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--big", action="store_true", help="thousands of members a key")
    ap.add_argument(
        "--out",
        default=os.path.join(
            os.path.dirname(__file__), "..", "differential", "cases", "random_zsets.txt"
        ),
    )
    args = ap.parse_args()
    global MEMBERS, PAIRS
    if args.big:
        MEMBERS, PAIRS = 3000, 120
    rng = random.Random(args.seed)
    lines = gen(rng, args.steps)
    with open(args.out, "w") as f:
        f.write(
            "# Generated by tests/tools/gen_random_zsets.py --seed %d --steps %d%s; do not edit.\n"
            % (args.seed, args.steps, " --big" if args.big else "")
        )
        f.write("# A seeded random mix of sorted set commands across both encodings.\n")
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
