"""The Anthropic provider, with the real SDK over real HTTP to the loopback wire server."""

from __future__ import annotations

import asyncio
import time
import traceback
from typing import Any

import pytest
from conftest import FAKE_KEY
from wire_server import PLAIN_TEXT, Scenario, WireServer, free_port

import llmwidgets
from llmwidgets.chunks import Message, Request, StreamChunk, ToolCall, Usage
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
from llmwidgets.providers.anthropic import AnthropicProvider
from llmwidgets.providers.base import ProviderConfig, create_provider

pytestmark = pytest.mark.usefixtures("fake_api_keys")


def anthropic_provider(server: WireServer) -> AnthropicProvider:
    return AnthropicProvider(ProviderConfig("anthropic", base_url=server.anthropic_base_url))


def request(model: str, **kw: object) -> Request:
    kw.setdefault("messages", [Message("user", "Hi")])
    return Request(model=model, **kw)  # type: ignore[arg-type]


async def collect(provider: AnthropicProvider, model: str, **kw: object) -> list[StreamChunk]:
    return [c async for c in provider.stream(request(model, **kw))]


async def failure(provider: AnthropicProvider, model: str, **kw: object) -> LLMWidgetsError:
    with pytest.raises(LLMWidgetsError) as info:
        await collect(provider, model, **kw)
    return info.value


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    """The headless API, where `%%llm -t 0.5`, `Pane(..., temperature=0.5)` and widgets end up."""
    return await llmwidgets.complete(
        f"anthropic:{model}", "Hi", base_url=server.anthropic_base_url, **options
    )


# ---------------------------------------------------------------- streaming


async def test_registry_builds_the_anthropic_provider() -> None:
    assert isinstance(create_provider(ProviderConfig("anthropic")), AnthropicProvider)


async def test_multibyte_text_split_inside_characters_arrives_whole(
    wire_server: WireServer,
) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    assert "".join(c.delta for c in chunks) == "".join(PLAIN_TEXT)


async def test_final_chunk_carries_finish_reason_and_usage(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    last = chunks[-1]
    assert (last.finish_reason, last.raw_finish_reason) == ("stop", "end_turn")
    assert last.usage == Usage(input_tokens=12, output_tokens=34)


async def test_only_the_final_chunk_has_a_finish_reason(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    assert [c.finish_reason for c in chunks].count(None) == len(chunks) - 1


async def test_max_tokens_stop_reason_reads_as_length(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "length")
    assert (chunks[-1].finish_reason, chunks[-1].raw_finish_reason) == ("length", "max_tokens")


async def test_thinking_goes_to_thinking_never_into_the_answer(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "thinking")
    assert "".join(c.thinking for c in chunks) == "The user wants a greeting. Keep it short."
    assert "".join(c.delta for c in chunks) == "Hi there!"


async def test_ping_events_yield_nothing(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    assert all(c.delta or c.finish_reason for c in chunks)


async def test_tool_use_blocks_become_tool_calls_indexed_from_zero(
    wire_server: WireServer,
) -> None:
    chunks = await collect(anthropic_provider(wire_server), "tool-calls")
    last = chunks[-1]
    assert last.finish_reason == "tool_calls"
    assert [(t.index, t.name, t.parsed_arguments) for t in last.tool_calls] == [
        (0, "get_weather", {"city": "Paris", "unit": "celsius"}),
        (1, "get_time", {"tz": "Europe/Paris"}),
    ]
    assert [t.id for t in last.tool_calls] == ["toolu_weather_1", "toolu_time_2"]


async def test_tool_call_arguments_grow_chunk_by_chunk(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "tool-calls")
    seen = [c.tool_calls[0].arguments for c in chunks if c.tool_calls]
    assert seen[0] == "" and seen[-1] == '{"city": "Paris", "unit": "celsius"}'


async def test_stream_without_message_stop_ends_with_no_finish_reason(
    wire_server: WireServer,
) -> None:
    chunks = await collect(anthropic_provider(wire_server), "no-end")
    assert "".join(c.delta for c in chunks) == "Partial answer"
    assert not any(c.finish_reason for c in chunks)


# ---------------------------------------------------------------- the request


async def test_max_tokens_defaults_to_4096(wire_server: WireServer) -> None:
    await collect(anthropic_provider(wire_server), "plain-text")
    assert wire_server.requests[0].body["max_tokens"] == 4096


async def test_system_prompts_go_to_the_system_field(wire_server: WireServer) -> None:
    messages = [Message("system", "Use French."), Message("user", "Hi")]
    await collect(
        anthropic_provider(wire_server), "plain-text", system="Be brief.", messages=messages
    )
    body = wire_server.requests[0].body
    assert body["system"] == "Be brief.\n\nUse French."
    assert body["messages"] == [{"role": "user", "content": "Hi"}]


async def test_tool_calls_and_results_become_content_blocks(wire_server: WireServer) -> None:
    call = ToolCall(index=0, id="toolu_1", name="get_weather", arguments='{"city": "Paris"}')
    messages = [
        Message("user", "Weather?"),
        Message("assistant", "", tool_calls=[call]),
        Message("tool", "18 °C", tool_call_id="toolu_1"),
    ]
    await collect(anthropic_provider(wire_server), "plain-text", messages=messages)
    assert wire_server.requests[0].body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 °C"}],
        },
    ]


async def test_openai_style_tools_are_converted(wire_server: WireServer) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [
        {
            "type": "function",
            "function": {"name": "w", "description": "Weather", "parameters": schema},
        }
    ]
    await collect(anthropic_provider(wire_server), "plain-text", tools=tools)
    assert wire_server.requests[0].body["tools"] == [
        {"name": "w", "description": "Weather", "input_schema": schema}
    ]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        pytest.param({"temperature": 0.5}, {"temperature": 0.5}, id="temperature"),
        pytest.param({"temperature": 0}, {"temperature": 0}, id="temperature-zero"),
        pytest.param({"max_tokens": 100}, {"max_tokens": 100}, id="max_tokens"),
        pytest.param({"system": "Be brief."}, {"system": "Be brief."}, id="system"),
        pytest.param({"stop": ["END", "##"]}, {"stop_sequences": ["END", "##"]}, id="stop"),
        pytest.param({"stop": "END"}, {"stop_sequences": ["END"]}, id="stop-string"),
        pytest.param({"stop_sequences": ["END"]}, {"stop_sequences": ["END"]}, id="stop_sequences"),
        pytest.param({"top_p": 0.9}, {"top_p": 0.9}, id="top_p"),
        pytest.param({"top_k": 5}, {"top_k": 5}, id="top_k"),
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
    sampling = {"temperature", "top_p", "top_k", "stop_sequences"}
    assert not sampling & set(wire_server.requests[0].body)


async def test_a_callers_extra_body_is_merged_with_options_the_sdk_does_not_name(
    wire_server: WireServer,
) -> None:
    await complete(wire_server, "plain-text", temperature=0.5, extra_body={"custom_flag": True})
    body = wire_server.requests[0].body
    assert (body["temperature"], body["custom_flag"]) == (0.5, True)


async def test_options_pass_through_and_stop_becomes_stop_sequences(
    wire_server: WireServer,
) -> None:
    options = {"top_k": 5, "stop": "END", "custom_flag": True}
    await collect(anthropic_provider(wire_server), "plain-text", options=options)
    body = wire_server.requests[0].body
    assert (body["top_k"], body["stop_sequences"], body["custom_flag"]) == (5, ["END"], True)


# ---------------------------------------------------------------- errors


async def test_missing_key_fails_before_any_request_naming_the_env_var(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    err = await failure(anthropic_provider(wire_server), "plain-text")
    assert isinstance(err, AuthenticationError) and err.env_var == "ANTHROPIC_API_KEY"
    assert "ANTHROPIC_API_KEY" in err.message
    assert wire_server.requests == []


async def test_401_names_the_env_var_to_fix(wire_server: WireServer) -> None:
    err = await failure(anthropic_provider(wire_server), "http-401")
    assert isinstance(err, AuthenticationError) and "ANTHROPIC_API_KEY" in err.message


async def test_404_names_the_missing_model(wire_server: WireServer) -> None:
    err = await failure(anthropic_provider(wire_server), "claude-nonexistent")
    assert isinstance(err, ModelNotFoundError) and "claude-nonexistent" in err.message
    assert (err.provider, err.model) == ("anthropic", "claude-nonexistent")


async def test_429_carries_retry_after_from_the_header(wire_server: WireServer) -> None:
    err = await failure(anthropic_provider(wire_server), "http-429")
    assert isinstance(err, RateLimitError) and err.retry_after == 7


async def test_500_is_a_provider_error_with_its_status(wire_server: WireServer) -> None:
    err = await failure(anthropic_provider(wire_server), "http-500")
    assert isinstance(err, ProviderError) and err.status_code == 500


REFUSAL = "temperature is not supported for this model"


async def test_a_refused_option_reaches_the_user_in_the_apis_words_with_no_partial_text(
    wire_server: WireServer,
) -> None:
    model = wire_server.scenario(Scenario(status=400, error_message=REFUSAL))
    with pytest.raises(InvalidRequestError) as info:
        await complete(wire_server, model, temperature=0.5)
    assert REFUSAL in info.value.message and info.value.status_code == 400
    assert info.value.partial_text == ""


async def test_a_refused_request_names_the_options_that_were_sent(wire_server: WireServer) -> None:
    model = wire_server.scenario(Scenario(status=400, error_message=REFUSAL))
    with pytest.raises(InvalidRequestError) as info:
        await complete(wire_server, model, temperature=0.5, top_p=0.9)
    assert "Options sent: temperature, top_p." in info.value.message


async def test_overloaded_error_event_mid_stream_is_a_provider_error(
    wire_server: WireServer,
) -> None:
    err = await failure(anthropic_provider(wire_server), "error-mid-stream")
    assert isinstance(err, ProviderError) and err.status_code == 529
    assert "Overloaded" in err.message


async def test_connection_cut_mid_stream_is_an_interruption(wire_server: WireServer) -> None:
    err = await failure(anthropic_provider(wire_server), "cut-mid-stream")
    assert isinstance(err, StreamInterruptedError)
    assert "incomplete chunked read" in err.message


async def test_stall_longer_than_the_timeout_is_a_timeout(wire_server: WireServer) -> None:
    started = time.monotonic()
    err = await failure(anthropic_provider(wire_server), "stall", timeout=0.3)
    assert isinstance(err, StreamTimeoutError) and err.timeout == 0.3
    assert time.monotonic() - started < 2


async def test_unreachable_server_is_named_in_the_error() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"
    provider = AnthropicProvider(ProviderConfig("anthropic", base_url=base_url))
    err = await failure(provider, "m")
    assert isinstance(err, ProviderError)
    assert base_url in err.message and "not reachable" in err.message


@pytest.mark.parametrize(
    "model", ["http-401", "http-403", "http-404", "http-500", "error-mid-stream"]
)
async def test_no_error_text_contains_the_api_key(wire_server: WireServer, model: str) -> None:
    err = await failure(anthropic_provider(wire_server), model)
    assert FAKE_KEY not in "".join(traceback.format_exception(err))


async def test_server_sees_the_key(wire_server: WireServer) -> None:
    await collect(anthropic_provider(wire_server), "plain-text")
    headers = wire_server.requests[0].headers
    assert FAKE_KEY in (headers.get("x-api-key", "") + headers.get("authorization", ""))


# ---------------------------------------------------------------- closing


async def test_cancelling_the_consumer_closes_the_connection_within_100ms(
    wire_server: WireServer,
) -> None:
    provider = anthropic_provider(wire_server)
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
    stream = anthropic_provider(wire_server).stream(request("slow"))
    await stream.__anext__()
    closed_at = time.monotonic()
    await stream.aclose()
    disconnect = await wire_server.until_disconnect(timeout=2)
    assert disconnect.at - closed_at < 0.1


async def test_slow_text_model_streams_with_its_delay(wire_server: WireServer) -> None:
    wire_server.add_text("short", "abcdefgh")
    started = time.monotonic()
    chunks = await collect(
        anthropic_provider(wire_server), wire_server.text_model("short", chunk=2, delay=0.05)
    )
    assert [c.delta for c in chunks if c.delta] == ["ab", "cd", "ef", "gh"]
    assert time.monotonic() - started >= 0.15


async def test_scenario_error_after_counts_content_events(wire_server: WireServer) -> None:
    model = wire_server.scenario(Scenario(text=["a", "b", "c"], error_after=1))
    provider = anthropic_provider(wire_server)
    got: list[str] = []
    with pytest.raises(ProviderError):
        async for chunk in provider.stream(request(model)):
            got.append(chunk.delta)
    assert got == ["a"]
