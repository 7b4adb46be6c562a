"""Gemini's wire format, both ways: our history and tools as `contents` and function
declarations, and the SDK's `GenerateContentResponse`s as `StreamChunk`s (`GeminiMapper`).

Gemini differs from the other APIs in ways the mapping has to absorb:

* a chunk holds whole *parts*: text, thoughts (`thought: true`), and function calls whose
  arguments arrive complete, each call with a `thought_signature` that must go back with the call
  in the next turn's history (kept on `ToolCall.thought_signature`);
* every chunk may carry usage, and only the last one is complete;
* a finish reason of STOP also ends a turn that called functions, and SAFETY, RECITATION,
  MALFORMED_FUNCTION_CALL and the like end an answer early: the chunk that says so is passed on
  (its text and usage count) and then a typed error is raised, so the partial text is kept;
* a prompt refused outright is a chunk with `promptFeedback.blockReason` and no candidates.

Kept apart from the provider (google.py: client, request, errors) and free of SDK imports: the
SDK's objects are only read here, by attribute.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from llmwidgets._chunks import Message, StreamChunk, ToolCall, Usage
from llmwidgets._errors import ContentBlockedError, LLMWidgetsError, ProviderError
from llmwidgets._providers._assemble import normalize_finish_reason

#: Ids for calls the API sent without one; they are ours, so they are not sent back.
MADE_UP_ID_PREFIX = "gemini-call-"

#: Finish reasons that end an answer early, and what each means for the person reading it.
BLOCKED_FINISH: dict[str, str] = {
    "SAFETY": "its safety filters flagged the answer",
    "RECITATION": "the answer was reciting copyrighted or training material",
    "BLOCKLIST": "the answer contained a blocked term",
    "PROHIBITED_CONTENT": "the answer touched prohibited content",
    "SPII": "the answer contained sensitive personal information",
    "IMAGE_SAFETY": "a generated image was flagged by its safety filters",
    "IMAGE_PROHIBITED_CONTENT": "a generated image touched prohibited content",
    "IMAGE_RECITATION": "a generated image was reciting protected material",
    "MODEL_ARMOR": "Model Armor blocked the answer",
}
FAILED_FINISH: dict[str, str] = {
    "MALFORMED_FUNCTION_CALL": "the model wrote a function call that does not parse",
    "UNEXPECTED_TOOL_CALL": "the model called a tool that was not offered",
    "TOO_MANY_TOOL_CALLS": "the model made too many tool calls in one turn",
    "MISSING_THOUGHT_SIGNATURE": "a tool call in the history lacks its thought signature",
    "MALFORMED_RESPONSE": "the model's answer was malformed",
}


def _function_response(content: str) -> dict[str, Any]:
    """A tool's result as Gemini's `response` object: its JSON when it is JSON, else the text."""
    try:
        value: Any = json.loads(content)
    except ValueError:
        value = content
    return {"output": value}


def to_gemini_contents(
    messages: Sequence[Message], system: str | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """Our OpenAI-shaped history as Gemini contents: system apart, the assistant as `model`,
    tool calls as `function_call` parts with their thought signatures, and tool results as
    `function_response` parts (one user turn for the results of parallel calls)."""
    systems = [system] if system else []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # call id -> function name, for results that do not name it
    results: list[dict[str, Any]] | None = None  # the parts of the tool-results turn being built
    for m in messages:
        if m.role != "tool":
            results = None
        if m.role == "system":
            systems.append(m.content)
        elif m.role == "tool":
            call_id = m.tool_call_id or ""
            response: dict[str, Any] = {
                "name": m.name or names.get(call_id, ""),
                "response": _function_response(m.content),
            }
            if call_id and not call_id.startswith(MADE_UP_ID_PREFIX):
                response["id"] = call_id
            if results is None:
                results = []
                contents.append({"role": "user", "parts": results})
            results.append({"function_response": response})
        elif m.role == "assistant":
            parts: list[dict[str, Any]] = [{"text": m.content}] if m.content else []
            for tc in m.tool_calls:
                names[tc.id] = tc.name
                parts.append(_call_part(tc))
            contents.append({"role": "model", "parts": parts})
        else:
            user: list[dict[str, Any]] = [{"text": m.content}] if m.content or not m.images else []
            user += [
                {"inline_data": {"mime_type": image.media_type, "data": image.data}}
                for image in m.images
            ]
            contents.append({"role": "user", "parts": user})
    return ("\n\n".join(systems) or None), contents


def _call_part(tc: ToolCall) -> dict[str, Any]:
    call: dict[str, Any] = {"name": tc.name, "args": tc.parsed_arguments or {}}
    if tc.id and not tc.id.startswith(MADE_UP_ID_PREFIX):
        call["id"] = tc.id
    part: dict[str, Any] = {"function_call": call}
    if tc.thought_signature:
        part["thought_signature"] = base64.b64decode(tc.thought_signature)
    return part


def to_gemini_tools(tools: Iterable[dict[str, Any]], *, json_schema: bool) -> list[dict[str, Any]]:
    """OpenAI-style function tools as one Gemini tool of function declarations (parameters as
    JSON Schema, under `parameters_json_schema` when the installed SDK has that field, else
    `parameters`); tools already in Gemini's shape (google_search, code_execution, ...) pass."""
    declarations: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for tool in tools:
        fn = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(fn, dict):
            out.append(tool)
            continue
        declaration: dict[str, Any] = {"name": fn["name"]}
        if fn.get("description"):
            declaration["description"] = fn["description"]
        if fn.get("parameters"):
            declaration["parameters_json_schema" if json_schema else "parameters"] = fn[
                "parameters"
            ]
        declarations.append(declaration)
    if declarations:
        out.insert(0, {"function_declarations": declarations})
    return out


def _usage(raw: Any) -> Usage:
    """Output tokens are the answer's and the thoughts' (both are billed as output)."""
    thoughts = int(raw.thoughts_token_count or 0)
    prompt = int(raw.prompt_token_count or 0) + int(raw.tool_use_prompt_token_count or 0)
    return Usage(
        input_tokens=prompt,
        output_tokens=int(raw.candidates_token_count or 0) + thoughts,
        reasoning_tokens=thoughts,
    )


def _name(value: Any) -> str:
    """An SDK enum's wire name (`FinishReason.SAFETY` -> "SAFETY"); a plain string as is."""
    return str(getattr(value, "value", value) or "")


#: The end of the SDK stream, fed to the mapper after the last chunk: an answer Gemini ended
#: early is reported only once its last chunk (text, usage) was passed on.
END = object()


class GeminiMapper:
    """One stream's `GenerateContentResponse`s as `StreamChunk`s."""

    def __init__(self, model: str, provider: str) -> None:
        self.model = model
        self.provider = provider
        self.calls: list[ToolCall] = []
        self.usage: Usage | None = None
        self.sent_usage: Usage | None = None
        self.failure: LLMWidgetsError | None = None

    def feed(self, event: Any) -> StreamChunk | None:
        if event is END:
            if self.failure is not None:
                raise self.failure
            if self.usage is not None and self.sent_usage not in (None, self.usage):
                self.sent_usage = self.usage  # usage that came after the finish reason
                return StreamChunk(model=self.model, usage=self.usage)
            return None
        self.model = event.model_version or self.model
        if event.usage_metadata is not None:
            self.usage = _usage(event.usage_metadata)
        if not event.candidates:
            self._check_prompt(event.prompt_feedback)
            return None
        candidate = event.candidates[0]
        text: list[str] = []
        thinking: list[str] = []
        calls_before = len(self.calls)
        parts = candidate.content.parts if candidate.content is not None else None
        for part in parts or ():
            if part.function_call is not None:
                self.calls.append(self._call(part))
            elif part.text:
                (thinking if part.thought else text).append(part.text)
        raw = _name(candidate.finish_reason) or None
        finish = normalize_finish_reason(raw)
        if finish == "stop" and self.calls:
            finish = "tool_calls"  # Gemini says STOP after calling functions too
        if raw is not None:
            self.failure = self._finish_failure(raw, _name(candidate.finish_message))
            self.sent_usage = self.usage
        new_calls = len(self.calls) > calls_before
        if not (text or thinking or new_calls or raw):
            return None
        return StreamChunk(
            delta="".join(text),
            thinking="".join(thinking),
            model=self.model,
            finish_reason=finish,
            raw_finish_reason=raw,
            usage=self.usage if raw else None,
            tool_calls=tuple(replace(c) for c in self.calls) if new_calls or raw else (),
        )

    def _call(self, part: Any) -> ToolCall:
        fc = part.function_call
        signature = part.thought_signature
        return ToolCall(
            index=len(self.calls),
            id=fc.id or f"{MADE_UP_ID_PREFIX}{uuid.uuid4().hex[:12]}",
            name=fc.name or "",
            arguments=json.dumps(fc.args, ensure_ascii=False) if fc.args is not None else "",
            thought_signature=base64.b64encode(signature).decode("ascii") if signature else "",
        )

    def _check_prompt(self, feedback: Any) -> None:
        reason = _name(getattr(feedback, "block_reason", None))
        if not reason:
            return
        said = _name(getattr(feedback, "block_reason_message", None))
        detail = f": {said.rstrip('.')}" if said else ""
        raise ContentBlockedError(
            f"Google refused the prompt ({reason}{detail}). Nothing was answered; rephrase the "
            "prompt, or adjust safety_settings if the refusal is mistaken.",
            reason=reason,
            provider=self.provider,
            model=self.model,
        )

    def _finish_failure(self, raw: str, message: str) -> LLMWidgetsError | None:
        said = f" ({message.rstrip('.')})" if message else ""
        if raw in BLOCKED_FINISH:
            return ContentBlockedError(
                f"Google stopped the answer: {BLOCKED_FINISH[raw]} ({raw}){said}. The text "
                "received so far is kept.",
                reason=raw,
                provider=self.provider,
                model=self.model,
            )
        if raw in FAILED_FINISH:
            return ProviderError(
                f"Google ended the answer early: {FAILED_FINISH[raw]} ({raw}){said}. The text "
                "received so far is kept; try again.",
                provider=self.provider,
                model=self.model,
            )
        return None
