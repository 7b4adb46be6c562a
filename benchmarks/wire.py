"""Figure 1 — wire bytes: what a kernel sends to the front end per byte of answer, to the end.

A real ipykernel (its own process, `real_kernel.py`) runs the cell a notebook user would:
`w = StreamWidget(...)` then `w`, so the widget is displayed as in JupyterLab (the live view and
the saved-copy slot) and streams from the in-process `bench:` provider (4-character chunks at
40,000 characters/s, so 1 MB takes 25 s; see `paced.py`). Every iopub message is recorded as raw
frames and sized as the Jupyter server forwards it to the browser (the v1 websocket frame: header,
parent header, metadata, content and a small offsets table), until 1 s after the end-of-stream
`update_display_data` (the saved copy) with nothing more sent.

Counted: every message the widget causes after its `comm_open`s — the two `display_data` outputs,
deltas, state updates, the saved copy — divided by the answer's UTF-8 bytes. Reported apart: the
`comm_open`s (the ESM bundle reference and initial state, once per widget whatever the answer)
and the cell's own `status`/`execute_input` messages, which any cell costs.

Copies of the answer: how many times the whole answer crossed — the characters carried by
deltas, snapshots (and, for the baselines of the lab figure, `print`'s stream messages and
partial `text/markdown` outputs) over the answer's, plus one for each display message that holds
the whole answer (its end marker) — next to the bytes those payloads take (the saved copy is
HTML, larger than the markdown).

One more case streams 10 KB at a chat model's speed (400 characters/s, about 100 tokens/s): there
each update carries little text, so the per-message envelope shows.

Baseline, same kernel and run: a minimal anywidget with one synced `text` trait, displayed, then
set to the whole text so far at each of our deltas' offsets (same number of updates), as a naive
widget would; its messages carry the cell's parent header, as state updates do.

Also measured for 10 KB (in the details): `await w` in a *later* cell, after the stream has
ended, as the quickstart suggests; whatever it sends is counted there.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from benchmarks import Row, ratio
from benchmarks.answers import markdown_answer, utf8_len
from benchmarks.real_kernel import IopubMessage, RealKernel

#: (answer characters, characters per second)
FAST = 40_000
CASES = [(10_000, FAST), (100_000, FAST), (1_000_000, FAST), (10_000, 400)]
GOAL_COPIES = 2.0
END = "\n\nThe end ZZENDQ.\n"
MARK = "ZZENDQ"


class TextTraitWidget(anywidget.AnyWidget):
    """The naive baseline: the whole text as a synced trait, set on each update."""

    _esm = "export default { render({ model, el }) { el.textContent = model.get('text'); } };"
    text = traitlets.Unicode("").tag(sync=True)


SETUP = """
from benchmarks.answers import markdown_answer
from benchmarks.paced import add_text, paced_model
from benchmarks.wire import END, TextTraitWidget
from llmwidgets import StreamWidget
"""

OURS = """
ANSWER = markdown_answer({size} - len(END)) + END
add_text("wire", ANSWER)
w = StreamWidget(paced_model("wire", cps={cps}, chunk=4), "hi", flush_interval=0.05)
w
"""

NAIVE = """
naive = TextTraitWidget()
display(naive)
for k in {offsets!r}:
    naive.text = ANSWER[:k]
"""

#: Messages any cell costs (busy, idle, the echo of its source): not the widget's.
CELL = {"status", "execute_input"}


def category(m: IopubMessage) -> str:
    kind = m.kind()
    if kind == "comm_msg:custom:delta":
        return "deltas"
    if kind.startswith("comm_msg:update"):
        return "state updates"
    if kind == "update_display_data":
        return "saved copy"
    if kind == "display_data":
        return "display"
    return kind


def _carries_answer(m: IopubMessage) -> bool:
    data = m.content.get("data") or {}
    return isinstance(data, dict) and any(MARK in str(v) for v in data.values())


def tally(msgs: list[IopubMessage], answer: str) -> dict[str, Any]:
    """Bytes by category (the widget's), comm_open and cell bytes apart, copies of the answer."""
    by: dict[str, list[int]] = {}
    opened = cell = 0
    text_chars = 0
    whole = 0
    payload = 0
    for m in msgs:
        if m.msg_type == "comm_open":
            opened += m.ws_bytes
            continue
        if m.msg_type in CELL:
            cell += m.ws_bytes
            continue
        entry = by.setdefault(category(m), [0, 0])
        entry[0] += 1
        entry[1] += m.ws_bytes
        data = m.content.get("data") or {}
        if m.msg_type == "comm_msg":
            inner = data.get("content") or {}
            if inner.get("type") in ("delta", "snapshot"):
                text_chars += len(inner.get("text") or "")
                payload += utf8_len(inner.get("text") or "")
            for value in (data.get("state") or {}).values():
                if isinstance(value, str) and MARK in value:  # a synced copy of the text
                    text_chars += len(value)
                    payload += utf8_len(value)
        elif m.msg_type == "stream":  # print()'s output
            text_chars += len(m.content.get("text") or "")
            payload += utf8_len(m.content.get("text") or "")
        elif _carries_answer(m):
            whole += 1
            payload += sum(utf8_len(str(v)) for v in data.values())
        elif isinstance(data, dict) and isinstance(data.get("text/markdown"), str):
            text_chars += len(data["text/markdown"])  # a partial answer, display().update()
            payload += utf8_len(data["text/markdown"])
    answer_bytes = utf8_len(answer)
    total = sum(b for _, b in by.values())
    return {
        "bytes": total,
        "ratio": total / answer_bytes,
        "by_category": {k: {"messages": n, "bytes": b} for k, (n, b) in by.items()},
        "by_category_ratio": {k: b / answer_bytes for k, (_, b) in by.items()},
        "comm_open_bytes": opened,
        "cell_bytes": cell,
        "copies": text_chars / len(answer) + whole,
        "whole_answer_messages": whole,
        "answer_payload_ratio": payload / answer_bytes,
    }


def measure(kernel: RealKernel, size: int, cps: float) -> Row:
    answer = markdown_answer(size - len(END)) + END
    answer_bytes = utf8_len(answer)

    def ended(m: IopubMessage) -> bool:
        return m.msg_type == "update_display_data"

    msgs = kernel.execute(
        OURS.format(size=size, cps=float(cps)), until=ended, timeout=120, quiet=1.0
    )
    assert kernel.value("w.text == ANSWER"), "the widget lost text"
    ours = tally(msgs, answer)
    deltas = [m for m in msgs if m.kind() == "comm_msg:custom:delta"]
    offsets, shown = [], 0
    for m in deltas:
        shown += len(m.content["data"]["content"]["text"])
        offsets.append(shown)
    naive_msgs = kernel.execute(NAIVE.format(offsets=offsets), timeout=300)
    naive = tally(naive_msgs, answer)
    later: dict[str, Any] | None = None
    if size == CASES[0][0] and cps == CASES[0][1]:
        # The quickstart's `response = await w` in a later cell, the stream long over.
        later = tally(kernel.execute("response = await w", quiet=1.0), answer)
    kernel.execute("w.close(); naive.close()")
    ours_ratio, naive_ratio = ours["ratio"], naive["ratio"]
    fast = cps >= FAST
    parts = ours["by_category_ratio"]
    return Row(
        figure="1 wire bytes",
        case=f"{size // 1000:,} KB at {cps:,.0f} char/s",
        ours=ours_ratio,
        baseline=naive_ratio,
        ratio=ratio(ours_ratio, naive_ratio),
        # The chat-speed case shows the per-message envelope (~20 characters per update).
        goal=f"copies of the answer <= {GOAL_COPIES:g}" if fast else "(information)",
        met=ours["copies"] <= GOAL_COPIES + 0.01 if fast else None,
        unit="websocket bytes / answer bytes",
        note=(
            f"{ours['copies']:.2f} copies; deltas {parts.get('deltas', 0):.2f}x "
            f"({len(deltas)}), saved copy {parts.get('saved copy', 0):.2f}x, state updates "
            f"{parts.get('state updates', 0):.3f}x, display {parts.get('display', 0):.3f}x"
        ),
        details={
            "answer_bytes": answer_bytes,
            "updates": len(deltas),
            "ours": ours,
            "baseline": naive,
            "await_in_a_later_cell": later,
        },
    )


def run() -> list[Row]:
    rows: list[Row] = []
    with RealKernel() as kernel:
        kernel.execute(SETUP)
        for size, cps in CASES:
            rows.append(measure(kernel, size, cps))
    return rows
