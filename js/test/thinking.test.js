import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { formatMetrics, formatThinking } from "../src/counter.js";
import { thinkingLabel } from "../src/thinking.js";
import { makeWindow, mountStreamView, unmountViews } from "./helpers.js";

const window = makeWindow();
const { document } = window;

afterEach(unmountViews);

const mount = (state) => mountStreamView(document, state);

function panel(el) {
  return el.querySelector("details.llmw-thinking");
}

function summary(el) {
  return el.querySelector(".llmw-thinking-summary").textContent;
}

describe("thinking panel", () => {
  it("is hidden for an answer without thinking", () => {
    const { model, el } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, text: "Hi" });
    assert.equal(panel(el).hidden, true);
  });

  it("opens and streams the thinking while the model thinks", () => {
    const { model, el, view } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "The user " });
    model.custom({ type: "delta", seq: 2, part: "thinking", text: "wants a greeting." });
    assert.equal(panel(el).hidden, false);
    assert.equal(panel(el).open, true);
    assert.equal(el.querySelector(".llmw-thinking-body").textContent, "The user wants a greeting.");
    assert.equal(view.thinkingText, "The user wants a greeting.");
    assert.equal(view.text, "");
    assert.match(summary(el), /^thinking…/);
  });

  it("collapses with a summary once the answer starts", () => {
    const { model, el, view } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    model.custom({
      type: "delta",
      seq: 2,
      text: "Hi",
      metrics: { thinking_tokens: 840, thinking_estimated: false, thinking_time: 12.2, ttft: 12.2 },
    });
    assert.equal(panel(el).open, false);
    assert.equal(summary(el), "Thought for 12 s · 840 tokens");
    assert.equal(view.text, "Hi");
  });

  it("stays open once the person opened it again", () => {
    const { model, el } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    model.custom({ type: "delta", seq: 2, text: "Hi" });
    el.querySelector("summary").click(); // the person expands it
    panel(el).open = true;
    model.custom({ type: "delta", seq: 3, text: " there" });
    model.set("status", "done");
    assert.equal(panel(el).open, true);
  });

  it("shares the seq sequence with the text, so a missing thinking delta is a gap", () => {
    const { model } = mount({ status: "waiting" });
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "a" });
    model.custom({ type: "delta", seq: 3, text: "c" });
    assert.deepEqual(model.sent, [{ type: "hello" }]);
  });

  it("takes the thinking back from a snapshot", () => {
    const { model, el, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 4, text: "Hi", thinking: "Hmm, a greeting." });
    model.custom({ type: "delta", seq: 5, text: "!" });
    assert.equal(view.thinkingText, "Hmm, a greeting.");
    assert.equal(view.text, "Hi!");
    assert.equal(panel(el).open, false);
  });

  it("keeps the thinking in the model state when the answer ends", () => {
    const { model } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    model.custom({ type: "delta", seq: 2, text: "Hi" });
    model.set("status", "done");
    assert.equal(model.get("final_thinking"), "Hmm.");
  });

  it("shows saved thinking collapsed when a notebook is reopened without a kernel", () => {
    const { el, view } = mount({
      status: "done",
      final_text: "Hi",
      final_thinking: "Hmm.",
      metrics: { output_tokens: 5, estimated: false, thinking_tokens: 3, thinking_time: 1.24 },
    });
    assert.equal(view.thinkingText, "Hmm.");
    assert.equal(panel(el).hidden, false);
    assert.equal(panel(el).open, false);
    assert.equal(summary(el), "Thought for 1.2 s · 3 tokens");
  });

  it("is cleared by a reset", () => {
    const { model, el, view } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    model.custom({ type: "reset" });
    model.set("metrics", { output_tokens: 0, estimated: true });
    assert.equal(view.thinkingText, "");
    assert.equal(panel(el).hidden, true);
  });

  it("shows 'thinking…' with the count when the model reports tokens but no text", () => {
    const { model, el } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.set("metrics", { output_tokens: 300, thinking_tokens: 300, thinking_estimated: false });
    assert.equal(panel(el).hidden, false);
    assert.equal(summary(el), "thinking… · 300 tokens");
  });

  it("says the model did not share its thinking when it reported only a count", () => {
    const { model, el } = mount({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({
      type: "delta",
      seq: 1,
      text: "Hi",
      metrics: { thinking_tokens: 300, thinking_estimated: false, thinking_time: 2, ttft: 2 },
    });
    model.set("status", "done");
    assert.equal(summary(el), "Thought for 2.0 s · 300 tokens");
    assert.equal(el.querySelector(".llmw-thinking-note").hidden, false);
  });

  it("is a details element whose summary the keyboard reaches", () => {
    const { model, el } = mount({ status: "waiting" });
    model.custom({ type: "delta", seq: 1, part: "thinking", text: "Hmm." });
    assert.equal(panel(el).tagName, "DETAILS");
    assert.equal(panel(el).firstElementChild.tagName, "SUMMARY");
  });
});

describe("thinking label", () => {
  it("marks an estimated count", () => {
    const label = thinkingLabel({
      thinking: false,
      metrics: { thinking_tokens: 40, thinking_estimated: true, thinking_time: 30.4 },
    });
    assert.equal(label, "Thought for 30 s · ~40 tokens");
  });
});

describe("counter with thinking", () => {
  it("counts answer tokens apart from thinking tokens", () => {
    const m = {
      output_tokens: 1000,
      estimated: false,
      thinking_tokens: 840,
      thinking_estimated: false,
    };
    assert.equal(formatMetrics(m).tokens, "160 tokens");
    assert.equal(formatThinking(m)["thinking-tokens"], "840 thinking");
  });

  it("shows the time to the first thinking token next to the time to first visible token", () => {
    const m = { ttft: 2.5, thinking_ttft: 0.31 };
    assert.equal(formatMetrics(m).ttft, "TTFT 2.50 s");
    assert.equal(formatThinking(m)["thinking-ttft"], "first thought 0.31 s");
  });

  it("shows nothing about thinking for an answer without it", () => {
    assert.deepEqual(formatThinking({ output_tokens: 3 }), {
      "thinking-tokens": "",
      "thinking-ttft": "",
    });
  });
});
