import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { renderChat, renderCompare, views } from "../src/containers.js";
import { HostModel, makeWindow } from "./helpers.js";

const window = makeWindow();
const { document } = window;

/** A host (anywidget's front end) holding child models by id, as `widget_manager` sees them. */
class Host {
  constructor() {
    this.models = new Map();
    this.asked = [];
    this.widget_manager = {
      get_model: async (id) => {
        this.asked.push(id);
        const model = this.models.get(id);
        if (!model) throw new Error(`Model not found for key: ${id}`);
        return model;
      },
    };
  }

  /** A child stream model with `state`; returns [reference as the kernel sends it, model]. */
  stream(id, state) {
    const model = new HostModel(state);
    this.models.set(id, model);
    return [`IPY_MODEL_${id}`, model];
  }

  /** The container's own model. */
  container(state) {
    const model = new HostModel(state);
    model.widget_manager = this.widget_manager;
    return model;
  }
}

const cleanups = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function mount(render, model) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(render({ model, el }, { schedule: null }));
  return el;
}

/** Let the views' pending get_model calls settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the chat view", () => {
  it("draws user text as text, never as HTML", async () => {
    const host = new Host();
    const text = "<img src=x onerror=alert(1)> & <b>bold</b>";
    const chat = host.container({ turns: [{ role: "user", text }] });
    const el = mount(renderChat, chat);
    await settle();
    const turn = el.querySelector(".llmw-chat-transcript .llmw-user-turn");
    assert.equal(turn.textContent, text);
    assert.equal(el.querySelector("img, b"), null);
  });

  it("draws each answer with the stream view of the model its reference names", async () => {
    const host = new Host();
    const [ref] = host.stream("a1", { status: "done", final_text: "Some **bold** answer" });
    const chat = host.container({
      turns: [
        { role: "user", text: "Q" },
        { role: "assistant", answer: ref },
      ],
    });
    const el = mount(renderChat, chat);
    await settle();
    assert.deepEqual(host.asked, ["a1"]);
    const answer = el.querySelector(".llmw-chat-transcript .llmw-chat-answer .llmw-stream");
    assert.equal(answer.dataset.status, "done");
    assert.equal(answer.querySelector(".llmw-body strong").textContent, "bold");
  });

  it("keeps a streaming answer's view when a turn is added, and drops a removed one", async () => {
    const host = new Host();
    const [ref, first] = host.stream("a1", { status: "waiting" });
    const chat = host.container({
      turns: [
        { role: "user", text: "Q" },
        { role: "assistant", answer: ref },
      ],
    });
    const el = mount(renderChat, chat);
    await settle();
    const before = el.querySelector(".llmw-stream");
    first.custom({ type: "delta", seq: 1, text: "Hello" });
    const [ref2] = host.stream("a2", { status: "waiting" });
    chat.set("turns", [
      ...chat.get("turns"),
      { role: "user", text: "Q2" },
      { role: "assistant", answer: ref2 },
    ]);
    await settle();
    const streams = el.querySelectorAll(".llmw-stream");
    assert.equal(streams.length, 2);
    assert.equal(streams[0], before); // the same node, not redrawn
    assert.equal(streams[0].querySelector(".llmw-body").textContent.trim(), "Hello");
    assert.equal(host.asked.filter((id) => id === "a1").length, 1);

    chat.set("turns", []);
    await settle();
    assert.equal(el.querySelectorAll(".llmw-stream, .llmw-user-turn").length, 0);
    assert.equal(first.handlers.get("msg:custom")?.size ?? 0, 0); // unbound
  });

  it("shows the input box from the chat's own traits and reports to the chat", async () => {
    const host = new Host();
    const chat = host.container({ turns: [], busy: false, has_turns: false, placeholder: "Ask" });
    const el = mount(renderChat, chat);
    const box = el.querySelector("textarea.llmw-chat-text");
    assert.equal(box.placeholder, "Ask");
    box.value = "Hi";
    box.dispatchEvent(new window.KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    assert.deepEqual(chat.sent, [{ type: "send", text: "Hi" }]);
    chat.set("busy", true);
    assert.equal(el.querySelector("button.llmw-chat-stop").disabled, false);
  });

  it("says to re-run the cell when an answer's model is gone", async () => {
    const host = new Host();
    const chat = host.container({ turns: [{ role: "assistant", answer: "IPY_MODEL_gone" }] });
    const el = mount(renderChat, chat);
    await settle();
    assert.match(el.querySelector(".llmw-chat-answer").textContent, /Re-run this cell/);
  });
});

describe("the comparison view", () => {
  function comparison(state = {}) {
    const host = new Host();
    const [a] = host.stream("p1", { status: "streaming" });
    const [b] = host.stream("p2", { status: "streaming" });
    const model = host.container({
      panes: [a, b],
      titles: ["left", ""],
      columns: "repeat(auto-fit, minmax(min(320px, 100%), 1fr))",
      summary: "",
      ended: false,
      ...state,
    });
    return { model, el: mount(renderCompare, model) };
  }

  it("draws the panes in a wrapping grid, titled where the kernel says", async () => {
    const { el } = comparison();
    await settle();
    const grid = el.querySelector(".llmw-compare-grid");
    assert.equal(grid.style.gridTemplateColumns, "repeat(auto-fit, minmax(min(320px, 100%), 1fr))");
    const cells = grid.querySelectorAll(".llmw-compare-cell");
    assert.equal(cells.length, 2);
    assert.equal(cells[0].querySelector(".llmw-compare-title").textContent, "left");
    assert.equal(cells[1].querySelector(".llmw-compare-title"), null);
    assert.equal(grid.querySelectorAll(".llmw-stream").length, 2);
  });

  it("sends stop_all from Stop all, which is disabled once every pane has ended", () => {
    const { model, el } = comparison();
    const stop = el.querySelector("button.llmw-compare-stop-all");
    stop.click();
    assert.deepEqual(model.sent, [{ type: "stop_all" }]);
    model.set("ended", true);
    assert.equal(stop.disabled, true);
  });

  it("shows the summary the kernel built, sanitised", () => {
    const { model, el } = comparison();
    model.set(
      "summary",
      '<table class="llmw-compare-table"><tr><td>1</td></tr></table><script>x()</script><img src=x onerror=alert(1)>',
    );
    const summary = el.querySelector(".llmw-compare-summary");
    assert.ok(summary.querySelector("table.llmw-compare-table"));
    assert.equal(summary.querySelector("script"), null);
    assert.equal(summary.querySelector("img")?.getAttribute("onerror") ?? null, null);
  });
});

describe("the loader's choice of view", () => {
  it("names the chat and the comparison", () => {
    assert.equal(views.chat.render, renderChat);
    assert.equal(views.compare.render, renderCompare);
  });
});
