"""Fixtures of every adapter test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lmstudio_core.emulator import EmulatorThread


@pytest.fixture
def lmstudio_emulator_factory() -> Callable[..., EmulatorThread]:
    """Start an extra emulator with custom options: ``with factory(**options) as emu:``
    (e.g. ``api_tokens=[...]`` for token mode, ``load_seconds=2.5`` for slow loads)."""
    from lmstudio_core.emulator import EmulatorThread

    def start(**options: Any) -> EmulatorThread:
        return EmulatorThread(host="127.0.0.1", port=0, **options)

    return start
