"""`replay:` streams a recorded markdown answer at a model-like pace: no key, no network, no model.

It is deterministic, so tests and demos can rely on it, and it is the last fallback when nothing
live works. The label says plainly that it is a recording.

- Shipped recordings: `tour` (the default: heading, lists, python code, table, emphasis, inline
  code, link; ~6 s), `short` (~2 s) and `long` (~17 s, for trying Stop).
- `replay:` (or `replay:default`) plays the default recording; `replay:<name>` plays a recording
  shipped in `llmwidgets/recordings/<name>.md`; `replay:/path/to/answer.md` plays any file.
- Pace: about 40 pieces a second, where a piece is a word or up to 6 characters of one (close to
  one token). Options, from the provider config or `Request.options`: `speed` multiplies the pace;
  `delay` sets the seconds between pieces outright (`delay=0` streams everything at once).
- Usage is an estimate, not a count: 4 characters per token (`len(text) // 4`), the common rule of
  thumb for English.
- Tool exchanges: a `.json` recording (`replay:weather`) holds `before` (text), `calls` (tool
  name and arguments) and `after` (text with `{results}`). Asked with no tool results, it streams
  `before` and the calls, their arguments in pieces as models send them; asked again with the
  results, it streams `after` quoting them. That is a whole tool loop, offline.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from llmwidgets._chunks import CHARS_PER_TOKEN, FinishReason, Request, StreamChunk, ToolCall, Usage
from llmwidgets._errors import ConfigurationError
from llmwidgets._providers._assemble import ToolCallAccumulator, ToolCallDelta
from llmwidgets._providers.base import ProviderConfig

DEFAULT_RECORDING = "tour"
PIECES_PER_SECOND = 40.0

# Leading whitespace travels with the next word; long words split every 6 characters. Every
# character is either \s or \S, so the pieces always join back to the exact text.
_PIECE = re.compile(r"\s*\S{1,6}|\s+")


def recording_names() -> list[str]:
    """Names of the recordings shipped with the package (what `replay:<name>` accepts)."""
    folder = resources.files("llmwidgets").joinpath("recordings")
    return sorted(
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.name.endswith((".md", ".json"))
    )


@dataclass(frozen=True)
class ToolExchange:
    """A recorded tool loop: text, the calls the model makes, then text quoting the results."""

    before: str
    calls: list[tuple[str, str]]  # (tool name, arguments as JSON text)
    after: str

    def answer(self, results: list[str]) -> str:
        quoted = "\n".join(f"- {r}" for r in results)
        return self.after.replace("{results}", quoted)


def load_exchange(name: str) -> ToolExchange | None:
    """The shipped `.json` recording `name`, or None when it is a text recording."""
    entry = resources.files("llmwidgets").joinpath("recordings", f"{name.strip()}.json")
    if not entry.is_file():
        return None
    data = json.loads(entry.read_text(encoding="utf-8"))
    calls = [(c["name"], json.dumps(c.get("arguments", {}))) for c in data.get("calls", [])]
    return ToolExchange(str(data.get("before", "")), calls, str(data.get("after", "")))


def load_recording(name: str) -> str:
    """The markdown text of a shipped recording, or of a `.md` file given by path."""
    name = name.strip()
    if name in ("", "default"):
        name = DEFAULT_RECORDING
    if "/" in name or "\\" in name or name.endswith(".md"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigurationError(
                f"No recording file at {str(path)!r}. Use replay:/path/to/answer.md, or one of: "
                + ", ".join(f"replay:{n}" for n in recording_names()),
                provider="replay",
                model=name,
            )
        return path.read_text(encoding="utf-8")
    names = recording_names()
    if name not in names:
        raise ConfigurationError(
            f"Unknown recording {name!r}. Available recordings: "
            + ", ".join(f"replay:{n}" for n in names),
            provider="replay",
            model=name,
        )
    exchange = load_exchange(name)
    if exchange is not None:  # a tool exchange: its opening text is what plays first
        return exchange.before
    entry = resources.files("llmwidgets").joinpath("recordings", f"{name}.md")
    return entry.read_text(encoding="utf-8")


def split_pieces(text: str) -> list[str]:
    """Cut text into token-sized pieces whose concatenation is exactly `text`."""
    return _PIECE.findall(text)


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters per token); replay has no tokenizer."""
    return len(text) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class Pace:
    """Seconds between pieces; 0 means no waiting at all."""

    delay: float

    @classmethod
    def from_options(cls, options: dict[str, object]) -> Pace:
        if "delay" in options:
            return cls(max(0.0, float(options["delay"])))  # type: ignore[arg-type]
        speed = float(options.get("speed", 1.0))  # type: ignore[arg-type]
        if speed <= 0:
            raise ConfigurationError(f"replay speed must be positive, got {speed}")
        return cls(1.0 / (PIECES_PER_SECOND * speed))


class ReplayProvider:
    """Plays recordings. Stateless: all per-stream state lives in the generator."""

    name = "replay"
    label = "the replay provider"
    #: A recording holding JSON plays as structured output (it is not asked for anything).
    structured_output = True
    #: A recording plays whatever the prompt holds: images are accepted and ignored.
    images = True
    note = "recording: replayed answer, not a live model"

    def __init__(self, config: ProviderConfig | None = None) -> None:
        self.config = config or ProviderConfig(name="replay")

    async def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]:
        model = request.model.strip() or DEFAULT_RECORDING
        exchange = load_exchange(model)
        results = _latest_tool_results(request)
        calls: list[tuple[str, str]] = []
        if exchange is None:
            text = load_recording(request.model)
        elif results:
            text = exchange.answer(results)
        else:
            text, calls = exchange.before, exchange.calls
        pace = Pace.from_options({**self.config.options, **request.options})
        loop = asyncio.get_running_loop()
        start = loop.time()
        pieces: list[str | ToolCallDelta] = list(split_pieces(text))
        for index, (name, arguments) in enumerate(calls):
            pieces.append(ToolCallDelta(index, id=f"replay_call_{index}", name=name))
            pieces += [ToolCallDelta(index, arguments=p) for p in split_pieces(arguments)]
        acc = ToolCallAccumulator()
        for i, piece in enumerate(pieces):
            if pace.delay:
                # Sleep to a schedule, not by a fixed amount, so the pace does not drift.
                await asyncio.sleep(max(0.0, start + i * pace.delay - loop.time()))
            if isinstance(piece, str):
                yield StreamChunk(delta=piece, model=model)
            else:
                acc.add(piece)
                yield StreamChunk(model=model, tool_calls=_snapshot(acc.calls))
        prompt = (request.system or "") + "".join(m.content for m in request.messages)
        finish: FinishReason = "tool_calls" if calls else "stop"
        yield StreamChunk(
            model=model,
            finish_reason=finish,
            raw_finish_reason=finish,
            usage=Usage(input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(text)),
            tool_calls=_snapshot(acc.calls),
        )


def _snapshot(calls: list[ToolCall]) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(c.index, c.id, c.name, c.arguments) for c in calls)


def _latest_tool_results(request: Request) -> list[str]:
    """The results the conversation ends with (after the model's last turn)."""
    results: list[str] = []
    for message in reversed(request.messages):
        if message.role != "tool":
            break
        results.append(message.content)
    return results[::-1]
