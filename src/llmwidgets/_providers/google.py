"""Google's Gemini API through the official `google-genai` SDK (registered as `google:`).

This module is the client, the request's config and the errors; Gemini's wire format both ways
(contents, tools, parts to chunks) is `_gemini.py`. Errors are `APIError`s with a `code` and
Google's JSON error body; a rate limit says when to retry in a `RetryInfo` detail, not a header.

The SDK is given its own httpx client so that it never uses aiohttp (whose timeout would cap the
whole stream rather than each wait), and its retries and automatic continuation are off: a
request is sent once, as with the other providers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import replace
from functools import cache
from types import ModuleType
from typing import Any

from llmwidgets._chunks import Request
from llmwidgets._errors import (
    AuthenticationError,
    ConfigurationError,
    LLMWidgetsError,
)
from llmwidgets._providers._gemini import END, GeminiMapper, to_gemini_contents, to_gemini_tools
from llmwidgets._providers._http import (
    CallContext,
    SDKErrors,
    body_message,
    status_error,
    stream_error,
    transport_errors,
)
from llmwidgets._providers._sdk import SDKProvider
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._providers.keys import GEMINI_API_KEY, GOOGLE_API_KEY, GOOGLE_KEY_VARIABLES

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
            env_var=config.api_key_env or GEMINI_API_KEY,
            base_url=config.base_url,
        )

    def _key(self) -> str:
        """The key from the alias's variable, else GOOGLE_API_KEY or GEMINI_API_KEY (the SDK's
        order); `env_var` becomes the one that held it, so errors name that one."""
        if self.config.api_key_env:
            return super()._key()
        for var in GOOGLE_KEY_VARIABLES:
            key = os.environ.get(var, "").strip()
            if key:
                self.env_var = var
                return key
        self.env_var = GEMINI_API_KEY
        raise AuthenticationError(
            f"No API key for Google: set the {GEMINI_API_KEY} environment variable (or "
            f"{GOOGLE_API_KEY}) to your key (in a notebook: %env {GEMINI_API_KEY}=...), "
            "then run again.",
            env_var=GEMINI_API_KEY,
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
            json_schema = "parameters_json_schema" in genai_types.FunctionDeclaration.model_fields
            body["tools"] = to_gemini_tools(request.tools, json_schema=json_schema)
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

    def _mapper(self, request: Request) -> GeminiMapper:
        return GeminiMapper(request.model, self.name)

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
        return stream_error(
            ctx.label,
            ctx.provider,
            ctx.model,
            body_message(details).rstrip("."),
            rate_limited=code == 429,
            detail=f"HTTP {code}",
            status_code=code or None,
        )
