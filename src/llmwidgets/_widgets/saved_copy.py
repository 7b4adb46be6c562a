"""The answer's saved copy: what a notebook shows where the live widget view cannot.

A widget view is blank on GitHub and in nbconvert output, and JupyterLab or Notebook 7 print
"Error displaying widget: model not found" for it once the notebook is reopened without its
kernel (widget state is not saved by default). So every llmwidgets widget is shown as two
outputs side by side:

1. the live view (`application/vnd.jupyter.widget-view+json`), never updated afterwards, so the
   end of a stream does not make the front end build a new view or resend the answer;
2. a slot for the saved copy, shown under a display id. It starts empty (a widget view with no
   model, which JupyterLab hides) and is updated when an answer ends to the answer as HTML:
   rendered here by markdown-it with raw HTML off and images turned into links, so untrusted
   model output cannot run script or fetch anything wherever the copy is shown.

The answer crosses the wire twice: live as deltas, and once as the saved copy. A small `<style>`
in the copy hides the copy while the output before it holds a live widget view, and hides that
output's "model not found" error once the model is gone; where the style is not applied (GitHub,
nbconvert, an untrusted notebook, which renders the first output as its empty `text/plain`) the
copy is simply shown.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

import traitlets
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from llmwidgets._chunks import Message, Response, ToolResult

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Output bundle of an empty slot: a widget view without a model, which JupyterLab hides.
EMPTY_SLOT: dict[str, Any] = {
    WIDGET_VIEW: {"version_major": 2, "version_minor": 1, "model_id": ""},
    "text/plain": "",
}
#: Characters of the answer kept in the text/plain copy (the HTML has all of it).
PLAIN_TEXT_LIMIT = 600

# Output areas in JupyterLab and Notebook 7: `.jp-OutputArea-child` > `.jp-OutputArea-output`.
# A live widget view is a Lumino widget (`.lm-Widget`) inside the output; without its model the
# output holds only text ("Loading widget...", then "model not found"). CSS forbids `:has()`
# inside `:has()`, so each rule names the pair from one side.
_LIVE = ":has(> .jp-OutputArea-output .lm-Widget)"
SAVED_STYLE = (
    "<style>"
    # While the view lives, the copy under it is hidden...
    f".jp-OutputArea-child{_LIVE} + .jp-OutputArea-child:has(.llmw-saved){{display:none}}"
    # ...and once the model is gone, the view's output is hidden instead.
    f".jp-OutputArea-child:has(+ .jp-OutputArea-child .llmw-saved):not({_LIVE}){{display:none}}"
    "</style>"
)

_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);", re.IGNORECASE)


def _image_as_link(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Inline data images show; any other image becomes a link, so opening a notebook
    never makes the browser fetch a URL a prompt-injected answer chose."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if _DATA_IMAGE.match(src):
        return str(self.image(tokens, idx, options, env))
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    return (
        f'<a href="{html.escape(src, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">🖼 {html.escape(alt)}</a>'
    )


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return str(self.renderToken(tokens, idx, options, env))


def _heading_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Headings of the copy stay out of JupyterLab's table of contents: the copy is hidden
    while the live view shows, and listing its headings cost the page ~200 ms per large
    answer when it arrived (measured: benchmarks `end`)."""
    tokens[idx].attrJoin("class", "jp-toc-ignore")
    return str(self.renderToken(tokens, idx, options, env))


def _markdown_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_as_link)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("heading_open", _heading_open)
    return md


_MARKDOWN = _markdown_renderer()  # configured once, never changed


def answer_html(markdown: str) -> str:
    """Markdown from a model as safe HTML: raw HTML is escaped, script links are dropped
    (markdown-it's link validation), remote images become links."""
    return str(_MARKDOWN.render(markdown))


def close_open_fence(markdown: str) -> str:
    """`markdown` with a code fence left open at its end closed.

    An answer cut off inside a code block (a token limit, Stop, an error) would otherwise turn
    everything joined after it (the model line, the next chat turn, the next pane of a
    comparison and the summary) into code.
    """
    tokens = _MARKDOWN.parse(markdown)
    lines = markdown.splitlines()
    last = next((t for t in reversed(tokens) if t.level == 0 and t.map is not None), None)
    if last is None or last.type != "fence" or last.map is None or last.map[1] < len(lines):
        return markdown
    fence = last.markup
    opening = last.map[0]
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    if last.map[1] - opening > 1 and closing.match(lines[last.map[1] - 1]):
        return markdown
    return f"{markdown.rstrip(chr(10))}\n{fence}"


#: Characters of a tool's result kept in the saved copy (the model got all of it).
SAVED_RESULT_LIMIT = 300


def with_tool_cards(text: str, cards: list[dict[str, Any]]) -> str:
    """The answer as markdown with each tool call where the model made it, as a quote block:
    the tool, its arguments, how it ended and the start of its result."""
    parts: list[str] = []
    start = 0
    for card in sorted(cards, key=lambda c: int(c.get("at", 0))):
        at = min(max(int(card.get("at", 0)), start), len(text))
        parts.append(close_open_fence(text[start:at]).strip("\n"))
        parts.append(card_markdown(card))
        start = at
    parts.append(close_open_fence(text[start:]).strip("\n"))
    return "\n\n".join(p for p in parts if p)


def card_markdown(card: dict[str, Any]) -> str:
    head = f"> **Tool** {code_span(str(card.get('name', '')))} · {card.get('status', '')}"
    if isinstance(card.get("duration"), int | float):
        head += f" · {card['duration']:.2f} s"
    lines = [head]
    if card.get("arguments"):
        lines.append(f"> Arguments: {code_span(str(card['arguments']))}")
    result = card.get("result")
    if isinstance(result, str):
        short = result if len(result) <= SAVED_RESULT_LIMIT else result[:SAVED_RESULT_LIMIT] + "…"
        lines.append(f"> {'Error' if card.get('is_error') else 'Result'}: {code_span(short)}")
    return "\n>\n".join(lines)


def _backticks(text: str, at_least: int) -> str:
    """A run of backticks longer than any in `text`, so `text` cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(at_least, longest + 1)


def code_span(text: str) -> str:
    """`text` as one inline code span whatever backticks or line breaks it holds."""
    flat = " ".join(text.split())
    fence = _backticks(flat, 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def json_block(text: str) -> str:
    """A structured answer for the saved copy: pretty JSON in a code block (as sent if it does
    not parse, e.g. cut off)."""
    try:
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pass
    fence = _backticks(text, 3)
    return f"{fence}json\n{text}\n{fence}"


def excerpt(text: str, limit: int = PLAIN_TEXT_LIMIT) -> str:
    """The start of a long answer for `text/plain`, saying where the rest is."""
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit].rstrip()}\n… ({len(text) - limit:,} more characters: the whole answer "
        "is in the text/html output and `.text`)"
    )


def tool_answer(
    messages: list[Message], results: dict[str, ToolResult] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """An answer given as its turns (assistant turns, their calls, the results): its text, and a
    card for each call at the end of the text before it, as the live view would have drawn it.
    `results` says how each call ended; without it, the tool messages among the turns do."""
    if results is None:
        results = {
            m.tool_call_id: ToolResult(m.tool_call_id, m.name or "", m.content)
            for m in messages
            if m.role == "tool" and m.tool_call_id
        }
    text = ""
    cards: list[dict[str, Any]] = []
    for step, m in enumerate(x for x in messages if x.role == "assistant"):
        if m.content:
            text += ("\n\n" if text else "") + m.content
        for call in m.tool_calls:
            result = results.get(call.id)
            card: dict[str, Any] = {
                "id": f"{step}.{call.index}",
                "name": call.name,
                "at": len(text),
                "status": result.status if result else "cancelled",
                "arguments": call.arguments,
            }
            if result is not None:
                card.update(result=result.content, is_error=result.is_error)
                if result.duration is not None:
                    card["duration"] = result.duration
            cards.append(card)
    return text, cards


def response_markdown(response: Response) -> str:
    """A finished answer as markdown with its tool calls where the model made them (for answers
    printed without a widget, where no cards were kept)."""
    if not response.tool_calls:
        return close_open_fence(response.text)
    results = {r.call_id: r for r in response.tool_results}
    return with_tool_cards(*tool_answer(response.messages, results))


def saved_bundle(markdown: str, plain_text: str, key: str = "") -> dict[str, Any]:
    """The saved copy's output bundle: the answer as HTML, and a plain-text excerpt.

    `key` (a widget's `_copy_key`) lets the widget's live views hide the copy in front ends
    the style does not reach (js/src/saved-copy.js).
    """
    keyed = f' data-llmw-copy="{key}"' if key else ""
    return {
        "text/html": f'<div class="llmw-saved"{keyed}>{SAVED_STYLE}\n{answer_html(markdown)}</div>',
        "text/plain": plain_text,
    }


def _parent_msg_id() -> str | None:
    """The msg_id of the request the kernel is handling (a cell, or a widget message)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    kernel = getattr(get_ipython(), "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    parent = get_parent() if callable(get_parent) else None
    header = parent.get("header", {}) if isinstance(parent, dict) else {}
    msg_id = header.get("msg_id")
    return str(msg_id) if msg_id else None


class SavedCopy(traitlets.HasTraits):
    """Mixin for widgets: show the live view plus a saved-copy slot, fill the slot at the end.

    Subclasses say when the copy is ready (`saved_ready`) and what it says (`markdown`,
    `plain_text`).
    """

    model_id: str
    #: Names this widget's saved copy for its live views, which hide the copy while they live
    #: (js/src/saved-copy.js): a random hex string, made before the state is first sent.
    _copy_key = traitlets.Unicode().tag(sync=True)

    @traitlets.default("_copy_key")
    def _new_copy_key(self) -> str:
        return uuid.uuid4().hex

    def markdown(self) -> str:
        raise NotImplementedError

    def plain_text(self) -> str:
        raise NotImplementedError

    def saved_ready(self) -> bool:
        raise NotImplementedError

    @property
    def _slots(self) -> list[str]:
        """Display ids of this widget's saved-copy slots (one per time it was shown)."""
        slots: list[str] | None = self.__dict__.get("_llmw_slots")
        if slots is None:
            slots = self.__dict__["_llmw_slots"] = []
        return slots

    def view_bundle(self) -> dict[str, Any]:
        """The live view's output. Its empty `text/plain` is what an untrusted notebook shows."""
        return {
            WIDGET_VIEW: {"version_major": 2, "version_minor": 1, "model_id": self.model_id},
            "text/plain": "",
        }

    def saved_copy(self) -> dict[str, Any]:
        """The slot's bundle now: the saved copy once ready, else the empty slot."""
        if not self.saved_ready():
            return dict(EMPTY_SLOT)
        return saved_bundle(self.markdown(), self.plain_text(), self._copy_key)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        slot = uuid.uuid4().hex
        self._slots.append(slot)
        display(self.view_bundle(), raw=True)
        display(self.saved_copy(), raw=True, display_id=slot)

    def refresh_displays(self) -> None:
        """Update every saved-copy slot of this widget; the live views are left alone."""
        if not self._slots:
            return
        from IPython.display import update_display

        self.__dict__["_llmw_sent_from"] = _parent_msg_id()
        bundle = self.saved_copy()
        for slot in self._slots:
            update_display(bundle, raw=True, display_id=slot)

    def refresh_displays_from_here(self) -> None:
        """Send the saved copy again if it last went out while another request was current.

        Headless runners (nbclient, papermill) drop messages of a cell that has finished, so a
        cell awaiting the widget lands the copy; in the cell that sent it (`--wait`) or in
        JupyterLab, which routes updates by display id, it would only be a second copy.
        """
        if self.__dict__.get("_llmw_sent_from", "unsent") != _parent_msg_id():
            self.refresh_displays()
