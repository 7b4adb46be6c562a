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
 * What a key pressed in the box does: "send" (Enter alone), "back" / "forward" (Up and Down
 * walking through the sent messages), or null (the textarea's own behaviour).
 * @param {{key: string, shiftKey?: boolean, altKey?: boolean, ctrlKey?: boolean, metaKey?: boolean}} event
 * @param {{empty: boolean, atStart: boolean, atEnd: boolean, walking: boolean}} box
 */
export function keyAction(event, box) {
  const modified = event.shiftKey || event.altKey || event.ctrlKey || event.metaKey;
  if (event.key === "Enter" && !modified) return "send";
  if (event.key === "ArrowUp" && !event.shiftKey && (box.empty || box.atStart || box.walking))
    return "back";
  if (event.key === "ArrowDown" && !event.shiftKey && box.walking && box.atEnd) return "forward";
  return null;
}

/**
 * The walk through the sent messages with Up and Down, as in a shell: Up from the draft goes to
 * the last message, Down past the last comes back to the draft.
 */
export class RecallWalk {
  constructor() {
    /** Position in the messages while walking; -1 when not walking. */
    this.index = -1;
    this.draft = "";
  }

  get walking() {
    return this.index >= 0;
  }

  stop() {
    this.index = -1;
  }

  /**
   * One step (-1 back, +1 forward) from the box's `current` text through `items`. Returns
   * undefined when the step does not apply (nothing sent yet, or Down when not walking), null
   * at either end (the key is used up, the box is unchanged), else the text to show.
   * @param {string[]} items
   * @param {string} current
   * @param {number} step
   * @returns {string | null | undefined}
   */
  step(items, current, step) {
    if (items.length === 0) return undefined;
    if (this.index < 0) {
      if (step > 0) return undefined;
      this.draft = current;
      this.index = items.length;
    }
    const next = Math.min(Math.max(this.index + step, 0), items.length);
    if (next === this.index) return null;
    this.index = next === items.length ? -1 : next;
    return next === items.length ? this.draft : items[next];
  }
}

/**
 * Render the input box for an anywidget model; returns the cleanup function.
 * @param {{model: {get: Function, on: Function, off: Function, send: Function}, el: HTMLElement}} args
 */
export function renderChatInput({ model, el }) {
  const { root, text, send, stop, regenerate, clear } = drawBox(
    el.ownerDocument ?? globalThis.document,
  );
  el.appendChild(root);

  const walk = new RecallWalk();
  const recall = () => model.get("recall") ?? [];
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
    walk.stop();
    sync();
    text.focus();
  };
  /** Up or Down: show the message stepped to, the caret at its end; true if the key was used. */
  const recallStep = (step) => {
    const shown = walk.step(recall(), text.value, step);
    if (typeof shown === "string") {
      text.value = shown;
      text.setSelectionRange(shown.length, shown.length);
      sync();
    }
    return shown !== undefined;
  };

  const onKeydown = (event) => {
    if (event.isComposing || event.keyCode === 229) return; // an IME is composing
    const action = keyAction(event, {
      empty: text.value === "",
      atStart: text.selectionStart === 0 && text.selectionEnd === 0,
      atEnd: text.selectionStart === text.value.length,
      walking: walk.walking,
    });
    let handled = false;
    if (action === "send") {
      doSend();
      handled = true;
    } else if (action) {
      handled = recallStep(action === "back" ? -1 : 1);
    }
    // Keys typed here belong to the box, not to the notebook's shortcuts.
    event.stopPropagation();
    if (handled) event.preventDefault();
  };
  const onInput = () => {
    if (walk.walking && text.value !== recall()[walk.index]) walk.stop();
    sync();
  };
  const onClear = () => {
    model.send(chat.clear());
    text.focus();
  };

  const domListeners = [
    [text, "keydown", onKeydown],
    [text, "input", onInput],
    [send, "click", doSend],
    [stop, "click", () => model.send(chat.stop())],
    [regenerate, "click", () => model.send(chat.regenerate())],
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

/** The box's elements: the textarea above a row of Regenerate, Clear, then Stop and Send. */
function drawBox(doc) {
  const root = make(doc, "div", "llmw-chat-input");
  const text = make(doc, "textarea", "llmw-chat-text");
  text.rows = 2;
  text.setAttribute("aria-label", "Message");
  const send = button(doc, "llmw-send", "Send", "Send (Enter)");
  const stop = button(doc, "llmw-chat-stop", "Stop", "Stop the answer");
  const regenerate = button(doc, "llmw-regenerate", "Regenerate", "Answer the last message again");
  const clear = button(doc, "llmw-clear", "Clear", "Clear the conversation");
  const actions = make(doc, "div", "llmw-chat-actions");
  actions.append(regenerate, clear, make(doc, "span", "llmw-chat-spacer"), stop, send);
  root.append(text, actions);
  return { root, text, send, stop, regenerate, clear };
}
