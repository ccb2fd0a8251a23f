"""Server errors in LM Studio's extended error shape.

Handlers raise :class:`EmulatorError`; the dispatcher turns it into an ``rpcError`` or a
``channelError`` carrying ``title``, ``rootTitle`` and the optional ``cause``,
``suggestion``, ``errorData`` and ``displayData`` members. The constructors below build
the errors whose ``displayData.code`` the official clients understand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "EmulatorError",
    "context_overflow",
    "domain_mismatch",
    "file_not_found",
    "identifier_taken",
    "no_model_matching_query",
    "path_not_found",
    "preset_not_found",
    "specific_model_unloaded",
    "vision_not_supported",
]

_SAMPLE_SIZE = 10


class EmulatorError(Exception):
    """An error reported to the client as a serialized LM Studio error.

    Args:
        title: The one-line message (also sent as ``rootTitle``).
        cause: Optional explanation of why it happened.
        suggestion: Optional hint on how to fix it.
        display_data: Optional ``displayData`` object (must carry ``code``).
        error_data: Optional free-form ``errorData`` object.
    """

    def __init__(
        self,
        title: str,
        *,
        cause: str | None = None,
        suggestion: str | None = None,
        display_data: Mapping[str, Any] | None = None,
        error_data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.title = title
        self.cause = cause
        self.suggestion = suggestion
        self.display_data = dict(display_data) if display_data is not None else None
        self.error_data = dict(error_data) if error_data is not None else None

    @property
    def code(self) -> str | None:
        """The ``displayData.code`` of this error, if any."""
        if self.display_data is None:
            return None
        code = self.display_data.get("code")
        return code if isinstance(code, str) else None

    def to_wire(self) -> dict[str, Any]:
        """Return the ``SerializedLMSExtendedError`` object (absent members omitted)."""
        wire: dict[str, Any] = {"title": self.title}
        if self.cause is not None:
            wire["cause"] = self.cause
        if self.suggestion is not None:
            wire["suggestion"] = self.suggestion
        if self.error_data is not None:
            wire["errorData"] = self.error_data
        if self.display_data is not None:
            wire["displayData"] = self.display_data
        wire["rootTitle"] = self.title
        return wire

    @classmethod
    def from_wire(cls, error: Mapping[str, Any]) -> EmulatorError:
        """Build an error from a serialized error object (used by fault injection)."""

        def text(key: str) -> str | None:
            value = error.get(key)
            return value if isinstance(value, str) else None

        display = error.get("displayData")
        data = error.get("errorData")
        return cls(
            text("title") or "Unknown error",
            cause=text("cause"),
            suggestion=text("suggestion"),
            display_data=display if isinstance(display, Mapping) else None,
            error_data=data if isinstance(data, Mapping) else None,
        )


_DOMAIN_NAMES = {"llm": "LLMs", "embedding": "embedding models"}


def no_model_matching_query(
    query: Mapping[str, Any], loaded: Sequence[str], domain: str | None = None
) -> EmulatorError:
    """No loaded model satisfies a model query (``generic.noModelMatchingQuery``).

    ``loaded`` holds the identifiers of the loaded instances of the namespace's
    ``domain`` only, as LM Studio reports them (an LLM is no candidate for an embedding
    query), and the cause names that domain.
    """
    models = _DOMAIN_NAMES.get(domain or "", "models")
    if loaded:
        cause = f"Loaded {models}: {', '.join(loaded[:_SAMPLE_SIZE])}"
    else:
        cause = f"No {models} are currently loaded."
    return EmulatorError(
        "No loaded model satisfies all requirements specified in the query.",
        cause=cause,
        suggestion="Load a matching model first, or check the model identifier.",
        display_data={
            "code": "generic.noModelMatchingQuery",
            "query": dict(query),
            "loadedModelsSample": list(loaded[:_SAMPLE_SIZE]),
            "totalLoadedModels": len(loaded),
        },
    )


def path_not_found(path: str, available: Sequence[str]) -> EmulatorError:
    """A model key or path names no downloaded model (``generic.pathNotFound``)."""
    return EmulatorError(
        f'Cannot find a model with path or key "{path}"',
        suggestion="Run `lms ls` to see the models that are downloaded.",
        display_data={
            "code": "generic.pathNotFound",
            "path": path,
            "availablePathsSample": list(available[:_SAMPLE_SIZE]),
            "totalModels": len(available),
        },
    )


def domain_mismatch(path: str, actual: str, expected: str) -> EmulatorError:
    """A model of the wrong kind was requested (``generic.domainMismatch``)."""
    return EmulatorError(
        f'Model "{path}" is of type "{actual}", but "{expected}" was expected',
        display_data={
            "code": "generic.domainMismatch",
            "path": path,
            "actualDomain": actual,
            "expectedDomain": expected,
        },
    )


def specific_model_unloaded() -> EmulatorError:
    """An ``instanceReference`` points at an instance that is gone."""
    return EmulatorError(
        "Model is unloaded.",
        display_data={"code": "generic.specificModelUnloaded"},
    )


def identifier_taken(identifier: str) -> EmulatorError:
    """An explicit load identifier is already used by a loaded instance."""
    return EmulatorError(f'A model with the identifier "{identifier}" already exists')


def preset_not_found(identifier: str, available: Sequence[tuple[str, str]]) -> EmulatorError:
    """``fuzzyPresetIdentifier`` matches no preset (``generic.presetNotFound``)."""
    return EmulatorError(
        f'Cannot find a preset matching "{identifier}"',
        display_data={
            "code": "generic.presetNotFound",
            "specifiedFuzzyPresetIdentifier": identifier,
            "availablePresetsSample": [
                {"identifier": ident, "name": name} for ident, name in available[:_SAMPLE_SIZE]
            ],
            "totalAvailablePresets": len(available),
        },
    )


def vision_not_supported() -> EmulatorError:
    """An image was sent to a model without vision support."""
    return EmulatorError(
        "Model does not support images. Please use a model that does.",
        cause="The chat contains an image, but the loaded model cannot process images.",
    )


def file_not_found(name: str) -> EmulatorError:
    """A file identifier names no file uploaded by this client."""
    return EmulatorError(
        f'File "{name}" not found',
        cause="Uploaded files belong to the client that uploaded them and are deleted when "
        "its last connection closes.",
    )


def context_overflow(prompt_tokens: int, context_length: int) -> EmulatorError:
    """The prompt alone does not fit into the loaded context."""
    return EmulatorError(
        f"Trying to keep the first {prompt_tokens} tokens when context the overflows. "
        f"However, the model is loaded with context length of only {context_length} tokens, "
        "which is not enough. Try to load the model with a larger context length, or "
        "provide a shorter input"
    )
