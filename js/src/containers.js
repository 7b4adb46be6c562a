// The chat and the comparison grid: one anywidget view each, drawing its child streams.
//
// ChatWidget and CompareWidget are anywidgets whose traits reference StreamWidget models
// ("IPY_MODEL_<id>", ipywidgets' widget_serialization). Their view asks the host for each child
// model (`model.widget_manager.get_model(id)`, in JupyterLab, Notebook 7, Voilà and marimo) and
// draws it with the same binding as a StreamWidget's own view, so every front end that hosts
// anywidgets hosts these too, with no ipywidgets containers (marimo refuses those).
// A child already drawn is moved, never rebuilt, when the list changes: an answer keeps
// streaming while the chat adds a turn.

import DOMPurify from "dompurify";
import { renderChatInput } from "./chat-box.js";
import { button, make } from "./dom.js";
import { stopAll } from "./protocol.js";
import { bindStreamView } from "./stream-binding.js";

/** The host's model a trait value references: "IPY_MODEL_<id>" or a bare id. */
export function childModel(model, ref) {
  return model.widget_manager.get_model(String(ref).replace(/^IPY_MODEL_/, ""));
}

/** Child stream views by reference, each bound once and kept until its reference is dropped. */
export class ChildStreams {
  /** `options` go to each child's StreamView (tests pass `schedule: null`). */
  constructor(model, doc, className, options = {}) {
    this.model = model;
    this.doc = doc;
    this.className = className;
    this.options = options;
    this.views = new Map();
  }

  /** The element showing child `ref`, bound to its model the first time it is asked for. */
  async element(ref) {
    let entry = this.views.get(ref);
    if (!entry) {
      const el = this.doc.createElement("div");
      el.className = this.className;
      entry = { el, cleanup: null, dropped: false };
      entry.ready = childModel(this.model, ref).then(
        (child) => {
          if (!entry.dropped) entry.cleanup = bindStreamView(child, el, this.options).cleanup;
        },
        (err) => {
          el.textContent = `llmwidgets: this answer is gone (${err}). Re-run this cell.`;
        },
      );
      this.views.set(ref, entry);
    }
    await entry.ready;
    return entry.el;
  }

  /** Unbind and forget every child whose reference is not in `keep`. */
  prune(keep) {
    for (const [ref, entry] of this.views) {
      if (keep.has(ref)) continue;
      this.views.delete(ref);
      entry.dropped = true;
      entry.cleanup?.();
      entry.el.remove();
    }
  }

  destroy() {
    this.prune(new Set());
  }
}

/**
 * Redraw with `draw()` on each of `events`, the latest call winning: `draw` is async (child
 * models are fetched), and a slow draw must not overwrite a newer one.
 */
function redrawOn(model, events, draw) {
  let generation = 0;
  const run = () => {
    generation += 1;
    const mine = generation;
    return draw(() => mine === generation);
  };
  for (const name of events) model.on(name, run);
  const off = () => {
    for (const name of events) model.off(name, run);
  };
  return { run, off };
}

/** A user turn: the text as text (never read as HTML), in a bubble on the right. */
function userTurn(doc, text) {
  const box = make(doc, "div", "llmw-user-turn-box");
  const bubble = make(doc, "div", "llmw-user-turn", text);
  bubble.setAttribute("role", "note");
  bubble.setAttribute("aria-label", "You");
  box.appendChild(bubble);
  return box;
}

/**
 * The chat: the transcript (`turns`: {role: "user", text} or {role: "assistant", answer: ref})
 * and the input box, which reads the chat model's busy, has_turns, recall and placeholder.
 */
export function renderChat({ model, el }, options = {}) {
  const doc = el.ownerDocument ?? globalThis.document;
  const root = make(doc, "div", "llmw-chat");
  const transcript = make(doc, "div", "llmw-chat-transcript");
  root.appendChild(transcript);
  el.appendChild(root);
  const removeInput = renderChatInput({ model, el: root });
  const answers = new ChildStreams(model, doc, "llmw-chat-answer", options);

  const redraw = redrawOn(model, ["change:turns"], async (current) => {
    const turns = model.get("turns") ?? [];
    const nodes = await Promise.all(
      turns.map((turn) =>
        turn.answer ? answers.element(turn.answer) : userTurn(doc, String(turn.text ?? "")),
      ),
    );
    if (!current()) return;
    transcript.replaceChildren(...nodes);
    answers.prune(new Set(turns.map((turn) => turn.answer).filter(Boolean)));
  });
  redraw.run();

  return () => {
    redraw.off();
    answers.destroy();
    removeInput();
    root.remove();
  };
}

/**
 * The comparison: a wrapping grid of panes (`panes`: refs, `titles`: one per pane, "" for none),
 * "Stop all" (disabled once `ended`), and the summary table the kernel builds at the end.
 */
export function renderCompare({ model, el }, options = {}) {
  const doc = el.ownerDocument ?? globalThis.document;
  const root = make(doc, "div", "llmw-compare");
  const grid = make(doc, "div", "llmw-compare-grid");
  const stop = button(
    doc,
    "llmw-compare-stop-all",
    "Stop all",
    "Stop every pane that is still streaming",
  );
  const summary = make(doc, "div", "llmw-compare-summary");
  root.append(grid, stop, summary);
  el.appendChild(root);
  const panes = new ChildStreams(model, doc, "llmw-compare-pane", options);
  const purify = doc.defaultView ? DOMPurify(doc.defaultView) : null;

  const redraw = redrawOn(model, ["change:panes", "change:titles"], async (current) => {
    const refs = model.get("panes") ?? [];
    const titles = model.get("titles") ?? [];
    const views = await Promise.all(refs.map((ref) => panes.element(ref)));
    if (!current()) return;
    const cells = views.map((view, i) => {
      const cell = make(doc, "div", "llmw-compare-cell");
      if (titles[i]) cell.appendChild(make(doc, "div", "llmw-compare-title", titles[i]));
      cell.appendChild(view);
      return cell;
    });
    grid.replaceChildren(...cells);
    panes.prune(new Set(refs));
  });
  const onColumns = () => {
    grid.style.gridTemplateColumns = model.get("columns") ?? "";
  };
  const onEnded = () => {
    stop.disabled = Boolean(model.get("ended"));
  };
  // Built in the kernel with every value escaped; sanitised again here all the same.
  const onSummary = () => {
    const html = model.get("summary") ?? "";
    summary.innerHTML = purify ? purify.sanitize(html) : "";
  };
  const onStop = () => model.send(stopAll());
  const traits = [
    ["change:columns", onColumns],
    ["change:ended", onEnded],
    ["change:summary", onSummary],
  ];
  for (const [name, fn] of traits) model.on(name, fn);
  stop.addEventListener("click", onStop);
  onColumns();
  onEnded();
  onSummary();
  redraw.run();

  return () => {
    redraw.off();
    for (const [name, fn] of traits) model.off(name, fn);
    stop.removeEventListener("click", onStop);
    panes.destroy();
    root.remove();
  };
}

/** The views the loader can draw besides a stream, by the model's `_llmw_view`. */
export const views = Object.freeze({
  chat: Object.freeze({ render: renderChat }),
  compare: Object.freeze({ render: renderCompare }),
});
