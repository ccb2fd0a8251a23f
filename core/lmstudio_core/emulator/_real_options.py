"""The ``--real`` / ``--real-only`` switches of the CLI and the pytest fixture.

Turns them into :class:`~lmstudio_core.emulator.Emulator` options. The real engines'
package is imported only when a switch is on, so the emulator never needs its optional
dependencies otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._catalog import ModelSpec, default_catalog

__all__ = ["with_real_engines"]


def with_real_engines(
    options: Mapping[str, Any], *, real: bool = False, real_only: bool = False
) -> dict[str, Any]:
    """``options`` with the real models added (``real``) or alone (``real_only``).

    With ``real`` the real models join the catalog of ``options`` (the default catalog
    if it has none); with ``real_only`` they are the whole catalog and are preloaded.
    Engines given in ``options`` for other model keys are kept.

    Raises:
        RealEngineUnavailableError: The real engines are not installed (the message
            gives the install commands).
    """
    result = dict(options)
    if not (real or real_only):
        return result
    from .real import real_engines

    engines = real_engines(preload=real_only)
    catalog: Iterable[ModelSpec] = ()
    if not real_only:
        given = result.get("catalog")
        catalog = default_catalog() if given is None else given
    result["catalog"] = (*catalog, *engines.catalog)
    result["text_engines"] = {**(result.get("text_engines") or {}), **engines.text_engines}
    result["embedding_engines"] = {
        **(result.get("embedding_engines") or {}),
        **engines.embedding_engines,
    }
    return result
