// Per-frame cost of the structured view (parse + tree update) in jsdom, at a given answer size.
// `node dev/structured-bench.mjs`: streams a JSON answer in 40-character deltas, one frame per
// delta, and reports the median frame time around 10 KB and 50 KB, and the parse alone.
import { performance } from "node:perf_hooks";
import { JSDOM } from "jsdom";
import { parse } from "partial-json";
import { StructuredView } from "../src/structured.js";

function answer(bytes) {
  const items = [];
  let text = "";
  for (let i = 0; text.length < bytes; i++) {
    items.push({
      id: i,
      name: `item ${i}`,
      ok: i % 3 === 0,
      note: null,
      details: { summary: "A sentence of prose as a model would write it. ".repeat(2), score: i / 7 },
      rows: [
        { k: "a", v: i },
        { k: "b", v: i + 1 },
      ],
    });
    text = JSON.stringify({ title: "Report", items }, null, 2);
  }
  return text.slice(0, bytes);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const { document } = new JSDOM("<!doctype html><body></body>").window;
for (const size of [10_000, 50_000]) {
  const text = answer(size + 2000);
  const frames = [];
  const view = new StructuredView(document, { schedule: (cb) => frames.push(cb) });
  document.body.append(view.element);
  const times = [];
  const parses = [];
  for (let at = 40; at <= size + 1000; at += 40) {
    view.update(text.slice(0, at), false);
    const cb = frames.shift();
    const t0 = performance.now();
    cb?.();
    const t1 = performance.now();
    if (Math.abs(at - size) <= 1000) {
      times.push(t1 - t0);
      const p0 = performance.now();
      parse(text.slice(0, at));
      parses.push(performance.now() - p0);
    }
  }
  const nodes = view.element.querySelectorAll("*").length;
  console.log(
    `${size / 1000} KB: frame ${median(times).toFixed(2)} ms (parse ${median(parses).toFixed(2)} ms), ${nodes} elements`,
  );
  view.element.remove();
}
