"""The downloaded-model catalog: what the emulator pretends to have on disk.

A :class:`ModelSpec` describes one downloaded model (LLM or embedding model) with the
metadata LM Studio reports for it. :func:`default_catalog` is a small realistic set;
:func:`load_catalog_file` reads a JSON or TOML file shaped like::

    include_defaults = false          # optional, default false

    [[models]]
    model_key = "qwen2.5-0.5b-instruct"
    type = "llm"
    path = "lmstudio-community/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"
    display_name = "Qwen2.5 0.5B Instruct"
    trained_for_tool_use = true
    preload = true

Keys may be snake_case or camelCase.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "ModelSpec",
    "Quantization",
    "default_catalog",
    "load_catalog_file",
    "parse_catalog",
]

ModelType = Literal["llm", "embedding"]
ModelFormat = Literal["gguf", "safetensors", "onnx", "ggml", "mlx_placeholder", "torch_safetensors"]


@dataclass(frozen=True, slots=True)
class Quantization:
    """Quantization of a model file, e.g. ``Quantization("Q4_K_M", 4)``."""

    name: str
    bits: int


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One downloaded model.

    Attributes:
        model_key: The key used to load the model (``qwen2.5-0.5b-instruct``).
        type: ``"llm"`` or ``"embedding"``.
        path: Relative path ``publisher/repo/file``.
        display_name: Human readable name.
        publisher: Publisher (defaults to the first path segment).
        size_bytes: File size.
        architecture: Architecture name (``qwen2``, ``nomic-bert``...).
        params_string: Parameter count as text (``0.5B``).
        quantization: Quantization of the file.
        max_context_length: Longest context the model supports.
        default_context_length: Context length used when a load does not set one.
        vision: Whether the LLM accepts images.
        trained_for_tool_use: Whether the LLM was trained for tool use.
        reasoning: Emulator-side flag: the LLM thinks in ``<think>`` blocks first.
        format: File format (``gguf``...).
        embedding_dimension: Vector length of an embedding model.
        preload: Load an instance when the emulator starts.
        downloaded: ``False`` for a model that is only offered by the repository search
            (``downloadModel`` makes it downloaded).
    """

    model_key: str
    type: ModelType
    path: str
    display_name: str
    publisher: str = ""
    size_bytes: int = 1_000_000_000
    architecture: str | None = None
    params_string: str | None = None
    quantization: Quantization | None = None
    max_context_length: int = 32768
    default_context_length: int = 4096
    vision: bool = False
    trained_for_tool_use: bool = False
    reasoning: bool = False
    format: ModelFormat = "gguf"
    embedding_dimension: int = 768
    preload: bool = False
    downloaded: bool = True

    @property
    def effective_publisher(self) -> str:
        return self.publisher or self.path.split("/", 1)[0]

    @property
    def initial_context_length(self) -> int:
        return min(self.default_context_length, self.max_context_length)

    def matches_path(self, path: str) -> bool:
        """Whether ``path`` names this model: full path, ``publisher/repo`` or key."""
        if path in (self.path, self.model_key):
            return True
        repo = "/".join(self.path.split("/")[:2])
        return path == repo or path.lower() == self.model_key.lower()

    def to_wire(self) -> dict[str, Any]:
        """The ``ModelInfo`` object LM Studio reports for a downloaded model."""
        info: dict[str, Any] = {
            "type": self.type,
            "modelKey": self.model_key,
            "format": self.format,
            "displayName": self.display_name,
            "publisher": self.effective_publisher,
            "path": self.path,
            "sizeBytes": self.size_bytes,
            "indexedModelIdentifier": self.path,
            "deviceIdentifier": None,
        }
        if self.params_string is not None:
            info["paramsString"] = self.params_string
        if self.architecture is not None:
            info["architecture"] = self.architecture
        if self.quantization is not None:
            info["quantization"] = {
                "name": self.quantization.name,
                "bits": self.quantization.bits,
            }
        if self.type == "llm":
            info["vision"] = self.vision
            info["trainedForToolUse"] = self.trained_for_tool_use
        info["maxContextLength"] = self.max_context_length
        return info


_Q4 = Quantization("Q4_K_M", 4)


def default_catalog() -> tuple[ModelSpec, ...]:
    """A small realistic catalog: three LLMs (one reasoning, one vision), an embedder, and
    one LLM that is only available for download (repository search)."""
    return (
        ModelSpec(
            model_key="qwen2.5-0.5b-instruct",
            type="llm",
            path="lmstudio-community/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
            display_name="Qwen2.5 0.5B Instruct",
            size_bytes=397_807_936,
            architecture="qwen2",
            params_string="0.5B",
            quantization=_Q4,
            trained_for_tool_use=True,
            preload=True,
        ),
        ModelSpec(
            model_key="qwen3-4b",
            type="llm",
            path="lmstudio-community/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf",
            display_name="Qwen3 4B",
            size_bytes=2_497_280_256,
            architecture="qwen3",
            params_string="4B",
            quantization=_Q4,
            max_context_length=40960,
            trained_for_tool_use=True,
            reasoning=True,
        ),
        ModelSpec(
            model_key="qwen2-vl-2b-instruct",
            type="llm",
            path="lmstudio-community/Qwen2-VL-2B-Instruct-GGUF/Qwen2-VL-2B-Instruct-Q4_K_M.gguf",
            display_name="Qwen2 VL 2B Instruct",
            size_bytes=1_942_474_336,
            architecture="qwen2vl",
            params_string="2B",
            quantization=_Q4,
            vision=True,
        ),
        ModelSpec(
            model_key="text-embedding-nomic-embed-text-v1.5",
            type="embedding",
            path="nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q4_K_M.gguf",
            display_name="Nomic Embed Text v1.5",
            size_bytes=84_106_624,
            architecture="nomic-bert",
            quantization=_Q4,
            max_context_length=2048,
            default_context_length=2048,
            embedding_dimension=768,
            preload=True,
        ),
        ModelSpec(
            model_key="smollm2-135m-instruct",
            type="llm",
            path="lmstudio-community/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf",
            display_name="SmolLM2 135M Instruct",
            size_bytes=144_811_232,
            architecture="llama",
            params_string="135M",
            quantization=Quantization("Q8_0", 8),
            max_context_length=8192,
            downloaded=False,
        ),
    )


class _FileModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _QuantizationEntry(_FileModel):
    name: str
    bits: int


class _ModelEntry(_FileModel):
    model_key: str = Field(min_length=1, max_length=1024)
    type: ModelType = "llm"
    path: str | None = None
    display_name: str | None = None
    publisher: str = ""
    size_bytes: int = Field(default=1_000_000_000, ge=0)
    architecture: str | None = None
    params_string: str | None = None
    quantization: _QuantizationEntry | None = None
    max_context_length: int = Field(default=32768, ge=1)
    default_context_length: int = Field(default=4096, ge=1)
    vision: bool = False
    trained_for_tool_use: bool = False
    reasoning: bool = False
    format: ModelFormat = "gguf"
    embedding_dimension: int = Field(default=768, ge=1)
    preload: bool = False
    downloaded: bool = True

    def to_spec(self) -> ModelSpec:
        quant = self.quantization
        return ModelSpec(
            model_key=self.model_key,
            type=self.type,
            path=self.path or f"emulator/{self.model_key}/{self.model_key}.gguf",
            display_name=self.display_name or self.model_key,
            publisher=self.publisher,
            size_bytes=self.size_bytes,
            architecture=self.architecture,
            params_string=self.params_string,
            quantization=Quantization(quant.name, quant.bits) if quant else None,
            max_context_length=self.max_context_length,
            default_context_length=self.default_context_length,
            vision=self.vision,
            trained_for_tool_use=self.trained_for_tool_use,
            reasoning=self.reasoning,
            format=self.format,
            embedding_dimension=self.embedding_dimension,
            preload=self.preload,
            downloaded=self.downloaded,
        )


class _CatalogFile(_FileModel):
    include_defaults: bool = False
    models: list[_ModelEntry] = Field(default_factory=list)


def parse_catalog(data: Mapping[str, Any]) -> tuple[ModelSpec, ...]:
    """Build a catalog from a mapping shaped like the catalog file.

    Raises:
        pydantic.ValidationError: The mapping does not describe a catalog.
        ValueError: Two models share a model key.
    """
    parsed = _CatalogFile.model_validate(data)
    specs = [entry.to_spec() for entry in parsed.models]
    if parsed.include_defaults:
        own = {spec.model_key for spec in specs}
        specs = [s for s in default_catalog() if s.model_key not in own] + specs
    return _checked(specs)


def load_catalog_file(path: str | Path) -> tuple[ModelSpec, ...]:
    """Read a catalog from a ``.json`` or ``.toml`` file."""
    file = Path(path)
    raw = file.read_bytes()
    if file.suffix.lower() == ".toml":
        data: Any = tomllib.loads(raw.decode("utf-8"))
    else:
        data = json.loads(raw)
    if isinstance(data, list):
        data = {"models": data}
    if not isinstance(data, dict):
        raise ValueError(f"{file}: a catalog file must hold an object or a list of models")
    return parse_catalog(data)


def _checked(specs: Iterable[ModelSpec]) -> tuple[ModelSpec, ...]:
    result = tuple(specs)
    keys = [spec.model_key for spec in result]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate model keys in catalog: {duplicates}")
    return result
