"""Plans enforce their limits and every request lands in the ledger: real gateway processes,
real LMDB files, concurrent clients."""
import concurrent.futures
import json
import os
import signal
import subprocess
import time

import openai
import pytest

from conftest import BIN, Gateway, request
from test_streaming import open_stream, read_events

CHAT = "/v1/chat/completions"
RATE_HEADERS = ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"]


def chat(model="mock-gpt", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": "Hello"}]}
    body.update(extra)
    return body


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def usage_rows(gw, *args):
    out = gw.cli("usage", "--json", *args)
    assert out.returncode == 0, out.stderr
    return [json.loads(l) for l in out.stdout.splitlines()]


def burst(ports, key, n):
    def one(i):
        return request(ports[i % len(ports)], "POST", CHAT, chat(), headers=auth(key))[0]
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        return list(pool.map(one, range(n)))


def test_every_response_carries_rate_limit_headers(gateway):
    k = gateway.create_key("test", "headers", "--rpm", "1000", "--daily-tokens", "500000")
    status, headers, _ = request(gateway.port, "POST", CHAT, chat(), headers=auth(k))
    assert status == 200
    for name in RATE_HEADERS:
        assert name in headers, name
    assert headers["x-ratelimit-limit-requests"] == "1000"
    assert headers["x-ratelimit-limit-tokens"] == "500000"
    assert int(headers["x-ratelimit-remaining-tokens"]) < 500000
    # Errors after authentication carry them too.
    status, headers, _ = request(gateway.port, "POST", CHAT, chat("no-such-model"), headers=auth(k))
    assert status == 404 and "x-ratelimit-remaining-requests" in headers


def test_concurrent_admission_is_exact(gateway):
    k = gateway.create_key("test", "exact", "--rpm", "50")
    statuses = burst([gateway.port], k, 200)
    assert statuses.count(200) == 50, statuses
    assert statuses.count(429) == 150


def test_two_processes_share_counters_exactly(mock, gateway):
    second = Gateway(mock, gateway.data_dir)
    try:
        k = gateway.create_key("test", "two-proc", "--rpm", "60")
        statuses = burst([gateway.port, second.port], k, 200)
        assert statuses.count(200) == 60, statuses
    finally:
        second.stop()


def test_rate_limit_429_has_retry_after_and_sdk_raises(gateway):
    k = gateway.create_key("test", "sdk-429", "--rpm", "1")
    client = openai.OpenAI(api_key=k, base_url=gateway.base_url + "/v1", max_retries=0)
    client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "x"}])
    headers = e.value.response.headers
    assert int(headers["retry-after"]) >= 1
    for name in RATE_HEADERS:
        assert name in headers, name
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert "requests per minute" in e.value.message


def test_daily_tokens_exhausted_gives_429_until_midnight(gateway):
    k = gateway.create_key("test", "tokens", "--daily-tokens", "60")
    statuses = [request(gateway.port, "POST", CHAT, chat(), headers=auth(k)) for _ in range(4)]
    codes = [s for s, _, _ in statuses]
    assert codes[0] == 200 and 429 in codes
    status, headers, body = [r for r in statuses if r[0] == 429][0]
    assert "00:00 UTC" in body["error"]["message"]
    assert 0 < int(headers["retry-after"]) <= 86400


def test_ledger_and_usage_endpoint(gateway):
    k = gateway.create_key("test", "ledger", "--rpm", "10")
    s, _, body = request(gateway.port, "POST", CHAT, chat(), headers=auth(k))
    assert s == 200
    expected = body["usage"]["total_tokens"]
    # A streamed request where the client did not ask for usage is still counted exactly.
    sock = open_stream(gateway.port, k, chat(stream=True, mock={"words": 5}))
    list(read_events(sock))
    sock.close()
    status, headers, usage = request(gateway.port, "GET", "/v1/usage", headers=auth(k))
    assert status == 200 and usage["object"] == "usage"
    assert usage["today"]["requests"] == 2
    assert usage["today"]["total_tokens"] > expected
    assert usage["tokens"]["used"] == usage["today"]["total_tokens"]
    assert usage["requests"]["in_current_window"] >= 1
    key_id = usage["key_id"]
    rows = usage_rows(gateway, "--key", key_id, "--by", "model")
    assert rows == [r for r in rows if r["model"] == "mock-gpt"] and rows[0]["requests"] == 2
    assert rows[0]["estimated"] == 0


def test_disconnect_is_recorded_with_tokens_streamed(gateway):
    k = gateway.create_key("test", "disconnect")
    sock = open_stream(gateway.port, k, chat(stream=True, mock={"words": 200, "chunk_delay_ms": 20}))
    assert len(list(read_events(sock, limit=5))) == 5
    sock.close()
    time.sleep(0.5)
    _, _, usage = request(gateway.port, "GET", "/v1/usage", headers=auth(k))
    assert usage["today"]["client_disconnects"] == 1
    assert usage["today"]["completion_tokens"] >= 4       # the chunks that were streamed count
    assert usage["tokens"]["used"] > 0


def test_kill_9_under_load_loses_no_acknowledged_request(mock, tmp_path):
    gw = Gateway(mock, str(tmp_path))
    k = gw.create_key("test", "crash")
    acknowledged = 0
    stop = time.time() + 1.5
    def worker():
        n = 0
        while time.time() < stop:
            try:
                if request(gw.port, "POST", CHAT, chat(), headers=auth(k))[0] == 200:
                    n += 1
            except OSError:
                break
        return n
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(worker) for _ in range(8)]
        time.sleep(1.0)
        gw.proc.send_signal(signal.SIGKILL)
        acknowledged = sum(f.result() for f in futures)
    gw.proc.wait()
    assert acknowledged > 10
    rows = usage_rows(gw, "--by", "key")
    recorded_ok = sum(r["requests"] - r["client_disconnects"] - r["rejected"] - r["upstream_errors"] for r in rows)
    assert recorded_ok >= acknowledged


def test_usage_sync_setting(mock, tmp_path):
    """`--usage-sync-ms` bounds what a power loss can lose; 0 commits synchronously. Every
    acknowledged request is in the ledger either way; a bad value is refused with a message."""
    bad = subprocess.run([os.path.join(BIN, "switchyard"), "serve", "--usage-sync-ms", "-5", "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "--usage-sync-ms" in bad.stderr
    gw = Gateway(mock, str(tmp_path), extra_args=("--usage-sync-ms", "0"))
    try:
        k = gw.create_key("test", "sync")
        for _ in range(5):
            assert request(gw.port, "POST", CHAT, chat(), headers=auth(k))[0] == 200
        gw.proc.send_signal(signal.SIGKILL)
        gw.proc.wait()
        rows = usage_rows(gw, "--by", "key")
        assert sum(r["requests"] for r in rows) == 5
    finally:
        if gw.proc.poll() is None:
            gw.stop()
