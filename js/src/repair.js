// Repairs for the still-open tail of a streaming markdown answer.
//
// Every function here is pure (string -> string). They make an unfinished block render
// the way it will render once finished, so nothing flickers between raw markers and
// formatting: unclosed fences, `$$` math, inline code, emphasis, strikethrough and links
// are closed, a table's divider row is completed; markers that have nothing after them yet
// are dropped. On text that is
// already complete they are the identity.

// Any indentation: fences nested in list items are indented too.
const FENCE_RE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const LIST_OR_HEADING_START_RE =
  /^\s*(?:[-+*]|\d{1,9}[.)])[ \t]|^ {0,3}#{1,6}[ \t]|^ {0,3}>|^\s*\|/;
const PARTIAL_LINE_RE = /^ {0,3}(?:[-+*]|\d{1,9}[.)]?|#{1,6}|>)[ \t]*$/;
const TABLE_ROW_RE = /^ {0,3}\|.*\|[ \t]*$/;
const PARTIAL_DIVIDER_RE = /^ {0,3}[|:\- \t]*$/;
const DIVIDER_CELL_RE = /^[ \t]*:?-+:?[ \t]*$/;

/**
 * Find a code fence that is opened and never closed.
 * @param {string} text
 * @returns {{start: number, closer: string} | null} start = offset of the opening line
 */
export function findOpenFence(text) {
  let open = null;
  let offset = 0;
  for (const line of text.split("\n")) {
    if (open) {
      const t = line.trim();
      if (t.length >= open.len && t[0] === open.ch && /^(`+|~+)$/.test(t)) open = null;
    } else {
      const m = FENCE_RE.exec(line);
      if (m && !(m[2][0] === "`" && m[3].includes("`"))) {
        open = { start: offset, ch: m[2][0], len: m[2].length };
      }
    }
    offset += line.length + 1;
  }
  return open ? { start: open.start, closer: open.ch.repeat(open.len) } : null;
}

/** Close an unclosed code fence at the end of `text`. */
export function closeFence(text) {
  const open = findOpenFence(text);
  if (!open) return text;
  return text + (text.endsWith("\n") ? "" : "\n") + open.closer;
}

/**
 * Find a `$$` display-math block opened at a line start (outside fences) and never closed.
 * @returns {{start: number} | null}
 */
export function findOpenMathBlock(text) {
  let fence = null;
  let math = null;
  let offset = 0;
  for (const line of text.split("\n")) {
    if (fence) {
      const t = line.trim();
      if (t.length >= fence.len && t[0] === fence.ch && /^(`+|~+)$/.test(t)) fence = null;
    } else if (math) {
      if (line.includes("$$")) math = null;
    } else {
      const f = FENCE_RE.exec(line);
      if (f) fence = { ch: f[2][0], len: f[2].length };
      else if (line.trimStart().startsWith("$$") && countOf(line, "$$") % 2 === 1) {
        math = { start: offset };
      }
    }
    offset += line.length + 1;
  }
  return math;
}

/** Close an unclosed `$$` display-math block. */
export function closeMathBlock(text) {
  if (!findOpenMathBlock(text)) return text;
  return `${text}${text.endsWith("\n") ? "" : "\n"}$$`;
}

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

/** The cells of a table row (`| a | b |` -> ["a", "b"]); escaped pipes stay in their cell. */
function tableCells(row) {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "")
    .split(/(?<!\\)\|/);
}

/**
 * A table whose header row is complete but whose divider row is not (yet): complete the
 * divider, so the header shows as a table head at once instead of as a line of pipes until
 * the divider arrives. Only for a header that starts the table (a later row is a body row).
 */
export function completeTableDivider(text) {
  const lines = text.split("\n");
  if (lines.length < 2) return text;
  const last = lines[lines.length - 1];
  const header = lines[lines.length - 2];
  const above = lines.length > 2 ? lines[lines.length - 3] : "";
  if (!TABLE_ROW_RE.test(header) || !PARTIAL_DIVIDER_RE.test(last) || TABLE_ROW_RE.test(above)) {
    return text;
  }
  const columns = tableCells(header).length;
  const typed = tableCells(last);
  if (typed.length === columns && typed.every((cell) => DIVIDER_CELL_RE.test(cell))) return text;
  lines[lines.length - 1] = `| ${Array(columns).fill("---").join(" | ")} |`;
  return lines.join("\n");
}

/** Offset where the last inline run (paragraph, list item, heading, cell row) starts. */
export function lastInlineStart(text) {
  let offset = text.length;
  let start = 0;
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    offset -= line.length + (i < lines.length - 1 ? 1 : 0);
    if (FENCE_RE.test(line) || /^\s*\$\$.*\$\$\s*$|^\s*\$\$\s*$/.test(line)) {
      start = Math.min(text.length, offset + line.length + 1); // after a fence or $$ line
      break;
    }
    if (line.trim() === "" && i < lines.length - 1) {
      start = offset + line.length + 1;
      break;
    }
    if (LIST_OR_HEADING_START_RE.test(line)) {
      start = offset;
      break;
    }
  }
  return start;
}

/**
 * Scan inline markdown and return what is still open at the end, innermost last.
 * Entries: {kind: "code"|"math"|"url", pos, marker} (the scan stops inside these),
 * {kind: "em", pos, ch, len}, {kind: "link", pos, image, bracketClosed}.
 */
export function openInlineConstructs(s) {
  const stack = [];
  let i = 0;
  let trailingRun = null; // a marker run at the very end that closed nothing
  while (i < s.length) {
    const c = s[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "`") {
      const n = runLength(s, i, "`");
      const close = findRun(s, i + n, "`", n);
      if (close < 0) {
        stack.push({ kind: "code", pos: i, marker: "`".repeat(n) });
        return { stack, trailingRun };
      }
      i = close + n;
      continue;
    }
    if (c === "$" && s[i + 1] === "$") {
      const close = s.indexOf("$$", i + 2);
      if (close < 0) {
        stack.push({ kind: "math", pos: i, marker: "$$" });
        return { stack, trailingRun };
      }
      i = close + 2;
      continue;
    }
    if (c === "*" || c === "_" || c === "~") {
      const n = runLength(s, i, c);
      const prev = s[i - 1];
      const next = s[i + n];
      const atEnd = i + n === s.length;
      if (c === "~" && n !== 2) {
        i += n;
        continue;
      }
      const intraword = c === "_" && isWordChar(prev) && isWordChar(next);
      const canOpen = !intraword && next !== undefined && !isSpace(next);
      const canClose = !intraword && prev !== undefined && !isSpace(prev);
      let remaining = n;
      if (canClose) {
        let top = topIndex(stack, (e) => e.kind === "em" && e.ch === c);
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
          top = topIndex(stack, (e) => e.kind === "em" && e.ch === c);
        }
      }
      if (remaining > 0 && canOpen) {
        stack.push({ kind: "em", pos: i + n - remaining, ch: c, len: remaining });
      } else if (remaining === n && atEnd) {
        trailingRun = { pos: i };
      }
      i += n;
      continue;
    }
    if (c === "[" || (c === "!" && s[i + 1] === "[")) {
      const image = c === "!";
      stack.push({ kind: "link", pos: i, image, bracketClosed: false });
      i += image ? 2 : 1;
      continue;
    }
    if (c === "]") {
      const top = topIndex(stack, (e) => e.kind === "link" && !e.bracketClosed);
      if (top >= 0) {
        const link = stack[top];
        stack.splice(top + 1); // emphasis opened inside link text cannot outlive it
        if (s[i + 1] === "(") {
          const close = findParenClose(s, i + 2);
          if (close === -1) {
            link.bracketClosed = true;
            stack.push({ kind: "url", pos: i + 1, marker: ")" });
            return { stack, trailingRun };
          }
          stack.pop();
          i = close < 0 ? i + 1 : close + 1; // -2: a newline, so it was never a link
          continue;
        }
        if (i + 1 === s.length) {
          link.bracketClosed = true; // "[text]" at the very end: may still get a "(url)"
          return { stack, trailingRun };
        }
        stack.pop();
      }
      i += 1;
      continue;
    }
    i += 1;
  }
  return { stack, trailingRun };
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
  let wsTrimmed = false;
  let trailingWs = "";
  for (let k = stack.length - 1; k >= 0; k--) {
    const e = stack[k];
    if (e.kind === "code" || e.kind === "math") {
      if (s.length === e.pos + e.marker.length) s = s.slice(0, e.pos);
      else s += e.marker.slice(partialCloser(s, e.marker));
    } else if (e.kind === "url") {
      s += ")";
      stack.splice(k - 1, 1); // its link entry is complete now
      k -= 1;
    } else if (e.kind === "link") {
      // "[text" or "[text]": show the text without brackets until the link completes.
      if (e.bracketClosed && s.endsWith("]")) s = s.slice(0, -1);
      s = s.slice(0, e.pos) + s.slice(e.pos + 1);
    } else if (e.kind === "em") {
      if (!wsTrimmed) {
        const body = s.trimEnd();
        trailingWs = s.slice(body.length);
        s = body;
        wsTrimmed = true;
      }
      if (s.length === e.pos + e.len) s = s.slice(0, e.pos);
      else s += e.ch.repeat(e.len);
    }
  }
  return head + s + trailingWs;
}

/**
 * Repair the open (last) block of a streaming answer so it renders as if finished.
 * Identity for text that is already complete.
 */
export function repairBlock(text) {
  const fence = findOpenFence(text);
  if (fence) {
    return closeInline(text.slice(0, fence.start)) + closeFence(text.slice(fence.start));
  }
  const math = findOpenMathBlock(text);
  if (math) {
    return closeInline(text.slice(0, math.start)) + closeMathBlock(text.slice(math.start));
  }
  return closeInline(completeTableDivider(dropPartialMarkerLine(text)));
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

function countOf(s, sub) {
  let n = 0;
  let i = s.indexOf(sub);
  while (i >= 0) {
    n++;
    i = s.indexOf(sub, i + sub.length);
  }
  return n;
}

function isSpace(ch) {
  return ch === undefined || /\s/.test(ch);
}

function isWordChar(ch) {
  return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
}
