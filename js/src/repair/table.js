// Tables: a line that starts with a pipe where a table may start is taken for a table's
// header row while it is typed (a divider row is added), and a divider row is completed
// while it arrives, so the header shows as a table head at once, never as a line of pipes.

const TABLE_ROW_RE = /^ {0,3}\|.*\|[ \t]*$/;
const ROW_START_RE = /^ {0,3}\|/;
const NO_CELL_YET_RE = /^ {0,3}\|[ \t]*$/;
const PARTIAL_DIVIDER_RE = /^ {0,3}[|:\- \t]*$/;
const DIVIDER_CELL_RE = /^[ \t]*:?-+:?[ \t]*$/;

/** The cells of a table row (`| a | b |` -> ["a", "b"]); escaped pipes stay in their cell. */
export function tableCells(row) {
  return row
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "")
    .split(/(?<!\\)\|/);
}

/** A divider row for `columns` columns. */
function dividerRow(columns) {
  return `| ${Array(columns).fill("---").join(" | ")} |`;
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
  lines[lines.length - 1] = dividerRow(columns);
  return lines.join("\n");
}

/**
 * Whether the last, unfinished line of `text` can only be a table's header row: it starts
 * with a pipe and the line above is not a table row (then it would be a body row).
 */
export function isPartialTableHeader(text) {
  const lines = text.split("\n");
  const last = lines[lines.length - 1];
  const above = lines.length > 1 ? lines[lines.length - 2] : "";
  return ROW_START_RE.test(last) && !TABLE_ROW_RE.test(above) && !ROW_START_RE.test(above);
}

/**
 * Render a header row that is still being typed as a table head: add a divider row with
 * as many columns as typed so far. A lone pipe (no cell yet) is held back.
 */
export function speculateTableHeader(text) {
  const nl = text.lastIndexOf("\n");
  const header = text.slice(nl + 1);
  if (NO_CELL_YET_RE.test(header)) return text.slice(0, nl + 1);
  return `${text}\n${dividerRow(tableCells(header).length)}`;
}
