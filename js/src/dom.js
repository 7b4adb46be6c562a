/** The two element makers every view uses, so each file builds its DOM the same way. */

/** A `tag` element with `className` and, when given, `text` as its text. */
export function make(doc, tag, className, text) {
  const el = doc.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A `type="button"` button (never a form submit), with a tooltip when `title` is given. */
export function button(doc, className, text, title) {
  const el = make(doc, "button", className, text);
  el.type = "button";
  if (title !== undefined) el.title = title;
  return el;
}
