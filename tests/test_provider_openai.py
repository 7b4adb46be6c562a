"""The OpenAI provider, with the real SDK over real HTTP to the loopback wire server."""

from __future__ import annotations

import asyncio
import json
import time
import traceback
import urllib.request
from typing import Any

import pytest
from conftest import FAKE_KEY
from wire_server import PLAIN_TEXT, SAMPLE_MARKDOWN, Scenario, WireServer, free_port

import llmwidgets
from llmwidgets.chunks import Message, Request, StreamChunk, Usage
from llmwidgets.errors import (
    AuthenticationError,
    InvalidRequestError,
    LLMWidgetsError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from llmwidgets.providers.base import ProviderConfig, create_provider
from llmwidgets.providers.openai import OpenAIProvider, ollama_base_url

pytestmark = pytest.mark.usefixtures("fake_api_keys")


def openai_provider(server: WireServer, name: str = "openai") -> OpenAIProvider:
    return OpenAIProvider(ProviderConfig(name, base_url=server.openai_base_url))


def request(model: str, **kw: object) -> Request:
    return Request(model=model, messages=[Message("user", "Hi")], **kw)  # type: ignore[arg-type]


async def collect(provider: OpenAIProvider, model: str, **kw: object) -> list[StreamChunk]:
    return [c async for c in provider.stream(request(model, **kw))]


async def failure(provider: OpenAIProvider, model: str, **kw: object) -> LLMWidgetsError:
    with pytest.raises(LLMWidgetsError) as info:
        await collect(provider, model, **kw)
    return info.value


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    """The headless API, where `%%llm -t 0.5`, `Pane(..., temperature=0.5)` and widgets end up."""
    return await llmwidgets.complete(
        f"openai:{model}", "Hi", base_url=server.openai_base_url, **options
    )


# ---------------------------------------------------------------- streaming


async def test_registry_builds_the_openai_provider_for_openai_and_ollama() -> None:
    assert isinstance(create_provider(ProviderConfig("openai")), OpenAIProvider)
    assert isinstance(create_provider(ProviderConfig("ollama")), OpenAIProvider)


async def test_multibyte_text_split_inside_characters_arrives_whole(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), "plain-text")
    assert "".join(c.delta for c in chunks) == "".join(PLAIN_TEXT)


async def test_usage_only_final_chunk_becomes_usage(wire_server: WireServer) -> None:
    chunks = await collect(openai_provider(wire_server), "plain-text")
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=34)
    assert wire_server.requests[0].body["stream_options"] == {"include_usage": True}


async def test_finish_reason_arrives_normalised_with_the_raw_value(wire_server: WireServer) -> None:
    chunks = await collect(openai_provider(wire_server), "length")
    finished = [c for c in chunks if c.finish_reason]
    assert [(c.finish_reason, c.raw_finish_reason) for c in finished] == [("length", "length")]


async def test_chunks_carry_the_model_the_server_named(wire_server: WireServer) -> None:
    chunks = await collect(openai_provider(wire_server), "plain-text")
    assert {c.model for c in chunks} == {"plain-text"}


async def test_interleaved_tool_calls_are_assembled_by_index(wire_server: WireServer) -> None:
    chunks = await collect(openai_provider(wire_server), "tool-calls")
    final = next(c for c in chunks if c.finish_reason)
    assert final.finish_reason == "tool_calls"
    assert [(t.index, t.id, t.name, t.parsed_arguments) for t in final.tool_calls] == [
        (0, "call_weather_1", "get_weather", {"city": "Paris", "unit": "celsius"}),
        (1, "call_time_2", "get_time", {"tz": "Europe/Paris"}),
    ]


async def test_tool_call_snapshots_do_not_change_after_they_are_yielded(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), "tool-calls")
    first = next(c for c in chunks if c.tool_calls)
    assert first.tool_calls[0].arguments == ""


async def test_reasoning_content_goes_to_thinking_not_to_the_answer(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), "thinking")
    assert "".join(c.thinking for c in chunks) == "The user wants a greeting. Keep it short."
    assert "".join(c.delta for c in chunks) == "Hi there!"


async def test_stream_without_done_ends_with_no_finish_reason(wire_server: WireServer) -> None:
    chunks = await collect(openai_provider(wire_server), "no-end")
    assert "".join(c.delta for c in chunks) == "Partial answer"
    assert not any(c.finish_reason for c in chunks)


# ---------------------------------------------------------------- the request


async def test_system_prompt_becomes_the_leading_system_message(wire_server: WireServer) -> None:
    await collect(openai_provider(wire_server), "plain-text", system="Be brief.")
    messages = wire_server.requests[0].body["messages"]
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


async def test_options_and_tools_are_passed_through(wire_server: WireServer) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    options = {"top_p": 0.5, "seed": 7, "stop": ["END"], "num_ctx": 4096}
    await collect(
        openai_provider(wire_server),
        "plain-text",
        options=options,
        tools=tools,
        temperature=0.2,
        max_tokens=50,
    )
    body = wire_server.requests[0].body
    assert {k: body[k] for k in options} == options  # num_ctx travels in extra_body
    assert (body["tools"], body["temperature"], body["max_tokens"]) == (tools, 0.2, 50)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        pytest.param({"temperature": 0.5}, {"temperature": 0.5}, id="temperature"),
        pytest.param({"temperature": 0}, {"temperature": 0}, id="temperature-zero"),
        pytest.param({"max_tokens": 100}, {"max_tokens": 100}, id="max_tokens"),
        pytest.param(
            {"system": "Be brief."},
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                ]
            },
            id="system",
        ),
        pytest.param({"stop": ["END", "##"]}, {"stop": ["END", "##"]}, id="stop"),
        pytest.param({"stop": "END"}, {"stop": "END"}, id="stop-string"),
        pytest.param({"stop_sequences": ["END"]}, {"stop": ["END"]}, id="stop_sequences"),
        pytest.param({"top_p": 0.9}, {"top_p": 0.9}, id="top_p"),
    ],
)
async def test_each_documented_option_reaches_the_request_body(
    wire_server: WireServer, given: dict[str, Any], sent: dict[str, Any]
) -> None:
    await complete(wire_server, "plain-text", **given)
    body = wire_server.requests[0].body
    assert {k: body.get(k) for k in sent} == sent


async def test_unset_sampling_options_are_not_sent(wire_server: WireServer) -> None:
    await complete(wire_server, "plain-text")
    assert not {"temperature", "top_p", "stop", "max_tokens"} & set(wire_server.requests[0].body)


async def test_a_callers_extra_body_is_merged_with_options_the_sdk_does_not_name(
    wire_server: WireServer,
) -> None:
    await complete(wire_server, "plain-text", num_ctx=4096, extra_body={"custom_flag": True})
    body = wire_server.requests[0].body
    assert (body["num_ctx"], body["custom_flag"]) == (4096, True)


async def test_official_openai_gets_max_completion_tokens() -> None:
    provider = OpenAIProvider(ProviderConfig("openai"))
    kwargs = provider._kwargs(request("gpt-4o-mini", max_tokens=50))
    assert kwargs["max_completion_tokens"] == 50 and "max_tokens" not in kwargs


async def test_sdk_retries_are_off(wire_server: WireServer) -> None:
    with pytest.raises(ProviderError):
        await collect(openai_provider(wire_server), "http-500")
    assert len(wire_server.requests) == 1


async def test_server_rejecting_stream_options_is_asked_again_without_them(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), "rejects-stream-options")
    assert "".join(c.delta for c in chunks) == "Hello without usage"
    assert chunks[-1].finish_reason == "stop"
    sent = ["stream_options" in r.body for r in wire_server.requests]
    assert sent == [True, False]


async def test_refused_stream_options_are_not_sent_again(wire_server: WireServer) -> None:
    provider = openai_provider(wire_server)
    await collect(provider, "rejects-stream-options")
    await collect(provider, "rejects-stream-options")
    assert len(wire_server.requests) == 3


# ---------------------------------------------------------------- errors


async def test_missing_key_fails_before_any_request_naming_the_env_var(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    err = await failure(openai_provider(wire_server), "plain-text")
    assert isinstance(err, AuthenticationError) and err.env_var == "OPENAI_API_KEY"
    assert (err.provider, err.model) == ("openai", "plain-text")
    assert "OPENAI_API_KEY" in err.message
    assert wire_server.requests == []


async def test_configured_key_env_var_is_the_one_named(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_PROXY_KEY", raising=False)
    config = ProviderConfig(
        "openai", base_url=wire_server.openai_base_url, api_key_env="MY_PROXY_KEY"
    )
    err = await failure(OpenAIProvider(config), "plain-text")
    assert isinstance(err, AuthenticationError) and err.env_var == "MY_PROXY_KEY"


async def test_401_names_the_env_var_to_fix(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "http-401")
    assert isinstance(err, AuthenticationError) and err.env_var == "OPENAI_API_KEY"
    assert "OPENAI_API_KEY" in err.message


async def test_403_is_an_authentication_error(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "http-403")
    assert isinstance(err, AuthenticationError)


async def test_404_names_the_missing_model(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "gpt-nonexistent")
    assert isinstance(err, ModelNotFoundError)
    assert "gpt-nonexistent" in err.message
    assert (err.provider, err.model) == ("openai", "gpt-nonexistent")


async def test_429_carries_retry_after_from_the_header(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "http-429")
    assert isinstance(err, RateLimitError) and err.retry_after == 7


async def test_500_is_a_provider_error_with_its_status(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "http-500")
    assert isinstance(err, ProviderError) and err.status_code == 500


REFUSAL = "Unsupported value: 'temperature' does not support 0.5 with this model."


@pytest.mark.parametrize("status", [400, 422])  # 422: compatible servers' validation errors
async def test_a_refused_option_reaches_the_user_in_the_apis_words_with_no_partial_text(
    wire_server: WireServer, status: int
) -> None:
    model = wire_server.scenario(Scenario(status=status, error_message=REFUSAL))
    with pytest.raises(InvalidRequestError) as info:
        await complete(wire_server, model, temperature=0.5)
    assert REFUSAL.rstrip(".") in info.value.message and info.value.status_code == status
    assert info.value.partial_text == ""


async def test_a_refused_request_names_the_options_that_were_sent(wire_server: WireServer) -> None:
    model = wire_server.scenario(Scenario(status=400, error_message=REFUSAL))
    with pytest.raises(InvalidRequestError) as info:
        await complete(wire_server, model, temperature=0.5, top_p=0.9)
    assert "Options sent: temperature, top_p." in info.value.message


async def test_error_event_mid_stream_is_a_provider_error_with_its_message(
    wire_server: WireServer,
) -> None:
    err = await failure(openai_provider(wire_server), "error-mid-stream")
    assert isinstance(err, ProviderError) and "Overloaded" in err.message


async def test_connection_cut_mid_stream_is_an_interruption(wire_server: WireServer) -> None:
    err = await failure(openai_provider(wire_server), "cut-mid-stream")
    assert isinstance(err, StreamInterruptedError)


async def test_stall_longer_than_the_timeout_is_a_timeout(wire_server: WireServer) -> None:
    started = time.monotonic()
    err = await failure(openai_provider(wire_server), "stall", timeout=0.3)
    assert isinstance(err, StreamTimeoutError) and err.timeout == 0.3
    assert time.monotonic() - started < 2


async def test_unreachable_server_is_named_in_the_error() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    err = await failure(OpenAIProvider(ProviderConfig("openai", base_url=base_url)), "m")
    assert isinstance(err, ProviderError)
    assert base_url in err.message and "not reachable" in err.message


@pytest.mark.parametrize(
    "model", ["http-401", "http-403", "http-404", "http-429", "http-500", "error-mid-stream"]
)
async def test_no_error_text_contains_the_api_key(wire_server: WireServer, model: str) -> None:
    err = await failure(openai_provider(wire_server), model)
    text = "".join(traceback.format_exception(err))
    assert FAKE_KEY not in text
    assert wire_server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


# ---------------------------------------------------------------- closing


async def test_cancelling_the_consumer_closes_the_connection_within_100ms(
    wire_server: WireServer,
) -> None:
    provider = openai_provider(wire_server)
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(request("slow")):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    disconnect = await wire_server.until_disconnect(timeout=2)
    assert disconnect.at - cancelled_at < 0.1


async def test_aclose_closes_the_connection_within_100ms(wire_server: WireServer) -> None:
    stream = openai_provider(wire_server).stream(request("slow"))
    await stream.__anext__()
    closed_at = time.monotonic()
    await stream.aclose()
    disconnect = await wire_server.until_disconnect(timeout=2)
    assert disconnect.at - closed_at < 0.1


# ---------------------------------------------------------------- ollama and the wire server


async def test_ollama_needs_no_key(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    chunks = await collect(openai_provider(wire_server, "ollama"), "plain-text")
    assert chunks[-1].usage is not None


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("", "http://localhost:11434/v1"),
        ("0.0.0.0:9999", "http://0.0.0.0:9999/v1"),
        ("https://gpu-box:11434/", "https://gpu-box:11434/v1"),
    ],
)
def test_ollama_base_url_follows_ollama_host(
    monkeypatch: pytest.MonkeyPatch, host: str, url: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", host)
    assert ollama_base_url() == url


async def test_text_model_streams_registered_text_in_pieces_of_chunk_characters(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), wire_server.text_model("sample", chunk=7))
    pieces = [c.delta for c in chunks if c.delta]
    assert "".join(pieces) == SAMPLE_MARKDOWN
    assert {len(p) for p in pieces[:-1]} == {7}


async def test_another_process_can_register_text_and_scenarios_over_http(
    wire_server: WireServer,
) -> None:
    def put(path: str, data: bytes) -> dict[str, str]:
        req = urllib.request.Request(f"{wire_server.url}{path}", data=data, method="PUT")
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    text_model = (await asyncio.to_thread(put, "/control/texts/doc", "# Hi 🎉".encode()))["model"]
    scenario = json.dumps({"text": ["a", "b"], "finish_reason": "length"}).encode()
    sc_model = (await asyncio.to_thread(put, "/control/scenarios/mine", scenario))["model"]
    provider = openai_provider(wire_server)
    assert "".join(c.delta for c in await collect(provider, text_model)) == "# Hi 🎉"
    assert (await collect(provider, sc_model))[-2].finish_reason == "length"


async def test_custom_scenario_is_selected_by_the_returned_model_name(
    wire_server: WireServer,
) -> None:
    model = wire_server.scenario(Scenario(text=["only ", "this"]))
    chunks = await collect(openai_provider(wire_server), model)
    assert "".join(c.delta for c in chunks) == "only this"
