"""Figure 1 — wire bytes: what the kernel sends to the front end per byte of answer.

Ours: a real `StreamWidget` streams the answer from the loopback wire server (real OpenAI SDK over
HTTP, 4-character chunks, no delay) into a recording comm; we add up the JSON size of every comm
message after the widget opened (deltas, state updates, the final text), divided by the answer's
UTF-8 bytes. The comm_open (the ESM bundle and initial state, sent once per widget whatever the
answer) is reported apart in the details.

Baseline, same run: a minimal anywidget with one synced `text` trait, set to the whole text so far
at each of our flushes (so both send the same number of updates), as a naive widget would.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anywidget
import traitlets

from benchmarks import Row, WireProcess, ratio, recording_comms
from benchmarks.answers import markdown_answer, utf8_len

SIZES = [10_000, 100_000, 1_000_000]
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


async def measure(wire: WireProcess, size: int) -> Row:
    from llmwidgets import StreamWidget

    answer = markdown_answer(size)
    name = f"wire{size}"
    wire.add_text(name, answer)
    answer_bytes = utf8_len(answer)
    with recording_comms():
        ours = StreamWidget(
            f"openai:{wire.text_model(name, chunk=4)}",
            "hi",
            base_url=wire.openai_base_url,
            flush_interval=0.05,
        )
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
        case=f"{size // 1000:,} KB",
        ours=ours_ratio,
        baseline=naive_ratio,
        ratio=ratio(ours_ratio, naive_ratio),
        goal=f"ours <= {GOAL} x answer, flat in length",
        met=ours_ratio <= GOAL,
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
    rows = []
    with WireProcess() as wire:
        for size in SIZES:
            rows.append(await measure(wire, size))
    return rows


def run() -> list[Row]:
    return asyncio.run(run_async())
