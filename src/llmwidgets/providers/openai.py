"""OpenAI's Chat Completions API, and every server that speaks it (registered as `openai:` and
`ollama:`).

Streams with `stream_options={"include_usage": True}` so the answer ends with a usage-only chunk;
a compatible server that rejects that option with a 400 is asked again without it, once, and
remembered. Per-stream state (the tool-call accumulator) lives in the generator's locals.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import openai

from llmwidgets.chunks import (
    Request,
    StreamChunk,
    ToolCall,
    ToolCallAccumulator,
    ToolCallDelta,
    Usage,
    normalize_finish_reason,
)
from llmwidgets.errors import AuthenticationError
from llmwidgets.providers._http import (
    CallContext,
    SDKErrors,
    chosen_options,
    loop_identity,
    named_params,
    read_api_key,
    safe_cause,
    sdk_kwargs,
    translate,
    transport_errors,
)
from llmwidgets.providers.base import ProviderConfig

_SDK_ERRORS = SDKErrors(
    base=openai.OpenAIError,
    status=openai.APIStatusError,
    timeout=openai.APITimeoutError,
    connection=openai.APIConnectionError,
)

#: Ollama needs no key, but the SDK insists on one.
_PLACEHOLDER_KEY = "ollama"


def ollama_base_url() -> str:
    """`$OLLAMA_HOST` (scheme optional, as ollama itself accepts it) + `/v1`, else localhost."""
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return "http://localhost:11434/v1"
    if "://" not in host:
        host = f"http://{host}"
    host = host.rstrip("/")
    return host if host.endswith("/v1") else f"{host}/v1"


@cache
def _create_params() -> frozenset[str]:
    """Keyword arguments `chat.completions.create` names in the installed SDK."""
    from openai.resources.chat.completions import AsyncCompletions

    return named_params(AsyncCompletions.create)


def _snapshot(acc: ToolCallAccumulator) -> tuple[ToolCall, ...]:
    """Copies, so a chunk already handed out does not change as later fragments arrive."""
    return tuple(dataclasses.replace(c) for c in acc.calls)


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    return Usage(
        input_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
    )


def _reasoning(delta: Any) -> str:
    """Reasoning text some compatible servers send (`reasoning_content`, or `reasoning`)."""
    # Undeclared fields live in pydantic's extras; a plain getattr on a missing field takes
    # pydantic's slow path (~10 us each, on every chunk), so look in the dicts directly.
    extra = getattr(delta, "__pydantic_extra__", None) or {}
    for attr in ("reasoning_content", "reasoning"):
        value = delta.__dict__.get(attr) or extra.get(attr)
        if isinstance(value, str) and value:
            return value
    return ""


class OpenAIProvider:
    """Streams chat completions from OpenAI or an OpenAI-compatible server (Ollama, vLLM, ...)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.name = config.name
        # `api_key_env = ""` says "this server needs no key" (local OpenAI-compatible servers).
        self.keyless = config.name == "ollama" or config.api_key_env == ""
        self.label = (
            "Ollama" if config.name == "ollama" else "the server" if self.keyless else "OpenAI"
        )
        self.note = ""
        self.env_var: str | None = config.api_key_env or (
            None if self.keyless else "OPENAI_API_KEY"
        )
        self.base_url: str | None = config.base_url or (ollama_base_url() if self.keyless else None)
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: object = None
        #: Server-level knowledge, not stream state: False once a server refused stream_options.
        self._stream_options_ok = True

    def _key(self) -> str:
        if self.keyless:
            return (os.environ.get(self.env_var, "") if self.env_var else "") or _PLACEHOLDER_KEY
        assert self.env_var is not None
        return read_api_key(self.name, self.label, self.env_var)

    def _get_client(self) -> openai.AsyncOpenAI:
        """One client per provider, remade if the key changed or we are on another event loop."""
        key = self._key()
        loop = loop_identity()
        if self._client is None or self._client.api_key != key or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=key,
                base_url=self.base_url,
                max_retries=0,
                default_headers=dict(self.config.headers) or None,
            )
            self._client_loop = loop
        return self._client

    def _body(self, request: Request) -> dict[str, Any]:
        """The JSON fields of the request, before they are split into named and extra_body."""
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(m.to_openai() for m in request.messages)
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            # OpenAI itself wants the newer name (reasoning models reject max_tokens);
            # compatible servers mostly know only the older one.
            official = self.name == "openai" and self.base_url is None
            body["max_completion_tokens" if official else "max_tokens"] = request.max_tokens
        if request.tools:
            body["tools"] = request.tools
        options = {**self.config.options, **request.options}
        if "stop_sequences" in options and "stop" not in options:  # Anthropic's name for it
            options["stop"] = options.pop("stop_sequences")
        body.update(options)
        return body

    @staticmethod
    def _call(body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """`create` arguments: fields this SDK release does not name go in extra_body."""
        kwargs = sdk_kwargs(body, _create_params())
        kwargs["timeout"] = openai.Timeout(timeout, connect=min(timeout, 10.0))
        return kwargs

    def _kwargs(self, request: Request) -> dict[str, Any]:
        return self._call(self._body(request), request.timeout)

    async def _open(self, client: openai.AsyncOpenAI, request: Request) -> Any:
        """Start the stream; a 400 for `stream_options` means ask again without it."""
        body = self._body(request)
        if not self._stream_options_ok or "stream_options" in body:
            return await client.chat.completions.create(**self._call(body, request.timeout))
        asking = {**body, "stream_options": {"include_usage": True}}
        try:
            return await client.chat.completions.create(**self._call(asking, request.timeout))
        except openai.BadRequestError:
            sdk_stream = await client.chat.completions.create(**self._call(body, request.timeout))
            self._stream_options_ok = False
            return sdk_stream

    async def stream(self, request: Request) -> AsyncIterator[StreamChunk]:
        try:
            client = self._get_client()
        except AuthenticationError as err:
            err.model = request.model
            raise
        ctx = CallContext(
            provider=self.name,
            label=self.label,
            model=request.model,
            base_url=str(client.base_url).rstrip("/"),
            env_var=self.env_var,
            timeout=request.timeout,
            options=chosen_options(request, self.config.options),
        )
        raw_errors = (_SDK_ERRORS.base, *transport_errors())
        try:
            sdk_stream = await self._open(client, request)
        except raw_errors as exc:
            raise translate(exc, ctx, _SDK_ERRORS, started=False) from safe_cause(exc)

        acc = ToolCallAccumulator()
        try:
            async with sdk_stream:
                async for chunk in sdk_stream:
                    usage = _usage(getattr(chunk, "usage", None))
                    model = chunk.model or request.model
                    if not chunk.choices:
                        if usage is not None:
                            yield StreamChunk(model=model, usage=usage)
                        continue
                    choice = chunk.choices[0]
                    delta = choice.delta
                    text = (getattr(delta, "content", None) or "") if delta is not None else ""
                    thinking = _reasoning(delta) if delta is not None else ""
                    calls: tuple[ToolCall, ...] = ()
                    fragments = getattr(delta, "tool_calls", None) if delta is not None else None
                    if fragments:
                        for pos, tc in enumerate(fragments):
                            fn = tc.function
                            acc.add(
                                ToolCallDelta(
                                    index=tc.index if tc.index is not None else pos,
                                    id=tc.id,
                                    name=fn.name if fn is not None else None,
                                    arguments=(fn.arguments or "") if fn is not None else "",
                                )
                            )
                        calls = _snapshot(acc)
                    raw = choice.finish_reason
                    if raw and acc and not calls:
                        calls = _snapshot(acc)
                    if text or thinking or calls or raw or usage is not None:
                        yield StreamChunk(
                            delta=text,
                            model=model,
                            finish_reason=normalize_finish_reason(raw),
                            raw_finish_reason=raw,
                            usage=usage,
                            tool_calls=calls,
                            thinking=thinking,
                        )
        except raw_errors as exc:
            raise translate(exc, ctx, _SDK_ERRORS, started=True) from safe_cause(exc)
