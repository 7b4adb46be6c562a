"""What the counter shows about an answer: tokens (estimated from the text until the provider's
count arrives), speed, time to first token, cost, and how much of it was thinking.

Read from the `ChunkStream`'s timings and usage plus the characters a run has received, so the
batching (_streamer.py) only counts characters and the view only draws what it is sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from llmwidgets._chunks import CHARS_PER_TOKEN
from llmwidgets._pricing import cost

if TYPE_CHECKING:
    from llmwidgets._stream import ChunkStream


@dataclass
class Metrics:
    output_tokens: int = 0
    estimated: bool = True
    input_tokens: int | None = None
    ttft: float | None = None
    elapsed: float | None = None
    tokens_per_second: float | None = None
    cost: float | None = None
    #: How the answer ended ("stop", "length", ...), once it has: "length" is shown as a limit.
    finish_reason: str | None = None
    #: The part of `output_tokens` spent thinking (None: no sign of thinking), estimated from the
    #: thinking text unless the provider reported it (`thinking_estimated`).
    thinking_tokens: int | None = None
    thinking_estimated: bool | None = None
    #: Seconds to the first thinking token (`ttft` is the first *visible* token).
    thinking_ttft: float | None = None
    #: Seconds of thinking: from the start to the first visible token, or until now.
    thinking_time: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def compact(self) -> dict[str, object]:
        """The known values, rounded to what the counter shows: for live updates on the wire."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float) and key != "cost":
                out[key] = round(value, 3)
            elif value is not None:
                out[key] = value
        return out


def measure(
    cs: ChunkStream,
    *,
    text_chars: int,
    thinking_chars: int,
    started_at: float,
    now: float,
    ended: bool,
    finish_reason: str | None,
) -> Metrics:
    """The metrics of an answer as of `now`. Usage counts as exact only once it has `ended`;
    before that the tokens are estimated from the characters received."""
    usage = cs.usage if ended else None
    chars = text_chars + thinking_chars
    tokens = usage.output_tokens if usage else round(chars / CHARS_PER_TOKEN)
    start = cs.started_at
    ttft = (cs.first_token_at - start) if cs.first_token_at and start else None
    first = min((t for t in (cs.first_token_at, cs.first_thinking_at) if t), default=None)
    gen_time = (now - first) if first else None
    tps = tokens / gen_time if gen_time and gen_time > 0.05 and tokens else None
    # Reported thinking tokens may arrive with usage before the end (some servers send it).
    reported = cs.usage.reasoning_tokens if cs.usage is not None else 0
    thinking_tokens: int | None = None
    if reported:
        thinking_tokens = reported
    elif thinking_chars and usage is not None:
        # An exact total without a split (Anthropic): share it out by characters.
        thinking_tokens = round(usage.output_tokens * thinking_chars / chars)
    elif thinking_chars:
        thinking_tokens = max(1, round(thinking_chars / CHARS_PER_TOKEN))
    thinking_time = None
    if thinking_tokens is not None and start:
        thinking_time = (cs.first_token_at or now) - start
    return Metrics(
        output_tokens=tokens,
        estimated=usage is None,
        input_tokens=usage.input_tokens if usage else None,
        ttft=ttft,
        elapsed=now - started_at,
        tokens_per_second=tps,
        cost=cost(cs.target.provider, cs.target.model, usage),
        finish_reason=finish_reason,
        thinking_tokens=thinking_tokens,
        thinking_estimated=None if thinking_tokens is None else not reported,
        thinking_ttft=(cs.first_thinking_at - start) if cs.first_thinking_at and start else None,
        thinking_time=thinking_time,
    )
