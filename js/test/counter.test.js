import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCounter, formatCost, formatMetrics, formatTokens } from "../src/counter.js";
import { makeWindow } from "./helpers.js";

describe("counter formatting", () => {
  it("marks estimated token counts with a tilde", () => {
    assert.equal(formatTokens(123, true), "~123 tokens");
  });
  it("shows exact token counts without a tilde", () => {
    assert.equal(formatTokens(123, false), "123 tokens");
  });
  it("uses the singular for one token", () => {
    assert.equal(formatTokens(1, false), "1 token");
  });
  it("formats rate, time to first token and elapsed time", () => {
    const text = formatMetrics({
      output_tokens: 10,
      estimated: false,
      tokens_per_second: 45.23,
      ttft: 0.314,
      elapsed: 2.44,
      cost: null,
      input_tokens: null,
    });
    assert.deepEqual(text, {
      tokens: "10 tokens",
      tps: "45.2 tok/s",
      ttft: "TTFT 0.31 s",
      elapsed: "elapsed 2.4 s",
      cost: "",
    });
  });
  it("leaves unknown values empty", () => {
    assert.deepEqual(formatMetrics({ output_tokens: 0, estimated: true }), {
      tokens: "~0 tokens",
      tps: "",
      ttft: "",
      elapsed: "",
      cost: "",
    });
  });
  it("formats costs with enough digits to be non-zero", () => {
    assert.equal(formatCost(0.0012), "$0.0012");
    assert.equal(formatCost(0.000034), "$0.000034");
    assert.equal(formatCost(1.5), "$1.50");
    assert.equal(formatCost(null), "");
  });
  it("hides the parts that are unknown and shows the rest", () => {
    const { document } = makeWindow();
    const counter = createCounter(document);
    counter.update({ output_tokens: 5, estimated: true, cost: 0.0012 });
    const el = counter.element;
    assert.equal(el.querySelector(".llmw-tokens").textContent, "~5 tokens");
    assert.equal(el.querySelector(".llmw-cost").textContent, "$0.0012");
    assert.equal(el.querySelector(".llmw-tps").hidden, true);
  });
});
