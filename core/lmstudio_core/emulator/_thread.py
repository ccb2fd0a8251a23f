"""Run an emulator in a background thread with its own event loop.

Sync tests, async tests on another loop, and demos use this: the emulator's loop lives
in a daemon thread; :meth:`EmulatorThread.stop` closes the server, lets
``asyncio.run`` cancel anything left and joins the thread.

Scripting the engine from the test's thread (``emu.engine.script(...)``) must not race the
loop thread, which consumes the script queue as predictions start: the handle's engine is
a :class:`ThreadSafeEngine` whose scripting calls run on the loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

from ._engine import DeterministicEngine, ScriptedTurn, Tokenizer
from ._faults import Faults
from ._instances import LoadedInstance
from ._record import ReceivedRecord
from ._server import Emulator
from ._sockets import count_client_sockets

__all__ = ["EmulatorThread", "ThreadSafeEngine", "run_in_thread"]

_T = TypeVar("_T")

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class ThreadSafeEngine:
    """The deterministic engine of an :class:`EmulatorThread`, safe to script from any thread.

    ``script``, ``script_reply``, ``clear_script`` and ``scripted_turns_pending`` run on the
    emulator's loop thread (directly when it is not running, or when called from it), so a
    turn is queued or dropped between two predictions, never while one takes it. Other
    attributes are the engine's own (:attr:`engine`); use those from the loop thread
    (:meth:`EmulatorThread.call`).
    """

    def __init__(self, owner: EmulatorThread) -> None:
        self._owner = owner

    @property
    def engine(self) -> DeterministicEngine:
        """The engine itself."""
        return self._owner.emulator.engine

    @property
    def tokenizer(self) -> Tokenizer:
        return self.engine.tokenizer

    def script(self, model_key: str | None, turn: ScriptedTurn) -> None:
        """Queue ``turn`` for the next prediction of ``model_key`` (any model when ``None``)."""
        engine = self.engine
        self._owner.on_loop(lambda: engine.script(model_key, turn))

    def script_reply(self, text: str, model_key: str | None = None) -> None:
        """Queue a plain text reply for the next prediction (of ``model_key``, or any)."""
        engine = self.engine
        self._owner.on_loop(lambda: engine.script_reply(text, model_key))

    def clear_script(self) -> None:
        """Drop every queued scripted turn."""
        engine = self.engine
        self._owner.on_loop(engine.clear_script)

    @property
    def scripted_turns_pending(self) -> int:
        """Number of scripted turns not consumed yet."""
        engine = self.engine
        return self._owner.on_loop(lambda: engine.scripted_turns_pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def __repr__(self) -> str:
        return f"ThreadSafeEngine({self.engine!r})"


class EmulatorThread:
    """An :class:`Emulator` served from a background thread.

    Args:
        emulator: The emulator to run; when ``None`` one is created from ``options``
            (with ``port=0``, a free port, unless given).
        **options: Keyword arguments for :class:`Emulator`.

    Use as a context manager (``with EmulatorThread() as emu:``) or call
    :meth:`start` / :meth:`stop`.
    """

    def __init__(self, emulator: Emulator | None = None, **options: Any) -> None:
        if emulator is None:
            options.setdefault("port", 0)
            emulator = Emulator(**options)
        elif options:
            raise TypeError("pass either an emulator or options, not both")
        self.emulator = emulator
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._engine = ThreadSafeEngine(self)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> EmulatorThread:
        """Start serving; returns once the socket is bound.

        Raises:
            RuntimeError: Already started, or the server failed to start.
        """
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already running")
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._main(),), name="lmstudio-emulator", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._error is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
            raise RuntimeError("the LM Studio emulator failed to start") from self._error
        return self

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.emulator.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.emulator.stop()

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join(STOP_TIMEOUT)
        self._thread = None
        self._loop = None

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- where it listens -------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.emulator.host

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def api_host(self) -> str:
        """``127.0.0.1:<port>`` for ``lmstudio.Client(api_host)``."""
        return self.emulator.api_host

    @property
    def base_url(self) -> str:
        """``ws://127.0.0.1:<port>`` for ``new LMStudioClient({baseUrl})``."""
        return self.emulator.base_url

    # -- controls -----------------------------------------------------------------------

    @property
    def engine(self) -> ThreadSafeEngine:
        """The deterministic engine (``script``, ``script_reply``, ``clear_script``), safe to
        script from any thread."""
        return self._engine

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    @property
    def record(self) -> ReceivedRecord:
        return self.emulator.record

    def call(self, func: Callable[[], _T], timeout: float = 10.0) -> _T:
        """Run ``func`` in the emulator's loop thread and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the emulator thread is not running")

        async def invoke() -> _T:
            return func()

        future: concurrent.futures.Future[_T] = asyncio.run_coroutine_threadsafe(invoke(), loop)
        return future.result(timeout)

    def on_loop(self, func: Callable[[], _T]) -> _T:
        """Run ``func`` on the emulator's loop thread if it is running, else right here."""
        loop, thread = self._loop, self._thread
        if (
            loop is None
            or thread is None
            or threading.current_thread() is thread
            or not loop.is_running()
        ):
            return func()
        return self.call(func)

    def client_socket_count(self) -> int:
        """Sockets this process holds open to the emulator (Linux; for leak tests)."""
        return count_client_sockets(self.port)

    def loaded_identifiers(self, domain: str | None = None) -> list[str]:
        """Identifiers of the loaded instances (of one domain: ``llm``/``embedding``)."""
        return self.call(
            lambda: [
                i.identifier
                for i in self.emulator.loaded()
                if domain is None or i.spec.type == domain
            ]
        )

    def load_model(
        self,
        model_key: str,
        *,
        identifier: str | None = None,
        ttl_ms: int | None = None,
        context_length: int | None = None,
    ) -> str:
        """Load an instance server-side; returns its identifier."""
        inst: LoadedInstance = self.call(
            lambda: self.emulator.load(
                model_key, identifier=identifier, ttl_ms=ttl_ms, context_length=context_length
            )
        )
        return inst.identifier

    def unload_model(self, identifier: str) -> bool:
        """Unload an instance server-side; ``False`` if no instance has that identifier."""
        return self.call(lambda: self.emulator.unload(identifier))


@contextlib.contextmanager
def run_in_thread(**options: Any) -> Iterator[EmulatorThread]:
    """Context manager: an :class:`EmulatorThread` built from ``options``, running."""
    with EmulatorThread(**options) as running:
        yield running
