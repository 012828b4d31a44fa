"""The server protects itself: idle keep-alive connections close, slow uploads time out,
oversized headers are refused, and a slow reader pauses the provider instead of growing memory."""
import json
import socket
import time

from conftest import Gateway, request
from test_streaming import open_stream, read_events


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_idle_keep_alive_connection_is_closed(mock, tmp_path):
    gw = Gateway(mock, str(tmp_path), extra_args=("--idle-timeout-ms", "300"))
    try:
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200" in sock.recv(4096)
        time.sleep(1.0)
        assert sock.recv(4096) == b""  # closed by the server
    finally:
        gw.stop()


def test_request_that_never_finishes_sending_gets_408(mock, tmp_path):
    gw = Gateway(mock, str(tmp_path), extra_args=("--request-timeout-ms", "300"))
    try:
        k = gw.create_key("test")
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {k}\r\n"
                     "Content-Length: 1000\r\n\r\n{\"model\":".encode())
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 408")
        assert b"request_timeout" in data
    finally:
        gw.stop()


def test_oversized_headers_are_refused(gateway):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n")
    data = sock.recv(4096)
    sock.close()
    assert data.startswith(b"HTTP/1.1 4"), data[:100]


def test_slow_reader_pauses_upstream_instead_of_buffering(gateway, key):
    # ~20 MB of stream produced as fast as the mock can; the client reads nothing for a while.
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True,
            "mock": {"words": 100000, "chunk_delay_ms": 0}}
    before = rss_kb(gateway.proc.pid)
    sock = open_stream(gateway.port, key, body)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    time.sleep(2.0)
    during = rss_kb(gateway.proc.pid)
    events = [e for _, e in read_events(sock)]
    sock.close()
    assert events[-1] == "[DONE]"
    assert len(events) > 100000
    # Held back by TCP windows and the pause, not by the gateway's heap.
    assert during - before < 16 * 1024, (before, during)
