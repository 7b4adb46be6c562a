// Structured output: the answer is JSON, shown as the object it describes while it streams.
// The text is parsed by partial-json (an unfinished string, number, array or object becomes
// what it holds so far) at most once per animation frame, and the tree is updated in place:
// values are matched to what is drawn by key or index, so a frame where only the last string
// grew touches one text node. Everything shown comes from the model, so it is set as text,
// never as HTML.

import { parse as parsePartial } from "partial-json";
import { button, make } from "./dom.js";
import { FrameRender } from "./frame.js";

/** What the text is once the answer has ended (shown by the note). */
export const NOTES = Object.freeze({
  incomplete: "incomplete JSON",
  invalid: "not JSON",
});

/**
 * The value `text` holds so far: `{value, complete}`, or null when nothing can be read from it
 * (empty, or not JSON). `ended`: the answer has ended, so whether the text is whole JSON is
 * checked (complete); while it streams it is not, which saves a second pass over the text.
 */
export function parseStreamed(text, ended = false) {
  if (!text.trim()) return null;
  if (ended) {
    try {
      return { value: JSON.parse(text), complete: true };
    } catch {
      // not whole: read what there is
    }
  }
  try {
    return { value: parsePartial(text), complete: false };
  } catch {
    return null;
  }
}

/** How a value is drawn: "leaf", "object", "array" or "table". */
export function kindOf(value) {
  if (Array.isArray(value)) return tableKeys(value) ? "table" : "array";
  if (value !== null && typeof value === "object") return "object";
  return "leaf";
}

/**
 * The column keys when `items` is a table: flat objects (no nested values), the first one with
 * at least one key, and each with the first one's keys in its order. The last item may have
 * only a start of them (it is still streaming). Otherwise null.
 */
export function tableKeys(items) {
  if (items.length === 0) return null;
  let keys = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item === null || typeof item !== "object" || Array.isArray(item)) return null;
    const own = Object.keys(item);
    if (own.some((k) => isContainer(item[k]))) return null;
    if (keys === null) {
      if (own.length === 0) return null;
      keys = own;
      continue;
    }
    const last = i === items.length - 1;
    if (last ? own.length > keys.length : own.length !== keys.length) return null;
    if (own.some((k, j) => k !== keys[j])) return null;
  }
  return keys;
}

function isContainer(value) {
  return value !== null && typeof value === "object";
}

/** A JSON leaf as shown: the type for the styling and the text. */
function leafParts(value) {
  if (value === null) return { type: "null", text: "null" };
  if (typeof value === "string") return { type: "string", text: value };
  if (typeof value === "number") return { type: "number", text: String(value) };
  if (typeof value === "boolean") return { type: "boolean", text: String(value) };
  return { type: "null", text: String(value) };
}

/** A leaf value: one span with one text node, appended to while the string grows. */
class LeafNode {
  constructor(doc) {
    this.kind = "leaf";
    this.element = make(doc, "span", "llmw-json-value");
    this._textNode = doc.createTextNode("");
    this.element.append(this._textNode);
    // What is drawn, kept here: comparing with these costs nothing, reading the DOM does.
    this._type = "";
    this._text = "";
  }

  update(value) {
    const { type, text } = leafParts(value);
    if (this._type !== type) {
      this._type = type;
      this.element.dataset.type = type;
    }
    const old = this._text;
    if (old === text) return;
    this._text = text;
    const node = this._textNode;
    if (text.length > old.length && text.startsWith(old)) node.appendData(text.slice(old.length));
    else node.data = text;
  }
}

/**
 * An object or a list: one row per key or index, in order. Values only ever gain keys or items
 * as the text grows, so rows are kept and new ones appended; anything else starts over.
 */
class RowsNode {
  constructor(doc, kind) {
    this.document = doc;
    this.kind = kind;
    this.element = make(doc, "div", `llmw-json-rows llmw-json-${kind}`);
    this._rows = []; // {key, node, element}
  }

  /** How many rows (the count shown by the parent's summary). */
  get size() {
    return this._rows.length;
  }

  update(value) {
    const keys = this.kind === "array" ? value.map((_, i) => i) : Object.keys(value);
    const rows = this._rows;
    if (rows.length > keys.length || rows.some((row, i) => row.key !== keys[i])) {
      rows.length = 0;
      this.element.replaceChildren();
    }
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const item = value[key];
      const row = rows[i];
      if (row && row.node.kind === kindOf(item)) {
        row.node.update(item);
        continue;
      }
      const fresh = makeRow(this.document, String(key), item);
      fresh.key = key;
      if (row) row.element.replaceWith(fresh.element);
      else this.element.append(fresh.element);
      rows[i] = fresh;
    }
  }
}

/** An array of flat objects with the same keys: a table, header row from the keys. */
class TableNode {
  constructor(doc) {
    this.document = doc;
    this.kind = "table";
    this.element = make(doc, "table", "llmw-json-table");
    this._head = doc.createElement("thead");
    this._body = doc.createElement("tbody");
    this.element.append(this._head, this._body);
    this._keys = [];
    this._rows = []; // one array of LeafNode (or null for a missing cell) per item
  }

  get size() {
    return this._rows.length;
  }

  update(items) {
    const keys = tableKeys(items);
    if (keys.length !== this._keys.length || keys.some((k, i) => k !== this._keys[i])) {
      // The first row grew a key: new header, and every row gets the new column.
      this._keys = keys;
      this._setHeader(keys);
      this._rows = [];
      this._body.replaceChildren();
    }
    if (this._rows.length > items.length) {
      this._rows.length = 0;
      this._body.replaceChildren();
    }
    for (let i = 0; i < items.length; i++) {
      if (!this._rows[i]) this._rows[i] = this._addRow();
      const cells = this._rows[i];
      for (let j = 0; j < keys.length; j++) {
        const value = items[i][keys[j]];
        if (value !== undefined) cells[j].update(value); // a key the last item has not reached
      }
    }
  }

  _setHeader(keys) {
    const tr = this.document.createElement("tr");
    for (const key of keys) {
      const th = make(this.document, "th", "llmw-json-key");
      th.scope = "col";
      th.textContent = key;
      tr.append(th);
    }
    this._head.replaceChildren(tr);
  }

  _addRow() {
    const tr = this.document.createElement("tr");
    const cells = this._keys.map(() => new LeafNode(this.document));
    for (const cell of cells) {
      const td = this.document.createElement("td");
      td.append(cell.element);
      tr.append(td);
    }
    this._body.append(tr);
    return cells;
  }
}

function newNode(doc, kind) {
  if (kind === "leaf") return new LeafNode(doc);
  if (kind === "table") return new TableNode(doc);
  return new RowsNode(doc, kind);
}

/**
 * A container with a label: a <details>, open by default, whose summary holds the label and
 * the size, so the label collapses it (a summary is keyboard accessible as it is).
 */
class BranchNode {
  constructor(doc, label, kind) {
    this.kind = kind;
    this.element = make(doc, "details", "llmw-json-branch");
    this.element.open = true;
    const summary = make(doc, "summary", "llmw-json-summary");
    const key = make(doc, "span", "llmw-json-key");
    key.textContent = label;
    this._count = make(doc, "span", "llmw-json-count");
    this._countText = "";
    summary.append(key, this._count);
    this._inner = newNode(doc, kind);
    this.element.append(summary, this._inner.element);
  }

  update(value) {
    this._inner.update(value);
    const n = this._inner.size;
    const text = this.kind === "object" ? `{${n}}` : `[${n}]`;
    if (this._countText === text) return;
    this._countText = text;
    this._count.textContent = text;
  }
}

/** A key (or index) with its value; a leaf sits on one line, a container in a BranchNode. */
function makeRow(doc, label, value) {
  const kind = kindOf(value);
  if (kind !== "leaf") {
    const node = new BranchNode(doc, label, kind);
    node.update(value);
    return { node, element: node.element };
  }
  const element = make(doc, "div", "llmw-json-row");
  const key = make(doc, "span", "llmw-json-key");
  key.textContent = label;
  const node = new LeafNode(doc);
  node.update(value);
  element.append(key, node.element);
  return { node, element };
}

export class StructuredView {
  /**
   * @param {Document} doc
   * @param {{schedule?: ((cb: () => void) => unknown) | null}} [options]
   *   schedule: how to defer a render (default requestAnimationFrame; null = render at once).
   */
  constructor(doc, options = {}) {
    this.document = doc;
    this._frame = new FrameRender(() => this.flush(), options.schedule);
    this.element = make(doc, "div", "llmw-structured");
    const bar = make(doc, "div", "llmw-structured-bar");
    this.rawButton = button(doc, "llmw-structured-toggle", "Raw JSON");
    this.rawButton.setAttribute("aria-pressed", "false");
    this.noteEl = make(doc, "span", "llmw-structured-note");
    this.noteEl.hidden = true;
    bar.append(this.rawButton, this.noteEl);
    this.tree = make(doc, "div", "llmw-structured-tree");
    this.rawEl = make(doc, "pre", "llmw-structured-raw");
    this.rawEl.hidden = true;
    this.element.append(bar, this.tree, this.rawEl);

    this._text = "";
    this._final = false;
    this._root = null; // the node drawing the top value
    this._autoRaw = false; // the raw text was shown because the ended text is not JSON
    this._destroyed = false;
    this._onToggle = () => this.setRaw(!this.raw);
    this.rawButton.addEventListener("click", this._onToggle);
  }

  /** The text shown (the answer's JSON so far). */
  get text() {
    return this._text;
  }

  /** Whether the raw text is shown instead of the object. */
  get raw() {
    return this.rawButton.getAttribute("aria-pressed") === "true";
  }

  /**
   * The text so far, and whether the answer has ended. While it streams the render waits for
   * the next frame; once it has ended the text is drawn at once, with a note if it is not whole.
   */
  update(text, final) {
    if (text === this._text && final === this._final) return;
    this._text = text;
    this._final = final;
    if (final) {
      this.flush(true);
      return;
    }
    // Streaming again (a new answer): what was said about the ended one no longer holds.
    if (this._autoRaw) {
      this._autoRaw = false;
      this._showRaw(false);
    }
    if (!this.noteEl.hidden) this._setNote(null, "");
    this._frame.request();
  }

  /** Show the raw text (true) or the object (false). */
  setRaw(raw) {
    this._showRaw(raw);
    this.flush(true);
  }

  _showRaw(raw) {
    this.rawButton.setAttribute("aria-pressed", String(raw));
    this.tree.hidden = raw;
    this.rawEl.hidden = !raw;
  }

  /** Draw what is pending now (tests, benchmarks); `force` draws even without a pending frame. */
  flush(force = false) {
    if (this._destroyed || (!this._frame.pending && !force)) return;
    this._frame.pending = false;
    const text = this._text;
    // Parsing is the cost of a frame: while the raw text is shown it waits for the end.
    if (!this.raw || this._final) {
      const parsed = parseStreamed(text, this._final);
      if (parsed) this._draw(parsed.value);
      else if (!text.trim()) this._draw(undefined);
      const note = this._setNote(parsed, text);
      if (note === NOTES.invalid && !this._autoRaw) {
        // Not JSON at all (the model answered in prose): the text says more than an empty tree.
        this._autoRaw = true;
        this._showRaw(true);
      }
    }
    if (this.raw) setGrowingText(this.rawEl, text);
  }

  /** Update the tree to `value` (undefined: nothing). */
  _draw(value) {
    if (value === undefined) {
      this._root = null;
      this.tree.replaceChildren();
      return;
    }
    const kind = kindOf(value);
    if (!this._root || this._root.kind !== kind) {
      this._root = newNode(this.document, kind);
      this.tree.replaceChildren(this._root.element);
    }
    this._root.update(value);
  }

  /** Once the answer has ended, say when the text was not whole JSON. Returns the note. */
  _setNote(parsed, text) {
    let note = "";
    if (this._final && text.trim()) {
      if (!parsed) note = NOTES.invalid;
      else if (!parsed.complete) note = NOTES.incomplete;
    }
    this.noteEl.textContent = note;
    this.noteEl.hidden = !note;
    return note;
  }

  destroy() {
    this._destroyed = true;
    this.rawButton.removeEventListener("click", this._onToggle);
  }
}

/** Set an element's text, appending when the new text only extends it. */
function setGrowingText(el, text) {
  const node = el.firstChild;
  if (node && node.nodeType === 3 && !node.nextSibling) {
    const old = node.data;
    if (old === text) return;
    if (text.startsWith(old)) node.appendData(text.slice(old.length));
    else node.data = text;
    return;
  }
  el.textContent = text;
}
