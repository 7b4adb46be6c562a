"""Thinking (reasoning) from the provider to the view's messages and the saved copy.

Providers are the real OpenAI and Anthropic SDKs over HTTP to the loopback wire server; widgets
send over a recording comm, so what is checked is what a view would receive.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from wire_server import WireServer

import llmwidgets
from llmwidgets import StreamWidget
from llmwidgets._chunks import Message, Request
from llmwidgets._providers.anthropic import AnthropicProvider
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._widgets import protocol
from tests.recording_comm import CommRecorder, RecordingComm

pytestmark = pytest.mark.usefixtures("fake_api_keys")


THOUGHT = "The user wants a greeting. Keep it short."


def base_url(server: WireServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


def widget(server: WireServer, model: str, provider: str = "openai") -> StreamWidget:
    return StreamWidget(f"{provider}:{model}", "hi", base_url=base_url(server, provider))


async def ended(w: StreamWidget, timeout: float = 10) -> None:
    assert w.run is not None and w.run.task is not None
    await asyncio.wait_for(asyncio.shield(w.run.task), timeout)


def comm_of(w: StreamWidget) -> RecordingComm:
    assert isinstance(w.comm, RecordingComm)
    return w.comm


# ---------------------------------------------------------------- providers


async def test_reasoning_in_the_reasoning_field_arrives_as_thinking(
    wire_server: WireServer,
) -> None:
    r = await llmwidgets.complete(
        "openai:thinking-as-reasoning", "Hi", base_url=wire_server.openai_base_url
    )
    assert (r.thinking, r.text) == ("The user wants a greeting.", "Hi!")


async def test_reported_reasoning_tokens_reach_the_usage(wire_server: WireServer) -> None:
    r = await llmwidgets.complete(
        "openai:thinking-hidden", "Hi", base_url=wire_server.openai_base_url
    )
    assert r.usage is not None
    assert (r.usage.output_tokens, r.usage.reasoning_tokens) == (340, 300)
    assert r.thinking == ""


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_time_to_first_token_is_the_first_visible_token_not_the_first_thought(
    wire_server: WireServer, provider: str
) -> None:
    r = await llmwidgets.complete(
        f"{provider}:thinking?delay=0.02", "Hi", base_url=base_url(wire_server, provider)
    )
    assert r.time_to_first_thinking is not None and r.time_to_first_token is not None
    assert r.time_to_first_token - r.time_to_first_thinking >= 0.05  # three thinking deltas


async def test_anthropic_signature_deltas_never_reach_the_thinking(
    wire_server: WireServer,
) -> None:
    provider = AnthropicProvider(
        ProviderConfig("anthropic", base_url=wire_server.anthropic_base_url)
    )
    chunks = [c async for c in provider.stream(Request("thinking", [Message("user", "Hi")]))]
    assert "".join(c.thinking for c in chunks) == THOUGHT
    assert "sig" not in "".join(c.thinking + c.delta for c in chunks)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (True, {"type": "enabled", "budget_tokens": 2048}),
        (5000, {"type": "enabled", "budget_tokens": 5000}),
        ({"type": "enabled", "budget_tokens": 1024}, {"type": "enabled", "budget_tokens": 1024}),
    ],
)
async def test_anthropic_thinking_option_short_forms(
    wire_server: WireServer, given: Any, expected: dict[str, Any]
) -> None:
    await llmwidgets.complete(
        "anthropic:thinking", "Hi", base_url=wire_server.anthropic_base_url, thinking=given
    )
    body = wire_server.requests[-1].body
    assert body["thinking"] == expected
    assert body["max_tokens"] > expected["budget_tokens"]


async def test_anthropic_thinking_false_leaves_the_field_out(wire_server: WireServer) -> None:
    await llmwidgets.complete(
        "anthropic:plain-text", "Hi", base_url=wire_server.anthropic_base_url, thinking=False
    )
    assert "thinking" not in wire_server.requests[-1].body


async def test_a_given_max_tokens_is_kept_with_thinking(wire_server: WireServer) -> None:
    await llmwidgets.complete(
        "anthropic:thinking",
        "Hi",
        base_url=wire_server.anthropic_base_url,
        thinking=1024,
        max_tokens=3000,
    )
    assert wire_server.requests[-1].body["max_tokens"] == 3000


# ---------------------------------------------------------------- widget messages


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_thinking_deltas_name_their_part_and_come_before_the_text(
    recorder: CommRecorder, wire_server: WireServer, provider: str
) -> None:
    w = widget(wire_server, "thinking", provider)
    await ended(w)
    deltas = comm_of(w).deltas()
    thinking = "".join(d["text"] for d in deltas if d.get("part") == "thinking")
    text = "".join(d["text"] for d in deltas if "part" not in d)
    assert (thinking, text) == (THOUGHT, "Hi there!")
    parts = [d.get("part", "text") for d in deltas]
    assert parts == sorted(parts, key=lambda p: p != "thinking")


async def test_thinking_and_text_share_one_seq_sequence(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking?delay=0.01")
    await ended(w)
    seqs = [d["seq"] for d in comm_of(w).deltas()]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_a_text_delta_is_the_same_message_as_before_parts(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "plain-text")
    await ended(w)
    assert {frozenset(d) - {"metrics"} for d in comm_of(w).deltas()} == {
        frozenset({"type", "seq", "text"})
    }


async def test_the_first_answer_token_after_thinking_goes_out_at_once(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = StreamWidget(
        "openai:thinking?delay=0.02",
        "hi",
        base_url=wire_server.openai_base_url,
        flush_interval=10,
    )
    await ended(w)
    deltas = comm_of(w).deltas()
    first_text = next(d for d in deltas if "part" not in d)
    assert first_text["text"] == "Hi "  # not held until the end by the 10 s clock


async def test_a_snapshot_mid_thinking_holds_the_thinking_so_far(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking-slow?delay=0.02")
    while not comm_of(w).deltas():
        await asyncio.sleep(0.005)
    comm_of(w).view_says({"type": protocol.HELLO})
    snap = next(c for c in comm_of(w).customs() if c["type"] == "snapshot")
    await ended(w)
    later = [d for d in comm_of(w).deltas() if d["seq"] > snap["seq"]]
    thinking = snap["thinking"] + "".join(d["text"] for d in later if d.get("part"))
    assert thinking == w.final_thinking
    assert snap["text"] + "".join(d["text"] for d in later if not d.get("part")) == w.final_text


async def test_a_snapshot_without_thinking_has_no_thinking_field(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "plain-text")
    await ended(w)
    comm_of(w).view_says({"type": protocol.HELLO})
    snap = next(c for c in comm_of(w).customs() if c["type"] == "snapshot")
    assert set(snap) == {"type", "seq", "text"}


async def test_the_end_keeps_the_thinking_apart_from_the_answer(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking")
    await w
    assert (w.final_thinking, w.final_text) == (THOUGHT, "Hi there!")


# ---------------------------------------------------------------- metrics


async def test_thinking_tokens_are_estimated_from_the_thinking_text_while_streaming(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking?delay=0.02")
    while not comm_of(w).deltas():
        await asyncio.sleep(0.002)
    assert w.run is not None
    live = w.run.metrics()
    assert live.thinking_tokens == max(1, round(len(w.run.thinking) / 4))
    assert live.thinking_estimated is True
    await ended(w)


async def test_an_exact_total_without_a_split_is_shared_out_by_characters(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking")  # 34 output tokens in all, thinking not reported
    await w
    share = len(THOUGHT) / (len(THOUGHT) + len("Hi there!"))
    assert w.metrics["thinking_tokens"] == round(34 * share)
    assert w.metrics["thinking_estimated"] is True


async def test_reported_thinking_tokens_are_exact(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking-hidden")
    await w
    assert (w.metrics["thinking_tokens"], w.metrics["thinking_estimated"]) == (300, False)
    assert w.metrics["output_tokens"] == 340  # the answer's 40 and the thinking's 300


async def test_thinking_time_and_ttft_split_at_the_first_visible_token(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking?delay=0.02")
    await w
    m = w.metrics
    assert m["thinking_ttft"] < m["ttft"]
    assert m["thinking_time"] == pytest.approx(m["ttft"])


async def test_an_answer_without_thinking_has_no_thinking_metrics(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "plain-text")
    await w
    assert w.metrics["thinking_tokens"] is None and w.metrics["thinking_ttft"] is None
    live = [d["metrics"] for d in comm_of(w).deltas() if "metrics" in d]
    assert all(not any(k.startswith("thinking") for k in m) for m in live)


# ---------------------------------------------------------------- saved copy


async def test_the_saved_copy_sums_up_the_thinking_in_one_line(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking-hidden")
    await w
    first_line = w.markdown().split("\n\n")[0]
    assert first_line.startswith("*Thought for ") and first_line.endswith(" · 300 tokens*")
    assert "Thought for" in w.saved_copy()["text/html"]


async def test_the_saved_copy_of_an_answer_without_thinking_has_no_summary(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "plain-text")
    await w
    assert "Thought" not in w.markdown()


async def test_the_saved_copy_leaves_the_thinking_text_out(
    recorder: CommRecorder, wire_server: WireServer
) -> None:
    w = widget(wire_server, "thinking")
    await w
    assert "The user wants" not in w.markdown()
