// Inline constructs of the last inline run (paragraph, list item, heading, table row):
// inline code, inline math, emphasis and strikethrough, links and images. What is still
// open at the end is closed innermost-first; empty openers and a dangling marker run at the
// very end are dropped; an unfinished link shows as its text, an unfinished image not at all.

import { fenceOpener, isMathBlockLine } from "../syntax.js";
import { scanInlineMath } from "./math.js";

const LIST_OR_HEADING_START_RE =
  /^\s*(?:[-+*]|\d{1,9}[.)])[ \t]|^ {0,3}#{1,6}[ \t]|^ {0,3}>|^\s*\|/;

/** Offset where the last inline run (paragraph, list item, heading, cell row) starts. */
export function lastInlineStart(text) {
  let offset = text.length;
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    offset -= line.length + (i < lines.length - 1 ? 1 : 0);
    if (fenceOpener(line) || isMathBlockLine(line)) {
      return Math.min(text.length, offset + line.length + 1); // after a fence or $$ line
    }
    if (line.trim() === "" && i < lines.length - 1) return offset + line.length + 1;
    if (LIST_OR_HEADING_START_RE.test(line)) return offset;
  }
  return 0;
}

/**
 * Scan inline markdown and return what is still open at the end, innermost last.
 * Entries: {kind: "code"|"math"|"url", pos, marker} (the scan stops inside these),
 * {kind: "em", pos, ch, len}, {kind: "link", pos, image, bracketClosed}.
 * trailingRun: a marker run at the very end that closed nothing ({pos}), or null.
 */
export function openInlineConstructs(s) {
  const state = { s, stack: [], trailingRun: null, stopped: false };
  let i = 0;
  while (i < s.length && !state.stopped) i = scanAt(state, i);
  return { stack: state.stack, trailingRun: state.trailingRun };
}

/** Scan the construct at `i`; return where scanning goes on. */
function scanAt(state, i) {
  const { s } = state;
  const c = s[i];
  if (c === "\\") return i + 2;
  if (c === "`") return scanCode(state, i);
  if (c === "$") return scanMath(state, i);
  if (c === "*" || c === "_" || c === "~") return scanEmphasis(state, i);
  if (c === "[" || (c === "!" && s[i + 1] === "[")) return openLink(state, i);
  if (c === "]") return closeLinkText(state, i);
  return i + 1;
}

/** A scanner's result is an offset, or an open construct that ends the scan. */
function stopAt(state, next) {
  if (typeof next === "number") return next;
  state.stack.push(next);
  state.stopped = true;
  return state.s.length;
}

function scanMath(state, i) {
  const next = scanInlineMath(state.s, i);
  if (next.kind !== "dollar") return stopAt(state, next);
  state.trailingRun = { pos: i }; // a `$` at the very end: held back until it is known
  return i + 1;
}

function scanCode(state, i) {
  const { s } = state;
  const n = runLength(s, i, "`");
  const close = findRun(s, i + n, "`", n);
  if (close >= 0) return close + n;
  return stopAt(state, { kind: "code", pos: i, marker: "`".repeat(n) });
}

function scanEmphasis(state, i) {
  const { s, stack } = state;
  const c = s[i];
  const n = runLength(s, i, c);
  if (c === "~" && n !== 2) return i + n;
  const prev = s[i - 1];
  const next = s[i + n];
  const intraword = c === "_" && isWordChar(prev) && isWordChar(next);
  const canOpen = !intraword && next !== undefined && !isSpace(next);
  const canClose = !intraword && prev !== undefined && !isSpace(prev);
  const remaining = canClose ? closeEmphasis(stack, c, n) : n;
  if (remaining > 0 && canOpen) {
    stack.push({ kind: "em", pos: i + n - remaining, ch: c, len: remaining });
  } else if (remaining === n && i + n === s.length) {
    state.trailingRun = { pos: i };
  }
  return i + n;
}

/** Close open emphasis of `ch` with a run of `n`; return how much of the run is left. */
function closeEmphasis(stack, ch, n) {
  let remaining = n;
  let top = topIndex(stack, (e) => e.kind === "em" && e.ch === ch);
  while (remaining > 0 && top >= 0) {
    const entry = stack[top];
    if (entry.len <= remaining) {
      remaining -= entry.len;
      stack.splice(top);
    } else {
      entry.len -= remaining;
      remaining = 0;
      stack.splice(top + 1);
    }
    top = topIndex(stack, (e) => e.kind === "em" && e.ch === ch);
  }
  return remaining;
}

function openLink(state, i) {
  const image = state.s[i] === "!";
  state.stack.push({ kind: "link", pos: i, image, bracketClosed: false });
  return i + (image ? 2 : 1);
}

function closeLinkText(state, i) {
  const { s, stack } = state;
  const top = topIndex(stack, (e) => e.kind === "link" && !e.bracketClosed);
  if (top < 0) return i + 1;
  const link = stack[top];
  stack.splice(top + 1); // emphasis opened inside link text cannot outlive it
  if (s[i + 1] === "(") {
    const close = findParenClose(s, i + 2);
    if (close === -1) {
      link.bracketClosed = true;
      return stopAt(state, { kind: "url", pos: i + 1, marker: ")" });
    }
    stack.pop();
    return close < 0 ? i + 1 : close + 1; // -2: a newline, so it was never a link
  }
  if (i + 1 === s.length) {
    link.bracketClosed = true; // "[text]" at the very end: may still get a "(url)"
    state.stopped = true;
    return i + 1;
  }
  stack.pop();
  return i + 1;
}

/**
 * Close inline constructs left open at the end of `text` (one inline run: a paragraph or
 * the last list item). Empty openers are dropped; closers go before trailing whitespace.
 */
export function closeInline(text) {
  const start = lastInlineStart(text);
  const head = text.slice(0, start);
  let s = dropDanglingEscape(text.slice(start));
  const { stack, trailingRun } = openInlineConstructs(s);
  if (trailingRun && stack.length === 0) return head + s.slice(0, trailingRun.pos);
  // An unfinished image would fetch a partial URL: drop it and everything after it.
  const imageAt = stack.findIndex((e) => e.kind === "link" && e.image);
  if (imageAt >= 0) {
    s = s.slice(0, stack[imageAt].pos);
    stack.splice(imageAt);
  } else if (trailingRun) {
    s = s.slice(0, trailingRun.pos);
  }
  return head + closeStack(s, stack);
}

/** Apply the closers of `stack` (innermost first) to `s`. */
function closeStack(text, stack) {
  let s = text;
  let trailingWs = null;
  for (let k = stack.length - 1; k >= 0; k--) {
    const e = stack[k];
    if (e.kind === "code" || e.kind === "math") s = closeSpan(s, e);
    else if (e.kind === "url") {
      s += ")";
      stack.splice(k - 1, 1); // its link entry is complete now
      k -= 1;
    } else if (e.kind === "link") s = unwrapLinkText(s, e);
    else if (e.kind === "em") {
      if (trailingWs === null) {
        const body = s.trimEnd();
        trailingWs = s.slice(body.length);
        s = body;
      }
      s = s.length === e.pos + e.len ? s.slice(0, e.pos) : s + e.ch.repeat(e.len);
    }
  }
  return s + (trailingWs ?? "");
}

/** Close inline code or math; an opener with nothing after it is dropped. */
function closeSpan(s, e) {
  if (s.length === e.pos + e.marker.length) return s.slice(0, e.pos);
  return s + e.marker.slice(partialCloser(s, e.marker));
}

/** "[text" or "[text]": show the text without brackets until the link completes. */
function unwrapLinkText(text, e) {
  const s = e.bracketClosed && text.endsWith("]") ? text.slice(0, -1) : text;
  return s.slice(0, e.pos) + s.slice(e.pos + 1);
}

/** How much of `marker` already ends `s` (a closer that is half typed). */
function partialCloser(s, marker) {
  const ch = marker[0];
  let k = 0;
  while (k < marker.length - 1 && s[s.length - 1 - k] === ch) k++;
  return k;
}

/** A backslash at the very end escapes whatever comes next; it would eat a closer. */
export function dropDanglingEscape(s) {
  const m = /\\+$/.exec(s);
  return m && m[0].length % 2 === 1 ? s.slice(0, -1) : s;
}

function runLength(s, i, ch) {
  let j = i;
  while (s[j] === ch) j++;
  return j - i;
}

/** Index of a run of exactly `n` copies of `ch` at or after `from`, or -1. */
function findRun(s, from, ch, n) {
  let i = s.indexOf(ch, from);
  while (i >= 0) {
    const len = runLength(s, i, ch);
    if (len === n) return i;
    i = s.indexOf(ch, i + len);
  }
  return -1;
}

function findParenClose(s, from) {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")") {
      if (depth === 0) return i;
      depth--;
    } else if (c === "\n") return -2;
  }
  return -1;
}

function topIndex(stack, pred) {
  for (let k = stack.length - 1; k >= 0; k--) if (pred(stack[k])) return k;
  return -1;
}

function isSpace(ch) {
  return ch === undefined || /\s/.test(ch);
}

function isWordChar(ch) {
  return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
}
