"""Every public package declares ``__all__``, and every name in it resolves."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_PACKAGES = [
    "lmstudio_core",
    "lmstudio_core.protocol",
    "lmstudio_core.emulator",
    "lmstudio_integrations",
    "lmstudio_integrations.langchain",
    "lmstudio_integrations.llamaindex",
]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ has duplicates"
    missing = [item for item in exported if not hasattr(module, item)]
    assert missing == []


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_public_classes_are_exported(name: str) -> None:
    """A public class defined in a package's private modules is listed in ``__all__``."""
    module = importlib.import_module(name)
    exported = set(getattr(module, "__all__", ()))
    for attribute, value in vars(module).items():
        if attribute.startswith("_") or not isinstance(value, type):
            continue
        if value.__module__.startswith(name + "."):
            assert attribute in exported, f"{name}.{attribute} is public but not in __all__"
