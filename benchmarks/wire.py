"""Figure 1 — wire bytes: what the kernel sends to the front end per byte of answer.

Ours: a real `StreamWidget` streams the answer from the in-process `bench:` provider (4-character
chunks at 40,000 characters/s, so 1 MB takes 25 s; see `paced.py`) into a recording comm; we add up the JSON size of every comm
message after the widget opened (deltas, state updates, the final text), divided by the answer's
UTF-8 bytes. The comm_open (the ESM bundle and initial state, sent once per widget whatever the
answer) is reported apart in the details.

One more case streams 10 KB at a chat model's speed (400 characters/s, about 100 tokens/s): there
each update carries little text, so the per-update envelope (seq and metrics) shows.

Baseline, same run: a minimal anywidget with one synced `text` trait, set to the whole text so far
at each of our flushes (so both send the same number of updates), as a naive widget would.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anywidget
import traitlets

from benchmarks import Row, ratio, recording_comms
from benchmarks.answers import markdown_answer, utf8_len
from benchmarks.paced import add_text, paced_model

#: (answer characters, characters per second)
FAST = 40_000
CASES = [(10_000, FAST), (100_000, FAST), (1_000_000, FAST), (10_000, 400)]
GOAL = 1.2


class TextTraitWidget(anywidget.AnyWidget):
    """The naive baseline: the whole text as a synced trait, set on each update."""

    _esm = "export default { render({ model, el }) { el.textContent = model.get('text'); } };"
    text = traitlets.Unicode("").tag(sync=True)


def wire_size(data: Any) -> int:
    """Bytes of a message's data as jupyter_client packs it (json.dumps, ensure_ascii=False)."""
    return len(json.dumps(data, ensure_ascii=False, default=str).encode())


def stream_bytes(comm: Any) -> tuple[int, int, dict[str, int]]:
    """(bytes after open, bytes of the open, breakdown by kind) of a recording comm's log."""
    opened = 0
    kinds: dict[str, int] = {}
    for sent in comm.log:
        size = wire_size(sent.data)
        if sent.msg_type == "comm_open":
            opened += size
            continue
        data = sent.data
        if data.get("method") == "custom":
            kind = f"custom:{data['content'].get('type')}"
        elif data.get("method") == "update":
            kind = "update:" + ",".join(sorted(data.get("state", {})))
        else:
            kind = sent.msg_type
        kinds[kind] = kinds.get(kind, 0) + size
    return sum(kinds.values()), opened, kinds


async def measure(size: int, cps: float) -> Row:
    from llmwidgets import StreamWidget

    answer = markdown_answer(size)
    name = f"wire{size}"
    add_text(name, answer)
    answer_bytes = utf8_len(answer)
    with recording_comms():
        ours = StreamWidget(paced_model(name, cps=cps, chunk=4), "hi", flush_interval=0.05)
        await ours
        assert ours.text == answer, "the widget lost text"
        deltas = ours.comm.deltas()
        naive = TextTraitWidget()
        shown = ""
        for delta in deltas:
            shown += delta["text"]
            naive.text = shown
    ours_sent, ours_open, kinds = stream_bytes(ours.comm)
    naive_sent, naive_open, _ = stream_bytes(naive.comm)
    ours.close()
    naive.close()
    ours_ratio = ours_sent / answer_bytes
    naive_ratio = naive_sent / answer_bytes
    final = sum(v for k, v in kinds.items() if "final_text" in k)
    return Row(
        figure="1 wire bytes",
        case=f"{size // 1000:,} KB at {cps:,.0f} char/s",
        ours=ours_ratio,
        baseline=naive_ratio,
        ratio=ratio(ours_ratio, naive_ratio),
        # The goal is about length at a fixed update rate; the chat-speed case shows the
        # per-update envelope (~20 characters per update) and is there for information.
        goal=f"ours <= {GOAL} x answer, flat in length" if cps >= FAST else "(information)",
        met=ours_ratio <= GOAL if cps >= FAST else None,
        unit="bytes sent / answer bytes",
        note=f"{len(deltas)} updates; end-of-stream final_text trait = {final / answer_bytes:.2f}x",
        details={
            "answer_bytes": answer_bytes,
            "updates": len(deltas),
            "ours_bytes": ours_sent,
            "ours_without_final_text": (ours_sent - final) / answer_bytes,
            "ours_comm_open_bytes": ours_open,
            "ours_breakdown": kinds,
            "baseline_bytes": naive_sent,
            "baseline_comm_open_bytes": naive_open,
        },
    )


async def run_async() -> list[Row]:
    return [await measure(size, cps) for size, cps in CASES]


def run() -> list[Row]:
    return asyncio.run(run_async())
