"""Anthropic's Messages API (registered as `anthropic:`).

Iterates the raw event stream (`messages.create(stream=True)`) rather than the
`messages.stream()` helper: the helper rebuilds a snapshot of the whole message on every event
(appending to one string, re-parsing all tool JSON so far), which grows with the answer's length.
We need only the deltas. The answer counts as finished only at `message_stop`; a stream that ends
before it yields no finish reason, which `stream()` reports as interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import anthropic

from llmwidgets._chunks import ImagePart, Message, Request, StreamChunk, ThinkingBlock, Usage
from llmwidgets._providers._assemble import (
    ToolCallAccumulator,
    ToolCallDelta,
    normalize_finish_reason,
)
from llmwidgets._providers._chat import snapshot
from llmwidgets._providers._http import SDKErrors, named_params
from llmwidgets._providers._sdk import SDKProvider
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._providers.keys import ANTHROPIC_API_KEY

#: Anthropic requires max_tokens; this is what we ask for when the caller did not say.
DEFAULT_MAX_TOKENS = 4096
DEFAULT_BASE_URL = "https://api.anthropic.com"
#: Thinking budget for `thinking=True`; the API's minimum is 1,024.
DEFAULT_THINKING_BUDGET = 2048


def thinking_option(value: Any) -> dict[str, Any] | None:
    """The API's `thinking` field from the short forms: `True` (a default budget), a token
    budget (`thinking=4000`), or `False`/`0` (None: leave the field out). A dict passes as is."""
    if isinstance(value, dict):
        return value
    if value is True:
        return {"type": "enabled", "budget_tokens": DEFAULT_THINKING_BUDGET}
    if not value:
        return None
    return {"type": "enabled", "budget_tokens": int(value)}


@cache
def _create_params() -> frozenset[str]:
    """Keyword arguments `messages.create` names in the installed SDK."""
    from anthropic.resources.messages import AsyncMessages

    return named_params(AsyncMessages.create)


def to_anthropic_messages(
    messages: Sequence[Message], system: str | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """Our OpenAI-shaped messages as Anthropic's: system apart, tool calls as content blocks."""
    systems = [system] if system else []
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            systems.append(m.content)
        elif m.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id or "",
                "content": m.content,
            }
            last = out[-1] if out else None
            if (
                last is not None
                and last["role"] == "user"
                and isinstance(last["content"], list)
                and last["content"][-1].get("type") == "tool_result"
            ):
                last["content"].append(block)  # results of parallel calls go in one turn
            else:
                out.append({"role": "user", "content": [block]})
        elif m.role == "assistant" and m.tool_calls:
            content: list[dict[str, Any]] = [thinking_block(b) for b in m.thinking_blocks]
            if m.content:
                content.append({"type": "text", "text": m.content})
            content.extend(
                {
                    "type": "tool_use",
                    "id": tc.id,
                    "name": tc.name,
                    "input": tc.parsed_arguments or {},
                }
                for tc in m.tool_calls
            )
            out.append({"role": "assistant", "content": content})
        elif m.images:
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [image_block(image) for image in m.images]
            out.append({"role": m.role, "content": blocks})
        else:
            out.append({"role": m.role, "content": m.content})
    return ("\n\n".join(systems) or None), out


def image_block(image: ImagePart) -> dict[str, Any]:
    source = {"type": "base64", "media_type": image.media_type, "data": image.base64}
    return {"type": "image", "source": source}


def thinking_block(block: ThinkingBlock) -> dict[str, Any]:
    if block.redacted:
        return {"type": "redacted_thinking", "data": block.redacted}
    return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}


def to_anthropic_tools(tools: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style function tools as Anthropic tools; tools already in Anthropic's shape pass."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        fn = tool.get("function") if tool.get("type") == "function" else None
        if isinstance(fn, dict):
            converted: dict[str, Any] = {
                "name": fn["name"],
                "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
            }
            if fn.get("description"):
                converted["description"] = fn["description"]
            out.append(converted)
        else:
            out.append(tool)
    return out


def _input_tokens(usage: Any) -> int:
    """Input tokens including cached ones, which the API counts apart."""
    total = 0
    for attr in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        total += int(getattr(usage, attr, 0) or 0)
    return total


class _MessagesMapper:
    """One stream's Messages events as `StreamChunk`s. The answer counts as finished only at
    `message_stop`; usage comes from `message_start` and `message_delta`."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.acc = ToolCallAccumulator()
        self.tool_index: dict[int, int] = {}  # content block index -> 0-based tool-call index
        self.input_tokens = self.output_tokens = 0
        self.stop_reason: str | None = None
        # Thinking blocks by content block index: [text pieces, signature, redacted data].
        self.thinking: dict[int, list[Any]] = {}

    def feed(self, event: Any) -> StreamChunk | None:
        kind = event.type
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "message_start":
            self.model = event.message.model or self.model
            self.input_tokens = _input_tokens(event.message.usage)
            self.output_tokens = int(event.message.usage.output_tokens or 0)
        elif kind == "content_block_start":
            return self._block_start(event)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            usage = event.usage
            self.output_tokens = int(usage.output_tokens or self.output_tokens)
            if getattr(usage, "input_tokens", None) is not None:
                self.input_tokens = _input_tokens(usage)
        elif kind == "message_stop":
            raw = self.stop_reason or "end_turn"
            return StreamChunk(
                model=self.model,
                finish_reason=normalize_finish_reason(raw),
                raw_finish_reason=raw,
                usage=Usage(self.input_tokens, self.output_tokens),
                tool_calls=snapshot(self.acc) if self.acc else (),
                thinking_blocks=tuple(
                    ThinkingBlock("".join(text), signature, redacted)
                    for _, (text, signature, redacted) in sorted(self.thinking.items())
                ),
            )
        # ping, content_block_stop: nothing to pass on
        return None

    def _delta(self, event: Any) -> StreamChunk | None:
        d = event.delta
        if d.type == "text_delta":
            return StreamChunk(delta=d.text, model=self.model) if d.text else None
        if d.type == "thinking_delta":
            if event.index in self.thinking:
                self.thinking[event.index][0].append(d.thinking)
            return StreamChunk(thinking=d.thinking, model=self.model) if d.thinking else None
        if d.type == "signature_delta" and event.index in self.thinking:
            self.thinking[event.index][1] += d.signature
            return None
        if d.type == "input_json_delta" and event.index in self.tool_index and d.partial_json:
            self.acc.add(ToolCallDelta(self.tool_index[event.index], arguments=d.partial_json))
            return StreamChunk(model=self.model, tool_calls=snapshot(self.acc))
        return None  # signature deltas, or JSON for a block we do not track

    def _block_start(self, event: Any) -> StreamChunk | None:
        block = event.content_block
        if block.type == "tool_use":
            index = self.tool_index[event.index] = len(self.tool_index)
            given = getattr(block, "input", None)
            self.acc.add(
                ToolCallDelta(
                    index,
                    id=block.id,
                    name=block.name,
                    arguments=json.dumps(given) if given else "",
                )
            )
            return StreamChunk(model=self.model, tool_calls=snapshot(self.acc))
        if block.type == "thinking":
            given = getattr(block, "thinking", "") or ""
            self.thinking[event.index] = [[given], getattr(block, "signature", "") or "", ""]
        elif block.type == "redacted_thinking":
            self.thinking[event.index] = [[], "", getattr(block, "data", "") or ""]
        if block.type == "text" and block.text:
            return StreamChunk(delta=block.text, model=self.model)
        return None


class AnthropicProvider(SDKProvider[anthropic.AsyncAnthropic]):
    """Streams Claude answers: text, thinking (kept apart), tool calls and usage."""

    sdk_errors = SDKErrors(
        base=anthropic.AnthropicError,
        status=anthropic.APIStatusError,
        timeout=anthropic.APITimeoutError,
        connection=anthropic.APIConnectionError,
    )
    timeout_type = anthropic.Timeout
    client_type = anthropic.AsyncAnthropic
    default_base_url = DEFAULT_BASE_URL
    structured_output = True  # output_config.format (older SDKs send it in extra_body)
    images = True  # base64 image blocks

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(
            config,
            label="Anthropic",
            env_var=config.api_key_env or ANTHROPIC_API_KEY,
            base_url=config.base_url,
        )

    @classmethod
    def _named_params(cls) -> frozenset[str]:
        # 2.x dropped temperature, top_p and top_k from the signature: they go in extra_body.
        return _create_params()

    async def _create(self, client: anthropic.AsyncAnthropic, kwargs: dict[str, Any]) -> Any:
        return await client.messages.create(**kwargs)

    def _mapper(self, request: Request) -> _MessagesMapper:
        return _MessagesMapper(request.model)

    def _options(self, request: Request) -> dict[str, Any]:
        """Config and call options; OpenAI's `stop` is taken as `stop_sequences`, and a single
        stop string as a list of one, the only shape the API accepts."""
        options = {**self.config.options, **request.options}
        if "stop" in options and "stop_sequences" not in options:
            options["stop_sequences"] = options.pop("stop")
        stop = options.get("stop_sequences")
        if stop is not None:
            options["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if "thinking" in options:
            thinking = thinking_option(options.pop("thinking"))
            if thinking is not None:
                options["thinking"] = thinking
        return options

    def _body(self, request: Request) -> dict[str, Any]:
        """The `messages.create` fields: system apart, tools in Anthropic's shape."""
        system, messages = to_anthropic_messages(request.messages, request.system)
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "stream": True,
        }
        if system:
            body["system"] = system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = to_anthropic_tools(request.tools)
        options = self._options(request)
        if request.response_format is not None:
            output = dict(options.get("output_config") or {})
            output["format"] = {"type": "json_schema", "schema": request.response_format.schema}
            options["output_config"] = output
        budget = (options.get("thinking") or {}).get("budget_tokens")
        if isinstance(budget, int) and request.max_tokens is None and "max_tokens" not in options:
            # max_tokens counts the thinking too and must exceed its budget.
            body["max_tokens"] = budget + DEFAULT_MAX_TOKENS
        body.update(options)
        return body
