"""The Anthropic provider, with the real SDK over real HTTP to the loopback wire server: what only
it does (content blocks, system apart, stop_sequences, max_tokens required). What every SDK
provider does is in test_provider_contract.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from wire_server import Scenario, WireServer

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk, ToolCall, Usage
from llmwidgets._errors import ProviderError
from llmwidgets._providers.anthropic import AnthropicProvider
from llmwidgets._providers.base import ProviderConfig

pytestmark = pytest.mark.usefixtures("fake_api_keys")


def anthropic_provider(server: WireServer) -> AnthropicProvider:
    return AnthropicProvider(ProviderConfig("anthropic", base_url=server.anthropic_base_url))


def request(model: str, **kw: object) -> Request:
    kw.setdefault("messages", [Message("user", "Hi")])
    return Request(model=model, **kw)  # type: ignore[arg-type]


async def collect(provider: AnthropicProvider, model: str, **kw: object) -> list[StreamChunk]:
    return [c async for c in provider.stream(request(model, **kw))]


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    """The headless API, where `%%llm -t 0.5`, `Pane(..., temperature=0.5)` and widgets end up."""
    return await llmwidgets.complete(
        f"anthropic:{model}", "Hi", base_url=server.anthropic_base_url, **options
    )


# ---------------------------------------------------------------- streaming


async def test_final_chunk_carries_finish_reason_and_usage(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    last = chunks[-1]
    assert (last.finish_reason, last.raw_finish_reason) == ("stop", "end_turn")
    assert last.usage == Usage(input_tokens=12, output_tokens=34)


async def test_only_the_final_chunk_has_a_finish_reason(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    assert [c.finish_reason for c in chunks].count(None) == len(chunks) - 1


async def test_ping_events_yield_nothing(wire_server: WireServer) -> None:
    chunks = await collect(anthropic_provider(wire_server), "plain-text")
    assert all(c.delta or c.finish_reason for c in chunks)


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


async def test_temperature_travels_beside_a_callers_extra_body_whatever_the_sdk_names(
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
