"""Figure 3 — browser cost per update: main-thread time to draw one delta, at 1 KB and at 500 KB.

A plain page in headless Chromium loads the built bundle (`src/llmwidgets/static/stream.js` and
`stream.css`, served by Playwright's request routing, no server) and binds it to a stand-in
anywidget model with `bindStreamView`, as `render()` does. A 500 KB markdown answer
(`answers.markdown_answer`: headings, lists, code, tables, quotes) is fed as `delta` messages of
`DELTA` characters. For each update we time, with `performance.now()`:

    apply the delta message -> render the pending open block (`view.markdown.flush()`, which the
    view otherwise runs at the next animation frame) -> force style and layout
    (`document.body.offsetHeight`)

i.e. script + style + layout of one update, run synchronously so no idle frame time counts; paint
and compositing are not included. "Start" is the median over the updates of the first 1 KB,
"end" over the updates of the last 1 KB; ours draws every update of the whole answer.

Baseline, same page and run: markdown-it (its own browser build, `html: false, linkify: true`)
re-renders the whole text into a container's `innerHTML` on each update, then the same forced
layout. It would need hours to draw 500 KB in small deltas, so it draws the first 1 KB delta by
delta, then the text up to 1 KB before the end in one (untimed) render, then the last 1 KB delta
by delta. The figure is each side's end/start ratio (goal for ours: <= 2; the baseline's grows
with the length); the absolute milliseconds are in the note and details.

`performance.now()` is coarsened to 0.1 ms in a page that is not cross-origin isolated, which is
the size of our per-update cost at the start; the windows hold `WINDOW // DELTA` updates each, and
the means are in the details too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import REPO_ROOT, Row, ratio
from benchmarks.answers import markdown_answer

SIZE = 500_000
DELTA = 32
WINDOW = 1_000
GOAL = 2.0
ORIGIN = "http://bench.invalid"
STATIC = REPO_ROOT / "src" / "llmwidgets" / "static"
MARKDOWN_IT = REPO_ROOT / "js" / "node_modules" / "markdown-it" / "dist" / "browser"
FILES: dict[str, tuple[Path, str]] = {
    "/stream.js": (STATIC / "stream.js", "text/javascript"),
    "/stream.css": (STATIC / "stream.css", "text/css"),
    "/markdown-it.js": (MARKDOWN_IT / "markdown-it.esm.min.mjs", "text/javascript"),
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>llmwidgets browser benchmark</title>
<link rel="stylesheet" href="/stream.css">
<style>
  body { margin: 0; padding: 16px; font-family: system-ui, sans-serif; }
  .pane { max-width: 760px; }
</style></head>
<body><div id="ours" class="pane"></div><div id="naive" class="pane"></div>
<script type="module">
import { bindStreamView } from "/stream.js";
import markdownit from "/markdown-it.js";

/** Stand-in for anywidget's model: get/set/on/off/send and custom messages. */
class HostModel {
  constructor(state) { this.state = state; this.handlers = new Map(); }
  get(name) { return this.state[name]; }
  set(name, value) { this.state[name] = value; this.emit(`change:${name}`); }
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
  }
  off(name, fn) { this.handlers.get(name)?.delete(fn); }
  emit(name, ...args) { for (const fn of this.handlers.get(name) ?? []) fn(...args); }
  send(msg) {}
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p95 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length * 0.95)]; };
const summary = (xs) => ({ n: xs.length, median: median(xs), mean: mean(xs), p95: p95(xs) });
const layout = () => document.body.offsetHeight;

/** Ours: every delta of the whole answer; per-update ms in the first and last `win` chars. */
function ours(text, delta, win) {
  const el = document.getElementById("ours");
  el.replaceChildren();
  const model = new HostModel({ status: "streaming", metrics: {}, error: null, final_text: "",
    model_label: "bench", label_note: "" });
  const { view, cleanup } = bindStreamView(model, el);
  model.emit("msg:custom", { type: "snapshot", seq: 0, text: "" });
  const start = [], end = [], buckets = {};
  let seq = 0;
  for (let i = 0; i < text.length; i += delta) {
    const t0 = performance.now();
    model.emit("msg:custom", { type: "delta", seq: ++seq, text: text.slice(i, i + delta) });
    view.markdown.flush();
    layout();
    const ms = performance.now() - t0;
    if (i < win) start.push(ms);
    if (i >= text.length - win) end.push(ms);
    const b = Math.floor(i / 50000) * 50;
    (buckets[b] ??= []).push(ms);
  }
  const ok = view.text === text;
  const blocks = el.querySelectorAll(".llmw-block").length;
  const perBucket = Object.fromEntries(Object.entries(buckets).map(([k, v]) => [k + " KB", mean(v)]));
  el.replaceChildren();
  cleanup();
  return { start: summary(start), end: summary(end), ok, blocks, updates: seq, meanPer50KB: perBucket };
}

/** Baseline: markdown-it re-renders the whole text on each delta. */
function naive(text, delta, win) {
  const el = document.getElementById("naive");
  const md = markdownit({ html: false, linkify: true });
  const run = (from, to, out) => {
    for (let i = from; i < to; i += delta) {
      const t0 = performance.now();
      el.innerHTML = md.render(text.slice(0, Math.min(i + delta, to)));
      layout();
      out.push(performance.now() - t0);
    }
  };
  const start = [], end = [];
  run(0, win, start);
  el.innerHTML = md.render(text.slice(0, text.length - win));
  layout();
  run(text.length - win, text.length, end);
  el.replaceChildren();
  return { start: summary(start), end: summary(end) };
}

window.bench = { ours, naive };
document.body.dataset.ready = "1";
</script></body></html>
"""


def measure() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS

    text = markdown_answer(SIZE)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)

            def serve(route: Any) -> None:
                path = route.request.url[len(ORIGIN) :].split("?")[0]
                if path == "/":
                    route.fulfill(body=PAGE, content_type="text/html")
                elif path in FILES:
                    file, kind = FILES[path]
                    route.fulfill(body=file.read_bytes(), content_type=kind)
                else:
                    route.fulfill(status=404, body="")

            page.route(f"{ORIGIN}/**", serve)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{ORIGIN}/")
            page.wait_for_function("document.body.dataset.ready === '1'")
            # A short warm-up of both paths (JIT, fonts, style sheets), then the measured runs.
            warm = text[:20_000]
            page.evaluate("([t, d, w]) => bench.ours(t, d, w)", [warm, DELTA, WINDOW])
            page.evaluate("([t, d, w]) => bench.naive(t, d, w)", [warm, DELTA, WINDOW])
            naive = page.evaluate("([t, d, w]) => bench.naive(t, d, w)", [text, DELTA, WINDOW])
            ours = page.evaluate("([t, d, w]) => bench.ours(t, d, w)", [text, DELTA, WINDOW])
            if errors:
                ours["page_errors"] = errors
            version = browser.version
        finally:
            browser.close()
    return {"ours": ours, "naive": naive, "chromium": version}


def run() -> list[Row]:
    got = measure()
    ours, naive = got["ours"], got["naive"]
    ours_ratio = ratio(ours["end"]["median"], ours["start"]["median"])
    naive_ratio = ratio(naive["end"]["median"], naive["start"]["median"])
    note = (
        f"median ms/update start -> end: ours {ours['start']['median']:.2f} -> "
        f"{ours['end']['median']:.2f}, markdown-it {naive['start']['median']:.2f} -> "
        f"{naive['end']['median']:.1f}; {DELTA}-char deltas"
    )
    if not ours["ok"]:
        note += "; OURS LOST TEXT"
    return [
        Row(
            figure="3 browser cost/update",
            case=f"{SIZE // 1000} KB markdown, end/start",
            ours=ours_ratio,
            baseline=naive_ratio,
            ratio=ratio(ours_ratio, naive_ratio),
            goal=f"ours end/start <= {GOAL:g}",
            met=ours_ratio is not None and ours_ratio <= GOAL,
            unit="ms per update at ~500 KB / at ~1 KB (script + style + layout)",
            note=note,
            details={**got, "delta_chars": DELTA, "window_chars": WINDOW},
        )
    ]
