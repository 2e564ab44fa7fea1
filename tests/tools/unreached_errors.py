#!/usr/bin/env python3
"""Lists the error replies written in src/ that no differential script reaches.

Runs the differential tests with KEEL_DIFF_REPLY_LOG set (every reply Keel gives to a script
step is logged), collects the error strings of the source (string literals that begin with an
error code such as ERR, WRONGTYPE, NOAUTH, EXECABORT...), and prints those whose fixed text never
appears in a logged reply. The fixed text of a formatted error is its longest literal piece
(around {} / %s / concatenations). Exit status 0 always: the list is a to-do, not a gate.

Usage: tests/tools/unreached_errors.py [--build DIR] [--log FILE]
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CODES = ("ERR", "WRONGTYPE", "NOAUTH", "WRONGPASS", "EXECABORT", "NOPROTO", "UNBLOCKED",
         "BUSYKEY", "NOPERM", "OOM", "LOADING", "READONLY", "NOSCRIPT", "BUSY", "NOREPLICAS",
         "MISCONF", "MASTERDOWN")
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def error_strings():
    found = {}
    for base in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            for name in files:
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                for no, line in enumerate(open(path, errors="replace"), 1):
                    for m in LITERAL.finditer(line):
                        text = m.group(1)
                        if text.startswith("-"):
                            text = text[1:]
                        if not text.split(" ", 1)[0] in CODES or " " not in text:
                            continue
                        text = text.replace("\\r\\n", "").replace('\\"', '"').replace("\\\\", "\\")
                        # The longest fixed piece of a formatted message.
                        pieces = re.split(r"\{\}|%[-0-9.]*[a-z]+", text)
                        key = max(pieces, key=len).strip()
                        if len(key) >= 8:
                            found.setdefault(key, "%s:%d" % (os.path.relpath(path, ROOT), no))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--log", default="/tmp/keel-diff-replies.log")
    args = ap.parse_args()
    if os.path.exists(args.log):
        os.remove(args.log)
    env = dict(os.environ, KEEL_DIFF_REPLY_LOG=args.log,
               KEEL_SERVER_BIN=os.path.join(args.build, "bin", "keel-server"),
               REDIS_SERVER_BIN=os.environ.get("REDIS_SERVER_BIN", "/usr/bin/redis-server"))
    binary = os.path.join(args.build, "tests", "differential", "differential_tests")
    subprocess.run([binary, "--gtest_brief=1"], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    replies = open(args.log, errors="replace").read() if os.path.exists(args.log) else ""
    if not replies:
        sys.exit("no replies were logged (is %s built?)" % binary)
    errors = error_strings()
    missing = sorted((where, text) for text, where in errors.items() if text not in replies)
    for where, text in missing:
        print("%-45s %s" % (where, text))
    print("%d of %d error strings are not reached by any differential step" %
          (len(missing), len(errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
