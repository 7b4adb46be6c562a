"""Stream LLM answers into Jupyter notebooks, live.

Headless:  `async for chunk in llmwidgets.stream("chatbot", "Hi")`, `await llmwidgets.complete(...)`
Widgets:   `StreamWidget("chatbot", "prompt")`, `ChatWidget("chatbot")`, `compare([...], "prompt")`
Magic:     `%load_ext llmwidgets`, then `%%llm chatbot` with the prompt as the cell body;
           `explain_mode(get_ipython())` says why a cell got the widget or plain text.
Tools:     `tools=[get_weather]` on any of them: the model calls your Python functions.

Extend:    `register_provider("myprefix", factory)` makes `myprefix:model` resolvable (a factory
           takes a `ProviderConfig` and returns a `Provider`); `set_price()` adds a model's price.

Widgets are imported lazily so the headless API loads no widget machinery.
"""

import typing
from importlib import metadata as _metadata

from llmwidgets._aliases import Resolution, resolve
from llmwidgets._chunks import (
    ImagePart,
    Message,
    Request,
    Response,
    StreamChunk,
    ToolCall,
    ToolEvent,
    ToolResult,
    Usage,
)
from llmwidgets._errors import (
    AuthenticationError,
    ConfigurationError,
    ContentBlockedError,
    InvalidRequestError,
    LLMWidgetsError,
    ModelNotFoundError,
    OfflineModelUnavailable,
    OfflineModelUnavailableError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamTimeoutError,
    StructuredOutputError,
    ToolLoopError,
)
from llmwidgets._pricing import set_price
from llmwidgets._providers.base import Provider, ProviderConfig, register_provider
from llmwidgets._stream import ChunkStream, complete, stream
from llmwidgets._tools import Tool

if typing.TYPE_CHECKING:
    from llmwidgets._magics import explain_mode
    from llmwidgets._widgets.chat import ChatWidget
    from llmwidgets._widgets.compare import CompareWidget, Pane, compare
    from llmwidgets._widgets.stream import StreamWidget

try:  # pyproject.toml holds the one version number
    __version__ = _metadata.version("llmwidgets")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AuthenticationError",
    "ChatWidget",
    "ChunkStream",
    "CompareWidget",
    "ConfigurationError",
    "ContentBlockedError",
    "ImagePart",
    "InvalidRequestError",
    "LLMWidgetsError",
    "Message",
    "ModelNotFoundError",
    "OfflineModelUnavailable",
    "OfflineModelUnavailableError",
    "Pane",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "RateLimitError",
    "Request",
    "Resolution",
    "Response",
    "StreamChunk",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "StreamWidget",
    "StructuredOutputError",
    "Tool",
    "ToolCall",
    "ToolEvent",
    "ToolLoopError",
    "ToolResult",
    "Usage",
    "compare",
    "complete",
    "explain_mode",
    "load_ipython_extension",
    "register_provider",
    "resolve",
    "set_price",
    "stream",
]

_LAZY = {
    "StreamWidget": "llmwidgets._widgets.stream",
    "ChatWidget": "llmwidgets._widgets.chat",
    "CompareWidget": "llmwidgets._widgets.compare",
    "Pane": "llmwidgets._widgets.compare",
    "compare": "llmwidgets._widgets.compare",
    "explain_mode": "llmwidgets._magics",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmwidgets' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def load_ipython_extension(ipython: typing.Any) -> None:
    """`%load_ext llmwidgets`: registers the `%%llm` / `%llm` magics."""
    from llmwidgets._magics import register

    register(ipython)
