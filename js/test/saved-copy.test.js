import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hideSavedCopy } from "../src/saved-copy.js";
import { HostModel, makeWindow } from "./helpers.js";

const window = makeWindow();
const { document } = window;
const KEY = "0123456789abcdef";

/** The saved copy as the kernel writes it, in an output of its own. */
function savedCopy(key = KEY) {
  const copy = document.createElement("div");
  copy.className = "llmw-saved";
  copy.setAttribute("data-llmw-copy", key);
  copy.textContent = "the answer";
  document.body.appendChild(copy);
  return copy;
}

function view() {
  const el = document.createElement("div");
  document.body.appendChild(el);
  return el;
}

const shown = (el) => window.getComputedStyle(el).display !== "none";

describe("the saved copy while a live view is on the page", () => {
  it("is hidden while a view of its widget lives", () => {
    const copy = savedCopy();
    const release = hideSavedCopy(new HostModel({ _copy_key: KEY }), view());
    assert.equal(shown(copy), false);
    release();
    copy.remove();
  });

  it("shows again once the last view of its widget is gone", () => {
    const copy = savedCopy();
    const model = new HostModel({ _copy_key: KEY });
    const first = hideSavedCopy(model, view());
    const second = hideSavedCopy(model, view());
    first();
    assert.equal(shown(copy), false, "a view still lives");
    second();
    assert.equal(shown(copy), true);
    copy.remove();
  });

  it("hides only the copy of its own widget", () => {
    const other = savedCopy("fedcba9876543210");
    const release = hideSavedCopy(new HostModel({ _copy_key: KEY }), view());
    assert.equal(shown(other), true);
    release();
    other.remove();
  });

  it("is left alone by a key that is not a plain hex string", () => {
    const before = document.head.querySelectorAll("style").length;
    hideSavedCopy(new HostModel({ _copy_key: '"]{} body{display:none' }), view());
    assert.equal(document.head.querySelectorAll("style").length, before);
  });
});
