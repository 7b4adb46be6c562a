"""`-o NAME`: what the answer is bound to, by `--format`, once it has ended.

One answer binds its value; several bind a dict {model: value}. A value that cannot be made
(`--format json` of an answer that is not JSON) falls back to the answer's text, so a Run All
pipeline still finds NAME; with one model the error is also raised or reported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from llmwidgets._chunks import Response
from llmwidgets._magics.call import LLMCall
from llmwidgets._magics.options import Format


def code_blocks(text: str) -> str:
    """The answer's fenced (or indented) code blocks, joined by a blank line; "" if none."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().parse(text)
    return "\n".join(t.content for t in tokens if t.type in ("fence", "code_block")).rstrip("\n")


def parse_json(text: str) -> Any:
    """The answer as JSON: the whole text, else its first fenced block (```json ... ```)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    from markdown_it import MarkdownIt

    for token in MarkdownIt().parse(text):
        if token.type == "fence":
            try:
                return json.loads(token.content)
            except ValueError as exc:
                raise ValueError(f"The answer's code block is not valid JSON: {exc}") from None
    raise ValueError("The answer is not valid JSON and holds no ```json block.")


def formatted(response: Response, fmt: Format) -> Any:
    """What `-o NAME` binds: the Response (markdown; with `--schema`, the validated object), its
    text, its code, or its parsed JSON."""
    if fmt == "markdown" and response.parsed is not None:
        return response.parsed
    if fmt == "text":
        return response.text
    if fmt == "code":
        return code_blocks(response.text)
    if fmt == "json":
        return parse_json(response.text)
    return response


class Binder:
    """Binds `-o NAME` in the user namespace; does nothing without `-o`."""

    def __init__(self, shell: Any, call: LLMCall) -> None:
        self.shell = shell
        self.call = call

    def bind(self, value: Any) -> None:
        if self.call.out is not None:
            self.shell.user_ns[self.call.out] = value

    def bind_response(self, response: Response | None, *, strict: bool) -> None:
        """One model's answer. `strict`: a format error is raised (in the cell), not printed."""
        if self.call.out is None or response is None:
            return
        try:
            self.bind(formatted(response, self.call.format))
        except ValueError as exc:
            self.bind(response.text)
            if strict:
                raise
            print(f"llmwidgets: -o {self.call.out}: {exc} Bound the raw text.", file=sys.stderr)

    def bind_each(self, answers: Iterable[tuple[str, Response | None]]) -> None:
        """Several models' answers as {model: value}; one missing (failed) is left out."""
        if self.call.out is None:
            return
        values: dict[str, Any] = {}
        for model, response in answers:
            if response is not None:
                try:
                    values[model] = formatted(response, self.call.format)
                except ValueError:
                    values[model] = response.text
        self.bind(values)
