// Tables: while a table's divider row arrives, it is completed, so the header row shows as
// a table head at once instead of as a line of pipes.

const TABLE_ROW_RE = /^ {0,3}\|.*\|[ \t]*$/;
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
