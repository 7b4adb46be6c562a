"""Figure 4 — end to end in JupyterLab: websocket bytes, redraw rate, lag and chunk-to-DOM latency.

A real JupyterLab (temp Jupyter dirs, 127.0.0.1; `tests/browser/lab.py`) with headless Chromium
watching one notebook. The loopback wire server (own process) streams answers of 10, 50 and 200 KB
(`answers.markdown_answer`, with markers, below) in 4-character pieces 1 ms apart. One cell's
source is replaced and run for each case:

* ours: `StreamWidget("openai:text:...", "hi", base_url=..., flush_interval=0.05)`;
* `print`: the OpenAI SDK stream iterated with top-level `async for`, `print(delta, end="")`;
* `display`: `handle = display(Markdown(""), display_id=True)`, then
  `handle.update(Markdown(full_text))` per chunk, 10 KB only, capped at `DISPLAY_CAP` s inside the
  cell (reported "did not finish" when the text is not complete in the DOM by then).

Measured, from the cell's execution to the full text being in the DOM:

* bytes: every websocket frame the page receives (`page.on("websocket")`, `framereceived`),
  divided by the answer's UTF-8 bytes;
* redraws/s: frames (rAF) in which a MutationObserver on the cell's output saw changes, over the
  time from the first to the last such change;
* markers: each section heading of the answer carries a marker (`MK00042Q`), the last line an
  end marker. The page checks the tail of the output in the MutationObserver callback (a
  microtask right after the script that changed the DOM) and stamps each marker with
  `performance.timeOrigin + performance.now()` (epoch ms): when the text entered the DOM, for
  ours (which renders in an animation frame) and the baselines (which change the DOM as each
  message arrives) alike;
* server send times: the wire server paces its events on a fixed schedule (event k due k x 1 ms
  after the first; piece c is event c + 1) and records when each event actually left it, in
  `time.monotonic()`, a clock all processes share; this process converts them to epoch time
  with its own `time.time() - time.monotonic()`. A loaded server (or TCP backpressure from a
  slow reader) sends later than scheduled; `server_late_max_s` in the details says by how much.
  `kernel_behind_s` (when the kernel saw the end, minus the last event's send) shows how far
  behind the reader was;
* lag: DOM complete (end marker seen) minus the send of the last event;
* chunk-to-DOM latency: marker seen in the DOM minus the send of its last piece, p50 / p95 over
  the markers.

Streaming 10 + 50 + 200 KB at 4 characters per ms takes 65 s a side, so this figure runs about
3 to 4 minutes, more than the others.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Row, WireProcess, ratio
from benchmarks.answers import markdown_answer, utf8_len

SIZES = [10_000, 50_000, 200_000]
PRINT_SIZES = [10_000, 50_000, 200_000]
DISPLAY_SIZES = [10_000]
CHUNK = 4
DELAY = 0.001
DISPLAY_CAP = 60.0
END = "\n\nThe end ZZENDQ.\n"
BYTES_GOAL = 2.0
RATE_GOAL = 10.0
LAG_GOAL = 0.25

WATCH = """
([selector, markers]) => {
  const stamp = () => performance.timeOrigin + performance.now();
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[1].outputArea.node;
  const w = (window.__bench = { markers, found: [], frames: 0, first: null, last: null,
    done: null, started: stamp() });
  let next = 0, pending = false;
  const tail = () => {
    const found = cell.querySelectorAll(selector);
    if (!found.length) return "";
    const el = found[found.length - 1];
    if (el.classList.contains("llmw-markdown")) {
      const kids = el.children, parts = [];
      for (let i = Math.max(0, kids.length - 3); i < kids.length; i++) parts.push(kids[i].textContent);
      return parts.join("");
    }
    return el.textContent;
  };
  const frame = () => {
    pending = false;
    w.frames += 1;
  };
  // Markers are looked for in the observer callback itself: a microtask right after the script
  // that changed the DOM, so the stamp is when the text entered the DOM, however it got there.
  const check = (t) => {
    const text = tail();
    let hit = -1;
    for (let k = next; k < Math.min(markers.length, next + 20); k++) if (text.includes(markers[k])) hit = k;
    if (hit >= 0) {
      for (; next <= hit; next++) w.found.push(t);
      if (next === markers.length) { w.done = t; observer.disconnect(); }
    }
  };
  const observer = new MutationObserver(() => {
    const t = stamp();
    if (w.first === null) w.first = t;
    w.last = t;
    if (!pending) { pending = true; requestAnimationFrame(frame); }
    check(t);
  });
  observer.observe(cell, { subtree: true, childList: true, characterData: true });
  window.__benchStop = () => observer.disconnect();
}
"""

SETUP = """
import os, time
os.environ["OPENAI_API_KEY"] = "sk-bench-lab"
import openai
from IPython.display import Markdown, display
from llmwidgets import StreamWidget
BASE = {base!r}
BENCH = {{}}
"""

OURS = """
BENCH.clear()
w = StreamWidget("openai:{model}", "hi", base_url=BASE, flush_interval=0.05)
w.on_end(lambda w: BENCH.__setitem__("end", time.time()))
w
"""

PRINT = """
BENCH.clear()
client = openai.AsyncOpenAI(base_url=BASE, max_retries=0)
s = await client.chat.completions.create(
    model={model!r}, messages=[{{"role": "user", "content": "hi"}}], stream=True
)
async for chunk in s:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")
BENCH["end"] = time.time()
"""

DISPLAY = """
BENCH.clear()
client = openai.AsyncOpenAI(base_url=BASE, max_retries=0)
s = await client.chat.completions.create(
    model={model!r}, messages=[{{"role": "user", "content": "hi"}}], stream=True
)
handle = display(Markdown(""), display_id=True)
full, deadline = "", time.monotonic() + {cap}
async for chunk in s:
    if chunk.choices and chunk.choices[0].delta.content:
        full += chunk.choices[0].delta.content
        handle.update(Markdown(full))
    if time.monotonic() > deadline:
        BENCH["capped"] = True
        break
await s.close()
BENCH["end"] = time.time()
"""

#: What holds the text in the DOM, per kind (the last match in the cell's output).
SELECTORS = {
    "ours": ".llmw-body .llmw-markdown",
    "print": ".jp-OutputArea-output",
    "display": ".jp-RenderedMarkdown",
}


def marked_answer(size: int) -> tuple[str, list[str], list[int]]:
    """The answer with a marker in each section heading; (text, markers, end offset of each)."""
    text = markdown_answer(size - len(END))
    markers: list[str] = []
    out: list[str] = []
    for n, line in enumerate(text.split("\n")):
        if line.startswith("## Section ") and line.endswith("notes"):
            marker = f"MK{n:05d}Q"
            markers.append(marker)
            line = f"{line} {marker}"
        out.append(line)
    full = "\n".join(out) + END
    markers.append("ZZENDQ")
    ends = [full.index(m) + len(m) for m in markers]
    return full, markers, ends


def frame_breakdown(frames: list[bytes]) -> dict[str, list[int]]:
    """{message kind: [count, bytes]} of kernel websocket frames (Lab's v1 binary protocol).

    A frame is a table of offsets, the channel name, then header, parent header, metadata and
    content as JSON; we read the header's msg_type and, for comm messages, the method and the
    custom message type or the updated trait names.
    """
    out: dict[str, list[int]] = {}
    decoder = json.JSONDecoder()
    for frame in frames:
        text = frame.decode(errors="replace")
        kind = "other"
        try:
            i = text.index("{")
            header, i = decoder.raw_decode(text, i)
            for _ in range(3):  # parent header, metadata, content
                content, i = decoder.raw_decode(text, i)
            kind = str(header.get("msg_type"))
            data = (content.get("data") or {}) if isinstance(content, dict) else {}
            if kind == "comm_msg":
                sub = (data.get("content") or {}).get("type") or ",".join(
                    sorted(data.get("state") or {})
                )
                kind = f"comm_msg:{data.get('method')}:{sub}"
        except (ValueError, AttributeError):
            pass
        entry = out.setdefault(kind, [0, 0])
        entry[0] += 1
        entry[1] += len(frame)
    return out


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class Bench:
    """One Lab, one Chromium page, one notebook whose cell 1 is rewritten and run per case."""

    def __init__(self, home: Path, wire: WireProcess) -> None:
        from playwright.sync_api import sync_playwright

        from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, LabPage, start_lab

        self.wire = wire
        self.lab = start_lab(home, {"OPENAI_API_KEY": "sk-bench-lab"})
        self.driver = sync_playwright().start()
        self.browser = self.driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)
        self.page = LabPage(context.new_page(), self.lab)
        self.received = 0
        self.keep_frames = False
        self.frames: list[bytes] = []
        self.page.page.on("websocket", self._on_websocket)
        path = self.lab.put_notebook("bench", [SETUP.format(base=wire.openai_base_url), "pass"])
        self.page.open(path)
        self.page.run_cell(0)
        self.page.wait_idle(60)
        self.clock = time.time() - time.monotonic()  # monotonic -> epoch seconds

    def _on_websocket(self, ws: Any) -> None:
        def count(payload: str | bytes) -> None:
            data = payload.encode() if isinstance(payload, str) else payload
            self.received += len(data)
            if self.keep_frames:
                self.frames.append(data)

        ws.on("framereceived", count)

    def close(self) -> None:
        try:
            self.browser.close()
            self.driver.stop()
        finally:
            self.lab.stop()

    def kernel(self, expr: str) -> Any:
        """Evaluate `expr` in the kernel through a user expression (no output in the cell)."""
        src = f"import json; print(json.dumps({expr}))"
        return json.loads(self.run_hidden(src))

    def run_hidden(self, src: str) -> str:
        """Run `src` in cell 1 and return its plain stdout (for small bookkeeping reads)."""
        self.set_source(src)
        self.page.run_cell(1)
        self.page.wait_idle(60)
        out = self.page.output(1).inner_text(timeout=10_000)
        self.page.command("notebook:clear-all-cell-outputs")
        return out

    def set_source(self, src: str) -> None:
        self.page.page.evaluate(
            "(src) => window.jupyterapp.shell.currentWidget.content.widgets[1]"
            ".model.sharedModel.setSource(src)",
            src,
        )

    def case(self, kind: str, size: int) -> dict[str, Any]:
        text, markers, ends = marked_answer(size)
        name = f"lab{kind}{size}"
        self.wire.add_text(name, text)
        self.wire.reset()
        model = WireProcess.text_model(name, chunk=CHUNK, delay=DELAY)
        source = {"ours": OURS, "print": PRINT, "display": DISPLAY}[kind].format(
            model=model, cap=DISPLAY_CAP
        )
        self.page.command("notebook:clear-all-cell-outputs")
        self.set_source(source)
        page = self.page.page
        page.wait_for_timeout(300)
        page.evaluate(WATCH, [SELECTORS[kind], markers])
        self.received = 0
        self.frames = []
        self.keep_frames = kind == "ours"
        started = time.time()
        self.page.run_cell(1)
        cap = DISPLAY_CAP if kind == "display" else 30 + 2 * len(text) / CHUNK * DELAY
        done = None
        while time.time() - started < cap:
            page.wait_for_timeout(100)
            done = page.evaluate("window.__bench.done")
            if done is not None:
                break
        received = self.received
        self.keep_frames = False
        watch = page.evaluate("window.__bench")  # waits for a busy page to catch up
        if watch["done"] is not None:
            done = watch["done"]
        page.evaluate("window.__benchStop()")
        if done is None and kind == "display":
            self.lab.api("POST", f"/api/kernels/{self.page.kernel_id}/interrupt")
        self.page.wait_idle(120)
        requests = self.wire._call("GET", "/control/requests")
        kernel_end = self.kernel("BENCH.get('end')")
        capped = self.kernel("BENCH.get('capped', False)")
        self.page.command("notebook:clear-all-cell-outputs")
        self.kernel("[x.close() for x in [globals().get('w')] if x] and None")
        at = self.clock + requests[-1]["at"] if requests else started  # epoch s of arrival
        pieces = (len(text) + CHUNK - 1) // CHUNK
        scheduled_end = at + (pieces + 3) * DELAY
        paced = self.wire._call("GET", "/control/paced")
        sent = [self.clock + t for t in paced[-1]["sent_at"]] if paced else []
        if len(sent) < pieces + 2:  # no record: fall back on the schedule (an upper bound)
            sent = [at + k * DELAY for k in range(pieces + 4)]
        # Piece c is event c + 1 (event 0 is the role chunk); the last event ends the stream.
        latencies = [
            found / 1000 - sent[end // CHUNK + 1]
            for found, end in zip(watch["found"], ends, strict=False)
        ]
        server_late = max(t - (sent[0] + k * DELAY) for k, t in enumerate(sent))
        flow = (watch["last"] - watch["first"]) / 1000 if watch["first"] else None
        answer_bytes = utf8_len(text)
        to_done = done / 1000 - started if done is not None else None
        result = {
            "kind": kind,
            "size": size,
            "done": to_done is not None and to_done <= cap,
            "seconds_to_done": to_done,
            "capped": bool(capped),
            "answer_bytes": answer_bytes,
            "ws_bytes": received,
            "bytes_ratio": received / answer_bytes,
            "lag_s": (done / 1000 - sent[-1]) if done is not None else None,
            "kernel_behind_s": (kernel_end - sent[-1]) if kernel_end else None,
            "server_late_max_s": server_late,
            "server_end_vs_schedule_s": sent[-1] - scheduled_end,
            "redraw_frames": watch["frames"],
            "flow_s": flow,
            "redraws_per_s": watch["frames"] / flow if flow else None,
            "latency_p50_s": percentile(latencies, 0.5),
            "latency_p95_s": percentile(latencies, 0.95),
            "markers_seen": len(watch["found"]),
            "markers": len(markers),
            "scheduled_stream_s": (pieces + 3) * DELAY,
            "ws_frames_by_type": frame_breakdown(self.frames),
        }
        print(f"   {kind} {size // 1000} KB: {result}", flush=True)
        return result


def measure() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="llmw-bench-lab-") as tmp, WireProcess() as wire:
        bench = Bench(Path(tmp), wire)
        try:
            bench.case("ours", 2_000)  # warm-up: the bundle, the SDK, the first widget
            for size in SIZES:
                results.append(bench.case("ours", size))
            for size in PRINT_SIZES:
                results.append(bench.case("print", size))
            for size in DISPLAY_SIZES:
                results.append(bench.case("display", size))
        finally:
            bench.close()
    return results


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def run() -> list[Row]:
    results = measure()
    by = {(r["kind"], r["size"]): r for r in results}
    rows: list[Row] = []
    for size in SIZES:
        ours = by[("ours", size)]
        base = by.get(("print", size))
        shown = by.get(("display", size))
        kb = f"{size // 1000} KB"
        rows.append(
            Row(
                figure="4 lab end to end",
                case=f"{kb}: ws bytes / answer byte vs print",
                ours=ours["bytes_ratio"],
                baseline=base["bytes_ratio"] if base else None,
                ratio=ratio(ours["bytes_ratio"], base["bytes_ratio"] if base else None),
                goal=f"ratio <= {BYTES_GOAL:g}, flat in length",
                met=None
                if base is None
                else ours["bytes_ratio"] <= BYTES_GOAL * base["bytes_ratio"],
                unit="websocket bytes received by the page / answer bytes",
                note=(
                    ""
                    if shown is None
                    else "display().update: "
                    + (
                        f"{shown['bytes_ratio']:.0f}x, lag {shown['lag_s']:.1f} s"
                        if shown["done"]
                        else f"did not finish in {DISPLAY_CAP:.0f} s (took "
                        f"{shown['seconds_to_done'] or float('nan'):.0f} s) "
                        f"({shown['bytes_ratio']:.0f}x so far, {shown['markers_seen']}"
                        f"/{shown['markers']} markers)"
                    )
                ),
                details={"ours": ours, "print": base, "display": shown},
            )
        )
        lag_ok = ours["lag_s"] is not None and ours["lag_s"] <= LAG_GOAL
        rows.append(
            Row(
                figure="4 lab end to end",
                case=f"{kb}: lag after last byte vs print",
                ours=ours["lag_s"],
                baseline=base["lag_s"] if base else None,
                ratio=ratio(ours["lag_s"], base["lag_s"] if base else None),
                goal=f"ours <= {LAG_GOAL} s",
                met=lag_ok,
                unit="seconds from the server's last byte to the full text in the DOM",
                note=(
                    f"redraws {ours['redraws_per_s'] or 0:.1f}/s (goal >= {RATE_GOAL:g}); "
                    f"chunk->DOM p50 {fmt_s(ours['latency_p50_s'])} p95 "
                    f"{fmt_s(ours['latency_p95_s'])}; print p50 "
                    f"{fmt_s(base['latency_p50_s'] if base else None)}; kernel behind "
                    f"{fmt_s(ours['kernel_behind_s'])}"
                    + ("" if ours["done"] else "; OURS DID NOT FINISH")
                ),
            )
        )
    return rows
