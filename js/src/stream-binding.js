// Binds a StreamView to an anywidget model: the stream's own view, and each child stream a chat
// or a comparison draws (js/src/containers.js) with the child's model.

import { SNAPSHOT } from "./protocol.js";
import { FINAL_STATUSES, StreamView } from "./stream-view.js";

/**
 * Connect a StreamView to an anywidget model. Returns the cleanup function.
 * @param {{get: Function, on: Function, off: Function, send: Function}} model
 * @param {HTMLElement} el
 */
export function bindStreamView(model, el, options = {}) {
  const view = new StreamView(el, { send: (msg) => model.send(msg), ...options });
  // The kernel sends the answer once, as deltas, and not again at the end. When it has ended,
  // the view keeps what it assembled in the model's own state (no save_changes: nothing goes
  // back to the kernel), so saved widget state holds the answer for a kernel-less reload.
  const keepFinal = () => {
    if (!FINAL_STATUSES.has(model.get("status")) || view.awaitingSnapshot) return;
    const text = view.text;
    if (text && model.get("final_text") !== text) model.set("final_text", text);
    const thinking = view.thinkingText;
    if (thinking && model.get("final_thinking") !== thinking) model.set("final_thinking", thinking);
    const tools = view.tools;
    if (tools.length && !sameJson(model.get("final_tools"), tools)) model.set("final_tools", tools);
  };
  const onStatus = () => {
    view.setStatus(model.get("status"));
    keepFinal();
  };
  const onMetrics = () => view.setMetrics(model.get("metrics"));
  const onError = () => view.setError(model.get("error"));
  const onLabel = () => view.setLabel(model.get("model_label"), model.get("label_note"));
  const onText = () => {
    const text = model.get("final_text");
    if (text) view.setFinalText(text);
  };
  const onTools = () => view.setFinalTools(model.get("final_tools"));
  // Structured output: the text is JSON and is shown as an object (js/src/structured.js).
  const onStructured = () => view.setStructured(Boolean(model.get("structured")));
  const onSent = () => view.setSent(model.get("sent") ?? []);
  // Deltas carry the live metrics, so streaming needs no trait updates (one message per batch).
  const onMessage = (msg) => {
    if (msg?.metrics) view.setMetrics(msg.metrics);
    view.applyMessage(msg);
    if (msg?.type === SNAPSHOT) keepFinal();
  };

  onLabel();
  onMetrics();
  onError();
  onStructured(); // before the saved text, so it is drawn once, the right way
  onSent();
  const status = model.get("status") ?? "idle";
  const saved = model.get("final_text");
  // The cards first, so the saved text is split at them once rather than laid out twice.
  if (FINAL_STATUSES.has(status)) view.setFinalTools(model.get("final_tools"));
  if (FINAL_STATUSES.has(status) && saved) view.setFinalText(saved); // works without a kernel
  if (FINAL_STATUSES.has(status)) view.setFinalThinking(model.get("final_thinking"));
  onStatus();

  const listeners = [
    ["change:status", onStatus],
    ["change:metrics", onMetrics],
    ["change:error", onError],
    ["change:model_label", onLabel],
    ["change:label_note", onLabel],
    ["change:final_text", onText],
    ["change:final_tools", onTools],
    ["change:structured", onStructured],
    ["change:sent", onSent],
    ["msg:custom", onMessage],
  ];
  for (const [name, fn] of listeners) model.on(name, fn);
  // The kernel marks a stream "streaming" before it sends the first delta, and messages arrive
  // in order: a view that renders while the status is still idle, waiting or queued has missed no
  // delta, so it needs no snapshot (that reply would cost a message per answer).
  if (status === "idle" || status === "waiting" || status === "queued") view.expectDeltas();
  else view.hello();
  return {
    view,
    cleanup() {
      for (const [name, fn] of listeners) model.off(name, fn);
      view.destroy();
    },
  };
}

/** Whether two plain values (cards) have the same JSON. */
function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
