// A tool call drawn as a card inside the answer: the tool's name, its status and duration, the
// arguments (raw while the model streams them, pretty once whole), the result (folded when
// long), and Allow/Deny while the call waits for the person. Everything shown here comes from
// the model or from the tool, so it is set as text, never as HTML.

import { formatSeconds } from "./counter.js";
import { button, make } from "./dom.js";
import { TOOL_STATUSES } from "./protocol.js";

/** A result longer than this is folded behind "Show all". */
export const RESULT_FOLD = Object.freeze({ lines: 20, chars: 2000 });

const STATUS_TEXT = {
  [TOOL_STATUSES.STREAMING]: "calling…",
  [TOOL_STATUSES.APPROVAL]: "waiting for approval",
  [TOOL_STATUSES.RUNNING]: "running…",
  [TOOL_STATUSES.DONE]: "done",
  [TOOL_STATUSES.ERROR]: "error",
  [TOOL_STATUSES.DENIED]: "denied",
  [TOOL_STATUSES.CANCELLED]: "cancelled",
};

/** The fields a card has; a `tool` message carries some of them, a snapshot all. */
const FIELDS = ["id", "name", "at", "status", "arguments", "result", "is_error", "duration"];

let nextUid = 1; // element ids for aria-controls, unique in the page

/**
 * The start of `text` to show folded, or null when it is short enough to show whole.
 * @param {string} text
 * @param {{lines: number, chars: number}} [limits]
 */
export function foldText(text, limits = RESULT_FOLD) {
  let cut = Math.min(text.length, limits.chars);
  let nl = -1;
  for (let i = 0; i < limits.lines; i++) {
    nl = text.indexOf("\n", nl + 1);
    if (nl < 0 || nl >= cut) break;
    if (i === limits.lines - 1) cut = nl;
  }
  if (cut >= text.length) return null;
  // Never cut an astral character in half.
  if (isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  // What would be hidden is only blank: nothing to fold.
  if (/^\s*$/.test(text.slice(cut))) return null;
  return text.slice(0, cut);
}

/** Pretty JSON when `text` is whole JSON, else null. */
export function prettyJson(text) {
  if (!text) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

export class ToolCard {
  /**
   * @param {Document} doc
   * @param {{id: string, onApprove?: (id: string, allow: boolean) => void}} options
   *   onApprove: the person clicked Allow (true) or Deny (false).
   */
  constructor(doc, { id, onApprove }) {
    this.document = doc;
    this._state = { id };
    this._args = ""; // arguments as streamed (or as last set whole)
    this._argsPretty = false; // the arguments element shows the pretty form
    this._resultOpen = false; // the person asked to see the whole result
    this._onApprove = onApprove ?? (() => {});

    this.element = make(doc, "div", "llmw-tool");
    this.element.setAttribute("role", "group");
    this.element.dataset.toolId = String(id);

    const head = make(doc, "div", "llmw-tool-head");
    const kind = make(doc, "span", "llmw-tool-kind");
    kind.textContent = "tool";
    this.nameEl = make(doc, "code", "llmw-tool-name");
    this.statusEl = make(doc, "span", "llmw-tool-status");
    this.statusEl.setAttribute("role", "status");
    this.durationEl = make(doc, "span", "llmw-tool-duration");
    this.durationEl.hidden = true;
    head.append(kind, this.nameEl, this.statusEl, this.durationEl);

    this.argsEl = make(doc, "pre", "llmw-tool-args");
    this.argsEl.hidden = true;

    this.approvalEl = make(doc, "div", "llmw-tool-approval");
    this.approvalEl.hidden = true;
    const question = make(doc, "span", "llmw-tool-question");
    question.textContent = "Run this tool?";
    this.allowButton = button(doc, "llmw-tool-allow", "Allow");
    this.denyButton = button(doc, "llmw-tool-deny", "Deny");
    this.approvalEl.append(question, this.allowButton, this.denyButton);

    this.resultEl = make(doc, "div", "llmw-tool-result");
    this.resultEl.hidden = true;
    this.resultLabel = make(doc, "div", "llmw-tool-result-label");
    this.resultText = make(doc, "pre", "llmw-tool-result-text");
    this.resultText.id = `llmw-tool-result-${nextUid++}`;
    this.moreButton = button(doc, "llmw-tool-more", "");
    this.moreButton.hidden = true;
    this.moreButton.setAttribute("aria-controls", this.resultText.id);
    this.resultEl.append(this.resultLabel, this.resultText, this.moreButton);

    this.element.append(head, this.argsEl, this.approvalEl, this.resultEl);

    this._onAllow = () => this._approve(true);
    this._onDeny = () => this._approve(false);
    this._onMore = () => {
      this._resultOpen = !this._resultOpen;
      this._showResult();
    };
    this.allowButton.addEventListener("click", this._onAllow);
    this.denyButton.addEventListener("click", this._onDeny);
    this.moreButton.addEventListener("click", this._onMore);
  }

  get id() {
    return this._state.id;
  }

  /** Where the call sits in the answer text, in code points (Python's len), or undefined. */
  get at() {
    return this._state.at;
  }

  /** The card as it stands, as a plain object (the shape of a snapshot's card). */
  get state() {
    const out = {};
    for (const key of FIELDS) {
      const value = key === "arguments" ? this._args : this._state[key];
      if (value !== undefined) out[key] = value;
    }
    return out;
  }

  /** Apply the fields present in a `tool` message or a snapshot's card. */
  update(fields) {
    const s = this._state;
    const wasStreaming = s.status === TOOL_STATUSES.STREAMING;
    for (const key of FIELDS) {
      if (key === "id" || fields[key] === undefined) continue;
      if (key === "arguments") this._args = String(fields.arguments ?? "");
      else s[key] = fields[key];
    }
    if (fields.name !== undefined) {
      this.nameEl.textContent = String(s.name);
      this.element.setAttribute("aria-label", `Tool call ${s.name}`);
      this.allowButton.setAttribute("aria-label", `Allow ${s.name}`);
      this.denyButton.setAttribute("aria-label", `Deny ${s.name}`);
    }
    if (fields.status !== undefined) this._showStatus();
    if (fields.duration !== undefined) this._showDuration();
    // Arguments given whole, or the model has finished streaming them: show them pretty.
    const argsDone = wasStreaming && s.status !== TOOL_STATUSES.STREAMING;
    if (fields.arguments !== undefined || argsDone) this._showArgs(true);
    if (fields.result !== undefined || fields.is_error !== undefined || fields.status) {
      this._showResult();
    }
  }

  /** A `tool_call` delta: more of the arguments as the model writes them. */
  appendArguments(text) {
    if (!text) return;
    this._args += text;
    if (this._argsPretty) {
      this._showArgs(false);
      return;
    }
    this.argsEl.appendChild(this.document.createTextNode(text));
    this.argsEl.hidden = false;
  }

  _showStatus() {
    const status = this._state.status;
    this.element.dataset.status = status;
    this.statusEl.textContent = STATUS_TEXT[status] ?? String(status);
    const asking = status === TOOL_STATUSES.APPROVAL;
    if (asking && this.approvalEl.hidden) {
      // A new question (or one asked again): the buttons answer it once.
      this.allowButton.disabled = false;
      this.denyButton.disabled = false;
    }
    this.approvalEl.hidden = !asking;
    this._showError();
  }

  _showDuration() {
    const d = this._state.duration;
    const known = typeof d === "number" && Number.isFinite(d);
    this.durationEl.hidden = !known;
    this.durationEl.textContent = known ? formatSeconds(d) : "";
  }

  /** Show the arguments: pretty when asked and they are whole JSON, else as they came. */
  _showArgs(pretty) {
    const nice = pretty ? prettyJson(this._args) : null;
    this._argsPretty = nice !== null;
    this.argsEl.textContent = nice ?? this._args;
    this.argsEl.hidden = !this._args;
  }

  _isError() {
    return this._state.status === TOOL_STATUSES.ERROR || this._state.is_error === true;
  }

  _showError() {
    this.element.dataset.error = String(this._isError());
  }

  _showResult() {
    this._showError();
    const result = this._state.result;
    if (result === undefined || result === null) {
      this.resultEl.hidden = true;
      return;
    }
    const text = String(result);
    this.resultEl.hidden = false;
    this.resultLabel.textContent = this._isError() ? "Error" : "Result";
    const folded = foldText(text);
    const shown = folded === null || this._resultOpen ? text : `${folded}\n…`;
    if (this.resultText.textContent !== shown) this.resultText.textContent = shown;
    this.moreButton.hidden = folded === null;
    if (folded === null) return;
    this.moreButton.setAttribute("aria-expanded", String(this._resultOpen));
    this.moreButton.textContent = this._resultOpen ? "Show less" : `Show all (${sizeOf(text)})`;
  }

  _approve(allow) {
    if (this.allowButton.disabled) return;
    this.allowButton.disabled = true;
    this.denyButton.disabled = true;
    this.approvalEl.dataset.answer = allow ? "allow" : "deny";
    this._onApprove(this.id, allow);
  }

  destroy() {
    this.allowButton.removeEventListener("click", this._onAllow);
    this.denyButton.removeEventListener("click", this._onDeny);
    this.moreButton.removeEventListener("click", this._onMore);
    this.element.remove();
  }
}

/** "340 lines", or "12345 characters" for a result on few lines. */
function sizeOf(text) {
  let lines = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  return lines > RESULT_FOLD.lines ? `${lines} lines` : `${text.length} characters`;
}

function isHighSurrogate(code) {
  return code >= 0xd800 && code <= 0xdbff;
}
