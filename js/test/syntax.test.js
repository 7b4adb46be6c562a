import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitBlocks } from "../src/blocks.js";
import { findOpenFence, findOpenMathBlock } from "../src/repair.js";
import {
  closesFence,
  countOf,
  FenceTracker,
  fenceOpener,
  findOpenBlock,
  opensMathBlock,
} from "../src/syntax.js";

describe("syntax.js", () => {
  it("fenceOpener reads the marker and skips a backtick info string with a backtick", () => {
    assert.deepEqual(fenceOpener("```py"), { ch: "`", len: 3, indent: "" });
    assert.deepEqual(fenceOpener("   ~~~~ md `x`"), { ch: "~", len: 4, indent: "   " });
    assert.equal(fenceOpener("```a` b"), null);
    assert.equal(fenceOpener("``not"), null);
  });
  it("closesFence needs the same character, at least as many, and nothing else", () => {
    const fence = { ch: "`", len: 4 };
    assert.ok(closesFence("````", fence));
    assert.ok(closesFence("  `````  ", fence));
    assert.ok(!closesFence("```", fence));
    assert.ok(!closesFence("~~~~", fence));
    assert.ok(!closesFence("```` x", fence));
  });
  it("opensMathBlock wants an odd number of $$ on a line that starts with $$", () => {
    assert.ok(opensMathBlock("$$"));
    assert.ok(opensMathBlock("  $$ x"));
    assert.ok(!opensMathBlock("$$x$$"));
    assert.ok(!opensMathBlock("a $$"));
  });
  it("countOf counts without overlaps", () => {
    assert.equal(countOf("$$$$$", "$$"), 2);
    assert.equal(countOf("abc", "$$"), 0);
  });
  it("FenceTracker follows fences and math blocks line by line", () => {
    const t = new FenceTracker();
    assert.equal(t.line("```"), true);
    assert.equal(t.line("$$"), false); // inside the fence: not math
    assert.equal(t.line("```"), false);
    assert.equal(t.inside, false);
    assert.equal(t.line("$$"), true);
    assert.equal(t.math, true);
  });
  it("findOpenBlock gives the opening line's offset", () => {
    assert.deepEqual(findOpenBlock("a\n```js\nx"), {
      start: 2,
      fence: { ch: "`", len: 3, indent: "" },
    });
    assert.deepEqual(findOpenBlock("a\n$$\nx"), { start: 2, fence: null });
    assert.equal(findOpenBlock("```\nx\n```\n$$x$$"), null);
  });
});

describe("the splitter and the repairs agree on fences", () => {
  // "```a`" is inline code, not a fence: the math block after it is open.
  const text = "```a` b\n$$\nx";
  it("findOpenMathBlock applies the backtick guard like the splitter", () => {
    assert.deepEqual(findOpenMathBlock(text), { start: 8 });
    assert.equal(findOpenFence(text), null);
  });
  it("splitBlocks keeps the math block, blank lines and all, as one block", () => {
    assert.deepEqual(splitBlocks("```a` b\n\n$$\nx\n\ny\n$$\n\nafter"), [
      "```a` b\n\n",
      "$$\nx\n\ny\n$$\n\n",
      "after",
    ]);
  });
});
