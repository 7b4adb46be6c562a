// Line-level markdown syntax shared by the block splitter (blocks.js) and the repairs
// (repair/*.js): code fences, `$$` math blocks, and counting. One definition, so the
// splitter and the repairs cannot disagree about where a fence or a math block is.

/** A fence line, any indentation: fences nested in list items are indented too. */
const FENCE_RE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSER_RE = /^(`+|~+)$/;

/**
 * The code fence a line opens, or null. A backtick fence's info string may not contain a
 * backtick (such a line is inline code, as in CommonMark). `indent` is the opener's.
 * @returns {{ch: string, len: number, indent: string} | null}
 */
export function fenceOpener(line) {
  const m = FENCE_RE.exec(line.endsWith("\r") ? line.slice(0, -1) : line);
  if (!m || (m[2][0] === "`" && m[3].includes("`"))) return null;
  return { ch: m[2][0], len: m[2].length, indent: m[1] };
}

/** Whether `line` closes `fence` (the same character, at least as many, nothing else). */
export function closesFence(line, fence) {
  const t = line.trim();
  return t.length >= fence.len && t[0] === fence.ch && FENCE_CLOSER_RE.test(t);
}

/** Whether a line opens a `$$` display-math block (starts with `$$`, does not close it). */
export function opensMathBlock(line) {
  return line.trimStart().startsWith("$$") && countOf(line, "$$") % 2 === 1;
}

/** Whether a line inside a `$$` block ends it. */
export function closesMathBlock(line) {
  return line.includes("$$");
}

/** Whether a line is only `$$` text: a one-line `$$…$$` or a lone `$$`. */
export function isMathBlockLine(line) {
  return /^\s*\$\$.*\$\$\s*$|^\s*\$\$\s*$/.test(line);
}

/**
 * Tracks whether the lines fed so far are inside a code fence or a `$$` math block.
 * `fence` is the open fence ({ch, len}) or null; `math` is true inside a math block.
 */
export class FenceTracker {
  constructor() {
    this.fence = null;
    this.math = false;
  }

  /** Inside a fence or a math block. */
  get inside() {
    return this.fence !== null || this.math;
  }

  /** Feed one line; return true when it opens a fence or a math block. */
  line(line) {
    if (this.fence) {
      if (closesFence(line, this.fence)) this.fence = null;
      return false;
    }
    if (this.math) {
      if (closesMathBlock(line)) this.math = false;
      return false;
    }
    this.fence = fenceOpener(line);
    if (!this.fence && opensMathBlock(line)) this.math = true;
    return this.inside;
  }
}

/**
 * The fence or `$$` block left open at the end of `text`, or null. `start` is the offset of
 * its opening line; `fence` is set for a code fence.
 * @returns {{start: number, fence: {ch: string, len: number, indent: string} | null} | null}
 */
export function findOpenBlock(text) {
  const tracker = new FenceTracker();
  let start = 0;
  let offset = 0;
  for (const line of text.split("\n")) {
    if (tracker.line(line)) start = offset;
    offset += line.length + 1;
  }
  return tracker.inside ? { start, fence: tracker.fence } : null;
}

/** How many times `sub` occurs in `s`, without overlaps. */
export function countOf(s, sub) {
  let n = 0;
  let i = s.indexOf(sub);
  while (i >= 0) {
    n++;
    i = s.indexOf(sub, i + sub.length);
  }
  return n;
}
