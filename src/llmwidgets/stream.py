"""The headless API: `stream()` and `complete()`, usable in and out of notebooks.

This is where an alias becomes a provider call: resolution, fallbacks (only before the first
chunk, so an answer never mixes two models), typed errors carrying the partial text, and the
final `Response` with its timings. Widgets, the magic and the comparison view are built on it.

    async for chunk in llmwidgets.stream("chatbot", "Write a haiku"):
        print(chunk.delta, end="")
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from llmwidgets.chunks import (
    FinishReason,
    Prompt,
    Request,
    Response,
    StreamChunk,
    ToolCall,
    Usage,
    to_messages,
)
from llmwidgets.config import Config, Resolution, Target, resolve
from llmwidgets.errors import (
    ConfigurationError,
    LLMWidgetsError,
    ModelNotFoundError,
    StreamInterruptedError,
)
from llmwidgets.providers.base import Provider, create_provider

DEFAULT_TIMEOUT = 60.0

# The kernel's registry of provider objects: SDK clients hold connection pools worth reusing.
# Keyed by what makes a client different, including which key is set (not the key itself).
_PROVIDERS: dict[tuple[str, str | None, str | None, int], Provider] = {}


def get_provider(target: Target) -> Provider:
    env_key = hash(os.environ.get(target.api_key_env or "", "")) if target.api_key_env else 0
    default_keys = hash((os.environ.get("OPENAI_API_KEY"), os.environ.get("ANTHROPIC_API_KEY")))
    key = (target.provider, target.base_url, target.api_key_env, hash((env_key, default_keys)))
    provider = _PROVIDERS.get(key)
    if provider is None:
        provider = _PROVIDERS[key] = create_provider(target.provider_config())
    return provider


@dataclass(frozen=True)
class Options:
    """Per-call overrides; None means "use the alias default"."""

    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None
    timeout: float | None = None
    extra: Mapping[str, Any] | None = None


#: The highest temperature each API accepts (the lowest is always 0). Providers not listed (the
#: embedded model, recordings, third-party ones) are only checked for a negative value.
MAX_TEMPERATURE: dict[str, float] = {"openai": 2.0, "ollama": 2.0, "anthropic": 1.0}


def check_temperature(target: Target, opts: Options, resolution: Resolution) -> None:
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


def build_request(target: Target, prompt: Prompt, opts: Options, default_timeout: float) -> Request:
    return Request(
        model=target.model,
        messages=to_messages(prompt),
        system=opts.system if opts.system is not None else target.system,
        temperature=opts.temperature if opts.temperature is not None else target.temperature,
        max_tokens=opts.max_tokens if opts.max_tokens is not None else target.max_tokens,
        tools=opts.tools,
        timeout=opts.timeout or target.timeout or default_timeout,
        options={**target.options, **(opts.extra or {})},
    )


class ChunkStream(AsyncIterator[StreamChunk]):
    """One streamed answer: iterate it for chunks; afterwards `.response` holds the whole answer.

    Also usable as `async with`, which closes the provider's HTTP response on exit.
    """

    def __init__(
        self,
        model: str,
        prompt: Prompt,
        opts: Options,
        config: str | os.PathLike[str] | Config | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
    ) -> None:
        self.resolution: Resolution = resolve(model, config=config)
        if base_url is not None or api_key_env is not None:
            first = self.resolution.target
            patched = replace(
                first,
                base_url=base_url or first.base_url,
                api_key_env=api_key_env or first.api_key_env,
            )
            self.resolution = replace(
                self.resolution, targets=(patched, *self.resolution.targets[1:])
            )
        for target in self.resolution.targets:  # any of them may be the one that answers
            check_temperature(target, opts, self.resolution)
        cfg_timeout = config.timeout if isinstance(config, Config) else None
        self._default_timeout = cfg_timeout or DEFAULT_TIMEOUT
        self.alias = model
        self._prompt = prompt
        self._opts = opts
        self.target: Target = self.resolution.target
        # Built now, not in the first __anext__: importing an SDK and making its client takes
        # a second the first time, which would otherwise count as time to first token.
        self.provider: Provider | None = get_provider(self.target)
        self._pieces: list[str] = []
        self._thinking: list[str] = []
        self._tool_calls: tuple[ToolCall, ...] = ()
        self.usage: Usage | None = None
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self.model_name = ""
        self.started_at: float | None = None
        #: The first visible token (answer text or a tool call); thinking has its own time.
        self.first_token_at: float | None = None
        self.first_thinking_at: float | None = None
        self.ended_at: float | None = None
        self.skipped: list[LLMWidgetsError] = []
        self._gen: AsyncGenerator[StreamChunk, None] | None = None

    # -- iteration -------------------------------------------------------------------------
    def __aiter__(self) -> ChunkStream:
        return self

    async def __anext__(self) -> StreamChunk:
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop the stream now: closes the provider's HTTP response."""
        if self._gen is not None:
            await self._gen.aclose()
        if self.ended_at is None:
            self.ended_at = time.perf_counter()

    async def __aenter__(self) -> ChunkStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- state -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    @property
    def thinking(self) -> str:
        """The model's thinking so far, kept apart from the answer."""
        if len(self._thinking) > 1:
            self._thinking[:] = ["".join(self._thinking)]
        return self._thinking[0] if self._thinking else ""

    @property
    def note(self) -> str:
        """The provider's warning for people (e.g. that a model is a tiny offline one)."""
        return getattr(self.provider, "note", "") if self.provider else ""

    @property
    def response(self) -> Response:
        """The answer so far (complete once iteration has finished)."""
        start = self.started_at
        return Response(
            text=self.text,
            model=self.model_name or self.target.model,
            finish_reason=self.finish_reason,
            raw_finish_reason=self.raw_finish_reason,
            usage=self.usage,
            tool_calls=list(self._tool_calls),
            thinking=self.thinking,
            time_to_first_token=(self.first_token_at - start)
            if start is not None and self.first_token_at is not None
            else None,
            time_to_first_thinking=(self.first_thinking_at - start)
            if start is not None and self.first_thinking_at is not None
            else None,
            total_time=(self.ended_at - start)
            if start is not None and self.ended_at is not None
            else None,
            alias=self.alias,
            provider=self.target.provider,
        )

    # -- the loop --------------------------------------------------------------------------
    async def _run(self) -> AsyncGenerator[StreamChunk, None]:
        self.started_at = time.perf_counter()
        targets = self.resolution.targets
        try:
            for i, target in enumerate(targets):
                self.target = target
                received = False
                try:
                    self.provider = get_provider(target)
                    request = build_request(target, self._prompt, self._opts, self._default_timeout)
                    agen = self.provider.stream(request)
                    try:
                        async for chunk in agen:
                            if not received and (chunk.delta or chunk.thinking or chunk.tool_calls):
                                received = True  # no fallback once anything was shown
                            if self.first_token_at is None and (chunk.delta or chunk.tool_calls):
                                self.first_token_at = time.perf_counter()
                            if self.first_thinking_at is None and chunk.thinking:
                                self.first_thinking_at = time.perf_counter()
                            self._record(chunk)
                            yield chunk
                    finally:
                        await agen.aclose()
                except LLMWidgetsError as exc:
                    self._annotate(exc, target)
                    if not received and i + 1 < len(targets):
                        self.skipped.append(exc)
                        continue
                    raise
                except OSError as exc:  # a transport error no provider translated
                    raise self._annotate(
                        StreamInterruptedError(
                            f"The connection to {target.spec} broke: {exc}. "
                            "The partial answer is kept; run the cell again to retry."
                        ),
                        target,
                    ) from exc
                if self.finish_reason is None:
                    raise self._annotate(
                        StreamInterruptedError(
                            f"The stream from {target.spec} ended without saying it had "
                            "finished, so the answer may be cut short. Run it again to retry."
                        ),
                        target,
                    )
                return
        finally:
            self.ended_at = time.perf_counter()

    def _record(self, chunk: StreamChunk) -> None:
        if chunk.delta:
            self._pieces.append(chunk.delta)
        if chunk.thinking:
            self._thinking.append(chunk.thinking)
        if chunk.tool_calls:
            self._tool_calls = chunk.tool_calls
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.raw_finish_reason = chunk.raw_finish_reason
        if chunk.model:
            self.model_name = chunk.model

    def _annotate(self, exc: LLMWidgetsError, target: Target) -> LLMWidgetsError:
        exc.partial_text = self.text
        exc.provider = exc.provider or target.provider
        exc.model = exc.model or target.model
        exc.alias = self.alias
        if isinstance(exc, ModelNotFoundError) and exc.alias and exc.alias != target.spec:
            note = f" (alias {exc.alias!r} points to it)"
            if note not in exc.message:
                exc.message += note
                exc.args = (exc.message,)
        return exc


def stream(
    model: str = "chatbot",
    prompt: Prompt = "",
    *,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    tools: list[dict[str, Any]] | None = None,
    timeout: float | None = None,
    config: str | os.PathLike[str] | Config | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    **options: Any,
) -> ChunkStream:
    """Stream an answer chunk by chunk: `async for chunk in stream("chatbot", "Hi")`.

    `model` is an alias from `llmwidgets.toml` or `provider:model`. `prompt` is a string or a list
    of messages (OpenAI-style dicts or `Message`). Extra keyword options go to the provider.
    `timeout` is how long the stream may stall with no bytes before `StreamTimeoutError`.
    """
    opts = Options(system, temperature, max_tokens, tools, timeout, options)
    return ChunkStream(model, prompt, opts, config, base_url, api_key_env)


async def complete(model: str = "chatbot", prompt: Prompt = "", **kwargs: Any) -> Response:
    """Stream to the end and return the whole `Response` (same arguments as `stream`)."""
    s = stream(model, prompt, **kwargs)
    async with s:
        async for _ in s:
            pass
    return s.response
