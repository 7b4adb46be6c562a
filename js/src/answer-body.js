// The answer's body: its text and the tool cards inside it.
//
// The kernel keeps the answer one string and says where each card sits (`at`); the body is a row
// of segments, text, card, text, card, text, each text segment its own IncrementalMarkdown, and
// only the last one grows. An answer without cards has one segment, and a text delta costs what
// it did before cards existed.
//
// Held (structured output, see stream-view.js): the text segments keep the text but draw nothing;
// the cards stay.

import { button, make } from "./dom.js";
import { IncrementalMarkdown } from "./markdown.js";
import { ToolCard } from "./tool-card.js";

export class AnswerBody {
  /**
   * @param {Document} doc
   * @param {{schedule?: ((cb: () => void) => unknown) | null,
   *   onApprove?: (id: unknown, allow: boolean) => void}} [options]
   *   schedule: how the markdown defers its renders (see IncrementalMarkdown).
   *   onApprove: Allow / Deny pressed on a card.
   */
  constructor(doc, options = {}) {
    this.document = doc;
    this._schedule = options.schedule;
    this._onApprove = options.onApprove ?? (() => {});
    this._held = false;
    /** The text segment that grows: the last of `_segments`. */
    this.markdown = this._newMarkdown();
    /** Text segments in order, with where each starts in the whole text (code units, points). */
    this._segments = [{ markdown: this.markdown, units: 0, points: 0 }];
    /** Tool cards by id. */
    this._cards = new Map();
    this.element = make(doc, "div", "llmw-body");
    this.element.appendChild(this.markdown.element);

    this._onClick = (event) => onCopyClick(event);
    this.element.addEventListener("click", this._onClick);
  }

  /** The answer text shown (the whole of it, across the cards). */
  get text() {
    if (this._segments.length === 1) return this.markdown.text;
    return this._segments.map((s) => s.markdown.text).join("");
  }

  /** The text after the last card (all of it when there is none). */
  get lastText() {
    return this.markdown.text;
  }

  /** The tool cards as they stand, in answer order, as plain objects. */
  get tools() {
    return this._orderedCards().map((card) => card.state);
  }

  /** Whether the answer has any tool card. */
  get hasCards() {
    return this._cards.size > 0;
  }

  /** Add text at the end of the answer. */
  append(text) {
    this.markdown.append(text);
  }

  /** Add to the arguments of card `id`, if there is one. */
  appendArguments(id, text) {
    this._cards.get(id)?.appendArguments(text);
  }

  /** The text so far is all there is (or all there is before a card): render it whole. */
  finalize() {
    this.markdown.finalize();
  }

  /** Keep the text but draw nothing (true), or draw it again (false). */
  setHeld(held) {
    this._held = held;
    for (const segment of this._segments) segment.markdown.setHeld(held);
  }

  /** A `tool` message's fields: create card `id`, or update the fields it carries. */
  tool(msg) {
    const card = this._cards.get(msg.id);
    if (card) {
      const moved = msg.at !== undefined && msg.at !== card.at;
      card.update(msg);
      if (moved) this.layout(this.text);
    } else {
      this._placeCard(this._newCard(msg));
    }
  }

  _newCard(fields) {
    const card = new ToolCard(this.document, { id: fields.id, onApprove: this._onApprove });
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
      this.layout(this.text);
      return;
    }
    const end = advance(lastText, 0, want);
    if (end.units < lastText.length) {
      this.layout(this.text);
      return;
    }
    last.markdown.finalize();
    this.markdown = this._newMarkdown();
    this._segments.push({
      markdown: this.markdown,
      units: last.units + lastText.length,
      points: last.points + end.points,
    });
    this.element.append(card.element, this.markdown.element);
  }

  /** Cards in answer order: by `at`, then in the order they came. */
  _orderedCards() {
    const cards = [...this._cards.values()];
    return cards.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  }

  /** Make the cards exactly `list` (a snapshot's, or the saved ones): update, add, drop. */
  setCards(list) {
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
  setText(text) {
    if (this._cards.size === 0 && this._segments.length === 1) this.markdown.setText(text);
    else this.layout(text);
  }

  /**
   * Lay the body out again: one text segment before each card and one after the last. Segments
   * are reused in order, so a layout that only extends the text re-renders nothing but the end.
   */
  layout(text) {
    const cards = this._orderedCards();
    const starts = segmentStarts(text, cards);
    const segments = [];
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
    placeInOrder(this.element, order);
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
    if (this._held) markdown.setHeld(true);
    return markdown;
  }

  destroy() {
    for (const card of this._cards.values()) card.destroy();
    this.element.removeEventListener("click", this._onClick);
  }
}

/**
 * Where each text segment starts in `text` (code units, points): the first at 0, then one at
 * each card's `at` (`cards` in answer order).
 */
function segmentStarts(text, cards) {
  let pos = { units: 0, points: 0 };
  const starts = [pos];
  for (const card of cards) {
    const step = advance(text, pos.units, Math.max(0, (card.at ?? 0) - pos.points));
    pos = { units: step.units, points: pos.points + step.points };
    starts.push(pos);
  }
  return starts;
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

function addCopyButtons(doc, blockEl) {
  for (const slot of blockEl.querySelectorAll(".llmw-copy-slot")) {
    slot.replaceWith(button(doc, "llmw-copy", "Copy", "Copy code"));
  }
}

async function onCopyClick(event) {
  const copy = event.target?.closest?.("button.llmw-copy");
  if (!copy) return;
  const code = copy.closest(".llmw-code")?.querySelector("pre code");
  if (!code) return;
  const ok = await copyText(code.textContent ?? "", copy.ownerDocument);
  copy.textContent = ok ? "Copied" : "Copy failed";
  setTimeout(() => {
    copy.textContent = "Copy";
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
