// Code fences: a fence that is opened and not yet closed is closed with its own marker.

import { findOpenBlock } from "../syntax.js";

/**
 * Find a code fence that is opened and never closed.
 * @param {string} text
 * @returns {{start: number, closer: string} | null} start = offset of the opening line
 */
export function findOpenFence(text) {
  const open = findOpenBlock(text);
  if (!open?.fence) return null;
  return { start: open.start, closer: open.fence.ch.repeat(open.fence.len) };
}

/** Close an unclosed code fence at the end of `text`. */
export function closeFence(text) {
  const open = findOpenFence(text);
  if (!open) return text;
  return `${text}${text.endsWith("\n") ? "" : "\n"}${open.closer}`;
}
