import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import loader, { noteSlowAssets, WAIT_HINT_MS } from "../src/loader.js";
import { HostModel, makeWindow } from "./helpers.js";

const window = makeWindow();
const { document } = window;

function output() {
  const el = document.createElement("div");
  document.body.appendChild(el);
  return el;
}

/** A widget whose shared assets model is asked for and answers `reply` (a promise). */
function widgetWaitingFor(reply) {
  const model = new HostModel({ _assets: `IPY_MODEL_${Math.random()}` });
  model.widget_manager = { get_model: () => reply };
  return model;
}

describe("a view whose code is slow to arrive", () => {
  it("says nothing while the wait is short", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const el = output();
      const done = noteSlowAssets(el);
      mock.timers.tick(WAIT_HINT_MS - 1);
      assert.equal(el.textContent, "");
      done();
      mock.timers.tick(WAIT_HINT_MS);
      assert.equal(el.textContent, "");
    } finally {
      mock.timers.reset();
    }
  });

  it("says what to do once the wait is long, and the note goes when the code arrives", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const el = output();
      const done = noteSlowAssets(el);
      mock.timers.tick(WAIT_HINT_MS);
      assert.match(el.textContent, /re-run this cell/);
      assert.equal(el.querySelector(".llmw-loading").getAttribute("role"), "status");
      done();
      assert.equal(el.textContent, "");
    } finally {
      mock.timers.reset();
    }
  });

  it("shows the note while rendering waits on an assets model that never answers", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const el = output();
      loader.render({ model: widgetWaitingFor(new Promise(() => {})), el });
      mock.timers.tick(WAIT_HINT_MS);
      assert.match(el.textContent, /still waiting for the widget's code/);
    } finally {
      mock.timers.reset();
    }
  });

  it("replaces the note with the failure when the assets model cannot be had", async () => {
    const el = output();
    let fail;
    const model = widgetWaitingFor(new Promise((_, reject) => (fail = reject)));
    mock.timers.enable({ apis: ["setTimeout"] });
    let rendering;
    try {
      rendering = loader.render({ model, el });
      mock.timers.tick(WAIT_HINT_MS);
      assert.match(el.textContent, /still waiting/);
    } finally {
      mock.timers.reset();
    }
    fail(new Error("no such model"));
    await rendering;
    assert.doesNotMatch(el.textContent, /still waiting/);
    assert.match(el.textContent, /failed to load \(Error: no such model\)\. Re-run this cell\./);
  });
});
