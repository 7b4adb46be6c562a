"""The base of the providers that call a vendor SDK (OpenAI Chat Completions, Anthropic Messages).

What every such provider must get right the same way lives here: one cached client per key and
event loop, the key read before any request, the split of a request body into the arguments the
installed SDK names and `extra_body`, the timeout, SDK failures translated into our errors (before
and during the stream), and the SDK stream closed the moment the consumer stops (`aclose()` or a
cancelled task: the `async with` around the iteration closes the HTTP response).

A subclass is its request mapping (`_body`), its chunk mapping (`_mapper`), and the one-liners
that name its SDK: `client_type`, `_named_params`, `_create` and `sdk_errors` / `timeout_type`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from llmwidgets._chunks import Request, StreamChunk
from llmwidgets._errors import AuthenticationError, LLMWidgetsError
from llmwidgets._providers._http import (
    CallContext,
    SDKErrors,
    chosen_options,
    loop_identity,
    read_api_key,
    safe_cause,
    sdk_kwargs,
    translate,
    transport_errors,
)
from llmwidgets._providers.base import ProviderConfig

ClientT = TypeVar("ClientT")

#: The longest wait for a connection, whatever the stream's timeout: an unreachable server should
#: be reported in seconds, not after a minute.
MAX_CONNECT_TIMEOUT = 10.0


class ChunkMapper(Protocol):
    """Per-stream state that turns the SDK's stream events into `StreamChunk`s."""

    def feed(self, event: Any) -> StreamChunk | None: ...


class SDKProvider(Generic[ClientT]):
    """One SDK-backed provider. Stateless per stream: a stream's state lives in its mapper."""

    #: The SDK's exception classes, for `translate()`.
    sdk_errors: ClassVar[SDKErrors]
    #: The SDK's timeout class (`httpx.Timeout` as the SDK exports it).
    timeout_type: ClassVar[Callable[..., Any]]
    #: The SDK's async client class; `_new_client` calls it the way the OpenAI and Anthropic SDKs
    #: take their arguments (an SDK with another constructor overrides `_new_client`).
    client_type: ClassVar[Callable[..., Any]]
    #: The server named in error messages when the client has no base URL to show.
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        label: str,
        env_var: str | None,
        base_url: str | None,
        note: str = "",
    ) -> None:
        self.config = config
        self.name = config.name
        self.label = label
        self.note = note
        self.env_var = env_var
        self.base_url = base_url
        self._client: ClientT | None = None
        self._client_key: str | None = None
        self._client_loop: object = None

    # -- what a subclass supplies -------------------------------------------------------------
    def _new_client(self, key: str) -> ClientT:
        """A client for `key` and `self.base_url`, with the SDK's own retries off (ours decide)."""
        client: ClientT = self.client_type(
            api_key=key,
            base_url=self.base_url,
            max_retries=0,
            default_headers=dict(self.config.headers) or None,
        )
        return client

    @classmethod
    def _named_params(cls) -> frozenset[str]:
        """The keyword arguments the installed SDK's `create` names (cache it: it is static)."""
        raise NotImplementedError

    async def _create(self, client: ClientT, kwargs: dict[str, Any]) -> Any:
        """Call the SDK's streaming `create`; returns its stream."""
        raise NotImplementedError

    def _body(self, request: Request) -> dict[str, Any]:
        """The request's JSON fields, before they are split into named ones and `extra_body`."""
        raise NotImplementedError

    def _mapper(self, request: Request) -> ChunkMapper:
        """A fresh mapper for one stream."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------
    def _key(self) -> str:
        """The key for the next request; an AuthenticationError naming the variable if unset."""
        assert self.env_var is not None
        return read_api_key(self.name, self.label, self.env_var)

    def _get_client(self) -> ClientT:
        """One client per provider, remade if the key changed or we are on another event loop
        (a client's connection pool must not outlive the loop it was made on)."""
        key = self._key()
        loop = loop_identity()
        if self._client is None or self._client_key != key or self._client_loop is not loop:
            self._client = self._new_client(key)
            self._client_key = key
            self._client_loop = loop
        return self._client

    def _create_kwargs(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """`create` arguments: fields this SDK release does not name go in `extra_body`, so every
        option reaches the API whatever the SDK version."""
        kwargs = sdk_kwargs(body, self._named_params())
        kwargs["timeout"] = self.timeout_type(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT))
        return kwargs

    def _kwargs(self, request: Request) -> dict[str, Any]:
        return self._create_kwargs(self._body(request), request.timeout)

    async def _open(self, client: ClientT, request: Request) -> Any:
        """Start the stream (a subclass may retry here, e.g. without an option a server refused)."""
        return await self._create(client, self._kwargs(request))

    def _context(self, client: ClientT, request: Request) -> CallContext:
        base_url = str(getattr(client, "base_url", "") or "").rstrip("/")
        return CallContext(
            provider=self.name,
            label=self.label,
            model=request.model,
            base_url=base_url or self.default_base_url,
            env_var=self.env_var,
            timeout=request.timeout,
            options=chosen_options(request, self.config.options),
        )

    def _raw_errors(self) -> tuple[type[BaseException], ...]:
        """What `stream()` catches and translates: the SDK's errors and raw transport failures."""
        return (self.sdk_errors.base, *transport_errors())

    def _translate(self, exc: BaseException, ctx: CallContext, *, started: bool) -> LLMWidgetsError:
        """One failure as our error (a subclass reads an SDK whose errors have other shapes)."""
        return translate(exc, ctx, self.sdk_errors, started=started)

    async def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]:
        try:
            client = self._get_client()
        except AuthenticationError as err:
            err.model = request.model
            raise
        ctx = self._context(client, request)
        raw_errors = self._raw_errors()
        try:
            sdk_stream = await self._open(client, request)
        except raw_errors as exc:
            raise self._translate(exc, ctx, started=False) from safe_cause(exc)
        mapper = self._mapper(request)
        try:
            async with sdk_stream:
                async for event in sdk_stream:
                    chunk = mapper.feed(event)
                    if chunk is not None:
                        yield chunk
        except raw_errors as exc:
            raise self._translate(exc, ctx, started=True) from safe_cause(exc)
