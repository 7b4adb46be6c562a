"""Figure 2 — kernel overhead: CPU time of a stream through the widget over the raw SDK loop.

The same long stream (20,000 four-character chunks, three times each way: 60,000 chunks a side) comes from the loopback wire server, run as a
separate process so that `time.process_time()` counts only this process, the "kernel". Raw: the
OpenAI SDK's `chat.completions.create(stream=True)` iterated to the end, doing nothing with the
chunks. Ours: `StreamWidget("openai:...")` with a recording comm, awaited to the end — the
provider, `stream()`, the streamer's batching and metrics, and the widget's messages.

Both are run after a warm-up stream, alternately; one run's CPU time varies by +-15% on this
2-core machine (the server process shares it), so the figure is the sum over the rounds of each
side, and the per-round ratios are in the details. On this machine the SDK alone costs about
200-250 us of CPU per chunk (pydantic model construction), so "at most 1.10" leaves us ~20 us.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks import Row, WireProcess, ratio, recording_comms

CHUNKS = 20_000
CHUNK = 4
ROUNDS = 3
GOAL = 1.10


async def raw_sdk(wire: WireProcess, model: str) -> tuple[float, float, int]:
    """(cpu seconds, wall seconds, characters) of the bare SDK loop."""
    import openai

    client = openai.AsyncOpenAI(base_url=wire.openai_base_url, max_retries=0)
    wall, cpu = time.perf_counter(), time.process_time()
    chars = 0
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            chars += len(chunk.choices[0].delta.content)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.close()
    return cpu, wall, chars


async def through_widget(wire: WireProcess, model: str) -> tuple[float, float, int, int]:
    """(cpu seconds, wall seconds, characters, updates sent) through StreamWidget."""
    from llmwidgets import StreamWidget

    with recording_comms():
        wall, cpu = time.perf_counter(), time.process_time()
        w = StreamWidget(
            f"openai:{model}", "hi", base_url=wire.openai_base_url, flush_interval=0.05
        )
        await w
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    updates = len(w.comm.deltas())
    chars = len(w.text)
    w.close()
    return cpu, wall, chars, updates


async def run_async() -> list[Row]:
    text = ("lorem ipsum dolor sit amet, " * (CHUNKS * CHUNK // 28 + 1))[: CHUNKS * CHUNK]
    with WireProcess() as wire:
        wire.add_text("kernel", text)
        wire.add_text("warm", text[:4000])
        warm = wire.text_model("warm", chunk=CHUNK)
        await raw_sdk(wire, warm)
        await through_widget(wire, warm)
        model = wire.text_model("kernel", chunk=CHUNK)
        raws, ours = [], []
        updates = 0
        for _ in range(ROUNDS):
            raws.append(await raw_sdk(wire, model))
            cpu, wall, chars, updates = await through_widget(wire, model)
            ours.append((cpu, wall, chars))
    raw_cpu = sum(r[0] for r in raws)
    our_cpu = sum(o[0] for o in ours)
    total = CHUNKS * ROUNDS
    rounds = ", ".join(f"{o[0] / r[0]:.2f}" for o, r in zip(ours, raws, strict=True))
    r = ratio(our_cpu, raw_cpu)
    return [
        Row(
            figure="2 kernel overhead",
            case=f"{ROUNDS} x {CHUNKS:,} chunks",
            ours=our_cpu,
            baseline=raw_cpu,
            ratio=r,
            goal=f"ratio <= {GOAL}",
            met=r is not None and r <= GOAL,
            unit="CPU seconds (process_time)",
            note=(
                f"{1e6 * our_cpu / total:.0f} vs {1e6 * raw_cpu / total:.0f} us CPU/chunk; "
                f"rounds {rounds}"
            ),
            details={
                "updates_per_widget_run": updates,
                "raw_runs": [{"cpu": c, "wall": w, "chars": n} for c, w, n in raws],
                "widget_runs": [{"cpu": c, "wall": w, "chars": n} for c, w, n in ours],
            },
        )
    ]


def run() -> list[Row]:
    return asyncio.run(run_async())
