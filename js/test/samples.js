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
