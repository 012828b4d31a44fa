"""The gateway over real HTTP against the real mock provider: routing, keys, errors, relaying."""
import http.client
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import BIN, Gateway, mock_stats, request

CHAT = "/v1/chat/completions"


def chat(model="mock-gpt", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": "Hello there"}]}
    body.update(extra)
    return body


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def assert_openai_error(body, code=None):
    assert isinstance(body, dict) and "error" in body, body
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert "type" in err and "code" in err and "param" in err
    if code:
        assert err["code"] == code, err


# --- routing and health -------------------------------------------------------------------

def test_healthz_needs_no_key(gateway):
    status, _, body = request(gateway.port, "GET", "/healthz")
    assert status == 200 and body == {"status": "ok"}


def test_unknown_path_is_404_in_openai_shape(gateway, key):
    status, _, body = request(gateway.port, "GET", "/v1/nope", headers=auth(key))
    assert status == 404
    assert_openai_error(body, "not_found")


def test_wrong_method_is_405(gateway, key):
    status, headers, body = request(gateway.port, "GET", CHAT, headers=auth(key))
    assert status == 405
    assert_openai_error(body)
    assert headers["allow"] == "POST"  # RFC 9110: a 405 says what the path takes
    status, headers, _ = request(gateway.port, "DELETE", "/v1/models", headers=auth(key))
    assert status == 405 and headers["allow"] == "GET, HEAD"


# --- keys -----------------------------------------------------------------------------------

def test_missing_key_is_401(gateway):
    status, _, body = request(gateway.port, "POST", CHAT, chat())
    assert status == 401
    assert_openai_error(body, "missing_api_key")


def test_invalid_key_is_401(gateway):
    status, _, body = request(gateway.port, "POST", CHAT, chat(), headers=auth("sk-sy-not-a-real-key"))
    assert status == 401
    assert_openai_error(body, "invalid_api_key")


def test_x_api_key_header_works(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat(), headers={"x-api-key": key})
    assert status == 200, body


def test_key_cli_prints_only_the_key_and_lists_without_secret(gateway):
    secret = gateway.create_key("free", "cli-check")
    assert secret.startswith("sk-sy-") and len(secret) >= 6 + 43 and "\n" not in secret
    listing = gateway.cli("keys", "list")
    assert listing.returncode == 0
    assert secret not in listing.stdout
    line = [l for l in listing.stdout.splitlines() if "cli-check" in l][0]
    assert line.startswith("key_")
    js = gateway.cli("keys", "list", "--json")
    records = [json.loads(l) for l in js.stdout.splitlines()]
    assert any(r["name"] == "cli-check" and r["plan"] == "free" and r["revoked"] is False for r in records)
    assert secret not in js.stdout


def test_revoked_key_is_refused_at_once_by_running_server(gateway):
    secret = gateway.create_key("test", "to-revoke")
    assert request(gateway.port, "POST", CHAT, chat(), headers=auth(secret))[0] == 200
    key_id = [l.split("\t")[0] for l in gateway.cli("keys", "list").stdout.splitlines() if "to-revoke" in l][0]
    assert gateway.cli("keys", "revoke", key_id).returncode == 0
    status, _, body = request(gateway.port, "POST", CHAT, chat(), headers=auth(secret))
    assert status == 401
    assert_openai_error(body, "revoked_api_key")
    assert key_id in body["error"]["message"]


def test_unknown_plan_is_refused_by_cli(gateway):
    out = gateway.cli("keys", "create", "--plan", "no-such-plan")
    assert out.returncode != 0 and "no-such-plan" in out.stderr and out.stdout == ""


def test_key_whose_plan_left_the_config_is_refused_clearly(gateway):
    secret = gateway.create_key("retired-plan", "orphan", "--force")
    status, _, body = request(gateway.port, "POST", CHAT, chat(), headers=auth(secret))
    assert status == 403
    assert "retired-plan" in body["error"]["message"]


# --- models and plans -----------------------------------------------------------------------

def test_models_lists_exactly_the_plan(gateway):
    free = gateway.create_key("free", "models-free")
    status, _, body = request(gateway.port, "GET", "/v1/models", headers=auth(free))
    assert status == 200 and body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert "mock-gpt" in ids and "gpt-4o-mini" in ids
    assert "gpt-4o" not in ids          # not on the free plan
    assert "mock-retired" not in ids    # inactive
    assert all(m["object"] == "model" and "owned_by" in m for m in body["data"])


def test_model_retrieve_by_path(gateway, key):
    status, headers, body = request(gateway.port, "GET", "/v1/models/mock-gpt", headers=auth(key))
    assert status == 200 and body == {"id": "mock-gpt", "object": "model", "created": body["created"],
                                      "owned_by": "mock"}
    assert "x-ratelimit-limit-requests" in headers
    # Percent-escapes are decoded; a query string is not part of the id.
    assert request(gateway.port, "GET", "/v1/models/mock%2Dgpt?x=1", headers=auth(key))[2]["id"] == "mock-gpt"
    status, _, body = request(gateway.port, "GET", "/v1/models/mock%ZZ", headers=auth(key))
    assert status == 404
    assert_openai_error(body, "model_not_found")
    status, _, body = request(gateway.port, "GET", "/v1/models/mock-retired", headers=auth(key))
    assert status == 404
    assert_openai_error(body, "model_inactive")
    # The key is checked before anything about the model is said.
    for path in ("/v1/models/mock-gpt", "/v1/models/mock%ZZ"):
        status, _, body = request(gateway.port, "GET", path)
        assert status == 401
        assert_openai_error(body, "missing_api_key")
    # The exact listing route still wins, and other methods on the parameter route are refused.
    assert request(gateway.port, "GET", "/v1/models/", headers=auth(key))[0] == 404
    assert request(gateway.port, "GET", "/v1/models", headers=auth(key))[2]["object"] == "list"
    status, _, body = request(gateway.port, "POST", "/v1/models/mock-gpt", {}, headers=auth(key))
    assert status == 405
    assert_openai_error(body, "method_not_allowed")
    assert request(gateway.port, "HEAD", "/v1/models/mock-gpt", headers=auth(key))[0] == 200


def test_model_not_on_plan_is_403(gateway):
    free = gateway.create_key("free", "plan-403")
    status, _, body = request(gateway.port, "POST", CHAT, chat("gpt-4o"), headers=auth(free))
    assert status == 403
    assert_openai_error(body, "model_not_allowed")
    assert "free" in body["error"]["message"]


def test_model_with_an_unpaired_surrogate_escape_is_an_answer_not_a_crash(gateway, key):
    # `\ud800` followed by another escape once made the id decoder trap: the process died.
    raw = b'{"model": "\\ud800\\n    ", "messages": [{"role": "user", "content": "hi"}]}'
    status, _, body = request(gateway.port, "POST", CHAT, raw=raw, headers=auth(key))
    assert status == 404
    assert_openai_error(body, "model_not_found")
    assert request(gateway.port, "GET", "/healthz")[0] == 200


def test_huge_max_tokens_is_an_answer_not_a_crash(gateway, key):
    # The reservation (prompt estimate + output cap) once overflowed on this and the process died.
    for field in ("max_tokens", "max_completion_tokens"):
        raw = (b'{"model": "mock-gpt", "%s": 9223372036854775807, "messages": [{"role": "user", "content": "hi"}]}'
               % field.encode())
        status, _, _ = request(gateway.port, "POST", CHAT, raw=raw, headers=auth(key))
        assert status == 200, status  # admitted: the default rule checks the limit, not the estimate
    assert request(gateway.port, "GET", "/healthz")[0] == 200


def test_unknown_model_is_404(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("no-such-model"), headers=auth(key))
    assert status == 404
    assert_openai_error(body, "model_not_found")


def test_inactive_model_is_404(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-retired"), headers=auth(key))
    assert status == 404
    assert_openai_error(body, "model_inactive")


def test_provider_without_secret_answers_502_without_leaking(gateway):
    pro = gateway.create_key("pro", "no-secret")
    status, _, body = request(gateway.port, "POST", CHAT, chat("gpt-4o"), headers=auth(pro))
    assert status == 502
    assert_openai_error(body, "provider_not_configured")
    assert "OPENAI_API_KEY" not in json.dumps(body)


# --- request validation ---------------------------------------------------------------------

@pytest.mark.parametrize("raw,param", [
    (b'{"model": "mock-gpt", "messages": [}', None),
    (b'', None),
    (b'[1,2]', None),
    (b'{"messages": []}', "model"),
    (b'{"model": "mock-gpt"}', "messages"),
    (b'{"model": 42, "messages": []}', "model"),
    # Cut inside an escape: the scanner used to spin on the event loop forever on this one.
    (b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "caf\\u00', None),
])
def test_bad_request_is_400(gateway, key, raw, param):
    status, _, body = request(gateway.port, "POST", CHAT, raw=raw, headers=auth(key))
    assert status == 400
    assert_openai_error(body)
    if param:
        assert body["error"]["param"] == param


def test_body_over_limit_is_413(gateway, key):
    big = b'{"model":"mock-gpt","messages":[{"role":"user","content":"' + b"x" * (33 * 1024 * 1024) + b'"}]}'
    status, _, body = request(gateway.port, "POST", CHAT, raw=big, headers=auth(key))
    assert status == 413
    assert_openai_error(body, "request_too_large")


# --- relaying -------------------------------------------------------------------------------

def test_chat_rewrites_model_both_ways(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-gpt"), headers=auth(key))
    assert status == 200, body
    assert body["object"] == "chat.completion"
    assert body["model"] == "mock-gpt"           # public id back to the client
    assert body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] > 0


def test_upstream_sees_upstream_id_and_no_client_key(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-gpt", mock={"echo_headers": True}), headers=auth(key))
    assert status == 200, body
    seen = body["mock_received_headers"]
    assert key not in json.dumps(seen)
    assert "authorization" not in seen and "x-api-key" not in seen
    assert body["mock_received_model"] == "mock-gpt-1"
    assert seen.get("expect", "") == ""


def test_large_body_is_forwarded_intact(gateway, key):
    text = "lorem ipsum " * 9000  # ~100 KB
    body = chat("mock-gpt")
    body["messages"] = [{"role": "system", "content": "You are a coding agent."}, {"role": "user", "content": text}]
    status, _, direct = request(gateway.mock_port, "POST", "/v1/chat/completions", dict(body, model="mock-gpt-1"))
    status2, _, through = request(gateway.port, "POST", CHAT, body, headers=auth(key))
    assert status == 200 and status2 == 200
    assert through["usage"]["prompt_tokens"] == direct["usage"]["prompt_tokens"]


def fnv1a64(data: bytes) -> str:
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@pytest.mark.parametrize("order,stream,lines", [
    (("model", "messages", "mock"), False, 120),      # model first
    (("messages", "mock", "model"), False, 120),      # model last, as the OpenAI Python SDK sends it
    (("messages", "model", "mock", "tools"), False, 120),  # model between two large members
    (("mock", "messages", "model", "stream"), True, 120),  # plus stream_options added at the front
    (("messages", "model", "mock", "stream"), True, 2),    # small: copied rather than edited in place
])
def test_body_arrives_byte_for_byte_with_only_the_edits(gateway, key, order, stream, lines):
    # The body is edited in place in the buffer it was received into (model rewritten, maybe
    # stream_options added): the provider must get exactly the client's bytes with those edits.
    messages = json.dumps([{"role": "user", "content": f"line {i}: " + "ä\\\"x" * 300} for i in range(lines)])
    members = {"model": '"mock-gpt"', "messages": messages, "mock": '{"echo_headers":true}',
               "tools": json.dumps([{"type": "function", "function": {"name": f"t{i}", "description": "d" * 400}} for i in range(40)]),
               "stream": "true"}
    sent = ("{" + ",".join(f'"{name}":{members[name]}' for name in order) + "}").encode()
    assert (len(sent) > 100_000) == (lines > 100) and sent.count(b'"model":"mock-gpt"') == 1
    expected = sent.replace(b'"model":"mock-gpt"', b'"model":"mock-gpt-1"')
    if stream:
        expected = b'{"stream_options":{"include_usage":true},' + expected[1:]
    status, _, answer = request(gateway.port, "POST", CHAT, raw=sent, headers=auth(key))
    assert status == 200
    if stream:
        first = next(line for line in answer.decode().splitlines() if line.startswith("data: {"))
        answer = json.loads(first[len("data: "):])
    assert answer["mock_received_body_bytes"] == len(expected)
    assert answer["mock_received_body_fnv1a64"] == fnv1a64(expected)


def test_keep_alive_serves_several_requests_on_one_connection(gateway, key):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    for _ in range(3):
        conn.request("POST", CHAT, body=json.dumps(chat()), headers={**auth(key), "Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        json.loads(resp.read())
    conn.close()


# --- provider failures ----------------------------------------------------------------------

def test_provider_500_is_502(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-fault-500"), headers=auth(key))
    assert status == 502
    assert_openai_error(body, "upstream_error")
    assert "mock" in body["error"]["message"]


def test_provider_429_passes_through_with_retry_after(gateway, key):
    status, headers, body = request(gateway.port, "POST", CHAT, chat("mock-fault-429"), headers=auth(key))
    assert status == 429
    assert headers.get("retry-after") == "7"
    assert "provider" in body["error"]["message"] and "not your plan" in body["error"]["message"]


def test_provider_400_passes_through_with_its_message(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-fault-400"), headers=auth(key))
    assert status == 400
    assert body["error"]["param"] == "temperature"
    assert "temperature" in body["error"]["message"]


def test_malformed_provider_body_is_502(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-fault-malformed"), headers=auth(key))
    assert status == 502
    assert_openai_error(body, "upstream_malformed_response")


def test_provider_disconnect_is_502(gateway, key):
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-fault-disconnect"), headers=auth(key))
    assert status == 502
    assert_openai_error(body)


def test_provider_hang_is_504(gateway, key):
    start = time.time()
    status, _, body = request(gateway.port, "POST", CHAT, chat("mock-fault-hang"), headers=auth(key))
    assert status == 504
    assert_openai_error(body, "upstream_timeout")
    assert time.time() - start < 20


def test_unreachable_provider_is_502(mock, tmp_path):
    gw = Gateway(mock, str(tmp_path), extra_env={"SWITCHYARD_MOCK_BASE_URL": "http://127.0.0.1:9/v1"})
    try:
        k = gw.create_key("test")
        status, _, body = request(gw.port, "POST", CHAT, chat(), headers=auth(k))
        assert status == 502
        assert_openai_error(body, "upstream_unreachable")
    finally:
        gw.stop()


def test_missing_secrets_reported_once_and_set_secrets_never_logged(mock, tmp_path):
    secret = "sk-cerebras-test-secret-value-123"
    gw = Gateway(mock, str(tmp_path), extra_env={"CEREBRAS_API_KEY": secret})
    try:
        k = gw.create_key("pro")
        # A provider with its secret set is reachable in principle (here it fails to connect, as
        # there is no internet), and the secret shows up nowhere in the answer.
        status, _, body = request(gw.port, "POST", CHAT, chat("gpt-4o"), headers=auth(k))
        assert status == 502 and secret not in json.dumps(body)
    finally:
        gw.stop()
    stderr = gw.proc.stderr.read()
    assert stderr.count("OPENAI_API_KEY is not set") == 1
    assert "CEREBRAS_API_KEY" not in stderr
    assert secret not in stderr


def test_upstream_connections_are_reused(gateway, key):
    before = mock_stats(gateway.mock_port)["connections_opened"]
    for _ in range(20):
        assert request(gateway.port, "POST", CHAT, chat(), headers=auth(key))[0] == 200
    opened = mock_stats(gateway.mock_port)["connections_opened"] - before
    # 20 calls over kept-alive upstream connections (+1 for the stats request itself).
    assert opened <= 3, opened


@pytest.mark.parametrize("args,says", [
    (["--threads", "0"], "--threads must be from 1 to 256"),
    (["--threads", "100000"], "--threads must be from 1 to 256"),
    (["--request-timeout-ms", "0"], "--request-timeout-ms must be at least 1"),
    (["--idle-timeout-ms", "0"], "--idle-timeout-ms must be at least 1"),
    (["--listen", ":8080"], "give a host before the port"),
    (["--listen", "::1:8080"], "IPv6 address in brackets"),
    (["--listen", "127.0.0.1:99999"], "port must be a number from 0 to 65535"),
])
def test_serve_refuses_bad_settings_before_starting(tmp_path, args, says):
    # `--threads 0` used to trap inside NIO; a zero timeout started a gateway that could not
    # answer. Refused with the setting's name before anything starts.
    import os
    import subprocess
    from conftest import BIN
    out = subprocess.run([os.path.join(BIN, "switchyard"), "serve", *args, "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode != 0 and says in out.stderr, out.stderr
    assert "listening" not in out.stdout


def test_compressed_request_body_gets_415_saying_to_send_it_uncompressed(gateway, key):
    import gzip
    raw = gzip.compress(json.dumps(chat()).encode())
    status, headers, body = request(gateway.port, "POST", CHAT, raw=raw,
                                    headers={**auth(key), "Content-Encoding": "gzip"})
    assert status == 415, body
    assert body["error"]["code"] == "unsupported_content_encoding"
    assert "gzip" in body["error"]["message"] and "uncompressed" in body["error"]["message"]
    assert headers.get("accept-encoding") == "identity"
    # `identity` is no encoding at all.
    status, _, body = request(gateway.port, "POST", CHAT, chat(), headers={**auth(key), "Content-Encoding": "identity"})
    assert status == 200, body
    # The key is checked first: an unknown caller learns nothing about the body.
    status, _, _ = request(gateway.port, "POST", CHAT, raw=raw, headers={"Content-Encoding": "gzip"})
    assert status == 401


def test_base_url_override_log_hides_credentials(mock, tmp_path):
    """The start-up log names the override without the `user:password@` part."""
    gw = Gateway(mock, str(tmp_path), extra_env={
        "SWITCHYARD_OPENAI_BASE_URL": "https://svc:hunter2@egress.example/v1/"})
    try:
        key = gw.create_key("test", "override")
        assert request(gw.port, "POST", CHAT, chat(), headers=auth(key))[0] == 200  # mock unaffected
    finally:
        gw.stop()
    log = gw.proc.stderr.read()
    assert "base URL overridden by SWITCHYARD_OPENAI_BASE_URL → https://…@egress.example/v1" in log, log
    assert "hunter2" not in log


@pytest.mark.parametrize("value", ["egress.example/v1", "https://gateway.example/v1?key=AIzaSECRET", "https:///v1"])
def test_base_url_override_that_is_not_a_base_url_stops_start_up(tmp_path, value):
    out = subprocess.run([os.path.join(BIN, "switchyard"), "serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path)],
                         env={**os.environ, "SWITCHYARD_GEMINI_BASE_URL": value}, capture_output=True, text=True, timeout=20)
    assert out.returncode == 1
    assert "SWITCHYARD_GEMINI_BASE_URL must be" in out.stderr
    assert "AIzaSECRET" not in out.stderr
