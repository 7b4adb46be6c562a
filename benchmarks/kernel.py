"""Figure 2 — kernel overhead: CPU time of a stream through the widget over the raw SDK loop.

The same long stream (10,000 four-character chunks) comes from the loopback wire server, run as a
separate process so that `time.process_time()` counts only this process, the "kernel". Raw: the
OpenAI SDK's `chat.completions.create(stream=True)` iterated to the end, doing nothing with the
chunks. Ours: `StreamWidget("openai:...")` with a recording comm, awaited to the end — the
provider, `stream()`, the streamer's batching and metrics, and the widget's messages.

Noise: on this 2-core VM the *same* raw loop costs anywhere from 190 to 330 us of CPU per chunk
from one run to the next (CPU time equals wall time: the client is never idle), which swamps a
10% goal in any single pair. So the figure runs `ROUNDS` pairs after a warm-up, alternating
which side goes first, the two processes pinned to different cores, and reports the median of
the per-pair ratios (the sum and min ratios are in the details). A noise-free floor is measured
too: our layers alone (the in-process `bench:` provider at an unlimited rate, no HTTP, no SDK),
in CPU us per chunk, next to the SDK's own cost per chunk.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from benchmarks import Row, WireProcess, ratio, recording_comms

CHUNKS = 10_000
CHUNK = 4
ROUNDS = 10
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


async def our_layers_alone(text: str) -> float:
    """CPU seconds per chunk of StreamWidget over the in-process `bench:` provider, unpaced."""
    from benchmarks.paced import add_text, paced_model
    from llmwidgets import StreamWidget

    add_text("kernel-floor", text)
    with recording_comms():
        cpu = time.process_time()
        w = StreamWidget(paced_model("kernel-floor", cps=1e12, chunk=CHUNK), "hi")
        await w
        cpu = time.process_time() - cpu
    w.close()
    return cpu / (len(text) / CHUNK)


def pin(wire: WireProcess, cores: set[int]) -> None:
    """This process on one core, the server on the other (where the OS lets us)."""
    if len(cores) >= 2 and wire.process is not None:
        first, second = sorted(cores)[:2]
        os.sched_setaffinity(0, {first})
        os.sched_setaffinity(wire.process.pid, {second})


def unpin(cores: set[int]) -> None:
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)


async def run_async() -> list[Row]:
    text = ("lorem ipsum dolor sit amet, " * (CHUNKS * CHUNK // 28 + 1))[: CHUNKS * CHUNK]
    cores = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
    with WireProcess() as wire:
        pin(wire, cores)
        try:
            wire.add_text("kernel", text)
            wire.add_text("warm", text[:4000])
            warm = wire.text_model("warm", chunk=CHUNK)
            await raw_sdk(wire, warm)
            await through_widget(wire, warm)
            model = wire.text_model("kernel", chunk=CHUNK)
            raws, ours = [], []
            updates = 0
            for i in range(ROUNDS):
                if i % 2:
                    cpu, wall, chars, updates = await through_widget(wire, model)
                    ours.append((cpu, wall, chars))
                    raws.append(await raw_sdk(wire, model))
                else:
                    raws.append(await raw_sdk(wire, model))
                    cpu, wall, chars, updates = await through_widget(wire, model)
                    ours.append((cpu, wall, chars))
            floor = min([await our_layers_alone(text) for _ in range(3)])
        finally:
            unpin(cores)
    raw_cpu = sum(r[0] for r in raws)
    our_cpu = sum(o[0] for o in ours)
    total = CHUNKS * ROUNDS
    pairs = [o[0] / r[0] for o, r in zip(ours, raws, strict=True)]
    rounds = ", ".join(f"{p:.2f}" for p in pairs)
    r = statistics.median(pairs)
    sdk_per_chunk = min(x[0] for x in raws) / CHUNKS
    return [
        Row(
            figure="2 kernel overhead",
            case=f"{ROUNDS} x {CHUNKS:,} chunks",
            ours=our_cpu,
            baseline=raw_cpu,
            ratio=r,
            goal=f"median pair ratio <= {GOAL}",
            met=r <= GOAL,
            unit="CPU seconds (process_time), summed over the rounds",
            note=(
                f"median of {ROUNDS} pairs; {1e6 * our_cpu / total:.0f} vs "
                f"{1e6 * raw_cpu / total:.0f} us CPU/chunk; our layers alone "
                f"{1e6 * floor:.1f} us/chunk = {floor / sdk_per_chunk:.1%} of the SDK's "
                f"{1e6 * sdk_per_chunk:.0f}"
            ),
            details={
                "pair_ratios": rounds,
                "sum_ratio": ratio(our_cpu, raw_cpu),
                "min_ratio": min(o[0] for o in ours) / min(x[0] for x in raws),
                "our_layers_us_per_chunk": 1e6 * floor,
                "sdk_us_per_chunk_min": 1e6 * sdk_per_chunk,
                "updates_per_widget_run": updates,
                "raw_runs": [{"cpu": c, "wall": w, "chars": n} for c, w, n in raws],
                "widget_runs": [{"cpu": c, "wall": w, "chars": n} for c, w, n in ours],
            },
        )
    ]


def run() -> list[Row]:
    return asyncio.run(run_async())
