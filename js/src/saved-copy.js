// While a widget's live view is on the page, the saved copy of its answer (the HTML output the
// kernel writes under the view when the answer ends, src/llmwidgets/_widgets/saved_copy.py) is
// hidden. JupyterLab and Notebook 7 already hide it with CSS on their own output classes; this
// covers any front end that draws the copy in the same document as the view without those
// classes (VS Code's notebook webview draws every output of a notebook in one document). The
// copy carries the widget's `_copy_key`, and a rule keyed by it is held while a view lives.

const ATTR = "data-llmw-copy";

/** Hide the saved copy of `model`'s widget while this view lives; returns the release. */
export function hideSavedCopy(model, el) {
  const key = String(model.get("_copy_key") ?? "");
  const doc = el?.ownerDocument;
  if (!/^[0-9a-f]{8,64}$/.test(key) || !doc?.head) return () => {};
  let style = doc.head.querySelector(`style[${ATTR}="${key}"]`);
  if (!style) {
    style = doc.createElement("style");
    style.setAttribute(ATTR, key);
    style.dataset.views = "0";
    style.textContent = `.llmw-saved[${ATTR}="${key}"]{display:none}`;
    doc.head.appendChild(style);
  }
  style.dataset.views = String(Number(style.dataset.views) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const views = Number(style.dataset.views) - 1;
    style.dataset.views = String(views);
    if (views <= 0) style.remove();
  };
}
