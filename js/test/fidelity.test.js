// "Streamed, then finalised" renders exactly like "rendered whole": over every CommonMark
// spec example (the set markdown-it's own tests use) and over long real documents.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { highlight } from "../src/highlight.js";
import { createRenderer, IncrementalMarkdown } from "../src/markdown.js";
import { makeWindow } from "./helpers.js";

const require = createRequire(import.meta.url);
const spec = require("commonmark-spec");
const window = makeWindow();
// Without DOMPurify: sanitizing is deterministic and tested in sanitize.test.js.
const renderer = createRenderer({ window: null });

/** Feed `text` in chunks of `size` chars, then finalize; the final HTML. */
function streamed(text, size) {
  const md = new IncrementalMarkdown({ document: window.document, renderer, schedule: () => {} });
  for (let i = 0; i < text.length; i += size) md.append(text.slice(i, i + size));
  md.finalize();
  return md.html;
}

describe("highlighting does not depend on what was highlighted before", () => {
  it("TSX embeds XML even when no XML block came first", () => {
    assert.match(highlight("const a = <A b={1} />;", "tsx"), /language-xml/);
  });
});

describe("every CommonMark spec example streams to the same HTML as rendered whole", () => {
  const examples = spec.tests.map((ex) => ({ ...ex, markdown: ex.markdown.replace(/→/g, "\t") }));
  it(`${examples.length} examples, in chunks of 1, 2, 3 and 7 chars`, () => {
    const differ = [];
    for (const ex of examples) {
      const whole = renderer.render(ex.markdown);
      for (const size of [1, 2, 3, 7]) {
        if (streamed(ex.markdown, size) !== whole) {
          differ.push(`${ex.number} (${ex.section}, chunks of ${size})`);
          break;
        }
      }
    }
    assert.deepEqual(differ, []);
  });

  it("covers the link reference definitions the old end-of-stream check missed", () => {
    for (const text of [
      "   [foo]: \n      /url  \n           'the title'  \n\n[foo]\n", // split over lines
      "[foo]\n\n> [foo]: /url\n", // inside a blockquote
      "[Foo\n  bar]: /url\n\n[Baz][Foo bar]\n", // label over two lines
      "- [foo]\n\n  [foo]: /url\n\nafter\n", // inside a list item
    ]) {
      assert.equal(streamed(text, 1), renderer.render(text), JSON.stringify(text));
    }
  });
});

describe("long real documents stream to the same HTML as rendered whole", () => {
  const DOCS = [
    "../../README.md",
    "../README.md",
    "../node_modules/markdown-it/README.md",
    "../node_modules/katex/README.md",
    "../node_modules/highlight.js/README.md",
    "../node_modules/dompurify/README.md",
  ];
  for (const path of DOCS) {
    it(path.replace(/^(\.\.\/)+/, ""), () => {
      const text = readFileSync(new URL(path, import.meta.url), "utf8");
      const whole = renderer.render(text);
      for (const size of [1, 7, 64]) assert.equal(streamed(text, size), whole, `chunks of ${size}`);
    });
  }
  it("a document with CRLF line endings", () => {
    const text = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const crlf = text.replace(/\n/g, "\r\n");
    assert.equal(streamed(crlf, 5), renderer.render(crlf));
  });
});
