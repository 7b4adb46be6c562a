"""Google's Gemini API through the official `google-genai` SDK (registered as `google:`).

Gemini differs from the other APIs in ways the mapping has to absorb:

* a chunk holds whole *parts*: text, thoughts (`thought: true`), and function calls whose
  arguments arrive complete, each call with a `thought_signature` that must go back with the call
  in the next turn's history (kept on `ToolCall.thought_signature`);
* every chunk may carry usage, and only the last one is complete;
* a finish reason of STOP also ends a turn that called functions, and SAFETY, RECITATION,
  MALFORMED_FUNCTION_CALL and the like end an answer early: the chunk that says so is passed on
  (its text and usage count) and then a typed error is raised, so the partial text is kept;
* a prompt refused outright is a chunk with `promptFeedback.blockReason` and no candidates;
* errors are `APIError`s with a `code` and Google's JSON error body; a rate limit says when to
  retry in a `RetryInfo` detail, not a header.

The SDK is given its own httpx client so that it never uses aiohttp (whose timeout would cap the
whole stream rather than each wait), and its retries and automatic continuation are off: a
request is sent once, as with the other providers.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace
from functools import cache
from types import ModuleType
from typing import Any

from llmwidgets.chunks import (
    Message,
    Request,
    StreamChunk,
    ToolCall,
    Usage,
    normalize_finish_reason,
)
from llmwidgets.errors import (
    AuthenticationError,
    ConfigurationError,
    ContentBlockedError,
    LLMWidgetsError,
    ProviderError,
    RateLimitError,
)
from llmwidgets.providers._http import (
    CallContext,
    SDKErrors,
    body_message,
    status_error,
    transport_errors,
)
from llmwidgets.providers._sdk import SDKProvider
from llmwidgets.providers.base import ProviderConfig

try:
    from google import genai
    from google.genai import errors as genai_errors
    from google.genai import types as genai_types
except ImportError:  # pragma: no cover - depends on the environment
    raise ConfigurationError(
        "The google: provider needs Google's SDK: pip install 'llmwidgets[google]' "
        "(or pip install google-genai), then restart the kernel."
    ) from None

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
#: Where the key is looked for when the alias names no variable; the SDK's own order.
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
#: The variable named when no key is set: the one Google's documentation asks for.
DEFAULT_KEY_VARIABLE = "GEMINI_API_KEY"
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


def _httpx() -> ModuleType:
    """The HTTP package the installed SDK builds its clients with: httpx2 from google-genai 3
    on, httpx before (its response type checks accept only that package's objects)."""
    major = int(str(getattr(genai, "__version__", "3")).split(".", 1)[0] or 3)
    if major >= 3:
        import httpx2

        return httpx2
    import httpx

    return httpx


@cache
def _config_fields() -> frozenset[str]:
    """`GenerateContentConfig` fields the installed SDK names; other options go in the body."""
    return frozenset(genai_types.GenerateContentConfig.model_fields) - {"http_options"}


def thinking_config(value: Any) -> dict[str, Any]:
    """Gemini's `thinking_config` from the short forms: `True` (share the thoughts), a token
    budget (`thinking=4000`), or `False`/`0` (no thinking where the model allows it)."""
    if isinstance(value, dict):
        return value
    if value is True:
        return {"include_thoughts": True}
    if not value:
        return {"thinking_budget": 0}
    return {"include_thoughts": True, "thinking_budget": int(value)}


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


def to_gemini_tools(tools: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style function tools as one Gemini tool of function declarations (parameters as
    JSON Schema); tools already in Gemini's shape (google_search, code_execution, ...) pass."""
    declarations: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    json_schema = "parameters_json_schema" in genai_types.FunctionDeclaration.model_fields
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


class _GeminiMapper:
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


#: The HTTP responses the current `_create` call opened (set around it, filled by the client's
#: response hook): the SDK's stream is generators nested four deep, and closing the outer one
#: leaves the response open until garbage collection, so the stream closes them itself.
_OPENED: ContextVar[list[Any] | None] = ContextVar("llmwidgets_gemini_opened", default=None)


async def _remember_response(response: Any) -> None:
    opened = _OPENED.get()
    if opened is not None:
        opened.append(response)


class _GeminiStream:
    """The SDK's stream as the SDK base iterates it: already started (its first chunk is read
    before the base counts the stream as begun, so a refused request or an unreachable server is
    reported as such), closed with its HTTP response by `async with`, and ending with `END`."""

    def __init__(self, chunks: Any, first: Any, responses: list[Any]) -> None:
        self._chunks = chunks
        self._first = first
        self._responses = responses
        self._done = False

    async def __aenter__(self) -> _GeminiStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._chunks.aclose()
        finally:
            for response in self._responses:
                await response.aclose()

    def __aiter__(self) -> _GeminiStream:
        return self

    async def __anext__(self) -> Any:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._done:
            raise StopAsyncIteration
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            self._done = True
            return END


def _retry_delay(details: Any) -> str | None:
    """Seconds from a `google.rpc.RetryInfo` detail ("7s"), as a `retry-after` header value."""
    error = details.get("error", details) if isinstance(details, Mapping) else None
    items = error.get("details") if isinstance(error, Mapping) else None
    for item in items if isinstance(items, list) else ():
        delay = item.get("retryDelay") if isinstance(item, Mapping) else None
        if isinstance(delay, str) and delay.endswith("s"):
            return delay[:-1]
    return None


def _reasons(details: Any) -> set[str]:
    """The `ErrorInfo` reasons of a Google error body (API_KEY_INVALID, ...)."""
    error = details.get("error", details) if isinstance(details, Mapping) else None
    items = error.get("details") if isinstance(error, Mapping) else None
    found = set()
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("reason"), str):
            found.add(item["reason"])
    return found


class GoogleProvider(SDKProvider[Any]):
    """Streams Gemini answers: text, thoughts, function calls (with thought signatures), usage."""

    sdk_errors = SDKErrors(
        base=genai_errors.APIError,
        status=genai_errors.APIError,
        timeout=TimeoutError,
        connection=ConnectionError,
    )
    timeout_type = float
    default_base_url = DEFAULT_BASE_URL
    structured_output = True  # response_mime_type + response_json_schema
    images = True  # inline_data parts

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(
            config,
            label="Google",
            env_var=config.api_key_env or DEFAULT_KEY_VARIABLE,
            base_url=config.base_url,
        )

    def _key(self) -> str:
        """The key from the alias's variable, else GOOGLE_API_KEY or GEMINI_API_KEY (the SDK's
        order); `env_var` becomes the one that held it, so errors name that one."""
        if self.config.api_key_env:
            return super()._key()
        for var in KEY_VARIABLES:
            key = os.environ.get(var, "").strip()
            if key:
                self.env_var = var
                return key
        self.env_var = DEFAULT_KEY_VARIABLE
        raise AuthenticationError(
            f"No API key for Google: set the {DEFAULT_KEY_VARIABLE} environment variable (or "
            f"GOOGLE_API_KEY) to your key (in a notebook: %env {DEFAULT_KEY_VARIABLE}=...), "
            "then run again.",
            env_var=DEFAULT_KEY_VARIABLE,
            provider=self.name,
        )

    def _resolved_base_url(self) -> str:
        return (
            self.base_url
            or os.environ.get("GOOGLE_GEMINI_BASE_URL", "").strip()
            or DEFAULT_BASE_URL
        )

    def _new_client(self, key: str) -> Any:
        options = genai_types.HttpOptions(
            base_url=self._resolved_base_url(),
            headers=dict(self.config.headers) or None,
            retry_options=genai_types.HttpRetryOptions(attempts=1),
            httpx_async_client=_httpx().AsyncClient(event_hooks={"response": [_remember_response]}),
        )
        return genai.Client(api_key=key, vertexai=False, http_options=options)

    def _context(self, client: Any, request: Request) -> CallContext:
        ctx = super()._context(client, request)
        return replace(ctx, base_url=self._resolved_base_url().rstrip("/"))

    @classmethod
    def _named_params(cls) -> frozenset[str]:
        return _config_fields()

    def _options(self, request: Request) -> dict[str, Any]:
        """Config and call options under Gemini's names (`stop` and `max_tokens` as the other
        providers spell them, `thinking` in its short forms)."""
        options = {**self.config.options, **request.options}
        for ours, theirs in (("stop", "stop_sequences"), ("max_tokens", "max_output_tokens")):
            if ours in options and theirs not in options:
                options[theirs] = options.pop(ours)
        stop = options.get("stop_sequences")
        if isinstance(stop, str):
            options["stop_sequences"] = [stop]
        if "thinking" in options:
            options["thinking_config"] = thinking_config(options.pop("thinking"))
        return options

    def _fields(self, request: Request, system: str | None) -> dict[str, Any]:
        """The `GenerateContentConfig` fields and the other body fields, before the split."""
        body: dict[str, Any] = {}
        if system:
            body["system_instruction"] = system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_output_tokens"] = request.max_tokens
        if request.tools:
            body["tools"] = to_gemini_tools(request.tools)
        if request.response_format is not None:
            # The JSON Schema as written (response_schema takes Gemini's own OpenAPI subset).
            body["response_mime_type"] = "application/json"
            body["response_json_schema"] = request.response_format.schema
        body.update(self._options(request))
        return body

    def _kwargs(self, request: Request) -> dict[str, Any]:
        """`generate_content_stream` arguments: fields the SDK's config names go in `config`,
        the rest in `http_options.extra_body`, merged into the JSON body as they are."""
        system, contents = to_gemini_contents(request.messages, request.system)
        body = self._fields(request, system)
        named = self._named_params()
        config = {k: v for k, v in body.items() if k in named and k != "extra_body"}
        extra = {k: v for k, v in body.items() if k not in named and k != "extra_body"}
        extra.update(body.get("extra_body") or {})
        if "automatic_continuation" in named:
            # Continuing a cut stream re-sends the request: retries are the caller's choice.
            config.setdefault("automatic_continuation", False)
        config["http_options"] = {
            "timeout": max(1, int(request.timeout * 1000)),
            **({"extra_body": extra} if extra else {}),
        }
        return {"model": request.model, "contents": contents, "config": config}

    async def _create(self, client: Any, kwargs: dict[str, Any]) -> _GeminiStream:
        responses: list[Any] = []
        token = _OPENED.set(responses)
        try:
            chunks = await client.aio.models.generate_content_stream(**kwargs)
            try:
                first = await chunks.__anext__()
            except StopAsyncIteration:
                first = END
            except BaseException:
                await _GeminiStream(chunks, None, responses).__aexit__()
                raise
        except genai_errors.UnknownApiResponseError:
            raise  # the server's answer, not the request: translated as a provider error
        except ValueError as exc:  # pydantic's ValidationError too
            # The SDK checks the model name and the config before sending anything.
            raise ConfigurationError(
                f"Google's SDK refused the request for model {kwargs['model']!r} before "
                f"sending it: {exc}".rstrip(),
                provider=self.name,
                model=str(kwargs["model"]),
            ) from None
        finally:
            _OPENED.reset(token)
        return _GeminiStream(chunks, first, responses)

    def _mapper(self, request: Request) -> _GeminiMapper:
        return _GeminiMapper(request.model, self.name)

    def _raw_errors(self) -> tuple[type[BaseException], ...]:
        return (genai_errors.APIError, genai_errors.UnknownApiResponseError, *transport_errors())

    def _translate(self, exc: BaseException, ctx: CallContext, *, started: bool) -> LLMWidgetsError:
        if not isinstance(exc, genai_errors.APIError):
            return super()._translate(exc, ctx, started=started)
        code = int(exc.code or 0)
        details = exc.details
        response = getattr(exc, "response", None)
        if getattr(response, "status_code", None) == 200:  # an error event inside the stream
            return self._stream_error(ctx, code, details)
        if code == 400 and _reasons(details) & {"API_KEY_INVALID", "API_KEY_EXPIRED"}:
            code = 401  # Google answers a bad key with 400; it is still the key to fix
        headers = dict(getattr(response, "headers", None) or {})
        delay = _retry_delay(details)
        if delay is not None and "retry-after" not in headers:
            headers["retry-after"] = delay
        return status_error(ctx, code, details, headers)

    @staticmethod
    def _stream_error(ctx: CallContext, code: int, details: Any) -> LLMWidgetsError:
        message = body_message(details).rstrip(".")
        said = f": {message}" if message else ""
        if code == 429:
            return RateLimitError(
                f"{ctx.label} rate-limited the stream{said}. Wait a little and try again.",
                provider=ctx.provider,
                model=ctx.model,
            )
        return ProviderError(
            f"{ctx.label} stopped the stream with an error{said} (HTTP {code}). "
            "Try again in a moment.",
            status_code=code or None,
            provider=ctx.provider,
            model=ctx.model,
        )
