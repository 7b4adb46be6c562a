"""What every SDK provider promises, checked for each one with the real SDK over real HTTP to the
loopback wire server: streaming, the request body, error translation, keys kept out of errors,
and closing. Where the APIs differ, the per-provider `Spec` says what to expect.

Provider-specific behaviour (Anthropic's content blocks, OpenAI's stream_options retry, Ollama,
Gemini's thought signatures and blocked answers) stays in test_provider_<name>.py.
"""

from __future__ import annotations

import asyncio
import base64
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import FAKE_KEY
from wire_server import PLAIN_TEXT, Scenario, WireServer, free_port

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk, Usage
from llmwidgets._errors import (
    AuthenticationError,
    InvalidRequestError,
    LLMWidgetsError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
)
from llmwidgets._providers._sdk import SDKProvider
from llmwidgets._providers.anthropic import AnthropicProvider
from llmwidgets._providers.base import ProviderConfig, create_provider
from llmwidgets._providers.google import GoogleProvider
from llmwidgets._providers.openai import OpenAIProvider
from llmwidgets._providers.openai_responses import OpenAIResponsesProvider
from tests.support import PNG_PIXEL

pytestmark = pytest.mark.usefixtures("fake_api_keys")


@dataclass(frozen=True)
class Spec:
    """One provider and what its API does differently."""

    name: str
    cls: type[SDKProvider[Any]]
    base_url: Callable[[WireServer], str]
    env_var: str
    #: An unreachable server's URL for a free port.
    unreachable: Callable[[int], str]
    #: The raw stop reason for an answer cut by max_tokens.
    raw_length: str
    tool_ids: tuple[str, str]
    #: The status an error event mid-stream maps to (Anthropic's event types have one).
    mid_stream_status: int | None
    #: The API's words refusing an option.
    refusal: str
    #: The sampling fields the body (or Gemini's generationConfig) has only when asked for.
    sampling_fields: frozenset[str]
    #: False when a tool call's arguments arrive whole (Gemini), not in fragments.
    streams_tool_arguments: bool = True

    def provider(self, server: WireServer) -> SDKProvider[Any]:
        return self.cls(ProviderConfig(self.name, base_url=self.base_url(server)))


SPECS = [
    Spec(
        name="openai",
        cls=OpenAIProvider,
        base_url=lambda server: server.openai_base_url,
        env_var="OPENAI_API_KEY",
        unreachable=lambda port: f"http://127.0.0.1:{port}/v1",
        raw_length="length",
        tool_ids=("call_weather_1", "call_time_2"),
        mid_stream_status=None,
        refusal="Unsupported value: 'temperature' does not support 0.5 with this model",
        sampling_fields=frozenset({"temperature", "top_p", "stop", "max_tokens"}),
    ),
    Spec(
        name="anthropic",
        cls=AnthropicProvider,
        base_url=lambda server: server.anthropic_base_url,
        env_var="ANTHROPIC_API_KEY",
        unreachable=lambda port: f"http://127.0.0.1:{port}",
        raw_length="max_tokens",
        tool_ids=("toolu_weather_1", "toolu_time_2"),
        mid_stream_status=529,
        refusal="temperature is not supported for this model",
        sampling_fields=frozenset({"temperature", "top_p", "top_k", "stop_sequences"}),
    ),
    Spec(
        name="openai-responses",
        cls=OpenAIResponsesProvider,
        base_url=lambda server: server.openai_base_url,
        env_var="OPENAI_API_KEY",
        unreachable=lambda port: f"http://127.0.0.1:{port}/v1",
        raw_length="max_output_tokens",
        tool_ids=("call_weather_1", "call_time_2"),
        mid_stream_status=None,
        refusal="Unsupported parameter: 'temperature' is not supported with this model",
        sampling_fields=frozenset({"temperature", "top_p", "stop", "max_output_tokens"}),
    ),
    Spec(
        name="google",
        cls=GoogleProvider,
        base_url=lambda server: server.gemini_base_url,
        env_var="GEMINI_API_KEY",
        unreachable=lambda port: f"http://127.0.0.1:{port}",
        raw_length="MAX_TOKENS",
        tool_ids=("call_weather_1", "call_time_2"),
        mid_stream_status=503,
        refusal="Unable to submit request because temperature is not supported by this model",
        sampling_fields=frozenset({"temperature", "topP", "topK", "stopSequences"}),
        streams_tool_arguments=False,
    ),
]


@pytest.fixture(params=SPECS, ids=lambda spec: spec.name)
def spec(request: pytest.FixtureRequest) -> Spec:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def provider(spec: Spec, wire_server: WireServer) -> SDKProvider[Any]:
    return spec.provider(wire_server)


def ask(model: str, **kw: Any) -> Request:
    return Request(model=model, messages=[Message("user", "Hi")], **kw)


async def collect(provider: SDKProvider[Any], model: str, **kw: Any) -> list[StreamChunk]:
    return [c async for c in provider.stream(ask(model, **kw))]


async def failure(provider: SDKProvider[Any], model: str, **kw: Any) -> LLMWidgetsError:
    with pytest.raises(LLMWidgetsError) as info:
        await collect(provider, model, **kw)
    return info.value


async def complete(
    spec: Spec, server: WireServer, model: str, **options: Any
) -> llmwidgets.Response:
    """The headless API, where `%%llm -t 0.5`, `Pane(..., temperature=0.5)` and widgets end up."""
    return await llmwidgets.complete(
        f"{spec.name}:{model}", "Hi", base_url=spec.base_url(server), **options
    )


# ---------------------------------------------------------------- streaming


def test_the_registry_builds_the_provider(spec: Spec) -> None:
    assert isinstance(create_provider(ProviderConfig(spec.name)), spec.cls)


async def test_multibyte_text_split_inside_characters_arrives_whole(
    provider: SDKProvider[Any],
) -> None:
    chunks = await collect(provider, "plain-text")
    assert "".join(c.delta for c in chunks) == "".join(PLAIN_TEXT)


async def test_the_last_chunk_finishes_with_usage(provider: SDKProvider[Any]) -> None:
    chunks = await collect(provider, "plain-text")
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=34)
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]


async def test_a_length_stop_arrives_normalised_with_the_raw_value(
    spec: Spec, provider: SDKProvider[Any]
) -> None:
    chunks = await collect(provider, "length")
    finished = [(c.finish_reason, c.raw_finish_reason) for c in chunks if c.finish_reason]
    assert finished == [("length", spec.raw_length)]


async def test_chunks_carry_the_model_the_server_named(provider: SDKProvider[Any]) -> None:
    chunks = await collect(provider, "plain-text")
    assert {c.model for c in chunks} == {"plain-text"}


async def test_thinking_goes_to_thinking_never_into_the_answer(
    provider: SDKProvider[Any],
) -> None:
    chunks = await collect(provider, "thinking")
    assert "".join(c.thinking for c in chunks) == "The user wants a greeting. Keep it short."
    assert "".join(c.delta for c in chunks) == "Hi there!"


async def test_tool_calls_are_assembled_and_indexed_from_zero(
    spec: Spec, provider: SDKProvider[Any]
) -> None:
    chunks = await collect(provider, "tool-calls")
    final = next(c for c in chunks if c.finish_reason)
    assert final.finish_reason == "tool_calls"
    assert [(t.index, t.id, t.name, t.parsed_arguments) for t in final.tool_calls] == [
        (0, spec.tool_ids[0], "get_weather", {"city": "Paris", "unit": "celsius"}),
        (1, spec.tool_ids[1], "get_time", {"tz": "Europe/Paris"}),
    ]


async def test_tool_call_snapshots_do_not_change_after_they_are_yielded(
    spec: Spec, provider: SDKProvider[Any]
) -> None:
    chunks = await collect(provider, "tool-calls")
    seen = [c.tool_calls[0].arguments for c in chunks if c.tool_calls]
    first = "" if spec.streams_tool_arguments else '{"city": "Paris", "unit": "celsius"}'
    assert seen[0] == first and seen[-1] == '{"city": "Paris", "unit": "celsius"}'


async def test_a_stream_that_never_says_it_finished_has_no_finish_reason(
    provider: SDKProvider[Any],
) -> None:
    chunks = await collect(provider, "no-end")
    assert "".join(c.delta for c in chunks) == "Partial answer"
    assert not any(c.finish_reason for c in chunks)


# ---------------------------------------------------------------- the request

#: option -> (what the caller gives, what each API's body holds for it)
OPTION_CASES: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    "temperature": (
        {"temperature": 0.5},
        {"*": {"temperature": 0.5}, "google": {"generationConfig": {"temperature": 0.5}}},
    ),
    "temperature-zero": (
        {"temperature": 0},
        {"*": {"temperature": 0}, "google": {"generationConfig": {"temperature": 0}}},
    ),
    "max_tokens": (
        {"max_tokens": 100},
        {
            "*": {"max_tokens": 100},
            "openai-responses": {"max_output_tokens": 100},
            "google": {"generationConfig": {"maxOutputTokens": 100}},
        },
    ),
    "system": (
        {"system": "Be brief."},
        {
            "openai": {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                ]
            },
            "anthropic": {"system": "Be brief."},
            "openai-responses": {
                "instructions": "Be brief.",
                "input": [{"role": "user", "content": "Hi"}],
            },
            "google": {"systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"}},
        },
    ),
    "stop": (
        {"stop": ["END", "##"]},
        {
            "openai": {"stop": ["END", "##"]},
            "openai-responses": {"stop": ["END", "##"]},
            "anthropic": {"stop_sequences": ["END", "##"]},
            "google": {"generationConfig": {"stopSequences": ["END", "##"]}},
        },
    ),
    "stop-string": (
        {"stop": "END"},
        {
            "openai": {"stop": "END"},
            "openai-responses": {"stop": "END"},
            "anthropic": {"stop_sequences": ["END"]},
            "google": {"generationConfig": {"stopSequences": ["END"]}},
        },
    ),
    "stop_sequences": (
        {"stop_sequences": ["END"]},
        {
            "openai": {"stop": ["END"]},
            "openai-responses": {"stop": ["END"]},
            "anthropic": {"stop_sequences": ["END"]},
            "google": {"generationConfig": {"stopSequences": ["END"]}},
        },
    ),
    "top_p": (
        {"top_p": 0.9},
        {"*": {"top_p": 0.9}, "google": {"generationConfig": {"topP": 0.9}}},
    ),
    "top_k": ({"top_k": 5}, {"*": {"top_k": 5}, "google": {"generationConfig": {"topK": 5}}}),
}


@pytest.mark.parametrize("option", OPTION_CASES)
async def test_each_documented_option_reaches_the_request_body(
    spec: Spec, wire_server: WireServer, option: str
) -> None:
    given, expected = OPTION_CASES[option]
    sent = expected.get(spec.name, expected.get("*"))
    assert sent is not None
    await complete(spec, wire_server, "plain-text", **given)
    body = wire_server.requests[0].body
    assert {k: body.get(k) for k in sent} == sent


async def test_unset_sampling_options_are_not_sent(spec: Spec, wire_server: WireServer) -> None:
    await complete(spec, wire_server, "plain-text")
    body = wire_server.requests[0].body
    assert not spec.sampling_fields & {*body, *body.get("generationConfig", {})}


async def test_a_callers_extra_body_is_merged_with_options_the_sdk_does_not_name(
    spec: Spec, wire_server: WireServer
) -> None:
    await complete(spec, wire_server, "plain-text", num_ctx=4096, extra_body={"custom_flag": True})
    body = wire_server.requests[0].body
    assert (body["num_ctx"], body["custom_flag"]) == (4096, True)


async def test_sdk_retries_are_off(provider: SDKProvider[Any], wire_server: WireServer) -> None:
    with pytest.raises(ProviderError):
        await collect(provider, "http-500")
    assert len(wire_server.requests) == 1


#: An image in the prompt as each API takes it: the last user turn of the request body.
IMAGE_TEXT = "What is it?\n\n[image 1]"
PIXEL_BASE64 = base64.b64encode(PNG_PIXEL).decode()
IMAGE_TURNS: dict[str, Any] = {
    "openai": {
        "role": "user",
        "content": [
            {"type": "text", "text": IMAGE_TEXT},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL_BASE64}"}},
        ],
    },
    "anthropic": {
        "role": "user",
        "content": [
            {"type": "text", "text": IMAGE_TEXT},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PIXEL_BASE64},
            },
        ],
    },
    "openai-responses": {
        "role": "user",
        "content": [
            {"type": "input_text", "text": IMAGE_TEXT},
            {
                "type": "input_image",
                "image_url": f"data:image/png;base64,{PIXEL_BASE64}",
                "detail": "auto",
            },
        ],
    },
    "google": {
        "role": "user",
        "parts": [
            {"text": IMAGE_TEXT},
            {"inlineData": {"mimeType": "image/png", "data": PIXEL_BASE64}},
        ],
    },
}


def last_turn(spec: Spec, body: dict[str, Any]) -> Any:
    """The body's last turn; Gemini's blob with the JSON names and base64 its API reads either
    way (the SDK writes `mime_type` and URL-safe base64)."""
    turn = body[{"google": "contents", "openai-responses": "input"}.get(spec.name, "messages")][-1]
    for part in turn.get("parts", []):
        if "inlineData" in part:
            blob = part["inlineData"]
            data = base64.urlsafe_b64decode(blob["data"])
            mime = blob.get("mimeType", blob.get("mime_type"))
            part["inlineData"] = {"mimeType": mime, "data": base64.b64encode(data).decode()}
    return turn


async def test_an_image_in_the_prompt_arrives_in_the_apis_own_shape(
    spec: Spec, wire_server: WireServer
) -> None:
    await llmwidgets.complete(
        f"{spec.name}:plain-text", ["What is it?", PNG_PIXEL], base_url=spec.base_url(wire_server)
    )
    assert last_turn(spec, wire_server.requests[0].body) == IMAGE_TURNS[spec.name]


# ---------------------------------------------------------------- errors


async def test_missing_key_fails_before_any_request_naming_the_env_var(
    spec: Spec,
    provider: SDKProvider[Any],
    wire_server: WireServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(spec.env_var)
    err = await failure(provider, "plain-text")
    assert isinstance(err, AuthenticationError) and err.env_var == spec.env_var
    assert (err.provider, err.model) == (spec.name, "plain-text")
    assert spec.env_var in err.message
    assert wire_server.requests == []


async def test_a_configured_key_env_var_is_the_one_named(
    spec: Spec, wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_PROXY_KEY", raising=False)
    config = ProviderConfig(
        spec.name, base_url=spec.base_url(wire_server), api_key_env="MY_PROXY_KEY"
    )
    err = await failure(spec.cls(config), "plain-text")
    assert isinstance(err, AuthenticationError) and err.env_var == "MY_PROXY_KEY"


async def test_401_names_the_env_var_to_fix(spec: Spec, provider: SDKProvider[Any]) -> None:
    err = await failure(provider, "http-401")
    assert isinstance(err, AuthenticationError) and err.env_var == spec.env_var
    assert spec.env_var in err.message


async def test_403_is_an_authentication_error(provider: SDKProvider[Any]) -> None:
    assert isinstance(await failure(provider, "http-403"), AuthenticationError)


async def test_404_names_the_missing_model(spec: Spec, provider: SDKProvider[Any]) -> None:
    err = await failure(provider, "no-such-model")
    assert isinstance(err, ModelNotFoundError) and "no-such-model" in err.message
    assert (err.provider, err.model) == (spec.name, "no-such-model")


async def test_429_carries_retry_after_from_the_header(provider: SDKProvider[Any]) -> None:
    err = await failure(provider, "http-429")
    assert isinstance(err, RateLimitError) and err.retry_after == 7


async def test_500_is_a_provider_error_with_its_status(provider: SDKProvider[Any]) -> None:
    err = await failure(provider, "http-500")
    assert isinstance(err, ProviderError) and err.status_code == 500


@pytest.mark.parametrize("status", [400, 422])  # 422: compatible servers' validation errors
async def test_a_refused_option_reaches_the_user_in_the_apis_words_with_no_partial_text(
    spec: Spec, wire_server: WireServer, status: int
) -> None:
    model = wire_server.scenario(Scenario(status=status, error_message=spec.refusal))
    with pytest.raises(InvalidRequestError) as info:
        await complete(spec, wire_server, model, temperature=0.5)
    assert spec.refusal in info.value.message and info.value.status_code == status
    assert info.value.partial_text == ""


async def test_a_refused_request_names_the_options_that_were_sent(
    spec: Spec, wire_server: WireServer
) -> None:
    model = wire_server.scenario(Scenario(status=400, error_message=spec.refusal))
    with pytest.raises(InvalidRequestError) as info:
        await complete(spec, wire_server, model, temperature=0.5, top_p=0.9)
    assert "Options sent: temperature, top_p." in info.value.message


async def test_an_error_event_mid_stream_is_a_provider_error_in_its_words(
    spec: Spec, provider: SDKProvider[Any]
) -> None:
    err = await failure(provider, "error-mid-stream")
    assert isinstance(err, ProviderError) and "Overloaded" in err.message
    assert err.status_code == spec.mid_stream_status


async def test_connection_cut_mid_stream_is_an_interruption(provider: SDKProvider[Any]) -> None:
    err = await failure(provider, "cut-mid-stream")
    assert isinstance(err, StreamInterruptedError)
    assert "incomplete chunked read" in err.message


async def test_stall_longer_than_the_timeout_is_a_timeout(provider: SDKProvider[Any]) -> None:
    started = time.monotonic()
    err = await failure(provider, "stall", timeout=0.3)
    assert isinstance(err, StreamTimeoutError) and err.timeout == 0.3
    assert time.monotonic() - started < 2


async def test_unreachable_server_is_named_in_the_error(spec: Spec) -> None:
    base_url = spec.unreachable(free_port())
    err = await failure(spec.cls(ProviderConfig(spec.name, base_url=base_url)), "m")
    assert isinstance(err, ProviderError)
    assert base_url in err.message and "not reachable" in err.message


@pytest.mark.parametrize(
    "model", ["http-401", "http-403", "http-404", "http-429", "http-500", "error-mid-stream"]
)
async def test_no_error_text_contains_the_api_key(
    provider: SDKProvider[Any], wire_server: WireServer, model: str
) -> None:
    err = await failure(provider, model)
    assert FAKE_KEY not in "".join(traceback.format_exception(err))
    headers = wire_server.requests[0].headers
    sent = (headers.get(name, "") for name in ("x-api-key", "authorization", "x-goog-api-key"))
    assert FAKE_KEY in "".join(sent)


# ---------------------------------------------------------------- closing


async def test_cancelling_the_consumer_closes_the_connection_within_100ms(
    provider: SDKProvider[Any], wire_server: WireServer
) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(ask("slow")):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    disconnect = await wire_server.until_disconnect(timeout=2)
    assert disconnect.at - cancelled_at < 0.1


async def test_aclose_closes_the_connection_within_100ms(
    provider: SDKProvider[Any], wire_server: WireServer
) -> None:
    stream = provider.stream(ask("slow"))
    await stream.__anext__()
    closed_at = time.monotonic()
    await stream.aclose()
    disconnect = await wire_server.until_disconnect(timeout=2)
    assert disconnect.at - closed_at < 0.1
