"""OpenAI's Chat Completions stream as api.openai.com sends it, and its error bodies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

from wire_scenarios import Scenario, WireEvent, _sse


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
