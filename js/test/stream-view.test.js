import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { bindStreamView } from "../src/stream.js";
import { HostModel, makeWindow, mountStreamView, unmountViews } from "./helpers.js";

const window = makeWindow();
const { document } = window;

afterEach(unmountViews);

const mount = (state) => mountStreamView(document, state);

function bodyText(el) {
  return el.querySelector(".llmw-body").textContent.trim();
}

describe("StreamView protocol", () => {
  it("says hello when it renders a stream already under way", () => {
    const { model } = mount({ status: "streaming" });
    assert.deepEqual(model.sent, [{ type: "hello" }]);
  });

  for (const status of ["idle", "waiting"]) {
    it(`takes deltas from seq 1 without a snapshot when it renders while ${status}`, () => {
      const { model, view } = mount({ status });
      model.custom({ type: "delta", seq: 1, text: "Hel" });
      model.custom({ type: "delta", seq: 2, text: "lo" });
      assert.deepEqual(model.sent, []);
      assert.equal(view.text, "Hello");
    });
  }

  it("applies a snapshot and then the deltas after it", () => {
    const { model, el, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 2, text: "Hello" });
    model.custom({ type: "delta", seq: 3, text: " **world**" });
    assert.equal(view.text, "Hello **world**");
    assert.equal(el.querySelector(".llmw-body strong").textContent, "world");
  });

  it("ignores deltas already covered by the snapshot", () => {
    const { model, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 2, text: "ab" });
    model.custom({ type: "delta", seq: 2, text: "b" });
    model.custom({ type: "delta", seq: 3, text: "c" });
    assert.equal(view.text, "abc");
  });

  it("asks for a snapshot once when a delta is missing", () => {
    const { model, view } = mount({ status: "streaming" });
    model.custom({ type: "reset" });
    model.custom({ type: "delta", seq: 1, text: "a" });
    model.sent.length = 0;
    model.custom({ type: "delta", seq: 3, text: "c" });
    model.custom({ type: "delta", seq: 4, text: "d" });
    assert.deepEqual(model.sent, [{ type: "hello" }]);
    model.custom({ type: "snapshot", seq: 4, text: "abcd" });
    model.custom({ type: "delta", seq: 5, text: "e" });
    assert.equal(view.text, "abcde");
  });

  it("starts over on reset and expects seq 1", () => {
    const { model, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 7, text: "old answer" });
    model.custom({ type: "reset" });
    model.custom({ type: "delta", seq: 1, text: "new" });
    assert.equal(view.text, "new");
  });

  it("ignores a stale snapshot meant for another view", () => {
    const { model, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 5, text: "abcde" });
    model.custom({ type: "snapshot", seq: 3, text: "abc" });
    assert.equal(view.text, "abcde");
  });

  it("takes the final text trait as authoritative", () => {
    const { model, view } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 1, text: "partial garbled" });
    model.set("status", "done");
    model.set("final_text", "The real answer.");
    assert.equal(view.text, "The real answer.");
  });

  it("keeps the assembled answer in the model's own state when the stream ends", () => {
    const { model } = mount({ status: "streaming" });
    model.custom({ type: "reset" });
    model.custom({ type: "delta", seq: 1, text: "# Title\n\n" });
    model.custom({ type: "delta", seq: 2, text: "body" });
    assert.equal(model.get("final_text"), undefined);
    model.set("status", "done");
    assert.equal(model.get("final_text"), "# Title\n\nbody");
    assert.deepEqual(
      model.sent.map((m) => m.type),
      ["hello"],
      "nothing but the hello goes back to the kernel",
    );
  });

  it("does not keep a final text while a snapshot is still awaited", () => {
    const { model } = mount({ status: "streaming" });
    model.custom({ type: "reset" });
    model.custom({ type: "delta", seq: 1, text: "a" });
    model.custom({ type: "delta", seq: 3, text: "c" }); // a gap: asks for a snapshot
    model.set("status", "done");
    assert.equal(model.get("final_text"), undefined);
    model.custom({ type: "snapshot", seq: 3, text: "abc" });
    assert.equal(model.get("final_text"), "abc");
  });

  it("shows the metrics a delta carries", () => {
    const { model, el } = mount({ status: "streaming" });
    model.custom({ type: "reset" });
    model.custom({
      type: "delta",
      seq: 1,
      text: "hi",
      metrics: { output_tokens: 42, estimated: true },
    });
    assert.equal(el.querySelector(".llmw-tokens").textContent, "~42 tokens");
  });

  it("renders saved state without a kernel", () => {
    const { el, model } = mount({ status: "done", final_text: "# Saved\n\nanswer" });
    assert.equal(el.querySelector(".llmw-body h1").textContent, "Saved");
    assert.equal(model.sent[0].type, "hello");
  });

  it("ends two views of one model identical", () => {
    const model = new HostModel({ status: "streaming" });
    const a = document.createElement("div");
    const b = document.createElement("div");
    bindStreamView(model, a, { schedule: null });
    model.custom({ type: "reset" });
    model.custom({ type: "delta", seq: 1, text: "# Ti" });
    bindStreamView(model, b, { schedule: null });
    model.custom({ type: "snapshot", seq: 1, text: "# Ti" }); // the kernel's answer to b
    model.custom({ type: "delta", seq: 2, text: "tle\n\n```py\nx = 1\n" });
    model.custom({ type: "delta", seq: 3, text: "```\n\nend" });
    model.set("status", "done");
    model.set("text", "# Title\n\n```py\nx = 1\n```\n\nend");
    assert.equal(a.innerHTML, b.innerHTML);
    assert.equal(a.querySelector("h1").textContent, "Title");
  });
});

describe("StreamView controls", () => {
  it("enables Stop only while waiting or streaming", () => {
    const { model, el } = mount({ status: "waiting" });
    const stop = el.querySelector("button.llmw-stop");
    assert.equal(stop.disabled, false);
    model.set("status", "streaming");
    assert.equal(stop.disabled, false);
    model.set("status", "done");
    assert.equal(stop.disabled, true);
  });

  it("sends stop when Stop is clicked", () => {
    const { model, el } = mount({ status: "streaming" });
    el.querySelector("button.llmw-stop").click();
    assert.deepEqual(model.sent.at(-1), { type: "stop" });
    assert.equal(el.querySelector("button.llmw-stop").disabled, true);
  });

  it("reflects the status on the root element", () => {
    const { model, el } = mount();
    model.set("status", "streaming");
    assert.equal(el.querySelector(".llmw-stream").dataset.status, "streaming");
  });

  it("shows the error as text below the partial answer", () => {
    const { model, el } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 1, text: "partial" });
    model.set("error", { title: "RateLimitError", message: "<b>slow down</b>" });
    model.set("status", "error");
    const box = el.querySelector(".llmw-error");
    assert.equal(box.hidden, false);
    assert.equal(box.textContent, "RateLimitError: <b>slow down</b>");
    assert.equal(box.querySelector("b"), null);
    assert.equal(bodyText(el), "partial");
  });

  it("shows the model label and note", () => {
    const { el } = mount({ model_label: "openai:gpt-4o-mini", label_note: "tiny model" });
    assert.equal(el.querySelector(".llmw-model").textContent, "openai:gpt-4o-mini");
    assert.equal(el.querySelector(".llmw-note").textContent, "tiny model");
  });

  it("updates the counter from metrics", () => {
    const { model, el } = mount({ status: "streaming" });
    model.set("metrics", { output_tokens: 42, estimated: true, tokens_per_second: 12.34 });
    assert.equal(el.querySelector(".llmw-tokens").textContent, "~42 tokens");
    assert.equal(el.querySelector(".llmw-tps").textContent, "12.3 tok/s");
  });

  it("puts a Copy button on each code block", () => {
    const { model, el } = mount({ status: "streaming" });
    model.custom({ type: "snapshot", seq: 1, text: "```py\nprint(1)\n```\n" });
    const button = el.querySelector(".llmw-code button.llmw-copy");
    assert.ok(button);
    assert.equal(button.textContent, "Copy");
  });

  it("removes its listeners and DOM on cleanup", () => {
    const { model, el, cleanup } = mount({ status: "streaming" });
    cleanup();
    assert.equal(el.querySelector(".llmw-stream"), null);
    for (const set of model.handlers.values()) assert.equal(set.size, 0);
  });
});

/** A clock the test moves by hand; intervals run when it is advanced. */
function fakeClock() {
  const clock = {
    t: 0,
    timers: new Map(),
    next: 1,
    now: () => clock.t,
    setInterval(fn, ms) {
      const id = clock.next++;
      clock.timers.set(id, { fn, ms, due: clock.t + ms });
      return id;
    },
    clearInterval(id) {
      clock.timers.delete(id);
    },
    advance(ms) {
      const end = clock.t + ms;
      for (;;) {
        const due = [...clock.timers.values()].filter((t) => t.due <= end);
        if (!due.length) break;
        const first = due.reduce((a, b) => (a.due <= b.due ? a : b));
        clock.t = first.due;
        first.due += first.ms;
        first.fn();
      }
      clock.t = end;
    },
  };
  return clock;
}

function mountWithClock(state) {
  const clock = fakeClock();
  return { ...mountStreamView(document, state, { clock }), clock };
}

describe("StreamView while nothing arrives", () => {
  it("moves the elapsed time on between the kernel's updates", () => {
    const { model, el, clock } = mountWithClock({ status: "waiting" });
    model.custom({ type: "delta", seq: 1, text: "a", metrics: { elapsed: 1.0 } });
    clock.advance(2000);
    assert.equal(el.querySelector(".llmw-elapsed").textContent, "elapsed 3.0 s");
  });

  it("says it is waiting for data after a few quiet seconds, and stops saying so on data", () => {
    const { model, el, clock } = mountWithClock({ status: "waiting" });
    model.set("status", "streaming");
    model.custom({ type: "delta", seq: 1, text: "a" });
    clock.advance(12_000);
    assert.equal(el.querySelector(".llmw-status").textContent, "waiting for data · 12 s");
    model.custom({ type: "delta", seq: 2, text: "b" });
    clock.advance(1000);
    assert.equal(el.querySelector(".llmw-status").textContent, "streaming");
  });

  it("stops ticking once the stream has ended", () => {
    const { model, clock } = mountWithClock({ status: "streaming" });
    model.set("status", "error");
    assert.equal(clock.timers.size, 0);
  });
});

describe("StreamView while queued behind another answer", () => {
  it("says queued and keeps Stop enabled", () => {
    const { model, el } = mount({ status: "waiting" });
    model.set("status", "queued");
    assert.equal(el.querySelector(".llmw-status").textContent, "queued");
    assert.equal(el.querySelector(".llmw-stop").disabled, false);
  });

  it("lets Stop cancel a queued answer", () => {
    const { model, el } = mount({ status: "queued" });
    el.querySelector(".llmw-stop").click();
    assert.deepEqual(model.sent.at(-1), { type: "stop" });
  });

  it("keeps saying queued however long the wait, with the elapsed time ticking", () => {
    const { model, el, clock } = mountWithClock({ status: "waiting" });
    model.set("metrics", { elapsed: 0.5 });
    model.set("status", "queued");
    clock.advance(20_000);
    assert.equal(el.querySelector(".llmw-status").textContent, "queued");
    assert.equal(el.querySelector(".llmw-elapsed").textContent, "elapsed 20.5 s");
  });

  it("counts quiet seconds from the end of the queue, not from the start", () => {
    const { model, el, clock } = mountWithClock({ status: "queued" });
    clock.advance(20_000);
    model.set("status", "waiting");
    clock.advance(1000);
    assert.equal(el.querySelector(".llmw-status").textContent, "waiting…");
    clock.advance(3000);
    assert.equal(el.querySelector(".llmw-status").textContent, "waiting for data · 4 s");
  });
});

describe("StreamView end states", () => {
  it("resets the Stop label once the stream has stopped", () => {
    const { model, el } = mount({ status: "streaming" });
    el.querySelector(".llmw-stop").click();
    assert.equal(el.querySelector(".llmw-stop").textContent, "Stopping…");
    model.set("status", "stopped");
    const button = el.querySelector(".llmw-stop");
    assert.equal(button.textContent, "Stop");
    assert.equal(button.disabled, true);
  });

  it("says an answer cut by the token limit stopped there, not that it is done", () => {
    const { model, el } = mount({ status: "streaming" });
    model.set("metrics", { output_tokens: 64, estimated: false, finish_reason: "length" });
    model.set("status", "done");
    assert.equal(el.querySelector(".llmw-status").textContent, "stopped: token limit");
  });
});
