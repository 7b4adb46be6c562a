// The chat's input box: a textarea with Send, Stop, Regenerate and Clear, drawn by the chat's
// view (js/src/containers.js) from the chat model's traits (busy, has_turns, recall,
// placeholder). It only reports what the person did (protocol.js: send, stop, regenerate,
// clear); the kernel owns the conversation.
//
// Keys: Enter sends, Shift+Enter inserts a newline, Up on an empty box (or with the caret at
// the start) recalls the previous message, Down walks forward again.

import { button, make } from "./dom.js";
import { chat } from "./protocol.js";

/**
 * Render the input box for an anywidget model; returns the cleanup function.
 * @param {{model: {get: Function, on: Function, off: Function, send: Function}, el: HTMLElement}} args
 */
export function renderChatInput({ model, el }) {
  const doc = el.ownerDocument ?? globalThis.document;
  const root = make(doc, "div", "llmw-chat-input");
  const text = make(doc, "textarea", "llmw-chat-text");
  text.rows = 2;
  text.setAttribute("aria-label", "Message");
  const send = button(doc, "llmw-send", "Send", "Send (Enter)");
  const stop = button(doc, "llmw-chat-stop", "Stop", "Stop the answer");
  const regenerate = button(doc, "llmw-regenerate", "Regenerate", "Answer the last message again");
  const clear = button(doc, "llmw-clear", "Clear", "Clear the conversation");
  const actions = make(doc, "div", "llmw-chat-actions");
  const spacer = make(doc, "span", "llmw-chat-spacer");
  actions.append(regenerate, clear, spacer, stop, send);
  root.append(text, actions);
  el.appendChild(root);

  // Position in `recall` while walking with Up/Down; recall.length = the draft being typed.
  let recallIndex = -1;
  let draft = "";

  const busy = () => Boolean(model.get("busy"));
  const sync = () => {
    const isBusy = busy();
    root.dataset.busy = String(isBusy);
    send.disabled = isBusy || text.value.trim() === "";
    stop.disabled = !isBusy;
    regenerate.disabled = isBusy || !model.get("has_turns");
    clear.disabled = !model.get("has_turns");
  };
  const setPlaceholder = () => {
    text.placeholder = model.get("placeholder") ?? "";
  };

  const doSend = () => {
    const value = text.value;
    if (busy() || value.trim() === "") return;
    model.send(chat.send(value));
    text.value = "";
    recallIndex = -1;
    draft = "";
    sync();
    text.focus();
  };

  const recallStep = (step) => {
    const items = model.get("recall") ?? [];
    if (items.length === 0) return false;
    if (recallIndex < 0) {
      if (step > 0) return false;
      draft = text.value;
      recallIndex = items.length;
    }
    const next = Math.min(Math.max(recallIndex + step, 0), items.length);
    if (next === recallIndex) return true;
    recallIndex = next;
    text.value = next === items.length ? draft : items[next];
    if (next === items.length) recallIndex = -1;
    const end = text.value.length;
    text.setSelectionRange(end, end);
    sync();
    return true;
  };

  const onKeydown = (event) => {
    if (event.isComposing || event.keyCode === 229) return; // an IME is composing
    const atStart = text.selectionStart === 0 && text.selectionEnd === 0;
    const atEnd = text.selectionStart === text.value.length;
    let handled = false;
    if (
      event.key === "Enter" &&
      !event.shiftKey &&
      !event.altKey &&
      !event.ctrlKey &&
      !event.metaKey
    ) {
      doSend();
      handled = true;
    } else if (
      event.key === "ArrowUp" &&
      !event.shiftKey &&
      (text.value === "" || atStart || recallIndex >= 0)
    ) {
      handled = recallStep(-1);
    } else if (event.key === "ArrowDown" && !event.shiftKey && recallIndex >= 0 && atEnd) {
      handled = recallStep(1);
    }
    // Keys typed here belong to the box, not to the notebook's shortcuts.
    event.stopPropagation();
    if (handled) event.preventDefault();
  };
  const onInput = () => {
    if (recallIndex >= 0 && text.value !== (model.get("recall") ?? [])[recallIndex])
      recallIndex = -1;
    sync();
  };
  const onSend = () => doSend();
  const onStop = () => model.send(chat.stop());
  const onRegenerate = () => model.send(chat.regenerate());
  const onClear = () => {
    model.send(chat.clear());
    text.focus();
  };

  const domListeners = [
    [text, "keydown", onKeydown],
    [text, "input", onInput],
    [send, "click", onSend],
    [stop, "click", onStop],
    [regenerate, "click", onRegenerate],
    [clear, "click", onClear],
  ];
  for (const [target, type, fn] of domListeners) target.addEventListener(type, fn);
  const traits = ["busy", "has_turns"];
  for (const name of traits) model.on(`change:${name}`, sync);
  model.on("change:placeholder", setPlaceholder);
  setPlaceholder();
  sync();

  return () => {
    for (const name of traits) model.off(`change:${name}`, sync);
    model.off("change:placeholder", setPlaceholder);
    for (const [target, type, fn] of domListeners) target.removeEventListener(type, fn);
    root.remove();
  };
}
