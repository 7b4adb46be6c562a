"""A loopback HTTP server that speaks four APIs' streaming wire formats: OpenAI Chat Completions
(`wire_openai`), Anthropic Messages (`wire_anthropic`), Gemini (`wire_gemini`) and OpenAI
Responses (`wire_responses`), each rendering the same `Scenario`s (`wire_scenarios`).

Tests, benchmarks and other processes (a Jupyter kernel, a browser test) point the real SDKs at it
and pick what it sends **by the model name** of the request, so no process needs to share memory
with the server:

* ``model="plain-text"`` (or any name in `BUILTIN_SCENARIOS`, or one added with `add_scenario()` /
  ``PUT /control/scenarios/<name>``) plays that scenario;
* ``model="text:<name>?chunk=4&delay=0.001&repeat=1"`` streams the text registered under
  ``<name>`` (`add_text()` / ``PUT /control/texts/<name>``; ``text:sample`` is built in) in pieces
  of ``chunk`` characters with ``delay`` seconds before each piece;
* any name may carry ``?delay=S`` to override the scenario's delay;
* an unknown model gets the API's own 404 "model not found" answer.

The server records every API request (`requests`), every time a *client* closed the
connection while a stream was still being written (`disconnects`), and when each event of a
paced stream (``delay`` > 0) actually left (`paced`), all with `time.monotonic()` timestamps, a
clock shared by all processes on the machine. Other processes read them with
``GET /control/requests``, ``GET /control/disconnects`` and ``GET /control/paced`` and clear
them with ``POST /control/reset``.

It runs in a background thread with its own event loop (`WireServer.start()` / `stop()` or a
``with`` block), so sync tests, async tests and other processes can all use it. Run it alone with
``python tests/wire_server.py [--port N]``: it prints one JSON line with its URLs, then serves
until it gets SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from wire_anthropic import (
    anthropic_error_body,
    anthropic_error_event,
    anthropic_events,
    unsigned_tool_turn,
)
from wire_openai import openai_error_body, openai_error_event, openai_events
from wire_scenarios import (
    BUILTIN_SCENARIOS,
    PLAIN_TEXT,
    SAMPLE_MARKDOWN,
    WEATHER_CALLS,
    Scenario,
    ToolFragment,
    WireEvent,
    _builtin_scenarios,
    _json,
    answer_to,
    latest_tool_results,
    split_text,
)

__all__ = [
    "BUILTIN_SCENARIOS",
    "PLAIN_TEXT",
    "SAMPLE_MARKDOWN",
    "WEATHER_CALLS",
    "Scenario",
    "ToolFragment",
    "WireEvent",
    "WireServer",
    "answer_to",
    "free_port",
    "latest_tool_results",
    "split_text",
]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as received; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def model(self) -> str:
        return self.body.get("model", "") if isinstance(self.body, dict) else ""


@dataclass
class PacedStream:
    """When each event of a paced stream (`delay` > 0) actually left the server."""

    model: str
    sent_at: list[float]  # time.monotonic() after each event's write


@dataclass(frozen=True)
class Disconnect:
    """The client closed the connection while the server was still streaming to it."""

    path: str
    model: str
    at: float
    events_sent: int


# --------------------------------------------------------------------------- the server


class WireServer:
    """The HTTP server in a background thread; see the module docstring for how to drive it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.paced: list[PacedStream] = []
        self.disconnects: list[Disconnect] = []
        self._scenarios = _builtin_scenarios()
        self._texts: dict[str, str] = {"sample": SAMPLE_MARKDOWN}
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._active: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # ---- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def gemini_base_url(self) -> str:
        return self.url

    def start(self) -> WireServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_app())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="wire-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _start_app(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1/responses", self._responses)
        for version in ("v1", "v1beta"):  # Gemini's streamGenerateContent, either API version
            app.router.add_post(f"/{version}/models/{{tail:.*}}", self._gemini)
        app.router.add_get("/control/health", self._health)
        app.router.add_get("/control/requests", self._get_requests)
        app.router.add_get("/control/disconnects", self._get_disconnects)
        app.router.add_get("/control/paced", self._get_paced)
        app.router.add_post("/control/reset", self._reset)
        app.router.add_put("/control/scenarios/{name}", self._put_scenario)
        app.router.add_put("/control/texts/{name}", self._put_text)
        # handler_cancellation: a client that goes away cancels the handler at once, which is how
        # the server sees (and timestamps) disconnects even while it sleeps between events.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping = True

        async def shutdown() -> None:
            for task in list(self._active):
                task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting

    def add_scenario(self, name: str, scenario: Scenario) -> str:
        """Register `scenario` under `name`; returns the model name that selects it."""
        self._scenarios[name] = scenario
        return name

    def scenario(self, scenario: Scenario) -> str:
        """Register an anonymous scenario; returns a fresh model name that selects it."""
        return self.add_scenario(f"custom-{uuid.uuid4().hex[:8]}", scenario)

    def add_text(self, name: str, text: str) -> None:
        self._texts[name] = text

    @staticmethod
    def text_model(name: str, chunk: int = 4, delay: float = 0.0, repeat: int = 1) -> str:
        """The model name that streams text `name` in `chunk`-character pieces."""
        return f"text:{name}?chunk={chunk}&delay={delay}&repeat={repeat}"

    def reset(self) -> None:
        """Forget recorded requests and disconnects (scenarios and texts stay)."""
        with self._changed:
            self.requests.clear()
            self.disconnects.clear()
            self.paced.clear()

    def wait_for_disconnect(self, timeout: float = 5.0, count: int = 1) -> Disconnect:
        """Block until `count` disconnects are recorded; returns the last. Raises TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.disconnects) >= count, timeout):
                raise TimeoutError(f"no client disconnect within {timeout}s")
            return self.disconnects[count - 1]

    async def until_disconnect(self, timeout: float = 5.0, count: int = 1) -> Disconnect:
        """`wait_for_disconnect` for async tests: polls without blocking the loop."""
        deadline = time.monotonic() + timeout
        while len(self.disconnects) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no client disconnect within {timeout}s")
            await asyncio.sleep(0.001)
        return self.disconnects[count - 1]

    def resolve(self, model: str) -> Scenario | None:
        """The scenario a model name selects (None: unknown model, answered with a 404)."""
        parts = urlsplit(model)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()} if "?" in model else {}
        name = model.split("?", 1)[0]
        if name.startswith("text:"):
            text = self._texts.get(name[len("text:") :])
            if text is None:
                return None
            text = text * int(query.get("repeat", 1))
            pieces = split_text(text, int(query.get("chunk", 4)))
            sc = Scenario(text=pieces, usage=(12, max(1, len(text) // 4)))
        else:
            found = self._scenarios.get(name)
            if found is None:
                return None
            sc = dataclasses.replace(found)
        if "delay" in query:
            sc.delay = float(query["delay"])
        return sc

    # ---- handlers

    async def _record(self, request: web.Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            body = None
        rec = RecordedRequest(
            request.method,
            request.path,
            {k.lower(): v for k, v in request.headers.items()},
            body,
            time.monotonic(),
        )
        with self._changed:
            self.requests.append(rec)
            self._changed.notify_all()
        return body

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        model = str((body or {}).get("model", ""))
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        sc = self.resolve(model)
        if sc is None:
            return web.json_response(openai_error_body(404, model, "", key), status=404)
        if sc.answer_tool_results and latest_tool_results(body):
            sc = answer_to(latest_tool_results(body))
        if sc.status != 200:
            return self._error_response(
                sc, openai_error_body(sc.status, model, sc.error_message, key)
            )
        if sc.reject_stream_options and "stream_options" in body:
            err = openai_error_body(
                400, model, "Unrecognized request argument supplied: stream_options", key
            )
            return web.json_response(err, status=400)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = openai_events(sc, model, include_usage)
        return await self._stream(request, sc, events, openai_error_event(sc.error_message), model)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        model = str((body or {}).get("model", ""))
        key = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
        key = key.removeprefix("Bearer ")
        sc = self.resolve(model)
        if sc is None:
            return web.json_response(anthropic_error_body(404, model, "", key), status=404)
        if sc.answer_tool_results and latest_tool_results(body):
            sc = answer_to(latest_tool_results(body))
        if sc.status != 200:
            return self._error_response(
                sc, anthropic_error_body(sc.status, model, sc.error_message, key)
            )
        refusal = unsigned_tool_turn(body)
        if refusal is not None:
            err = anthropic_error_body(400, model, refusal, key)
            return web.json_response(err, status=400)
        events = anthropic_events(sc, model)
        error = anthropic_error_event(sc.error_message or "Overloaded")
        return await self._stream(request, sc, events, error, model)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        from wire_responses import responses_response  # it imports this module: not at the top

        return await responses_response(self, request)

    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        from wire_gemini import gemini_response  # it imports this module: not at the top

        return await gemini_response(self, request)

    @staticmethod
    def _error_response(sc: Scenario, body: dict[str, Any]) -> web.Response:
        headers = {}
        if sc.retry_after is not None:
            headers["retry-after"] = f"{sc.retry_after:g}"
        return web.json_response(body, status=sc.status, headers=headers)

    async def _stream(
        self,
        request: web.Request,
        sc: Scenario,
        events: Iterator[WireEvent],
        error_event: WireEvent,
        model: str,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        resp.enable_chunked_encoding()
        task = asyncio.current_task()
        assert task is not None
        self._active.add(task)
        sent = content = 0
        loop = asyncio.get_running_loop()
        paced = PacedStream(model, []) if sc.delay else None
        if paced is not None:
            self.paced.append(paced)
        try:
            await resp.prepare(request)
            due = loop.time()
            for event in events:
                if sent and sc.delay:
                    # Paced on a fixed schedule, so write overhead does not add up over a stream.
                    due += sc.delay
                    await asyncio.sleep(max(0.0, due - loop.time()))
                await self._write(resp, event.data, sc.split_utf8)
                if paced is not None:
                    paced.sent_at.append(time.monotonic())
                sent += 1
                content += event.content
                if not event.content:
                    continue
                if content == sc.stall_after:
                    await asyncio.sleep(sc.stall)
                    due = loop.time()
                if content == sc.error_after:
                    await resp.write(error_event.data)
                    break
                if content == sc.cut_after:
                    assert request.transport is not None
                    request.transport.abort()
                    return resp
            await resp.write_eof()
        except asyncio.CancelledError:
            self._record_disconnect(request.path, model, sent)
            raise
        except ConnectionResetError:  # gone between two writes, before the cancel arrived
            self._record_disconnect(request.path, model, sent)
        finally:
            self._active.discard(task)
        return resp

    def _record_disconnect(self, path: str, model: str, sent: int) -> None:
        if self._stopping:
            return
        with self._changed:
            self.disconnects.append(Disconnect(path, model, time.monotonic(), sent))
            self._changed.notify_all()

    @staticmethod
    async def _write(resp: web.StreamResponse, data: bytes, split_utf8: bool) -> None:
        if split_utf8:
            first = next((i for i, b in enumerate(data) if b >= 0x80), None)
            if first is not None:
                # Cut inside the first multi-byte character, so a decoder must carry bytes over.
                await resp.write(data[: first + 1])
                await asyncio.sleep(0.001)
                data = data[first + 1 :]
        await resp.write(data)

    # ---- control endpoints

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "openai_base_url": self.openai_base_url,
                "anthropic_base_url": self.anthropic_base_url,
            }
        )

    async def _get_requests(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(r) for r in self.requests])

    async def _get_paced(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(p) for p in self.paced])

    async def _get_disconnects(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(d) for d in self.disconnects])

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _put_scenario(self, request: web.Request) -> web.Response:
        try:
            sc = Scenario.from_dict(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        name = self.add_scenario(request.match_info["name"], sc)
        return web.json_response({"model": name})

    async def _put_text(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.add_text(name, await request.text())
        return web.json_response({"model": self.text_model(name)})


def free_port() -> int:
    """A port nothing listens on right now (for connection-refused tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = WireServer(port=args.port).start()
    print(
        _json(
            {
                "url": server.url,
                "openai_base_url": server.openai_base_url,
                "anthropic_base_url": server.anthropic_base_url,
            }
        ),
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


if __name__ == "__main__":
    main()
