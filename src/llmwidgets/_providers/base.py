"""The provider protocol: one async generator per stream, and a registry by prefix.

A provider turns one `Request` into `StreamChunk`s. It keeps no per-stream state on itself (all of
that lives in the generator's locals), so one provider object serves many concurrent streams.
Closing the generator (`aclose()`, or cancelling the task that iterates it) must close the HTTP
response at once: providers iterate their SDK stream inside `async with` / `try/finally`.

Providers raise only `llmwidgets._errors` exceptions; `partial_text` is filled in by `stream()`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from llmwidgets._chunks import Request, StreamChunk


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one provider: everything but the model name and the prompt.

    `api_key` is only ever read from the environment (`api_key_env`) at request time, so keys
    never sit in config objects that could be printed, pickled or synced to a widget.
    """

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    name: str
    #: A human name for messages ("OpenAI", "Anthropic").
    label: str
    #: Shown in the widget next to the model name when there is something to warn about
    #: ("tiny offline model: answers are not reliable"); "" for ordinary providers.
    note: str

    #: An async generator, not just an iterator: callers `aclose()` it to stop a stream at once.
    def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]: ...


#: A provider that honours `Request.response_format` says so with a true class attribute
#: `structured_output`; the others are refused before anything is sent.
STRUCTURED_OUTPUT = "structured_output"
#: A provider whose models can read `Message.images` says so with a true class attribute
#: `images`; a prompt with images is refused by the others before anything is sent.
IMAGES = "images"


ProviderFactory = Callable[[ProviderConfig], Provider]

# Built-in providers are named by import path so that `import llmwidgets` loads no SDK.
_BUILTIN: dict[str, str] = {
    "openai": "llmwidgets._providers.openai:OpenAIProvider",
    "openai-responses": "llmwidgets._providers.openai_responses:OpenAIResponsesProvider",
    "ollama": "llmwidgets._providers.openai:OpenAIProvider",
    "anthropic": "llmwidgets._providers.anthropic:AnthropicProvider",
    "google": "llmwidgets._providers.google:GoogleProvider",
    "local": "llmwidgets._providers.local:LocalProvider",
    "replay": "llmwidgets._providers.replay:ReplayProvider",
}
_FACTORIES: dict[str, ProviderFactory] = {}


def register_provider(prefix: str, factory: ProviderFactory) -> None:
    """Make `prefix:model` resolvable. Third-party providers call this at import."""
    _FACTORIES[prefix] = factory


def provider_names() -> list[str]:
    return sorted({*_BUILTIN, *_FACTORIES})


def create_provider(config: ProviderConfig) -> Provider:
    """Build the provider named by `config.name`; raises ConfigurationError for unknown names."""
    from llmwidgets._errors import ConfigurationError

    factory = _FACTORIES.get(config.name)
    if factory is None and config.name in _BUILTIN:
        module_name, _, attr = _BUILTIN[config.name].partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
    if factory is None:
        known = ", ".join(f"{p}:" for p in provider_names())
        raise ConfigurationError(f"Unknown provider {config.name!r}. Use one of: {known}")
    return factory(config)
