// The messages between a widget in the kernel and its views, defined once per side:
// src/llmwidgets/_widgets/protocol.py is the kernel's half, and tests/test_protocol.py keeps the
// two equal. Text travels as append-only deltas numbered by `seq`; a view that lost its place
// says hello and gets a snapshot (the text as of delta `seq`); reset starts a new answer.
// An answer has typed parts (PARTS): a text delta is the plain {type, seq, text}, any other part
// names itself in `part`; all parts share one seq sequence, and a snapshot holds each non-text
// part under its own name. Tool calls are cards: a `tool` message creates or updates card `id`
// (name, `at` = the text length where the call sits, status, arguments, result, duration);
// `tool_call` deltas append to a card's arguments while they stream; a snapshot lists the cards
// under `tools`. A card in status `approval` shows Allow/Deny and answers with `approve`.

/** Message types, by direction. */
export const MESSAGES = Object.freeze({
  kernelToView: Object.freeze({
    DELTA: "delta",
    SNAPSHOT: "snapshot",
    RESET: "reset",
    TOOL: "tool",
  }),
  viewToKernel: Object.freeze({ HELLO: "hello", STOP: "stop", APPROVE: "approve" }),
  chatInputToKernel: Object.freeze({
    SEND: "send",
    STOP: "stop",
    REGENERATE: "regenerate",
    CLEAR: "clear",
  }),
  compareToKernel: Object.freeze({ STOP_ALL: "stop_all" }),
  parts: Object.freeze({ TEXT: "text", THINKING: "thinking", TOOL_CALL: "tool_call" }),
  // A tool card's status: arguments still streaming, waiting for Allow/Deny, the function
  // running, and how it ended.
  toolStatuses: Object.freeze({
    STREAMING: "streaming",
    APPROVAL: "approval",
    RUNNING: "running",
    DONE: "done",
    ERROR: "error",
    DENIED: "denied",
    CANCELLED: "cancelled",
  }),
});

const toView = MESSAGES.kernelToView;
const toKernel = MESSAGES.viewToKernel;
const chatInput = MESSAGES.chatInputToKernel;

export const DELTA = toView.DELTA;
export const SNAPSHOT = toView.SNAPSHOT;
export const RESET = toView.RESET;
export const TOOL = toView.TOOL;
export const PARTS = MESSAGES.parts;
export const TOOL_STATUSES = MESSAGES.toolStatuses;

/** View -> kernel: "send me everything so far" (on render mid-stream, and after a gap). */
export const hello = () => ({ type: toKernel.HELLO });
/** View -> kernel: the Stop button. */
export const stop = () => ({ type: toKernel.STOP });
/** View -> kernel: Allow (true) or Deny (false) on the tool card `id`. */
export const approve = (id, allow) => ({ type: toKernel.APPROVE, id, allow });

/** Comparison -> kernel: the Stop all button. */
export const stopAll = () => ({ type: MESSAGES.compareToKernel.STOP_ALL });

/** Chat input -> kernel: what the person did in the box. */
export const chat = Object.freeze({
  send: (text) => ({ type: chatInput.SEND, text }),
  stop: () => ({ type: chatInput.STOP }),
  regenerate: () => ({ type: chatInput.REGENERATE }),
  clear: () => ({ type: chatInput.CLEAR }),
});
