"""``$ref`` resolution, schema merging (``allOf``) and recursion measures for JSON Schemas."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from .json_values import json_equal
from .vocabulary import word_list

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_SUBSCHEMA_KEYS = ("items", "additionalProperties", "additionalItems", "not", "contains")
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "minProperties", "maxProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRUCTURAL_KEYS = frozenset(
    word_list(
        """type properties required items prefixItems additionalProperties additionalItems
    enum const minimum maximum exclusiveMinimum exclusiveMaximum multipleOf minLength
    maxLength pattern format minItems maxItems uniqueItems minProperties maxProperties
    anyOf oneOf allOf not $ref contains"""
    )
)


class SchemaError(ValueError):
    """The schema is malformed, uses an unsupported reference or has no instance."""


def resolve_ref(root: Any, ref: str) -> Any:
    """Return the subschema that a local ``$ref`` (``#``, ``#/$defs/...``) points to.

    Besides standard JSON pointers, keys that themselves contain ``/`` unescaped (as in
    ``#/definitions/llm/rpc/x`` for a definition named ``llm/rpc/x``) are accepted.

    Raises:
        SchemaError: For remote references or pointers that do not resolve.
    """
    if not ref.startswith("#"):
        raise SchemaError(f"unsupported $ref {ref!r}: only local references are handled")
    pointer = unquote(ref[1:])
    if not pointer:
        return root
    tokens = [raw.replace("~1", "/").replace("~0", "~") for raw in pointer.lstrip("/").split("/")]
    target = root
    index = 0
    while index < len(tokens):
        target, index = _step(target, tokens, index, ref)
    return target


def _step(target: Any, tokens: list[str], index: int, ref: str) -> tuple[Any, int]:
    if isinstance(target, list) and tokens[index].isdigit() and int(tokens[index]) < len(target):
        return target[int(tokens[index])], index + 1
    if isinstance(target, Mapping):
        for end in range(len(tokens), index, -1):
            key = "/".join(tokens[index:end])
            if key in target:
                return target[key], end
    raise SchemaError(f"unresolvable $ref {ref!r}")


def has_constraints(schema: Mapping[str, Any]) -> bool:
    """Tell whether ``schema`` has any keyword that restricts values (annotations ignored)."""
    return any(key in _STRUCTURAL_KEYS for key in schema)


def normalise_bounds(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite draft-4 boolean ``exclusiveMinimum``/``exclusiveMaximum`` into numeric form."""
    result = dict(schema)
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(result.get(flag), bool) and result.pop(flag) and bound in result:
            result[flag] = result.pop(bound)
    return result


def merge_schemas(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Return a schema whose instances satisfy both ``base`` and ``extra`` (best effort).

    Raises:
        SchemaError: If the two schemas obviously contradict (no common type, disjoint enum).
    """
    result = normalise_bounds(base)
    for key, value in normalise_bounds(extra).items():
        if key not in result:
            result[key] = value
        else:
            result[key] = _merge_keyword(key, result, value)
    return result


def _merge_keyword(key: str, result: dict[str, Any], value: Any) -> Any:
    current = result[key]
    if key == "properties":
        merged = dict(current)
        for name, sub in value.items():
            merged[name] = {"allOf": [merged[name], sub]} if name in merged else sub
        return merged
    if key == "required":
        return list(dict.fromkeys([*current, *value]))
    if key == "type":
        return _merge_types(current, value)
    if key in _LOWER_BOUNDS:
        return max(current, value)
    if key in _UPPER_BOUNDS:
        return min(current, value)
    if key == "enum":
        common = [item for item in current if any(json_equal(item, other) for other in value)]
        if not common:
            raise SchemaError("allOf branches have disjoint enums")
        return common
    if key == "allOf":
        return [*current, *value]
    if key in ("anyOf", "oneOf"):
        result["allOf"] = [*result.get("allOf", ()), {key: value}]
        return current
    if key in _SUBSCHEMA_KEYS:
        if current is False or value is False:
            return False
        return {"allOf": [current, value]}
    if key == "multipleOf":
        return _merge_multiple_of(current, value)
    return current


def _merge_types(current: Any, value: Any) -> Any:
    left = [current] if isinstance(current, str) else list(current)
    right = [value] if isinstance(value, str) else list(value)
    common = [name for name in left if name in right]
    if "integer" in left and "number" in right and "integer" not in common:
        common.append("integer")
    if "number" in left and "integer" in right and "integer" not in common:
        common.append("integer")
    if not common:
        raise SchemaError(f"allOf branches have no common type ({left} and {right})")
    return common[0] if len(common) == 1 else common


def _merge_multiple_of(current: Any, value: Any) -> Any:
    if isinstance(current, int) and isinstance(value, int):
        return math.lcm(current, value)
    return max(current, value)


def infer_types(schema: Mapping[str, Any]) -> list[str]:
    """Return the JSON types a schema allows: its ``type``, or a guess from its keywords."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if declared:
        return [str(name) for name in declared]
    if any(key in schema for key in _OBJECT_KEYS):
        return ["object"]
    if any(key in schema for key in _ARRAY_KEYS):
        return ["array"]
    if any(key in schema for key in _NUMBER_KEYS):
        return ["number"]
    return ["string"]


class RecursionMeasure:
    """Measure how deep the smallest instance of a schema is (``inf`` if none is finite).

    Used to steer generation of recursive schemas towards branches that terminate.
    """

    __slots__ = ("_by_ref", "_root")

    def __init__(self, root: Any) -> None:
        """Create a measure for schemas that live in ``root`` (for ``$ref`` resolution)."""
        self._root = root
        self._by_ref: dict[str, float] = {}

    def height(self, schema: Any, visiting: frozenset[str] = frozenset()) -> float:
        """Return the nesting depth of the smallest instance of ``schema``."""
        if not isinstance(schema, Mapping):
            return 0.0 if schema is not False else math.inf
        if "$ref" in schema:
            return self._ref_height(schema["$ref"], visiting)
        if "const" in schema or "enum" in schema:
            return 0.0
        combined = self._combinator_height(schema, visiting)
        names = infer_types(schema)
        if not {"object", "array"}.issuperset(names):
            return combined
        return max(combined, self._structure_height(schema, names, visiting))

    def _ref_height(self, ref: str, visiting: frozenset[str]) -> float:
        if ref in visiting:
            return math.inf
        if ref not in self._by_ref:
            try:
                target = resolve_ref(self._root, ref)
            except SchemaError:
                return math.inf
            value = self.height(target, visiting | {ref})
            if visiting:
                return value
            self._by_ref[ref] = value
        return self._by_ref[ref]

    def _combinator_height(self, schema: Mapping[str, Any], visiting: frozenset[str]) -> float:
        heights = [self.height(sub, visiting) for sub in schema.get("allOf", ())]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                heights.append(min((self.height(s, visiting) for s in schema[key]), default=0.0))
        return max(heights, default=0.0)

    def _structure_height(
        self, schema: Mapping[str, Any], names: list[str], visiting: frozenset[str]
    ) -> float:
        heights: list[float] = []
        if "object" in names:
            properties = schema.get("properties", {})
            required = [properties.get(n, True) for n in schema.get("required", ())]
            heights.append(1.0 + max((self.height(s, visiting) for s in required), default=0.0))
        if "array" in names:
            if schema.get("minItems", 0) == 0:
                heights.append(1.0)
            else:
                heights.append(1.0 + self.height(schema.get("items", True), visiting))
        return min(heights)
