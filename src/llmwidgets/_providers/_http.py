"""What the HTTP providers share: reading keys, timeouts, and turning SDK failures into our errors.

Both SDKs raise the same shapes (a status error with a body, a timeout, a connection error) but
not always: the Anthropic SDK lets transport errors from a dropped or stalled stream through bare
(`httpx2.RemoteProtocolError` "incomplete chunked read", `httpx2.ReadTimeout`). `translate()` maps
all of them onto `llmwidgets._errors` with a message that says what to do, and never a key.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import os
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llmwidgets._chunks import Request
from llmwidgets._errors import (
    AuthenticationError,
    InvalidRequestError,
    LLMWidgetsError,
    ModelNotFoundError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
    redact,
)


@dataclass(frozen=True)
class SDKErrors:
    """One SDK's exception classes, so `translate()` serves both without importing either."""

    base: type[BaseException]
    status: type[BaseException]
    timeout: type[BaseException]
    connection: type[BaseException]


@dataclass(frozen=True)
class CallContext:
    """Who was asked for what: everything an error message names. Holds no key."""

    provider: str
    label: str
    model: str
    base_url: str
    env_var: str | None
    timeout: float
    #: Names of the settings the caller chose (temperature, top_p, ...), for a refusal's message.
    options: tuple[str, ...] = ()


def named_params(function: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments the installed SDK's `create` names.

    SDK releases add and drop named parameters while the API keeps accepting the fields (anthropic
    2.x dropped `temperature`, `top_p` and `top_k`), so what to pass by name is read from the
    signature rather than assumed from a version.
    """
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(function).parameters.values()
    return frozenset(p.name for p in params if p.kind in kinds) - {"self"}


def sdk_kwargs(body: Mapping[str, Any], named: frozenset[str]) -> dict[str, Any]:
    """`create` keyword arguments for the JSON fields in `body`: named ones by name, the rest in
    `extra_body`, which the SDK merges into the request body as it is.

    A caller's own `extra_body` (an option) is merged, not replaced, and wins for the same field:
    it is the most explicit thing they can ask for.
    """
    kwargs = {k: v for k, v in body.items() if k in named and k != "extra_body"}
    extra = {k: v for k, v in body.items() if k not in named and k != "extra_body"}
    extra.update(body.get("extra_body") or {})
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def chosen_options(request: Request, defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the settings the caller (or their alias) chose, as a refusal's message lists them."""
    names = [n for n in ("temperature", "max_tokens") if getattr(request, n) is not None]
    names.extend(k for k in {**defaults, **request.options} if k not in names)
    return tuple(names)


def read_api_key(provider: str, label: str, env_var: str) -> str:
    """The key from the environment, or an AuthenticationError before any request is made."""
    key = os.environ.get(env_var, "").strip()
    if not key:
        raise AuthenticationError(
            f"No API key for {label}: set the {env_var} environment variable to your key "
            f"(in a notebook: %env {env_var}=...), then run again.",
            env_var=env_var,
            provider=provider,
        )
    return key


def loop_identity() -> asyncio.AbstractEventLoop | None:
    """The running loop: an SDK client's connection pool must not outlive the loop it was made on."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _module_errors(attr: str) -> tuple[type[BaseException], ...]:
    """`attr` from httpx2 and, when an older SDK loaded it, from httpx."""
    found: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        module = sys.modules.get(name)
        if module is None and name == "httpx2":
            try:
                import httpx2 as module  # only when an SDK is in use
            except ImportError:
                continue
        cls = getattr(module, attr, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def timeout_errors() -> tuple[type[BaseException], ...]:
    return _module_errors("TimeoutException")


def transport_errors() -> tuple[type[BaseException], ...]:
    """Raw transport failures an SDK may let through, besides its own wrapped ones."""
    import anyio  # comes with both SDKs

    return (
        *_module_errors("TransportError"),
        anyio.EndOfStream,
        anyio.BrokenResourceError,
        ssl.SSLError,
        ConnectionError,
    )


def body_message(body: object) -> str:
    """The human part of an error body: `error.message`, `message` or `detail`, else the text."""
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping):
            for key in ("message", "detail"):
                if isinstance(err.get(key), str) and err[key]:
                    return str(err[key])
        elif isinstance(err, str) and err:
            return err
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        return ""
    if isinstance(body, str):
        return body.strip()[:500]
    return ""


def body_error_type(body: object) -> str:
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and isinstance(err.get("type"), str):
            return str(err["type"])
    return ""


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms`, `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())


#: Anthropic error-event types and the HTTP status the same error has as a response.
_EVENT_STATUS = {
    "overloaded_error": 529,
    "api_error": 500,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "invalid_request_error": 400,
}


def _scrub(text: str, ctx: CallContext) -> str:
    secret = os.environ.get(ctx.env_var, "") if ctx.env_var else ""
    return redact(text, (secret,) if secret else ())


def status_error(
    ctx: CallContext, status: int, body: object, headers: Mapping[str, str] | None
) -> LLMWidgetsError:
    """An HTTP error status (or an error event inside a 200 stream) as our error."""
    detail = _scrub(body_message(body), ctx).rstrip(".")
    said = f": {detail}" if detail else ""
    if status == 200:  # an error event mid-stream
        return _event_error(ctx, body, detail)
    if status in (401, 403):
        if ctx.env_var:
            fix = f"Set {ctx.env_var} to a valid key"
        else:
            fix = "Set api_key_env in the provider config to the variable that holds the key"
        what = "rejected the API key" if status == 401 else "refused access with this API key"
        return AuthenticationError(
            f"{ctx.label} {what} (HTTP {status}{said}). {fix}, then run again.",
            env_var=ctx.env_var or "",
            provider=ctx.provider,
            model=ctx.model,
        )
    if status == 404:
        return ModelNotFoundError(
            f"{ctx.label} has no model {ctx.model!r} (HTTP 404{said}). Check the model name "
            f"(and that {ctx.base_url} is the right server).",
            provider=ctx.provider,
            model=ctx.model,
        )
    if status == 429:
        retry_after = parse_retry_after(headers)
        wait = f"Retry in {retry_after:g} s." if retry_after is not None else "Wait and retry."
        return RateLimitError(
            f"{ctx.label} is rate-limiting requests (HTTP 429{said}). {wait}",
            retry_after=retry_after,
            provider=ctx.provider,
            model=ctx.model,
        )
    if status in (400, 422):
        # The API's own words say what it refused (an option this model does not take, a prompt
        # too long, ...); the options sent are listed because they are the usual culprit.
        sent = f" Options sent: {', '.join(ctx.options)}." if ctx.options else ""
        return InvalidRequestError(
            f"{ctx.label} rejected the request for model {ctx.model!r} (HTTP {status}{said})."
            f"{sent} Change or remove what it objects to, then run again.",
            status_code=status,
            provider=ctx.provider,
            model=ctx.model,
        )
    side = "on its side" if status >= 500 else "the request"
    return ProviderError(
        f"{ctx.label} failed {side} (HTTP {status}{said}).",
        status_code=status,
        provider=ctx.provider,
        model=ctx.model,
    )


def _event_error(ctx: CallContext, body: object, message: str) -> LLMWidgetsError:
    """An error event inside a stream that began well: its type says what went wrong."""
    kind = body_error_type(body)
    code = _EVENT_STATUS.get(kind)
    return stream_error(
        ctx.label,
        ctx.provider,
        ctx.model,
        message,
        rate_limited=code == 429,
        detail=kind or "",
        status_code=code,
    )


def stream_error(
    label: str,
    provider: str,
    model: str,
    message: str,
    *,
    rate_limited: bool,
    detail: str = "",
    status_code: int | None = None,
) -> LLMWidgetsError:
    """A stream that began well and then failed, in the same words for every provider.

    `message` is what the provider said (may be empty), `detail` its error type or status.
    """
    said = f": {message}" if message else ""
    if rate_limited:
        return RateLimitError(
            f"{label} rate-limited the stream{said}. Wait a little and try again.",
            provider=provider,
            model=model,
        )
    return ProviderError(
        f"{label} stopped the stream with an error{said}"
        + (f" ({detail})" if detail else "")
        + ". Try again in a moment.",
        status_code=status_code,
        provider=provider,
        model=model,
    )


def timeout_error(ctx: CallContext) -> StreamTimeoutError:
    return StreamTimeoutError(
        f"{ctx.label} sent nothing for {ctx.timeout:g} s (model {ctx.model!r}). "
        "Try again, or allow longer with timeout=.",
        timeout=ctx.timeout,
        provider=ctx.provider,
        model=ctx.model,
    )


def _cause_text(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None and seen.__cause__ is not seen:
        seen = seen.__cause__
    text = str(seen) or type(seen).__name__
    return text


def connection_error(ctx: CallContext, exc: BaseException, started: bool) -> LLMWidgetsError:
    """Before a response: the server is not reachable. After: the stream was cut."""
    cause = _scrub(_cause_text(exc), ctx)
    if not started:
        hint = " Start it with `ollama serve`." if ctx.provider == "ollama" else ""
        return ProviderError(
            f"Cannot connect to {ctx.base_url}: the server is not reachable ({cause}). "
            f"Check that it is running and that the URL is right.{hint}",
            provider=ctx.provider,
            model=ctx.model,
        )
    return StreamInterruptedError(
        f"The connection to {ctx.label} ({ctx.base_url}) dropped mid-answer ({cause}). Try again.",
        provider=ctx.provider,
        model=ctx.model,
    )


def translate(
    exc: BaseException, ctx: CallContext, sdk: SDKErrors, *, started: bool
) -> LLMWidgetsError:
    """Map any failure of one SDK call onto our errors; `started`: a response had begun."""
    if isinstance(exc, LLMWidgetsError):
        return exc
    if isinstance(exc, sdk.status):
        status = int(getattr(exc, "status_code", 0) or 0)
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        return status_error(ctx, status, getattr(exc, "body", None), headers)
    if isinstance(exc, sdk.timeout) or isinstance(exc, timeout_errors()):
        return timeout_error(ctx)
    if isinstance(exc, sdk.connection) or isinstance(exc, transport_errors()):
        return connection_error(ctx, exc, started)
    if isinstance(exc, sdk.base):
        body: Any = getattr(exc, "body", None)
        message = body_message(body) or str(exc)
        # OpenAI's stream raises a bare APIError for a `{"error": ...}` event mid-stream.
        return ProviderError(
            f"{ctx.label} reported an error: {_scrub(message, ctx)}",
            provider=ctx.provider,
            model=ctx.model,
        )
    return ProviderError(
        f"{ctx.label} failed unexpectedly: {type(exc).__name__}: {_scrub(str(exc), ctx)}",
        provider=ctx.provider,
        model=ctx.model,
    )


def safe_cause(exc: BaseException) -> BaseException | None:
    """`exc` to chain as the cause, unless its text holds a secret (a traceback would show it)."""
    text = str(exc)
    return exc if redact(text) == text else None
