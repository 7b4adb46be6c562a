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
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from llmwidgets.chunks import CHARS_PER_TOKEN, Request, StreamChunk, Usage
from llmwidgets.errors import ConfigurationError
from llmwidgets.providers.base import ProviderConfig

DEFAULT_RECORDING = "tour"
PIECES_PER_SECOND = 40.0

# Leading whitespace travels with the next word; long words split every 6 characters. Every
# character is either \s or \S, so the pieces always join back to the exact text.
_PIECE = re.compile(r"\s*\S{1,6}|\s+")


def recording_names() -> list[str]:
    """Names of the recordings shipped with the package (what `replay:<name>` accepts)."""
    folder = resources.files("llmwidgets").joinpath("recordings")
    return sorted(
        entry.name.removesuffix(".md") for entry in folder.iterdir() if entry.name.endswith(".md")
    )


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
    note = "recording: replayed answer, not a live model"

    def __init__(self, config: ProviderConfig | None = None) -> None:
        self.config = config or ProviderConfig(name="replay")

    async def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]:
        text = load_recording(request.model)
        pace = Pace.from_options({**self.config.options, **request.options})
        model = request.model.strip() or DEFAULT_RECORDING
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, piece in enumerate(split_pieces(text)):
            if pace.delay:
                # Sleep to a schedule, not by a fixed amount, so the pace does not drift.
                await asyncio.sleep(max(0.0, start + i * pace.delay - loop.time()))
            yield StreamChunk(delta=piece, model=model)
        prompt = (request.system or "") + "".join(m.content for m in request.messages)
        yield StreamChunk(
            model=model,
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=Usage(input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(text)),
        )
