#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/<target>/): RESP streams, config files,
and RDB files and DUMP payloads made by redis-server itself (every encoding Redis 7.0 writes for
strings, lists, sets and hashes), AOF files and manifests, FUNCTION DUMP payloads, cmsgpack
values and scripts. Run from anywhere; needs redis-server and redis-cli.
The files are committed; rerun this only to change the seeds:
  make_corpus.py [group ...]   (groups: resp config rdb aof functions scripts; default all)"""

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
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="fuzz-corpus-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, "--list-max-listpack-size", "4", "--set-max-intset-entries", "8",
             "--hash-max-listpack-entries", "4", *extra],
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


LIBRARY = ("#!lua name=mylib\n"
           "redis.register_function('f1', function(keys, args) return redis.call('GET', keys[1]) end)\n"
           "redis.register_function{function_name='f2', callback=function() return 1 end,\n"
           "  flags={'no-writes'}, description='two'}\n")


def aof_seeds():
    """AOF files as redis-server writes them: a base with and without the RDB preamble, an incr
    file with a MULTI ... EXEC and annotations, and manifests."""
    for preamble in ("yes", "no"):
        r = Redis("--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
                  "--aof-timestamp-enabled", "yes")
        try:
            time.sleep(0.5)
            fill(r, 1)
            r.call("FUNCTION", "LOAD", LIBRARY)
            r.call("BGREWRITEAOF")
            time.sleep(1.5)
            r.call("SET", "after", "rewrite")
            r.call("MULTI")
            r.call("INCR", "c")
            r.call("LPUSH", "l", "x")
            r.call("EXEC")
            r.call("EXPIRE", "after", "100")
            time.sleep(1.2)
            d = os.path.join(r.dir, "appendonlydir")
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
                if name.endswith(".manifest"):
                    write("aof_manifest", "redis_" + preamble, data)
                elif ".base." in name:
                    write("aof", "base_preamble_" + preamble, data)
                else:
                    write("aof", "incr_" + preamble, data)
        finally:
            r.stop()
    write("aof", "truncated", resp("SET", "a", "1") + resp("MULTI") + resp("SET", "b", "2"))
    write("aof", "annotations", b"#TS:1700000000\r\n" + resp("SELECT", "0") + resp("DEL", "a"))
    write("aof", "unknown", resp("UNKNOWN", "x") + b"\x03")
    write("aof_manifest", "quoted",
          b"# hand edited\n\nfile appendonly.aof.1.base.rdb seq 1 type h\n"
          b"type b seq 2 file \"a b\\x41.aof.2.base.rdb\"\n"
          b"file appendonly.aof.2.incr.aof seq 2 type i\nfile 'c d.aof' seq 3 type i\n")
    write("aof_manifest", "bad", b"file a seq 2 type i\nfile b seq 2 type i\n")


def function_seeds():
    """FUNCTION DUMP payloads (one library, two, compressed code) for function_restore, with the
    harness's control byte: 0 seals the body, 0xff passes the whole payload."""
    r = Redis()
    try:
        big = "#!lua name=big\n" + "-- padding padding padding padding\n" * 20 + \
              "redis.register_function('big', function() return 0 end)\n"
        for name, libs in (("one", [LIBRARY]), ("two", [LIBRARY, "#!lua name=other\n"
                           "redis.register_function('o', function() return 2 end)\n"]),
                           ("compressed", [big])):
            r.call("FUNCTION", "FLUSH")
            for lib in libs:
                r.call("FUNCTION", "LOAD", lib)
            dump = r.call("FUNCTION", "DUMP")
            write("function_restore", name, b"\x00" + dump[:-10])
            write("function_restore", name + "_raw", b"\xff" + dump)
        # cmsgpack values packed by Redis's own cmsgpack; the harness's first two bytes pick the
        # call (unpack, unpack_one, unpack_limit) and its offset or limit.
        values = {
            "scalars": "1, -1, 300, -70000, 2^40, 3.5, 'str', true, false",
            "nested": "{1, 2, {a = 'b', c = {3, 4}}, 'x'}",
            "strings": "string.rep('a', 40), string.rep('b', 300)",
            "map": "{x = 1, y = {1, 2, 3}, z = {k = 'v'}}",
            "big_array": "(function() local t = {} for i = 1, 40 do t[i] = i * 1000 end "
                         "return t end)()",
        }
        for i, (name, expr) in enumerate(sorted(values.items())):
            packed = r.call("EVAL", "return cmsgpack.pack(%s)" % expr, "0")
            write("cmsgpack", name, bytes([i % 3, 1]) + packed)
    finally:
        r.stop()
    write("cmsgpack", "bad_ext", b"\x00\x00\xc7\x01\x01a")
    write("cmsgpack", "deep", b"\x00\x00" + b"\x91" * 200 + b"\x01")
    write("cmsgpack", "str32_bin", b"\x00\x00\xdb\x00\x00\x00\x03abc\xc4\x01z\xc0\xc2\xc3")


def script_seeds():
    """Script bodies for fuzz_scripts: shebangs, library headers, and scripts the declared-keys
    proof accepts and refuses (strings, long brackets, comments, numbers)."""
    seeds = {
        "declared": "return redis.call('GET', KEYS[1])",
        "declared_local": "local k = KEYS[1]\nredis.call('SET', k, ARGV[1])\n"
                          "return redis.call(\"INCR\", KEYS[2])",
        "shebang": "#!lua flags=no-writes,allow-oom\nreturn redis.call('GET', KEYS[1])",
        "shebang_bad": "#!lua flags=no-writes,bogus\nreturn 1",
        "shebang_engine": "#!python\nreturn 1",
        "library": LIBRARY,
        "library_bad": "#!lua name=a-b extra=1\nredis.register_function('f', function() end)",
        "escapes": "local s = 'a\\'b' .. \"c\\\"d\" .. [==[long ]] ]==] -- c\n"
                   "--[[ block\ncomment ]] return redis.call('SET', KEYS[1], s)",
        "globals": "local g = _G\nreturn redis.call('GET', 'fixed')",
        "numbers": "local n = 0x1F + 1e3 + .5 + 3.\nfor i = 1, #KEYS do "
                   "redis.pcall('DEL', KEYS[i]) end return n",
        "keys_write": "KEYS[1] = 'x'\nreturn redis.call('GET', KEYS[1])",
        "dynamic": "local c = ARGV[1]\nreturn redis.call(c, KEYS[1])",
    }
    for name, body in seeds.items():
        write("scripts", name, body.encode())


GROUPS = {"resp": resp_seeds, "config": config_seeds, "rdb": rdb_and_restore_seeds,
          "aof": aof_seeds, "functions": function_seeds, "scripts": script_seeds}

if __name__ == "__main__":
    import sys
    for group in sys.argv[1:] or GROUPS:
        GROUPS[group]()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), "seeds")
