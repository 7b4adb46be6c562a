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
