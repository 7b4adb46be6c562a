"""The OpenAI provider, with the real SDK over real HTTP to the loopback wire server: what only it
does (stream_options, max_completion_tokens, Ollama). What every SDK provider does is in
test_provider_contract.py."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from wire_server import SAMPLE_MARKDOWN, Scenario, WireServer

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk, Usage
from llmwidgets._providers.base import ProviderConfig, create_provider
from llmwidgets._providers.openai import OpenAIProvider, ollama_base_url

pytestmark = pytest.mark.usefixtures("fake_api_keys")


def openai_provider(server: WireServer, name: str = "openai") -> OpenAIProvider:
    return OpenAIProvider(ProviderConfig(name, base_url=server.openai_base_url))


def request(model: str, **kw: object) -> Request:
    return Request(model=model, messages=[Message("user", "Hi")], **kw)  # type: ignore[arg-type]


async def collect(provider: OpenAIProvider, model: str, **kw: object) -> list[StreamChunk]:
    return [c async for c in provider.stream(request(model, **kw))]


async def complete(server: WireServer, model: str, **options: Any) -> llmwidgets.Response:
    """The headless API, where `%%llm -t 0.5`, `Pane(..., temperature=0.5)` and widgets end up."""
    return await llmwidgets.complete(
        f"openai:{model}", "Hi", base_url=server.openai_base_url, **options
    )


# ---------------------------------------------------------------- streaming


async def test_registry_builds_the_openai_provider_for_ollama_too() -> None:
    assert isinstance(create_provider(ProviderConfig("ollama")), OpenAIProvider)


async def test_usage_is_asked_for_and_arrives_in_a_usage_only_final_chunk(
    wire_server: WireServer,
) -> None:
    chunks = await collect(openai_provider(wire_server), "plain-text")
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=34)
    assert wire_server.requests[0].body["stream_options"] == {"include_usage": True}


# ---------------------------------------------------------------- the request


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


async def test_official_openai_gets_max_completion_tokens() -> None:
    provider = OpenAIProvider(ProviderConfig("openai"))
    kwargs = provider._kwargs(request("gpt-4o-mini", max_tokens=50))
    assert kwargs["max_completion_tokens"] == 50 and "max_tokens" not in kwargs


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
