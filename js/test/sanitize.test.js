import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRenderer } from "../src/markdown.js";
import { repairBlock } from "../src/repair.js";
import { makeWindow } from "./helpers.js";

const window = makeWindow();
const renderer = createRenderer({ window });

const PAYLOADS = [
  "<img src=x onerror=alert(1)>",
  "<script>alert(1)</script>",
  "<svg onload=alert(1)>",
  "[x](javascript:alert(1))",
  "[x](JaVaScRiPt:alert(1))",
  "[x](vbscript:msgbox(1))",
  "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  "![x](javascript:alert(1))",
  "<a href=javascript:alert(1)>x</a>",
  "javascript:alert(1)",
  '<div style="position:fixed" onclick="alert(1)">x</div>',
];

/** Parse rendered HTML and list anything that could run script. */
function dangers(html) {
  const div = window.document.createElement("div");
  div.innerHTML = html;
  const found = [];
  for (const el of div.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "svg", "img", "style", "form"].includes(tag)) {
      if (!(tag === "svg" && el.closest(".katex"))) found.push(`<${tag}>`);
    }
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith("on")) found.push(`${tag}@${attr.name}`);
      if (["href", "src", "srcdoc", "xlink:href", "action"].includes(attr.name)) {
        if (/^(javascript|vbscript|data):/.test(value) || attr.name === "srcdoc") {
          found.push(`${tag}@${attr.name}=${value}`);
        }
      }
    }
  }
  return found;
}

describe("untrusted model output cannot run script", () => {
  for (const payload of PAYLOADS) {
    it(`renders ${JSON.stringify(payload)} inertly`, () => {
      assert.deepEqual(dangers(renderer.render(payload)), []);
      assert.deepEqual(dangers(renderer.render(`text **${payload}`)), []);
      assert.deepEqual(dangers(renderer.render(repairBlock(`see ${payload.slice(0, -1)}`))), []);
    });
  }

  it("keeps ordinary https links, opened in a new tab without opener or referrer", () => {
    const div = window.document.createElement("div");
    div.innerHTML = renderer.render("[docs](https://example.com) and https://example.org");
    const links = [...div.querySelectorAll("a")];
    assert.equal(links.length, 2);
    for (const a of links) {
      assert.equal(a.getAttribute("target"), "_blank");
      assert.equal(a.getAttribute("rel"), "noopener noreferrer nofollow");
    }
  });

  it("escapes raw HTML as text", () => {
    const div = window.document.createElement("div");
    div.innerHTML = renderer.render("<b>not bold</b>");
    assert.equal(div.querySelector("b"), null);
    assert.match(div.textContent, /<b>not bold<\/b>/);
  });

  it("allows data:image images", () => {
    const html = renderer.render("![dot](data:image/png;base64,iVBORw0KGgo=)");
    assert.match(html, /<img[^>]+src="data:image\/png/);
  });

  for (const src of [
    "https://evil.example/x.png?secret=abc",
    "//evil.example/x.png",
    "/api/contents/notebook.ipynb",
    "x.png",
  ]) {
    it(`turns the image ${src} into a link instead of fetching it`, () => {
      const div = window.document.createElement("div");
      div.innerHTML = renderer.render(`before ![a *chart*](${src}) after`);
      assert.equal(div.querySelector("img"), null);
      const link = div.querySelector("a.llmw-image-link");
      assert.equal(link.textContent, "🖼 a chart");
      assert.equal(link.getAttribute("href"), src);
      assert.equal(link.getAttribute("rel"), "noopener noreferrer nofollow");
    });
  }

  it("shows no SVG image from a data URI (markdown-it rejects the URL)", () => {
    const div = window.document.createElement("div");
    div.innerHTML = renderer.render("![s](data:image/svg+xml;base64,PHN2Zz4=)");
    assert.equal(div.querySelector("img"), null);
  });

  it("turns a reference-style remote image into a link too", () => {
    const div = window.document.createElement("div");
    div.innerHTML = renderer.render("![logo][l]\n\n[l]: https://evil.example/l.png\n");
    assert.equal(div.querySelector("img"), null);
    assert.equal(
      div.querySelector("a.llmw-image-link").getAttribute("href"),
      "https://evil.example/l.png",
    );
  });
});
