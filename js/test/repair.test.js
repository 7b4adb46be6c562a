import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRenderer } from "../src/markdown.js";
import {
  closeFence,
  closeInline,
  closeMathBlock,
  completeTableDivider,
  dropPartialMarkerLine,
  findOpenFence,
  repairBlock,
} from "../src/repair.js";
import { literalText, makeWindow } from "./helpers.js";
import { SAMPLE_LIST } from "./samples.js";

const window = makeWindow();
const renderer = createRenderer({ window });

const CASES = [
  // [unfinished input, repaired output]
  ["**bold", "**bold**"],
  ["**bold te", "**bold te**"],
  ["**bold ", "**bold** "],
  ["hello *it", "hello *it*"],
  ["__strong", "__strong__"],
  ["_light", "_light_"],
  ["~~gone", "~~gone~~"],
  ["a `code", "a `code`"],
  ["a ``co`de", "a ``co`de``"],
  ["**a `b", "**a `b`**"],
  ["***both", "***both***"],
  ["**bold** and *it", "**bold** and *it*"],
  ["**bold*", "**bold**"],
  ["x **", "x "],
  ["x *", "x "],
  ["x `", "x "],
  ["[the docs](https://exa", "[the docs](https://exa)"],
  ["see [the do", "see the do"],
  ["see [the docs]", "see the docs"],
  ["an ![image](https://x.org/a.p", "an "],
  ["an ![ima", "an "],
  ["formula $$x^", "formula $$x^$$"],
  ["formula $$x^2$", "formula $$x^2$$"],
  ["a ``co`de`", "a ``co`de``"],
  ["```python\nx = 1", "```python\nx = 1\n```"],
  ["```python\nx = 1\n", "```python\nx = 1\n```"],
  ["~~~\ncode", "~~~\ncode\n~~~"],
  ["intro **bold\n```js\nlet a", "intro **bold**\n```js\nlet a\n```"],
  ["$$\n\\frac{1}{2", "$$\n\\frac{1}{2\n$$"],
  ["para\n-", "para\n"],
  ["para\n1.", "para\n"],
  ["##", ""],
  ["**bold \\", "**bold** "],
  ["x $$A = \\", "x $$A = $$"],
  ["inline $x + y", "inline $x + y$"],
  ["with $\\epsilon = 0.1", "with $\\epsilon = 0.1$"],
  ["pays $20 \\cdot 1/6", "pays $20 \\cdot 1/6$"],
  ["**see $n^2", "**see $n^2$**"],
  ["circle is $", "circle is "],
  ["```py\nx\n`", "```py\nx\n```"],
  ["- a\n\n   ```sh\n   x\n   ``", "- a\n\n   ```sh\n   x\n   ```"],
  ["$$\nx\n$", "$$\nx\n$$"],
  ["| Mod", "| Mod\n| --- |"],
  ["| Model | Sp", "| Model | Sp\n| --- | --- |"],
  ["Intro\n| **Mo", "Intro\n| **Mo**\n| --- |"],
  ["Intro\n|", "Intro\n"],
];

const COMPLETE = [
  "5 * 3 = 15 and 2 * 4",
  "snake_case_name and __init__",
  "**bold** *it* `code` ~~s~~ [a](b)",
  "see [link][ref] text",
  "```\nunclosed ** inside code\n```\n",
  "a ~ tilde ~ and ~~~",
  "price: $5 and $10",
  "costs $5",
  "costs $5 and $HOME",
  "US$ 5 or $ 6",
  "$x$ and $\\alpha$",
];

describe("repairBlock closes what is open", () => {
  for (const [input, expected] of CASES) {
    it(`repairs ${JSON.stringify(input)}`, () => {
      assert.equal(repairBlock(input), expected);
    });
  }
});

describe("repairBlock leaves complete text alone", () => {
  for (const text of COMPLETE) {
    it(`keeps ${JSON.stringify(text)}`, () => {
      assert.equal(repairBlock(text), text);
    });
  }
  for (const [name, text] of SAMPLE_LIST) {
    it(`keeps the complete ${name} sample`, () => {
      assert.equal(repairBlock(text), text);
    });
  }
});

describe("the small repair functions", () => {
  it("closeFence closes with the opening marker's length", () => {
    assert.equal(closeFence("````md\n```inner"), "````md\n```inner\n````");
  });
  it("findOpenFence ignores closed fences", () => {
    assert.equal(findOpenFence("```\na\n```\nafter"), null);
  });
  it("closeMathBlock closes a $$ block on its own line", () => {
    assert.equal(closeMathBlock("$$\nx"), "$$\nx\n$$");
  });
  it("dropPartialMarkerLine keeps a list item that has content", () => {
    assert.equal(dropPartialMarkerLine("- item"), "- item");
  });
  it("closeInline only looks at the last paragraph", () => {
    assert.equal(closeInline("5 * 3\n\n**b"), "5 * 3\n\n**b**");
  });
});

describe("completeTableDivider", () => {
  const TABLE_CASES = [
    ["| Model | Speed |\n", "| Model | Speed |\n| --- | --- |"],
    ["| Model | Speed |\n|---", "| Model | Speed |\n| --- | --- |"],
    ["| Model | Speed |\n|:--|", "| Model | Speed |\n| --- | --- |"],
    ["| Model | Speed |\n|:--|-", "| Model | Speed |\n|:--|-"], // already a divider: kept
    ["Intro\n\n| a \\| b | c |\n", "Intro\n\n| a \\| b | c |\n| --- | --- |"],
  ];
  for (const [input, expected] of TABLE_CASES) {
    it(`completes ${JSON.stringify(input)}`, () => {
      assert.equal(completeTableDivider(input), expected);
    });
  }

  for (const input of [
    "| Model | Sp", // the header row is still being typed
    "| Model | Speed |\n|-------|:-----:|", // the divider is already whole
    "| a | b |\n|---|---|\n| 1 | 2 |\n|", // a body row starts: not a header
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "a | b\n", // no leading pipe: left alone
    "plain text\n",
  ]) {
    it(`leaves ${JSON.stringify(input)} alone`, () => {
      assert.equal(completeTableDivider(input), input);
    });
  }

  it("makes a streaming table head render as a table head", () => {
    const div = window.document.createElement("div");
    div.innerHTML = renderer.render(repairBlock("| Model | Speed |\n|--"));
    assert.deepEqual(
      [...div.querySelectorAll("th")].map((th) => th.textContent),
      ["Model", "Speed"],
    );
  });
});

/** Every prefix of every sample, repaired, renders with no raw markers in prose. */
describe("every prefix of the samples renders without raw markers", () => {
  for (const [name, text] of SAMPLE_LIST) {
    it(`${name}: balanced fences and no leaked markers for all ${text.length} prefixes`, () => {
      for (let n = 1; n <= text.length; n++) {
        const prefix = text.slice(0, n);
        const repaired = repairBlock(prefix);
        assert.equal(findOpenFence(repaired), null, `open fence for prefix ${n}`);
        assert.equal(countFenceLines(repaired) % 2, 0, `odd fence lines for prefix ${n}`);
        const prose = literalText(renderer.md, repaired);
        for (const marker of ["**", "*", "`", "~~", "$$", "[", "]("]) {
          assert.ok(
            !prose.includes(marker),
            `${name} prefix ${n} ${JSON.stringify(prefix.slice(-20))} leaks ${marker}: ${JSON.stringify(prose.slice(-60))}`,
          );
        }
      }
    });
  }
});

function countFenceLines(text) {
  return text.split("\n").filter((l) => /^\s*(```|~~~)/.test(l)).length;
}
