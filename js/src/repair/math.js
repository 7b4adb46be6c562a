// Math: an unclosed `$$` display block is closed on its own line; inline `$$…$$` is found
// here for the inline scanner (repair/inline.js), which closes it like inline code.

import { findOpenBlock } from "../syntax.js";
import { dropLastLineIf, isPrefixOfCloser } from "./fence.js";

/** A TeX command, or a character that only math uses, in the text after a `$`. */
const TEX_RE = /\\[A-Za-z]|[\^_{}=]/;
/** A one-letter variable: `$x`, `$f(x)`, `$n^2`. */
const VARIABLE_RE = /^[A-Za-z](?![A-Za-z])/;
const ASCII_WORD_RE = /^[A-Za-z0-9_]$/;

/**
 * Find a `$$` display-math block opened at a line start (outside fences) and never closed.
 * @returns {{start: number} | null}
 */
export function findOpenMathBlock(text) {
  const open = findOpenBlock(text);
  return open && !open.fence ? { start: open.start } : null;
}

/** Close an unclosed `$$` display-math block; a half-typed closing `$` is held back. */
export function closeMathBlock(text) {
  if (!findOpenMathBlock(text)) return text;
  const body = dropLastLineIf(text, (line) => isPrefixOfCloser(line, "$$"));
  return `${body}${body.endsWith("\n") ? "" : "\n"}$$`;
}

/**
 * Inline math at `s[i]` (a `$`), read as markdown-it-katex reads it. Returns the offset
 * where scanning goes on (after complete math, or after a `$` that is text), or an open
 * construct ({kind: "math", pos, marker}) for math that is not closed yet, or
 * {kind: "dollar", pos} for a `$` at the very end that may open math.
 * @returns {number | {kind: string, pos: number, marker?: string}}
 */
export function scanInlineMath(s, i) {
  return s[i + 1] === "$" ? scanDisplayInline(s, i) : scanDollar(s, i);
}

/** `$$…$$` inside a line. */
function scanDisplayInline(s, i) {
  const close = s.indexOf("$$", i + 2);
  if (close < 0) return { kind: "math", pos: i, marker: "$$" };
  return close + 2;
}

/**
 * `$…$`. Closed when an unescaped `$` follows that is not followed by a letter or digit
 * (`$5 and $10` is text). Left open, it counts as math only when that is unambiguous:
 * a TeX command or `^ _ { } =` follows, or a one-letter variable; a price (`$5`) is text.
 */
function scanDollar(s, i) {
  if (!canOpenDollar(s, i)) return i + 1;
  if (i + 1 === s.length) return { kind: "dollar", pos: i };
  const close = nextUnescapedDollar(s, i + 1);
  if (close >= 0) return canCloseDollar(s, close) ? close + 1 : i + 1;
  return looksLikeMath(s.slice(i + 1)) ? { kind: "math", pos: i, marker: "$" } : i + 1;
}

function canOpenDollar(s, i) {
  const prev = s[i - 1];
  return prev !== "$" && prev !== "\\" && (prev === undefined || !ASCII_WORD_RE.test(prev));
}

function canCloseDollar(s, i) {
  const next = s[i + 1];
  return next !== "$" && (next === undefined || !ASCII_WORD_RE.test(next));
}

function nextUnescapedDollar(s, from) {
  let match = s.indexOf("$", from);
  while (match >= 0) {
    let k = match - 1;
    while (s[k] === "\\") k--;
    if ((match - k) % 2 === 1) return match;
    match = s.indexOf("$", match + 1);
  }
  return -1;
}

function looksLikeMath(body) {
  if (body.length === 0 || /^\s/.test(body)) return false;
  return TEX_RE.test(body) || VARIABLE_RE.test(body);
}
