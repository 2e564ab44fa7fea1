#!/usr/bin/env python3
"""Fails when RESP bytes are written by hand outside src/protocol.

Every reply, push and message goes through ReplyBuilder (include/keel/protocol/reply.h), which
knows the receiving client's protocol version. This check looks at the C++ sources under the
given directory (default: src/) except src/protocol and reports:
  - a string literal holding CR LF ("\\r\\n"), unless the literal is only a set of whitespace
    characters (" \\t\\r\\n", for trimming) or the line says "not RESP" (text that merely
    uses CR LF, such as INFO's lines);
  - a RESP type byte pushed by hand (push_back('+'), '-', '*', '$', ':', '_', '%', '~', '>', '#').
Exit status 1 with the offending lines, 0 when clean.
"""
import pathlib
import re
import sys

LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
WHITESPACE_SET = re.compile(r'^(?:\\[trnvf]| )+$')
TYPE_BYTE = re.compile(r"push_back\('[-+*$:_%~>#]'\)")


def offending(line):
    if "not RESP" in line:
        return False
    if TYPE_BYTE.search(line):
        return True
    for m in LITERAL.finditer(line):
        body = m.group(1)
        if "\\r\\n" in body and not (WHITESPACE_SET.match(body) and body != "\\r\\n"):
            return True
    return False


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    bad = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cc", ".h") or "protocol" in path.relative_to(root).parts[:1]:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if offending(line):
                bad.append(f"{path}:{n}: {line.strip()}")
    if bad:
        print("RESP written outside src/protocol (use ReplyBuilder or errors.h):")
        print("\n".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
