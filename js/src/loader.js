// The ESM every StreamWidget carries: a few hundred bytes that fetch the real view.
//
// anywidget syncs a widget's `_esm` and `_css` with each instance, so a 500 KB bundle would be
// sent (and saved in the notebook) once per answer. Instead the bundle lives once per kernel in
// a shared assets model, referenced by the `_assets` trait, and is imported once per page.

const CACHE = Symbol.for("llmwidgets.library");

function injectCss(css, version) {
  const id = `llmwidgets-css-${version}`;
  if (!css || document.getElementById(id)) return;
  const style = Object.assign(document.createElement("style"), { id });
  style.textContent = css;
  document.head.appendChild(style);
}

async function importText(code) {
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  try {
    return await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The view library for this widget, imported once per page and bundle version. */
export async function library(model) {
  const ref = String(model.get("_assets") ?? "");
  const assets = await model.widget_manager.get_model(ref.replace(/^IPY_MODEL_/, ""));
  const version = assets.get("version");
  globalThis[CACHE] ??= new Map();
  const store = globalThis[CACHE];
  if (!store.has(version)) {
    store.set(
      version,
      (async () => {
        injectCss(assets.get("css"), version);
        return importText(assets.get("bundle"));
      })(),
    );
  }
  return store.get(version);
}

export default {
  async render({ model, el }) {
    try {
      const lib = await library(model);
      return lib.default.render({ model, el });
    } catch (err) {
      el.textContent = `llmwidgets: the front end failed to load (${err}). Re-run the cell.`;
      return undefined;
    }
  },
};
