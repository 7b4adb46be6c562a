// The thinking panel: the model's reasoning in a <details> above the answer. Open and streaming
// while the model thinks, collapsed with "Thought for 12 s · 840 tokens" once the answer starts,
// expandable later (a <summary> is keyboard accessible as it is). Thinking is shown as plain text,
// each delta appended as a text node, so a long think costs the same per delta as a short one.

import { formatSeconds } from "./counter.js";

/**
 * The panel's one-line summary.
 * @param {{thinking: boolean, answering: boolean,
 *   metrics?: import("./counter.js").Metrics}} state
 *   thinking: whether the model is still thinking (active, and no visible token yet).
 */
export function thinkingLabel({ thinking, metrics }) {
  const m = metrics ?? {};
  const parts = [];
  const tokens = m.thinking_tokens;
  if (thinking) {
    parts.push("thinking…");
  } else {
    const seconds = m.thinking_time;
    parts.push(isNumber(seconds) ? `Thought for ${formatSeconds(seconds)}` : "Thought");
  }
  if (isNumber(tokens)) {
    const n = Math.max(0, Math.round(tokens));
    parts.push(`${m.thinking_estimated ? "~" : ""}${n} ${n === 1 ? "token" : "tokens"}`);
  }
  return parts.join(" · ");
}

export class ThinkingPanel {
  /** @param {Document} doc */
  constructor(doc) {
    this.document = doc;
    this.element = doc.createElement("details");
    this.element.className = "llmw-thinking";
    this.element.hidden = true;
    this.summary = doc.createElement("summary");
    this.summary.className = "llmw-thinking-summary";
    this.body = doc.createElement("div");
    this.body.className = "llmw-thinking-body";
    this.note = doc.createElement("div");
    this.note.className = "llmw-thinking-note";
    this.note.textContent = "The model did not share its thinking, only how long it was.";
    this.note.hidden = true;
    this.element.append(this.summary, this.body, this.note);
    this._pieces = [];
    this._length = 0;
    this._state = { thinking: false, answering: false, metrics: {} };
    // Until the person opens or closes the panel, it follows the stream: open while the model
    // thinks, closed once the answer starts. A click (or Enter/Space) on the summary is theirs.
    this._userToggled = false;
    this._closedForAnswer = false;
    this._onSummaryClick = () => {
      this._userToggled = true;
    };
    this.summary.addEventListener("click", this._onSummaryClick);
  }

  /** All thinking text shown. */
  get text() {
    if (this._pieces.length > 1) this._pieces = [this._pieces.join("")];
    return this._pieces[0] ?? "";
  }

  /** Append a thinking delta. */
  append(text) {
    if (!text) return;
    this._pieces.push(text);
    this._length += text.length;
    const body = this.body;
    // Follow the end while the person has not scrolled up in the panel.
    const atEnd = body.scrollTop + body.clientHeight >= body.scrollHeight - 4;
    body.appendChild(this.document.createTextNode(text));
    if (atEnd && this.element.open) body.scrollTop = body.scrollHeight;
    this._refresh();
  }

  /** Replace all thinking text (a snapshot, or the saved final thinking). */
  setText(text) {
    this._pieces = text ? [text] : [];
    this._length = text ? text.length : 0;
    this.body.textContent = text ?? "";
    this._refresh();
  }

  /** Start over for a new answer. */
  reset() {
    this._userToggled = false;
    this._closedForAnswer = false;
    this.element.open = false;
    this._state = { thinking: false, answering: false, metrics: {} };
    this.setText("");
  }

  /**
   * @param {{thinking: boolean, answering: boolean,
   *   metrics?: import("./counter.js").Metrics}} state
   *   thinking: active with no visible token yet; answering: the answer has started or ended.
   */
  update(state) {
    this._state = { ...state, metrics: state.metrics ?? {} };
    this._refresh();
  }

  _refresh() {
    const { thinking, answering, metrics } = this._state;
    const hasText = this._length > 0;
    const shown = hasText || isNumber(metrics.thinking_tokens);
    this.element.hidden = !shown;
    if (!shown) return;
    const label = thinkingLabel({ thinking: thinking && !answering, metrics });
    if (this.summary.textContent !== label) this.summary.textContent = label;
    this.note.hidden = hasText || thinking;
    this.element.dataset.thinking = String(Boolean(thinking && !answering));
    if (this._userToggled) return;
    if (answering) {
      if (!this._closedForAnswer) {
        this._closedForAnswer = true;
        this.element.open = false;
      }
    } else if (thinking && !this.element.open) {
      this.element.open = true;
    }
  }

  destroy() {
    this.summary.removeEventListener("click", this._onSummaryClick);
  }
}

function isNumber(x) {
  return typeof x === "number" && Number.isFinite(x);
}
