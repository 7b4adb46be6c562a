"""Anthropic's Messages API (registered as `anthropic:`).

Iterates the raw event stream (`messages.create(stream=True)`) rather than the
`messages.stream()` helper: the helper rebuilds a snapshot of the whole message on every event
(appending to one string, re-parsing all tool JSON so far), which grows with the answer's length.
We need only the deltas. The answer counts as finished only at `message_stop`; a stream that ends
before it yields no finish reason, which `stream()` reports as interrupted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import cache
from typing import Any

import anthropic

from llmwidgets.chunks import (
    Message,
    Request,
    StreamChunk,
    ToolCall,
    ToolCallAccumulator,
    ToolCallDelta,
    Usage,
    normalize_finish_reason,
)
from llmwidgets.errors import AuthenticationError
from llmwidgets.providers._http import (
    CallContext,
    SDKErrors,
    chosen_options,
    loop_identity,
    named_params,
    read_api_key,
    safe_cause,
    sdk_kwargs,
    translate,
    transport_errors,
)
from llmwidgets.providers.base import ProviderConfig

_SDK_ERRORS = SDKErrors(
    base=anthropic.AnthropicError,
    status=anthropic.APIStatusError,
    timeout=anthropic.APITimeoutError,
    connection=anthropic.APIConnectionError,
)

#: Anthropic requires max_tokens; this is what we ask for when the caller did not say.
DEFAULT_MAX_TOKENS = 4096
DEFAULT_BASE_URL = "https://api.anthropic.com"


@cache
def _create_params() -> frozenset[str]:
    """Keyword arguments `messages.create` names in the installed SDK."""
    from anthropic.resources.messages import AsyncMessages

    return named_params(AsyncMessages.create)


def _snapshot(acc: ToolCallAccumulator) -> tuple[ToolCall, ...]:
    return tuple(dataclasses.replace(c) for c in acc.calls)


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
            content: list[dict[str, Any]] = (
                [{"type": "text", "text": m.content}] if m.content else []
            )
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
        else:
            out.append({"role": m.role, "content": m.content})
    return ("\n\n".join(systems) or None), out


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


class AnthropicProvider:
    """Streams Claude answers: text, thinking (kept apart), tool calls and usage."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        self.label = "Anthropic"
        self.note = ""
        self.env_var = config.api_key_env or "ANTHROPIC_API_KEY"
        self.base_url = config.base_url
        self._client: anthropic.AsyncAnthropic | None = None
        self._client_loop: object = None

    def _get_client(self) -> anthropic.AsyncAnthropic:
        """One client per provider, remade if the key changed or we are on another event loop."""
        key = read_api_key(self.name, self.label, self.env_var)
        loop = loop_identity()
        if self._client is None or self._client.api_key != key or self._client_loop is not loop:
            self._client = anthropic.AsyncAnthropic(
                api_key=key,
                base_url=self.base_url,
                max_retries=0,
                default_headers=dict(self.config.headers) or None,
            )
            self._client_loop = loop
        return self._client

    def _options(self, request: Request) -> dict[str, Any]:
        """Config and call options; OpenAI's `stop` is taken as `stop_sequences`, and a single
        stop string as a list of one, the only shape the API accepts."""
        options = {**self.config.options, **request.options}
        if "stop" in options and "stop_sequences" not in options:
            options["stop_sequences"] = options.pop("stop")
        stop = options.get("stop_sequences")
        if stop is not None:
            options["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        return options

    def _kwargs(self, request: Request) -> dict[str, Any]:
        """The `messages.create` arguments: fields this SDK release does not name (2.x dropped
        temperature, top_p, top_k) go in extra_body, so every option reaches the API."""
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
        body.update(self._options(request))
        kwargs = sdk_kwargs(body, _create_params())
        kwargs["timeout"] = anthropic.Timeout(request.timeout, connect=min(request.timeout, 10.0))
        return kwargs

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        try:
            client = self._get_client()
        except AuthenticationError as err:
            err.model = request.model
            raise
        ctx = CallContext(
            provider=self.name,
            label=self.label,
            model=request.model,
            base_url=str(client.base_url).rstrip("/") or DEFAULT_BASE_URL,
            env_var=self.env_var,
            timeout=request.timeout,
            options=chosen_options(request, self.config.options),
        )
        raw_errors = (_SDK_ERRORS.base, *transport_errors())
        try:
            sdk_stream = await client.messages.create(**self._kwargs(request))
        except raw_errors as exc:
            raise translate(exc, ctx, _SDK_ERRORS, started=False) from safe_cause(exc)

        model = request.model
        acc = ToolCallAccumulator()
        tool_index: dict[int, int] = {}  # content block index -> 0-based tool-call index
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        try:
            async with sdk_stream:
                async for event in sdk_stream:
                    kind = event.type
                    if kind == "content_block_delta":
                        d = event.delta
                        if d.type == "text_delta":
                            if d.text:
                                yield StreamChunk(delta=d.text, model=model)
                        elif d.type == "thinking_delta":
                            if d.thinking:
                                yield StreamChunk(thinking=d.thinking, model=model)
                        elif d.type == "input_json_delta":
                            if event.index in tool_index and d.partial_json:
                                acc.add(
                                    ToolCallDelta(tool_index[event.index], arguments=d.partial_json)
                                )
                                yield StreamChunk(model=model, tool_calls=_snapshot(acc))
                    elif kind == "message_start":
                        model = event.message.model or model
                        input_tokens = _input_tokens(event.message.usage)
                        output_tokens = int(event.message.usage.output_tokens or 0)
                    elif kind == "content_block_start":
                        block = event.content_block
                        if block.type == "tool_use":
                            index = tool_index[event.index] = len(tool_index)
                            given = getattr(block, "input", None)
                            acc.add(
                                ToolCallDelta(
                                    index,
                                    id=block.id,
                                    name=block.name,
                                    arguments=json.dumps(given) if given else "",
                                )
                            )
                            yield StreamChunk(model=model, tool_calls=_snapshot(acc))
                        elif block.type == "text" and block.text:
                            yield StreamChunk(delta=block.text, model=model)
                    elif kind == "message_delta":
                        stop_reason = event.delta.stop_reason or stop_reason
                        usage = event.usage
                        output_tokens = int(usage.output_tokens or output_tokens)
                        if getattr(usage, "input_tokens", None) is not None:
                            input_tokens = _input_tokens(usage)
                    elif kind == "message_stop":
                        raw = stop_reason or "end_turn"
                        yield StreamChunk(
                            model=model,
                            finish_reason=normalize_finish_reason(raw),
                            raw_finish_reason=raw,
                            usage=Usage(input_tokens, output_tokens),
                            tool_calls=_snapshot(acc) if acc else (),
                        )
                    # ping, content_block_stop, signature deltas: nothing to pass on
        except raw_errors as exc:
            raise translate(exc, ctx, _SDK_ERRORS, started=True) from safe_cause(exc)
