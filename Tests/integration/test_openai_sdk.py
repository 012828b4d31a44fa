"""Client conformance: the official openai Python SDK pointed at the gateway, unchanged."""
import json

import openai
import pytest


@pytest.fixture
def client(gateway, key):
    return openai.OpenAI(api_key=key, base_url=gateway.base_url + "/v1", max_retries=0, timeout=30)


def test_chat_non_streaming(client):
    resp = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "Hello, Switchyard"}])
    assert resp.model == "mock-gpt"
    assert resp.choices[0].message.role == "assistant"
    assert "Hello, Switchyard" in resp.choices[0].message.content
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0


def test_chat_streaming(client):
    stream = client.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "Count"}],
                                            stream=True, stream_options={"include_usage": True})
    text, usage = "", None
    for chunk in stream:
        assert chunk.model == "mock-gpt"
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text.strip()
    assert usage is not None and usage.total_tokens > 0


def test_tool_call_round_trip(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    messages = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.chat.completions.create(model="mock-tools", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert "city" in args
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "6°C, rain"})
    second = client.chat.completions.create(model="mock-tools", messages=messages, tools=tools)
    assert second.choices[0].finish_reason == "stop"
    assert "6°C, rain" in second.choices[0].message.content


def test_streaming_tool_call(client):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]
    stream = client.chat.completions.create(model="mock-tools", messages=[{"role": "user", "content": "find it"}],
                                            tools=tools, stream=True)
    name, args, finish = None, "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        for tc in chunk.choices[0].delta.tool_calls or []:
            name = name or tc.function.name
            args += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "lookup" and "q" in json.loads(args) and finish == "tool_calls"


def test_sdk_errors_map_to_sdk_exceptions(gateway, key):
    base = gateway.base_url + "/v1"
    bad = openai.OpenAI(api_key="sk-sy-wrong", base_url=base, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 401

    free = openai.OpenAI(api_key=gateway.create_key("free", "sdk-free"), base_url=base, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        free.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])

    good = openai.OpenAI(api_key=key, base_url=base, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        good.chat.completions.create(model="does-not-exist", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError) as e:
        good.chat.completions.create(model="mock-gpt", messages="not-a-list")
    assert e.value.status_code == 400
    with pytest.raises(openai.InternalServerError) as e:
        good.chat.completions.create(model="mock-fault-500", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 502


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert "mock-gpt" in ids and "mock-retired" not in ids


def test_models_retrieve(client, gateway):
    # The SDK's models.retrieve is GET /v1/models/{model}: the same entry the list has.
    model = client.models.retrieve("mock-gpt")
    listed = {m.id: m for m in client.models.list()}
    assert model.id == "mock-gpt" and model.object == "model"
    assert model.owned_by == listed["mock-gpt"].owned_by and model.created == listed["mock-gpt"].created
    # An alias answers with the model's public id.
    assert client.models.retrieve("mock-gpt-latest").id == "mock-gpt"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("does-not-exist")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("mock-retired")
    free = openai.OpenAI(api_key=gateway.create_key("free", "sdk-retrieve-free"), base_url=gateway.base_url + "/v1",
                         max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        free.models.retrieve("gpt-4o")
