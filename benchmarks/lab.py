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

Measured from the cell's execution to the true end: after the text is complete in the DOM the
page is watched on, through whatever the end brings (state updates, the saved copy, a rebuilt
view), until neither the websocket nor the output's DOM has changed for `QUIET` s.

* bytes: every websocket frame the page receives (`page.on("websocket")`, `framereceived`) up to
  that quiet end, divided by the answer's UTF-8 bytes; `ws_frames_by_type` and
  `ws_by_category` in the details split them by message;
* copies of the answer: how many times the whole answer crossed (`wire.tally`: delta or
  `print` text over the answer, plus one per display message holding the whole answer), and the
  bytes those payloads take (`answer_payload_ratio`: the saved copy is HTML);
* views: every `.llmw-stream` element ever put into the output (a MutationObserver; a view
  rebuilt at the end counts twice), and every "Loading widget..." JupyterLab shows (it shows one
  per widget output as it is created: the live view and the empty slot; one after the text has
  started would mean a view was rebuilt);
* redraws/s: frames (rAF) in which the MutationObserver saw changes, from the first change to
  the text complete;
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
* lag: the final DOM — the end marker in the text and, for ours, `data-status="done"` on the
  view — minus the send of the last event. Also in the details, from the same instant: the saved
  copy in the DOM (`saved_copy_lag_s`), the last DOM change before the quiet end
  (`dom_settled_lag_s`; JupyterLab's table of contents numbers the saved copy's headings ~0.2 s
  after it lands) and the last websocket frame (`ws_last_frame_lag_s`);
* chunk-to-DOM latency: marker seen in the DOM minus the send of its last piece, p50 / p95 over
  the markers;
* long tasks: a `PerformanceObserver` for `longtask` entries; `longest_task_at_end_ms` is the
  longest one from the text complete to the quiet end (0: none of 50 ms or more).

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
from benchmarks.real_kernel import IopubMessage
from benchmarks.wire import tally

SIZES = [10_000, 50_000, 200_000]
PRINT_SIZES = [10_000, 50_000, 200_000]
DISPLAY_SIZES = [10_000]
CHUNK = 4
DELAY = 0.001
DISPLAY_CAP = 60.0
END = "\n\nThe end ZZENDQ.\n"
BYTES_GOAL = 2.0
RATE_GOAL = 10.0
LAG_GOAL = 0.1
COPIES_GOAL = 2.0
#: The end is over when neither the websocket nor the output's DOM has changed for this long.
QUIET = 1.0
QUIET_CAP = 60.0

WATCH = """
([selector, markers]) => {
  const stamp = () => performance.timeOrigin + performance.now();
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[1].outputArea.node;
  const w = (window.__bench = { markers, found: [], frames: 0, first: null, last: null,
    done: null, framesAtDone: null, statusDone: null, saved: null, views: 0, viewTimes: [],
    loading: [], tasks: [], started: stamp() });
  const tasks = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.tasks.push([performance.timeOrigin + e.startTime, e.duration]);
  });
  tasks.observe({ type: "longtask", buffered: false });
  let next = 0, pending = false;
  const views = new WeakSet();
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
    if (next === markers.length) return;
    const text = tail();
    let hit = -1;
    for (let k = next; k < Math.min(markers.length, next + 20); k++) if (text.includes(markers[k])) hit = k;
    if (hit >= 0) {
      for (; next <= hit; next++) w.found.push(t);
      if (next === markers.length) { w.done = t; w.framesAtDone = w.frames; }
    }
  };
  // Every StreamView ever put into the output (a rebuilt view counts again), and every
  // "Loading widget..." placeholder JupyterLab shows while it creates a widget output.
  const added = (node, t) => {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.data.includes("Loading widget")) w.loading.push(t);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const found = [...node.querySelectorAll(".llmw-stream")];
    if (node.matches(".llmw-stream")) found.push(node);
    for (const el of found) if (!views.has(el)) { views.add(el); w.views += 1; w.viewTimes.push(t); }
    if (node.textContent.includes("Loading widget")) w.loading.push(t);
  };
  const observer = new MutationObserver((records) => {
    const t = stamp();
    if (w.first === null) w.first = t;
    w.last = t;
    if (!pending) { pending = true; requestAnimationFrame(frame); }
    for (const r of records) {
      for (const node of r.addedNodes) added(node, t);
      if (r.type === "characterData" && r.target.data.includes("Loading widget")) w.loading.push(t);
    }
    check(t);
    if (w.statusDone === null && cell.querySelector('.llmw-stream[data-status="done"]')) w.statusDone = t;
    if (w.saved === null && cell.querySelector(".llmw-saved")) w.saved = t;
  });
  observer.observe(cell, { subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["data-status"] });
  window.__benchStop = () => { observer.disconnect(); tasks.disconnect(); };
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


def parse_frames(frames: list[tuple[float, bytes]]) -> list[IopubMessage]:
    """Kernel websocket frames as messages (Lab's v1 binary protocol, or the older JSON one).

    A v1 frame is a table of offsets, the channel name, then header, parent header, metadata
    and content as JSON, then any buffers (`jupyter_server`'s `deserialize_msg_from_ws_v1`).
    """
    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

    out: list[IopubMessage] = []
    for at, frame in frames:
        try:
            if frame[:1] == b"{":
                msg = json.loads(frame)
                header, parent, content = msg["header"], msg["parent_header"], msg["content"]
                parent_bytes = len(json.dumps(parent))
            else:
                _channel, parts = deserialize_msg_from_ws_v1(frame)
                header, parent, content = (json.loads(parts[i]) for i in (0, 1, 3))
                parent_bytes = len(parts[1])
        except (ValueError, IndexError, KeyError, UnicodeDecodeError):
            header, parent, content, parent_bytes = {}, {}, {}, 0
        out.append(
            IopubMessage(
                msg_type=str(header.get("msg_type", "other")),
                content=content if isinstance(content, dict) else {},
                parent_id=(parent or {}).get("msg_id"),
                parent_bytes=parent_bytes,
                ws_bytes=len(frame),
                at=at,
            )
        )
    return out


def frame_breakdown(msgs: list[IopubMessage]) -> dict[str, list[int]]:
    """{message kind: [count, bytes]}: comm messages by method and custom type or traits."""
    out: dict[str, list[int]] = {}
    for m in msgs:
        entry = out.setdefault(m.kind(), [0, 0])
        entry[0] += 1
        entry[1] += m.ws_bytes
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
        self.last_frame = time.monotonic()
        self.keep_frames = False
        self.frames: list[tuple[float, bytes]] = []
        self.page.page.on("websocket", self._on_websocket)
        path = self.lab.put_notebook("bench", [SETUP.format(base=wire.openai_base_url), "pass"])
        self.page.open(path)
        self.page.run_cell(0)
        self.page.wait_idle(60)
        self.clock = time.time() - time.monotonic()  # monotonic -> epoch seconds

    def _on_websocket(self, ws: Any) -> None:
        def count(payload: str | bytes) -> None:
            data = payload.encode() if isinstance(payload, str) else payload
            now = time.monotonic()
            self.received += len(data)
            self.last_frame = now
            if self.keep_frames:
                self.frames.append((now, data))

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
        self.keep_frames = True
        started = time.time()
        self.page.run_cell(1)
        cap = DISPLAY_CAP if kind == "display" else 30 + 2 * len(text) / CHUNK * DELAY
        # The end as the DOM shows it: the full text, and for ours the view's status "done".
        ended = "w.done !== null" + (" && w.statusDone !== null" if kind == "ours" else "")
        watch: dict[str, Any] = {}
        while time.time() - started < cap:
            page.wait_for_timeout(100)
            if page.evaluate(f"(w => {ended})(window.__bench)"):
                break
        if page.evaluate("window.__bench.done") is None and kind == "display":
            self.lab.api("POST", f"/api/kernels/{self.page.kernel_id}/interrupt")
        # Then whatever the end brings (state updates, the saved copy, a view rebuilt...): watch
        # on until neither the websocket nor the output's DOM has changed for QUIET s.
        quiet_cap = time.monotonic() + QUIET_CAP
        while time.monotonic() < quiet_cap:
            page.wait_for_timeout(200)
            dom_quiet = page.evaluate(
                "(performance.timeOrigin + performance.now() - (window.__bench.last ?? 0)) / 1000"
            )
            if time.monotonic() - self.last_frame >= QUIET and dom_quiet >= QUIET:
                break
        received = self.received
        last_frame = self.clock + self.last_frame
        self.keep_frames = False
        frames, self.frames = self.frames, []
        watch = page.evaluate("window.__bench")  # waits for a busy page to catch up
        page.evaluate("window.__benchStop()")
        done, status_done = watch["done"], watch["statusDone"]
        final = None if done is None else max(done, status_done or 0) if kind == "ours" else done
        if kind == "ours" and status_done is None:
            final = None
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
        flow = (done - watch["first"]) / 1000 if watch["first"] and done else None
        answer_bytes = utf8_len(text)
        to_done = final / 1000 - started if final is not None else None
        msgs = parse_frames(frames)
        got = tally(msgs, text)

        def since(t: float | None) -> float | None:
            return None if t is None else t / 1000 - sent[-1]

        first_text = watch["found"][0] if watch["found"] else None
        result = {
            "kind": kind,
            "size": size,
            "done": to_done is not None and to_done <= cap,
            "seconds_to_done": to_done,
            "capped": bool(capped),
            "answer_bytes": answer_bytes,
            "ws_bytes": received,
            "bytes_ratio": received / answer_bytes,
            "copies": got["copies"],
            "answer_payload_ratio": got["answer_payload_ratio"],
            "lag_s": since(final),
            "text_lag_s": since(done),
            "status_lag_s": since(status_done),
            "saved_copy_lag_s": since(watch["saved"]),
            "dom_settled_lag_s": since(watch["last"]),
            "ws_last_frame_lag_s": last_frame - sent[-1],
            # Long tasks (>= 50 ms) on the page from the text complete to the quiet end.
            "longest_task_at_end_ms": max(
                (ms for at, ms in watch["tasks"] if done is not None and at >= done), default=0
            ),
            "views_created": watch["views"],
            "loading_widget_shown": len(watch["loading"]),
            "loading_widget_after_text": sum(
                1 for t in watch["loading"] if first_text is not None and t >= first_text
            ),
            "kernel_behind_s": (kernel_end - sent[-1]) if kernel_end else None,
            "server_late_max_s": server_late,
            "server_end_vs_schedule_s": sent[-1] - scheduled_end,
            "redraw_frames": watch["framesAtDone"],
            "flow_s": flow,
            "redraws_per_s": (watch["framesAtDone"] or 0) / flow if flow else None,
            "latency_p50_s": percentile(latencies, 0.5),
            "latency_p95_s": percentile(latencies, 0.95),
            "markers_seen": len(watch["found"]),
            "markers": len(markers),
            "scheduled_stream_s": (pieces + 3) * DELAY,
            "ws_frames_by_type": frame_breakdown(msgs) if kind != "display" else None,
            "ws_by_category": got["by_category"],
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
    figure = "4 lab end to end"
    for size in SIZES:
        ours = by[("ours", size)]
        base = by.get(("print", size))
        shown = by.get(("display", size))
        kb = f"{size // 1000} KB"
        part = {k: v["bytes"] / ours["answer_bytes"] for k, v in ours["ws_by_category"].items()}
        rows.append(
            Row(
                figure=figure,
                case=f"{kb}: copies of the answer on the wire vs print",
                ours=ours["copies"],
                baseline=base["copies"] if base else None,
                ratio=ratio(ours["copies"], base["copies"] if base else None),
                goal=f"ours <= {COPIES_GOAL:g}, 1 view, no 'Loading widget' after text",
                met=ours["copies"] <= COPIES_GOAL + 0.01
                and ours["views_created"] == 1
                and ours["loading_widget_after_text"] == 0,
                unit="answer crossings (delta text / answer + whole-answer messages)",
                note=(
                    f"views created {ours['views_created']}, 'Loading widget' after text "
                    f"{ours['loading_widget_after_text']}; payload {ours['answer_payload_ratio']:.2f}x"
                    f" the answer's bytes (deltas {part.get('deltas', 0):.2f}x, saved copy "
                    f"{part.get('saved copy', 0):.2f}x with envelopes)"
                ),
                details={"ours": ours, "print": base, "display": shown},
            )
        )
        rows.append(
            Row(
                figure=figure,
                case=f"{kb}: ws bytes / answer byte vs print",
                ours=ours["bytes_ratio"],
                baseline=base["bytes_ratio"] if base else None,
                ratio=ratio(ours["bytes_ratio"], base["bytes_ratio"] if base else None),
                goal=f"ratio <= {BYTES_GOAL:g}, flat in length",
                met=None
                if base is None
                else ours["bytes_ratio"] <= BYTES_GOAL * base["bytes_ratio"],
                unit="websocket bytes received by the page to the quiet end / answer bytes",
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
            )
        )
        lag_ok = ours["lag_s"] is not None and ours["lag_s"] <= LAG_GOAL
        rows.append(
            Row(
                figure=figure,
                case=f"{kb}: last byte to final DOM vs print",
                ours=ours["lag_s"],
                baseline=base["lag_s"] if base else None,
                ratio=ratio(ours["lag_s"], base["lag_s"] if base else None),
                goal=f"ours <= {LAG_GOAL} s",
                met=lag_ok,
                unit="seconds from the server's last byte to the text complete and status done",
                note=(
                    f"saved copy in DOM {fmt_s(ours['saved_copy_lag_s'])}, settled "
                    f"{fmt_s(ours['dom_settled_lag_s'])}, longest task after "
                    f"{ours['longest_task_at_end_ms']:.0f} ms; redraws "
                    f"{ours['redraws_per_s'] or 0:.1f}/s (goal >= {RATE_GOAL:g}); chunk->DOM p50 "
                    f"{fmt_s(ours['latency_p50_s'])} p95 {fmt_s(ours['latency_p95_s'])}; print "
                    f"p50 {fmt_s(base['latency_p50_s'] if base else None)}"
                    + ("" if ours["done"] else "; OURS DID NOT FINISH")
                ),
            )
        )
    return rows
