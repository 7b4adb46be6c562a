"""What only OpenAI's Responses API does, with the real openai SDK over real HTTP to the loopback
server: the request reshaped into input items and instructions, reasoning summaries asked for
with `thinking=`, tool turns sent back as function_call / function_call_output items, usage with
reasoning tokens from `response.completed`, and a response that fails after it started. What
every provider does is in test_provider_contract.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from wire_server import WireServer

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk, Usage
from llmwidgets._errors import ProviderError
from llmwidgets._pricing import price_for
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._providers.openai_responses import OpenAIResponsesProvider

pytestmark = pytest.mark.usefixtures("fake_api_keys")


@pytest.fixture
def provider(wire_server: WireServer) -> OpenAIResponsesProvider:
    return OpenAIResponsesProvider(
        ProviderConfig("openai-responses", base_url=wire_server.openai_base_url)
    )


async def collect(provider: OpenAIResponsesProvider, request: Request) -> list[StreamChunk]:
    return [c async for c in provider.stream(request)]


def ask(model: str, **kw: Any) -> Request:
    return Request(model=model, messages=[Message("user", "Hi")], **kw)


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    return await llmwidgets.complete(
        f"openai-responses:{model}", "Hi", base_url=server.openai_base_url, **options
    )


async def test_requests_go_to_the_responses_endpoint_and_store_nothing_by_default(
    wire_server: WireServer,
) -> None:
    await complete(wire_server, "plain-text")
    (sent,) = wire_server.requests
    assert (sent.path, sent.body["store"], sent.body["stream"]) == ("/v1/responses", False, True)


async def test_store_can_be_asked_for(wire_server: WireServer) -> None:
    await complete(wire_server, "plain-text", store=True)
    assert wire_server.requests[0].body["store"] is True


@pytest.mark.parametrize(
    ("thinking", "reasoning"),
    [(True, {"summary": "auto"}), ("high", {"effort": "high", "summary": "auto"})],
)
async def test_thinking_asks_for_reasoning_summaries(
    wire_server: WireServer, thinking: Any, reasoning: dict[str, str]
) -> None:
    await complete(wire_server, "thinking", thinking=thinking)
    assert wire_server.requests[0].body["reasoning"] == reasoning


async def test_thinking_false_sends_no_reasoning_field(wire_server: WireServer) -> None:
    await complete(wire_server, "plain-text", thinking=False)
    assert "reasoning" not in wire_server.requests[0].body


async def test_summary_parts_are_separated_by_a_blank_line(
    provider: OpenAIResponsesProvider,
) -> None:
    chunks = await collect(provider, ask("two-summaries"))
    assert "".join(c.thinking for c in chunks) == "**Planning**\n\n**Answering**"


async def test_usage_counts_the_reasoning_tokens_from_response_completed(
    provider: OpenAIResponsesProvider,
) -> None:
    chunks = await collect(provider, ask("thinking-hidden"))
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=340, reasoning_tokens=300)


async def test_a_tool_turn_goes_back_as_function_call_and_output_items(
    provider: OpenAIResponsesProvider, wire_server: WireServer
) -> None:
    chunks = await collect(provider, ask("tool-calls"))
    calls = next(c for c in chunks if c.finish_reason).tool_calls
    history = [
        Message("user", "Hi"),
        Message("assistant", "Let me check.", tool_calls=list(calls)),
        Message("tool", "21 C", tool_call_id=calls[0].id),
        Message("tool", "14:05", tool_call_id=calls[1].id),
    ]
    await collect(provider, Request(model="plain-text", messages=history))
    assert wire_server.requests[1].body["input"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Let me check."},
        {
            "type": "function_call",
            "call_id": "call_weather_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris", "unit": "celsius"}',
        },
        {
            "type": "function_call",
            "call_id": "call_time_2",
            "name": "get_time",
            "arguments": '{"tz": "Europe/Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_weather_1", "output": "21 C"},
        {"type": "function_call_output", "call_id": "call_time_2", "output": "14:05"},
    ]


async def test_chat_completions_tools_are_flattened(
    provider: OpenAIResponsesProvider, wire_server: WireServer
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tool = {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather.", "parameters": schema},
    }
    await collect(provider, ask("plain-text", tools=[tool]))
    assert wire_server.requests[0].body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather.",
            "parameters": schema,
            "strict": False,
        }
    ]


async def test_a_response_that_fails_after_it_started_is_a_provider_error_keeping_the_text(
    wire_server: WireServer,
) -> None:
    with pytest.raises(ProviderError) as info:
        await complete(wire_server, "response-failed")
    assert "The model failed to respond" in info.value.message
    assert info.value.partial_text == "Partial"


def test_costs_use_openais_prices() -> None:
    assert price_for("openai-responses", "gpt-5-mini") == price_for("openai", "gpt-5-mini")
