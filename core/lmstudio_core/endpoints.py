"""Parameters and result parsing of the model RPCs, shared by both clients.

:class:`ModelEndpoints` addresses one model (by identifier or query) and builds the
``(endpoint, parameter)`` pair of each RPC a model handle offers; the ``parse_*``
functions read the results. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .catalog import LoadedModelInfo, ModelDomain, ModelQuery, model_specifier
from .errors import ProtocolError
from .history import Chat
from .tools import ToolLike, to_tool

__all__ = [
    "ModelEndpoints",
    "parse_count",
    "parse_embedding",
    "parse_formatted",
    "parse_info",
    "parse_tokens",
]

Call = tuple[str, dict[str, Any]]


class ModelEndpoints:
    """RPC parameters for one model, selected by identifier or query."""

    def __init__(self, domain: ModelDomain, target: str | ModelQuery | Mapping[str, Any]) -> None:
        self.domain = domain
        self.specifier = model_specifier(target)

    def info(self) -> Call:
        return "getModelInfo", {"specifier": self.specifier, "throwIfNotFound": True}

    def load_config(self) -> Call:
        return "getLoadConfig", {"specifier": self.specifier}

    def tokenize(self, text: str) -> Call:
        return "tokenize", {"specifier": self.specifier, "inputString": _text(text)}

    def count_tokens(self, text: str) -> Call:
        return "countTokens", {"specifier": self.specifier, "inputString": _text(text)}

    def embed(self, text: str) -> Call:
        return "embedString", {"modelSpecifier": self.specifier, "inputString": _text(text)}

    def apply_prompt_template(self, chat: Chat, tools: Sequence[ToolLike] | None = None) -> Call:
        opts: dict[str, Any] = {}
        if tools:
            opts["toolDefinitions"] = [to_tool(tool).to_wire() for tool in tools]
        if chat.pending_images():
            raise ValueError("apply_prompt_template() does not accept images that are not uploaded")
        return "applyPromptTemplate", {
            "specifier": self.specifier,
            "history": chat.to_wire(),
            "predictionConfigStack": {"layers": []},
            "opts": opts,
        }


def unload_call(identifier: str) -> Call:
    if not isinstance(identifier, str) or not identifier:
        raise ValueError("unload() needs the identifier of a loaded model")
    return "unloadModel", {"identifier": identifier}


def _text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected a string, not {type(text).__name__}")
    return text


def _member(result: Any, key: str, endpoint: str) -> Any:
    if not isinstance(result, dict) or key not in result:
        raise ProtocolError(f"{endpoint} reply has no {key!r}: {str(result)[:200]}")
    return result[key]


def parse_info(result: Any) -> LoadedModelInfo:
    try:
        return LoadedModelInfo.model_validate(result)
    except ValueError as exc:
        raise ProtocolError(f"invalid model info from LM Studio: {exc}") from exc


def parse_tokens(result: Any) -> list[int]:
    return list(_member(result, "tokens", "tokenize"))


def parse_count(result: Any) -> int:
    return int(_member(result, "tokenCount", "countTokens"))


def parse_embedding(result: Any) -> list[float]:
    return list(_member(result, "embedding", "embedString"))


def parse_formatted(result: Any) -> str:
    return str(_member(result, "formatted", "applyPromptTemplate"))
