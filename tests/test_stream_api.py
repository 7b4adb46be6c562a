"""The headless API: stream() and complete() over real providers and the loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import llmwidgets
from llmwidgets import (
    ConfigurationError,
    ModelNotFoundError,
    ProviderError,
    StreamInterruptedError,
)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-stream-api-000000")
    monkeypatch.delenv("LLMWIDGETS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def lockfile(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "llmwidgets.toml"
    path.write_text(body, encoding="utf-8")
    return path


async def test_stream_yields_chunks_and_keeps_the_response(wire_server: Any):
    s = llmwidgets.stream("openai:plain-text", "hi", base_url=wire_server.openai_base_url)
    deltas = [c.delta async for c in s]
    r = s.response
    assert "".join(deltas) == r.text and "日本語" in r.text
    assert r.finish_reason == "stop"
    assert r.usage is not None and r.usage.output_tokens > 0
    assert r.time_to_first_token is not None and r.total_time is not None
    assert 0 <= r.time_to_first_token <= r.total_time


async def test_complete_returns_the_whole_answer(wire_server: Any):
    r = await llmwidgets.complete("openai:plain-text", "hi", base_url=wire_server.openai_base_url)
    assert r.text.startswith("Hello, wörld!")
    assert r.provider == "openai" and r.alias == "openai:plain-text"


async def test_alias_defaults_reach_the_request(wire_server: Any, tmp_path: Path):
    lockfile(
        tmp_path,
        f"""
[aliases.bot]
model = "openai:plain-text"
base_url = "{wire_server.openai_base_url}"
temperature = 0.3
max_tokens = 55
system = "Be brief."
""",
    )
    await llmwidgets.complete("bot", "hi")
    body = wire_server.requests[-1].body
    assert body["temperature"] == 0.3
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 55


async def test_call_options_override_alias_defaults(wire_server: Any, tmp_path: Path):
    lockfile(
        tmp_path,
        f"""
[aliases.bot]
model = "openai:plain-text"
base_url = "{wire_server.openai_base_url}"
temperature = 0.3
""",
    )
    await llmwidgets.complete("bot", "hi", temperature=0.9)
    assert wire_server.requests[-1].body["temperature"] == 0.9


async def test_fallback_is_used_when_the_first_model_fails_before_any_chunk(
    wire_server: Any, tmp_path: Path
):
    url = wire_server.openai_base_url
    lockfile(
        tmp_path,
        f"""
[aliases]
good = {{ model = "openai:plain-text", base_url = "{url}" }}
bot = {{ model = "openai:http-500", base_url = "{url}", fallbacks = ["good"] }}
""",
    )
    s = llmwidgets.stream("bot", "hi")
    text = "".join([c.delta async for c in s])
    assert text.startswith("Hello")
    assert s.target.model == "plain-text"
    assert [type(e) for e in s.skipped] == [ProviderError]


async def test_no_fallback_once_text_has_arrived(wire_server: Any, tmp_path: Path):
    url = wire_server.openai_base_url
    lockfile(
        tmp_path,
        f"""
[aliases]
good = {{ model = "openai:plain-text", base_url = "{url}" }}
bot = {{ model = "openai:error-mid-stream", base_url = "{url}", fallbacks = ["good"] }}
""",
    )
    with pytest.raises(ProviderError) as err:
        await llmwidgets.complete("bot", "hi")
    assert err.value.partial_text == "Partial answer "
    assert [r.model for r in wire_server.requests] == ["error-mid-stream"]


async def test_a_stream_that_ends_without_finishing_is_interrupted(wire_server: Any):
    with pytest.raises(StreamInterruptedError) as err:
        await llmwidgets.complete("openai:no-end", "hi", base_url=wire_server.openai_base_url)
    assert err.value.partial_text == "Partial answer"
    assert "ended without saying it had finished" in str(err.value)


async def test_model_not_found_names_the_model_and_the_alias(wire_server: Any, tmp_path: Path):
    lockfile(
        tmp_path,
        f'[aliases]\nwriter = {{ model = "openai:gpt-9", base_url = "{wire_server.openai_base_url}" }}\n',
    )
    with pytest.raises(ModelNotFoundError) as err:
        await llmwidgets.complete("writer", "hi")
    assert "gpt-9" in str(err.value) and "'writer'" in str(err.value)


async def test_errors_carry_alias_provider_and_model(wire_server: Any):
    with pytest.raises(ProviderError) as err:
        await llmwidgets.complete("openai:http-500", "hi", base_url=wire_server.openai_base_url)
    e = err.value
    assert (e.provider, e.model, e.alias) == ("openai", "http-500", "openai:http-500")


async def test_replay_needs_no_key_or_network(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    r = await llmwidgets.complete("replay:", "anything", delay=0)
    assert r.text and r.finish_reason == "stop"


async def test_messages_list_is_accepted(wire_server: Any):
    msgs = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "more"},
    ]
    await llmwidgets.complete("openai:plain-text", msgs, base_url=wire_server.openai_base_url)
    sent = wire_server.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]


async def test_an_empty_api_key_env_means_the_server_needs_no_key(
    wire_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("OPENAI_API_KEY")
    url = wire_server.openai_base_url
    lockfile(
        tmp_path,
        f'[aliases]\nlocal = {{ model = "openai:plain-text", base_url = "{url}", api_key_env = "" }}\n',
    )
    r = await llmwidgets.complete("local", "hi")
    assert r.text.startswith("Hello")


def test_an_empty_model_fails_before_sending(wire_server: Any):
    with pytest.raises(ConfigurationError, match="`openai:` names no model"):
        llmwidgets.stream("openai:", "hi", base_url=wire_server.openai_base_url)
    assert wire_server.requests == []


@pytest.mark.parametrize(
    ("model", "temperature", "accepted"),
    [
        ("openai:plain-text", 2.5, "from 0 to 2"),
        ("openai:plain-text", -0.1, "from 0 to 2"),
        ("anthropic:plain-text", 1.5, "from 0 to 1"),
        ("replay:short", -1.0, "0 or more"),
        ("openai:plain-text", float("nan"), "from 0 to 2"),
    ],
)
def test_a_temperature_out_of_the_providers_range_fails_before_sending(
    wire_server: Any, model: str, temperature: float, accepted: str
):
    url = wire_server.anthropic_base_url if model.startswith("anthropic") else None
    with pytest.raises(ConfigurationError) as err:
        llmwidgets.stream(
            model, "hi", temperature=temperature, base_url=url or wire_server.openai_base_url
        )
    assert model in str(err.value) and f"use a value {accepted}" in str(err.value)
    assert wire_server.requests == []


async def test_the_range_edges_are_accepted(wire_server: Any):
    await llmwidgets.complete(
        "openai:plain-text", "hi", temperature=2, base_url=wire_server.openai_base_url
    )
    assert wire_server.requests[-1].body["temperature"] == 2


def test_an_alias_temperature_out_of_range_names_the_alias_and_checks_fallbacks(tmp_path: Path):
    lockfile(
        tmp_path,
        """
[aliases]
bot = { model = "openai:gpt-4o-mini", fallbacks = ["anthropic:claude-haiku-4-5"] }
hot = { model = "anthropic:claude-haiku-4-5", temperature = 1.2 }
""",
    )
    with pytest.raises(ConfigurationError) as err:
        llmwidgets.stream("hot", "hi")
    assert "from alias 'hot'" in str(err.value) and "from 0 to 1" in str(err.value)
    with pytest.raises(ConfigurationError, match="anthropic:claude-haiku-4-5"):
        llmwidgets.stream("bot", "hi", temperature=1.5)  # fine for OpenAI, not its fallback


async def test_a_broken_lockfile_does_not_block_an_explicit_model(wire_server: Any, tmp_path: Path):
    lockfile(tmp_path, "[aliases\nbot = 'x'\n")
    with pytest.warns(llmwidgets._errors.ConfigurationWarning, match="not valid TOML"):
        r = await llmwidgets.complete(
            "openai:plain-text", "hi", base_url=wire_server.openai_base_url
        )
    assert r.text.startswith("Hello")
