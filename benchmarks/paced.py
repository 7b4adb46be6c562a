"""`bench:` — an in-process provider that streams registered text at a fixed rate.

Why: the loopback wire server plus the OpenAI SDK deliver about 500-2,000 _chunks/s on this
machine, so a 1 MB answer in 4-character chunks would take minutes. Figures that measure what the
*widget* does (bytes it sends, fairness between streams, leaks) use this provider instead: it is
registered through the public `register_provider`, so everything from `stream()` on — the
streamer, the widget, the comm — is the real path. Figures about the HTTP path (kernel overhead,
end to end) use the wire server.

    model = paced_model("answer", cps=40_000, chunk=4)   # "bench:answer?cps=40000&chunk=4"
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

from llmwidgets._chunks import Request, StreamChunk, Usage
from llmwidgets._errors import ProviderError
from llmwidgets._providers.base import ProviderConfig, register_provider

TEXTS: dict[str, str] = {}


def add_text(name: str, text: str) -> None:
    TEXTS[name] = text


def paced_model(name: str, cps: float = 40_000, chunk: int = 4, fail_after: int = 0) -> str:
    """Model spec streaming TEXTS[name] at `cps` characters/s; `fail_after` > 0 raises then."""
    return f"bench:{name}?cps={float(cps)!r}&chunk={chunk}&fail_after={fail_after}"


class PacedProvider:
    """Yields `chunk`-character pieces on a schedule of `cps` characters per second."""

    label = "Bench"
    note = ""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        name, _, query = request.model.partition("?")
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        text = TEXTS[name]
        cps = float(params.get("cps", 40_000))
        size = int(params.get("chunk", 4))
        fail_after = int(params.get("fail_after", 0))
        started = time.perf_counter()
        sent = 0
        for i in range(0, len(text), size):
            if fail_after and i >= fail_after:
                raise ProviderError("The bench provider failed on purpose.")
            ahead = sent / cps - (time.perf_counter() - started)
            # Always give the loop a turn, as a socket read would: timers (flushes) must run.
            await asyncio.sleep(ahead if ahead > 0.001 else 0)
            piece = text[i : i + size]
            sent += len(piece)
            yield StreamChunk(delta=piece, model=name)
        yield StreamChunk(
            model=name,
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=Usage(input_tokens=1, output_tokens=max(1, len(text) // 4)),
        )


register_provider("bench", PacedProvider)
