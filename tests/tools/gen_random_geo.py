#!/usr/bin/env python3
"""Generates tests/differential/cases/random_geo.txt: a deterministic (seeded) sequence of geo
commands for the differential test: hundreds of random points (clustered and world-wide, near
the poles and the antimeridian included) and random GEOSEARCH/GEORADIUS queries by radius and
by box, with random options, so that Keel's cell search must find exactly the members Redis
finds, in the same order, at every step and edge of the geohash grid.

Coordinates have 6 random decimals, so in g0-g2 no two points share a position; g3 has
hundreds of members at a dozen positions, so its COUNT queries sort many equal distances (Redis
sorts only the part COUNT keeps, with its own quicksort, and Keel must order ties the same way).

Usage: gen_random_geo.py [--seed N] [--steps N] [--out PATH]
"""

import argparse
import os
import random

KEYS = ["g0", "g1", "g2"]  # clustered, world-wide, small (stays packed)
TIES = [(2.35 + 0.01 * i, 48.85 + 0.007 * (i % 4)) for i in range(12)]  # g3's positions
UNITS = ["m", "km", "ft", "mi"]
TO_METERS = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "mi": 1609.34}
LAT_MAX = 85.05112878
CLUSTERS = [(2.35, 48.85), (13.4, 52.5), (-0.12, 51.5), (179.8, -16.5), (-179.7, 65.0),
            (10.0, 80.5), (0.0, 0.0), (-74.0, 40.7)]


def rnd(rng, lo, hi):
    return round(rng.uniform(lo, hi), 6)


def point(rng, key):
    if key == "g0" or (key == "g2" and rng.random() < 0.5):
        lon, lat = rng.choice(CLUSTERS)
        spread = rng.choice([0.01, 0.2, 2.0])
        lon = max(-180.0, min(180.0, lon + rng.gauss(0, spread)))
        lat = max(-LAT_MAX, min(LAT_MAX, lat + rng.gauss(0, spread)))
        return round(lon, 6), round(lat, 6)
    r = rng.random()
    if r < 0.1:
        return rnd(rng, 170, 180), rnd(rng, -60, 60)
    if r < 0.2:
        return rnd(rng, -180, -170), rnd(rng, -60, 60)
    if r < 0.3:
        return rnd(rng, -180, 180), rnd(rng, 75, LAT_MAX)
    if r < 0.35:
        return rnd(rng, -180, 180), rnd(rng, -LAT_MAX, -75)
    return rnd(rng, -180, 180), rnd(rng, -LAT_MAX, LAT_MAX)


def distance(rng):
    unit = rng.choice(UNITS)
    meters = 10 ** rng.uniform(0, 6.9)  # 1 m to about 8000 km
    if rng.random() < 0.03:
        meters = 0
    return "%g" % (meters / TO_METERS[unit]), unit


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.members = {k: [] for k in KEYS}
        self.next = 0
        self.used = set()

    def new_member(self, key):
        self.next += 1
        m = "p%d" % self.next
        self.members[key].append(m)
        return m

    def some_member(self, key):
        if self.members[key] and self.rng.random() < 0.9:
            return self.rng.choice(self.members[key])
        return "nosuch"

    def unique_point(self, key):
        while True:
            p = point(self.rng, key)
            if p not in self.used:
                self.used.add(p)
                return p

    def geoadd(self, key, n):
        args = ["GEOADD", key]
        r = self.rng.random()
        if r < 0.1:
            args.append("CH")
        for _ in range(n):
            lon, lat = self.unique_point(key)
            if self.members[key] and self.rng.random() < 0.15:
                m = self.rng.choice(self.members[key])  # moves an existing member
            else:
                m = self.new_member(key)
            args += ["%.6f" % lon, "%.6f" % lat, m]
        return " ".join(args)

    def center(self, key):
        rng = self.rng
        if rng.random() < 0.3 and self.members[key]:
            return ["FROMMEMBER", self.some_member(key)]
        lon, lat = point(rng, key)
        return ["FROMLONLAT", "%.6f" % lon, "%.6f" % lat]

    def options(self, store):
        rng = self.rng
        groups = []
        if not store:
            for w in ("WITHDIST", "WITHCOORD", "WITHHASH"):
                if rng.random() < 0.4:
                    groups.append([w])
        r = rng.random()
        if r < 0.35:
            groups.append(["ASC"])
        elif r < 0.6:
            groups.append(["DESC"])
        if rng.random() < 0.35:
            groups.append(["COUNT", str(rng.randint(1, 12))])
            if rng.random() < 0.3:
                groups.append(["ANY"])
        rng.shuffle(groups)
        return [t for g in groups for t in g]

    def geosearch(self, key):
        rng = self.rng
        store = rng.random() < 0.15
        if rng.random() < 0.5:
            d, u = distance(rng)
            shape = ["BYRADIUS", d, u]
        else:
            u = rng.choice(UNITS)
            w, _ = distance(rng)
            h = "%g" % (float(w) * rng.uniform(0.2, 5))
            shape = ["BYBOX", w, h, u]
        parts = self.center(key) + shape + self.options(store)
        if store:
            dst = rng.choice(["s0", "s1"])
            if rng.random() < 0.5:
                parts.append("STOREDIST")
            return ["GEOSEARCHSTORE %s %s %s" % (dst, key, " ".join(parts)),
                    "ZRANGE %s 0 -1 WITHSCORES" % dst]
        return ["GEOSEARCH %s %s" % (key, " ".join(parts))]

    def georadius(self, key):
        rng = self.rng
        d, u = distance(rng)
        store = rng.random() < 0.15
        opts = self.options(store)
        if rng.random() < 0.5:
            lon, lat = point(rng, key)
            head = "GEORADIUS %s %.6f %.6f %s %s" % (key, lon, lat, d, u)
        else:
            head = "GEORADIUSBYMEMBER %s %s %s %s" % (key, self.some_member(key), d, u)
        if store:
            dst = rng.choice(["s0", "s1"])
            opts += [rng.choice(["STORE", "STOREDIST"]), dst]
            return ["%s %s" % (head, " ".join(opts)), "ZRANGE %s 0 -1 WITHSCORES" % dst]
        return [("%s %s" % (head, " ".join(opts))).rstrip()]

    def ties(self):
        rng = self.rng
        lon, lat = rng.choice(TIES)
        d, u = distance(rng)
        if rng.random() < 0.7:
            d, u = "%g" % rng.uniform(0.3, 3), "km"
        order = rng.choice(["ASC", "DESC", ""])
        opts = ["COUNT", str(rng.randint(1, 150))]
        if rng.random() < 0.3:
            opts.append("WITHDIST")
        return [("GEOSEARCH g3 FROMLONLAT %.6f %.6f BYRADIUS %s %s %s %s"
                 % (lon, lat, d, u, " ".join(opts), order)).rstrip()]

    def step(self):
        rng = self.rng
        if rng.random() < 0.15:
            return self.ties()
        key = rng.choice(KEYS)
        r = rng.random()
        if r < 0.15:
            return [self.geoadd(key, rng.randint(1, 8))]
        if r < 0.55:
            return self.geosearch(key)
        if r < 0.75:
            return self.georadius(key)
        if r < 0.83:
            a, b = self.some_member(key), self.some_member(key)
            unit = rng.choice(UNITS + [""])
            return [("GEODIST %s %s %s %s" % (key, a, b, unit)).rstrip()]
        if r < 0.9:
            ms = " ".join(self.some_member(key) for _ in range(rng.randint(1, 4)))
            return ["GEOPOS %s %s" % (key, ms), "GEOHASH %s %s" % (key, ms)]
        if r < 0.95 and self.members[key]:
            m = rng.choice(self.members[key])
            self.members[key].remove(m)
            return ["ZREM %s %s" % (key, m)]
        return ["ZCARD %s" % key]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument(
        "--out",
        default=os.path.join(
            os.path.dirname(__file__), "..", "differential", "cases", "random_geo.txt"
        ),
    )
    opts = ap.parse_args()
    rng = random.Random(opts.seed)
    g = Gen(rng)
    lines = [
        "# Generated by tests/tools/gen_random_geo.py --seed %d --steps %d; do not edit."
        % (opts.seed, opts.steps),
        "# Random points and random GEOSEARCH/GEORADIUS queries by radius and box.",
        "CONFIG SET zset-max-listpack-entries 64",
    ]
    # Hundreds of points first, so that every query has something to find.
    for key, n in (("g0", 300), ("g1", 300), ("g2", 40)):
        for _ in range(n // 10):
            lines.append(g.geoadd(key, 10))
    for i in range(0, 240, 12):
        lines.append("GEOADD g3 " + " ".join(
            "%.6f %.6f t%d" % (TIES[rng.randrange(len(TIES))] + (i + j,)) for j in range(12)))
    lines.append("OBJECT ENCODING g0")
    lines.append("OBJECT ENCODING g2")
    for _ in range(opts.steps):
        lines += g.step()
    lines.append("CONFIG SET zset-max-listpack-entries 128")
    with open(opts.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
