"""Deterministic markdown answers of a chosen size, shaped like what a chat model writes.

Headings, paragraphs with inline markup, nested lists, fenced code, tables, quotes and a little
non-ASCII text, repeated in sections until the size is reached, so every benchmark streams
the same kind of text at any length.
"""

from __future__ import annotations

SECTION = """## Section {n}: streaming notes

This paragraph explains **section {n}** with some *emphasis*, `inline code`, and a
[link](https://example.com/{n}). It is long enough to wrap across a few lines on screen, like the
paragraphs a model writes when it explains something step by step — café, naïve, 日本語.

- first point about {n}
- second point with `code` and **bold**
  - a nested point
  - another nested point
- third point

1. step one
2. step two
3. step three

```python
def step_{n}(items: list[int]) -> int:
    total = 0
    for item in items:
        total += item * {n}
    return total
```

| name | value | note |
| ---- | ----- | ---- |
| a{n} | {n}   | first |
| b{n} | {n}.5 | second |

> A quoted remark for section {n}, which also goes on for a while so that it wraps.

"""


def markdown_answer(size: int) -> str:
    """Markdown of exactly `size` characters (cut at the end, as a stopped stream would be)."""
    parts: list[str] = ["# A long answer\n\n"]
    total = len(parts[0])
    n = 1
    while total < size:
        section = SECTION.format(n=n)
        parts.append(section)
        total += len(section)
        n += 1
    return "".join(parts)[:size]


def utf8_len(text: str) -> int:
    return len(text.encode())
