"""Finding a local LM Studio through the greeting probe (sync and async)."""

from __future__ import annotations

from typing import Any

import pytest
from lmstudio_core import AsyncClient, Client, ConnectError
from lmstudio_core._async import _io as async_io
from lmstudio_core._sync import _io as sync_io


@pytest.fixture(autouse=True)
def _no_base_url_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LMSTUDIO_BASE_URL", raising=False)


def candidates(*ports: int) -> Any:
    return lambda: [("127.0.0.1", port) for port in ports]


def test_sync_discovery_finds_the_emulator(
    lmstudio_emulator: Any, unused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = candidates(unused_port, lmstudio_emulator.port)
    monkeypatch.setattr(sync_io, "discovery_candidates", ports)
    with Client() as client:
        assert client.base_url is None
        assert client.system.version().version
        assert client.base_url == f"ws://127.0.0.1:{lmstudio_emulator.port}"


async def test_async_discovery_finds_the_emulator(
    lmstudio_emulator: Any, unused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = candidates(unused_port, lmstudio_emulator.port)
    monkeypatch.setattr(async_io, "discovery_candidates", ports)
    async with AsyncClient() as client:
        assert (await client.system.version()).version
        assert client.base_url == f"ws://127.0.0.1:{lmstudio_emulator.port}"


def test_nothing_found(unused_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_io, "discovery_candidates", candidates(unused_port))
    client = Client()
    with client, pytest.raises(ConnectError, match="no local LM Studio found"):
        client.system.version()


async def test_nothing_found_async(unused_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(async_io, "discovery_candidates", candidates(unused_port))
    async with AsyncClient() as client:
        with pytest.raises(ConnectError, match="base_url"):
            await client.system.version()


def test_http_url_with_v1_suffix_works(lmstudio_emulator: Any) -> None:
    with Client(f"http://{lmstudio_emulator.api_host}/v1/") as client:
        assert client.system.version()


def test_base_url_from_the_environment(
    lmstudio_emulator: Any, unused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_io, "discovery_candidates", candidates(unused_port))
    monkeypatch.setenv("LMSTUDIO_BASE_URL", f"http://{lmstudio_emulator.api_host}")
    with Client() as client:
        assert client.base_url == lmstudio_emulator.base_url
        assert client.system.version().version


async def test_base_url_from_the_environment_async(
    lmstudio_emulator: Any, unused_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(async_io, "discovery_candidates", candidates(unused_port))
    monkeypatch.setenv("LMSTUDIO_BASE_URL", lmstudio_emulator.api_host)
    async with AsyncClient() as client:
        assert client.base_url == lmstudio_emulator.base_url
        assert (await client.system.version()).version


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_an_empty_base_url_variable_means_discovery(
    client_class: type[Client | AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", "")
    assert client_class().base_url is None
