// One streamed answer on screen: header (status, model, note, counter, Stop), the thinking
// panel, the answer's body and an error box. Knows the kernel <-> view message protocol but not
// anywidget: the stream, chat and compare widgets all drive it the same way.
//
// The body, the answer's text with its tool cards inside it (each card where the kernel's `at`
// says), is an AnswerBody (answer-body.js); this view takes the messages in order and hands it
// what they carry.
//
// Structured output (setStructured(true)): the answer's text is JSON, drawn as the object it
// describes by a StructuredView under the body instead of as markdown. The text segments keep
// the text but draw nothing (IncrementalMarkdown held); the cards stay in the body, and the
// object is read from the text after the last card (all of it when there is none).

import { AnswerBody } from "./answer-body.js";
import { createCounter } from "./counter.js";
import { button, make } from "./dom.js";
import * as protocol from "./protocol.js";
import { SentPreview } from "./sent.js";
import { StructuredView } from "./structured.js";
import { ThinkingPanel } from "./thinking.js";

// Importable from here as before the body had its own module.
export { advance, copyText } from "./answer-body.js";

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
    this._makeHeader(doc);

    this._schedule = options.schedule;
    this._structured = false;
    /** The object view of a structured answer, made when first needed. */
    this.structuredView = null;
    /** The answer's text and tool cards. */
    this.answer = new AnswerBody(doc, {
      schedule: this._schedule,
      onApprove: (id, allow) => this.send(protocol.approve(id, allow)),
    });
    this.body = this.answer.element;

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
    this.stopButton.addEventListener("click", this._onStop);
  }

  /** The header: status and model label, the counter, Stop, and a note on its own line. */
  _makeHeader(doc) {
    this.header = make(doc, "div", "llmw-header");
    this.statusEl = make(doc, "span", "llmw-status");
    this.statusEl.setAttribute("role", "status");
    this.modelEl = make(doc, "span", "llmw-model");
    this.noteEl = make(doc, "span", "llmw-note");
    this.counter = createCounter(doc);
    this.stopButton = button(doc, "llmw-stop", "Stop");
    this.stopButton.disabled = true;
    const label = make(doc, "div", "llmw-label");
    label.append(this.statusEl, this.modelEl);
    // The note sits on its own line under the others (CSS), so it never pushes them.
    this.header.append(label, this.counter.element, this.stopButton, this.noteEl);
  }

  /** The text segment that grows (the text after the last card). */
  get markdown() {
    return this.answer.markdown;
  }

  /** The answer text currently shown (the whole of it, across the cards). */
  get text() {
    return this.answer.text;
  }

  /** The tool cards as they stand, in answer order, as plain objects. */
  get tools() {
    return this.answer.tools;
  }

  /** Ask the kernel for a snapshot (on render, and after a gap in delta seqs). */
  hello() {
    this._awaitingSnapshot = true;
    this.send(protocol.hello());
  }

  /** A snapshot was asked for and has not come: the text shown may lack what it brings. */
  get awaitingSnapshot() {
    return this._awaitingSnapshot;
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
    this.answer.setHeld(structured);
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
    this.structuredView.update(this.answer.lastText, FINAL_STATUSES.has(this.status));
  }

  /** A new stream starts: clear the text and expect seq 1 next. */
  reset() {
    this.lastSeq = 0;
    this._awaitingSnapshot = false;
    this._hasAnswer = false;
    this.answer.setCards([]);
    this.answer.setText("");
    this.thinking.reset();
    this.setError(null);
    this._syncStructured();
  }

  _delta(seq, text, part, id) {
    if (!this._next(seq)) return;
    if (part === undefined) {
      // The text path: a text delta names no part.
      this.answer.append(text);
      if (!this._hasAnswer && text) this._answerStarted();
    } else if (part === protocol.PARTS.THINKING) {
      this.thinking.append(text);
    } else if (part === protocol.PARTS.TOOL_CALL) {
      this.answer.appendArguments(id, text);
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
    this.answer.tool(msg);
    if (!this._hasAnswer) this._answerStarted();
  }

  _snapshot(msg) {
    this._dataAt = this.clock.now();
    // Snapshots are broadcast to every view of the model; an older one is stale here.
    if (msg.seq < this.lastSeq) return;
    this.lastSeq = msg.seq;
    this._awaitingSnapshot = false;
    const text = msg.text ?? "";
    this.answer.setCards(msg.tools);
    this.answer.setText(text);
    this.thinking.setText(msg[protocol.PARTS.THINKING] ?? "");
    if (text || this.answer.hasCards) this._answerStarted();
    else this._updateThinking();
    if (FINAL_STATUSES.has(this.status)) this.answer.finalize();
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
    if (FINAL_STATUSES.has(s)) this.answer.finalize();
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
    this.answer.setText(text);
    this.answer.finalize();
    this._answerStarted();
    this._syncStructured();
  }

  /** The tool cards as the ended answer had them (saved widget state, read without a kernel). */
  setFinalTools(cards) {
    if (!Array.isArray(cards) || cards.length === 0) return;
    this.answer.setCards(cards);
    this.answer.layout(this.answer.text);
    if (FINAL_STATUSES.has(this.status)) this.answer.finalize();
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
    this.answer.destroy();
    this.stopButton.removeEventListener("click", this._onStop);
    this.root.remove();
  }
}

/** Convenience: `createStreamView(el, options)` = `new StreamView(el, options)`. */
export function createStreamView(el, options) {
  return new StreamView(el, options);
}
