"""OpenAI's Chat Completions API, and every server that speaks it (registered as `openai:` and
`ollama:`).

Streams with `stream_options={"include_usage": True}` so the answer ends with a usage-only chunk;
a compatible server that rejects that option with a 400 is asked again without it, once, and
remembered. The chunks are read by the shared Chat Completions mapper (`_chat.py`); the client,
errors and the stream's lifetime are the SDK base's (`_sdk.py`).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import openai

from llmwidgets._chunks import Request
from llmwidgets._providers._chat import ChatCompletionsMapper
from llmwidgets._providers._http import SDKErrors, named_params
from llmwidgets._providers._sdk import ChunkMapper, SDKProvider
from llmwidgets._providers.base import ProviderConfig
from llmwidgets._providers.keys import OPENAI_API_KEY

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


class OpenAIProvider(SDKProvider[openai.AsyncOpenAI]):
    """Streams chat completions from OpenAI or an OpenAI-compatible server (Ollama, vLLM, ...)."""

    sdk_errors = SDKErrors(
        base=openai.OpenAIError,
        status=openai.APIStatusError,
        timeout=openai.APITimeoutError,
        connection=openai.APIConnectionError,
    )
    timeout_type = openai.Timeout
    client_type = openai.AsyncOpenAI
    structured_output = True  # response_format json_schema (compatible servers: most of them)
    images = True  # image_url parts (a text-only model on a compatible server answers with a 400)

    def __init__(self, config: ProviderConfig) -> None:
        # `api_key_env = ""` says "this server needs no key" (local OpenAI-compatible servers).
        keyless = config.name == "ollama" or config.api_key_env == ""
        super().__init__(
            config,
            label="Ollama" if config.name == "ollama" else "the server" if keyless else "OpenAI",
            env_var=config.api_key_env or (None if keyless else OPENAI_API_KEY),
            base_url=config.base_url or (ollama_base_url() if keyless else None),
        )
        self.keyless = keyless
        #: Server-level knowledge, not stream state: False once a server refused stream_options.
        self._stream_options_ok = True

    def _key(self) -> str:
        if self.keyless:
            return (os.environ.get(self.env_var, "") if self.env_var else "") or _PLACEHOLDER_KEY
        return super()._key()

    @classmethod
    def _named_params(cls) -> frozenset[str]:
        return _create_params()

    async def _create(self, client: openai.AsyncOpenAI, kwargs: dict[str, Any]) -> Any:
        return await client.chat.completions.create(**kwargs)

    def _mapper(self, request: Request) -> ChunkMapper:
        return ChatCompletionsMapper(request.model)

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
        if request.response_format is not None:
            fmt = request.response_format
            spec = {"name": fmt.name, "schema": fmt.schema, "strict": fmt.strict}
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
        options = {**self.config.options, **request.options}
        if "stop_sequences" in options and "stop" not in options:  # Anthropic's name for it
            options["stop"] = options.pop("stop_sequences")
        body.update(options)
        return body

    async def _open(self, client: openai.AsyncOpenAI, request: Request) -> Any:
        """Start the stream; a 400 for `stream_options` means ask again without it."""
        body = self._body(request)
        if not self._stream_options_ok or "stream_options" in body:
            return await self._create(client, self._create_kwargs(body, request.timeout))
        asking = {**body, "stream_options": {"include_usage": True}}
        try:
            return await self._create(client, self._create_kwargs(asking, request.timeout))
        except openai.BadRequestError:
            sdk_stream = await self._create(client, self._create_kwargs(body, request.timeout))
            self._stream_options_ok = False
            return sdk_stream
