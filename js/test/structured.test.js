import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { kindOf, parseStreamed, tableKeys } from "../src/structured.js";
import { makeWindow, mountStreamView, unmountViews } from "./helpers.js";

const window = makeWindow();
const { document } = window;

afterEach(unmountViews);

/** A structured stream view that has started streaming. */
function streaming(options) {
  const mounted = mountStreamView(document, { status: "waiting", structured: true }, options);
  mounted.model.set("status", "streaming");
  return mounted;
}

/** Send `pieces` as text deltas from seq `from`. */
function send(model, pieces, from = 1) {
  pieces.forEach((text, i) => {
    model.custom({ type: "delta", seq: from + i, text });
  });
}

/** The value cell of the top-level row labelled `key`. */
function cell(el, key) {
  for (const row of el.querySelectorAll(".llmw-structured-tree .llmw-json-row")) {
    if (row.querySelector(".llmw-json-key").textContent === key) {
      return row.querySelector(".llmw-json-value");
    }
  }
  return null;
}

function tree(el) {
  return el.querySelector(".llmw-structured-tree");
}

function note(el) {
  const n = el.querySelector(".llmw-structured-note");
  return n.hidden ? "" : n.textContent;
}

describe("structured output view", () => {
  it("shows a streamed object's fields, a string value growing across deltas", () => {
    const { model, el } = streaming();
    send(model, ['{"title": "Gre', "at ", 'day", "count": 4']);
    assert.equal(cell(el, "title").textContent, "Great day");
    assert.equal(cell(el, "title").dataset.type, "string");
    assert.equal(cell(el, "count").textContent, "4");
    assert.equal(cell(el, "count").dataset.type, "number");
    const title = cell(el, "title");
    model.custom({ type: "delta", seq: 4, text: ', "more": "it was' });
    model.custom({ type: "delta", seq: 5, text: " sunny" });
    assert.equal(cell(el, "more").textContent, "it was sunny");
    // Drawn in place: the earlier row is the same element, not a rebuilt one.
    assert.equal(cell(el, "title"), title);
  });

  it("hides the markdown body and keeps view.text the whole text", () => {
    const { model, el, view } = streaming();
    send(model, ['{"a": "**b**"}']);
    assert.equal(el.querySelector(".llmw-markdown").textContent, "");
    assert.equal(el.querySelector(".llmw-structured").hidden, false);
    assert.equal(view.text, '{"a": "**b**"}');
    model.set("status", "done");
    assert.equal(model.get("final_text"), '{"a": "**b**"}');
  });

  it("draws nested objects and arrays as open, collapsible branches", () => {
    const { model, el } = streaming();
    send(model, ['{"user": {"name": "Ada", "tags": ["x", 2, true, null]}}']);
    const branches = el.querySelectorAll("details.llmw-json-branch");
    assert.equal(branches.length, 2);
    const [user, tags] = branches;
    assert.equal(user.open, true);
    assert.equal(user.querySelector("summary .llmw-json-key").textContent, "user");
    assert.equal(user.querySelector("summary .llmw-json-count").textContent, "{2}");
    assert.ok(user.contains(tags));
    assert.equal(tags.querySelector("summary .llmw-json-count").textContent, "[4]");
    const values = [...tags.querySelectorAll(".llmw-json-value")];
    assert.deepEqual(
      values.map((v) => [v.dataset.type, v.textContent]),
      [
        ["string", "x"],
        ["number", "2"],
        ["boolean", "true"],
        ["null", "null"],
      ],
    );
    const indexes = [...tags.querySelectorAll(".llmw-json-row > .llmw-json-key")];
    assert.deepEqual(
      indexes.map((k) => k.textContent),
      ["0", "1", "2", "3"],
    );
  });

  it("draws an array of flat objects with the same keys as a table", () => {
    const { model, el } = streaming();
    send(model, ['{"rows": [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c"']);
    const table = el.querySelector("table.llmw-json-table");
    assert.ok(table);
    const head = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    assert.deepEqual(head, ["name", "n"]);
    const rows = [...table.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].map((td) => td.textContent),
    );
    // The last row is still streaming: it has the first key only.
    assert.deepEqual(rows, [
      ["a", "1"],
      ["b", "2"],
      ["c", ""],
    ]);
  });

  it("shows the exact text with the Raw JSON toggle, and the object again", () => {
    const { model, el } = streaming();
    const text = '{\n  "a": [1, 2],\n  "b": "x\\ny"\n}';
    send(model, [text]);
    const button = el.querySelector("button.llmw-structured-toggle");
    const raw = el.querySelector("pre.llmw-structured-raw");
    assert.equal(button.type, "button");
    assert.equal(button.textContent, "Raw JSON");
    assert.equal(button.getAttribute("aria-pressed"), "false");
    assert.equal(raw.hidden, true);
    button.click();
    assert.equal(button.getAttribute("aria-pressed"), "true");
    assert.equal(raw.hidden, false);
    assert.equal(tree(el).hidden, true);
    assert.equal(raw.textContent, text);
    button.click();
    assert.equal(raw.hidden, true);
    assert.equal(tree(el).hidden, false);
  });

  it("keeps the raw text growing while it is shown", () => {
    const { model, el } = streaming();
    send(model, ['{"a": ']);
    el.querySelector("button.llmw-structured-toggle").click();
    send(model, ['"b"}'], 2);
    assert.equal(el.querySelector("pre.llmw-structured-raw").textContent, '{"a": "b"}');
  });

  it("shows a truncated final text as the partial object with 'incomplete JSON'", () => {
    const { model, el } = streaming();
    send(model, ['{"a": 1, "b": "cut of']);
    assert.equal(note(el), "");
    model.set("error", { title: "Stopped", message: "token limit" });
    model.set("status", "error");
    assert.equal(cell(el, "a").textContent, "1");
    assert.equal(cell(el, "b").textContent, "cut of");
    assert.equal(note(el), "incomplete JSON");
  });

  it("has no note when the final text is whole JSON", () => {
    const { model, el } = streaming();
    send(model, ['{"a": 1}']);
    model.set("status", "done");
    assert.equal(note(el), "");
  });

  it("shows an ended answer that is not JSON as raw text, with a note", () => {
    const { model, el } = streaming();
    send(model, ["Sorry, I can't do that."]);
    model.set("status", "done");
    assert.equal(note(el), "not JSON");
    const raw = el.querySelector("pre.llmw-structured-raw");
    assert.equal(raw.hidden, false);
    assert.equal(raw.textContent, "Sorry, I can't do that.");
  });

  it("shows the object again, without the note, when a new answer streams", () => {
    const { model, el } = streaming();
    send(model, ["Sorry."]);
    model.set("status", "done");
    model.custom({ type: "reset" });
    model.set("status", "streaming");
    send(model, ['{"a": 1'], 1);
    assert.equal(note(el), "");
    assert.equal(tree(el).hidden, false);
    assert.equal(cell(el, "a").textContent, "1");
  });

  it("renders model strings with markup as text", () => {
    const { model, el } = streaming();
    const evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    send(model, [JSON.stringify({ [evil]: evil, rows: [{ [evil]: evil }] })]);
    model.set("status", "done");
    const structured = el.querySelector(".llmw-structured");
    assert.equal(structured.querySelector("script, img"), null);
    assert.equal(cell(el, evil).textContent, evil);
    assert.equal(structured.querySelector("th").textContent, evil);
    assert.equal(structured.querySelector("td").textContent, evil);
  });

  it("changes nothing when structured is false", () => {
    const { model, el, view } = mountStreamView(document, { status: "waiting" });
    model.set("status", "streaming");
    send(model, ['{"a": "**b**"}']);
    assert.equal(el.querySelector(".llmw-structured"), null);
    assert.equal(view.structured, false);
    assert.match(el.querySelector(".llmw-markdown").innerHTML, /<strong>b<\/strong>/);
  });

  it("renders the object from a snapshot after a reload", () => {
    const { model, el, view } = mountStreamView(document, {
      status: "streaming",
      structured: true,
    });
    assert.deepEqual(model.sent, [{ type: "hello" }]);
    model.custom({ type: "snapshot", seq: 3, text: '{"city": "Oslo", "temp": -2' });
    model.custom({ type: "delta", seq: 4, text: ".5}" });
    assert.equal(cell(el, "city").textContent, "Oslo");
    assert.equal(cell(el, "temp").textContent, "-2.5");
    assert.equal(view.text, '{"city": "Oslo", "temp": -2.5}');
  });

  it("renders the saved final text when reopened without a kernel", () => {
    const { el } = mountStreamView(document, {
      status: "done",
      structured: true,
      final_text: '{"ok": true}',
    });
    assert.equal(cell(el, "ok").textContent, "true");
    assert.equal(cell(el, "ok").dataset.type, "boolean");
    assert.equal(note(el), "");
  });

  it("switches between markdown and the object when the trait changes", () => {
    const { model, el } = mountStreamView(document, { status: "waiting" });
    model.set("status", "streaming");
    send(model, ['{"a": "b"']);
    model.set("structured", true);
    assert.equal(cell(el, "a").textContent, "b");
    assert.equal(el.querySelector(".llmw-markdown").textContent, "");
    model.set("structured", false);
    assert.equal(el.querySelector(".llmw-structured").hidden, true);
    assert.equal(el.querySelector(".llmw-markdown").textContent.trim(), '{"a": "b"');
  });

  it("parses at most once per frame", () => {
    const frames = [];
    const { model, el } = streaming({ schedule: (cb) => frames.push(cb) });
    send(model, ['{"a": "x', "y", "z"]);
    assert.equal(frames.length, 1);
    assert.equal(cell(el, "a"), null);
    frames.shift()();
    assert.equal(cell(el, "a").textContent, "xyz");
  });

  it("reads the object from the text after the last tool card", () => {
    const { model, el } = streaming();
    send(model, ["Checking."]);
    model.custom({ type: "tool", seq: 2, id: "0.0", name: "lookup", at: 9, status: "done" });
    send(model, ['{"found": 3}'], 3);
    assert.equal(cell(el, "found").textContent, "3");
    assert.ok(el.querySelector(".llmw-body .llmw-tool"));
  });

  it("starts over on a reset", () => {
    const { model, el } = streaming();
    send(model, ['{"a": 1}']);
    model.custom({ type: "reset" });
    send(model, ['{"b": 2}']);
    assert.equal(cell(el, "a"), null);
    assert.equal(cell(el, "b").textContent, "2");
  });
});

describe("structured helpers", () => {
  it("reads partial JSON and says whether an ended text was whole", () => {
    assert.deepEqual(parseStreamed('{"a": [1, "b'), { value: { a: [1, "b"] }, complete: false });
    assert.deepEqual(parseStreamed('{"a": 1}', true), { value: { a: 1 }, complete: true });
    assert.equal(parseStreamed("   "), null);
  });

  it("takes a table only for flat objects with the same keys", () => {
    assert.deepEqual(tableKeys([{ a: 1, b: 2 }, { a: 3 }]), ["a", "b"]);
    assert.equal(tableKeys([{ a: 1 }, { b: 2 }]), null);
    assert.equal(tableKeys([{ a: 1 }, { a: 2, b: 3 }]), null);
    assert.equal(tableKeys([{ a: { b: 1 } }]), null);
    assert.equal(tableKeys([{}]), null);
    assert.equal(kindOf([1, 2]), "array");
  });
});
