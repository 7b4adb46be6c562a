// Block markers: a last line that is only a list, heading or quote marker is held back.

const PARTIAL_LINE_RE = /^ {0,3}(?:[-+*]|\d{1,9}[.)]?|#{1,6}|>)[ \t]*$/;

/**
 * Drop a last, unfinished line that is only a block marker (`-`, `1.`, `##`, `>`), so a
 * paragraph does not flash as a setext heading or a literal marker.
 */
export function dropPartialMarkerLine(text) {
  const nl = text.lastIndexOf("\n");
  const last = text.slice(nl + 1);
  if (last.length === 0 || !PARTIAL_LINE_RE.test(last)) return text;
  return text.slice(0, nl + 1);
}
