"""Server-sent events through the gateway: relayed as they arrive, rewritten per event,
cancelled upstream when the client leaves, and allowed to finish on SIGTERM."""
import json
import signal
import socket
import time

from conftest import Gateway, mock_stats, read_until_close

CHAT = "/v1/chat/completions"


def open_stream(port, key, body):
    """Sends a streaming request on a raw socket; returns the socket after the response head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    data = json.dumps(body).encode()
    sock.sendall(
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def read_events(sock, limit=None):
    """Yields (arrival time, data payload) per SSE event, decoding chunked framing."""
    buf = b""
    head_done = False
    body = b""
    count = 0
    finished = False
    while not finished:
        chunk = sock.recv(65536)
        if not chunk:
            finished = True
        buf += chunk
        if not head_done:
            if b"\r\n\r\n" not in buf:
                continue
            head, buf = buf.split(b"\r\n\r\n", 1)
            assert b" 200 " in head.split(b"\r\n")[0], head
            assert b"text/event-stream" in head.lower()
            head_done = True
        while b"\r\n" in buf:
            size_line, rest = buf.split(b"\r\n", 1)
            size = int(size_line, 16)
            if size == 0:
                finished = True
                break
            if len(rest) < size + 2:
                break
            body += rest[:size]
            buf = rest[size + 2:]
        now = time.time()
        while b"\n\n" in body:
            event, body = body.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    count += 1
                    yield now, line[6:].decode()
                    if limit and count >= limit:
                        return


def test_stream_arrives_incrementally_with_public_model(gateway, key):
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "count"}], "stream": True,
            "mock": {"words": 8, "chunk_delay_ms": 100}}
    start = time.time()
    sock = open_stream(gateway.port, key, body)
    events = list(read_events(sock))
    sock.close()
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(e) for _, e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "mock-gpt" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert len(text.split()) == 8
    # Relayed as produced, not buffered whole: the first event precedes the last by most of the
    # stream's duration (8 chunks x 100 ms).
    assert events[-1][0] - events[0][0] > 0.5


def test_stream_tool_call_fragments_are_relayed(gateway, key):
    body = {"model": "mock-tools", "stream": True,
            "messages": [{"role": "user", "content": "weather in Oslo?"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}}}}]}
    sock = open_stream(gateway.port, key, body)
    events = [e for _, e in read_events(sock)]
    sock.close()
    chunks = [json.loads(e) for e in events[:-1]]
    calls = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert calls[0]["function"]["name"] == "get_weather" and calls[0]["id"]
    args = "".join(tc["function"].get("arguments", "") for tc in calls)
    assert "city" in json.loads(args)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" or any(
        c["choices"] and c["choices"][0].get("finish_reason") == "tool_calls" for c in chunks)


def test_client_disconnect_cancels_upstream(gateway, key):
    before = mock_stats(gateway.mock_port)
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "long"}], "stream": True,
            "mock": {"words": 200, "chunk_delay_ms": 50}}
    sock = open_stream(gateway.port, key, body)
    got = list(read_events(sock, limit=3))
    assert len(got) == 3
    sock.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        stats = mock_stats(gateway.mock_port)
        if stats["cancelled_streams"] > before["cancelled_streams"] and stats["active_streams"] == 0:
            break
        time.sleep(0.05)
    assert stats["cancelled_streams"] > before["cancelled_streams"], stats
    assert stats["active_streams"] == 0


def test_provider_disconnect_mid_stream_ends_with_in_band_error(gateway, key):
    body = {"model": "mock-fault-disconnect", "messages": [{"role": "user", "content": "x"}], "stream": True}
    sock = open_stream(gateway.port, key, body)
    events = [e for _, e in read_events(sock)]
    sock.close()
    assert events, "expected some chunks before the break"
    last = json.loads(events[-1])
    assert "error" in last and last["error"]["message"]


def test_sigterm_lets_streams_in_flight_finish(mock, tmp_path):
    gw = Gateway(mock, str(tmp_path))
    k = gw.create_key("test")
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True,
            "mock": {"words": 10, "chunk_delay_ms": 100}}
    sock = open_stream(gw.port, k, body)
    events = read_events(sock)
    first = next(events)
    gw.proc.send_signal(signal.SIGTERM)
    rest = [e for _, e in events]
    sock.close()
    assert rest[-1] == "[DONE]"
    assert gw.proc.wait(10) == 0
    # No longer accepting.
    try:
        socket.create_connection(("127.0.0.1", gw.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    assert refused


def test_sigterm_waits_for_a_body_still_arriving(mock, tmp_path):
    """Once a drain counted requests only from their provider call on: SIGTERM while a body was
    still arriving closed the connection with no answer."""
    gw = Gateway(mock, str(tmp_path))
    k = gw.create_key("test")
    body = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}]}).encode()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    sock.sendall(f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {k}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:10])
    time.sleep(0.2)
    gw.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    sock.sendall(body[10:])
    answer = read_until_close(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["object"] == "chat.completion"
    assert gw.proc.wait(10) == 0


def _usage_chunks(gateway, key, stream_options):
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True, "mock": {"words": 3}}
    if stream_options is not None:
        body["stream_options"] = stream_options
    sock = open_stream(gateway.port, key, body)
    events = [e for _, e in read_events(sock)]
    sock.close()
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1] if json.loads(e).get("usage")]


def test_usage_chunk_reaches_the_client_only_if_it_asked(gateway, key):
    assert _usage_chunks(gateway, key, None) == []
    assert _usage_chunks(gateway, key, {"include_usage": False}) == []
    asked = _usage_chunks(gateway, key, {"include_usage": True})
    assert len(asked) == 1 and asked[0]["choices"] == [] and asked[0]["usage"]["total_tokens"] > 0


def _stream_payloads(port, key, stream_options):
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True, "mock": {"words": 4}}
    if stream_options is not None:
        body["stream_options"] = stream_options
    sock = open_stream(port, key or "unused", body)
    events = [e for _, e in read_events(sock)]
    sock.close()
    assert events[-1] == "[DONE]"
    return events[:-1]


def test_chunks_carry_usage_null_only_when_the_client_asked(gateway, key):
    # The gateway always asks the provider for usage, and a provider that is asked puts
    # `"usage":null` in every chunk. A client that did not ask gets the chunks without it, byte
    # for byte as the provider sends them to a client that did not ask (the mock, called
    # directly, is that reference).
    for options in (None, {"include_usage": False}):
        through = _stream_payloads(gateway.port, key, options)
        direct = _stream_payloads(gateway.mock_port, None, options)
        assert through and all('"usage"' not in p for p in through), through[:2]
        assert [json.loads(p).keys() for p in through] == [json.loads(p).keys() for p in direct]
    asked = _stream_payloads(gateway.port, key, {"include_usage": True})
    assert all(json.loads(p)["usage"] is None for p in asked[:-1])
    assert json.loads(asked[-1])["usage"]["total_tokens"] > 0


def test_http10_client_gets_the_stream_unchunked_until_close(gateway, key):
    """HTTP/1.0 has no chunked coding (RFC 9112 §6.1): the events go out as they are and the
    gateway closes the connection after [DONE]; a chunk-size line would corrupt the SSE text."""
    body = json.dumps({"model": "mock-gpt", "messages": [{"role": "user", "content": "count"}], "stream": True,
                       "mock": {"words": 5, "chunk_delay_ms": 5}}).encode()
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    sock.sendall(
        f"POST {CHAT} HTTP/1.0\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    raw = read_until_close(sock)  # the only end an HTTP/1.0 reader knows
    sock.close()
    head, payload = raw.split(b"\r\n\r\n", 1)
    lines = head.lower().split(b"\r\n")
    assert b" 200 " in lines[0]
    assert b"transfer-encoding: chunked" not in lines
    assert b"connection: close" in lines
    events = [e for e in payload.split(b"\n\n") if e]
    assert all(e.startswith(b"data: ") for e in events), payload[:200]
    assert events[-1] == b"data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert all(c["model"] == "mock-gpt" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert len(text.split()) == 5
