// Incremental splitter of a growing markdown text into top-level blocks.
//
// A block ends at a blank line outside code fences and `$$` math blocks, but only once the
// next non-blank line is known to start something new: an indented line (a list item's
// continuation, an indented code block) or another list item after a list keeps the block
// open, so loose lists and multi-paragraph list items stay one block. Only complete lines
// are classified, and each line is looked at once: the cost of an append is the size of
// the appended text, not of the whole answer.
//
// Known inaccuracy while streaming (documented in js/README.md): a link reference
// definition (`[id]: url`) only reaches links in its own block. IncrementalMarkdown
// re-renders the whole text once at the end when markdown-it found one in any block.

import { FenceTracker } from "./syntax.js";

const LIST_ITEM_RE = /^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)/;
const BLANK_RE = /^[ \t]*\r?$/;

export class BlockSplitter {
  constructor() {
    this.reset();
  }

  /** Forget everything: start a new text. */
  reset() {
    this._closed = []; // text of closed blocks (joined only on demand)
    this._closedLength = 0;
    this._open = ""; // text of the open block, including an unfinished last line
    this._lineStart = 0; // offset in _open of the first line not yet classified
    this._fences = new FenceTracker(); // inside a code fence or a `$$` block?
    this._hasContent = false; // the open block has a non-blank line
    this._isList = false; // the open block started with a list item
    this._blankPending = false; // blank line(s) seen after content
  }

  /** The whole text so far (joins; not for the hot path). */
  get text() {
    return this._closed.join("") + this._open;
  }

  get length() {
    return this._closedLength + this._open.length;
  }

  /** Offset in the whole text where the open block starts. */
  get blockStart() {
    return this._closedLength;
  }

  /** The still-open last block (may be incomplete). */
  get openBlock() {
    return this._open;
  }

  /**
   * Append text; return the blocks that this append closed, in order. Costs the size of
   * the open block plus the chunk, never the size of the whole text.
   * @param {string} chunk
   * @returns {string[]}
   */
  append(chunk) {
    this._open += chunk;
    const closed = [];
    let nl = this._open.indexOf("\n", this._lineStart);
    while (nl >= 0) {
      const start = this._lineStart;
      const boundary = this._line(this._open.slice(start, nl));
      if (boundary) {
        const block = this._open.slice(0, start);
        closed.push(block);
        this._closed.push(block);
        this._closedLength += block.length;
        this._open = this._open.slice(start);
        nl -= start;
      }
      this._lineStart = nl + 1;
      nl = this._open.indexOf("\n", this._lineStart);
    }
    return closed;
  }

  /** Classify one complete line; return true when a new block starts at it. */
  _line(line) {
    if (this._fences.inside) {
      this._fences.line(line);
      return false;
    }
    if (BLANK_RE.test(line)) {
      if (this._hasContent) this._blankPending = true;
      return false;
    }
    let boundary = false;
    if (this._blankPending) {
      const indented = line[0] === " " || line[0] === "\t";
      const listGoesOn = this._isList && LIST_ITEM_RE.test(line);
      boundary = !indented && !listGoesOn;
      this._blankPending = false;
    }
    if (boundary || !this._hasContent) {
      this._isList = LIST_ITEM_RE.test(line);
      this._hasContent = true;
    }
    this._fences.line(line);
    return boundary;
  }
}

/** Split a whole text into blocks at once (same rules as the incremental splitter). */
export function splitBlocks(text) {
  const s = new BlockSplitter();
  const blocks = s.append(`${text}\n`); // the newline lets the last line be classified too
  const last = s.openBlock.slice(0, -1);
  if (last.length > 0) blocks.push(last);
  return blocks;
}
