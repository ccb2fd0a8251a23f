"""The emulator server: HTTP greeting, WebSocket namespaces, authentication.

Theory of operation
-------------------
One ``websockets`` server listens on one port. Plain HTTP requests are answered by the
``process_request`` hook (``/lmstudio-greeting`` -> ``{"lmstudio": true}``, anything else
404); upgrades to ``/<namespace>`` become a connection that first authenticates (within
``auth_timeout``) and is then served by a :class:`Session`. A background task unloads
instances whose idle TTL ran out. ``stop()`` closes the server, which ends every
connection and with it every task the connection started, then closes the replacement
engines that have a ``close()`` (real engines release their models).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, serve
from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response

from ..protocol import AuthRequested, ServerConnection
from ._catalog import ModelSpec, default_catalog
from ._diagnostics import diagnostics_endpoints
from ._embedding import embedding_endpoints
from ._endpoint import Endpoint
from ._engine import DeterministicEngine
from ._engines import EmbeddingEngine, EngineSet, TextEngine, close_engine, load_engine
from ._faults import Faults
from ._files import files_endpoints
from ._instances import LoadedInstance, ModelStore
from ._models import model_endpoints
from ._predict import predict_endpoints
from ._record import ReceivedRecord
from ._repository import repository_endpoints
from ._session import Session
from ._state import DEFAULT_VERSION, EmulatorState, Settings, parse_api_token
from ._system import system_endpoints

__all__ = ["MAX_FRAME_BYTES", "NAMESPACES", "Emulator"]

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 256 * 1024 * 1024
NAMESPACES = (
    "llm",
    "embedding",
    "system",
    "diagnostics",
    "files",
    "repository",
    "plugins",
    "runtime",
)
_GREETING = json.dumps({"lmstudio": True}).encode()


def _endpoint_tables() -> dict[str, dict[str, Endpoint]]:
    tables: dict[str, list[Endpoint]] = {
        "llm": [*model_endpoints("llm"), *predict_endpoints()],
        "embedding": [*model_endpoints("embedding"), *embedding_endpoints()],
        "system": system_endpoints(),
        "diagnostics": diagnostics_endpoints(),
        "files": files_endpoints(),
        "repository": repository_endpoints(),
        "plugins": [],
        "runtime": [],
    }
    return {ns: {e.name: e for e in eps} for ns, eps in tables.items()}


class Emulator:
    """An LM Studio-compatible server on a real socket.

    Use it as ``async with Emulator(port=0) as emu:`` (or ``await start()`` /
    ``await stop()``) inside an event loop; for sync code and other threads use
    :class:`EmulatorThread`.

    Args:
        host: Interface to listen on.
        port: TCP port (``0`` picks a free one; see :attr:`port` after start).
        catalog: Models (default: :func:`default_catalog`); entries with
            ``downloaded=False`` are only offered by the repository search.
        api_tokens: Require one of these ``sk-lm-...`` tokens (``None``: open mode).
        tokens_per_second: Generation rate (``None``: as fast as possible).
        strict: Also answer invalid requests with ``rpcError``/``channelError``.
        engine: Deterministic engine to use (scripts live on it).
        text_engines: Replacement LLM engines by model key.
        embedding_engines: Replacement embedding engines by model key.
        presets: Prediction presets: identifier -> (name, KV fields).
        auth_timeout: Seconds a connection may take to authenticate.
        load_seconds: Simulated duration of a model load.
        jit_auto_evict: ``getOrLoad`` unloads other JIT-loaded instances first.
        reply_tokens: Length of the deterministic engine's free-text replies.
        version: Version reported by ``system.version``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 1234,
        catalog: Iterable[ModelSpec] | None = None,
        api_tokens: str | Sequence[str] | None = None,
        tokens_per_second: float | None = None,
        strict: bool = False,
        engine: DeterministicEngine | None = None,
        text_engines: Mapping[str, TextEngine] | None = None,
        embedding_engines: Mapping[str, EmbeddingEngine] | None = None,
        presets: Mapping[str, tuple[str, list[dict[str, Any]]]] | None = None,
        auth_timeout: float = 10.0,
        load_seconds: float = 0.0,
        jit_auto_evict: bool = True,
        reply_tokens: int = 24,
        version: str | None = None,
    ) -> None:
        tokens = None
        if api_tokens is not None:
            token_list = [api_tokens] if isinstance(api_tokens, str) else list(api_tokens)
            tokens = dict(parse_api_token(t) for t in token_list)
        settings = Settings(
            strict=strict,
            auth_timeout=auth_timeout,
            version=version or DEFAULT_VERSION,
            api_tokens=tokens,
            load_seconds=load_seconds,
            jit_auto_evict=jit_auto_evict,
            reply_tokens=reply_tokens,
        )
        self._host = host
        self._requested_port = port
        self.state = EmulatorState(
            settings=settings,
            store=ModelStore(default_catalog() if catalog is None else catalog),
            engines=EngineSet(
                engine, text_engines=text_engines, embedding_engines=embedding_engines
            ),
            faults=Faults(tokens_per_second),
            record=ReceivedRecord(),
            presets=dict(presets or {}),
        )
        self._tables = _endpoint_tables()
        self._server: Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._port: int | None = None

    # -- public surface -------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the requested one before :meth:`start`)."""
        return self._port if self._port is not None else self._requested_port

    @property
    def api_host(self) -> str:
        """``host:port``, as the official Python client's ``api_host`` expects."""
        return f"{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``ws://host:port``, as the official JS client's ``baseUrl`` expects."""
        return f"ws://{self.api_host}"

    @property
    def engine(self) -> DeterministicEngine:
        """The deterministic engine: script replies, tool calls and errors on it."""
        return self.state.engines.engine

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def record(self) -> ReceivedRecord:
        return self.state.record

    @property
    def catalog(self) -> tuple[ModelSpec, ...]:
        return self.state.store.catalog

    def loaded(self) -> list[LoadedInstance]:
        """Loaded instances (call from the emulator's loop)."""
        return list(self.state.store.instances)

    def load(
        self,
        model_key: str,
        *,
        identifier: str | None = None,
        ttl_ms: int | None = None,
        context_length: int | None = None,
    ) -> LoadedInstance:
        """Load an instance server-side, like a user would in the app."""
        spec = self.state.store.find_downloaded(model_key)
        if spec is None:
            raise KeyError(f"no downloaded model {model_key!r}")
        layers = []
        if context_length is not None:
            layers.append([{"key": f"{spec.type}.load.contextLength", "value": context_length}])
        return self.state.load(spec, identifier=identifier, config_layers=layers, ttl_ms=ttl_ms)

    def unload(self, identifier: str) -> bool:
        """Unload an instance by identifier; ``False`` if none has it."""
        for inst in self.state.store.instances:
            if inst.identifier == identifier:
                return self.state.unload(inst)
        return False

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket, preload models and start serving."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        for spec in self.state.store.catalog:
            if spec.preload:
                inst = self.state.load(spec)
                await load_engine(self.state.engines.tokenizer_for(spec), inst.context_length)
        self._server = await serve(
            self._handle,
            self._host,
            self._requested_port,
            process_request=self._process_request,
            max_size=MAX_FRAME_BYTES,
            compression=None,
            # The server never pings: a client that reads slowly behind a long stream would
            # miss the pong deadline and be disconnected. Clients' own pings are answered.
            ping_interval=None,
        )
        sockets = list(self._server.sockets)
        self._port = int(sockets[0].getsockname()[1]) if sockets else self._requested_port
        self._reaper = asyncio.get_running_loop().create_task(self._reap_idle())
        logger.info("LM Studio emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close every connection, end every task, close the engines, free temporary files."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        server.close(close_connections=True)
        await server.wait_closed()
        for engine in self.state.engines.replacements():
            await close_engine(engine)
        self.state.files.close()
        logger.info("LM Studio emulator stopped")

    async def serve_forever(self) -> None:
        """Start (if needed) and serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.wait_closed()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- connections ------------------------------------------------------------------

    def _process_request(self, connection: WebSocket, request: HttpRequest) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/lmstudio-greeting":
            return _http_response(HTTPStatus.OK, _GREETING, "application/json")
        namespace = path.strip("/")
        if namespace in NAMESPACES and request.headers.get("Upgrade", "").lower() == "websocket":
            if self.state.faults.take_refusal(namespace):
                return _http_response(
                    HTTPStatus.SERVICE_UNAVAILABLE, b"Service Unavailable", "text/plain"
                )
            return None
        return _http_response(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain")

    async def _handle(self, websocket: WebSocket) -> None:
        assert websocket.request is not None
        namespace = websocket.request.path.split("?", 1)[0].strip("/")
        connection = ServerConnection(namespace)
        client = await self._authenticate(websocket, connection)
        if client is None:
            return
        session = Session(self.state, websocket, connection, self._tables[namespace], client)
        try:
            await session.run()
        finally:
            self.state.release(client)
            logger.debug("%s: connection of a client closed", namespace)

    async def _authenticate(self, websocket: WebSocket, connection: ServerConnection) -> str | None:
        try:
            async with asyncio.timeout(self.state.settings.auth_timeout):
                async for frame in websocket:
                    event = connection.receive(frame)
                    if isinstance(event, AuthRequested):
                        return await self._check_auth(websocket, connection, event)
                    logger.debug("%s: ignored frame before authentication", connection.namespace)
        except TimeoutError:
            with contextlib.suppress(ConnectionClosed):
                await websocket.send(connection.reject_auth("Authentication timed out"))
                await websocket.close()
        except ConnectionClosed:
            pass
        return None

    async def _check_auth(
        self, websocket: WebSocket, connection: ServerConnection, event: AuthRequested
    ) -> str | None:
        error = self.state.authenticate(event.client_identifier, event.client_passkey)
        try:
            if error is not None:
                logger.debug("%s: authentication refused", connection.namespace)
                await websocket.send(connection.reject_auth(error))
                await websocket.close()
                return None
            await websocket.send(connection.accept_auth())
        except ConnectionClosed:
            if error is None:
                self.state.release(event.client_identifier)
            return None
        return event.client_identifier

    async def _reap_idle(self) -> None:
        interval = self.state.settings.ttl_check_interval
        while True:
            await asyncio.sleep(interval)
            for identifier in self.state.expire_idle():
                logger.debug("unloaded %s: idle TTL expired", identifier)


def _http_response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)
