"""Helpers shared by the benchmark scripts: servers on free loopback ports, RESP encoding,
process accounting. Both servers run with no persistence, from the same build of this tree."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEEL = os.environ.get("KEEL_SERVER_BIN", os.path.join(ROOT, "build", "bin", "keel-server"))
REDIS = os.environ.get("REDIS_SERVER_BIN", "/usr/bin/redis-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A keel-server or redis-server child on a free port, stopped by stop() or on exit."""

    def __init__(self, kind, extra=(), binary=None, start_timeout=10):
        self.kind = kind
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        binary = binary or (KEEL if kind.startswith("keel") else REDIS)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", *extra]
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(args, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + start_timeout  # until PONG: a loading server answers -LOADING
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{kind} did not start; see {self.dir}/server.log")

    def cpu_seconds(self):
        """utime + stime of the server process so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def db0_keys(self):
        """The number of keys in database 0, from INFO keyspace."""
        return int(self.info("keyspace")["db0"].split(",")[0].split("=")[1])

    def info(self, section):
        """INFO `section` as a dict of field -> value (strings)."""
        return dict(line.split(":", 1) for line in self.cli("INFO", section).splitlines()
                    if ":" in line)

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def dataset_payload(keys, collections=0):
    """A temporary file of RESP commands (the caller removes it): `keys` small strings
    (SET key:<i> <16-byte value>), then `collections` each of lists, sets and hashes of 10
    elements. Returns (path, the number of keys it makes)."""
    with tempfile.NamedTemporaryFile(suffix=".resp", delete=False) as f:
        for i in range(keys):
            f.write(resp("SET", f"key:{i:012d}", f"v{i:015d}"))
        for i in range(collections):
            f.write(resp("RPUSH", f"list:{i}", *[f"item-{j}" for j in range(10)]))
            f.write(resp("SADD", f"set:{i}", *[f"member-{j}" for j in range(10)]))
            f.write(resp("HSET", f"hash:{i}", *[x for j in range(10) for x in (f"f{j}", j)]))
        return f.name, keys + 3 * collections


def pipe(server, payload_path):
    """Loads a file of RESP commands with redis-cli --pipe; raises if any command failed."""
    with open(payload_path, "rb") as f:
        out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                             capture_output=True, text=True)
    if out.returncode != 0 or "errors: 0" not in out.stdout:
        raise RuntimeError(f"--pipe into {server.kind} failed: {out.stdout} {out.stderr}")


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"
