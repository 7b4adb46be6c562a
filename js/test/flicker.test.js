// No flicker while streaming, over every prefix. A prefix is clean when its render shows no
// raw marker (`**`, a backtick, `|`, `$`) that is gone from the finished render: each
// answer is fed one character at a time and rendered after each, as the view does.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRenderer, IncrementalMarkdown } from "../src/markdown.js";
import { makeWindow } from "./helpers.js";
import { ANSWERS, SAMPLES } from "./samples.js";

const MARKERS = ["**", "`", "|", "$"];
const window = makeWindow();
const renderer = createRenderer({ window: null }); // sanitizing is tested elsewhere
const scratch = window.document.createElement("div");

/** Text a reader sees (KaTeX's hidden TeX source left out). */
function visibleText(html) {
  scratch.innerHTML = html;
  for (const el of scratch.querySelectorAll("annotation")) el.remove();
  return scratch.textContent;
}

function countOf(s, marker) {
  return s.split(marker).length - 1;
}

/** The prefixes of `text` whose render shows a marker the final render does not. */
function flickeringPrefixes(text) {
  const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: () => {} });
  const renders = [];
  for (const ch of text) {
    md.append(ch);
    md.flush();
    renders.push(md.html);
  }
  md.finalize();
  const final = visibleText(md.html);
  const limits = MARKERS.map((m) => countOf(final, m));
  const misses = [];
  renders.forEach((html, n) => {
    const shown = visibleText(html);
    const raw = MARKERS.filter((m, k) => countOf(shown, m) > limits[k]);
    if (raw.length > 0)
      misses.push(`${n + 1} ${raw.join(" ")} ${JSON.stringify(text.slice(0, n + 1).slice(-30))}`);
  });
  return misses;
}

describe("every prefix of the test samples is clean", () => {
  for (const [name, text] of Object.entries(SAMPLES)) {
    it(`${name}: ${text.length} prefixes`, () => {
      assert.deepEqual(flickeringPrefixes(text), []);
    });
  }
});

describe("the realistic answers are at least 99% clean", () => {
  it("tables show as tables while the header row is typed; unambiguous $…$ is math at once", () => {
    let total = 0;
    const misses = [];
    for (const [name, text] of Object.entries(ANSWERS)) {
      total += text.length;
      for (const miss of flickeringPrefixes(text)) misses.push(`${name} ${miss}`);
    }
    const clean = 1 - misses.length / total;
    assert.ok(clean >= 0.99, `${(100 * clean).toFixed(1)}% clean:\n${misses.join("\n")}`);
  });

  it("a price is not taken for math", () => {
    assert.deepEqual(flickeringPrefixes("It costs $5 and pays $20 on a six.\n"), []);
  });
});
