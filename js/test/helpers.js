import { JSDOM } from "jsdom";

/** A fresh jsdom window (DOMPurify and the DOM views need one). */
export function makeWindow() {
  return new JSDOM("<!doctype html><html><body></body></html>").window;
}

/** Visible prose text of rendered HTML: code, math and link URLs removed. */
export function proseText(window, html) {
  const div = window.document.createElement("div");
  div.innerHTML = html;
  for (const el of div.querySelectorAll("pre, code, .katex, .katex-block")) el.remove();
  return div.textContent;
}
