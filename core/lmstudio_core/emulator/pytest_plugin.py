"""pytest plugin: the ``lmstudio_emulator`` fixture.

Registered through the ``pytest11`` entry point of lmstudio-core. The fixture starts a
fresh emulator on a free loopback port in a background thread (usable from sync and
async tests alike) and stops it after the test. Override ``lmstudio_emulator_options``
to pass :class:`~lmstudio_core.emulator.Emulator` options::

    @pytest.fixture
    def lmstudio_emulator_options():
        return {"api_tokens": ["sk-lm-abcDEF78:abcDEF7890abcDEF7890"]}

Two extra options add the real models (``lmstudio_core.emulator.real``): ``"real": True``
adds them to the catalog, ``"real_only": True`` serves only them (preloaded).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._thread import EmulatorThread

__all__ = ["lmstudio_emulator", "lmstudio_emulator_options"]


@pytest.fixture
def lmstudio_emulator_options() -> dict[str, Any]:
    """Keyword arguments for the emulator of ``lmstudio_emulator`` (default: none)."""
    return {}


@pytest.fixture
def lmstudio_emulator(lmstudio_emulator_options: dict[str, Any]) -> Iterator[EmulatorThread]:
    """A running LM Studio emulator on ``127.0.0.1:<free port>``.

    Yields the :class:`EmulatorThread` handle: ``.base_url``, ``.api_host``, ``.host``,
    ``.port``, ``.engine``, ``.faults``, ``.record`` and server-side model controls.
    """
    from ._real_options import with_real_engines
    from ._thread import EmulatorThread

    options = {"host": "127.0.0.1", "port": 0, **lmstudio_emulator_options}
    real, real_only = bool(options.pop("real", False)), bool(options.pop("real_only", False))
    options = with_real_engines(options, real=real, real_only=real_only)
    with EmulatorThread(**options) as emulator:
        yield emulator
