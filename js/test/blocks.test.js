import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BlockSplitter, splitBlocks } from "../src/blocks.js";
import { createRenderer, IncrementalMarkdown } from "../src/markdown.js";
import { makeWindow } from "./helpers.js";
import { SAMPLE_LIST } from "./samples.js";

const window = makeWindow();
const renderer = createRenderer({ window });
// DOMPurify under jsdom costs ~10 ms a call: the chunk-size sweep renders without it
// (sanitizing is deterministic and tested in sanitize.test.js).
const fastRenderer = createRenderer({ window: null });

describe("splitBlocks", () => {
  it("splits paragraphs at blank lines", () => {
    assert.deepEqual(splitBlocks("one\n\ntwo\n\nthree"), ["one\n\n", "two\n\n", "three"]);
  });
  it("keeps consecutive lines of a paragraph, list or table together", () => {
    const text = "| a | b |\n|---|---|\n| 1 | 2 |\n";
    assert.deepEqual(splitBlocks(text), [text]);
  });
  it("keeps a fenced code block with blank lines as one block", () => {
    const fence = "```py\na = 1\n\n\nb = 2\n```\n";
    assert.deepEqual(splitBlocks(`intro\n\n${fence}\nafter`), ["intro\n\n", `${fence}\n`, "after"]);
  });
  it("does not end a fence at a shorter or different closing marker", () => {
    const fence = "````\n```\n\n~~~\n\n````\n";
    assert.deepEqual(splitBlocks(`${fence}\nafter`), [`${fence}\n`, "after"]);
  });
  it("keeps a $$ math block with blank lines as one block", () => {
    const math = "$$\na\n\nb\n$$\n";
    assert.deepEqual(splitBlocks(`${math}\nafter`), [`${math}\n`, "after"]);
  });
  it("keeps a loose list and its indented continuation together", () => {
    const list = "1. a\n\n   more a\n\n2. b\n\n";
    assert.deepEqual(splitBlocks(`${list}after`), [list, "after"]);
  });
  it("keeps an indented code block with blank lines together", () => {
    const code = "    x = 1\n\n    y = 2\n\n";
    assert.deepEqual(splitBlocks(`${code}after`), [code, "after"]);
  });
  it("leaves the last block open until a following line starts a new one", () => {
    const s = new BlockSplitter();
    assert.deepEqual(s.append("para\n\n"), []);
    assert.deepEqual(s.append("ne"), []);
    assert.deepEqual(s.append("xt\n"), ["para\n\n"]);
    assert.equal(s.openBlock, "next\n");
  });
  it("joins closed and open blocks back into the whole text", () => {
    for (const [, text] of SAMPLE_LIST) assert.equal(splitBlocks(text).join(""), text);
  });
});

describe("block rendering matches rendering the whole text", () => {
  for (const [name, text] of SAMPLE_LIST) {
    it(`${name}: blocks rendered separately equal markdown-it on the whole text`, () => {
      const joined = splitBlocks(text)
        .map((b) => renderer.render(b))
        .join("");
      assert.equal(joined, renderer.render(text));
    });
  }
});

/**
 * Feed `text` in chunks of `size` chars, then finalize. With `live`, the open block is
 * re-rendered after every chunk; otherwise only closed blocks are (jsdom makes DOMPurify
 * ~10 ms a call, too slow to render every prefix here; repair.test.js covers prefixes).
 */
function renderIncrementally(text, size, live = false, r = fastRenderer) {
  const schedule = live ? null : () => {};
  const md = new IncrementalMarkdown({ document: window.document, renderer: r, schedule });
  for (let i = 0; i < text.length; i += size) md.append(text.slice(i, i + size));
  md.finalize();
  return md;
}

describe("incremental rendering does not depend on how the text is chopped", () => {
  const SIZES = [1, 2, 3, 4, 5, 7, 11, 17, 29, 64, 100];
  for (const [name, text] of SAMPLE_LIST) {
    it(`${name}: chunks of 1..100 chars give the same HTML and DOM as the whole text`, () => {
      const whole = renderIncrementally(text, text.length);
      assert.equal(whole.html, fastRenderer.render(text));
      for (const size of SIZES) {
        const md = renderIncrementally(text, size);
        assert.equal(md.text, text);
        assert.equal(md.html, whole.html, `chunk size ${size}`);
        assert.equal(md.element.innerHTML, whole.element.innerHTML, `DOM, chunk size ${size}`);
      }
    });

    it(`${name}: rendering after every 13-char delta ends with the same DOM`, () => {
      const whole = renderIncrementally(text, text.length);
      const md = renderIncrementally(text, 13, true);
      assert.equal(md.html, whole.html);
      assert.equal(md.element.innerHTML, whole.element.innerHTML);
    });
  }

  it("setText with an extension appends instead of starting over", () => {
    const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: null });
    md.setText("first\n\nsecond");
    const firstBlock = md.element.firstChild;
    md.setText("first\n\nsecond and more\n\nthird");
    assert.equal(md.element.firstChild, firstBlock);
    assert.equal(md.text, "first\n\nsecond and more\n\nthird");
  });

  it("setText with different text starts over", () => {
    const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: null });
    md.setText("alpha\n\nbeta");
    md.setText("gamma");
    md.finalize();
    assert.equal(md.html, renderer.render("gamma"));
  });

  it("re-renders the whole text at the end when it has reference-style links", () => {
    const text = "See [the docs][d].\n\nMore text.\n\n[d]: https://example.com\n";
    const md = renderIncrementally(text, 5);
    assert.equal(md.html, fastRenderer.render(text));
    assert.ok(md.element.querySelector('a[href="https://example.com"]'));
  });

  it("at the end re-renders only the blocks that use a reference, not the whole answer", () => {
    const text =
      "# Title\n\nPlain words.\n\nSee [the docs][d].\n\nMore text.\n\n[d]: https://example.com\n";
    const md = renderIncrementally(text, 5);
    assert.equal(md.html, fastRenderer.render(text));
    const blocks = [...md.element.querySelectorAll(".llmw-block")];
    const rendered = [];
    const again = new IncrementalMarkdown({
      document: window.document,
      renderer,
      schedule: null,
      onRender: (el) => rendered.push(el.textContent),
    });
    again.append(text);
    rendered.length = 0;
    again.finalize();
    assert.deepEqual(
      rendered.filter((t) => t.includes("Title") || t.includes("Plain")),
      [],
      "blocks without a defined label keep their nodes",
    );
    assert.ok(blocks.length > 2);
  });

  it("re-renders only the open block per update, keeping closed block nodes", () => {
    const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: null });
    md.append("# Title\n\nfirst paragraph\n\nsecond");
    const closed = md.element.querySelector(".llmw-block");
    const closedHtml = closed.innerHTML;
    md.append(" paragraph grows");
    assert.equal(md.element.querySelector(".llmw-block"), closed);
    assert.equal(closed.innerHTML, closedHtml);
  });

  it("puts closed blocks in groups so the page lays out few top-level nodes", () => {
    const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: null });
    md.append(Array.from({ length: 100 }, (_, i) => `paragraph ${i}`).join("\n\n"));
    const groups = md.element.querySelectorAll(":scope > .llmw-group");
    const blocks = md.element.querySelectorAll(".llmw-block").length;
    assert.ok(blocks >= 99, `${blocks} blocks`); // the last two may still share the open block
    assert.equal(md.element.children.length, groups.length);
    assert.equal(groups.length, Math.ceil(blocks / 32));
    assert.ok([...groups].every((g) => g.childElementCount <= 32));
  });

  it("coalesces renders through the scheduler", () => {
    const queued = [];
    const md = new IncrementalMarkdown({
      document: window.document,
      renderer,
      schedule: (cb) => queued.push(cb),
    });
    md.append("a");
    md.append("b");
    md.append("c");
    assert.equal(queued.length, 1);
    queued[0]();
    assert.equal(md.element.textContent.trim(), "abc");
  });
});
