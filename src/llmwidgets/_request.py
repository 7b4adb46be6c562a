"""From an alias's target and one call's options to the `Request` a provider gets.

Kept apart from the streaming loop (_stream.py): which provider object serves a target (one per
kernel, SDK clients hold connection pools), what a call may override, and the checks that refuse
a request before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmwidgets._aliases import Resolution, Target
from llmwidgets._chunks import Message, Request
from llmwidgets._errors import ConfigurationError
from llmwidgets._providers.base import IMAGES, STRUCTURED_OUTPUT, Provider, create_provider
from llmwidgets._providers.keys import DEFAULT_KEY_VARIABLES
from llmwidgets._structured import Schema
from llmwidgets._tools import DEFAULT_MAX_TOOL_STEPS, ApproveOption, Tool

#: What `tools=` accepts: Python functions (run by the tool loop), `Tool`s, or raw JSON tool
#: definitions (passed to the provider; their calls come back in `Response.tool_calls`).
ToolSpec = Tool | Callable[..., Any] | Mapping[str, Any]

DEFAULT_TIMEOUT = 60.0

# The kernel's registry of provider objects: SDK clients hold connection pools worth reusing.
# Keyed by what makes a client different, including which key is set (not the key itself).
_PROVIDERS: dict[tuple[str, str | None, str | None, int], Provider] = {}


def get_provider(target: Target) -> Provider:
    env_key = hash(os.environ.get(target.api_key_env or "", "")) if target.api_key_env else 0
    default_keys = hash(tuple(os.environ.get(name) for name in DEFAULT_KEY_VARIABLES))
    key = (target.provider, target.base_url, target.api_key_env, hash((env_key, default_keys)))
    provider = _PROVIDERS.get(key)
    if provider is None:
        provider = _PROVIDERS[key] = create_provider(target.provider_config())
    return provider


@dataclass(frozen=True)
class CallOptions:
    """Per-call overrides; None means "use the alias default"."""

    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    tools: Sequence[ToolSpec] | None = None
    timeout: float | None = None
    extra: Mapping[str, Any] | None = None
    #: Ask before each call runs: True, tool names, or a function of the call returning a bool.
    approve: ApproveOption = None
    #: Rounds of tool calls one answer may make before it is ended with `ToolLoopError`.
    max_tool_steps: int = DEFAULT_MAX_TOOL_STEPS
    #: The answer as JSON in this shape, validated at the end (`Response.parsed`).
    schema: Schema | None = None


#: The highest temperature each API accepts (the lowest is always 0). Providers not listed (the
#: embedded model, recordings, third-party ones) are only checked for a negative value.
MAX_TEMPERATURE: dict[str, float] = {
    "openai": 2.0,
    "openai-responses": 2.0,
    "ollama": 2.0,
    "anthropic": 1.0,
    "google": 2.0,
}


def check_temperature(target: Target, opts: CallOptions, resolution: Resolution) -> None:
    """Refuse a temperature the provider would reject, before anything is sent: the error names
    the accepted range at once, instead of a provider's 400 after a round trip (or, for a
    fallback, only once that model is reached)."""
    value = opts.temperature if opts.temperature is not None else target.temperature
    if value is None:
        return
    high = MAX_TEMPERATURE.get(target.provider)
    if 0 <= value and (high is None or value <= high):
        return
    accepted = f"from 0 to {high:g}" if high is not None else "0 or more"
    origin = (
        f" (from alias {resolution.name!r} in {resolution.source})"
        if opts.temperature is None
        else ""
    )
    raise ConfigurationError(
        f"temperature {value:g}{origin} is out of range for {target.spec}: use a value {accepted}.",
        provider=target.provider,
        model=target.model,
        alias=resolution.name,
    )


def refusal(target: Target, provider: Provider, messages: list[Message], opts: CallOptions) -> str:
    """Why `provider` cannot take this request ("" if it can): asked before sending."""
    if opts.schema and not getattr(provider, STRUCTURED_OUTPUT, False):
        return (
            f"{target.spec} cannot be asked for structured output (schema=). Use an "
            "openai:, anthropic:, google: or openai-responses: model, or an "
            "OpenAI-compatible server that supports response_format."
        )
    if any(m.images for m in messages) and not getattr(provider, IMAGES, False):
        return (
            f"{target.spec} cannot read images; the prompt holds some (a figure, a "
            "picture or --image). Use an openai:, anthropic:, google: or "
            "openai-responses: model that reads images, or leave the images out."
        )
    return ""


def build_request(
    target: Target,
    messages: list[Message],
    opts: CallOptions,
    default_timeout: float,
    tools: list[dict[str, Any]] | None = None,
) -> Request:
    return Request(
        model=target.model,
        messages=messages,
        system=opts.system if opts.system is not None else target.system,
        temperature=opts.temperature if opts.temperature is not None else target.temperature,
        max_tokens=opts.max_tokens if opts.max_tokens is not None else target.max_tokens,
        tools=tools,
        timeout=opts.timeout or target.timeout or default_timeout,
        options={**target.options, **(opts.extra or {})},
        response_format=opts.schema.response_format() if opts.schema else None,
    )
