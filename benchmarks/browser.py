"""Figure 3 — browser cost per update: main-thread time to draw one delta, at 1 KB and at 500 KB.

A plain page in headless Chromium loads the built bundle (`src/llmwidgets/static/stream.js` and
`stream.css`, served by Playwright's request routing, no server) and binds it to a stand-in
anywidget model with `bindStreamView`, as `render()` does. A 500 KB markdown answer
(`answers.markdown_answer`: headings, lists, code, tables, quotes) is fed as `delta` messages.

Method: one update per animation frame, the page scrolled to its end (where a reader watches the
text grow). Inside a `requestAnimationFrame` callback we apply the `DELTA`-character delta message
and render it (`view.markdown.flush()`, the view's own rAF render, run at once), then post a
MessageChannel message; the browser runs that task after the frame's style, layout and paint. The
frame time is `performance.now()` from the start of the rAF callback to that task: script + style
+ layout + paint of one update, no idle time. The script part alone is in the details.

Ours: timed windows of 1 KB at the start, at 250 KB and at the end (the last 1 KB); between them
the text goes in 2,000-character deltas, each rendered and laid out (untimed), so the page holds
the same blocks as after a stream of small deltas.

Baseline, same page and run: markdown-it (its own browser build, `html: false, linkify: true`)
re-renders the whole text into a container's `innerHTML` on each update, timed the same way,
over the first 1 KB, and over the last `NAIVE_END_WINDOW` characters (it takes seconds per update
at 500 KB). The figure is each side's end/start ratio of the median frame time (goal for ours:
<= 2; the baseline's grows with the length); a second row compares the frame times at 500 KB.

`performance.now()` is coarsened to 0.1 ms in a page that is not cross-origin isolated; frames
here take several ms, and each window holds 10-32 updates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import REPO_ROOT, Row, ratio
from benchmarks.answers import markdown_answer

SIZE = 500_000
DELTA = 32
WINDOW = 1_000
#: The baseline takes about a second per update at 500 KB: its end window is shorter.
NAIVE_END_WINDOW = 320
#: Characters per (untimed) delta between windows.
FILL = 2_000
GOAL = 2.0
#: The end of a stream is one frame; over 50 ms it is a long task.
END_GOAL_MS = 50.0
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

/**
 * Run `update` in its own animation frame; resolve with [script ms, frame ms]. Frame ms runs
 * from the start of the rAF callback to a MessageChannel task posted from it, which the
 * browser runs after that frame's style, layout and paint.
 */
function frame(update) {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      const t0 = performance.now();
      update();
      const t1 = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve([t1 - t0, performance.now() - t0]);
      channel.port2.postMessage(0);
    });
  });
}
const settle = () => frame(() => {}).then(() => frame(() => {}));

/** Time `updates` (functions), one per frame; scrolled to the end, where the text grows. */
async function timed(updates) {
  window.scrollTo(0, document.body.scrollHeight);
  await settle();
  const script = [], total = [];
  for (const update of updates) {
    const [s, t] = await frame(update);
    script.push(s);
    total.push(t);
  }
  return { total: summary(total), script: summary(script) };
}

/**
 * Ours: the whole answer through the view. In each timed window (`windows`: start offsets, `win`
 * chars long) the text goes in `delta`-char updates, one per frame, each rendered at once
 * (`view.markdown.flush()`, which the view would otherwise run in its own rAF callback). Between
 * windows (and after the last) it goes in `fill`-char deltas, each rendered and laid out,
 * untimed, so the page holds the same blocks as after a stream of small deltas. Then the end,
 * timed as one more frame: the kernel's last state update (metrics, then status "done"), which
 * makes the view finalize the markdown (and re-render it whole if it has reference-style link
 * definitions).
 */
async function ours(text, delta, win, windows, fill) {
  const el = document.getElementById("ours");
  el.replaceChildren();
  const model = new HostModel({ status: "streaming", metrics: {}, error: null, final_text: "",
    model_label: "bench", label_note: "" });
  const { view, cleanup } = bindStreamView(model, el);
  model.emit("msg:custom", { type: "snapshot", seq: 0, text: "" });
  let seq = 0;
  const send = (piece) => {
    model.emit("msg:custom", { type: "delta", seq: ++seq, text: piece });
    view.markdown.flush();
  };
  const fillTo = (at) => {
    for (; i < at; i += Math.min(fill, at - i)) {
      send(text.slice(i, Math.min(i + fill, at)));
      layout();
    }
  };
  const result = {};
  let i = 0;
  for (const at of windows) {
    fillTo(at);
    const updates = [];
    for (; i < Math.min(at + win, text.length); i += delta) {
      const piece = text.slice(i, i + delta);
      updates.push(() => send(piece));
    }
    result[at] = await timed(updates);
  }
  fillTo(text.length);
  const ok = view.text === text;
  // The end: count and time each finalize() it causes.
  const finalize = view.markdown.finalize.bind(view.markdown);
  const finals = [];
  view.markdown.finalize = () => {
    const t0 = performance.now();
    finalize();
    finals.push(performance.now() - t0);
  };
  const end = await timed([() => {
    model.set("metrics", { output_tokens: text.length >> 2, estimated: false, elapsed: 60 });
    model.set("status", "done");
  }]);
  const blocks = el.querySelectorAll(".llmw-block").length;
  const endOk = view.text === text && blocks > 0;
  el.replaceChildren();
  cleanup();
  return { windows: result, end: { ...end, finalize_ms: finals, ok: endOk }, ok, blocks,
    updates: seq };
}

/** Baseline: markdown-it re-renders the whole text into the container on each delta. */
async function naive(text, delta, windows) {
  const el = document.getElementById("naive");
  const md = markdownit({ html: false, linkify: true });
  const result = {};
  for (const [at, win] of windows) {
    el.innerHTML = md.render(text.slice(0, at));
    layout();
    const updates = [];
    for (let i = at; i < Math.min(at + win, text.length); i += delta) {
      const upto = Math.min(i + delta, text.length);
      updates.push(() => { el.innerHTML = md.render(text.slice(0, upto)); });
    }
    result[at] = await timed(updates);
  }
  el.replaceChildren();
  return { windows: result };
}

window.bench = { ours, naive };
document.body.dataset.ready = "1";
</script></body></html>
"""


def serve_page(page: Any) -> None:
    """Answer requests to `ORIGIN` with the page, the bundle and markdown-it (no HTTP server)."""

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


REFERENCES = (
    "\n\nSources: [the guide][guide] and [the spec][spec].\n\n"
    "[guide]: https://example.com/guide\n[spec]: https://example.com/spec\n"
)


def with_references(size: int) -> str:
    """An answer of about `size` characters, cut after a section, ending with link definitions."""
    text = markdown_answer(size)
    return text[: text.rindex("\n## Section")] + REFERENCES


def measure() -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS

    text = markdown_answer(SIZE)
    ours_windows = [0, SIZE // 2, SIZE - WINDOW]
    naive_windows = [[0, WINDOW], [SIZE - NAIVE_END_WINDOW, NAIVE_END_WINDOW]]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(180_000)
            serve_page(page)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{ORIGIN}/")
            page.wait_for_function("document.body.dataset.ready === '1'")
            # A short warm-up of both paths (JIT, fonts, style sheets), then the measured runs.
            warm = text[:20_000]
            page.evaluate(
                "([t, d, w]) => bench.ours(t, d, w, [0, 10000], 2000)", [warm, DELTA, WINDOW]
            )
            page.evaluate("([t, d, w]) => bench.naive(t, d, [[0, w]])", [warm, DELTA, WINDOW])
            ours = page.evaluate(
                "([t, d, w, at, f]) => bench.ours(t, d, w, at, f)",
                [text, DELTA, WINDOW, ours_windows, FILL],
            )
            naive = page.evaluate(
                "([t, d, at]) => bench.naive(t, d, at)", [text, DELTA, naive_windows]
            )
            # The same length with reference-style links: the end re-renders the whole text.
            refs = page.evaluate(
                "([t, d, w, f]) => bench.ours(t, d, w, [], f)",
                [with_references(SIZE), DELTA, WINDOW, FILL],
            )
            if errors:
                ours["page_errors"] = errors
            version = browser.version
        finally:
            browser.close()
    return {"ours": ours, "naive": naive, "ours_with_references": refs, "chromium": version}


def frame_ms(result: dict[str, Any], at: int) -> float:
    return float(result["windows"][str(at)]["total"]["median"])


def run() -> list[Row]:
    got = measure()
    ours, naive = got["ours"], got["naive"]
    o_start, o_end = frame_ms(ours, 0), frame_ms(ours, SIZE - WINDOW)
    n_start, n_end = frame_ms(naive, 0), frame_ms(naive, SIZE - NAIVE_END_WINDOW)
    ours_growth, naive_growth = ratio(o_end, o_start), ratio(n_end, n_start)
    o_mid = frame_ms(ours, SIZE // 2)
    lost = "" if ours["ok"] else "; OURS LOST TEXT"
    details = {**got, "delta_chars": DELTA, "window_chars": WINDOW, "fill_chars": FILL}
    refs = got["ours_with_references"]
    rows = [
        Row(
            figure="3 browser cost/update",
            case=f"{SIZE // 1000} KB markdown: end / start",
            ours=ours_growth,
            baseline=naive_growth,
            ratio=ratio(ours_growth, naive_growth),
            goal=f"ours end/start <= {GOAL:g}",
            met=ours_growth is not None and ours_growth <= GOAL,
            unit="median frame ms at ~500 KB / at ~1 KB",
            note=(
                f"median frame ms at 1 / {SIZE // 2000} / {SIZE // 1000} KB: ours {o_start:.1f} / "
                f"{o_mid:.1f} / {o_end:.1f}; markdown-it {n_start:.1f} / - / {n_end:.0f}{lost}"
            ),
            details=details,
        ),
        Row(
            figure="3 browser cost/update",
            case=f"frame ms per update at {SIZE // 1000} KB",
            ours=o_end,
            baseline=n_end,
            ratio=ratio(o_end, n_end),
            goal="(information)",
            met=None,
            unit="ms (script + style + layout + paint, one update per frame)",
            note=(
                f"script alone: ours {ours['windows'][str(SIZE - WINDOW)]['script']['median']:.1f}"
                f" ms, markdown-it "
                f"{naive['windows'][str(SIZE - NAIVE_END_WINDOW)]['script']['median']:.0f} ms"
            ),
        ),
    ]
    for name, got_end in [("", ours["end"]), (" with reference links", refs["end"])]:
        frame = float(got_end["total"]["median"])
        calls = got_end["finalize_ms"]
        rows.append(
            Row(
                figure="3 browser cost/update",
                case=f"end of a {SIZE // 1000} KB answer{name} vs markdown-it update",
                ours=frame,
                baseline=n_end,
                ratio=ratio(frame, n_end),
                goal=f"ours <= {END_GOAL_MS:g} ms (no long task)",
                met=frame <= END_GOAL_MS and bool(got_end["ok"]),
                unit="ms, one frame: the last state update, finalize() and any re-render",
                note=(
                    f"finalize() ran {len(calls)}x: "
                    + ", ".join(f"{c:.0f}" for c in calls)
                    + f" ms; script {got_end['script']['median']:.0f} ms"
                    + ("" if got_end["ok"] else "; TEXT WRONG AT THE END")
                ),
            )
        )
    return rows
