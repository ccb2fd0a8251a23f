"""The web-service recipe under load: model objects built per request, sync and async
endpoints; threads, file descriptors and sockets come back to their baseline and nothing
is logged at error level."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from lmstudio_integrations._pool import POOL

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

RECIPE = Path(__file__).resolve().parents[2] / "cookbook" / "15_web_service.py"
REQUESTS_PER_ENDPOINT = 100  # x 3 endpoints per round


@pytest.fixture
def recipe(lmstudio_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", lmstudio_emulator.base_url)
    spec = importlib.util.spec_from_file_location("web_service_recipe", RECIPE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def service(recipe: ModuleType) -> Iterator[str]:
    server, thread = recipe.serve_in_background()
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def resources(emulator: EmulatorThread) -> tuple[int, int, int]:
    """Our threads (the server's own worker pools grow and shrink by themselves), open
    file descriptors, and the sockets LM Studio sees."""
    gc.collect()
    ours = [t for t in threading.enumerate() if t.name.startswith("lmstudio-")]
    return len(ours), len(os.listdir("/proc/self/fd")), emulator.client_socket_count()


def settle(
    measure: Callable[[], tuple[int, int, int]], baseline: tuple[int, int, int]
) -> tuple[int, int, int]:
    """Measure until every count is back at or below its baseline (closes finish in the
    background), or 10 s have passed."""
    deadline = time.monotonic() + 10
    current = measure()
    while any(now > base for now, base in zip(current, baseline, strict=True)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
        current = measure()
    return current


@pytest.mark.timeout(180)
def test_requests_leave_nothing_behind(
    recipe: ModuleType,
    service: str,
    lmstudio_emulator: EmulatorThread,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    predictions = len(lmstudio_emulator.record.predictions)
    # A first round brings the server's own worker threads to their steady state.
    asyncio.run(recipe.call_the_service(service, REQUESTS_PER_ENDPOINT))
    baseline = settle(lambda: resources(lmstudio_emulator), resources(lmstudio_emulator))
    assert POOL.stats() == (0, 0)  # every model object of the round is gone, and its clients
    for _ in range(2):
        asyncio.run(recipe.call_the_service(service, REQUESTS_PER_ENDPOINT))
    after = settle(lambda: resources(lmstudio_emulator), baseline)
    assert after[0] <= baseline[0], f"threads {baseline[0]} -> {after[0]}"
    assert after[1] <= baseline[1], f"file descriptors {baseline[1]} -> {after[1]}"
    assert after[2] <= baseline[2], f"LM Studio sockets {baseline[2]} -> {after[2]}"
    assert POOL.stats() == (0, 0)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    served = len(lmstudio_emulator.record.predictions) - predictions
    assert served == 3 * 2 * REQUESTS_PER_ENDPOINT  # three rounds of /chat and /achat
