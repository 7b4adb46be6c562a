"""Anthropic's Messages stream as api.anthropic.com sends it, its error bodies, and the rule
it enforces on tool turns when thinking is on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from wire_scenarios import Scenario, ToolFragment, WireEvent, _sse, latest_tool_results

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
