// The ESM every StreamWidget, ChatWidget and CompareWidget carries: a few hundred bytes that fetch the real view.
//
// anywidget syncs a widget's `_esm` and `_css` with each instance, so a 500 KB bundle would be
// sent (and saved in the notebook) once per answer. Instead the bundle lives once per kernel in
// a shared assets model, referenced by the `_assets` trait, and is imported once per page.
//
// Styles go to `document.head` and, when the view is drawn inside a shadow root (marimo draws
// each anywidget inside one), to that root too: a page's stylesheets do not reach inside it.
// The head copy stays even then, as @font-face rules (KaTeX) only work from the document.

// version -> Promise<module>; shared with loaders of older releases on the same page.
const CACHE = Symbol.for("llmwidgets.library");
// This loader's own state: {refs: Map<ref, Promise<{version, css}>>, latest: {version, css}?,
// sheets: Map<version, CSSStyleSheet>}.
const STATE = Symbol.for("llmwidgets.loader.v2");

function loaderState() {
  globalThis[STATE] ??= { refs: new Map(), latest: undefined, sheets: new Map() };
  return globalThis[STATE];
}

function injectHeadCss(css, version) {
  const id = `llmwidgets-css-${version}`;
  if (!css || document.getElementById(id)) return;
  const style = Object.assign(document.createElement("style"), { id });
  style.textContent = css;
  document.head.appendChild(style);
}

/** One constructed sheet per bundle version, adopted by every shadow root that needs it. */
function sharedSheet(css, version) {
  const { sheets } = loaderState();
  if (!sheets.has(version)) {
    let sheet = null;
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
    } catch {
      sheet = null; // no constructable stylesheets: a <style> per root instead
    }
    sheets.set(version, sheet);
  }
  return sheets.get(version);
}

function injectRootCss(root, css, version) {
  const sheet = "adoptedStyleSheets" in root ? sharedSheet(css, version) : null;
  if (sheet) {
    try {
      if (!root.adoptedStyleSheets.includes(sheet)) {
        root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      }
      return;
    } catch {
      // a sheet from another document (an iframe's root): fall through to <style>
    }
  }
  const attr = "data-llmwidgets-css";
  for (const style of root.querySelectorAll(`style[${attr}]`)) {
    if (style.getAttribute(attr) === version) return;
  }
  const style = document.createElement("style");
  style.setAttribute(attr, version);
  style.textContent = css;
  root.prepend(style);
}

/** Make the stylesheet reach `el`: the document's head, plus its shadow root if it has one. */
export function attachCss(el, css, version, frames = 30) {
  if (!css) return;
  injectHeadCss(css, version);
  const root = el?.getRootNode?.();
  if (typeof ShadowRoot !== "undefined" && root instanceof ShadowRoot) {
    injectRootCss(root, css, version);
  } else if (root && root.nodeType !== Node.DOCUMENT_NODE && frames > 0) {
    // Not in a document yet: look again once the front end has placed the view.
    requestAnimationFrame(() => attachCss(el, css, version, frames - 1));
  }
}

async function importText(code) {
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  try {
    return await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function importOnce(version, bundle) {
  globalThis[CACHE] ??= new Map();
  const store = globalThis[CACHE];
  if (!store.has(version)) store.set(version, importText(bundle));
  return store.get(version);
}

/**
 * The assets this widget references, as {version, css, lib}. Each assets model is asked once
 * per page. If it is gone (marimo closes it with the cell that made it) the library this page
 * already loaded serves instead; with none loaded, the error says to re-run the cell.
 */
async function resolveAssets(model) {
  const state = loaderState();
  const ref = String(model.get("_assets") ?? "");
  if (!state.refs.has(ref)) {
    const pending = (async () => {
      const assets = await model.widget_manager.get_model(ref.replace(/^IPY_MODEL_/, ""));
      const version = assets.get("version");
      const lib = importOnce(version, assets.get("bundle"));
      await lib;
      state.latest = { version, css: assets.get("css"), lib };
      return state.latest;
    })();
    state.refs.set(ref, pending);
    pending.catch(() => state.refs.delete(ref));
  }
  try {
    return await state.refs.get(ref);
  } catch (err) {
    if (state.latest) return state.latest;
    throw err;
  }
}

/** The view library for this widget, imported once per page and bundle version. */
export async function library(model, el) {
  const { version, css, lib } = await resolveAssets(model);
  if (el) attachCss(el, css, version);
  return lib;
}

/** How long a view waits for its assets before saying so (they normally arrive in well under 1 s). */
export const WAIT_HINT_MS = 8000;

/**
 * Say in the output, after `ms`, that the view's code has not arrived, and what to do; the view
 * keeps waiting. Returns the function that cancels or removes the note once the wait is over.
 */
export function noteSlowAssets(el, ms = WAIT_HINT_MS) {
  let note = null;
  const timer = setTimeout(() => {
    note = el.ownerDocument.createElement("div");
    note.className = "llmw-loading";
    note.setAttribute("role", "status");
    note.textContent =
      "llmwidgets: still waiting for the widget's code from the kernel. If nothing appears, " +
      "re-run this cell; if that does not help, restart the kernel.";
    el.appendChild(note);
  }, ms);
  return () => {
    clearTimeout(timer);
    note?.remove();
  };
}

export default {
  async render({ model, el }) {
    const waited = noteSlowAssets(el);
    try {
      const lib = await library(model, el).finally(waited);
      // A chat or a comparison names its view; a stream names none (and older bundles have
      // only the stream's).
      const view = lib.views?.[model.get("_llmw_view") ?? ""] ?? lib.default;
      const cleanup = await view.render({ model, el });
      // Older bundles have no hideSavedCopy; their front ends hide the copy with CSS alone.
      const release = lib.hideSavedCopy?.(model, el);
      return () => {
        release?.();
        cleanup?.();
      };
    } catch (err) {
      el.textContent = `llmwidgets: the front end failed to load (${err}). Re-run this cell.`;
      return undefined;
    }
  },
};
