"""Fixtures of the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_wire import Wire, WireFactory
from lmstudio_core.emulator import EmulatorThread


@pytest.fixture
def emu(lmstudio_emulator: EmulatorThread) -> EmulatorThread:
    return lmstudio_emulator


@pytest.fixture
def wire(emu: EmulatorThread) -> Iterator[WireFactory]:
    factory = WireFactory(emu)
    yield factory
    factory.close_all()


@pytest.fixture
def llm(wire: WireFactory) -> Wire:
    return wire("llm")
