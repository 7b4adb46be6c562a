"""Figure 8 — the end of eight answers at once in JupyterLab: no long task on the page.

The same JupyterLab + headless Chromium as the lab figure (`lab.Bench`). One cell runs
`compare([model] * 8, "hi", base_url=...)`: eight panes, each streaming a 20 KB markdown answer
from the loopback wire server through the OpenAI SDK, all started together, so they end within
a few milliseconds of each other — the worst case for what an end costs the page: eight views
finalize their markdown, the summary table appears, and the comparison's saved copy (all eight
answers as HTML, about 250 KB, in an output the page hides) replaces its empty slot.

The pace is 8 characters every 4 ms per pane (2,000 characters/s; 16,000 for the eight): fast
enough that the answers stream for ~10 s, slow enough that the kernel keeps up (the SDK's own
parsing costs ~200 us of CPU per chunk, see the kernel figure), so the panes do end together.

In the page, before the cell runs:

* a `PerformanceObserver` for `longtask` entries (any task of 50 ms or more on the main thread):
  the goal's own test, as the web defines a long task;
* a Chromium trace (`toplevel` category, Playwright's `start_tracing`) of every task the page's
  main thread runs, whatever its length: the figure's numbers, so a run with no long task still
  has a longest task to compare (the trace is aligned with the page clock by a
  `performance.mark`);
* a `requestAnimationFrame` loop recording gaps between frames over 20 ms (details only);
* a MutationObserver on the cell's output stamping the first text (first delta on screen), each
  pane's `data-status="done"`, the saved copy (`.llmw-saved`) and the last change.

Watched until every pane is done and then neither the websocket nor the DOM has changed for
`QUIET` s. "Streaming" is from the first text to the first pane's end; "the end" from the first
pane's end to that quiet end (a task belongs to the phase in which it finishes). Reported: the
longest task in each phase, and the tasks over 30 ms at the end with their start relative to the
first end (`details`).

Baseline, same page and run: `compare()` of one pane, the same answer at the same pace — the
same code path (views, summary, saved copy), an eighth of the work at the end, so the ratio of
the longest frame gaps shows how the end's cost grows with the number of panes. Goal: no long
task at the end of the eight (every task under 50 ms).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Row, WireProcess, ratio
from benchmarks.answers import markdown_answer

PANES = 8
SIZE = 20_000
CHUNK = 8
DELAY = 0.004
QUIET = 1.0
QUIET_CAP = 60.0
LONG_TASK_MS = 50.0

CELL = """
from llmwidgets import compare
BENCH.clear()
c = compare([{model!r}] * {panes}, "hi", base_url=BASE)
c
"""

WATCH = """
(panes) => {
  const stamp = () => performance.timeOrigin + performance.now();
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[1].outputArea.node;
  performance.mark("llmw-end-sync");  // aligns the trace's clock with this page's
  const w = (window.__end = { panes, tasks: [], gaps: [], firstText: null, ends: [],
    saved: null, last: null, started: stamp(), timeOrigin: performance.timeOrigin });
  const tasks = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      w.tasks.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
    }
  });
  tasks.observe({ type: "longtask", buffered: false });
  let prev = null, running = true;
  const tick = (now) => {
    if (!running) return;
    if (prev !== null && now - prev > 20) w.gaps.push({ at: performance.timeOrigin + prev, ms: now - prev });
    prev = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const done = new WeakSet();
  const observer = new MutationObserver(() => {
    const t = stamp();
    w.last = t;
    if (w.firstText === null && cell.querySelector(".llmw-block")) w.firstText = t;
    for (const el of cell.querySelectorAll('.llmw-stream[data-status="done"]')) {
      if (!done.has(el)) { done.add(el); w.ends.push(t); }
    }
    if (w.saved === null && cell.querySelector(".llmw-saved")) w.saved = t;
  });
  observer.observe(cell, { subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["data-status"] });
  window.__endStop = () => { running = false; tasks.disconnect(); observer.disconnect(); };
}
"""


def main_thread_tasks(trace: bytes, time_origin: float) -> list[dict[str, float]]:
    """Every task of the page's main thread in a Chromium trace, as {at: epoch ms, ms}."""
    events = json.loads(trace)["traceEvents"]
    mark = next(e for e in events if e.get("name") == "llmw-end-sync")
    pid = mark["pid"]
    threads = [
        e["tid"]
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("pid") == pid
        and e["args"].get("name") == "CrRendererMain"
    ]
    zero = time_origin + mark["args"]["data"]["startTime"] - mark["ts"] / 1000
    return [
        {"at": zero + e["ts"] / 1000, "ms": e["dur"] / 1000}
        for e in events
        if e.get("pid") == pid
        and e.get("tid") in threads
        and e.get("ph") == "X"
        and e.get("name") == "ThreadControllerImpl::RunTask"
    ]


def longest(items: list[dict[str, float]], start: float | None, end: float | None) -> float:
    """The longest `ms` among items (tasks, gaps) that finish in [start, end) (epoch ms).

    By the finish: the task in which the first pane ends belongs to the end. 0 if none.
    """
    if start is None or end is None:
        return 0.0
    return max((i["ms"] for i in items if start <= i["at"] + i["ms"] < end), default=0.0)


def case(bench: Any, wire: WireProcess, panes: int) -> dict[str, Any]:
    page = bench.page.page
    model = "openai:" + WireProcess.text_model("end", chunk=CHUNK, delay=DELAY)
    bench.page.command("notebook:clear-all-cell-outputs")
    bench.set_source(CELL.format(model=model, panes=panes))
    page.wait_for_timeout(300)
    wire.reset()
    bench.received = 0
    bench.browser.start_tracing(page=page, categories=["toplevel", "blink.user_timing"])
    page.evaluate(WATCH, panes)
    started = time.time()
    bench.page.run_cell(1)
    cap = 60 + 3 * SIZE / CHUNK * DELAY
    while time.time() - started < cap:
        page.wait_for_timeout(200)
        if page.evaluate("window.__end.ends.length") >= panes:
            break
    quiet_cap = time.monotonic() + QUIET_CAP
    while time.monotonic() < quiet_cap:
        page.wait_for_timeout(200)
        dom_quiet = page.evaluate(
            "(performance.timeOrigin + performance.now() - (window.__end.last ?? 0)) / 1000"
        )
        if time.monotonic() - bench.last_frame >= QUIET and dom_quiet >= QUIET:
            break
    quiet_end = page.evaluate("performance.timeOrigin + performance.now()")
    watch = page.evaluate("window.__end")
    page.evaluate("window.__endStop()")
    traced = main_thread_tasks(bench.browser.stop_tracing(), watch["timeOrigin"])
    bench.page.wait_idle(120)
    bench.page.command("notebook:clear-all-cell-outputs")
    bench.kernel("[x.close() for c in [globals().get('c')] if c for x in [*c.panes, c]] and None")
    first_end = min(watch["ends"]) if watch["ends"] else None
    last_end = max(watch["ends"]) if watch["ends"] else None
    streaming = (watch["firstText"], first_end)
    ending = (first_end, quiet_end)
    result = {
        "panes": panes,
        "ended": len(watch["ends"]),
        "ws_bytes": bench.received,
        "stream_s": (first_end - watch["firstText"]) / 1000
        if first_end and watch["firstText"]
        else None,
        "ends_spread_s": (last_end - first_end) / 1000 if first_end else None,
        "saved_after_last_end_s": (watch["saved"] - last_end) / 1000
        if watch["saved"] and last_end
        else None,
        "longest_task_streaming_ms": longest(traced, *streaming),
        "longest_task_end_ms": longest(traced, *ending),
        "longtask_entries_streaming_ms": longest(watch["tasks"], *streaming),
        "longtask_entries_end_ms": longest(watch["tasks"], *ending),
        "tasks_over_30ms_at_end": [
            {"after_first_end_ms": t["at"] - first_end, "ms": t["ms"]}
            for t in traced
            if first_end and first_end <= t["at"] + t["ms"] < quiet_end and t["ms"] > 30
        ],
        "longest_gap_streaming_ms": longest(watch["gaps"], *streaming),
        "longest_gap_end_ms": longest(watch["gaps"], *ending),
        "longtask_entries": [
            {"after_first_end_ms": t["at"] - first_end if first_end else None, "ms": t["ms"]}
            for t in watch["tasks"]
            if watch["firstText"] and t["at"] >= watch["firstText"]
        ],
        "gaps_over_34ms_at_end": [
            {"after_first_end_ms": g["at"] - first_end, "ms": g["ms"]}
            for g in watch["gaps"]
            if first_end and g["at"] + g["ms"] >= first_end and g["ms"] > 34
        ],
        "saved_after_first_end_ms": watch["saved"] - first_end
        if watch["saved"] and first_end
        else None,
    }
    print(f"   {panes} pane(s): {result}", flush=True)
    return result


def measure() -> dict[str, Any]:
    from benchmarks.lab import Bench

    with tempfile.TemporaryDirectory(prefix="llmw-bench-end-") as tmp, WireProcess() as wire:
        wire.add_text("end", markdown_answer(SIZE))
        bench = Bench(Path(tmp), wire)
        try:
            case(bench, wire, 2)  # warm-up: the bundle, compare's widgets, the SDK
            one = case(bench, wire, 1)
            many = case(bench, wire, PANES)
        finally:
            bench.close()
    return {"one": one, "many": many}


def run() -> list[Row]:
    got = measure()
    one, many = got["one"], got["many"]
    kb = f"{SIZE // 1000} KB"
    complete = many["ended"] == PANES and one["ended"] == 1
    at_end = many["tasks_over_30ms_at_end"]
    return [
        Row(
            figure="8 end of 8 panes",
            case=f"{PANES} x {kb}: longest task at the end vs 1 pane",
            ours=many["longest_task_end_ms"],
            baseline=one["longest_task_end_ms"],
            ratio=ratio(many["longest_task_end_ms"], one["longest_task_end_ms"]),
            goal=f"no long task at the end (all < {LONG_TASK_MS:g} ms)",
            met=complete
            and many["longest_task_end_ms"] < LONG_TASK_MS
            and many["longtask_entries_end_ms"] < LONG_TASK_MS,
            unit="ms, the page's main thread (Chromium trace)",
            note=(
                f"longtask entries at the end: {many['longtask_entries_end_ms']:.0f} ms (1 pane "
                f"{one['longtask_entries_end_ms']:.0f}); tasks over 30 ms at +ms after the first "
                "end: "
                + (
                    ", ".join(f"{t['ms']:.0f} at +{t['after_first_end_ms']:.0f}" for t in at_end)
                    or "none"
                )
                + f"; saved copy at +{(many['saved_after_first_end_ms'] or 0):.0f}; panes ended "
                f"within {(many['ends_spread_s'] or 0) * 1000:.0f} ms"
                + ("" if complete else "; NOT EVERY PANE ENDED")
            ),
            details=got,
        ),
        Row(
            figure="8 end of 8 panes",
            case=f"{PANES} x {kb}: longest task while streaming vs 1 pane",
            ours=many["longest_task_streaming_ms"],
            baseline=one["longest_task_streaming_ms"],
            ratio=ratio(many["longest_task_streaming_ms"], one["longest_task_streaming_ms"]),
            goal="(information)",
            met=None,
            unit="ms, the page's main thread (Chromium trace)",
            note=(
                f"longtask entries while streaming: {many['longtask_entries_streaming_ms']:.0f} ms"
                f" (1 pane {one['longtask_entries_streaming_ms']:.0f}); longest frame gap "
                f"{many['longest_gap_streaming_ms']:.0f} ms, at the end "
                f"{many['longest_gap_end_ms']:.0f} ms (1 pane {one['longest_gap_end_ms']:.0f})"
            ),
        ),
    ]
