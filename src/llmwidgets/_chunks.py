"""The data that flows through llmwidgets: requests in, chunks out, one response at the end.

`StreamChunk` follows llmring's chunk model so code written against llmring reads the same here.
Everything is a small dataclass: cheap to build per chunk, easy to print, easy to compare in tests.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jiter

Role = Literal["system", "user", "assistant", "tool"]

#: Normalised finish reasons. Providers keep their raw value in `StreamChunk.raw_finish_reason`.
FinishReason = Literal["stop", "length", "tool_calls", "cancelled", "error", "content_filter"]

#: Rough characters per token: live token estimates before a provider's exact count arrives.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    #: All tokens the model wrote, thinking included (what is billed).
    output_tokens: int = 0
    #: The part of `output_tokens` spent thinking, when the provider reports it (else 0).
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass
class ToolCall:
    """One tool call, possibly still streaming: `arguments` grows as fragments arrive."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""
    #: Gemini's `thought_signature` for this call (base64): the API wants it back with the call
    #: in the next turn's history, and Gemini 3 rejects a tool turn without it.
    thought_signature: str = ""

    @property
    def parsed_arguments(self) -> dict[str, Any] | None:
        """The arguments as an object once the JSON is whole, else None (never raises)."""
        if not self.arguments:
            return None
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def complete(self) -> bool:
        return bool(self.name) and (self.arguments == "" or self.parsed_arguments is not None)

    @property
    def partial_arguments(self) -> Any:
        """A best-effort view of unfinished JSON arguments, safe to show while they stream."""
        if not self.arguments:
            return {}
        try:
            return jiter.from_json(self.arguments.encode(), partial_mode="trailing-strings")
        except ValueError:
            return None

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments or "{}"},
        }


@dataclass(frozen=True)
class ThinkingBlock:
    """A provider's signed record of the model's thinking (Anthropic): the API wants it back,
    unchanged and before the tool calls, in the assistant turn that made those calls."""

    thinking: str = ""
    signature: str = ""
    #: A redacted block's opaque data (sent back as is; it has no readable text).
    redacted: str = ""


ToolStatus = Literal["done", "error", "denied", "cancelled"]


@dataclass(frozen=True)
class ToolResult:
    """How one tool call ended; `content` is what the model reads."""

    call_id: str
    name: str
    content: str
    status: ToolStatus = "done"
    duration: float | None = None

    @property
    def is_error(self) -> bool:
        return self.status != "done"

    def to_message(self) -> Message:
        return Message("tool", self.content, tool_call_id=self.call_id, name=self.name)


@dataclass(frozen=True)
class ToolEvent:
    """A step of running a tool call in the tool loop: asking the person, running, its end."""

    call: ToolCall
    status: Literal["approval", "running", "done", "error", "denied", "cancelled"]
    result: ToolResult | None = None


@dataclass(frozen=True)
class StreamChunk:
    """One piece of a streamed answer.

    `delta` is answer text only; model reasoning travels in `thinking` so it never mixes with it.
    `usage` arrives on the final chunk; `tool_calls` holds the calls accumulated so far.
    """

    delta: str = ""
    model: str = ""
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    thinking: str = ""
    #: Only from a provider that answers one request at a time (the embedded model): True when
    #: this request waits for another to finish, False once it is being answered.
    queued: bool | None = None
    #: Only from the tool loop (never from a provider): a call is asked about, runs or ended.
    tool_event: ToolEvent | None = None
    #: On the final chunk, from providers that sign thinking (Anthropic): what goes back.
    thinking_blocks: tuple[ThinkingBlock, ...] = ()


#: The image types every image-reading API here accepts, by their first bytes.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image_type(data: bytes) -> str | None:
    """The media type of PNG, JPEG, GIF or WebP bytes, else None (read from the bytes, not a
    file name, so what is sent is what the provider is told it is)."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class ImagePart:
    """An image sent with a message: its bytes and media type. Providers want it as base64 or
    a data URL, made on demand so a message holds the bytes once."""

    media_type: str
    data: bytes = field(repr=False)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64}"

    @classmethod
    def from_bytes(cls, data: bytes) -> ImagePart:
        """PNG, JPEG, GIF or WebP bytes; anything else is a ValueError naming what is accepted."""
        media_type = sniff_image_type(data)
        if media_type is None:
            raise ValueError("not a PNG, JPEG, GIF or WebP image")
        return cls(media_type, data)

    @classmethod
    def from_data_url(cls, url: str) -> ImagePart:
        """A `data:image/...;base64,...` URL (what OpenAI-style `image_url` parts hold)."""
        head, sep, payload = url.partition(",")
        if not (sep and head.startswith("data:image/") and head.endswith(";base64")):
            raise ValueError(
                f"only base64 data: URLs of images can be sent, not {url[:40]!r}; download the "
                "image and pass its bytes (or a path with %%llm --image)"
            )
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"the image's data: URL is not valid base64 ({exc})") from None
        return cls(head[len("data:") : -len(";base64")], data)

    def to_openai(self) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": self.data_url}}


@dataclass
class Message:
    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    #: The signed thinking of an assistant turn, for providers that need it back (Anthropic).
    thinking_blocks: list[ThinkingBlock] = field(default_factory=list)
    #: Images sent after `content` (a user turn's figures and pictures); `content` stays the
    #: text, so everything that reads it as a str still does.
    images: list[ImagePart] = field(default_factory=list)

    def to_openai(self) -> dict[str, Any]:
        content: str | list[dict[str, Any]] = self.content
        if self.images:
            text = [{"type": "text", "text": self.content}] if self.content else []
            content = text + [image.to_openai() for image in self.images]
        out: dict[str, Any] = {"role": self.role, "content": content}
        if self.tool_calls:
            out["tool_calls"] = [tc.to_openai() for tc in self.tool_calls]
        if self.tool_call_id:
            out["tool_call_id"] = self.tool_call_id
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def coerce(cls, value: Message | dict[str, Any]) -> Message:
        if isinstance(value, Message):
            return value
        if not isinstance(value, dict) or "role" not in value:
            raise TypeError(
                "A prompt list holds either messages (dicts with a role, or Message) or the "
                f"parts of one question (strings and notebook objects), not both: got "
                f"{type(value).__name__} among messages."
            )
        content = value.get("content") or ""
        images: list[ImagePart] = []
        if isinstance(content, list):  # content parts: text, images, notebook objects
            from llmwidgets._prompt_objects import content_parts

            content, images = content_parts(content)
        calls = [
            ToolCall(
                index=i,
                id=tc.get("id", ""),
                name=tc.get("function", {}).get("name", ""),
                arguments=tc.get("function", {}).get("arguments", ""),
            )
            for i, tc in enumerate(value.get("tool_calls") or [])
        ]
        return cls(
            role=value["role"],
            content=str(content),
            tool_calls=calls,
            tool_call_id=value.get("tool_call_id"),
            name=value.get("name"),
            images=images,
        )


#: A question (str); a list of messages (`Message` or OpenAI-style dicts); or a list of the
#: parts of one question: strings and notebook objects (DataFrames, figures, images), see
#: `prompt_objects`. Items are `Any` because a notebook object may be of any type.
Prompt = str | Sequence[Any]


def _is_message(item: object) -> bool:
    return isinstance(item, Message) or (isinstance(item, dict) and "role" in item)


def to_messages(prompt: Prompt) -> list[Message]:
    if isinstance(prompt, str):
        return [Message("user", prompt)]
    items = list(prompt)
    if items and not any(_is_message(item) for item in items):
        from llmwidgets._prompt_objects import user_message

        return [user_message(items)]
    return [Message.coerce(m) for m in items]


@dataclass(frozen=True)
class ResponseFormat:
    """Structured output asked of the model: JSON matching `schema` (see _structured.py)."""

    name: str
    schema: dict[str, Any]
    strict: bool = False


@dataclass
class Request:
    """What a provider is asked for. `model` is the provider's own model name once resolved."""

    model: str
    messages: list[Message]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None
    timeout: float = 60.0
    options: dict[str, Any] = field(default_factory=dict)
    #: JSON in this shape instead of prose; providers without a way to ask for it refuse it.
    response_format: ResponseFormat | None = None


@dataclass
class Response:
    """The whole answer, built from the chunks of one stream."""

    text: str
    model: str
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    thinking: str = ""
    #: Seconds to the first *visible* token (answer text or a tool call); thinking is not one.
    time_to_first_token: float | None = None
    #: Seconds to the first thinking token, when the model shared its thinking.
    time_to_first_thinking: float | None = None
    total_time: float | None = None
    alias: str = ""
    provider: str = ""
    #: The turns this answer adds to a conversation: with tools, each assistant turn that called
    #: some, each call's result, then the final answer; without, just the answer.
    messages: list[Message] = field(default_factory=list)
    #: How each tool call the loop handled ended (run, failed, declined or cancelled).
    tool_results: list[ToolResult] = field(default_factory=list)
    #: With `schema=`: the validated answer (the model instance, or plain data for a dict schema).
    parsed: Any = None

    @property
    def tokens_per_second(self) -> float | None:
        firsts = [
            t for t in (self.time_to_first_token, self.time_to_first_thinking) if t is not None
        ]
        if self.usage is None or not self.total_time or not firsts:
            return None
        gen = self.total_time - min(firsts)  # output tokens count the thinking ones too
        return self.usage.output_tokens / gen if gen > 0 else None

    def to_message(self) -> Message:
        return Message("assistant", self.text, tool_calls=list(self.tool_calls))

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text
