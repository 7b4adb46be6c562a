"""What the loopback server can be asked to send, described once for every wire format.

A `Scenario` says what an answer holds (thinking, text, tool-call fragments, usage) and how it
goes wrong (an HTTP error, an error event, a cut connection, a stall); each API's module renders
it in that API's bytes (`wire_openai`, `wire_anthropic`, `wire_gemini`, `wire_responses`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class ToolFragment:
    """One tool-call fragment as OpenAI streams it; the first of each index carries id and name."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass
class Scenario:
    """What the server answers, described once and rendered in either API's wire format.

    "Content events" are the thinking, text and tool-call pieces; the `*_after` fields count them.
    """

    text: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[ToolFragment] = field(default_factory=list)
    #: OpenAI spelling; Anthropic gets end_turn / tool_use / max_tokens.
    finish_reason: str = "stop"
    usage: tuple[int, int] = (12, 34)
    #: Seconds between events (a fixed schedule: event k is due `k * delay` after the first).
    delay: float = 0.0
    #: Write each event that holds a multi-byte character in two writes split inside it.
    split_utf8: bool = False
    #: Anthropic: send `ping` events (one after the first block start, one mid-text).
    pings: bool = True
    #: Send finish / usage / [DONE] (OpenAI) or message_delta / message_stop (Anthropic).
    end: bool = True
    #: Non-200 answers: the API's JSON error body; `retry_after` sets the header (429).
    status: int = 200
    error_message: str = ""
    retry_after: float | None = None
    #: After this many content events: send an error event and end the body.
    error_after: int | None = None
    #: After this many content events: abort the TCP connection (no terminating chunk).
    cut_after: int | None = None
    #: After this many content events: send nothing for `stall` seconds, then go on.
    stall_after: int | None = None
    stall: float = 5.0
    #: OpenAI: answer 400 when the body has `stream_options` (older compatible servers do).
    reject_stream_options: bool = False
    #: OpenAI: the output tokens spent thinking, reported in `completion_tokens_details`.
    reasoning_tokens: int = 0
    #: OpenAI-compatible: the delta field thinking travels in (DeepSeek and vLLM say
    #: `reasoning_content`, Ollama and others `reasoning`).
    reasoning_field: str = "reasoning_content"
    #: The tool loop's other half: when the request ends with tool results, answer with a
    #: sentence quoting each of them instead of calling tools again.
    answer_tool_results: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Build from JSON (``PUT /control/scenarios/<name>``); tool_calls are dicts, usage a list."""
        data = dict(data)
        if "tool_calls" in data:
            data["tool_calls"] = [ToolFragment(**t) for t in data["tool_calls"]]
        if "usage" in data:
            data["usage"] = tuple(data["usage"])
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown scenario fields: {sorted(unknown)}")
        return cls(**data)


def split_text(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


#: Multi-byte text: accents, emoji (one a ZWJ family split across deltas), CJK, a flag split in two.
PLAIN_TEXT = [
    "Hello, ",
    "wörld! ",
    "👋 Here is ",
    "日本語",
    "のテキスト ",
    "🎉 and a family 👨\u200d👩",
    "\u200d👧 and a flag 🇯",
    "🇵. Ça marche — ",
    "done.",
]

SAMPLE_MARKDOWN = """# Streaming sample

Some **bold** text, some *italic* text, `inline code` and a [link](https://example.com).

- first item
- second item with 日本語 and 🎉
  - nested item

1. one
2. two

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

| col a | col b |
| ----- | ----- |
| 1     | 2     |

> A quote that goes on for a while so that it wraps across lines.

Final paragraph with math-like text: a < b && c > d.
"""

WEATHER_CALLS = [
    ToolFragment(0, id="call_weather_1", name="get_weather"),
    ToolFragment(1, id="call_time_2", name="get_time"),
    ToolFragment(0, arguments='{"city": '),
    ToolFragment(1, arguments='{"tz": "Eur'),
    ToolFragment(0, arguments='"Paris", "unit": '),
    ToolFragment(1, arguments='ope/Paris"}'),
    ToolFragment(0, arguments='"celsius"}'),
]


def _builtin_scenarios() -> dict[str, Scenario]:
    return {
        "plain-text": Scenario(text=list(PLAIN_TEXT), split_utf8=True),
        "tool-calls": Scenario(
            text=["Let me check."], tool_calls=list(WEATHER_CALLS), finish_reason="tool_calls"
        ),
        # Calls get_weather, then (given its result) quotes it: the two steps of a tool loop.
        "weather-loop": Scenario(
            text=["Let me check."],
            tool_calls=[
                ToolFragment(0, id="call_w1", name="get_weather"),
                ToolFragment(0, arguments='{"city": '),
                ToolFragment(0, arguments='"Paris"}'),
            ],
            finish_reason="tool_calls",
            answer_tool_results=True,
        ),
        # Thinks (signed), then calls get_weather; given the result, quotes it.
        "thinking-weather-loop": Scenario(
            thinking=["The user wants ", "the weather."],
            text=["Let me check."],
            tool_calls=[
                ToolFragment(0, id="call_w1", name="get_weather"),
                ToolFragment(0, arguments='{"city": "Paris"}'),
            ],
            finish_reason="tool_calls",
            answer_tool_results=True,
        ),
        # Two calls in one turn (weather and time), then the answer quoting both results.
        "parallel-loop": Scenario(
            tool_calls=list(WEATHER_CALLS), finish_reason="tool_calls", answer_tool_results=True
        ),
        # Asks for the weather again and again, whatever the results say.
        "endless-loop": Scenario(
            tool_calls=[ToolFragment(0, id="call_again", name="get_weather", arguments="{}")],
            finish_reason="tool_calls",
        ),
        "thinking": Scenario(
            thinking=["The user wants ", "a greeting. ", "Keep it short."],
            text=["Hi ", "there!"],
        ),
        "thinking-as-reasoning": Scenario(
            thinking=["The user wants ", "a greeting."], text=["Hi!"], reasoning_field="reasoning"
        ),
        # Thinks without sharing it (OpenAI's o-series): only the count says it thought.
        "thinking-hidden": Scenario(text=["Hi ", "there!"], usage=(12, 340), reasoning_tokens=300),
        # Long enough to watch: ~2 s of thinking, then the answer.
        "thinking-slow": Scenario(
            thinking=[f"Step {i}: considering the question. " for i in range(1, 21)],
            text=[f"word{i} " for i in range(40)],
            usage=(12, 250),
            delay=0.1,
        ),
        "length": Scenario(text=["Cut ", "short"], finish_reason="length"),
        "error-mid-stream": Scenario(
            text=["Partial ", "answer "], error_after=2, error_message="Overloaded"
        ),
        "cut-mid-stream": Scenario(text=["Partial ", "answer ", "never ", "ends"], cut_after=2),
        "no-end": Scenario(text=["Partial ", "answer"], end=False),
        "http-401": Scenario(status=401),
        "http-403": Scenario(status=403),
        "http-404": Scenario(status=404),
        "http-429": Scenario(status=429, retry_after=7),
        "http-500": Scenario(status=500),
        "http-503": Scenario(status=503),
        "stall": Scenario(text=["Before ", "the ", "stall"], stall_after=1, stall=5.0),
        "rejects-stream-options": Scenario(
            text=["Hello ", "without usage"], reject_stream_options=True
        ),
        "slow": Scenario(text=[f"word{i} " for i in range(2000)], delay=0.01),
    }


BUILTIN_SCENARIOS: frozenset[str] = frozenset(_builtin_scenarios())


def latest_tool_results(body: dict[str, Any] | None) -> list[str]:
    """The tool results the request ends with (after the model's last turn), in any of the
    APIs' shapes: OpenAI `role: tool` messages, Anthropic `tool_result` blocks in a user turn,
    Gemini `functionResponse` parts, Responses `function_call_output` items."""
    body = body or {}
    if "contents" in body:
        return _gemini_results(body["contents"])
    if isinstance(body.get("input"), list):
        return _responses_results(body["input"])
    results: list[str] = []
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "tool":
            results.append(str(message.get("content", "")))
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        found = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if message.get("role") != "user" or not found:
            break
        for block in reversed(found):
            inner = block.get("content", "")
            if isinstance(inner, list):
                inner = "".join(p.get("text", "") for p in inner if isinstance(p, dict))
            results.append(str(inner))
    return results[::-1]


def _gemini_results(contents: list[dict[str, Any]]) -> list[str]:
    last = contents[-1] if contents else {}
    out = []
    for part in last.get("parts") or []:
        response = part.get("functionResponse", {}).get("response")
        if isinstance(response, dict):
            value = next(iter(response.values()), "") if len(response) == 1 else response
            out.append(value if isinstance(value, str) else json.dumps(value))
    return out


def _responses_results(items: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for item in reversed(items):
        if item.get("type") != "function_call_output":
            break
        out.append(str(item.get("output", "")))
    return out[::-1]


def answer_to(results: list[str]) -> Scenario:
    """The second step of a tool loop: an answer that quotes each tool result."""
    quoted = "; ".join(f"[{r}]" for r in results)
    return Scenario(text=split_text(f"The tools said: {quoted}. Done.", 8), usage=(40, 12))


# --------------------------------------------------------------------------- server-sent events


def _json(obj: Any) -> str:
    """Compact JSON with raw UTF-8, as both APIs send it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class WireEvent:
    """One server-sent event's bytes; `content` marks thinking/text/tool pieces."""

    data: bytes
    content: bool = False


def _sse(data: dict[str, Any] | str, event: str | None = None, content: bool = False) -> WireEvent:
    payload = data if isinstance(data, str) else _json(data)
    head = f"event: {event}\n" if event else ""
    return WireEvent(f"{head}data: {payload}\n\n".encode(), content)
