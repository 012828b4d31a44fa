"""Fixtures that start the real switchyard-mock and the real gateway on loopback.

Binaries come from the debug build (`swift build`), or SWITCHYARD_BIN_DIR. Each test session
gets its own data folder (real LMDB files) and free ports; the mock provider's base URL is
pointed at the mock through SWITCHYARD_MOCK_BASE_URL.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import http.client

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SWITCHYARD_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


def _start(cmd, pattern, env=None, user=None, preexec_fn=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, user=user,
                            preexec_fn=preexec_fn)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited: {proc.stderr.read()}")
            continue
        m = re.search(pattern, line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Gateway:
    def __init__(self, mock_port, data_dir, extra_env=None, extra_args=(), binary=None, user=None, preexec_fn=None):
        self.data_dir = data_dir
        self.mock_port = mock_port
        env = dict(os.environ)
        for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CEREBRAS_API_KEY",
                    "OPENROUTER_API_KEY", "ELEVENLABS_API_KEY"):
            env.pop(var, None)
        env["SWITCHYARD_MOCK_BASE_URL"] = f"http://127.0.0.1:{mock_port}/v1"
        env.update(extra_env or {})
        self.proc, self.port = _start(
            [binary or os.path.join(BIN, "switchyard"), "serve", "--listen", "127.0.0.1:0", "--data", data_dir, *extra_args],
            r"listening on [0-9.]+:(\d+)", env, user, preexec_fn)

    def cli(self, *args):
        out = subprocess.run([os.path.join(BIN, "switchyard"), *args, "--data", self.data_dir],
                             capture_output=True, text=True)
        return out

    def create_key(self, plan="test", name="", *extra):
        out = self.cli("keys", "create", "--plan", plan, "--name", name, *extra)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        _stop(self.proc)


@pytest.fixture(scope="session")
def mock():
    proc, port = _start([os.path.join(BIN, "switchyard-mock"), "--listen", "127.0.0.1:0"], r"listening on [0-9.]+:(\d+)")
    yield port
    _stop(proc)


@pytest.fixture(scope="session")
def gateway(mock):
    with tempfile.TemporaryDirectory() as data:
        # Several event loops (the default on 2 cores is one): transfers are then started from
        # several threads at once, which exercises the upstream client's lock and its queue.
        gw = Gateway(mock, data, extra_args=("--threads", "3"))
        yield gw
        gw.stop()


@pytest.fixture(scope="session")
def key(gateway):
    return gateway.create_key("test", "pytest")


def read_until_close(sock):
    """Everything the peer sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def request(port, method, path, body=None, headers=None, raw=None):
    """One HTTP request on a fresh connection; returns (status, headers, parsed JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed


def mock_stats(port):
    _, _, stats = request(port, "GET", "/mock/stats")
    return stats
