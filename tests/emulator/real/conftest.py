"""Fixtures of the real-engine tests: one set of engines (models load once) per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lmstudio_core.emulator import EmulatorThread
from lmstudio_core.emulator.real import (
    INSTALL_COMMAND,
    RealEngines,
    real_engines,
    real_engines_available,
)


@pytest.fixture(scope="session")
def real() -> Iterator[RealEngines]:
    if not real_engines_available():
        pytest.skip(f"the real engines are not installed ({INSTALL_COMMAND})")
    engines = real_engines(max_tokens=32)
    engines.load()
    yield engines
    engines.close()


@pytest.fixture(scope="module")
def real_emu(real: RealEngines) -> Iterator[EmulatorThread]:
    with EmulatorThread(**real.emulator_options()) as emu:
        yield emu
