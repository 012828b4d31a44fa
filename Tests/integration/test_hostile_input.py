"""Hostile input, from a client or from a provider, gets an answer: it never kills the gateway
process (a Swift trap: overflow, bad index, nil unwrap, precondition), stalls its event loop or
grows its memory without bound.

Provider-side cases use `FakeProvider`, a raw-socket HTTP server in this file that can send what
the mock cannot (odd status lines, trailers, absurd usage, unterminated SSE); a gateway is pointed
at it through `SWITCHYARD_MOCK_BASE_URL` (the `Gateway` fixture's mock port). Cases that may kill
or bloat the gateway get a gateway of their own; the rest share one.

A comment "Once ..." above a test names the bug it caught when the file was written (all fixed).
"""
import contextlib
import http.client
import json
import socket
import tempfile
import threading
import time

import pytest

from conftest import Gateway, request

CHAT = "/v1/chat/completions"
TOKEN_CAP = 1 << 40  # ObservedUsage.maxReportedTokens


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def chat(content="hi", model="mock-gpt", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    body.update(extra)
    return body


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def assert_alive(gw):
    """GET /healthz answers 200; if the process died, the failure quotes its trap."""
    try:
        status = request(gw.port, "GET", "/healthz")[0]
    except (OSError, http.client.HTTPException) as error:
        status = f"no answer ({error!r})"
    if status != 200:
        try:
            gw.proc.wait(5)
        except Exception:
            pass
        trap = ""
        if gw.proc.poll() is not None:
            log = gw.proc.stderr.read()
            at = max(log.find("crashed:"), 0)
            trap = log[at:at + 600]
        pytest.fail(f"gateway not alive: healthz {status}, exit {gw.proc.poll()}\n{trap}")


def raw_exchange(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns everything until close or `timeout`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(data)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    sock.close()
    return out


def post_raw(port, key, body_bytes):
    """A chat request on a raw socket (the body as given); returns the open socket."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body_bytes)}\r\n\r\n".encode() + body_bytes)
    return sock


# --- a provider that misbehaves on purpose ------------------------------------------------------

class FakeProvider:
    """HTTP/1.1 on a raw socket: reads one request per connection, calls `respond(conn, body)`
    (the scenario named by the first message's content, else `default`), then closes."""

    def __init__(self, scenarios=None, default=None):
        self.scenarios = scenarios or {}
        self.default = default
        self.bodies = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.bodies.append(body)
            try:
                content = json.loads(body)["messages"][0]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                content = None
            respond = self.scenarios.get(content, self.default)
            respond(conn, body)
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()


def json_response(status_line, body, extra=b""):
    def respond(conn, _):
        conn.sendall(status_line + b"\r\nContent-Type: application/json\r\n" + extra +
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return respond


def completion(usage):
    return json.dumps({"id": "chatcmpl-fake", "object": "chat.completion", "model": "mock-gpt-1",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                    "finish_reason": "stop"}],
                       "usage": usage}).encode()


ABSURD_USAGE = (b'{"prompt_tokens": 9223372036854775807, "completion_tokens": -9223372036854775808,'
                b' "total_tokens": 99999999999999999999999,'
                b' "prompt_tokens_details": {"cached_tokens": 99999999999999999999999},'
                b' "completion_tokens_details": {"reasoning_tokens": 1e400}}')


def absurd_stream(conn, _):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
    events = [
        b'data: {"id":"c","object":"chat.completion.chunk","model":"mock-gpt-1","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n',
        b"\xff\xfe\x00 binary garbage\n\n",
        b'data: {"usage":{\n\n',                          # cut JSON with the usage marker
        b'data:{"usage": {"prompt_tokens":"x"}}\n\r\n',  # no space after the colon, CR-LF terminator
        b"data: \n\n",
        b'data: {"id":"c","model":"mock-gpt-1","choices":[],"usage":' + ABSURD_USAGE + b"}\n\n",
        b"data: [DONE]\n\n",
        b"data: unterminated last event",
    ]
    for event in events:
        conn.sendall(event)


def header_flood(conn, _):
    conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n")
    conn.sendall(b"Retry-After: 1\r\n" * 24000)  # ~380 KB of head
    conn.sendall(b"Content-Length: 2\r\n\r\n{}")


SCENARIOS = {
    "status-999": json_response(b"HTTP/1.1 999 Whatever", b"{}"),
    "status-000": json_response(b"HTTP/1.1 000 Zero", b"{}"),
    "status-negative": json_response(b"HTTP/2 -5 Negative", b"{}"),
    "retry-after": json_response(
        b"HTTP/1.1 429 Too Many Requests",
        b'{"error":{"message":"slow down","type":"rate_limit_error"}}',
        b"Retry-After: 99999999999999999999999999\r\nretry-after-ms: 1.5e308\r\nRETRY-AFTER: -5\r\n"
        b"Retry-After-Ms: \xff\xfe\r\n"),
    "absurd-usage": json_response(
        b"HTTP/1.1 200 OK",
        b'{"id":"c","object":"chat.completion","model":"mock-gpt-1","choices":[],"usage":' + ABSURD_USAGE + b"}"),
    "absurd-stream": absurd_stream,
    "header-flood": header_flood,
    "nested-error": json_response(b"HTTP/1.1 400 Bad Request",
                                  b'{"error":{"message":' + b"[" * 100000 + b"]" * 100000 + b"}}"),
}


@pytest.fixture(scope="module")
def hostile():
    """One gateway in front of a provider that answers each scenario on purpose wrongly."""
    provider = FakeProvider(SCENARIOS, default=json_response(b"HTTP/1.1 200 OK", completion(
        {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2})))
    with tempfile.TemporaryDirectory() as data:
        gw = Gateway(provider.port, data)
        yield gw, provider
        gw.stop()
    provider.close()


@contextlib.contextmanager
def fresh_gateway(tmp_path, respond, *args):
    """A gateway of its own in front of a `FakeProvider` answering every call with `respond`."""
    provider = FakeProvider(default=respond)
    gw = Gateway(provider.port, str(tmp_path), extra_args=args)
    try:
        yield gw, provider
    finally:
        gw.stop()
        provider.close()


# --- the provider's status line and headers ---------------------------------------------------

@pytest.mark.parametrize("scenario,fragment", [
    ("status-999", "returned HTTP 999"),
    ("status-000", "Unsupported response code"),
    ("status-negative", "returned HTTP 0"),
])
def test_odd_provider_status_is_502(hostile, scenario, fragment):
    gw, _ = hostile
    key = gw.create_key("test")
    status, _, body = request(gw.port, "POST", CHAT, chat(scenario), headers=auth(key))
    assert status == 502, body
    assert body["error"]["code"] == "upstream_error" and fragment in body["error"]["message"], body
    assert_alive(gw)


# Once killed the process: any header or trailer line starting with `HTTP/` was parsed as a status
# line, its digits unbounded (an `Int` overflow trap on the curl thread).
@pytest.mark.parametrize("response,expected", [
    # curl accepts an `HTTP/2 <any %d>` status line even on an HTTP/1.1 connection.
    (b"HTTP/2 99999999999999999999 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 502),
    # A normal status line; a later header line whose name starts with `HTTP/`.
    (b"HTTP/1.1 200 OK\r\nHTTP/x 99999999999999999999: 1\r\nContent-Type: application/json\r\n"
     b"Content-Length: 2\r\n\r\n{}", 200),
    # A normal response; the same in a chunked trailer (curl hands trailers to the header callback).
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"2\r\n{}\r\n0\r\nHTTP/x 99999999999999999999: 1\r\n\r\n", 200),
], ids=["http2-status-line", "header-line", "trailer"])
def test_provider_status_digits_beyond_int_do_not_kill_the_gateway(tmp_path, response, expected):
    with fresh_gateway(tmp_path, lambda conn, _: conn.sendall(response)) as (gw, _):
        key = gw.create_key("test")
        try:
            status = request(gw.port, "POST", CHAT, chat(), headers=auth(key))[0]
        except (OSError, http.client.HTTPException) as error:
            status = repr(error)
        assert_alive(gw)  # quotes the trap when the process died
        # Not a status (more than three digits): 502. A later `HTTP/…` line is a header.
        assert status == expected, status


def test_provider_retry_after_values_pass_through_untouched(hostile):
    gw, _ = hostile
    key = gw.create_key("test")
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("POST", CHAT, body=json.dumps(chat("retry-after")), headers=auth(key))
    resp = conn.getresponse()
    body = json.loads(resp.read())
    values = [(k.lower(), v) for k, v in resp.getheaders() if k.lower().startswith("retry-after")]
    conn.close()
    assert resp.status == 429 and body["error"]["code"] == "upstream_rate_limited", body
    # Only printable ASCII values are relayed, as text: the gateway does no arithmetic on them.
    assert values == [("retry-after", "99999999999999999999999999"), ("retry-after-ms", "1.5e308"),
                      ("retry-after", "-5")], values
    assert_alive(gw)


def test_provider_header_flood_is_502(hostile):
    gw, _ = hostile
    key = gw.create_key("test")
    status, _, body = request(gw.port, "POST", CHAT, chat("header-flood"), headers=auth(key))
    assert status == 502 and body["error"]["code"] == "upstream_error", body
    assert_alive(gw)


def test_provider_error_nested_beyond_any_parser_is_502(hostile):
    gw, _ = hostile
    key = gw.create_key("test")
    status, _, body = request(gw.port, "POST", CHAT, chat("nested-error"), headers=auth(key))
    assert status == 502 and "returned HTTP 400" in body["error"]["message"], body
    assert_alive(gw)


# --- the provider's usage numbers and stream ----------------------------------------------------

def usage_today(gw, key):
    status, _, report = request(gw.port, "GET", "/v1/usage", headers=auth(key))
    assert status == 200, report
    return report


def test_absurd_usage_numbers_are_clamped_not_a_crash(hostile):
    gw, _ = hostile
    key = gw.create_key("test")
    status, _, body = request(gw.port, "POST", CHAT, chat("absurd-usage"), headers=auth(key))
    assert status == 200, body
    today = usage_today(gw, key)["today"]
    assert today["prompt_tokens"] == TOKEN_CAP and today["completion_tokens"] == 0, today
    assert today["cached_prompt_tokens"] == 0
    # 2^40 tokens are past the plan's daily allowance: the key is refused until midnight UTC.
    status, headers, body = request(gw.port, "POST", CHAT, chat("absurd-usage"), headers=auth(key))
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded", body
    assert int(headers["retry-after"]) >= 1
    assert_alive(gw)


def test_malformed_stream_with_absurd_usage_is_relayed_not_a_crash(hostile):
    gw, _ = hostile
    key = gw.create_key("test")
    sock = post_raw(gw.port, key, json.dumps(chat("absurd-stream", stream=True)).encode())
    data = b""
    while not data.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    assert b"data: [DONE]" in data and b"unterminated last event" in data
    assert data.endswith(b"0\r\n\r\n")
    today = usage_today(gw, key)["today"]
    assert today["prompt_tokens"] == TOKEN_CAP and today["completion_tokens"] == 0, today
    assert_alive(gw)


# Once grew without bound: SSEEventFramer kept an unterminated event in `pending` whatever its size.
def test_stream_without_event_terminator_does_not_grow_memory(tmp_path):
    sent = threading.Event()

    def endless_event(conn, _):
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: ")
            piece = b"x" * (1 << 20)
            for _ in range(96):
                conn.sendall(piece)
        except OSError:
            sent.set()  # the gateway hung up on the over-long event
            return
        sent.set()
        time.sleep(5)  # keep the stream open while memory is measured

    with fresh_gateway(tmp_path, endless_event) as (gw, _):
        key = gw.create_key("test")
        before = proc_kb(gw.proc.pid, "VmRSS")
        sock = post_raw(gw.port, key, json.dumps(chat(stream=True)).encode())
        assert sent.wait(15)
        time.sleep(0.3)
        grown_mb = (proc_kb(gw.proc.pid, "VmRSS") - before) / 1024
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        sock.close()
        assert_alive(gw)
        assert grown_mb < 32, f"gateway grew by {grown_mb:.0f} MB holding 96 MB of one unterminated event"
        # The stream ends with an in-band error the SDKs raise, and the chunked terminator.
        assert b"upstream_error" in answer and b"longer than 1048576 bytes" in answer, answer[-300:]
        assert answer.endswith(b"0\r\n\r\n")


# Once stalled the event loop: SSEEventFramer rescanned all of `pending` on every read (quadratic).
def test_stream_of_lines_without_blank_line_does_not_stall_the_event_loop(tmp_path):
    stop = threading.Event()

    def lines_forever(conn, _):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        piece = b"x\n" * 32768
        for _ in range(2048):  # at most 128 MB
            if stop.is_set():
                return
            conn.sendall(piece)

    worst = 0.0
    with fresh_gateway(tmp_path, lines_forever, "--threads", "1") as (gw, _):  # healthz shares the loop
        try:
            key = gw.create_key("test")
            sock = post_raw(gw.port, key, json.dumps(chat(stream=True)).encode())
            time.sleep(1.0)
            deadline = time.time() + 1.5
            while time.time() < deadline and worst < 0.5:
                started = time.time()
                answer = raw_exchange(gw.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                      timeout=0.5)
                worst = max(worst, time.time() - started)
                assert answer.startswith(b"HTTP/1.1 200 ") or worst >= 0.5, answer[:100]
                time.sleep(0.1)
            stop.set()
            sock.close()
            assert worst < 0.5, f"/healthz took {worst:.1f} s or more while a provider streamed lines"
        finally:
            stop.set()
            if worst >= 0.5:
                gw.proc.kill()  # its only event loop is busy for minutes: a graceful stop would wait
                gw.proc.wait()


# Once unbounded: a non-streamed provider answer was collected whatever its size, then copied.
def test_huge_non_streamed_provider_answer_does_not_bloat_the_gateway(tmp_path):
    body = (b'{"id":"c","object":"chat.completion","model":"mock-gpt-1","pad":"' + b"x" * (100 << 20) +
            b'","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}')
    with fresh_gateway(tmp_path, json_response(b"HTTP/1.1 200 OK", body)) as (gw, _):
        key = gw.create_key("test")
        before = proc_kb(gw.proc.pid, "VmHWM")
        status, _, answer = request(gw.port, "POST", CHAT, chat(), headers=auth(key))
        peak_mb = (proc_kb(gw.proc.pid, "VmHWM") - before) / 1024
        assert status == 502 and answer["error"]["code"] == "upstream_error", answer
        assert "larger than 16777216 bytes" in answer["error"]["message"]
        assert_alive(gw)
        assert peak_mb < 64, f"peak memory grew by {peak_mb:.0f} MB for a 100 MB provider answer"


# --- what the gateway forwards --------------------------------------------------------------------

def test_a_repeated_model_member_is_refused(hostile):
    # Parsers disagree on a repeated member (Python keeps the last, others the first or refuse),
    # so the model checked against the plan might not be the one the provider serves. It was a
    # plan bypass once (an escaped `"mod\u0065l"` went unchecked); now any repeat, escaped or
    # not, is a 400 and nothing reaches the provider.
    gw, provider = hostile
    key = gw.create_key("test")
    before = len(provider.bodies)
    for smuggled in [
        b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}], "mod\\u0065l": "gpt-5"}',
        b'{"model": "no-such-model", "messages": [{"role": "user", "content": "x"}], "mod\\u0065l": "mock-gpt"}',
        b'{"model": "gpt-5", "model": "mock-gpt", "messages": [{"role": "user", "content": "x"}]}',
        b'{"model": "mock-gpt", "stream": false, "messages": [], "stream": true}',
    ]:
        status, _, body = request(gw.port, "POST", CHAT, raw=smuggled, headers=auth(key))
        assert status == 400 and body["error"]["param"] in ("model", "stream"), body
        assert "more than one" in body["error"]["message"]
    assert len(provider.bodies) == before
    # A model member nested elsewhere is not a repeat.
    ok = b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "hi", "model": "x"}]}'
    assert request(gw.port, "POST", CHAT, raw=ok, headers=auth(key))[0] == 200
    assert_alive(gw)


# --- client input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,status,code", [
    (b'{"model": "\\u12', 400, "invalid_json"),
    (b'{"model": "\\ud800\\u', 400, "invalid_json"),
    (b'{"model": "\\ud800\\ud800\\udc00", "messages": []}', 404, "model_not_found"),
    (b'{"model": "\\udc00\\ud800", "messages": []}', 404, "model_not_found"),
    (b'{"model": "\\u0000\\\\\\"", "messages": []}', 404, "model_not_found"),
    (b'{"model": "mock-gpt", "messages": ' + b"[" * 100000 + b"]" * 100000 + b"}", 400, "invalid_json"),
    (b'{"model": "mock-gpt", "messages": [], "stream": "yes"}', 400, "invalid_request"),
    (b'\xef\xbb\xbf{"model": "mock-gpt", "messages": []}', 400, "invalid_json"),
], ids=["cut-u-escape", "cut-after-surrogate", "surrogate-pair-after-lone", "reversed-pair", "nul-and-quote",
        "nesting-100k", "stream-string", "utf8-bom"])
def test_odd_json_is_an_answer(gateway, key, raw, status, code):
    got, _, body = request(gateway.port, "POST", CHAT, raw=raw, headers=auth(key))
    assert got == status and body["error"]["code"] == code, (got, body)
    assert_alive(gateway)


@pytest.mark.parametrize("fields", [
    b'"max_tokens": -9223372036854775808',
    b'"max_tokens": 99999999999999999999999999999',
    b'"max_tokens": 1e308',
    b'"max_completion_tokens": -1, "max_tokens": 9223372036854775807',
    b'"max_completion_tokens": 9223372036854775807, "stream": true',
    b'"stream": true, "stream_options": {"include_usage": "yes", "n": 1e999}',
    b'"stream": true, "stream_options": [1, 2]',
], ids=["min-int64", "beyond-int64", "float", "negative-then-max", "max-streamed", "options-unparsable",
        "options-array"])
def test_hostile_request_fields_are_served(gateway, key, fields):
    raw = b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}], ' + fields + b"}"
    status, _, body = request(gateway.port, "POST", CHAT, raw=raw, headers=auth(key))
    assert status == 200, body
    assert_alive(gateway)


@pytest.mark.parametrize("headers", [
    b"Authorization: Bearer " + b"k" * 30000,
    b"Authorization: Bearer \xff\xfe\xfd",
    b"Authorization: bEaReR        ",
    b"x-api-key: " + b"A" * 300,
], ids=["30k-key", "non-utf8-key", "only-spaces", "long-x-api-key"])
def test_hostile_keys_are_401(gateway, headers):
    data = raw_exchange(gateway.port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + headers +
                        b"\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 401 "), data[:200]
    assert_alive(gateway)


@pytest.mark.parametrize("head", [
    b"GET /healthz HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    # With a valid key: a keyless request with a body is refused (401) from its head alone.
    b"POST /v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer KEY\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"fffffffffffffffffffffff\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
], ids=["length-overflow", "length-negative", "length-twice", "chunk-size-overflow", "chunked-and-length",
        "http2-request-line", "h2-preface"])
def test_malformed_framing_is_400_and_closes(gateway, key, head):
    data = raw_exchange(gateway.port, head.replace(b"KEY", key.encode()))
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert b'"code":"malformed_http_request"' in data and b"connection: close" in data
    assert_alive(gateway)


def test_usage_with_hostile_query_string_is_served(gateway, key):
    status, _, body = request(gateway.port, "GET", "/v1/usage?since=-99999999999999999999&limit=1e999&%ff%00=%",
                              headers=auth(key))
    assert status == 200 and body["object"] == "usage", body
    assert_alive(gateway)


def test_thousands_of_pipelined_requests_in_one_write(gateway):
    count = 3000
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * (count - 1) +
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert data.count(b"HTTP/1.1 200 OK\r\n") == count
    assert_alive(gateway)


# Once grew without bound: after an Upgrade or CONNECT request NIO's decoder stops parsing, its
# ByteToMessageHandler had no maximumBufferSize, and the gateway kept the connection open.
@pytest.mark.parametrize("head", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["upgrade", "connect"])
def test_bytes_after_an_upgrade_request_are_not_buffered_without_bound(mock, tmp_path, head):
    gw = Gateway(mock, str(tmp_path))
    try:
        sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        sock.sendall(head)
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")
        before = proc_kb(gw.proc.pid, "VmRSS")
        piece = b"A" * (1 << 20)
        try:
            for _ in range(128):
                sock.sendall(piece)
        except OSError:
            pass  # closed by the gateway: nothing is buffered
        time.sleep(0.3)
        grown_mb = (proc_kb(gw.proc.pid, "VmRSS") - before) / 1024
        sock.close()
        assert_alive(gw)
        assert grown_mb < 32, f"gateway grew by {grown_mb:.0f} MB buffering bytes it will never parse"
    finally:
        gw.stop()


@pytest.mark.parametrize("key_header", ["", "Authorization: Bearer sk-not-a-key\r\n"])
def test_a_body_without_a_valid_key_is_refused_before_it_is_read(gateway, key_header):
    """Once the whole body (up to max_body_bytes, 32 MiB) was buffered before the key was
    checked: anyone could make the gateway hold that much per connection. Now the head alone is
    answered: 401 arrives while the declared 30 MB body has not been sent at all."""
    out = raw_exchange(gateway.port, f"POST {CHAT} HTTP/1.1\r\nHost: x\r\n{key_header}Content-Type: application/json\r\n"
                                     f"Content-Length: 31457280\r\nExpect: 100-continue\r\n\r\n".encode())
    status_line = out.split(b"\r\n", 1)[0]
    assert b" 401 " in status_line, out[:300]   # not "100 Continue", and no waiting for the body
    assert_alive(gateway)


def test_a_body_to_an_unknown_path_is_refused_before_it_is_read(gateway, key):
    out = raw_exchange(gateway.port, f"POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                                     f"Content-Length: 31457280\r\nExpect: 100-continue\r\n\r\n".encode())
    assert b" 404 " in out.split(b"\r\n", 1)[0], out[:300]
