import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { advance } from "../src/stream-view.js";
import { foldText, prettyJson, RESULT_FOLD } from "../src/tool-card.js";
import { makeWindow, mountStreamView, unmountViews } from "./helpers.js";

const window = makeWindow();
const { document } = window;

afterEach(unmountViews);

/** A view of a stream that has just started: deltas are taken from seq 1. */
function live() {
  const mounted = mountStreamView(document, { status: "waiting" });
  mounted.model.set("status", "streaming");
  let seq = 0;
  const send = (msg) => mounted.model.custom({ ...msg, seq: ++seq });
  return {
    ...mounted,
    text: (text) => send({ type: "delta", text }),
    args: (id, text) => send({ type: "delta", part: "tool_call", id, text }),
    tool: (fields) => send({ type: "tool", ...fields }),
  };
}

const cards = (el) => [...el.querySelectorAll(".llmw-tool")];
const card = (el, id) => el.querySelector(`.llmw-tool[data-tool-id="${id}"]`);

/** The body as a list: "text:<its text>" per non-empty text segment, "tool:<id>" per card. */
function layout(el) {
  const out = [];
  for (const child of el.querySelector(".llmw-body").children) {
    if (child.classList.contains("llmw-tool")) out.push(`tool:${child.dataset.toolId}`);
    else if (child.textContent.trim()) out.push(`text:${child.textContent.trim()}`);
  }
  return out;
}

describe("tool cards in the answer", () => {
  it("puts a card where `at` says, and the text after it below it", () => {
    const s = live();
    s.text("Let me look.");
    s.tool({ id: "c1", name: "search", at: 12, status: "running" });
    s.text("Found it.");
    assert.deepEqual(layout(s.el), ["text:Let me look.", "tool:c1", "text:Found it."]);
    assert.equal(s.view.text, "Let me look.Found it.");
  });

  it("grows the arguments with tool_call deltas and pretty-prints them once whole", () => {
    const s = live();
    s.tool({ id: "c1", name: "search", at: 0, status: "streaming" });
    s.args("c1", '{"q": ');
    s.args("c1", '"cats"}');
    const args = card(s.el, "c1").querySelector(".llmw-tool-args");
    assert.equal(args.textContent, '{"q": "cats"}');
    s.tool({ id: "c1", status: "running" });
    assert.equal(args.textContent, '{\n  "q": "cats"\n}');
  });

  it("shows whole arguments a tool message carries, pretty", () => {
    const s = live();
    s.tool({ id: "c1", name: "search", at: 0, status: "streaming" });
    s.args("c1", '{"q"');
    s.tool({ id: "c1", status: "running", arguments: '{"q":"dogs","n":2}' });
    const args = card(s.el, "c1").querySelector(".llmw-tool-args");
    assert.equal(args.textContent, '{\n  "q": "dogs",\n  "n": 2\n}');
    assert.equal(s.view.tools[0].arguments, '{"q":"dogs","n":2}');
  });

  it("keeps arguments that are not JSON as they came", () => {
    const s = live();
    s.tool({ id: "c1", name: "run", at: 0, status: "streaming" });
    s.args("c1", "{not json");
    s.tool({ id: "c1", status: "done" });
    assert.equal(card(s.el, "c1").querySelector(".llmw-tool-args").textContent, "{not json");
  });

  it("follows the status: label, data attribute and the duration once known", () => {
    const s = live();
    s.tool({ id: "c1", name: "search", at: 0, status: "running" });
    const c = card(s.el, "c1");
    assert.equal(c.dataset.status, "running");
    assert.equal(c.querySelector(".llmw-tool-status").textContent, "running…");
    assert.equal(c.querySelector(".llmw-tool-duration").hidden, true);
    s.tool({ id: "c1", status: "done", result: "42", duration: 1.2 });
    assert.equal(c.dataset.status, "done");
    assert.equal(c.querySelector(".llmw-tool-status").textContent, "done");
    assert.equal(c.querySelector(".llmw-tool-duration").textContent, "1.2 s");
    assert.equal(c.querySelector(".llmw-tool-result-text").textContent, "42");
  });

  it("folds a long result behind Show all, and unfolds it on click", () => {
    const s = live();
    const result = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n");
    s.tool({ id: "c1", name: "ls", at: 0, status: "done", result });
    const c = card(s.el, "c1");
    const pre = c.querySelector(".llmw-tool-result-text");
    const more = c.querySelector("button.llmw-tool-more");
    assert.equal(more.hidden, false);
    assert.equal(more.textContent, "Show all (50 lines)");
    assert.equal(more.getAttribute("aria-expanded"), "false");
    assert.match(pre.textContent, /^line 1\n[\s\S]*line 20\n…$/);
    more.click();
    assert.equal(pre.textContent, result);
    assert.equal(more.getAttribute("aria-expanded"), "true");
    assert.equal(more.textContent, "Show less");
  });

  it("shows a short result whole, without Show all", () => {
    const s = live();
    s.tool({ id: "c1", name: "ls", at: 0, status: "done", result: "a\nb" });
    assert.equal(card(s.el, "c1").querySelector("button.llmw-tool-more").hidden, true);
  });

  it("asks with Allow and Deny while waiting for approval, and hides them after", () => {
    const s = live();
    s.tool({ id: "c1", name: "rm", at: 0, status: "approval", arguments: '{"path":"/tmp/x"}' });
    const c = card(s.el, "c1");
    const allow = c.querySelector("button.llmw-tool-allow");
    assert.equal(c.querySelector(".llmw-tool-approval").hidden, false);
    assert.equal(allow.getAttribute("aria-label"), "Allow rm");
    assert.equal(c.querySelector("button.llmw-tool-deny").getAttribute("aria-label"), "Deny rm");
    s.tool({ id: "c1", status: "running" });
    assert.equal(c.querySelector(".llmw-tool-approval").hidden, true);
  });

  it("sends approve on Allow and disables both buttons", () => {
    const s = live();
    s.tool({ id: "c1", name: "rm", at: 0, status: "approval" });
    const c = card(s.el, "c1");
    c.querySelector("button.llmw-tool-allow").click();
    c.querySelector("button.llmw-tool-allow").click(); // a second click sends nothing
    assert.deepEqual(s.model.sent, [{ type: "approve", id: "c1", allow: true }]);
    assert.equal(c.querySelector("button.llmw-tool-allow").disabled, true);
    assert.equal(c.querySelector("button.llmw-tool-deny").disabled, true);
  });

  it("sends approve with allow false on Deny", () => {
    const s = live();
    s.tool({ id: "c1", name: "rm", at: 0, status: "approval" });
    card(s.el, "c1").querySelector("button.llmw-tool-deny").click();
    assert.deepEqual(s.model.sent, [{ type: "approve", id: "c1", allow: false }]);
  });

  it("marks an error and labels its result as the error", () => {
    const s = live();
    s.tool({ id: "c1", name: "fetch", at: 0, status: "running" });
    s.tool({ id: "c1", status: "error", result: "Timeout after 30 s", is_error: true });
    const c = card(s.el, "c1");
    assert.equal(c.dataset.error, "true");
    assert.equal(c.querySelector(".llmw-tool-result-label").textContent, "Error");
    assert.equal(c.querySelector(".llmw-tool-result-text").textContent, "Timeout after 30 s");
  });

  it("rebuilds from a snapshot with text and two cards the same DOM as live streaming", () => {
    const s = live();
    s.text("# Plan\n\nFirst ");
    s.tool({ id: "a", name: "one", at: 14, status: "streaming" });
    s.args("a", '{"x":1}');
    s.tool({ id: "a", status: "done", result: "1", duration: 0.5 });
    s.text("then **two**:");
    s.tool({ id: "b", name: "two", at: 27, status: "done", arguments: "{}", result: "2" });
    s.text("\n\nDone.");
    s.model.set("status", "done");

    const other = mountStreamView(document, { status: "streaming" });
    other.model.custom({ type: "snapshot", seq: 9, text: s.view.text, tools: s.view.tools });
    other.model.set("status", "done");
    // Element ids are unique in the page, so they differ between the two views.
    const body = (el) =>
      el.querySelector(".llmw-body").innerHTML.replace(/llmw-tool-result-\d+/g, "llmw-tool-result");
    assert.equal(body(other.el), body(s.el));
    assert.deepEqual(layout(other.el), [
      "text:Plan\nFirst",
      "tool:a",
      "text:then two:",
      "tool:b",
      "text:Done.",
    ]);
  });

  it("counts tool messages in seq, so a missing one is a gap", () => {
    const s = live();
    s.text("a");
    s.tool({ id: "c1", name: "x", at: 1, status: "running" });
    s.model.custom({ type: "tool", seq: 4, id: "c1", status: "done" }); // seq 3 is missing
    assert.deepEqual(s.model.sent, [{ type: "hello" }]);
    assert.equal(card(s.el, "c1").dataset.status, "running");
  });

  it("counts tool_call deltas in seq too", () => {
    const s = live();
    s.tool({ id: "c1", name: "x", at: 0, status: "streaming" });
    s.model.custom({ type: "delta", seq: 3, part: "tool_call", id: "c1", text: "{}" });
    assert.deepEqual(s.model.sent, [{ type: "hello" }]);
  });

  it("clears the cards on reset", () => {
    const s = live();
    s.text("a");
    s.tool({ id: "c1", name: "x", at: 1, status: "running" });
    s.text("b");
    s.model.custom({ type: "reset" });
    s.model.custom({ type: "delta", seq: 1, text: "new" });
    assert.equal(cards(s.el).length, 0);
    assert.deepEqual(s.view.tools, []);
    assert.deepEqual(layout(s.el), ["text:new"]);
    assert.equal(s.el.querySelector(".llmw-body").children.length, 1);
  });

  it("shows model strings with <script> and <img onerror> as text", () => {
    const s = live();
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    s.tool({ id: "c1", name: evil, at: 0, status: "done", arguments: evil, result: evil });
    const c = card(s.el, "c1");
    assert.equal(c.querySelector("img"), null);
    assert.equal(c.querySelector("script"), null);
    assert.equal(c.querySelector(".llmw-tool-name").textContent, evil);
    assert.equal(c.querySelector(".llmw-tool-args").textContent, evil);
    assert.equal(c.querySelector(".llmw-tool-result-text").textContent, evil);
  });

  it("splits at the right place after an astral character (at counts code points)", () => {
    const s = live();
    s.text("Hi 😀!"); // 5 code points, 6 UTF-16 code units
    s.tool({ id: "c1", name: "x", at: 5, status: "running" });
    s.text("after");
    assert.deepEqual(layout(s.el), ["text:Hi 😀!", "tool:c1", "text:after"]);
    const other = mountStreamView(document, { status: "streaming" });
    other.model.custom({ type: "snapshot", seq: 3, text: "Hi 😀!after", tools: s.view.tools });
    assert.deepEqual(layout(other.el), ["text:Hi 😀!", "tool:c1", "text:after"]);
  });

  it("places a card that arrives for an earlier place than the end", () => {
    const s = live();
    s.text("one two");
    s.tool({ id: "c1", name: "x", at: 3, status: "running" });
    assert.deepEqual(layout(s.el), ["text:one", "tool:c1", "text:two"]);
    assert.equal(s.view.text, "one two");
  });

  it("keeps the focus on an Allow button when a card is placed before its card", () => {
    const s = live();
    s.text("one two");
    s.tool({ id: "a", name: "rm", at: 7, status: "approval" });
    const allow = card(s.el, "a").querySelector("button.llmw-tool-allow");
    allow.focus();
    s.tool({ id: "b", name: "ls", at: 3, status: "running" });
    assert.deepEqual(layout(s.el), ["text:one", "tool:b", "text:two", "tool:a"]);
    assert.equal(document.activeElement, allow);
  });

  it("keeps parallel calls at one place in the order they came", () => {
    const s = live();
    s.text("Both:");
    s.tool({ id: "a", name: "one", at: 5, status: "running" });
    s.tool({ id: "b", name: "two", at: 5, status: "running" });
    s.text("ok");
    assert.deepEqual(layout(s.el), ["text:Both:", "tool:a", "tool:b", "text:ok"]);
  });

  it("closes the thinking panel when a card comes first", () => {
    const s = live();
    s.model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    s.model.custom({ type: "tool", seq: 2, id: "c1", name: "x", at: 0, status: "running" });
    assert.equal(s.el.querySelector("details.llmw-thinking").open, false);
  });
});

describe("tool cards in saved state", () => {
  it("keeps the cards in the model state when the answer ends", () => {
    const s = live();
    s.text("a");
    s.tool({ id: "c1", name: "x", at: 1, status: "done", arguments: "{}", result: "r" });
    s.text("b");
    s.model.set("status", "done");
    assert.equal(s.model.get("final_text"), "ab");
    assert.deepEqual(s.model.get("final_tools"), [
      { id: "c1", name: "x", at: 1, status: "done", arguments: "{}", result: "r" },
    ]);
  });

  it("renders saved text and cards without a kernel", () => {
    const { el, view } = mountStreamView(document, {
      status: "done",
      final_text: "Before.After.",
      final_tools: [{ id: "c1", name: "x", at: 7, status: "done", arguments: "{}", result: "r" }],
    });
    assert.deepEqual(layout(el), ["text:Before.", "tool:c1", "text:After."]);
    assert.equal(view.text, "Before.After.");
  });

  it("takes the cards the kernel syncs at the end", () => {
    const s = live();
    s.text("Before.After.");
    s.model.set("status", "done");
    s.model.set("final_tools", [{ id: "c1", name: "x", at: 7, status: "done" }]);
    assert.deepEqual(layout(s.el), ["text:Before.", "tool:c1", "text:After."]);
  });
});

describe("the text path without cards", () => {
  it("keeps one markdown segment in the body", () => {
    const s = live();
    s.text("# Title\n\nbody");
    s.model.set("status", "done");
    const body = s.el.querySelector(".llmw-body");
    assert.equal(body.children.length, 1);
    assert.equal(body.firstElementChild.className, "llmw-markdown");
    assert.equal(body.querySelector("h1").textContent, "Title");
  });
});

describe("tool card helpers", () => {
  it("counts code points when walking into a text", () => {
    assert.deepEqual(advance("a😀b", 0, 2), { units: 3, points: 2 });
    assert.deepEqual(advance("ab", 0, 5), { units: 2, points: 2 });
  });

  it("folds after the line limit, or the character limit on few lines", () => {
    const lines = Array.from({ length: RESULT_FOLD.lines + 5 }, () => "x").join("\n");
    assert.equal(foldText(lines).split("\n").length, RESULT_FOLD.lines);
    assert.equal(foldText("y".repeat(RESULT_FOLD.chars + 1)).length, RESULT_FOLD.chars);
    assert.equal(foldText("short"), null);
  });

  it("never folds an astral character in half", () => {
    const text = `${"a".repeat(RESULT_FOLD.chars - 1)}😀tail`;
    assert.equal(foldText(text), "a".repeat(RESULT_FOLD.chars - 1));
  });

  it("pretty-prints whole JSON only", () => {
    assert.equal(prettyJson('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(prettyJson('{"a":'), null);
  });
});
