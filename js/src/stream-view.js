// One streamed answer on screen: header (status, model, note, counter, Stop), the thinking
// panel, the incremental markdown body and an error box. Knows the kernel <-> view message protocol
// but not anywidget: the stream, chat and compare widgets all drive it the same way.
//
// Tool calls sit inside the answer as cards. The kernel keeps the answer one string and says where
// each card sits (`at`); the body is a row of segments, text, card, text, card, text, each text
// segment its own IncrementalMarkdown, and only the last one grows. An answer without cards has
// one segment, and a text delta costs what it did before cards existed.
//
// Structured output (setStructured(true)): the answer's text is JSON, drawn as the object it
// describes by a StructuredView under the body instead of as markdown. The text segments keep
// the text but draw nothing (IncrementalMarkdown held); the cards stay in the body, and the
// object is read from the text after the last card (all of it when there is none).

import { createCounter } from "./counter.js";
import { IncrementalMarkdown } from "./markdown.js";
import * as protocol from "./protocol.js";
import { SentPreview } from "./sent.js";
import { StructuredView } from "./structured.js";
import { ThinkingPanel } from "./thinking.js";
import { ToolCard } from "./tool-card.js";

// "queued": the model answers one request at a time (the embedded one) and is busy with another.
export const ACTIVE_STATUSES = new Set(["waiting", "queued", "streaming"]);
export const FINAL_STATUSES = new Set(["done", "stopped", "error"]);
/** Milliseconds without data while active before the header says it is waiting for data. */
export const QUIET_AFTER_MS = 3000;
const STATUS_TEXT = {
  idle: "",
  waiting: "waiting…",
  queued: "queued",
  streaming: "streaming",
  done: "done",
  stopped: "stopped",
  error: "error",
};

export class StreamView {
  /**
   * @param {HTMLElement} el container to render into
   * @param {{send?: (msg: object) => void, document?: Document,
   *   schedule?: ((cb: () => void) => unknown) | null,
   *   clock?: {now: () => number, setInterval: Function, clearInterval: Function}}} [options]
   *   send: delivers view -> kernel messages (see protocol.js).
   *   clock: time source for the ticking elapsed time (tests pass a fake one).
   */
  constructor(el, options = {}) {
    const doc = options.document ?? el.ownerDocument ?? globalThis.document;
    this.document = doc;
    this.send = options.send ?? (() => {});
    this.clock = options.clock ?? {
      now: () => globalThis.performance.now(),
      setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
      clearInterval: (id) => globalThis.clearInterval(id),
    };
    this._metrics = {};
    this._metricsAt = this.clock.now();
    this._dataAt = this._metricsAt;
    this._ticker = null;
    this.lastSeq = -1; // -1: nothing known; a snapshot must come first
    this._hasAnswer = false; // a visible answer token has arrived (the thinking panel closes)
    this._awaitingSnapshot = false;
    this.status = "idle";

    this.root = make(doc, "div", "llmw-stream");
    this.root.dataset.status = "idle";

    this.header = make(doc, "div", "llmw-header");
    this.statusEl = make(doc, "span", "llmw-status");
    this.statusEl.setAttribute("role", "status");
    this.modelEl = make(doc, "span", "llmw-model");
    this.noteEl = make(doc, "span", "llmw-note");
    this.counter = createCounter(doc);
    this.stopButton = make(doc, "button", "llmw-stop");
    this.stopButton.type = "button";
    this.stopButton.textContent = "Stop";
    this.stopButton.disabled = true;
    const label = make(doc, "div", "llmw-label");
    label.append(this.statusEl, this.modelEl);
    // The note sits on its own line under the others (CSS), so it never pushes them.
    this.header.append(label, this.counter.element, this.stopButton, this.noteEl);

    this._schedule = options.schedule;
    this._structured = false;
    /** The object view of a structured answer, made when first needed. */
    this.structuredView = null;
    /** The text segment that grows: the last of `_segments`. */
    this.markdown = this._newMarkdown();
    /** Text segments in order, with where each starts in the whole text (code units, points). */
    this._segments = [{ markdown: this.markdown, units: 0, points: 0 }];
    /** Tool cards by id. */
    this._cards = new Map();
    this.body = make(doc, "div", "llmw-body");
    this.body.appendChild(this.markdown.element);

    this.errorEl = make(doc, "div", "llmw-error");
    this.errorEl.hidden = true;
    this.errorEl.setAttribute("role", "alert");

    this.thinking = new ThinkingPanel(doc);
    this.sent = new SentPreview(doc);

    this.root.append(
      this.header,
      this.sent.element,
      this.thinking.element,
      this.body,
      this.errorEl,
    );
    el.appendChild(this.root);

    this._onStop = () => this.stop();
    this._onClick = (event) => onCopyClick(event);
    this.stopButton.addEventListener("click", this._onStop);
    this.root.addEventListener("click", this._onClick);
  }

  /** The answer text currently shown (the whole of it, across the cards). */
  get text() {
    if (this._segments.length === 1) return this.markdown.text;
    return this._segments.map((s) => s.markdown.text).join("");
  }

  /** The tool cards as they stand, in answer order, as plain objects. */
  get tools() {
    return this._orderedCards().map((card) => card.state);
  }

  /** Ask the kernel for a snapshot (on render, and after a gap in delta seqs). */
  hello() {
    this._awaitingSnapshot = true;
    this.send(protocol.hello());
  }

  /** Nothing has streamed yet: take deltas from seq 1 without asking for a snapshot. */
  expectDeltas() {
    this.lastSeq = 0;
    this._awaitingSnapshot = false;
  }

  /** The model's thinking currently shown. */
  get thinkingText() {
    return this.thinking.text;
  }

  /** Handle one kernel -> view custom message ({type: delta|snapshot|reset|tool}). */
  applyMessage(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === protocol.DELTA) this._delta(msg.seq, msg.text ?? "", msg.part, msg.id);
    else if (msg.type === protocol.SNAPSHOT) this._snapshot(msg);
    else if (msg.type === protocol.RESET) this.reset();
    else if (msg.type === protocol.TOOL) this._tool(msg);
    this._syncStructured();
  }

  /** Whether the answer is structured output (JSON shown as an object) or markdown. */
  get structured() {
    return this._structured;
  }

  /** Show the answer as the object its JSON describes (true) or as markdown (false). */
  setStructured(on) {
    const structured = Boolean(on);
    if (structured === this._structured) return;
    this._structured = structured;
    this.root.dataset.structured = String(structured);
    for (const segment of this._segments) segment.markdown.setHeld(structured);
    if (structured && !this.structuredView) {
      this.structuredView = new StructuredView(this.document, { schedule: this._schedule });
      this.root.insertBefore(this.structuredView.element, this.errorEl);
    }
    if (this.structuredView) this.structuredView.element.hidden = !structured;
    this._syncStructured();
  }

  /** Hand the object view the text after the last card, and whether the answer has ended. */
  _syncStructured() {
    if (!this._structured) return;
    this.structuredView.update(this.markdown.text, FINAL_STATUSES.has(this.status));
  }

  /** A new stream starts: clear the text and expect seq 1 next. */
  reset() {
    this.lastSeq = 0;
    this._awaitingSnapshot = false;
    this._hasAnswer = false;
    this._setCards([]);
    this._setAnswerText("");
    this.thinking.reset();
    this.setError(null);
    this._syncStructured();
  }

  _delta(seq, text, part, id) {
    if (!this._next(seq)) return;
    if (part === undefined) {
      // The text path: a text delta names no part.
      this.markdown.append(text);
      if (!this._hasAnswer && text) this._answerStarted();
    } else if (part === protocol.PARTS.THINKING) {
      this.thinking.append(text);
    } else if (part === protocol.PARTS.TOOL_CALL) {
      this._cards.get(id)?.appendArguments(text);
    }
  }

  /**
   * Whether the message numbered `seq` is the next one (then it is taken). Every part and every
   * card message counts: a message already seen is dropped, and a gap asks for a snapshot.
   */
  _next(seq) {
    this._dataAt = this.clock.now();
    if (seq <= this.lastSeq) return false; // already have it (e.g. inside a snapshot)
    if (this.lastSeq >= 0 && seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      return true;
    }
    if (!this._awaitingSnapshot) this.hello(); // a gap: the snapshot will cover it
    return false;
  }

  /** A `tool` message: create card `id`, or update the fields it carries. */
  _tool(msg) {
    if (!this._next(msg.seq) || msg.id === undefined) return;
    const card = this._cards.get(msg.id);
    if (card) {
      const moved = msg.at !== undefined && msg.at !== card.at;
      card.update(msg);
      if (moved) this._layout(this.text);
    } else {
      this._placeCard(this._newCard(msg));
    }
    if (!this._hasAnswer) this._answerStarted();
  }

  _newCard(fields) {
    const card = new ToolCard(this.document, {
      id: fields.id,
      onApprove: (id, allow) => this.send(protocol.approve(id, allow)),
    });
    card.update(fields);
    this._cards.set(card.id, card);
    return card;
  }

  /**
   * Put a new card where its `at` says. The usual case is at the end of the text: the last
   * segment is closed (the model will not add to it) and a new one starts after the card.
   * Anywhere else the segments are laid out again.
   */
  _placeCard(card) {
    const last = this._segments[this._segments.length - 1];
    const lastText = last.markdown.text;
    if (card.at === undefined) {
      // No place given: where the text has got to.
      card.update({ at: last.points + advance(lastText, 0, lastText.length).points });
    }
    const want = card.at - last.points;
    const behind = this._orderedCards().some((c) => c !== card && (c.at ?? 0) > (card.at ?? 0));
    if (want < 0 || behind) {
      this._layout(this.text);
      return;
    }
    const end = advance(lastText, 0, want);
    if (end.units < lastText.length) {
      this._layout(this.text);
      return;
    }
    last.markdown.finalize();
    this.markdown = this._newMarkdown();
    this._segments.push({
      markdown: this.markdown,
      units: last.units + lastText.length,
      points: last.points + end.points,
    });
    this.body.append(card.element, this.markdown.element);
  }

  /** Cards in answer order: by `at`, then in the order they came. */
  _orderedCards() {
    const cards = [...this._cards.values()];
    return cards.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  }

  /** Make the cards exactly `list` (a snapshot's, or the saved ones): update, add, drop. */
  _setCards(list) {
    const keep = new Set();
    for (const fields of list ?? []) {
      if (!fields || fields.id === undefined) continue;
      keep.add(fields.id);
      const card = this._cards.get(fields.id);
      if (card) card.update(fields);
      else this._newCard(fields);
    }
    for (const [id, card] of this._cards) {
      if (keep.has(id)) continue;
      card.destroy();
      this._cards.delete(id);
    }
  }

  /** Show `text` as the whole answer, split at the cards. */
  _setAnswerText(text) {
    if (this._cards.size === 0 && this._segments.length === 1) this.markdown.setText(text);
    else this._layout(text);
  }

  /**
   * Lay the body out again: one text segment before each card and one after the last. Segments
   * are reused in order, so a layout that only extends the text re-renders nothing but the end.
   */
  _layout(text) {
    const cards = this._orderedCards();
    const segments = [];
    let pos = { units: 0, points: 0 };
    const starts = [pos];
    for (const card of cards) {
      const step = advance(text, pos.units, Math.max(0, (card.at ?? 0) - pos.points));
      pos = { units: step.units, points: pos.points + step.points };
      starts.push(pos);
    }
    for (let i = 0; i < starts.length; i++) {
      const markdown = this._segments[i]?.markdown ?? this._newMarkdown();
      const end = i + 1 < starts.length ? starts[i + 1].units : text.length;
      markdown.setText(text.slice(starts[i].units, end));
      if (i + 1 < starts.length) markdown.finalize(); // a card follows: this text is whole
      segments.push({ markdown, ...starts[i] });
    }
    for (const old of this._segments.slice(segments.length)) old.markdown.element.remove();
    this._segments = segments;
    this.markdown = segments[segments.length - 1].markdown;
    const order = [segments[0].markdown.element];
    for (let i = 0; i < cards.length; i++) {
      order.push(cards[i].element, segments[i + 1].markdown.element);
    }
    placeInOrder(this.body, order);
  }

  _newMarkdown() {
    const doc = this.document;
    const markdown = new IncrementalMarkdown({
      document: doc,
      schedule: this._schedule,
      // One markdown-it for all the segments of this answer.
      renderer: this.markdown?.renderer,
      onRender: (blockEl) => addCopyButtons(doc, blockEl),
    });
    if (this._structured) markdown.setHeld(true);
    return markdown;
  }

  _snapshot(msg) {
    this._dataAt = this.clock.now();
    // Snapshots are broadcast to every view of the model; an older one is stale here.
    if (msg.seq < this.lastSeq) return;
    this.lastSeq = msg.seq;
    this._awaitingSnapshot = false;
    const text = msg.text ?? "";
    this._setCards(msg.tools);
    this._setAnswerText(text);
    this.thinking.setText(msg[protocol.PARTS.THINKING] ?? "");
    if (text || this._cards.size > 0) this._answerStarted();
    else this._updateThinking();
    if (FINAL_STATUSES.has(this.status)) this.markdown.finalize();
  }

  _answerStarted() {
    this._hasAnswer = true;
    this._updateThinking();
  }

  /** The thinking panel follows the status, the metrics and whether the answer has begun. */
  _updateThinking() {
    const answering =
      this._hasAnswer || FINAL_STATUSES.has(this.status) || typeof this._metrics.ttft === "number";
    this.thinking.update({
      thinking: ACTIVE_STATUSES.has(this.status),
      answering,
      metrics: this._metrics,
    });
  }

  /** Show a status: "idle" | "waiting" | "queued" | "streaming" | "done" | "stopped" | "error". */
  setStatus(status) {
    const s = status || "idle";
    const wasActive = ACTIVE_STATUSES.has(this.status);
    const wasQueued = this.status === "queued";
    this.status = s;
    this.root.dataset.status = s;
    const active = ACTIVE_STATUSES.has(s);
    this.stopButton.disabled = !active;
    this.stopButton.textContent = "Stop"; // also after "Stopping…": the button is disabled now
    // Quiet time counts from the start, or from the end of a queue (waiting there is no stall).
    if (active && (!wasActive || wasQueued)) this._dataAt = this.clock.now();
    this._tick();
    if (active && this._ticker === null) {
      this._ticker = this.clock.setInterval(() => this._tick(), 1000);
    } else if (!active) {
      this._stopTicker();
    }
    if (FINAL_STATUSES.has(s)) this.markdown.finalize();
    this._updateThinking();
    this._syncStructured();
  }

  /** @param {import("./counter.js").Metrics} metrics */
  setMetrics(metrics) {
    this._metrics = metrics ?? {};
    this._metricsAt = this.clock.now();
    this.counter.update(this._metrics);
    this._showStatusText();
    this._updateThinking();
  }

  /**
   * Once a second while active: the elapsed time moves on between the kernel's updates, and
   * after QUIET_AFTER_MS without data the header says so, so a stall never looks frozen.
   */
  _tick() {
    if (!ACTIVE_STATUSES.has(this.status)) {
      this._showStatusText();
      return;
    }
    const now = this.clock.now();
    const base = this._metrics.elapsed;
    if (typeof base === "number") {
      this.counter.update({ ...this._metrics, elapsed: base + (now - this._metricsAt) / 1000 });
    }
    this._showStatusText(now);
  }

  _showStatusText(now = this.clock.now()) {
    const s = this.status;
    let text = STATUS_TEXT[s] ?? s;
    const quiet = now - this._dataAt;
    const stalled = ACTIVE_STATUSES.has(s) && s !== "queued" && quiet >= QUIET_AFTER_MS;
    if (stalled) {
      text = `waiting for data · ${Math.floor(quiet / 1000)} s`;
    } else if (s === "done" && this._metrics.finish_reason === "length") {
      text = "stopped: token limit";
    }
    this.root.dataset.quiet = String(stalled);
    if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
  }

  _stopTicker() {
    if (this._ticker !== null) {
      this.clock.clearInterval(this._ticker);
      this._ticker = null;
    }
  }

  /** Show `title: message` as plain text under the partial answer, or hide it (null). */
  setError(error) {
    if (!error) {
      this.errorEl.hidden = true;
      this.errorEl.replaceChildren();
      return;
    }
    const title = make(this.document, "strong", "llmw-error-title");
    title.textContent = String(error.title ?? "Error");
    const message = make(this.document, "span", "llmw-error-message");
    message.textContent = error.message ? `: ${error.message}` : "";
    this.errorEl.replaceChildren(title, message);
    this.errorEl.hidden = false;
  }

  /** Model label ("openai:gpt-4o-mini") and an optional note about it. */
  setLabel(modelLabel, note) {
    this.modelEl.textContent = modelLabel ?? "";
    this.noteEl.textContent = note ?? "";
    this.noteEl.hidden = !note;
  }

  /** The authoritative final text (set by the kernel when the stream ends). */
  setFinalText(text) {
    if (!text) return;
    this._setAnswerText(text);
    this.markdown.finalize();
    this._answerStarted();
    this._syncStructured();
  }

  /** The tool cards as the ended answer had them (saved widget state, read without a kernel). */
  setFinalTools(cards) {
    if (!Array.isArray(cards) || cards.length === 0) return;
    this._setCards(cards);
    this._layout(this.text);
    if (FINAL_STATUSES.has(this.status)) this.markdown.finalize();
    this._answerStarted();
    this._syncStructured();
  }

  /** The prompt's images and tables, shown above the answer (see sent.js). */
  setSent(items) {
    this.sent.setItems(items);
  }

  /** The thinking as the ended answer had it (a saved widget state, read without a kernel). */
  setFinalThinking(text) {
    if (!text) return;
    this.thinking.setText(text);
    this._updateThinking();
  }

  /** Stop button: ask the kernel to cancel the stream. */
  stop() {
    if (!ACTIVE_STATUSES.has(this.status)) return;
    this.stopButton.disabled = true;
    this.stopButton.textContent = "Stopping…";
    this.send(protocol.stop());
  }

  destroy() {
    this._stopTicker();
    this.thinking.destroy();
    this.sent.destroy();
    this.structuredView?.destroy();
    for (const card of this._cards.values()) card.destroy();
    this.stopButton.removeEventListener("click", this._onStop);
    this.root.removeEventListener("click", this._onClick);
    this.root.remove();
  }
}

/** Convenience: `createStreamView(el, options)` = `new StreamView(el, options)`. */
export function createStreamView(el, options) {
  return new StreamView(el, options);
}

/**
 * Make `parent`'s children exactly `order`, moving only the nodes out of place: a node that
 * moves loses focus (a focused Allow button), and one already in place need not move.
 */
function placeInOrder(parent, order) {
  const children = parent.children;
  for (let i = 0; i < order.length; i++) {
    if (children[i] !== order[i]) parent.insertBefore(order[i], children[i] ?? null);
  }
  while (children.length > order.length) children[order.length].remove();
}

/**
 * Walk `points` code points (Python's len) into `text` from code unit `from`: the code unit
 * reached and the points walked, which are fewer when the text ends first.
 */
export function advance(text, from, points) {
  let i = from;
  let n = 0;
  while (n < points && i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    i += pair && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
    n++;
  }
  return { units: i, points: n };
}

function isLowSurrogate(code) {
  return code >= 0xdc00 && code <= 0xdfff;
}

function make(doc, tag, className) {
  const el = doc.createElement(tag);
  el.className = className;
  return el;
}

function addCopyButtons(doc, blockEl) {
  for (const slot of blockEl.querySelectorAll(".llmw-copy-slot")) {
    const button = make(doc, "button", "llmw-copy");
    button.type = "button";
    button.textContent = "Copy";
    button.title = "Copy code";
    slot.replaceWith(button);
  }
}

async function onCopyClick(event) {
  const button = event.target?.closest?.("button.llmw-copy");
  if (!button) return;
  const code = button.closest(".llmw-code")?.querySelector("pre code");
  if (!code) return;
  const ok = await copyText(code.textContent ?? "", button.ownerDocument);
  button.textContent = ok ? "Copied" : "Copy failed";
  setTimeout(() => {
    button.textContent = "Copy";
  }, 1500);
}

/** Copy to the clipboard; falls back to a hidden textarea + execCommand. */
export async function copyText(text, doc = globalThis.document) {
  try {
    if (globalThis.navigator?.clipboard?.writeText) {
      await globalThis.navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // not permitted (no focus, insecure context): fall back below
  }
  const area = doc.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  doc.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = doc.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
