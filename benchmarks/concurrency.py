"""Figure 5 — concurrency: eight StreamWidgets on one loop keep up as well as one alone.

Kernel side, recording comms: each stream is fed by the in-process `bench:` provider at the same
fixed rate (2,000 characters/s in 4-character chunks, 5x a fast chat model) for a 20,000-character
answer. Throughput = characters / (time from start to the widget's end). Ours: the slowest of
eight concurrent widgets; baseline: one widget alone, same run. Goal: ratio >= 0.9.

A second case runs the eight as a `compare()` grid (the comparison cell's widget).
"""

from __future__ import annotations

import asyncio
import time

from benchmarks import Row, ratio, recording_comms
from benchmarks.answers import markdown_answer
from benchmarks.paced import add_text, paced_model

SIZE = 20_000
CPS = 2_000
STREAMS = 8
GOAL = 0.9


async def throughput(widget: object, started: float) -> float:
    await widget  # type: ignore[misc]
    return SIZE / (time.perf_counter() - started)


async def solo() -> float:
    from llmwidgets import StreamWidget

    started = time.perf_counter()
    w = StreamWidget(paced_model("conc", cps=CPS), "hi")
    tput = await throughput(w, started)
    w.close()
    return tput


async def eight() -> list[float]:
    from llmwidgets import StreamWidget

    started = time.perf_counter()
    widgets = [StreamWidget(paced_model("conc", cps=CPS), "hi") for _ in range(STREAMS)]
    tputs = await asyncio.gather(*(throughput(w, started) for w in widgets))
    for w in widgets:
        w.close()
    return list(tputs)


async def grid() -> list[float] | None:
    try:
        from llmwidgets.widgets.compare import compare
    except ImportError:
        return None
    started = time.perf_counter()
    c = compare([paced_model("conc", cps=CPS)] * STREAMS, "hi")
    ends: list[float] = []
    for pane in c.panes:
        await pane
        ends.append(time.perf_counter())
    await c
    return [SIZE / (end - started) for end in ends]


async def run_async() -> list[Row]:
    add_text("conc", markdown_answer(SIZE))
    rows = []
    with recording_comms():
        alone = await solo()
        many = await eight()
        panes = await grid()
    cases = [("8 StreamWidgets", many)]
    if panes is not None:
        cases.append(("compare() of 8", panes))
    for case, tputs in cases:
        slowest = min(tputs)
        r = ratio(slowest, alone)
        rows.append(
            Row(
                figure="5 concurrency",
                case=case,
                ours=slowest,
                baseline=alone,
                ratio=r,
                goal=f"slowest / solo >= {GOAL}",
                met=r is not None and r >= GOAL,
                unit="characters/s",
                note=f"fed at {CPS:,} char/s each",
                details={"throughputs": tputs},
            )
        )
    return rows


def run() -> list[Row]:
    return asyncio.run(run_async())
