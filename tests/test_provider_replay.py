"""The `replay:` provider: shipped recordings streamed at a model-like pace, deterministically."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from llmwidgets._chunks import Message, Request, StreamChunk
from llmwidgets._errors import ConfigurationError
from llmwidgets._providers.base import ProviderConfig, create_provider
from llmwidgets._providers.replay import (
    DEFAULT_RECORDING,
    ReplayProvider,
    load_recording,
    recording_names,
    split_pieces,
)


def ask(name: str = "", **options: object) -> Request:
    return Request(
        model=name, messages=[Message("user", "Show me some markdown.")], options=options
    )


async def collect(request: Request, provider: ReplayProvider | None = None) -> list[StreamChunk]:
    provider = provider or ReplayProvider()
    return [chunk async for chunk in provider.stream(request)]


def test_at_least_two_recordings_ship_with_the_package() -> None:
    names = recording_names()
    assert DEFAULT_RECORDING in names
    assert len(names) >= 2


def test_default_recording_shows_every_markdown_feature() -> None:
    text = load_recording("")
    features = {
        "heading": r"(?m)^## \S",
        "numbered list": r"(?m)^1\. ",
        "bullet list": r"(?m)^- ",
        "python code block": r"(?m)^```python\n[\s\S]+?^```$",
        "table": r"(?m)^\| --- \| --- \|$",
        "bold": r"\*\*\w[^*]*\*\*",
        "italic": r"(?<!\*)\*\w[^*]*\*(?!\*)",
        "inline code": r"`[^`\n]+`",
        "link": r"\[[^\]]+\]\(https://",
    }
    for name, pattern in features.items():
        assert re.search(pattern, text), name


def test_registry_builds_the_replay_provider_labelled_as_a_recording() -> None:
    provider = create_provider(ProviderConfig(name="replay"))
    assert isinstance(provider, ReplayProvider)
    assert provider.note.startswith("recording:")


@pytest.mark.parametrize(
    "text", ["", "one", "  lead and trail  ", "a\n\n```py\nx = 1\n```\n", "é" * 20]
)
def test_pieces_join_back_to_the_exact_text(text: str) -> None:
    assert "".join(split_pieces(text)) == text


@pytest.mark.parametrize("name", recording_names())
async def test_streamed_text_reassembles_the_recording_exactly(name: str) -> None:
    chunks = await collect(ask(name, delay=0))
    assert "".join(c.delta for c in chunks) == load_recording(name)


async def test_default_recording_plays_when_no_name_is_given() -> None:
    chunks = await collect(ask("", delay=0))
    assert "".join(c.delta for c in chunks) == load_recording(DEFAULT_RECORDING)


async def test_final_chunk_says_stop_with_estimated_usage() -> None:
    chunks = await collect(ask("short", delay=0))
    final = chunks[-1]
    assert final.finish_reason == "stop"
    assert final.delta == ""
    assert final.usage is not None
    assert final.usage.output_tokens == len(load_recording("short")) // 4
    assert final.usage.input_tokens == len("Show me some markdown.") // 4
    assert all(c.finish_reason is None for c in chunks[:-1])


async def test_default_pace_is_about_forty_pieces_a_second() -> None:
    start = time.perf_counter()
    chunks = await collect(ask("short"))
    elapsed = time.perf_counter() - start
    pieces = len(chunks) - 1
    assert pieces / elapsed == pytest.approx(40, rel=0.25)


async def test_speed_option_multiplies_the_pace() -> None:
    start = time.perf_counter()
    chunks = await collect(ask("short", speed=4))
    rate = (len(chunks) - 1) / (time.perf_counter() - start)
    assert rate == pytest.approx(160, rel=0.3)


async def test_delay_zero_streams_at_once() -> None:
    start = time.perf_counter()
    await collect(ask(DEFAULT_RECORDING, delay=0))
    assert time.perf_counter() - start < 0.1


async def test_provider_options_set_the_pace_too() -> None:
    provider = ReplayProvider(ProviderConfig(name="replay", options={"delay": 0}))
    start = time.perf_counter()
    await collect(ask(DEFAULT_RECORDING), provider)
    assert time.perf_counter() - start < 0.1


async def test_cancellation_stops_the_replay_at_once() -> None:
    received: list[str] = []

    async def consume() -> None:
        async for chunk in ReplayProvider().stream(ask(DEFAULT_RECORDING)):
            received.append(chunk.delta)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    cancelled_at = time.perf_counter()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - cancelled_at < 0.05
    count = len(received)
    await asyncio.sleep(0.1)
    assert len(received) == count
    assert 0 < count < len(split_pieces(load_recording(DEFAULT_RECORDING)))


async def test_unknown_recording_lists_the_available_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        await collect(ask("no-such-recording"))
    for name in recording_names():
        assert f"replay:{name}" in str(info.value)


async def test_a_markdown_file_path_can_be_replayed(tmp_path: Path) -> None:
    answer = tmp_path / "answer.md"
    answer.write_text("# Title\n\nSome *recorded* text.\n", encoding="utf-8")
    chunks = await collect(ask(str(answer), delay=0))
    assert "".join(c.delta for c in chunks) == answer.read_text(encoding="utf-8")


async def test_a_missing_file_path_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="No recording file"):
        await collect(ask(str(tmp_path / "missing.md")))


async def test_replay_is_deterministic() -> None:
    first = [c.delta for c in await collect(ask(DEFAULT_RECORDING, delay=0))]
    second = [c.delta for c in await collect(ask(DEFAULT_RECORDING, delay=0))]
    assert first == second


# -- tool exchanges ------------------------------------------------------------------------------
async def test_a_tool_exchange_recording_runs_a_whole_tool_loop_offline() -> None:
    import llmwidgets

    def get_weather(city: str) -> str:
        return f"sunny in {city}"

    r = await llmwidgets.complete("replay:weather", "Weather?", tools=[get_weather], delay=0)
    assert [c.parsed_arguments for c in r.tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert "- sunny in Paris\n- sunny in Oslo" in r.text
    assert r.finish_reason == "stop"


async def test_a_tool_exchange_without_the_tool_hands_the_calls_back() -> None:
    chunks = await collect(ask("weather", delay=0))
    assert chunks[-1].finish_reason == "tool_calls"
    assert [c.name for c in chunks[-1].tool_calls] == ["get_weather", "get_weather"]
