import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { safeThumbnail } from "../src/sent.js";
import { makeWindow, mountStreamView, unmountViews } from "./helpers.js";

const window = makeWindow();
const { document } = window;

afterEach(unmountViews);

const PIXEL = "data:image/png;base64,iVBORw0KGgo=";
const TABLE = {
  kind: "table",
  label: "pandas DataFrame: 3 rows × 1 columns",
  text: "| a |\n| 1 |",
};

function strip(el) {
  return el.querySelector(".llmw-sent");
}

describe("what the prompt sent", () => {
  it("is hidden for a prompt of words only", () => {
    const { el } = mountStreamView(document, { status: "done", sent: [] });
    assert.equal(strip(el).hidden, true);
  });

  it("shows an image as a thumbnail above the answer", () => {
    const { el } = mountStreamView(document, {
      status: "waiting",
      sent: [{ kind: "image", label: "image 1", src: PIXEL, info: "PNG · 2 KB" }],
    });
    const img = el.querySelector(".llmw-sent-image img");
    assert.equal(img.getAttribute("src"), PIXEL);
    assert.equal(el.querySelector(".llmw-sent-image figcaption").textContent, "image 1");
    const order = [...el.querySelector(".llmw-stream").children].map((c) => c.className);
    assert.ok(order.indexOf("llmw-sent") < order.indexOf("llmw-body"));
  });

  it("shows a table collapsed, its label as the summary and its text as plain text", () => {
    const { el } = mountStreamView(document, { status: "waiting", sent: [TABLE] });
    const details = el.querySelector("details.llmw-sent-table");
    assert.equal(details.open, false);
    assert.equal(details.querySelector("summary").textContent, TABLE.label);
    assert.equal(details.querySelector("pre").textContent, TABLE.text);
  });

  it("follows the trait when the widget starts another answer", () => {
    const { model, el } = mountStreamView(document, { status: "waiting", sent: [TABLE] });
    model.set("sent", []);
    assert.equal(strip(el).hidden, true);
  });

  it("draws no image whose source is not an inline image", () => {
    assert.equal(safeThumbnail("https://example.org/a.png"), "");
    assert.equal(safeThumbnail("data:text/html;base64,PGI+"), "");
    assert.equal(safeThumbnail(PIXEL), PIXEL);
  });
});
