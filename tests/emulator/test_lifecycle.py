"""Startup, shutdown, leaks, disconnects and the command line."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import lmstudio_core.emulator as emulator_package
import pytest
from emulator_wire import LLM_KEY, Wire, predict_params
from lmstudio_core.emulator import Emulator, EmulatorThread, run_in_thread
from lmstudio_core.emulator.__main__ import main as cli_main
from websockets.asyncio.client import connect as aconnect
from websockets.sync.client import connect


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lmstudio-emulator"]


def test_public_names() -> None:
    for name in emulator_package.__all__:
        assert getattr(emulator_package, name) is not None
    assert sorted(emulator_package.__all__) == emulator_package.__all__


def test_fixture_handle(lmstudio_emulator: EmulatorThread) -> None:
    port = lmstudio_emulator.port
    assert port > 0
    assert lmstudio_emulator.host == "127.0.0.1"
    assert lmstudio_emulator.api_host == f"127.0.0.1:{port}"
    assert lmstudio_emulator.base_url == f"ws://127.0.0.1:{port}"
    assert lmstudio_emulator.running


def test_thread_runner_leaves_nothing_behind() -> None:
    before = set(threading.enumerate())
    with run_in_thread() as emu:
        with connect(f"{emu.base_url}/llm", open_timeout=5) as ws:
            ws.send(json.dumps({"authVersion": 1, "clientIdentifier": "a", "clientPasskey": "b"}))
            assert json.loads(ws.recv(timeout=5)) == {"success": True}
        assert _emulator_threads()
    assert not emu.running
    assert set(threading.enumerate()) <= before
    assert not _emulator_threads()


def test_stop_is_idempotent_and_start_twice_fails() -> None:
    emu = EmulatorThread().start()
    with pytest.raises(RuntimeError):
        emu.start()
    emu.stop()
    emu.stop()


def test_port_in_use_fails_cleanly() -> None:
    with EmulatorThread() as first, pytest.raises(RuntimeError, match="failed to start"):
        EmulatorThread(port=first.port).start()
    assert not _emulator_threads()


async def _auth(ws: object) -> None:
    await ws.send(json.dumps({"authVersion": 1, "clientIdentifier": "x", "clientPasskey": "y"}))  # type: ignore[attr-defined]
    assert json.loads(await ws.recv()) == {"success": True}  # type: ignore[attr-defined]


async def test_stop_ends_every_task_even_mid_prediction() -> None:
    emulator = Emulator(port=0, tokens_per_second=20)
    await emulator.start()
    async with aconnect(f"{emulator.base_url}/llm") as ws:
        await _auth(ws)
        message = {"type": "channelCreate", "endpoint": "predict", "channelId": 1}
        await ws.send(json.dumps({**message, "creationParameter": predict_params("long")}))
        while json.loads(await ws.recv())["message"]["type"] != "fragment":
            pass
        await emulator.stop()
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []


async def test_dropped_client_ends_its_prediction() -> None:
    async with Emulator(port=0, tokens_per_second=20) as emulator:
        ws = await aconnect(f"{emulator.base_url}/llm")
        await _auth(ws)
        message = {"type": "channelCreate", "endpoint": "predict", "channelId": 1}
        await ws.send(json.dumps({**message, "creationParameter": predict_params("long")}))
        while json.loads(await ws.recv())["message"]["type"] != "fragment":
            pass
        instance = next(i for i in emulator.loaded() if i.identifier == LLM_KEY)
        assert instance.busy == 1
        ws.transport.abort()
        for _ in range(100):
            if not instance.busy:
                break
            await asyncio.sleep(0.01)
        assert instance.busy == 0
        await asyncio.sleep(0.05)
        current = asyncio.current_task()
        names = [repr(t.get_coro()) for t in asyncio.all_tasks() if t is not current]
        assert not [n for n in names if "serve_channel" in n]


def test_instance_busy_while_predicting(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_tokens_per_second(20)
    llm.open("predict", predict_params("long"))
    while llm.recv()["message"]["type"] != "fragment":
        pass
    state = llm.result(
        "getInstanceProcessingState",
        {"specifier": {"type": "query", "query": {}}, "throwIfNotFound": True},
    )
    assert state["status"] == "generating"


@pytest.fixture
def emu(lmstudio_emulator: EmulatorThread) -> EmulatorThread:
    return lmstudio_emulator


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lmstudio_core.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"LM Studio emulator listening on (ws://127\.0\.0\.1:\d+)\n", line)
    assert match, line
    return process, match.group(1)


def test_cli_serves_until_interrupted(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text('[[models]]\nmodel_key = "cli-model"\npreload = true\n')
    process, url = _start_cli("--catalog", str(catalog), "--tokens-per-second", "1000")
    try:
        greeting = urllib.request.urlopen(url.replace("ws:", "http:") + "/lmstudio-greeting")
        assert json.loads(greeting.read()) == {"lmstudio": True}
        with connect(f"{url}/llm", open_timeout=5) as ws:
            ws.send(json.dumps({"authVersion": 1, "clientIdentifier": "a", "clientPasskey": "b"}))
            assert json.loads(ws.recv(timeout=5)) == {"success": True}
            ws.send(json.dumps({"type": "rpcCall", "endpoint": "listLoaded", "callId": 1}))
            loaded = json.loads(ws.recv(timeout=5))["result"]
            assert [m["identifier"] for m in loaded] == ["cli-model"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_cli_rejects_bad_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--port", "0", "--api-token", "nope"]) == 2
    assert "sk-lm-" in capsys.readouterr().err


def test_cli_terminate(tmp_path: Path) -> None:
    process, _ = _start_cli()
    time.sleep(0.05)
    process.terminate()
    process.communicate(timeout=10)
    assert process.returncode == 0


def test_client_socket_count_sees_only_client_sides(lmstudio_emulator: EmulatorThread) -> None:
    import socket

    assert lmstudio_emulator.client_socket_count() == 0
    first = socket.create_connection((lmstudio_emulator.host, lmstudio_emulator.port))
    second = socket.create_connection((lmstudio_emulator.host, lmstudio_emulator.port))
    assert lmstudio_emulator.client_socket_count() == 2
    first.close()
    assert lmstudio_emulator.client_socket_count() == 1
    second.close()
    assert lmstudio_emulator.client_socket_count() == 0
