"""OpenAI's Responses API (registered as `openai-responses:`), for what Chat Completions never
returns: a reasoning model's reasoning summaries, streamed as thinking.

The request is the Chat Completions one reshaped: the system prompt as `instructions`, the history
as input items (tool calls as `function_call` items, results as `function_call_output`), tools
flattened, `max_tokens` as `max_output_tokens`, and `store` off unless asked for (Chat Completions
stores nothing by default either). `thinking=True` asks for reasoning summaries; `thinking="high"`
also sets the effort.

The stream is typed events: text and reasoning-summary deltas, function calls opened by
`response.output_item.added` and filled by `response.function_call_arguments.delta`. The answer
has finished only at `response.completed` (or `response.incomplete`, cut by the token limit),
which carries the usage; `response.failed` and `error` events end it with a typed error. Client,
key and errors are the OpenAI provider's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import openai

from llmwidgets._chunks import FinishReason, Message, Request, StreamChunk, Usage
from llmwidgets._errors import ConfigurationError, LLMWidgetsError
from llmwidgets._providers._assemble import ToolCallAccumulator, ToolCallDelta
from llmwidgets._providers._chat import _field as field_of
from llmwidgets._providers._chat import snapshot
from llmwidgets._providers._http import named_params, stream_error
from llmwidgets._providers._sdk import SDKProvider
from llmwidgets._providers.openai import OpenAIProvider

#: Why a response ended early (`incomplete_details.reason`), as a finish reason.
INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


@cache
def _create_params() -> frozenset[str]:
    """Keyword arguments `responses.create` names in the installed SDK."""
    try:
        from openai.resources.responses import AsyncResponses
    except ImportError:  # the Responses API came with openai 1.66
        raise ConfigurationError(
            "openai-responses: needs a newer OpenAI SDK: pip install -U 'openai>=1.66'."
        ) from None
    return named_params(AsyncResponses.create)


def reasoning_option(value: Any) -> dict[str, Any] | None:
    """The API's `reasoning` field from `thinking`: `True` (summaries), an effort ("low",
    "medium", "high": summaries too), or `False` (None: leave the field out). A dict passes."""
    if isinstance(value, dict):
        return value
    if value is True:
        return {"summary": "auto"}
    if isinstance(value, str) and value:
        return {"effort": value, "summary": "auto"}
    return None


def to_response_input(
    messages: Sequence[Message], system: str | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """Our OpenAI-shaped history as Responses input items: system apart (`instructions`), tool
    calls as `function_call` items and their results as `function_call_output` items."""
    systems = [system] if system else []
    items: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            systems.append(m.content)
        elif m.role == "tool":
            items.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": m.content}
            )
        elif m.role == "assistant" and m.tool_calls:
            if m.content:
                items.append({"role": "assistant", "content": m.content})
            items.extend(
                {
                    "type": "function_call",
                    "call_id": tc.id,
                    "name": tc.name,
                    "arguments": tc.arguments or "{}",
                }
                for tc in m.tool_calls
            )
        elif m.images:
            parts = [{"type": "input_text", "text": m.content}] if m.content else []
            parts += [
                {"type": "input_image", "image_url": image.data_url, "detail": "auto"}
                for image in m.images
            ]
            items.append({"role": m.role, "content": parts})
        else:
            items.append({"role": m.role, "content": m.content})
    return ("\n\n".join(systems) or None), items


def to_response_tools(tools: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions function tools flattened (`{"type": "function", "name": ...}`), strict
    only when asked for, as in Chat Completions; other tools (web_search, ...) pass as they are."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        fn = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(fn, dict):
            out.append(tool)
            continue
        flat: dict[str, Any] = {
            "type": "function",
            "name": fn["name"],
            "parameters": fn.get("parameters") or {"type": "object", "properties": {}},
            "strict": bool(fn.get("strict", False)),
        }
        if fn.get("description"):
            flat["description"] = fn["description"]
        out.append(flat)
    return out


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    details = field_of(raw, "output_tokens_details")
    return Usage(
        input_tokens=int(field_of(raw, "input_tokens") or 0),
        output_tokens=int(field_of(raw, "output_tokens") or 0),
        reasoning_tokens=int((field_of(details, "reasoning_tokens") if details else 0) or 0),
    )


class _ResponsesMapper:
    """One stream's Responses events as `StreamChunk`s. Nested fields are read as objects or
    dicts (`field_of`): an SDK release that does not know an event leaves them dicts."""

    def __init__(self, model: str, provider: str, label: str) -> None:
        self.model = model
        self.provider = provider
        self.label = label
        self.acc = ToolCallAccumulator()
        self.tool_index: dict[str, int] = {}  # function_call item id -> 0-based tool-call index
        self.summary: tuple[str, int] | None = None  # the summary part thinking last came from

    def feed(self, event: Any) -> StreamChunk | None:
        kind = field_of(event, "type") or ""
        if not kind and field_of(event, "event"):  # older SDKs (1.66) wrap an `error` event
            event = field_of(event, "data")
            kind = field_of(event, "type") or ""
        if kind == "response.output_text.delta":
            return StreamChunk(delta=event.delta, model=self.model) if event.delta else None
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            return self._thinking(event)
        if kind == "response.function_call_arguments.delta":
            index = self.tool_index.get(event.item_id)
            if index is None or not event.delta:
                return None
            self.acc.add(ToolCallDelta(index, arguments=event.delta))
            return StreamChunk(model=self.model, tool_calls=snapshot(self.acc))
        if kind == "response.output_item.added":
            return self._item_added(event.item)
        if kind == "response.created":
            self.model = field_of(event.response, "model") or self.model
        elif kind in ("response.completed", "response.incomplete"):
            return self._end(event.response)
        elif kind == "response.failed":
            error = field_of(event.response, "error") or {}
            raise self._error(field_of(error, "message") or "", field_of(error, "code") or "")
        elif kind == "error":
            raise self._error(field_of(event, "message") or "", field_of(event, "code") or "")
        return None

    def _thinking(self, event: Any) -> StreamChunk | None:
        if not event.delta:
            return None
        part = (event.item_id, int(field_of(event, "summary_index") or 0))
        gap = "\n\n" if self.summary is not None and self.summary != part else ""
        self.summary = part
        return StreamChunk(thinking=gap + event.delta, model=self.model)

    def _item_added(self, item: Any) -> StreamChunk | None:
        if field_of(item, "type") != "function_call":
            return None
        index = self.tool_index[field_of(item, "id")] = len(self.tool_index)
        self.acc.add(
            ToolCallDelta(
                index,
                id=field_of(item, "call_id"),
                name=field_of(item, "name"),
                arguments=field_of(item, "arguments") or "",
            )
        )
        return StreamChunk(model=self.model, tool_calls=snapshot(self.acc))

    def _end(self, response: Any) -> StreamChunk:
        details = field_of(response, "incomplete_details")
        reason = field_of(details, "reason") if details else None
        raw = str(reason or field_of(response, "status") or "completed")
        finish: FinishReason = INCOMPLETE.get(raw, "tool_calls" if self.acc else "stop")
        return StreamChunk(
            model=field_of(response, "model") or self.model,
            finish_reason=finish,
            raw_finish_reason=raw,
            usage=_usage(field_of(response, "usage")),
            tool_calls=snapshot(self.acc) if self.acc else (),
        )

    def _error(self, message: str, code: str) -> LLMWidgetsError:
        return stream_error(
            self.label,
            self.provider,
            self.model,
            message.rstrip("."),
            rate_limited=code in ("rate_limit_exceeded", "rate_limit_error"),
            detail=code,
        )


class OpenAIResponsesProvider(OpenAIProvider):
    """Streams from OpenAI's Responses API: text, reasoning summaries, tool calls and usage."""

    structured_output = True  # `text.format`, not Chat Completions' response_format

    @classmethod
    def _named_params(cls) -> frozenset[str]:
        return _create_params()

    async def _create(self, client: openai.AsyncOpenAI, kwargs: dict[str, Any]) -> Any:
        return await client.responses.create(**kwargs)

    async def _open(self, client: openai.AsyncOpenAI, request: Request) -> Any:
        # The Chat Completions retry without stream_options does not apply here.
        return await SDKProvider._open(self, client, request)

    def _mapper(self, request: Request) -> _ResponsesMapper:
        return _ResponsesMapper(request.model, self.name, self.label)

    def _body(self, request: Request) -> dict[str, Any]:
        """The `responses.create` fields, before they are split into named ones and extra_body."""
        instructions, items = to_response_input(request.messages, request.system)
        body: dict[str, Any] = {
            "model": request.model,
            "input": items,
            "stream": True,
            "store": False,
        }
        if instructions:
            body["instructions"] = instructions
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_output_tokens"] = request.max_tokens
        if request.tools:
            body["tools"] = to_response_tools(request.tools)
        if request.response_format is not None:
            fmt = request.response_format
            body["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": fmt.name,
                    "schema": fmt.schema,
                    "strict": fmt.strict,
                }
            }
        options = {**self.config.options, **request.options}
        if "stop_sequences" in options and "stop" not in options:
            options["stop"] = options.pop("stop_sequences")
        if "max_tokens" in options and "max_output_tokens" not in options:
            options["max_output_tokens"] = options.pop("max_tokens")
        if "thinking" in options:
            reasoning = reasoning_option(options.pop("thinking"))
            if reasoning is not None:
                options["reasoning"] = reasoning
        body.update(options)
        return body
