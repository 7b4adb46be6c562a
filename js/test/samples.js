// Sample answers shaped like real model output. Their prose uses no literal markdown
// markers, so after repair any `*`, backtick, `~~`, `$$` or `[` in rendered prose text
// would be a marker that leaked through.

export const SAMPLES = {
  prose: `# Streaming answers

Here is **bold text**, some *italic words*, a bit of __strong underscore__ and _light
emphasis_ that spans a line break. Also ~~struck out~~ text and \`inline code\` plus a
link to [the docs](https://example.com/docs?q=1) and a bare https://example.org URL.

A second paragraph with ***bold italic*** and **bold with \`code\` inside** to finish.
`,
  code: `Run this:

\`\`\`python
def mean(xs):
    """Average."""

    total = sum(xs)

    return total / len(xs)
\`\`\`

Then in the shell:

~~~bash
echo "hello"  # greet

ls -la
~~~

That is **all**.
`,
  lists: `Steps:

1. Install the package
2. Import **it**

   With a continuation paragraph that has \`code\`.

3. Run it

- tight item one
- tight item *two*
  - nested item

After the list, a closing paragraph.
`,
  math: `The area of a circle is $$A = \\pi r^2$$ and inline $x + y$ works.

$$
\\int_0^1 x^2 \\, dx = \\frac{1}{3}
$$

Done with **math**.
`,
  table: `| Model | Speed |
|-------|-------|
| small | **fast** |
| large | slow |

> A quote with *emphasis*
> over two lines.

---

Final words.
`,
};

export const SAMPLE_LIST = Object.entries(SAMPLES);

// Realistic answers, as a chat model writes them: tables, inline `$…$` math, code, lists.
// The flicker test feeds each one character by character (test/flicker.test.js).
export const ANSWERS = {
  compare: `## Python vs. Rust for a CLI tool

Both work well; the choice depends on **startup time** and how much you value \`cargo\`'s tooling.

| Aspect | Python | Rust |
|--------|:------:|-----:|
| Startup | ~50 ms | ~2 ms |
| Binary size | needs an interpreter | 3-8 MB static |
| Learning curve | gentle | **steep** |
| Packaging | \`pipx\`, \`uv tool\` | \`cargo install\` |

If you already know Python, start there and port the hot path later.
`,
  math: `The variance of a sample is $s^2 = \\frac{1}{n-1}\\sum_{i=1}^{n} (x_i - \\bar{x})^2$, where $\\bar{x}$ is the mean.

For a fair die, each face has probability $p = 1/6$, so the expected value is

$$
E[X] = \\sum_{k=1}^{6} k \\cdot \\frac{1}{6} = 3.5
$$

and the variance is $\\sigma^2 = 35/12 \\approx 2.92$. A bet that costs $5 and pays $20 on a six
has an expected value of $20 \\cdot 1/6 - 5 \\approx -1.67$ dollars.
`,
  code: `Here is a small function that retries a request with exponential backoff:

\`\`\`python
import time

def retry(fn, attempts=5, base=0.5):
    for i in range(attempts):
        try:
            return fn()
        except ConnectionError:
            time.sleep(base * 2 ** i)
    raise RuntimeError("gave up")
\`\`\`

Call it as \`retry(lambda: requests.get(url))\`. The delays are **0.5, 1, 2, 4 and 8 s**; set
\`base\` lower for *interactive* tools.
`,
  steps: `To set up the project:

1. Clone the repository and \`cd\` into it.
2. Create a virtual environment: \`python -m venv .venv\`.
3. Install it in editable mode with the **dev** extras:

   \`\`\`bash
   pip install -e ".[dev]"
   \`\`\`

4. Run the tests with \`pytest -q\`.

| Command | What it does |
| --- | --- |
| \`make lint\` | runs ruff and biome |
| \`make test\` | runs **all** tests |

That's it: you should see *all tests pass*.
`,
  summary: `**Summary.** The model reached an accuracy of **92.4%** on the held-out set, up from
88.1%. The main gains came from:

- a larger context window (\`4096\` tokens instead of \`2048\`),
- *label smoothing* with $\\epsilon = 0.1$,
- and cleaning ~3% of mislabeled rows.

| Run | Accuracy | Loss |
|-----|----------|------|
| baseline | 88.1% | 0.41 |
| + context | 90.7% | 0.33 |
| + smoothing | 92.4% | 0.29 |

> Note: the \`2048\` baseline was trained for the same number of steps.
`,
};
