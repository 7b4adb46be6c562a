// Code fences: a fence that is opened and not yet closed is closed with its own marker.

import { findOpenBlock } from "../syntax.js";

/**
 * Find a code fence that is opened and never closed.
 * @param {string} text
 * @returns {{start: number, closer: string} | null} start = offset of the opening line;
 *   the closer is indented like the opener (a fence in a list item stays in the item)
 */
export function findOpenFence(text) {
  const open = findOpenBlock(text);
  if (!open?.fence) return null;
  const { ch, len, indent } = open.fence;
  return { start: open.start, closer: indent + ch.repeat(len) };
}

/**
 * Close an unclosed code fence at the end of `text`. A last line that is the closing fence
 * half typed (a shorter run of the fence's character) is held back, not shown as code.
 */
export function closeFence(text) {
  const open = findOpenFence(text);
  if (!open) return text;
  const body = dropLastLineIf(text, (line) => isPrefixOfCloser(line, open.closer));
  return `${body}${body.endsWith("\n") ? "" : "\n"}${open.closer}`;
}

/** Whether an unfinished line may still become `closer` (`` ` `` or `` `` `` for ```). */
export function isPrefixOfCloser(line, closer) {
  const t = line.trim();
  const marker = closer.trim();
  return t.length > 0 && t.length < marker.length && t === marker.slice(0, t.length);
}

/** `text` without its unfinished last line when `pred(line)` holds. */
export function dropLastLineIf(text, pred) {
  const nl = text.lastIndexOf("\n");
  if (nl < 0 || !pred(text.slice(nl + 1))) return text;
  return text.slice(0, nl + 1);
}
