import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { keyAction, RecallWalk, renderChatInput } from "../src/chat-box.js";
import { HostModel, makeWindow } from "./helpers.js";

const box = (over = {}) => ({ empty: false, atStart: false, atEnd: true, walking: false, ...over });

describe("keyAction", () => {
  it("sends on Enter alone", () => {
    assert.equal(keyAction({ key: "Enter" }, box()), "send");
  });

  it("leaves Enter with Shift, Alt, Ctrl or Meta to the textarea", () => {
    for (const mod of ["shiftKey", "altKey", "ctrlKey", "metaKey"]) {
      assert.equal(keyAction({ key: "Enter", [mod]: true }, box()), null, mod);
    }
  });

  it("walks back on Up in an empty box or with the caret at the start", () => {
    assert.equal(keyAction({ key: "ArrowUp" }, box({ empty: true })), "back");
    assert.equal(keyAction({ key: "ArrowUp" }, box({ atStart: true })), "back");
    assert.equal(keyAction({ key: "ArrowUp" }, box({ walking: true })), "back");
  });

  it("leaves Up inside a draft's text to the textarea", () => {
    assert.equal(keyAction({ key: "ArrowUp" }, box()), null);
    assert.equal(keyAction({ key: "ArrowUp", shiftKey: true }, box({ empty: true })), null);
  });

  it("walks forward on Down only while walking with the caret at the end", () => {
    assert.equal(keyAction({ key: "ArrowDown" }, box({ walking: true })), "forward");
    assert.equal(keyAction({ key: "ArrowDown" }, box({ walking: true, atEnd: false })), null);
    assert.equal(keyAction({ key: "ArrowDown" }, box()), null);
  });
});

describe("RecallWalk", () => {
  it("does not apply before anything was sent", () => {
    assert.equal(new RecallWalk().step([], "draft", -1), undefined);
  });

  it("does not apply Down when not walking", () => {
    assert.equal(new RecallWalk().step(["a"], "", 1), undefined);
  });

  it("goes back from the newest message to the oldest, then stays there", () => {
    const walk = new RecallWalk();
    assert.equal(walk.step(["a", "b"], "", -1), "b");
    assert.equal(walk.step(["a", "b"], "b", -1), "a");
    assert.equal(walk.step(["a", "b"], "a", -1), null);
    assert.equal(walk.index, 0);
  });

  it("comes back to the draft past the newest message and stops walking", () => {
    const walk = new RecallWalk();
    walk.step(["a", "b"], "half-typed", -1);
    assert.equal(walk.step(["a", "b"], "b", 1), "half-typed");
    assert.equal(walk.walking, false);
  });
});

describe("the chat input box", () => {
  const window = makeWindow();
  const { document } = window;
  const cleanups = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  function mount(state) {
    const model = new HostModel({ busy: false, has_turns: true, recall: [], ...state });
    const el = document.createElement("div");
    document.body.appendChild(el);
    cleanups.push(renderChatInput({ model, el }));
    return { model, text: el.querySelector("textarea.llmw-chat-text") };
  }

  const press = (text, key, init = {}) => {
    const event = new window.KeyboardEvent("keydown", {
      key,
      bubbles: true,
      cancelable: true,
      ...init,
    });
    text.dispatchEvent(event);
    return event;
  };

  it("recalls the last message on Up and puts the caret at its end", () => {
    const { text } = mount({ recall: ["first", "second"] });
    const event = press(text, "ArrowUp");
    assert.equal(text.value, "second");
    assert.equal(text.selectionStart, "second".length);
    assert.equal(event.defaultPrevented, true);
  });

  it("brings the draft back on Down after walking up", () => {
    const { text } = mount({ recall: ["first"] });
    text.value = "";
    press(text, "ArrowUp");
    press(text, "ArrowDown");
    assert.equal(text.value, "");
  });

  it("stops walking once the recalled text is edited", () => {
    const { text } = mount({ recall: ["first"] });
    press(text, "ArrowUp");
    text.value = "first, edited";
    text.dispatchEvent(new window.Event("input", { bubbles: true }));
    text.setSelectionRange(text.value.length, text.value.length);
    assert.equal(press(text, "ArrowDown").defaultPrevented, false);
    assert.equal(text.value, "first, edited");
  });

  it("does not send while the chat is busy", () => {
    const { model, text } = mount({ busy: true });
    text.value = "Hi";
    press(text, "Enter");
    assert.deepEqual(model.sent, []);
  });

  it("keeps keys from reaching the notebook's shortcuts", () => {
    const { text } = mount({});
    let reached = false;
    document.body.addEventListener("keydown", () => {
      reached = true;
    });
    press(text, "a");
    assert.equal(reached, false);
  });
});
