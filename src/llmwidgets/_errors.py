"""One exception family. Each error says what to do next and keeps the text received so far.

Messages are written for the person at the notebook, not for a log parser: they name the env var
to set, the alias that led to a missing model, or the aliases that do exist. API keys never appear
in them: every message passes through `redact()`.
"""

from __future__ import annotations

import os
import re
from typing import Any

_KEY_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.]{8,}"),
    re.compile(r"(?i)(x-(?:goog-)?api-key['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9_\-\.]{8,}"),
    re.compile(r"AIza[A-Za-z0-9_\-]{20,}"),  # Google API keys
]


def _secret_env_values() -> list[str]:
    out = []
    for name, value in os.environ.items():
        if value and len(value) >= 8 and re.search(r"(?i)(api_?key|token|secret)", name):
            out.append(value)
    return out


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """Remove anything that looks like an API key, and the values of key-like env vars."""
    for secret in (*extra_secrets, *_secret_env_values()):
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    for pat in _KEY_PATTERNS:
        text = pat.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class LLMWidgetsError(Exception):
    """Base of every error llmwidgets raises. `partial_text` is the answer received before it."""

    #: A short title for the widget's error line.
    title = "Error"

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        provider: str = "",
        model: str = "",
        alias: str = "",
    ) -> None:
        self.message = redact(message)
        self.partial_text = partial_text
        self.provider = provider
        self.model = model
        self.alias = alias
        super().__init__(self.message)


class ConfigurationError(LLMWidgetsError):
    """The lockfile is unreadable, an alias is unknown, or a provider is misnamed."""

    title = "Configuration error"


class AuthenticationError(LLMWidgetsError):
    """The provider rejected the key, or no key is set. `env_var` names the variable to set."""

    title = "Authentication failed"

    def __init__(self, message: str, *, env_var: str = "", **kw: Any) -> None:
        self.env_var = env_var
        super().__init__(message, **kw)


class ModelNotFoundError(LLMWidgetsError):
    title = "Model not found"


class RateLimitError(LLMWidgetsError):
    """429. `retry_after` is in seconds when the provider said."""

    title = "Rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class StreamTimeoutError(LLMWidgetsError):
    """No bytes arrived for `timeout` seconds."""

    title = "Timed out"

    def __init__(self, message: str, *, timeout: float | None = None, **kw: Any) -> None:
        self.timeout = timeout
        super().__init__(message, **kw)


class ProviderError(LLMWidgetsError):
    """The provider failed on its side: a 5xx, a 400 it explains, or an error event mid-stream."""

    title = "Provider error"

    def __init__(self, message: str, *, status_code: int | None = None, **kw: Any) -> None:
        self.status_code = status_code
        super().__init__(message, **kw)


class InvalidRequestError(ProviderError):
    """The API refused the request as sent (HTTP 400/422): an option this model does not take,
    a prompt too long, ... The message carries the API's own words and the options sent."""

    title = "Request rejected"


class ContentBlockedError(ProviderError):
    """The provider refused the prompt, or stopped the answer, on its safety or policy rules.
    `reason` is its own word for why (Gemini's SAFETY, RECITATION, PROHIBITED_CONTENT, ...)."""

    title = "Blocked by the provider"

    def __init__(self, message: str, *, reason: str = "", **kw: Any) -> None:
        self.reason = reason
        super().__init__(message, **kw)


class StreamInterruptedError(LLMWidgetsError):
    """The connection dropped, or the stream ended without saying it had finished."""

    title = "Stream interrupted"


class StructuredOutputError(LLMWidgetsError):
    """The answer asked for as JSON (`schema=`) is not valid JSON or does not fit the schema."""

    title = "Structured output invalid"


class ToolLoopError(LLMWidgetsError):
    """The model kept calling tools past `max_tool_steps`: a runaway loop is ended, not fed."""

    title = "Too many tool calls"


class ConfigurationWarning(UserWarning):
    """The lockfile is broken, but this call names `provider:model` and needs no alias from it."""


class OfflineModelUnavailableError(ConfigurationError):
    """The embedded model was asked for but its packages are not installed."""

    title = "Offline model not installed"


#: The name before the `Error` suffix, kept so existing `except` clauses still match.
OfflineModelUnavailable = OfflineModelUnavailableError
