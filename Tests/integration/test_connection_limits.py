"""The server protects itself: idle keep-alive connections close, slow uploads time out,
oversized headers are refused, and a slow reader pauses the provider instead of growing memory."""
import json
import socket
import time

import pytest

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


def send_body_in_pieces(gw, key, pause_s, pieces):
    """A chat request whose body leaves in `pieces` writes, `pause_s` apart; the whole answer."""
    body = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "slow upload"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    size = -(-len(body) // pieces)
    try:
        for i in range(0, len(body), size):
            time.sleep(pause_s)
            sock.sendall(body[i:i + size])
    except (BrokenPipeError, ConnectionResetError):
        pass  # answered (408) and closed while we were still sending
    return read_until_closed(sock)


def test_body_timeout_counts_from_the_head_not_from_the_last_piece(mock, tmp_path):
    # The timer is armed only once a read ends with the body incomplete; a client that keeps
    # sending small pieces must still be cut off when the whole request is too slow.
    gw = Gateway(mock, str(tmp_path), extra_args=("--request-timeout-ms", "400"))
    try:
        k = gw.create_key("test")
        slow = send_body_in_pieces(gw, k, pause_s=0.15, pieces=8)  # ~1.2 s in all
        assert slow.startswith(b"HTTP/1.1 408"), slow[:200]
        assert b"request_timeout" in slow
        quick = send_body_in_pieces(gw, k, pause_s=0.03, pieces=4)  # ~0.12 s in all
        assert quick.startswith(b"HTTP/1.1 200"), quick[:200]
    finally:
        gw.stop()


def read_until_closed(sock):
    """Everything the server sent before closing. A server that closes with request bytes still
    unread resets the connection; what arrived before the reset is kept."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def split_response(data):
    """(status, headers dict, body, rest) of the first HTTP/1.1 response in `data`."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers["content-length"])
    return status, headers, rest[:length], rest[length:]


def read_responses(sock, count):
    """The next `count` whole responses on `sock`, as (status, body), in arrival order."""
    data, answers = b"", []
    while len(answers) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(answers)} answers"
        data += chunk
        while b"\r\n\r\n" in data:
            status, headers, body, rest = split_response(data)
            if len(body) < int(headers["content-length"]):
                break
            answers.append((status, body))
            data = rest
    return answers


def test_oversized_headers_are_refused_in_openai_shape(gateway):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n")
    data = read_until_closed(sock)
    sock.close()
    status, headers, body, _ = split_response(data)
    assert status == 431, data[:200]
    assert headers["connection"] == "close"
    assert json.loads(body)["error"]["code"] == "request_headers_too_large"


def test_malformed_request_is_400_in_openai_shape_and_closes(gateway):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")  # no colon in the header line
    data = read_until_closed(sock)  # returns only because the gateway closes
    sock.close()
    status, _, body, rest = split_response(data)
    assert status == 400
    assert json.loads(body)["error"]["code"] == "malformed_http_request"
    assert rest == b""


def test_pipelined_requests_are_answered_in_order(gateway, key):
    """Three requests in one write, the middle one a chat call to the provider: the answers
    come back complete and in request order, and the connection stays usable."""
    chat = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "pipelined"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                 b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() +
                 b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(chat)).encode() + b"\r\n\r\n" + chat +
                 b"GET /v1/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() + b"\r\n\r\n")
    answers = read_responses(sock, 3)
    assert [status for status, _ in answers] == [200, 200, 404]
    assert json.loads(answers[0][1]) == {"status": "ok"}
    reply = json.loads(answers[1][1])
    assert reply["model"] == "mock-gpt" and "pipelined" in reply["choices"][0]["message"]["content"]
    assert json.loads(answers[2][1])["error"]["code"] == "not_found"
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
    sock.close()


def test_head_request_gets_length_but_no_body(gateway):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b'{"status":"ok"}'):
        chunk = sock.recv(4096)
        assert chunk
        data += chunk
    sock.close()
    first, _, second = data.partition(b"\r\n\r\n")
    assert b"content-length: 15" in first.lower()
    assert second.startswith(b"HTTP/1.1 200 OK\r\n")  # nothing between the HEAD answer and the next


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


@pytest.mark.parametrize("padding", [b"", b" \t"])
def test_expect_100_continue_is_answered_before_the_body(gateway, key, padding):
    """A client that sends `Expect: 100-continue` (curl does for bodies over 1 MB) waits for the
    interim answer before sending the body; without it, it stalls for a second. Whitespace after
    a header value is not part of it (it used to hide the expectation)."""
    body = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "expect"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() + padding +
                 b"\r\nContent-Type: application/json\r\nExpect: 100-continue" + padding + b"\r\nContent-Length: " +
                 str(len(body)).encode() + b"\r\n\r\n")  # NIO's parser refuses padding after Content-Length
    sock.settimeout(0.5)  # well under curl's one-second wait
    assert sock.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.settimeout(5)
    sock.sendall(body)
    [(status, answer)] = read_responses(sock, 1)
    sock.close()
    assert status == 200 and json.loads(answer)["model"] == "mock-gpt"


def test_expect_100_continue_with_a_body_too_large_gets_the_final_answer(gateway, key):
    # The client waits and sends nothing, so the gateway must close at once: well inside this
    # timeout, and not after the 5 s it waits for the rest of a body that may be on its way.
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=2)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() +
                 b"\r\nExpect: 100-continue\r\nContent-Length: 999999999999\r\n\r\n")
    data = read_until_closed(sock)
    sock.close()
    status, _, answer, _ = split_response(data)
    assert status == 413 and json.loads(answer)["error"]["code"] == "request_too_large"


def _gateway_socket(pid, peer):
    """The gateway's own end of the connection whose client end is bound to `peer`: each of the
    process's socket descriptors is copied into this one with pidfd_getfd (Linux 5.6+; the
    gateway is our child, so ptrace access is allowed) and matched by its peer address."""
    import ctypes
    import os
    libc = ctypes.CDLL(None, use_errno=True)
    SYS_pidfd_getfd = 438  # the same number on every Linux architecture
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                continue
            s = socket.socket(fileno=fd)
            try:
                if s.family == socket.AF_INET and s.type == socket.SOCK_STREAM and s.getpeername() == peer:
                    return s.dup()
            except OSError:
                pass
            finally:
                s.close()
    finally:
        os.close(pidfd)
    return None


def test_accepted_connections_have_tcp_nodelay(gateway):
    # The gateway sets no per-connection socket option on Linux: an accepted socket inherits
    # TCP_NODELAY from the listening socket. Without it, a small write that follows another
    # (a streamed chunk) can wait for the client's delayed ACK, ~40 ms.
    client = socket.create_connection(("127.0.0.1", gateway.port))
    try:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        server_end = _gateway_socket(gateway.proc.pid, client.getsockname())
        assert server_end is not None, "the gateway's end of the connection was not found"
        with server_end:
            assert server_end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.close()


def test_gateway_serves_without_privileges(mock):
    # A regression: the per-connection "TCP_NODELAY" option was SO_DEBUG (NIO's `socketOption`
    # is the socket level; TCP's is `tcpOption`), which the kernel allows only with
    # CAP_NET_ADMIN: run by an ordinary user, the gateway closed every connection unanswered.
    # Tests usually run as root here, so as root the gateway runs as `nobody` (uid 65534),
    # from a copy of the binary in a folder that user can reach.
    import os
    import shutil
    import subprocess
    import tempfile
    from conftest import BIN
    folder = tempfile.mkdtemp(prefix="switchyard-unprivileged-")
    try:
        user = None
        binary = os.path.join(BIN, "switchyard")
        if os.geteuid() == 0:
            user = 65534
            os.chmod(folder, 0o777)
            binary = shutil.copy(binary, os.path.join(folder, "switchyard"))
            os.chmod(binary, 0o755)
        gw = Gateway(mock, os.path.join(folder, "data"), binary=binary, user=user)
        try:
            assert os.stat(f"/proc/{gw.proc.pid}").st_uid == (65534 if user else os.geteuid())
            status, _, body = request(gw.port, "GET", "/healthz")
            assert status == 200, body
            made = subprocess.run([binary, "keys", "create", "--plan", "test", "--data", gw.data_dir],
                                  capture_output=True, text=True, user=user)
            assert made.returncode == 0, made.stderr
            status, _, body = request(gw.port, "POST", "/v1/chat/completions",
                                      {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]},
                                      {"Authorization": f"Bearer {made.stdout.strip()}"})
            assert status == 200, body
        finally:
            gw.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_connections(port, count):
    socks = []
    for _ in range(count):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    return socks


def test_open_file_limit_is_raised_to_the_hard_limit(mock, tmp_path):
    # A soft limit of 64 descriptors used to cap the gateway at a few dozen connections; it
    # raises the soft limit to the hard one at start-up.
    import resource
    hard = min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])  # a user may not raise its own
    gw = Gateway(mock, str(tmp_path), preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard)))
    try:
        limits = open(f"/proc/{gw.proc.pid}/limits").read()
        assert any(l.startswith("Max open files") and l.split()[3] == str(hard) for l in limits.splitlines()), limits
        socks = _open_connections(gw.port, min(200, hard - 64))
        try:
            for s in socks:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert all(s.recv(4096).startswith(b"HTTP/1.1 200") for s in socks)
        finally:
            for s in socks:
                s.close()
    finally:
        gw.stop()


def test_out_of_descriptors_is_reported_and_recovered_from(mock, tmp_path):
    # At the hard limit `accept` fails: the gateway says once what to change, pauses accepting,
    # keeps serving the connections it has, and accepts again once descriptors are free.
    import resource
    gw = Gateway(mock, str(tmp_path), preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48)))
    try:
        socks = _open_connections(gw.port, 80)  # the kernel completes the handshakes; accept cannot
        try:
            import select
            deadline = time.time() + 10
            message = ""
            while "cannot accept connections" not in message and time.time() < deadline:
                if select.select([gw.proc.stderr], [], [], max(0.0, deadline - time.time()))[0]:
                    message += gw.proc.stderr.readline()
            assert "Too many open files" in message and "Raise the open-file limit" in message, message
            socks[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert socks[0].recv(4096).startswith(b"HTTP/1.1 200")
        finally:
            for s in socks:
                s.close()
        status, _, _ = request(gw.port, "GET", "/healthz")
        assert status == 200
    finally:
        gw.stop()
