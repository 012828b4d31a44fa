"""Shared pieces of `make bench` (bench/run.py) and `make bench-check` (bench/check.py).

Standard library only. Every server started here listens on 127.0.0.1 on a port picked by the
kernel, so a benchmark never collides with a developer's `make run` or a test suite.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# SWITCHYARD_RELEASE_DIR: benchmark binaries built elsewhere (e.g. another scratch path or flags).
RELEASE = Path(os.environ.get("SWITCHYARD_RELEASE_DIR", ROOT / ".build" / "release"))
WORK = ROOT / ".build-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
HOST = "127.0.0.1"

# The public model id clients ask for; the gateway sends `mock-gpt-1` upstream and rewrites it back.
MODEL = "mock-gpt"
UPSTREAM_MODEL = "mock-gpt-1"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Request and response bodies

# What the fast upstream (nginx `return 200`) answers to every chat completion: a realistic
# OpenAI chat.completion object, ~600 bytes. No `$` (nginx variables) and no single quotes.
FIXED_RESPONSE = json.dumps({
    "id": "chatcmpl-bench0000000000000000000001",
    "object": "chat.completion",
    "created": 1735689600,
    "model": UPSTREAM_MODEL,
    "system_fingerprint": "fp_bench",
    "service_tier": "default",
    "choices": [{
        "index": 0,
        "message": {
            "role": "assistant",
            "content": "The function returns early when the cache is warm, so the second call never "
                       "reaches the network. Move the check above the lock to avoid the contention "
                       "you are seeing under load.",
            "refusal": None,
            "annotations": [],
        },
        "logprobs": None,
        "finish_reason": "stop",
    }],
    "usage": {"prompt_tokens": 212, "completion_tokens": 38, "total_tokens": 250,
              "prompt_tokens_details": {"cached_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0}},
}, separators=(",", ":"))


def _dump(obj) -> bytes:
    # The OpenAI Python SDK sends `messages` before `model`; keep that order (the gateway's
    # scanner has to walk the whole conversation to find `model` and `stream`).
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def small_body() -> bytes:
    """~1 KB: a system prompt, one user turn, a few sampling parameters."""
    system = ("You are a careful senior engineer. Answer briefly, cite the file and line you rely on, "
              "and say so when you are unsure. Prefer small, reviewable changes. ")
    user = ("Here is the failing test output: `expected 200, got 429 after 20 requests`. The plan allows "
            "20 requests per minute and the test sends 21. Is the limiter wrong or the test? Explain "
            "which one to change and why, and show the one-line fix. Keep the answer under 120 words. ")
    body = {
        "messages": [{"role": "system", "content": system * 2},
                     {"role": "user", "content": user * 2}],
        "model": MODEL,
        "max_tokens": 256,
        "temperature": 0.2,
        "user": "bench-user-0001",
    }
    return _dump(body)


def large_body(target: int = 100 * 1024) -> bytes:
    """~100 KB: a coding agent's turn — tool definitions and a long history of tool calls and
    results (source files), with escapes and non-ASCII text as real transcripts have."""
    rng = random.Random(42)
    words = ("cache request handler buffer parse token stream limit plan usage model route upstream "
             "latency retry budget socket channel event loop future promise header body chunk").split()

    def code_file(n_lines: int) -> str:
        out = []
        for i in range(n_lines):
            a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
            kind = i % 5
            if kind == 0:
                out.append(f"func {a}{b.capitalize()}(_ {c}: inout [UInt8], at index: Int) -> Bool {{")
            elif kind == 1:
                out.append(f"    guard index < {c}.count else {{ return false }} // \"{a}\" → {b}")
            elif kind == 2:
                out.append(f"    let {a} = {c}[index] &+ {rng.randint(0, 255)}\t// é ü ß ✓")
            elif kind == 3:
                out.append(f"    return {a} != 0 && \\\\{b}.isEmpty == false")
            else:
                out.append("}")
        return "\n".join(out)

    tools = []
    for name in ["read_file", "write_file", "edit_file", "list_dir", "grep", "run_command",
                 "run_tests", "git_diff", "git_log", "web_fetch", "ask_user", "todo_write"]:
        tools.append({"type": "function", "function": {
            "name": name,
            "description": f"{name.replace('_', ' ').capitalize()} in the workspace. " + " ".join(rng.choice(words) for _ in range(40)),
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string", "description": "Path relative to the repository root."},
                "pattern": {"type": "string", "description": "A regular expression, e.g. `^func \\w+`."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 2000},
                "flags": {"type": "array", "items": {"type": "string", "enum": ["i", "m", "s"]}},
            }, "required": ["path"], "additionalProperties": False}}})

    messages = [{"role": "system", "content": "You are a coding agent working in a Swift repository. "
                 + " ".join(rng.choice(words) for _ in range(600))},
                {"role": "user", "content": "The gateway drops the last SSE event when the provider closes early. Find and fix it."}]
    turn = 0
    while len(_dump({"messages": messages, "tools": tools})) < target - 3000:
        turn += 1
        call_id = f"call_{turn:04d}_{rng.randrange(16**8):08x}"
        messages.append({"role": "assistant", "content": None, "tool_calls": [{
            "id": call_id, "type": "function",
            "function": {"name": "read_file", "arguments": json.dumps({"path": f"Sources/Gateway/File{turn}.swift", "limit": 200})}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": code_file(60)})
        messages.append({"role": "assistant", "content": "Looking further: " + " ".join(rng.choice(words) for _ in range(30))})
    messages.append({"role": "user", "content": "Go on, and run the tests when you are done."})
    body = {"messages": messages, "model": MODEL, "tools": tools, "tool_choice": "auto",
            "parallel_tool_calls": False, "temperature": 0, "max_tokens": 4096, "stream": False}
    data = _dump(body)
    return data


def stream_body(words: int = 100, chunk_delay_ms: int = 10) -> bytes:
    body = {"messages": [{"role": "user", "content": "Stream a short answer."}],
            "model": MODEL, "stream": True,
            "mock": {"words": words, "chunk_delay_ms": chunk_delay_ms}}
    return _dump(body)


def write_bodies(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in [("small", small_body()), ("large", large_body()), ("stream", stream_body())]:
        p = directory / f"{name}.json"
        p.write_bytes(data)
        paths[name] = p
    return paths


# ---------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 client (keep-alive, Content-Length and chunked bodies)

class HTTPConnection:
    def __init__(self, port: int, host: str = HOST, timeout: float = 30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.host = host
        self.port = port

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def _read_until(self, marker: bytes) -> bytes:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(marker):]
                return out
            self._fill()

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        hdrs = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304):
            return status, hdrs, b""
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                parts.append(self._read_exact(size))
                self._read_exact(2)
            return status, hdrs, b"".join(parts)
        if "content-length" in hdrs:
            return status, hdrs, self._read_exact(int(hdrs["content-length"]))
        # Read to close.
        while True:
            try:
                self._fill()
            except ConnectionError:
                break
        out, self.buf = self.buf, b""
        return status, hdrs, out


def http_get_status(port: int, path: str = "/healthz", timeout: float = 1.0) -> int | None:
    try:
        c = HTTPConnection(port, timeout=timeout)
    except OSError:
        return None
    try:
        return c.request("GET", path)[0]
    except (OSError, ValueError, IndexError):
        return None
    finally:
        c.close()


def wait_http(port: int, path: str, timeout: float, proc: subprocess.Popen | None = None,
              what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} before it was ready")
        if http_get_status(port, path) == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer GET {path} on port {port} within {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------
# Processes

class Services:
    """Processes started by a benchmark; stopped (by pid, TERM then KILL) on exit."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, args: list[str], env: dict | None = None, stdout=None) -> subprocess.Popen:
        logf = open(self.logdir / f"{name}.log", "ab")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        p = subprocess.Popen(args, stdout=stdout if stdout is not None else logf, stderr=logf,
                             stdin=subprocess.DEVNULL, env=full_env, cwd=ROOT, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self, p: subprocess.Popen, grace: float = 5.0) -> None:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                # Only the process group this benchmark created for it.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def stop_all(self) -> None:
        for _, p in reversed(list(self.procs)):
            self.stop(p)


def children(pid: int) -> list[int]:
    out = []
    try:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except OSError:
                continue
    except OSError:
        pass
    return out


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children(p))
    return pids


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime (clock ticks) of these processes, all their threads included."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
        except OSError:
            pass
    return total


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KB
        except OSError:
            pass
    return total


def rss_split_kb(pids: list[int]) -> dict[str, int]:
    """RSS of these processes split as /proc/PID/status does: anonymous (heap, stacks), file-backed
    (binaries, libraries, mapped files such as LMDB environments) and shared memory."""
    out = {"total": 0, "anon": 0, "file": 0, "shmem": 0}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    for key, name in (("RssAnon:", "anon"), ("RssFile:", "file"), ("RssShmem:", "shmem")):
                        if line.startswith(key):
                            out[name] += int(line.split()[1])
        except OSError:
            pass
    out["total"] = out["anon"] + out["file"] + out["shmem"]
    return out


def rss_by_mapping_kb(pid: int, top: int = 6) -> list[tuple[str, int]]:
    """The largest resident mappings of a process by path (from /proc/PID/smaps), to tell the
    binary and libraries from mapped data files."""
    sizes: dict[str, int] = {}
    current = "[anonymous]"
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split(None, 1)[0]
                if not head.endswith(":"):
                    parts = line.split()
                    current = parts[5] if len(parts) > 5 else "[anonymous]"
                elif head == "Rss:":
                    sizes[current] = sizes.get(current, 0) + int(line.split()[1])
    except OSError:
        return []
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:top]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return percentile(values, 50)


BIN = RELEASE
# switchyard-unmetered: the same gateway without its limit and accounting stages, run beside the
# real one to measure what those two stages cost (never deployed).
BINARIES = ["switchyard", "switchyard-unmetered", "switchyard-relay-floor", "switchyard-nio-upstream", "switchyard-mock"]


def stage_binaries(run: Path, strip_debug: bool = False) -> None:
    """Copy the release binaries into the run folder and use the copies: a build started by
    someone else during a run must not swap the binary under the benchmark. `strip_debug` drops
    the DWARF (valgrind 3.19 cannot read Swift 6's DWARF 5); the symbol table stays, so
    profiles still name every function."""
    global BIN
    for name in BINARIES:
        if not (RELEASE / name).exists():
            sys.exit(f"missing {RELEASE / name}: run `make bench` (it builds the release binaries first)")
    dest = run / "bin"
    dest.mkdir(parents=True, exist_ok=True)
    for name in BINARIES:
        shutil.copy2(RELEASE / name, dest / name)
        if strip_debug:
            subprocess.run(["objcopy", "--strip-debug", str(dest / name)], check=True)
    BIN = dest


def create_key(data_dir: Path, name: str = "bench") -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([str(BIN / "switchyard"), "keys", "create", "--plan", "test", "--name", name,
                          "--data", str(data_dir)], capture_output=True, text=True, check=True)
    key = out.stdout.strip().splitlines()[-1].strip()
    return key


def start_mock(services: Services, name: str = "mock") -> tuple[subprocess.Popen, int]:
    p = services.spawn(name, [str(BIN / "switchyard-mock"), "--listen", f"{HOST}:0"], stdout=subprocess.PIPE)
    line = p.stdout.readline().decode()
    if "listening on" not in line:
        raise RuntimeError(f"switchyard-mock did not start: {line!r}")
    port = int(line.strip().rsplit(":", 1)[1])
    return p, port


def nginx_upstream_conf(run: Path, port: int, workers: int = 1) -> Path:
    """The fast upstream: a fixed chat.completion for every POST /v1/chat/completions."""
    tmpl = (BENCH / "nginx" / "upstream.conf.in").read_text()
    conf = (tmpl.replace("@RUN@", str(run)).replace("@PORT@", str(port))
            .replace("@WORKERS@", str(workers)).replace("@BODY@", FIXED_RESPONSE))
    path = run / "nginx-upstream.conf"
    path.write_text(conf)
    return path


def start_nginx(services: Services, name: str, conf: Path, run: Path, port: int) -> subprocess.Popen:
    for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]:
        d = run / "tmp" / name / sub
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o777)
        os.chmod(d.parent, 0o777)
    os.chmod(run / "tmp", 0o777)
    p = services.spawn(name, ["nginx", "-p", str(run), "-c", str(conf), "-e", str(run / f"{name}.error.log"),
                              "-g", "daemon off;"])
    wait_http(port, "/healthz", 10, p, name)
    return p
