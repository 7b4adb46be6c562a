"""What only Gemini does, with the real google-genai SDK over real HTTP to the loopback server:
thought parts, whole function calls and their thought signatures sent back on the next turn,
usage counted from the last chunk, answers and prompts Gemini blocks, and where the key comes
from. What every provider does is in test_provider_contract.py.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from conftest import FAKE_KEY
from wire_gemini import signature_for
from wire_server import WEATHER_CALLS, Scenario, ToolFragment, WireServer

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk, ToolCall, Usage
from llmwidgets._errors import (
    AuthenticationError,
    ConfigurationError,
    ContentBlockedError,
    ProviderError,
)
from llmwidgets._pricing import cost
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._providers.discovery import zero_config_chatbot
from llmwidgets._providers.google import GoogleProvider

pytestmark = pytest.mark.usefixtures("fake_api_keys")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def provider(wire_server: WireServer) -> GoogleProvider:
    return GoogleProvider(ProviderConfig("google", base_url=wire_server.gemini_base_url))


async def collect(provider: GoogleProvider, request: Request) -> list[StreamChunk]:
    return [c async for c in provider.stream(request)]


def ask(model: str, **kw: Any) -> Request:
    return Request(model=model, messages=[Message("user", "Hi")], **kw)


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    return await llmwidgets.complete(
        f"google:{model}", "Hi", base_url=server.gemini_base_url, **options
    )


def camel(value: Any) -> Any:
    """The body with every key in lowerCamelCase: the SDK writes some nested fields in proto's
    snake_case (`thinking_config.include_thoughts`), which the API reads as the same field."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m[1].upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def last_calls(chunks: list[StreamChunk]) -> tuple[ToolCall, ...]:
    return next(c for c in chunks if c.finish_reason).tool_calls


# ---------------------------------------------------------------- thinking


async def test_thought_parts_stream_as_thinking_before_the_answer(
    provider: GoogleProvider,
) -> None:
    chunks = await collect(provider, ask("thinking"))
    parts = [("thinking", c.thinking) if c.thinking else ("text", c.delta) for c in chunks]
    assert parts[:4] == [
        ("thinking", "The user wants "),
        ("thinking", "a greeting. "),
        ("thinking", "Keep it short."),
        ("text", "Hi "),
    ]


@pytest.mark.parametrize(
    ("thinking", "config"),
    [
        (True, {"includeThoughts": True}),
        (2048, {"includeThoughts": True, "thinkingBudget": 2048}),
        (False, {"thinkingBudget": 0}),
    ],
)
async def test_the_thinking_short_forms_become_gemini_thinking_config(
    wire_server: WireServer, thinking: Any, config: dict[str, Any]
) -> None:
    await complete(wire_server, "thinking", thinking=thinking)
    assert camel(wire_server.requests[0].body["generationConfig"]) == {"thinkingConfig": config}


# ---------------------------------------------------------------- usage


async def test_usage_comes_from_the_last_chunk_only(provider: GoogleProvider) -> None:
    chunks = await collect(provider, ask("plain-text"))
    assert [c.usage for c in chunks if c.usage] == [Usage(input_tokens=12, output_tokens=34)]
    assert chunks[-1].usage is not None


async def test_output_tokens_count_the_thoughts_which_are_the_reasoning_tokens(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    model = wire_server.scenario(
        Scenario(thinking=["Hmm."], text=["Hi"], usage=(12, 300), reasoning_tokens=200)
    )
    chunks = await collect(provider, ask(model))
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=300, reasoning_tokens=200)


async def test_the_zero_config_default_model_has_a_price() -> None:
    resolution = zero_config_chatbot({"GEMINI_API_KEY": "k" * 20}, local_servers=())
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost(resolution.target.provider, resolution.target.model, usage) == pytest.approx(2.80)


# ---------------------------------------------------------------- function calls


async def test_function_calls_arrive_whole_and_only_the_first_carries_a_signature(
    provider: GoogleProvider,
) -> None:
    calls = last_calls(await collect(provider, ask("tool-calls")))
    signature = base64.b64encode(signature_for(WEATHER_CALLS[0])).decode()
    assert [(c.name, c.parsed_arguments, c.thought_signature) for c in calls] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}, signature),
        ("get_time", {"tz": "Europe/Paris"}, ""),
    ]


async def test_a_turn_that_called_functions_finishes_as_tool_calls_though_gemini_says_stop(
    provider: GoogleProvider,
) -> None:
    final = next(c for c in await collect(provider, ask("tool-calls")) if c.finish_reason)
    assert (final.finish_reason, final.raw_finish_reason) == ("tool_calls", "STOP")


async def test_the_next_turn_sends_each_call_back_with_its_thought_signature(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    calls = last_calls(await collect(provider, ask("tool-calls")))
    history = [
        Message("user", "Hi"),
        Message("assistant", "Let me check.", tool_calls=list(calls)),
        Message("tool", '{"temp": 21}', tool_call_id=calls[0].id),
        Message("tool", "14:05", tool_call_id=calls[1].id),
    ]
    await collect(provider, Request(model="plain-text", messages=history))
    model_turn = wire_server.requests[1].body["contents"][1]
    assert model_turn["role"] == "model"
    first, second = model_turn["parts"][1:]
    assert base64.urlsafe_b64decode(first["thoughtSignature"]) == signature_for(WEATHER_CALLS[0])
    assert first["functionCall"] == {
        "id": "call_weather_1",
        "name": "get_weather",
        "args": {"city": "Paris", "unit": "celsius"},
    }
    assert "thoughtSignature" not in second


async def test_tool_results_go_back_as_one_user_turn_of_function_responses(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    calls = last_calls(await collect(provider, ask("tool-calls")))
    history = [
        Message("user", "Hi"),
        Message("assistant", "", tool_calls=list(calls)),
        Message("tool", '{"temp": 21}', tool_call_id=calls[0].id),
        Message("tool", "14:05", tool_call_id=calls[1].id),
    ]
    await collect(provider, Request(model="plain-text", messages=history))
    results_turn = wire_server.requests[1].body["contents"][2]
    assert results_turn == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "call_weather_1",
                    "name": "get_weather",
                    "response": {"output": {"temp": 21}},
                }
            },
            {
                "functionResponse": {
                    "id": "call_time_2",
                    "name": "get_time",
                    "response": {"output": "14:05"},
                }
            },
        ],
    }


async def test_calls_gemini_sent_without_an_id_get_one_that_is_not_sent_back(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    model = wire_server.scenario(
        Scenario(tool_calls=[ToolFragment(0, name="get_weather", arguments='{"city": "Oslo"}')])
    )
    (call,) = last_calls(await collect(provider, ask(model)))
    assert call.id
    history = [
        Message("user", "Hi"),
        Message("assistant", "", tool_calls=[call]),
        Message("tool", "rain", tool_call_id=call.id),
    ]
    await collect(provider, Request(model="plain-text", messages=history))
    model_turn, results_turn = wire_server.requests[1].body["contents"][1:]
    assert "id" not in model_turn["parts"][0]["functionCall"]
    assert results_turn["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"output": "rain"},
    }


async def test_openai_style_tools_become_function_declarations_with_a_json_schema(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    await collect(provider, ask("plain-text", tools=[WEATHER_TOOL]))
    (tool,) = camel(wire_server.requests[0].body["tools"])
    assert tool == {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parametersJsonSchema": WEATHER_TOOL["function"]["parameters"],
            }
        ]
    }


# ---------------------------------------------------------------- blocked


async def test_a_blocked_prompt_is_a_typed_error_saying_why(wire_server: WireServer) -> None:
    with pytest.raises(ContentBlockedError) as info:
        await complete(wire_server, "blocked-prompt")
    assert info.value.reason == "PROHIBITED_CONTENT"
    assert "refused the prompt (PROHIBITED_CONTENT)" in info.value.message
    assert info.value.partial_text == ""


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST"])
async def test_an_answer_stopped_by_a_filter_is_a_typed_error_keeping_the_partial_text(
    wire_server: WireServer, reason: str
) -> None:
    model = wire_server.scenario(Scenario(text=["Partial ", "answer"], finish_reason=reason))
    with pytest.raises(ContentBlockedError) as info:
        await complete(wire_server, model)
    assert (info.value.reason, info.value.partial_text) == (reason, "Partial answer")
    assert f"({reason})" in info.value.message


async def test_the_chunk_that_says_an_answer_was_blocked_is_passed_on_with_its_usage(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    model = wire_server.scenario(Scenario(text=["Partial"], finish_reason="SAFETY"))
    seen: list[StreamChunk] = []
    with pytest.raises(ContentBlockedError):
        async for chunk in provider.stream(ask(model)):
            seen.append(chunk)
    assert (seen[-1].finish_reason, seen[-1].usage) == ("content_filter", Usage(12, 34))


async def test_a_malformed_function_call_is_a_provider_error_keeping_the_partial_text(
    wire_server: WireServer,
) -> None:
    model = wire_server.scenario(
        Scenario(text=["Calling "], finish_reason="MALFORMED_FUNCTION_CALL")
    )
    with pytest.raises(ProviderError) as info:
        await complete(wire_server, model)
    assert "MALFORMED_FUNCTION_CALL" in info.value.message
    assert info.value.partial_text == "Calling "


# ---------------------------------------------------------------- keys and server


async def test_a_key_google_calls_invalid_with_a_400_is_an_authentication_error(
    provider: GoogleProvider, wire_server: WireServer
) -> None:
    model = wire_server.scenario(
        Scenario(status=400, error_message="API key not valid. Please pass a valid API key.")
    )
    with pytest.raises(AuthenticationError) as info:
        await collect(provider, ask(model))
    assert info.value.env_var == "GEMINI_API_KEY"


async def test_google_api_key_alone_is_used_and_named_when_rejected(
    provider: GoogleProvider, wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", FAKE_KEY)
    with pytest.raises(AuthenticationError) as info:
        await collect(provider, ask("http-401"))
    assert info.value.env_var == "GOOGLE_API_KEY" and "GOOGLE_API_KEY" in info.value.message
    assert wire_server.requests[0].headers["x-goog-api-key"] == FAKE_KEY


async def test_with_no_key_the_error_names_both_variables(
    provider: GoogleProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(AuthenticationError) as info:
        await collect(provider, ask("plain-text"))
    assert "GEMINI_API_KEY" in info.value.message and "GOOGLE_API_KEY" in info.value.message


async def test_the_sdks_base_url_variable_is_honoured(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", wire_server.gemini_base_url)
    response = await llmwidgets.complete("google:plain-text", "Hi")
    assert response.text.startswith("Hello, wörld!")


async def test_an_option_the_sdk_refuses_is_a_configuration_error_before_any_request(
    wire_server: WireServer,
) -> None:
    with pytest.raises(ConfigurationError) as info:
        await complete(wire_server, "plain-text", thinking={"budget": 100})
    assert "thinking_config" in info.value.message
    assert wire_server.requests == []
