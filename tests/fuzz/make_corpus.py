#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/<target>/): RESP streams, config files,
and RDB files and DUMP payloads made by redis-server itself (every encoding Redis 7.0 writes for
strings, lists, sets and hashes). Run from anywhere; needs redis-server and redis-cli.
The files are committed; rerun this only to change the seeds."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def resp_seeds():
    # The first byte is the harness's mode byte: 0 = authenticated, default limits.
    seeds = {
        "ping": resp("PING"),
        "set_get": resp("SET", "k", "v") + resp("GET", "k"),
        "pipeline": b"".join(resp("INCR", "c") for _ in range(20)),
        "inline": b"PING\r\nSET a \"b c\" 'd e'\r\nECHO \"\\x41\\n\"\n",
        "mixed": resp("MSET", "a", "1", "b", "2") + b"GET a\r\n" + resp("DEL", "a", "b"),
        "empty": b"*0\r\n*-1\r\n\r\n\n" + resp("PING"),
        "binary": resp("SET", b"k\x00\r\n", b"\x00\xff\r\n\x01"),
        "bad_count": b"*abc\r\n",
        "bad_dollar": b"*1\r\n:5\r\n",
        "bad_bulk": b"*1\r\n$-5\r\n",
        "unbalanced": b"ECHO \"abc\r\n",
        "nul_header": b"*1\r\n\x00ab\r\n",
        "big_bulk": resp("SET", "k", "x" * 5000),
    }
    for name, data in seeds.items():
        write("resp_parser", name, b"\x00" + data)
    write("resp_parser", "unauth", b"\x01" + resp(*["a"] * 12))


def config_seeds():
    with open(os.path.join(ROOT, "conf", "keel.conf"), "rb") as f:
        write("config", "keel_conf", f.read())
    write("config", "small", b"port 7000\ntimeout 10\nsave 900 1 300 10\nloglevel warning\n"
          b"client-output-buffer-limit normal 0 0 0 pubsub 32mb 8mb 60\n"
          b"notify-keyspace-events KEA\nmaxmemory 100mb\nmaxmemory-policy allkeys-lru\n")
    write("config", "quoted", b"requirepass \"a b\\x41\"\nsyslog-ident 'keel x'\n"
          b"bind 127.0.0.1 -::1\nlist-max-ziplist-size -2\nhash-max-listpack-value 64\n")
    write("config", "bad", b"port abc\n")


class Redis:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fuzz-corpus-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, "--list-max-listpack-size", "4", "--set-max-intset-entries", "8",
             "--hash-max-listpack-entries", "4"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
                break
            except OSError:
                time.sleep(0.05)
        self.sock = socket.create_connection(("127.0.0.1", self.port))

    def call(self, *args):
        self.sock.sendall(resp(*args))
        return self.read()

    def read(self):
        f = self.sock.makefile("rb")
        line = f.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data
        return line

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def fill(r, variant):
    """One key of each kind and encoding (small thresholds, so both forms appear)."""
    r.call("SET", "str", "hello world " * 4)
    r.call("SET", "int", "12345")
    r.call("SET", "bigint", "-9223372036854775808")
    r.call("SET", "compressible", "a" * 200)
    r.call("RPUSH", "smalllist", "a", "1", "bb")
    r.call("RPUSH", "biglist", *[str(i) * (i % 5 + 1) for i in range(40)])
    r.call("SADD", "intset", "1", "2", "300", "-70000")
    r.call("SADD", "bigintset", *[str(i * 100000) for i in range(20)])
    r.call("SADD", "strset", "a", "b", "c")
    r.call("HSET", "smallhash", "f", "v", "g", "1")
    r.call("HSET", "bighash", *[x for i in range(10) for x in ("field%d" % i, "v" * i)])
    if variant:
        r.call("PEXPIRE", "str", "100000000")
        r.call("SELECT", "3")
        r.call("SET", "other", "db3")
        r.call("SELECT", "0")


def rdb_and_restore_seeds():
    r = Redis()
    try:
        for variant in (0, 1):
            r.call("FLUSHALL")
            fill(r, variant)
            for key in (b"str", b"int", b"bigint", b"compressible", b"smalllist", b"biglist",
                        b"intset", b"bigintset", b"strset", b"smallhash", b"bighash"):
                if variant:
                    continue
                dump = r.call("DUMP", key)
                # The harness seals the body itself: control byte 0, then the body without the
                # version and checksum; the whole payload as it is after a 0xff byte.
                write("restore", key.decode(), b"\x00" + dump[:-10])
                write("restore", key.decode() + "_raw", b"\xff" + dump)
            r.call("SAVE")
            with open(os.path.join(r.dir, "dump.rdb"), "rb") as f:
                write("rdb_loader", "all_types_%d" % variant, f.read())
        r.call("FLUSHALL")
        r.call("SAVE")
        with open(os.path.join(r.dir, "dump.rdb"), "rb") as f:
            write("rdb_loader", "empty", f.read())
    finally:
        r.stop()


if __name__ == "__main__":
    resp_seeds()
    config_seeds()
    rdb_and_restore_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), "seeds")
