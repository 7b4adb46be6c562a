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
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from llmwidgets._aliases import Resolution, Target, resolve
from llmwidgets._chunks import (
    FinishReason,
    Message,
    Prompt,
    Response,
    StreamChunk,
    ToolCall,
    Usage,
    to_messages,
)
from llmwidgets._config import Config
from llmwidgets._errors import (
    ConfigurationError,
    LLMWidgetsError,
    ModelNotFoundError,
    StreamInterruptedError,
    ToolLoopError,
)
from llmwidgets._providers.base import Provider
from llmwidgets._request import (
    DEFAULT_TIMEOUT,
    CallOptions,
    ToolSpec,
    build_request,
    check_temperature,
    get_provider,
    refusal,
)
from llmwidgets._structured import Schema
from llmwidgets._tool_loop import ToolLoop
from llmwidgets._tools import DEFAULT_MAX_TOOL_STEPS, ApproveOption, Approver, approver


class ChunkStream(AsyncIterator[StreamChunk]):
    """One streamed answer: iterate it for chunks; afterwards `.response` holds the whole answer.

    Also usable as `async with`, which closes the provider's HTTP response on exit.

    With Python functions in `tools`, one answer may take several requests (steps): when the
    model asks for calls, they run (see `_tool_loop.py`), their results go back, and the answer
    goes on in the same stream. The text of every step is one answer; `tool_event` chunks say when
    a call is asked about, runs and ends; `response.messages` holds every turn, so a chat can go
    on.
    """

    def __init__(
        self,
        model: str,
        prompt: Prompt,
        opts: CallOptions,
        config: str | os.PathLike[str] | Config | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        profile: str | None = None,
    ) -> None:
        self.resolution: Resolution = resolve(model, config=config, profile=profile)
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
        self._tools = ToolLoop(opts.tools or ())
        #: How a widget asks a person about a call (Allow/Deny); used by `approve=True`.
        self.ask: Approver | None = None
        self._step_text_from = 0  # where this step's text begins in `text`
        self._step_usage: Usage | None = None
        #: With `schema=`: the validated answer, once the stream has ended.
        self.parsed: Any = None
        self._past_usage: Usage | None = None
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
    def usage(self) -> Usage | None:
        """Tokens of every step so far (exact once each step's final chunk has arrived)."""
        if self._past_usage is None or self._step_usage is None:
            return self._step_usage or self._past_usage
        a, b = self._past_usage, self._step_usage
        return Usage(
            a.input_tokens + b.input_tokens,
            a.output_tokens + b.output_tokens,
            a.reasoning_tokens + b.reasoning_tokens,
        )

    @property
    def step(self) -> int:
        """The request being streamed: 0, then one more after each round of tool calls."""
        return self._tools.step

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every call the model made in this answer, earlier steps first."""
        return self._tools.all_calls

    def conversation(self) -> list[Message]:
        """The turns this answer adds. Calls left without a result (Stop) get a cancelled one,
        so the conversation stays valid for the next request."""
        return self._tools.conversation(self._step_text)

    def _step_text(self) -> str:
        return self.text[self._step_text_from :]

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
            tool_calls=self.tool_calls,
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
            messages=self.conversation(),
            tool_results=list(self._tools.results.values()),
            parsed=self.parsed,
        )

    # -- the loop --------------------------------------------------------------------------
    async def _run(self) -> AsyncGenerator[StreamChunk, None]:
        self.started_at = time.perf_counter()
        try:
            messages = to_messages(self._prompt)
            tools = self._tools
            approval = approver(self._opts.approve, self.ask) if tools.toolbox.runnable else None
            targets = self.resolution.targets
            while True:
                async for chunk in self._request(targets, messages):
                    yield chunk
                calls = tools.end_step(self._step_text)
                if self.finish_reason != "tool_calls" or not calls:
                    self._parse()
                    return
                if not all(tools.toolbox.runs(c) for c in calls):
                    return  # calls for raw tool definitions go back to the caller
                if tools.step >= self._opts.max_tool_steps:
                    raise self._annotate(
                        ToolLoopError(
                            f"The model was still calling tools after {self.step} rounds "
                            f"(max_tool_steps={self._opts.max_tool_steps}), so the answer was "
                            "ended here. Raise max_tool_steps, or check what the tools return."
                        ),
                        self.target,
                    )
                messages.append(tools.turns[-1])
                async for chunk in tools.run(calls, approval):
                    yield chunk
                messages.extend(tools.turns[-len(calls) :])
                targets = (self.target,)  # the model that began the answer finishes it
                tools.next_step()
                self._past_usage, self._step_usage = self.usage, None
                self.finish_reason = self.raw_finish_reason = None
                if self.text and not self.text.endswith("\n"):
                    separator = StreamChunk(delta="\n\n", model=self.model_name)
                    self._record(separator)
                    yield separator
                self._step_text_from = len(self.text)
        finally:
            self.ended_at = time.perf_counter()

    def _parse(self) -> None:
        """With a schema, the last step's text must be the object asked for."""
        schema = self._opts.schema
        if schema is None:
            return
        try:
            self.parsed = schema.parse(self._step_text(), self.finish_reason)
        except LLMWidgetsError as exc:
            exc.partial_text = self.text
            raise self._annotate(exc, self.target) from None

    async def _request(
        self, targets: Sequence[Target], messages: list[Message]
    ) -> AsyncGenerator[StreamChunk, None]:
        """One request, falling back to the next target only while nothing has been shown."""
        tools = self._tools.toolbox.specs() or None
        for i, target in enumerate(targets):
            self.target = target
            received = False
            try:
                self.provider = get_provider(target)
                refused = refusal(target, self.provider, messages, self._opts)
                if refused:
                    raise ConfigurationError(refused, provider=target.provider, model=target.model)
                request = build_request(target, messages, self._opts, self._default_timeout, tools)
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

    def _record(self, chunk: StreamChunk) -> None:
        if chunk.delta:
            self._pieces.append(chunk.delta)
        if chunk.thinking:
            self._thinking.append(chunk.thinking)
        if chunk.tool_calls:
            self._tools.calls = chunk.tool_calls
        if chunk.thinking_blocks:
            self._tools.thinking_blocks = chunk.thinking_blocks
        if chunk.usage is not None:
            self._step_usage = chunk.usage
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
    tools: Sequence[ToolSpec] | None = None,
    approve: ApproveOption = None,
    max_tool_steps: int = DEFAULT_MAX_TOOL_STEPS,
    schema: Any = None,
    timeout: float | None = None,
    config: str | os.PathLike[str] | Config | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    profile: str | None = None,
    **options: Any,
) -> ChunkStream:
    """Stream an answer chunk by chunk: `async for chunk in stream("chatbot", "Hi")`.

    `model` is an alias from `llmwidgets.toml` or `provider:model`. `prompt` is a string, a list
    of messages (OpenAI-style dicts or `Message`), or a list of the parts of one question:
    strings and notebook objects, `["Describe this chart", fig, df]`, where a DataFrame reads as
    a markdown table and a figure or picture is sent as an image (see `prompt_objects`; a model
    that reads no images is refused before anything is sent). Extra keyword options go to the
    provider.
    `timeout` is how long the stream may stall with no bytes before `StreamTimeoutError`.
    `profile` picks the file's `[profiles.NAME.aliases]` (default: $LLMWIDGETS_PROFILE).

    `tools` are Python functions the model may call: the answer pauses while they run and goes
    on with their results (up to `max_tool_steps` rounds). `approve` asks first: a function of
    the call returning True to run it (widgets also take True, or tool names, for Allow/Deny).

    `schema` (a pydantic model class, TypedDict, dataclass or JSON Schema dict) asks for JSON in
    that shape; `response.parsed` holds the validated value, or `StructuredOutputError` says why not.
    """
    opts = CallOptions(
        system,
        temperature,
        max_tokens,
        tools,
        timeout,
        options,
        approve,
        max_tool_steps,
        Schema.of(schema) if schema is not None else None,
    )
    return ChunkStream(model, prompt, opts, config, base_url, api_key_env, profile)


async def complete(model: str = "chatbot", prompt: Prompt = "", **kwargs: Any) -> Response:
    """Stream to the end and return the whole `Response` (same arguments as `stream`)."""
    s = stream(model, prompt, **kwargs)
    async with s:
        async for _ in s:
            pass
    return s.response
