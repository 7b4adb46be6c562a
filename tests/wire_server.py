"""A loopback HTTP server that speaks the OpenAI and Anthropic streaming wire formats.

Tests, benchmarks and other processes (a Jupyter kernel, a browser test) point the real SDKs at it
and pick what it sends **by the model name** of the request, so no process needs to share memory
with the server:

* ``model="plain-text"`` (or any name in `BUILTIN_SCENARIOS`, or one added with `add_scenario()` /
  ``PUT /control/scenarios/<name>``) plays that scenario;
* ``model="text:<name>?chunk=4&delay=0.001&repeat=1"`` streams the text registered under
  ``<name>`` (`add_text()` / ``PUT /control/texts/<name>``; ``text:sample`` is built in) in pieces
  of ``chunk`` characters with ``delay`` seconds before each piece;
* any name may carry ``?delay=S`` to override the scenario's delay;
* an unknown model gets the API's own 404 "model not found" answer.

The server records every API request (`requests`), every time a *client* closed the
connection while a stream was still being written (`disconnects`), and when each event of a
paced stream (``delay`` > 0) actually left (`paced`), all with `time.monotonic()` timestamps, a
clock shared by all processes on the machine. Other processes read them with
``GET /control/requests``, ``GET /control/disconnects`` and ``GET /control/paced`` and clear
them with ``POST /control/reset``.

It runs in a background thread with its own event loop (`WireServer.start()` / `stop()` or a
``with`` block), so sync tests, async tests and other processes can all use it. Run it alone with
``python tests/wire_server.py [--port N]``: it prints one JSON line with its URLs, then serves
until it gets SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

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


def unsigned_tool_turn(body: dict[str, Any] | None) -> str | None:
    """Anthropic's refusal when thinking is on and the request ends with tool results whose
    assistant turn does not start with its (signed) thinking block, or None when it is fine.
    Earlier turns may drop their thinking, as the API allows."""
    messages = (body or {}).get("messages") or []
    if not (body or {}).get("thinking") or len(messages) < 2 or not latest_tool_results(body):
        return None
    i = len(messages) - 2
    content = messages[i].get("content")
    blocks = content if isinstance(content, list) else [{"type": "text"}]
    first = blocks[0].get("type") if blocks else None
    if first == "redacted_thinking" or (first == "thinking" and blocks[0].get("signature")):
        return None
    return (
        f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        f"`{first}`. When `thinking` is enabled, a final `assistant` message must start with a "
        "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
    )


def answer_to(results: list[str]) -> Scenario:
    """The second step of a tool loop: an answer that quotes each tool result."""
    quoted = "; ".join(f"[{r}]" for r in results)
    return Scenario(text=split_text(f"The tools said: {quoted}. Done.", 8), usage=(40, 12))


# --------------------------------------------------------------------------- wire formats


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


def openai_events(sc: Scenario, model: str, include_usage: bool) -> Iterator[WireEvent]:
    """`chat.completion.chunk` events exactly as api.openai.com sends them."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_wire_server",
    }
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None, content: bool = False) -> WireEvent:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice], **extra}, content=content)

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in sc.thinking:
        yield chunk({sc.reasoning_field: piece}, content=True)
    for piece in sc.text:
        yield chunk({"content": piece}, content=True)
    for frag in sc.tool_calls:
        call: dict[str, Any] = {"index": frag.index}
        if frag.id is not None:
            call["id"] = frag.id
            call["type"] = "function"
        fn: dict[str, Any] = {"arguments": frag.arguments}
        if frag.name is not None:
            fn = {"name": frag.name, "arguments": frag.arguments}
        call["function"] = fn
        yield chunk({"tool_calls": [call]}, content=True)
    if not sc.end:
        return
    yield chunk({}, finish=sc.finish_reason)
    if include_usage:
        prompt, completion = sc.usage
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": sc.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        yield _sse({**base, "choices": [], "usage": usage})
    yield _sse("[DONE]")


def openai_error_event(message: str) -> WireEvent:
    return _sse(
        {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    )


_ANTHROPIC_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def anthropic_events(sc: Scenario, model: str) -> Iterator[WireEvent]:
    """Messages API stream events exactly as api.anthropic.com sends them."""
    prompt, completion = sc.usage
    yield _sse(
        {
            "type": "message_start",
            "message": {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": prompt,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 1,
                    "service_tier": "standard",
                },
            },
        },
        event="message_start",
    )
    block = 0
    pinged = not sc.pings

    def start(content_block: dict[str, Any]) -> Iterator[WireEvent]:
        nonlocal pinged
        yield _sse(
            {"type": "content_block_start", "index": block, "content_block": content_block},
            event="content_block_start",
        )
        if not pinged:
            pinged = True
            yield _sse({"type": "ping"}, event="ping")

    def delta(d: dict[str, Any]) -> WireEvent:
        return _sse(
            {"type": "content_block_delta", "index": block, "delta": d},
            event="content_block_delta",
            content=d["type"] != "signature_delta",
        )

    def stop() -> WireEvent:
        return _sse({"type": "content_block_stop", "index": block}, event="content_block_stop")

    if sc.thinking:
        yield from start({"type": "thinking", "thinking": "", "signature": ""})
        for piece in sc.thinking:
            yield delta({"type": "thinking_delta", "thinking": piece})
        yield delta({"type": "signature_delta", "signature": "EqQBCkYIBxgCKkBsig" + "A" * 40})
        yield stop()
        block += 1
    if sc.text:
        yield from start({"type": "text", "text": ""})
        for i, piece in enumerate(sc.text):
            if sc.pings and i == len(sc.text) // 2 and i > 0:
                yield _sse({"type": "ping"}, event="ping")
            yield delta({"type": "text_delta", "text": piece})
        yield stop()
        block += 1
    # Anthropic streams content blocks one after another: group fragments by call.
    order: list[int] = []
    calls: dict[int, list[ToolFragment]] = {}
    for frag in sc.tool_calls:
        if frag.index not in calls:
            order.append(frag.index)
        calls.setdefault(frag.index, []).append(frag)
    for index in order:
        frags = calls[index]
        head = frags[0]
        yield from start(
            {
                "type": "tool_use",
                "id": (head.id or f"call_{index}").replace("call_", "toolu_"),
                "name": head.name or "tool",
                "input": {},
            }
        )
        yield delta({"type": "input_json_delta", "partial_json": ""})
        for frag in frags:
            if frag.arguments:
                yield delta({"type": "input_json_delta", "partial_json": frag.arguments})
        yield stop()
        block += 1
    if not sc.end:
        return
    yield _sse(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": _ANTHROPIC_STOP.get(sc.finish_reason, sc.finish_reason),
                "stop_sequence": None,
            },
            "usage": {"output_tokens": completion},
        },
        event="message_delta",
    )
    yield _sse({"type": "message_stop"}, event="message_stop")


def anthropic_error_event(message: str) -> WireEvent:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
    return _sse(body, event="error")


def openai_error_body(status: int, model: str, message: str, key: str) -> dict[str, Any]:
    kind, code = "invalid_request_error", None
    if status == 401:
        # Like some compatible proxies, echo the key in full: our errors must redact it.
        message = message or f"Incorrect API key provided: {key}."
        code = "invalid_api_key"
    elif status == 403:
        message = message or "You are not allowed to sample from this model"
    elif status == 404:
        message = message or f"The model `{model}` does not exist or you do not have access to it."
        code = "model_not_found"
    elif status == 429:
        kind, code = "requests", "rate_limit_exceeded"
        message = message or "Rate limit reached for requests. Please try again in 7s."
    elif status >= 500:
        kind = "server_error"
        message = (
            message or "The server had an error while processing your request. Sorry about that!"
        )
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def anthropic_error_body(status: int, model: str, message: str, key: str) -> dict[str, Any]:
    kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
    if not message:
        message = {
            401: f"invalid x-api-key: {key}",
            403: "Your API key does not have permission to use the specified resource.",
            404: f"model: {model}",
            429: "Number of request tokens has exceeded your per-minute rate limit",
        }.get(status, "Internal server error")
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def model(self) -> str:
        return self.body.get("model", "") if isinstance(self.body, dict) else ""


@dataclass
class PacedStream:
    """When each event of a paced stream (`delay` > 0) actually left the server."""

    model: str
    sent_at: list[float]  # time.monotonic() after each event's write


@dataclass(frozen=True)
class Disconnect:
    """The client closed the connection while the server was still streaming to it."""

    path: str
    model: str
    at: float
    events_sent: int


# --------------------------------------------------------------------------- the server


class WireServer:
    """The HTTP server in a background thread; see the module docstring for how to drive it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.paced: list[PacedStream] = []
        self.disconnects: list[Disconnect] = []
        self._scenarios = _builtin_scenarios()
        self._texts: dict[str, str] = {"sample": SAMPLE_MARKDOWN}
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._active: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def gemini_base_url(self) -> str:
        return self.url

    def start(self) -> WireServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_app())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="wire-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _start_app(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1/responses", self._responses)
        for version in ("v1", "v1beta"):  # Gemini's streamGenerateContent, either API version
            app.router.add_post(f"/{version}/models/{{tail:.*}}", self._gemini)
        app.router.add_get("/control/health", self._health)
        app.router.add_get("/control/requests", self._get_requests)
        app.router.add_get("/control/disconnects", self._get_disconnects)
        app.router.add_get("/control/paced", self._get_paced)
        app.router.add_post("/control/reset", self._reset)
        app.router.add_put("/control/scenarios/{name}", self._put_scenario)
        app.router.add_put("/control/texts/{name}", self._put_text)
        # handler_cancellation: a client that goes away cancels the handler at once, which is how
        # the server sees (and timestamps) disconnects even while it sleeps between events.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping = True

        async def shutdown() -> None:
            for task in list(self._active):
                task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting

    def add_scenario(self, name: str, scenario: Scenario) -> str:
        """Register `scenario` under `name`; returns the model name that selects it."""
        self._scenarios[name] = scenario
        return name

    def scenario(self, scenario: Scenario) -> str:
        """Register an anonymous scenario; returns a fresh model name that selects it."""
        return self.add_scenario(f"custom-{uuid.uuid4().hex[:8]}", scenario)

    def add_text(self, name: str, text: str) -> None:
        self._texts[name] = text

    @staticmethod
    def text_model(name: str, chunk: int = 4, delay: float = 0.0, repeat: int = 1) -> str:
        """The model name that streams text `name` in `chunk`-character pieces."""
        return f"text:{name}?chunk={chunk}&delay={delay}&repeat={repeat}"

    def reset(self) -> None:
        """Forget recorded requests and disconnects (scenarios and texts stay)."""
        with self._changed:
            self.requests.clear()
            self.disconnects.clear()
            self.paced.clear()

    def wait_for_disconnect(self, timeout: float = 5.0, count: int = 1) -> Disconnect:
        """Block until `count` disconnects are recorded; returns the last. Raises TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.disconnects) >= count, timeout):
                raise TimeoutError(f"no client disconnect within {timeout}s")
            return self.disconnects[count - 1]

    async def until_disconnect(self, timeout: float = 5.0, count: int = 1) -> Disconnect:
        """`wait_for_disconnect` for async tests: polls without blocking the loop."""
        deadline = time.monotonic() + timeout
        while len(self.disconnects) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no client disconnect within {timeout}s")
            await asyncio.sleep(0.001)
        return self.disconnects[count - 1]

    def resolve(self, model: str) -> Scenario | None:
        """The scenario a model name selects (None: unknown model, answered with a 404)."""
        parts = urlsplit(model)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()} if "?" in model else {}
        name = model.split("?", 1)[0]
        if name.startswith("text:"):
            text = self._texts.get(name[len("text:") :])
            if text is None:
                return None
            text = text * int(query.get("repeat", 1))
            pieces = split_text(text, int(query.get("chunk", 4)))
            sc = Scenario(text=pieces, usage=(12, max(1, len(text) // 4)))
        else:
            found = self._scenarios.get(name)
            if found is None:
                return None
            sc = dataclasses.replace(found)
        if "delay" in query:
            sc.delay = float(query["delay"])
        return sc

    # ---- handlers

    async def _record(self, request: web.Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            body = None
        rec = RecordedRequest(
            request.method,
            request.path,
            {k.lower(): v for k, v in request.headers.items()},
            body,
            time.monotonic(),
        )
        with self._changed:
            self.requests.append(rec)
            self._changed.notify_all()
        return body

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        model = str((body or {}).get("model", ""))
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        sc = self.resolve(model)
        if sc is None:
            return web.json_response(openai_error_body(404, model, "", key), status=404)
        if sc.answer_tool_results and latest_tool_results(body):
            sc = answer_to(latest_tool_results(body))
        if sc.status != 200:
            return self._error_response(
                sc, openai_error_body(sc.status, model, sc.error_message, key)
            )
        if sc.reject_stream_options and "stream_options" in body:
            err = openai_error_body(
                400, model, "Unrecognized request argument supplied: stream_options", key
            )
            return web.json_response(err, status=400)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = openai_events(sc, model, include_usage)
        return await self._stream(request, sc, events, openai_error_event(sc.error_message), model)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        model = str((body or {}).get("model", ""))
        key = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
        key = key.removeprefix("Bearer ")
        sc = self.resolve(model)
        if sc is None:
            return web.json_response(anthropic_error_body(404, model, "", key), status=404)
        if sc.answer_tool_results and latest_tool_results(body):
            sc = answer_to(latest_tool_results(body))
        if sc.status != 200:
            return self._error_response(
                sc, anthropic_error_body(sc.status, model, sc.error_message, key)
            )
        refusal = unsigned_tool_turn(body)
        if refusal is not None:
            err = anthropic_error_body(400, model, refusal, key)
            return web.json_response(err, status=400)
        events = anthropic_events(sc, model)
        error = anthropic_error_event(sc.error_message or "Overloaded")
        return await self._stream(request, sc, events, error, model)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        from wire_responses import responses_response  # it imports this module: not at the top

        return await responses_response(self, request)

    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        from wire_gemini import gemini_response  # it imports this module: not at the top

        return await gemini_response(self, request)

    @staticmethod
    def _error_response(sc: Scenario, body: dict[str, Any]) -> web.Response:
        headers = {}
        if sc.retry_after is not None:
            headers["retry-after"] = f"{sc.retry_after:g}"
        return web.json_response(body, status=sc.status, headers=headers)

    async def _stream(
        self,
        request: web.Request,
        sc: Scenario,
        events: Iterator[WireEvent],
        error_event: WireEvent,
        model: str,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        resp.enable_chunked_encoding()
        task = asyncio.current_task()
        assert task is not None
        self._active.add(task)
        sent = content = 0
        loop = asyncio.get_running_loop()
        paced = PacedStream(model, []) if sc.delay else None
        if paced is not None:
            self.paced.append(paced)
        try:
            await resp.prepare(request)
            due = loop.time()
            for event in events:
                if sent and sc.delay:
                    # Paced on a fixed schedule, so write overhead does not add up over a stream.
                    due += sc.delay
                    await asyncio.sleep(max(0.0, due - loop.time()))
                await self._write(resp, event.data, sc.split_utf8)
                if paced is not None:
                    paced.sent_at.append(time.monotonic())
                sent += 1
                content += event.content
                if not event.content:
                    continue
                if content == sc.stall_after:
                    await asyncio.sleep(sc.stall)
                    due = loop.time()
                if content == sc.error_after:
                    await resp.write(error_event.data)
                    break
                if content == sc.cut_after:
                    assert request.transport is not None
                    request.transport.abort()
                    return resp
            await resp.write_eof()
        except asyncio.CancelledError:
            self._record_disconnect(request.path, model, sent)
            raise
        except ConnectionResetError:  # gone between two writes, before the cancel arrived
            self._record_disconnect(request.path, model, sent)
        finally:
            self._active.discard(task)
        return resp

    def _record_disconnect(self, path: str, model: str, sent: int) -> None:
        if self._stopping:
            return
        with self._changed:
            self.disconnects.append(Disconnect(path, model, time.monotonic(), sent))
            self._changed.notify_all()

    @staticmethod
    async def _write(resp: web.StreamResponse, data: bytes, split_utf8: bool) -> None:
        if split_utf8:
            first = next((i for i, b in enumerate(data) if b >= 0x80), None)
            if first is not None:
                # Cut inside the first multi-byte character, so a decoder must carry bytes over.
                await resp.write(data[: first + 1])
                await asyncio.sleep(0.001)
                data = data[first + 1 :]
        await resp.write(data)

    # ---- control endpoints

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "openai_base_url": self.openai_base_url,
                "anthropic_base_url": self.anthropic_base_url,
            }
        )

    async def _get_requests(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(r) for r in self.requests])

    async def _get_paced(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(p) for p in self.paced])

    async def _get_disconnects(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(d) for d in self.disconnects])

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _put_scenario(self, request: web.Request) -> web.Response:
        try:
            sc = Scenario.from_dict(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        name = self.add_scenario(request.match_info["name"], sc)
        return web.json_response({"model": name})

    async def _put_text(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.add_text(name, await request.text())
        return web.json_response({"model": self.text_model(name)})


def free_port() -> int:
    """A port nothing listens on right now (for connection-refused tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = WireServer(port=args.port).start()
    print(
        _json(
            {
                "url": server.url,
                "openai_base_url": server.openai_base_url,
                "anthropic_base_url": server.anthropic_base_url,
            }
        ),
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
