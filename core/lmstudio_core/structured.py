"""Structured output: JSON schemas (from pydantic models or dicts) and GBNF grammars.

``response_format`` may be a pydantic model class (``result.parsed`` is then an instance
of it), a JSON schema dict (``parsed`` is the decoded JSON), a :class:`GbnfGrammar`, or
LM Studio's own setting (``{"type": "json", "jsonSchema": ...}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = [
    "GbnfGrammar",
    "ResponseFormat",
    "StructuredOutput",
    "structured_output",
]

_SCHEMA_KEYS = frozenset(
    {"type", "properties", "$ref", "anyOf", "oneOf", "allOf", "enum", "items", "const", "$defs"}
)
_JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


@dataclass(frozen=True, slots=True)
class GbnfGrammar:
    """A GBNF grammar constraining the output (llama.cpp engines)."""

    grammar: str


ResponseFormat = type[BaseModel] | Mapping[str, Any] | GbnfGrammar


@dataclass(frozen=True, slots=True)
class StructuredOutput:
    """The resolved structured-output request and how to parse the reply."""

    setting: dict[str, Any]
    model: type[BaseModel] | None = None

    def field(self) -> dict[str, Any]:
        return {"key": "llm.prediction.structured", "value": self.setting}

    def parse(self, text: str) -> tuple[Any, str | None]:
        """Return ``(parsed, error)``; ``parsed`` is ``None`` when the text does not parse."""
        if self.setting.get("type") == "gbnf":
            try:
                return json.loads(text), None
            except ValueError:
                return text, None
        if self.model is not None:
            try:
                return self.model.model_validate_json(text), None
            except ValidationError as exc:
                return None, f"reply does not match {self.model.__name__}: {exc}"
        try:
            return json.loads(text), None
        except ValueError as exc:
            return None, f"reply is not valid JSON: {exc}"


def _check_schema(schema: Mapping[str, Any]) -> None:
    if not schema or not (_SCHEMA_KEYS & set(schema)):
        raise ValueError(
            "response_format dict is not a JSON schema: it needs 'type', 'properties', "
            "'$ref' or a combinator such as 'anyOf'"
        )
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for item in kinds:
        if item not in _JSON_TYPES:
            raise ValueError(f"invalid JSON schema type {item!r}; use one of {sorted(_JSON_TYPES)}")
    properties = schema.get("properties")
    if properties is not None and not isinstance(properties, Mapping):
        raise ValueError("invalid JSON schema: 'properties' must be an object")


def structured_output(response_format: ResponseFormat | None) -> StructuredOutput | None:
    """Resolve ``response_format`` (``None``: free text)."""
    if response_format is None:
        return None
    if isinstance(response_format, GbnfGrammar):
        if not response_format.grammar.strip():
            raise ValueError("the GBNF grammar is empty")
        return StructuredOutput({"type": "gbnf", "gbnfGrammar": response_format.grammar})
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        schema = response_format.model_json_schema()
        return StructuredOutput({"type": "json", "jsonSchema": schema}, response_format)
    if isinstance(response_format, Mapping):
        setting_type = response_format.get("type")
        if setting_type == "json" and "jsonSchema" in response_format:
            _check_schema(response_format["jsonSchema"])
            return StructuredOutput(dict(response_format))
        if setting_type == "gbnf" and isinstance(response_format.get("gbnfGrammar"), str):
            return StructuredOutput(dict(response_format))
        if setting_type == "json_schema" and isinstance(response_format.get("json_schema"), dict):
            schema = response_format["json_schema"].get("schema", {})  # OpenAI-style
            _check_schema(schema)
            return StructuredOutput({"type": "json", "jsonSchema": schema})
        _check_schema(response_format)
        return StructuredOutput({"type": "json", "jsonSchema": dict(response_format)})
    raise TypeError(
        "response_format must be a pydantic model class, a JSON schema dict or a GbnfGrammar, "
        f"not {type(response_format).__name__}"
    )
