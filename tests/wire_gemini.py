"""Gemini's wire format for the loopback server: `streamGenerateContent?alt=sse` events rendered
from a `Scenario`, and errors in Google's JSON error shape.

The server (`wire_server.py`) routes ``POST /v1beta/models/{model}:streamGenerateContent`` here
(and ``/v1/...``, the API version google-genai 3 asks for);
the model name selects the scenario as for the other APIs. Every event is a ``data: {json}``
line ended by a blank line, with CRLF as Google writes them: the SDK's parser accepts no comment
or ``event:`` lines. Usage rides on every chunk, but only the last one counts the answer's
tokens (earlier ones hold the prompt's count only), as Gemini sends it.

Gemini-only answers are named here (`GEMINI_ONLY`): a prompt refused outright.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from wire_scenarios import Scenario, ToolFragment, WireEvent, answer_to, latest_tool_results

if TYPE_CHECKING:
    from wire_server import WireServer

#: OpenAI's finish spelling (the Scenario's) as Gemini's; other values pass as they are, so a
#: scenario can say "SAFETY" or "MALFORMED_FUNCTION_CALL".
_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS"}

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

#: Model names answered with a refused prompt: the block reason each gives.
GEMINI_ONLY: dict[str, str] = {"blocked-prompt": "PROHIBITED_CONTENT"}


def signature_for(call: ToolFragment) -> bytes:
    """The opaque thought signature the server gives a call (tests check it comes back)."""
    return f"signature-of-{call.name}".encode()


def _event(data: dict[str, Any], content: bool = False) -> WireEvent:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return WireEvent(f"data: {payload}\r\n\r\n".encode(), content)


def _whole_calls(fragments: list[ToolFragment]) -> list[tuple[ToolFragment, dict[str, Any]]]:
    """Gemini sends each call whole: the fragments of one index joined, arguments parsed."""
    heads: dict[int, ToolFragment] = {}
    arguments: dict[int, str] = {}
    for frag in fragments:
        heads.setdefault(frag.index, frag)
        arguments[frag.index] = arguments.get(frag.index, "") + frag.arguments
    return [(heads[i], json.loads(arguments[i] or "{}")) for i in heads]


def gemini_events(sc: Scenario, model: str) -> Iterator[WireEvent]:
    """`GenerateContentResponse` chunks as generativelanguage.googleapis.com streams them."""
    prompt, completion = sc.usage
    response_id = uuid.uuid4().hex[:22]
    early_usage = {"promptTokenCount": prompt, "totalTokenCount": prompt}

    def chunk(parts: list[dict[str, Any]], **candidate: Any) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0, **candidate}],
            "usageMetadata": early_usage,
            "modelVersion": model,
            "responseId": response_id,
        }

    for piece in sc.thinking:
        yield _event(chunk([{"text": piece, "thought": True}]), content=True)
    for piece in sc.text:
        yield _event(chunk([{"text": piece}]), content=True)
    for i, (head, args) in enumerate(_whole_calls(sc.tool_calls)):
        call: dict[str, Any] = {"name": head.name or "tool", "args": args}
        if head.id is not None:
            call["id"] = head.id
        part: dict[str, Any] = {"functionCall": call}
        if i == 0:  # parallel calls: only the first carries the signature
            part["thoughtSignature"] = base64.b64encode(signature_for(head)).decode()
        yield _event(chunk([part]), content=True)
    if not sc.end:
        return
    thoughts = sc.reasoning_tokens
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - thoughts,
        "totalTokenCount": prompt + completion,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        **({"thoughtsTokenCount": thoughts} if thoughts else {}),
    }
    finish = _FINISH.get(sc.finish_reason, sc.finish_reason)
    last = chunk([{"text": ""}], finishReason=finish)
    last["usageMetadata"] = usage
    yield _event(last)


def blocked_prompt_event(reason: str, prompt_tokens: int = 12) -> WireEvent:
    """The one chunk of a refused prompt: feedback, no candidates."""
    return _event(
        {
            "promptFeedback": {"blockReason": reason},
            "usageMetadata": {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens},
            "modelVersion": "blocked-prompt",
        }
    )


def gemini_error_body(status: int, model: str, message: str, key: str) -> dict[str, Any]:
    """Google's JSON error shape: code, message, status and `details` (ErrorInfo, RetryInfo)."""
    details: list[dict[str, Any]] = []
    if status == 401:
        # Echo the key, as some proxies do: our errors must redact it.
        message = message or f"API key not valid: {key}. Please pass a valid API key."
    elif status == 403:
        message = message or "Permission denied: Consumer does not have access to this model."
    elif status == 404:
        message = message or (
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods."
        )
    elif status == 429:
        message = message or (
            "You exceeded your current quota, please check your plan and billing details."
        )
    elif status >= 500:
        message = message or "An internal error has occurred. Please retry or report it."
    if "API key not valid" in message:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        )
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": _STATUS.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def gemini_error_event(message: str) -> WireEvent:
    """An error inside a 200 stream, as Gemini sends one when the model fails mid-answer."""
    return _event(
        {"error": {"code": 503, "message": message or "Overloaded", "status": "UNAVAILABLE"}}
    )


def _retry_details(seconds: float) -> list[dict[str, Any]]:
    """Google says when to retry in the body (RetryInfo), not in a retry-after header."""
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/requests"}],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds:g}s"},
    ]


def model_of(request: web.Request) -> str:
    """The model from the path as sent: a scenario name may hold `?` and `:`, which split the
    URL elsewhere (``text:sample?chunk=4:streamGenerateContent?alt=sse``)."""
    raw = request.raw_path.split("/models/", 1)[1]
    return unquote(raw.rpartition(":streamGenerateContent")[0])


async def gemini_response(server: WireServer, request: web.Request) -> web.StreamResponse:
    """Answer one `streamGenerateContent` request."""
    body = await server._record(request)
    model = model_of(request)
    key = request.headers.get("x-goog-api-key", "")
    if model in GEMINI_ONLY:
        event = iter([blocked_prompt_event(GEMINI_ONLY[model])])
        return await server._stream(request, Scenario(), event, gemini_error_event(""), model)
    sc = server.resolve(model)
    if sc is None:
        return web.json_response(gemini_error_body(404, model, "", key), status=404)
    if sc.status != 200:
        body = gemini_error_body(sc.status, model, sc.error_message, key)
        if sc.retry_after is not None:
            body["error"]["details"] = _retry_details(sc.retry_after)
        return web.json_response(body, status=sc.status)
    if sc.answer_tool_results and latest_tool_results(body):
        sc = answer_to(latest_tool_results(body))
    events = gemini_events(sc, model)
    return await server._stream(request, sc, events, gemini_error_event(sc.error_message), model)
