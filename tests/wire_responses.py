"""OpenAI's Responses API wire format for the loopback server: `POST /v1/responses` events
rendered from a `Scenario`, errors in OpenAI's JSON error shape.

Each event is ``event: <type>`` and ``data: {json}`` as api.openai.com sends them, numbered by
`sequence_number`. Output items come one after another (reasoning, message, function calls, each
whole before the next), so a scenario's interleaved tool-call fragments are grouped by call. The
answer ends with `response.completed` carrying the usage, or `response.incomplete` when the
token limit cut it. `RESPONSES_ONLY` names the answers only this API gives (a response that
fails after it started, reasoning summarised in two parts).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from wire_openai import openai_error_body
from wire_scenarios import Scenario, ToolFragment, WireEvent, answer_to, latest_tool_results

if TYPE_CHECKING:
    from wire_server import WireServer


class _Events:
    """Numbers events as the API does (`sequence_number` from 0)."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self, data: dict[str, Any], content: bool = False) -> WireEvent:
        data = {**data, "sequence_number": self.next}
        self.next += 1
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return WireEvent(f"event: {data['type']}\ndata: {payload}\n\n".encode(), content)


def _calls(fragments: list[ToolFragment]) -> list[list[ToolFragment]]:
    grouped: dict[int, list[ToolFragment]] = {}
    for frag in fragments:
        grouped.setdefault(frag.index, []).append(frag)
    return list(grouped.values())


def responses_events(sc: Scenario, model: str) -> Iterator[WireEvent]:
    """Responses stream events exactly as api.openai.com sends them."""
    event = _Events()
    response_id = f"resp_{uuid.uuid4().hex}"
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "model": model,
        "output": [],
        "usage": None,
        "error": None,
        "incomplete_details": None,
    }
    yield event({"type": "response.created", "response": response})
    yield event({"type": "response.in_progress", "response": response})
    output: list[dict[str, Any]] = []

    def item_events(item: dict[str, Any], body: Iterator[WireEvent]) -> Iterator[WireEvent]:
        index = len(output)
        yield event(
            {"type": "response.output_item.added", "output_index": index, "item": item},
            content=item["type"] == "function_call",
        )
        yield from body
        output.append(item)
        yield event({"type": "response.output_item.done", "output_index": index, "item": item})

    if sc.thinking:
        rs = {"id": f"rs_{uuid.uuid4().hex[:16]}", "type": "reasoning", "summary": []}
        where = {"item_id": rs["id"], "output_index": len(output), "summary_index": 0}

        def summary() -> Iterator[WireEvent]:
            part = {"type": "summary_text", "text": ""}
            yield event({"type": "response.reasoning_summary_part.added", **where, "part": part})
            for piece in sc.thinking:
                yield event(
                    {"type": "response.reasoning_summary_text.delta", **where, "delta": piece},
                    content=True,
                )
            text = "".join(sc.thinking)
            yield event({"type": "response.reasoning_summary_text.done", **where, "text": text})
            done = {"type": "summary_text", "text": text}
            yield event({"type": "response.reasoning_summary_part.done", **where, "part": done})

        yield from item_events(rs, summary())
    if sc.text:
        msg = {
            "id": f"msg_{uuid.uuid4().hex[:16]}",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        where = {"item_id": msg["id"], "output_index": len(output), "content_index": 0}

        def text() -> Iterator[WireEvent]:
            part = {"type": "output_text", "text": "", "annotations": []}
            yield event({"type": "response.content_part.added", **where, "part": part})
            for piece in sc.text:
                yield event(
                    {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []},
                    content=True,
                )
            whole = "".join(sc.text)
            yield event({"type": "response.output_text.done", **where, "text": whole})
            done = {"type": "output_text", "text": whole, "annotations": []}
            yield event({"type": "response.content_part.done", **where, "part": done})

        yield from item_events(msg, text())
    for frags in _calls(sc.tool_calls):
        head = frags[0]
        fc = {
            "id": f"fc_{uuid.uuid4().hex[:16]}",
            "type": "function_call",
            "status": "in_progress",
            "call_id": head.id or f"call_{head.index}",
            "name": head.name or "tool",
            "arguments": "",
        }
        where = {"item_id": fc["id"], "output_index": len(output)}

        def arguments(frags: list[ToolFragment] = frags, where: dict[str, Any] = where) -> Any:
            for frag in frags:
                if frag.arguments:
                    yield event(
                        {
                            "type": "response.function_call_arguments.delta",
                            **where,
                            "delta": frag.arguments,
                        },
                        content=True,
                    )
            whole = "".join(f.arguments for f in frags)
            yield event(
                {"type": "response.function_call_arguments.done", **where, "arguments": whole}
            )

        yield from item_events(fc, arguments())
    if not sc.end:
        return
    prompt, completion = sc.usage
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": sc.reasoning_tokens},
        "total_tokens": prompt + completion,
    }
    if sc.finish_reason == "length":
        final = {
            **response,
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
        }
        kind = "response.incomplete"
    else:
        final = {**response, "status": "completed"}
        kind = "response.completed"
    yield event({"type": kind, "response": {**final, "output": output, "usage": usage}})


#: Model names answered with a response that fails after starting: the error it gives.
def failed_events(model: str) -> Iterator[WireEvent]:
    """`response.created`, one text delta, then `response.failed` with the error."""
    event = _Events()
    response = {"id": "resp_failed", "object": "response", "status": "in_progress", "model": model}
    yield event({"type": "response.created", "response": response})
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    delta = {"type": "response.output_text.delta", **where, "delta": "Partial", "logprobs": []}
    yield event(delta, content=True)
    error = {"code": "server_error", "message": "The model failed to respond"}
    failed = {**response, "status": "failed", "error": error}
    yield event({"type": "response.failed", "response": failed})


def two_summaries_events(model: str) -> Iterator[WireEvent]:
    """Reasoning summarised in two parts (summary_index 0 and 1), then a short answer."""
    event = _Events()
    response = {"id": "resp_two", "object": "response", "status": "in_progress", "model": model}
    yield event({"type": "response.created", "response": response})
    for index, text in enumerate(["**Planning**", "**Answering**"]):
        where = {"item_id": "rs_1", "output_index": 0, "summary_index": index}
        yield event({"type": "response.reasoning_summary_text.delta", **where, "delta": text})
    where = {"item_id": "msg_1", "output_index": 1, "content_index": 0}
    yield event({"type": "response.output_text.delta", **where, "delta": "Hi", "logprobs": []})
    usage = {"input_tokens": 12, "output_tokens": 34, "output_tokens_details": {}}
    done = {**response, "status": "completed", "usage": usage}
    yield event({"type": "response.completed", "response": done})


#: Model names answered with what only this API sends.
RESPONSES_ONLY: dict[str, Callable[[str], Iterator[WireEvent]]] = {
    "response-failed": failed_events,
    "two-summaries": two_summaries_events,
}


def responses_error_event(message: str) -> WireEvent:
    """An `error` event inside a 200 stream."""
    data = {
        "type": "error",
        "code": "server_error",
        "message": message or "Overloaded",
        "param": None,
        "sequence_number": 99,
    }
    payload = json.dumps(data, separators=(",", ":"))
    return WireEvent(f"event: error\ndata: {payload}\n\n".encode())


async def responses_response(server: WireServer, request: web.Request) -> web.StreamResponse:
    """Answer one `POST /v1/responses`."""
    body = await server._record(request)
    model = str((body or {}).get("model", ""))
    key = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if model in RESPONSES_ONLY:
        events = RESPONSES_ONLY[model](model)
        return await server._stream(request, Scenario(), events, responses_error_event(""), model)
    sc = server.resolve(model)
    if sc is None:
        return web.json_response(openai_error_body(404, model, "", key), status=404)
    if sc.status != 200:
        return server._error_response(
            sc, openai_error_body(sc.status, model, sc.error_message, key)
        )
    if sc.answer_tool_results and latest_tool_results(body):
        sc = answer_to(latest_tool_results(body))
    events = responses_events(sc, model)
    return await server._stream(request, sc, events, responses_error_event(sc.error_message), model)
