import { JSDOM } from "jsdom";
import { bindStreamView } from "../src/stream.js";

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

/** Literal text markdown-it sees in `src` (text tokens only: no code, math or URLs). */
export function literalText(md, src) {
  const parts = [];
  for (const token of md.parse(src, {})) {
    if (token.type !== "inline") continue;
    for (const child of token.children ?? []) if (child.type === "text") parts.push(child.content);
  }
  return parts.join("\n");
}

/**
 * A stand-in for anywidget's front-end model (the host's object, not ours): get/set with
 * change events, custom messages both ways, and a record of what the view sent.
 */
export class HostModel {
  constructor(state = {}) {
    this.state = {
      status: "idle",
      metrics: { output_tokens: 0, estimated: true },
      error: null,
      text: "",
      model_label: "",
      label_note: "",
      ...state,
    };
    this.handlers = new Map();
    this.sent = [];
  }
  get(name) {
    return this.state[name];
  }
  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(fn);
  }
  off(name, fn) {
    this.handlers.get(name)?.delete(fn);
  }
  emit(name, ...args) {
    for (const fn of this.handlers.get(name) ?? []) fn(...args);
  }
  /** Kernel -> view custom message. */
  custom(msg) {
    this.emit("msg:custom", msg);
  }
  /** View -> kernel. */
  send(msg) {
    this.sent.push(msg);
  }
}

// Views of an active stream tick once a second: each test's views are torn down after it, as
// the page does, so no timer outlives the test run (call `unmountViews` from `afterEach`).
const mounted = [];

/** A StreamView bound to a fresh HostModel with `state`, in a new element of `document`. */
export function mountStreamView(document, state, options = {}) {
  const model = new HostModel(state);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const { view, cleanup } = bindStreamView(model, el, { schedule: null, ...options });
  mounted.push(cleanup);
  return { model, el, view, cleanup };
}

/** Tear down every view mounted so far. */
export function unmountViews() {
  for (const cleanup of mounted.splice(0)) cleanup();
}
