"""Clients collected without ``close()`` free their sockets, threads and tasks, and warn.

As an unclosed file does: a ``ResourceWarning`` naming the client (its source), and only
if the client still held an open connection. Every test counts the threads, this process's
file descriptors and its sockets to the emulator before and after. Warnings are errors in
this suite and ERROR log records fail these tests, so a reader task destroyed pending, an
unclosed transport or socket collected later or a coroutine failing while being finalized
fails them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lmstudio_core import AsyncClient, Client, DisconnectedError

from .conftest import EMBEDDING_KEY, LLM_KEY, TEST_TIMEOUTS

UNCLOSED = r"^unclosed <{}Client base_url='ws://127\.0\.0\.1:\d+'>$"
SETTLE_SECONDS = 10.0


@dataclass(frozen=True)
class Usage:
    threads: int
    fds: int
    sockets: int

    def within(self, baseline: Usage) -> bool:
        return (
            self.threads <= baseline.threads
            and self.fds <= baseline.fds
            and self.sockets <= baseline.sockets
        )


def usage(emulator: Any) -> Usage:
    return Usage(
        threading.active_count(),
        len(os.listdir("/proc/self/fd")),
        emulator.client_socket_count(),
    )


def settle(emulator: Any, baseline: Usage) -> Usage:
    """Usage once it is back to ``baseline`` (the threads end on their own), or at the deadline."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while not (now := usage(emulator)).within(baseline) and time.monotonic() < deadline:
        time.sleep(0.02)
    return now


async def settle_async(emulator: Any, baseline: Usage, tasks: int) -> tuple[Usage, int]:
    """Like :func:`settle`, letting the running loop work; also waits for its tasks."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        now = usage(emulator)
        if now.within(baseline) and len(asyncio.all_tasks()) <= tasks:
            break
        await asyncio.sleep(0.02)
    return usage(emulator), len(asyncio.all_tasks())


def unclosed_warnings(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.fixture(autouse=True)
def no_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Freeing a collected client must not log errors (asyncio's "Task was destroyed ...")."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def warm_up(emulator: Any) -> Usage:
    """Load the models and start the emulator's machinery, outside the counts; the baseline.

    The emulator runs in this process: its ends of the sockets count as descriptors too,
    and it closes them a little after a client has. The baseline is taken once it has.
    """
    with Client(emulator.base_url, timeout=TEST_TIMEOUTS) as client:
        client.llm.model(LLM_KEY).respond("hi", max_tokens=2)
        client.embedding.model(EMBEDDING_KEY).embed(["warm"])
        client.system.version()
    gc.collect()
    previous, deadline = usage(emulator), time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if (now := usage(emulator)) == previous:
            break
        previous = now
    return previous


async def start_executor() -> None:
    """Start the loop's default executor (its thread stays) before counting threads."""
    await asyncio.to_thread(int)


def use(client: Client) -> None:
    """One request per namespace: three sockets, three reader threads."""
    client.llm.model(LLM_KEY).respond("hi", max_tokens=3)
    client.embedding.model(EMBEDDING_KEY).embed(["hello"])
    client.system.version()


async def use_async(client: AsyncClient) -> None:
    await (await client.llm.model(LLM_KEY)).respond("hi", max_tokens=3)
    await (await client.embedding.model(EMBEDDING_KEY)).embed(["hello"])
    await client.system.version()


def new_client(emulator: Any) -> Client:
    return Client(emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1)


def new_async_client(emulator: Any) -> AsyncClient:
    return AsyncClient(emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=1)


# -- blocking client -------------------------------------------------------------------


def test_a_collected_client_frees_its_sockets_and_reader_threads(lmstudio_emulator: Any) -> None:
    before = warm_up(lmstudio_emulator)
    client = new_client(lmstudio_emulator)
    use(client)
    during = usage(lmstudio_emulator)
    assert during.sockets == before.sockets + 3
    assert during.threads > before.threads

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("")) as record:  # noqa: PT031
        del client
        gc.collect()

    [warning] = unclosed_warnings(record.list)
    assert type(warning.source) is Client
    del warning, record
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


async def test_a_blocking_client_collected_in_an_event_loop_thread_is_freed(
    lmstudio_emulator: Any,
) -> None:
    # An application's loop thread may be where the collector runs: the finalizer must
    # leave it running, and the loop keeps serving while the client's threads end.
    await start_executor()
    before = warm_up(lmstudio_emulator)
    client = new_client(lmstudio_emulator)
    await asyncio.to_thread(use, client)
    assert usage(lmstudio_emulator).sockets == before.sockets + 3

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("")):  # noqa: PT031
        del client
        gc.collect()  # in the loop's thread

    after, _ = await settle_async(lmstudio_emulator, before, len(asyncio.all_tasks()))
    assert after.within(before), (after, before)


def test_fifty_clients_built_and_dropped_in_a_loop_leave_nothing(lmstudio_emulator: Any) -> None:
    before = warm_up(lmstudio_emulator)

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("")) as record:  # noqa: PT031
        for index in range(50):
            new_client(lmstudio_emulator).system.version()
            if index % 10 == 9:
                gc.collect()
        gc.collect()

    assert len(unclosed_warnings(record.list)) == 50
    del record
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


def test_clients_without_an_open_connection_warn_nothing(lmstudio_emulator: Any) -> None:
    before = warm_up(lmstudio_emulator)
    unused = new_client(lmstudio_emulator)
    closed = new_client(lmstudio_emulator)
    closed.system.version()
    closed.close()
    dropped = Client(lmstudio_emulator.base_url, timeout=TEST_TIMEOUTS, max_retries=0)
    lmstudio_emulator.faults.drop_connection_on("version")
    with pytest.raises(DisconnectedError):
        dropped.system.version()  # LM Studio dropped it: nothing left open

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del unused, closed, dropped
        gc.collect()

    assert unclosed_warnings(caught) == []
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


# -- asyncio client --------------------------------------------------------------------


async def test_an_async_client_collected_in_its_running_loop_frees_sockets_and_tasks(
    lmstudio_emulator: Any,
) -> None:
    before, tasks = warm_up(lmstudio_emulator), len(asyncio.all_tasks())
    client = new_async_client(lmstudio_emulator)
    await use_async(client)
    assert usage(lmstudio_emulator).sockets == before.sockets + 3
    assert len(asyncio.all_tasks()) > tasks  # the reader tasks

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")) as record:  # noqa: PT031
        del client
        gc.collect()

    [warning] = unclosed_warnings(record.list)
    assert type(warning.source) is AsyncClient
    del warning, record
    after, left = await settle_async(lmstudio_emulator, before, tasks)
    assert after.within(before), (after, before)
    assert left == tasks


async def test_an_async_client_collected_from_another_thread_is_freed_by_its_loop(
    lmstudio_emulator: Any,
) -> None:
    # The collector may run in any thread: the close is handed to the client's loop.
    await start_executor()
    before, tasks = warm_up(lmstudio_emulator), len(asyncio.all_tasks())
    holder = [new_async_client(lmstudio_emulator)]
    await use_async(holder[0])

    def drop() -> None:
        holder.clear()
        gc.collect()

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")):
        await asyncio.to_thread(drop)

    after, left = await settle_async(lmstudio_emulator, before, tasks)
    assert after.within(before), (after, before)
    assert left == tasks


async def test_fifty_async_clients_dropped_in_a_running_loop_leave_nothing(
    lmstudio_emulator: Any,
) -> None:
    before, tasks = warm_up(lmstudio_emulator), len(asyncio.all_tasks())

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")) as record:  # noqa: PT031
        for index in range(50):
            await new_async_client(lmstudio_emulator).system.version()
            if index % 10 == 9:
                gc.collect()
        gc.collect()

    assert len(unclosed_warnings(record.list)) == 50
    del record
    after, left = await settle_async(lmstudio_emulator, before, tasks)
    assert after.within(before), (after, before)
    assert left == tasks


def test_an_async_client_collected_after_its_loop_closed_is_freed_at_once(
    lmstudio_emulator: Any,
) -> None:
    before = warm_up(lmstudio_emulator)
    client = new_async_client(lmstudio_emulator)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(use_async(client))
    finally:
        loop.close()  # without cancelling: the reader tasks and sockets are stranded
    assert usage(lmstudio_emulator).sockets == before.sockets + 3

    with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")):  # noqa: PT031
        del client
        gc.collect()

    # Freed without the loop, right away (the emulator closes its ends a little later).
    assert usage(lmstudio_emulator).sockets == before.sockets
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


async def test_unused_and_closed_async_clients_warn_nothing(lmstudio_emulator: Any) -> None:
    before, tasks = warm_up(lmstudio_emulator), len(asyncio.all_tasks())
    unused = new_async_client(lmstudio_emulator)
    async with new_async_client(lmstudio_emulator) as closed:
        await closed.system.version()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del unused, closed
        gc.collect()

    assert unclosed_warnings(caught) == []
    after, left = await settle_async(lmstudio_emulator, before, tasks)
    assert after.within(before), (after, before)
    assert left == tasks


# -- a close cut short -----------------------------------------------------------------


@contextlib.contextmanager
def frozen(emulator: Any) -> Iterator[None]:
    """The emulator's loop blocked: it answers nothing (a closing handshake neither)."""
    entered, gate = threading.Event(), threading.Event()

    def block() -> None:
        entered.set()
        gate.wait(SETTLE_SECONDS)

    thread = threading.Thread(target=emulator.call, args=(block, SETTLE_SECONDS + 5))
    thread.start()
    assert entered.wait(5)
    try:
        yield
    finally:
        gate.set()
        thread.join()


async def _close_cut_short(emulator: Any, stack: contextlib.ExitStack) -> None:
    """Close a used client, and cancel that close while it waits for the handshake."""
    client = new_async_client(emulator)
    await client.system.version()
    stack.enter_context(frozen(emulator))  # the handshake cannot finish in this loop's life
    closing = asyncio.create_task(client.close())
    await asyncio.sleep(0)  # the close frame is sent
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert client.closed


def test_a_close_cut_short_by_a_cancel_still_frees_the_socket(lmstudio_emulator: Any) -> None:
    # As when asyncio.run cancels a task that is closing a client as the loop ends.
    before = warm_up(lmstudio_emulator)

    with contextlib.ExitStack() as stack, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(_close_cut_short(lmstudio_emulator, stack))
        gc.collect()
        assert usage(lmstudio_emulator).sockets == before.sockets  # the emulator still frozen

    assert unclosed_warnings(caught) == []  # no transport collected open; the client closed
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


def _use_in_a_stopped_loop(emulator: Any) -> tuple[AsyncClient, asyncio.AbstractEventLoop]:
    """A client used in a loop that is neither running nor closed now."""
    client, loop = new_async_client(emulator), asyncio.new_event_loop()
    loop.run_until_complete(use_async(client))
    return client, loop


def test_an_async_client_collected_while_its_loop_is_stopped_is_freed_when_it_runs(
    lmstudio_emulator: Any,
) -> None:
    before = warm_up(lmstudio_emulator)
    client, loop = _use_in_a_stopped_loop(lmstudio_emulator)
    try:
        with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")):  # noqa: PT031
            del client
            gc.collect()
        assert usage(lmstudio_emulator).sockets == before.sockets + 3  # the loop does it

        loop.run_until_complete(asyncio.sleep(0.05))
    finally:
        loop.close()
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


def test_an_async_client_whose_stopped_loop_is_closed_is_freed_by_the_next_connection(
    lmstudio_emulator: Any,
) -> None:
    before = warm_up(lmstudio_emulator)
    client, loop = _use_in_a_stopped_loop(lmstudio_emulator)
    with pytest.warns(ResourceWarning, match=UNCLOSED.format("Async")):  # noqa: PT031
        del client
        gc.collect()
    loop.close()  # before running what the finalizer asked of it
    gc.collect()  # kept for later, not collected with open transports and pending tasks
    assert usage(lmstudio_emulator).sockets == before.sockets + 3

    async def connect_again() -> None:  # a new asyncio connection releases them, any loop
        async with new_async_client(lmstudio_emulator) as client:
            await client.system.version()
            assert usage(lmstudio_emulator).sockets == before.sockets + 1  # only this one

    asyncio.run(connect_again())
    after = settle(lmstudio_emulator, before)
    assert after.within(before), (after, before)


# -- interpreter exit ------------------------------------------------------------------

EXIT_SCRIPT = """
import asyncio, gc, logging, sys, warnings
from lmstudio_core import AsyncClient, Client

logging.basicConfig(level=logging.WARNING)
warnings.simplefilter("always")
url = sys.argv[1]

kept = Client(url)  # alive at exit, its reader threads running
kept.system.version()
kept_async = AsyncClient(url)  # alive at exit, its loop closed by asyncio.run
asyncio.run(kept_async.system.version())
stranded = AsyncClient(url)  # alive at exit, its loop closed without cancelling
loop = asyncio.new_event_loop()
loop.run_until_complete(stranded.system.version())
loop.close()


async def drop_as_the_loop_ends() -> None:
    client = AsyncClient(url)
    await client.system.version()
    del client
    gc.collect()


asyncio.run(drop_as_the_loop_ends())
print("done")
"""


def test_clients_left_at_interpreter_exit_are_freed_quietly(lmstudio_emulator: Any) -> None:
    script = textwrap.dedent(EXIT_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script, lmstudio_emulator.base_url],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    # The one client collected before exit warns; the rest is freed without a word.
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert [line for line in lines if "Warning" in line and "unclosed <" not in line] == [
        "ResourceWarning: Enable tracemalloc to get the object allocation traceback"
    ]
    assert sum("ResourceWarning: unclosed <AsyncClient" in line for line in lines) == 1
    for marker in ("Traceback", "Exception ignored", "ERROR", "destroyed", "GeneratorExit"):
        assert marker not in done.stderr
