// Math: an unclosed `$$` display block is closed on its own line; inline `$$…$$` is found
// here for the inline scanner (repair/inline.js), which closes it like inline code.

import { findOpenBlock } from "../syntax.js";

/**
 * Find a `$$` display-math block opened at a line start (outside fences) and never closed.
 * @returns {{start: number} | null}
 */
export function findOpenMathBlock(text) {
  const open = findOpenBlock(text);
  return open && !open.fence ? { start: open.start } : null;
}

/** Close an unclosed `$$` display-math block. */
export function closeMathBlock(text) {
  if (!findOpenMathBlock(text)) return text;
  return `${text}${text.endsWith("\n") ? "" : "\n"}$$`;
}

/**
 * Inline math at `s[i]` (a `$`). Returns the offset after a complete `$$…$$`, or an open
 * construct ({kind: "math", pos, marker}) when it is never closed; a single `$` is text.
 * @returns {number | {kind: string, pos: number, marker: string}}
 */
export function scanInlineMath(s, i) {
  if (s[i + 1] !== "$") return i + 1;
  const close = s.indexOf("$$", i + 2);
  if (close < 0) return { kind: "math", pos: i, marker: "$$" };
  return close + 2;
}
