#!/usr/bin/env python3
"""Mutation testing for Keel: applies small, meaningful changes to a scratch copy of the source
one at a time, builds, runs the tests that should notice, and reports which mutations the suite
killed and which survived. See tests/mutation/README.md.

Usage: tests/mutation/run.py [--list FILE] [--only ID[,ID...]] [--category CAT[,CAT...]]
                             [--scratch DIR] [--jobs N] [--timeout SECONDS] [--report FILE]
                             [--full]

Each mutation in the list file (mutations.txt) is one line of six fields separated by " @@ ":
  id @@ category @@ ctest-regex @@ file @@ original text @@ replacement text
The original text must occur exactly once in the file (\\n and \\t escapes allowed in both
texts). ctest-regex picks the tests that run (ctest -R); --full runs every test instead.
A mutation is "killed" when a selected test fails or times out, "survived" when they all pass,
and "stillborn" when it does not compile (a list error: a mutation must be a valid program).
The scratch copy (default /tmp/keel-mutation) is made from the working tree (tracked and
untracked files, build directories left out) and reused: its build directory keeps
incremental builds cheap.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEP = " @@ "


class Mutation:
    def __init__(self, line_no, fields):
        self.line_no = line_no
        (self.id, self.category, self.tests, self.file, original, replacement) = fields
        self.original = unescape(original)
        self.replacement = unescape(replacement)
        self.result = None
        self.detail = ""
        self.seconds = 0.0


def unescape(text):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_list(path):
    mutations = []
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.split(SEP)]
            if len(fields) != 6:
                sys.exit("%s:%d: expected 6 fields separated by '%s', got %d" %
                         (path, no, SEP.strip(), len(fields)))
            mutations.append(Mutation(no, fields))
    ids = [m.id for m in mutations]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit("duplicate mutation ids: " + ", ".join(sorted(dup)))
    return mutations


def run(cmd, cwd, timeout=None, log=None):
    """Runs cmd; returns (exit code or None on timeout, combined output)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True, errors="replace")
        out = p.stdout
        code = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (
            e.stdout or "")
        code = None
    if log:
        with open(log, "a") as f:
            f.write("$ %s\n%s\n" % (" ".join(cmd), out))
    return code, out


def make_scratch(scratch):
    src = os.path.join(scratch, "src")
    os.makedirs(src, exist_ok=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    for rel in files:
        if not rel or rel.startswith("build"):
            continue
        a = os.path.join(ROOT, rel)
        b = os.path.join(src, rel)
        if not os.path.isfile(a):
            continue
        # Copy only what changed, so that the scratch build stays incremental.
        if os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read():
            continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.copy2(a, b)
    return src


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--list", default=os.path.join(here, "mutations.txt"))
    ap.add_argument("--only", default="")
    ap.add_argument("--category", default="")
    ap.add_argument("--scratch", default="/tmp/keel-mutation")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=900,
                    help="seconds for one mutation's tests (a hang counts as killed)")
    ap.add_argument("--report", default="")
    ap.add_argument("--full", action="store_true", help="run every test for each mutation")
    args = ap.parse_args()

    mutations = load_list(args.list)
    if args.only:
        wanted = set(args.only.split(","))
        mutations = [m for m in mutations if m.id in wanted]
    if args.category:
        cats = set(args.category.split(","))
        mutations = [m for m in mutations if m.category in cats]
    if not mutations:
        sys.exit("no mutation selected")

    src = make_scratch(args.scratch)
    build = os.path.join(args.scratch, "build")
    log = os.path.join(args.scratch, "mutation.log")
    open(log, "w").close()
    print("scratch copy %s, log %s" % (src, log), flush=True)
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        code, out = run(["cmake", "-S", src, "-B", build, "-G", "Ninja",
                         "-DCMAKE_BUILD_TYPE=Release"], src, log=log)
        if code != 0:
            sys.exit("configure failed:\n" + out[-3000:])
    # Check every mutation applies before spending time on builds.
    for m in mutations:
        path = os.path.join(src, m.file)
        text = open(path).read() if os.path.isfile(path) else ""
        n = text.count(m.original)
        if n != 1:
            sys.exit("%s (line %d): the original text occurs %d times in %s (must be once)" %
                     (m.id, m.line_no, n, m.file))
    code, out = run(["cmake", "--build", build, "-j", str(args.jobs)], src, log=log)
    if code != 0:
        sys.exit("the unmutated scratch copy does not build:\n" + out[-3000:])

    for i, m in enumerate(mutations, 1):
        path = os.path.join(src, m.file)
        original_text = open(path).read()
        start = time.time()
        try:
            with open(path, "w") as f:
                f.write(original_text.replace(m.original, m.replacement, 1))
            code, out = run(["cmake", "--build", build, "-j", str(args.jobs)], src, log=log)
            if code != 0:
                m.result = "stillborn"
                m.detail = "does not compile"
            else:
                regex = [] if args.full else ["-R", m.tests]
                code, out = run(["ctest", "--test-dir", build, "-j", str(args.jobs),
                                 "--stop-on-failure", "--timeout", "300"] + regex, src,
                                timeout=args.timeout, log=log)
                if code is None:
                    m.result, m.detail = "killed", "tests timed out"
                elif code != 0:
                    failed = [l.split(" - ", 1)[-1].split(" (")[0].strip()
                              for l in out.splitlines() if " - " in l and "(" in l and
                              ("Failed" in l or "Timeout" in l or "SEGFAULT" in l or
                               "Exception" in l)]
                    m.result = "killed"
                    m.detail = "by " + ", ".join(failed[:3]) if failed else "tests failed"
                elif "No tests were found" in out:
                    m.result, m.detail = "error", "the ctest regex selects no test"
                else:
                    m.result = "survived"
        finally:
            with open(path, "w") as f:
                f.write(original_text)
        m.seconds = time.time() - start
        print("[%d/%d] %-28s %-10s %-9s %5.0fs %s" % (i, len(mutations), m.id, m.category,
                                                      m.result, m.seconds, m.detail), flush=True)

    # Rebuild unmutated, so the scratch build is left as the source is.
    run(["cmake", "--build", build, "-j", str(args.jobs)], src, log=log)
    counts = {}
    for m in mutations:
        counts[m.result] = counts.get(m.result, 0) + 1
    summary = "tried %d, killed %d, survived %d, stillborn %d, errors %d" % (
        len(mutations), counts.get("killed", 0), counts.get("survived", 0),
        counts.get("stillborn", 0), counts.get("error", 0))
    print(summary)
    if args.report:
        with open(args.report, "w") as f:
            f.write("# Mutation report\n\nProduced by `%s` on %s.\n\n%s.\n\n" % (
                " ".join(["tests/mutation/run.py"] + sys.argv[1:]),
                time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), summary.capitalize()))
            f.write("| Mutation | Category | File | Result | Detail | Seconds |\n")
            f.write("|---|---|---|---|---|---|\n")
            for m in mutations:
                f.write("| %s | %s | %s | %s | %s | %.0f |\n" % (
                    m.id, m.category, m.file, m.result, m.detail.replace("|", "\\|"), m.seconds))
    return 0 if counts.get("survived", 0) == 0 and counts.get("error", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
