// Repairs for the still-open tail of a streaming markdown answer.
//
// Every function here is pure (string -> string). They make an unfinished block render
// the way it will render once finished, so nothing flickers between raw markers and
// formatting. On text that is already complete they are the identity. One module per
// construct, applied in this order:
//   repair/fence.js    unclosed code fences (closed with the same marker)
//   repair/math.js     unclosed `$$` blocks; inline math for the inline scanner
//   repair/markers.js  a last line that is only a block marker (held back)
//   repair/table.js    a table header row being typed (shown as a table head), and a
//                      table's divider row (completed while it arrives)
//   repair/inline.js   inline code, math, emphasis, strikethrough, links and images

import { closeFence, findOpenFence } from "./repair/fence.js";
import { closeInline } from "./repair/inline.js";
import { dropPartialMarkerLine } from "./repair/markers.js";
import { closeMathBlock, findOpenMathBlock } from "./repair/math.js";
import {
  completeTableDivider,
  isPartialTableHeader,
  speculateTableHeader,
} from "./repair/table.js";

export { closeFence, findOpenFence } from "./repair/fence.js";
export {
  closeInline,
  dropDanglingEscape,
  lastInlineStart,
  openInlineConstructs,
} from "./repair/inline.js";
export { dropPartialMarkerLine } from "./repair/markers.js";
export { closeMathBlock, findOpenMathBlock } from "./repair/math.js";
export { completeTableDivider, speculateTableHeader } from "./repair/table.js";

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
  const body = dropPartialMarkerLine(text);
  if (isPartialTableHeader(body)) return speculateTableHeader(closeInline(body));
  return closeInline(completeTableDivider(body));
}
