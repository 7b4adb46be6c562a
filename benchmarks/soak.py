"""Figure 7 — soak: 200 streams in a row in one process leave nothing behind.

Each stream is a real `StreamWidget("openai:...")` on the loopback wire server (its own process),
with a recording comm, awaited and then closed as a notebook user closing the output would. The
kinds rotate: finished (a 400-character answer), stopped (Stop after the first delta of a slow
answer), failed mid-stream (an error event), failed at once (HTTP 500), and cut (the server drops
the TCP connection mid-stream).

Counted after a warm-up of 20 streams (the "baseline" column) and again after 200 more ("ours"):
asyncio tasks, comms not closed (the widgets' own, and the `Layout` child widget that every
ipywidgets DOMWidget creates and `close()` does not close), live StreamWidget / StreamRun objects (after `gc.collect()`),
the callbacks anywidget connects per instance to the class's
`_esm`/`_css` file watcher (they hold the widget strongly), this process's sockets (`/proc/self/fd`), TCP connections to the wire server, the Python heap
(`tracemalloc`, started before the warm-up: only live Python allocations, so it shows a leak of
a few bytes per stream that resident memory would hide) and resident memory. Memory is also
taken half-way and judged on the second 100 streams: caches fill during the first ones (lazy
imports in the SDKs, linecache from the error paths) and the allocator keeps arenas it grew,
so memory may step up early and then stay flat, while a leak grows in both halves.
The ratio is after / before; anything above 1 for a count is a leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import psutil

from benchmarks import Row, WireProcess, ratio, recording_comms

WARMUP = 20
STREAMS = 200
KINDS = ["finished", "stopped", "error-mid-stream", "http-500", "cut-mid-stream"]
RSS_NOISE_MB = 5.0
HEAP_NOISE_KB = 64.0


@dataclass
class Counts:
    tasks: int
    open_comms: int
    open_layout_comms: int
    widgets: int
    runs: int
    sockets: int
    esm_file_callbacks: int
    server_connections: int
    py_heap_kb: float
    rss_mb: float


def count(comms: list[Any], server_port: int) -> Counts:
    from llmwidgets import StreamWidget
    from llmwidgets._streamer import StreamRun

    gc.collect()
    objects = gc.get_objects()
    fds = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            fds += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    alive = [c for c in (ref() for ref in comms) if c is not None and not c._closed]
    layouts = sum(
        c.log[0].data.get("state", {}).get("_model_name") == "LayoutModel" for c in alive if c.log
    )
    proc = psutil.Process()
    conns = [c for c in proc.net_connections(kind="tcp") if c.raddr and c.raddr.port == server_port]
    return Counts(
        tasks=len(asyncio.all_tasks()) - 1,  # minus the benchmark's own task
        open_comms=len(alive) - layouts,
        open_layout_comms=layouts,
        # By type(), not isinstance(): isinstance reads `__class__`, and openai's lazy module
        # proxies (openai._extras) import numpy and pandas when asked for theirs, which made
        # this count itself grow the heap by ~29 MB.
        widgets=sum(issubclass(type(o), StreamWidget) for o in objects),
        runs=sum(issubclass(type(o), StreamRun) for o in objects),
        sockets=fds,
        esm_file_callbacks=_file_callbacks(StreamWidget),
        server_connections=len(conns),
        py_heap_kb=tracemalloc.get_traced_memory()[0] / 1024 if tracemalloc.is_tracing() else 0.0,
        rss_mb=proc.memory_info().rss / 2**20,
    )


def _file_callbacks(cls: type) -> int:
    """Callbacks anywidget hung on the class's `_esm`/`_css` file watchers (one per instance)."""
    total = 0
    for key in ("_esm", "_css"):
        changed = getattr(cls.__dict__.get(key), "changed", None)
        total += len(changed) if changed is not None else 0
    return total


async def one_stream(wire: WireProcess, kind: str, models: dict[str, str]) -> str:
    from llmwidgets import StreamWidget
    from llmwidgets._errors import LLMWidgetsError

    w = StreamWidget(f"openai:{models[kind]}", "hi", base_url=wire.openai_base_url)
    if kind == "stopped":
        deadline = time.monotonic() + 10
        while not w.text and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        w.stop()
    with contextlib.suppress(LLMWidgetsError):
        await w
    status = w.status
    w.close()
    return status


async def run_async() -> list[Row]:
    with WireProcess() as wire:
        wire.add_text("soak", "The quick brown fox jumps over the lazy dog. " * 9)
        models = {
            "finished": wire.text_model("soak", chunk=4),
            "stopped": "slow",
            "error-mid-stream": "error-mid-stream",
            "http-500": "http-500",
            "cut-mid-stream": "cut-mid-stream",
        }
        port = int(wire.url.rsplit(":", 1)[1])
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        with recording_comms() as comms:
            for i in range(WARMUP):
                await one_stream(wire, KINDS[i % len(KINDS)], models)
            await asyncio.sleep(0.2)
            before = count(comms, port)
            statuses: dict[str, int] = {}
            started = time.monotonic()
            for i in range(STREAMS):
                status = await one_stream(wire, KINDS[i % len(KINDS)], models)
                statuses[status] = statuses.get(status, 0) + 1
                if i + 1 == STREAMS // 2:
                    half = count(comms, port)
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.2)
            after = count(comms, port)
        if not tracing:
            tracemalloc.stop()
    rows = []
    note = f"{STREAMS} streams in {elapsed:.0f} s: " + ", ".join(
        f"{n} {s}" for s, n in sorted(statuses.items())
    )
    # Memory is judged on the second half: caches fill during the first streams (the SDKs'
    # lazy imports, linecache from the error paths), while a leak grows in both halves.
    memory_noise = {"py_heap_kb": HEAP_NOISE_KB, "rss_mb": RSS_NOISE_MB}
    for field in [
        "tasks",
        "open_comms",
        "open_layout_comms",
        "widgets",
        "runs",
        "sockets",
        "esm_file_callbacks",
        "server_connections",
        *memory_noise,
    ]:
        b, h, a = (getattr(c, field) for c in (before, half, after))
        if field in memory_noise:
            ref, noise = h, memory_noise[field]
            goal = f"growth over streams 101-200 <= {noise:g}"
            unit = "after 200 streams / after 100"
            row_note = (
                f"after the warm-up {b:,.1f}; growth over streams 1-100 {h - b:+,.1f}, "
                f"over 101-200 {a - h:+,.1f}"
            )
        else:
            ref, noise, goal = b, 0.0, "no growth"
            unit = "after 200 streams / after warm-up"
            row_note = note if field == "tasks" else ""
        rows.append(
            Row(
                figure="7 soak",
                case=field,
                ours=a,
                baseline=ref,
                ratio=ratio(a, ref),
                goal=goal,
                met=a - ref <= noise,
                unit=unit,
                note=row_note,
                details={"statuses": statuses, "elapsed": elapsed},
            )
        )
    return rows


def run() -> list[Row]:
    return asyncio.run(run_async())
