"""Generation of readable JSON values that validate against a JSON Schema.

Supported keywords: ``type`` (single or list, including ``"null"``), ``properties``,
``required``, ``additionalProperties`` (never used to add keys, except to reach
``minProperties``), ``minProperties``, ``items`` (schema or draft-4 list), ``prefixItems``,
``additionalItems``, ``minItems``, ``maxItems``, ``uniqueItems``, ``enum``, ``const``,
``examples``, string ``minLength``/``maxLength``/``format``/``pattern`` (see
:mod:`.schema_strings`), numeric ``minimum``/``maximum``/``exclusiveMinimum``/
``exclusiveMaximum`` (numeric and draft-4 boolean forms)/``multipleOf``, local ``$ref``
(``#``, ``#/$defs/...``, ``#/definitions/...``, any local JSON pointer), ``anyOf``, ``oneOf``
(a value matching exactly one branch is searched for), ``allOf`` (merged), boolean schemas.

Not supported (ignored while generating; the result may then not validate): ``not``,
``if``/``then``/``else``, ``dependentRequired``/``dependentSchemas``, ``patternProperties``,
``propertyNames``, ``contains``/``minContains``, ``unevaluated*``, remote ``$ref`` and
``$id``-relative references, and regex features listed in :mod:`.regex_pattern`.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

from .hints import HintPool
from .schema_numbers import number_value
from .schema_refs import (
    RecursionMeasure,
    SchemaError,
    has_constraints,
    infer_types,
    merge_schemas,
    resolve_ref,
)
from .schema_strings import string_value
from .schema_validation import is_valid

_SHALLOW_DEPTH = 6
_MAX_DEPTH = 48
_MAX_REF_CHAIN = 64
_OPTIONAL_PROPERTY_CHANCE = 0.7
_ONE_OF_ATTEMPTS = 4
_FINAL_ATTEMPTS = 6
_UNIQUE_ATTEMPTS = 8


def generate_instance(schema: Any, *, seed: int, hints: Sequence[str] = ()) -> Any:
    """Return a readable value that validates against ``schema``.

    The value depends only on ``schema``, ``seed`` and ``hints``.

    Args:
        schema: A JSON Schema (a mapping, or a boolean schema).
        seed: Seed choosing among the valid values.
        hints: Words or phrases from the prompt; string fields prefer related hints, numeric
            fields use the prompt's numbers (in order) when they fit.

    Returns:
        A JSON-compatible Python value.

    Raises:
        ValueError: If the schema has no instance, is malformed or uses an unsupported
            ``$ref`` (a :class:`~.schema_refs.SchemaError`).
    """
    first: Any = None
    for attempt in range(_FINAL_ATTEMPTS):
        builder = _InstanceBuilder(schema, seed + attempt * 7919, hints)
        try:
            value = builder.build(schema, 0, ())
        except RecursionError as error:
            raise SchemaError("schema nesting too deep") from error
        if attempt == 0:
            first = value
        if is_valid(value, schema, schema):
            return value
    return first


class _InstanceBuilder:
    __slots__ = ("_hints", "_measure", "_rng", "_root")

    def __init__(self, root: Any, seed: int, hints: Sequence[str]) -> None:
        self._root = root
        self._rng = random.Random(seed)
        self._hints = HintPool(hints)
        self._measure = RecursionMeasure(root)

    def build(self, schema: Any, depth: int, path: tuple[str, ...]) -> Any:
        if depth > _MAX_DEPTH:
            raise SchemaError("schema nesting too deep (no finite instance found)")
        resolved = self._resolve(schema)
        if "oneOf" in resolved:
            return self._build_one_of(resolved, depth, path)
        if "anyOf" in resolved:
            rest = {key: value for key, value in resolved.items() if key != "anyOf"}
            branch = self._pick_branch(resolved["anyOf"], depth)
            return self.build(merge_schemas(rest, self._resolve(branch)), depth + 1, path)
        return self._build_plain(resolved, depth, path)

    def _resolve(self, schema: Any, hops: int = 0) -> dict[str, Any]:
        """Return ``schema`` as a mapping with ``$ref`` and ``allOf`` merged in."""
        current: Any = schema
        while hops <= _MAX_REF_CHAIN:
            hops += 1
            if current is True or current is None:
                return {}
            if current is False:
                raise SchemaError("the schema 'false' has no instance")
            if not isinstance(current, Mapping):
                raise SchemaError(f"invalid schema: {current!r}")
            if "$ref" in current:
                rest = {key: value for key, value in current.items() if key != "$ref"}
                target = resolve_ref(self._root, current["$ref"])
                current = {"allOf": [target, rest]} if has_constraints(rest) else target
            elif "allOf" in current:
                merged = {key: value for key, value in current.items() if key != "allOf"}
                for sub in current["allOf"]:
                    merged = merge_schemas(merged, self._resolve(sub, hops))
                current = merged
            else:
                return dict(current)
        raise SchemaError("$ref chain too long (circular reference?)")

    def _pick_branch(self, branches: Sequence[Any], depth: int) -> Any:
        if not branches:
            raise SchemaError("anyOf/oneOf needs at least one branch")
        heights = [self._measure.height(branch) for branch in branches]
        if depth >= _SHALLOW_DEPTH:
            return branches[heights.index(min(heights))]
        finite = [branch for branch, height in zip(branches, heights, strict=True) if height < 1e9]
        non_null = [branch for branch in finite if not _is_null_schema(branch)]
        return self._rng.choice(non_null or finite or list(branches))

    def _build_one_of(self, schema: dict[str, Any], depth: int, path: tuple[str, ...]) -> Any:
        branches: list[Any] = list(schema["oneOf"])
        rest = {key: value for key, value in schema.items() if key != "oneOf"}
        first = self._pick_branch(branches, depth)
        ordered = [first, *(branch for branch in branches if branch is not first)]
        fallback: Any = None
        for attempt in range(_ONE_OF_ATTEMPTS * len(ordered)):
            branch = ordered[attempt % len(ordered)]
            try:
                value = self.build(merge_schemas(rest, self._resolve(branch)), depth + 1, path)
            except SchemaError:
                continue
            if attempt == 0:
                fallback = value
            matches = sum(1 for other in branches if is_valid(value, other, self._root))
            if matches == 1:
                return value
        if fallback is None:
            raise SchemaError("no oneOf branch has an instance")
        return fallback

    def _build_plain(self, schema: dict[str, Any], depth: int, path: tuple[str, ...]) -> Any:
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if "enum" in schema:
            return self._pick_enum(schema)
        example = self._pick_example(schema)
        if example is not None:
            return example
        type_name = self._pick_type(schema, depth)
        if type_name == "object":
            return self._build_object(schema, depth, path)
        if type_name == "array":
            return self._build_array(schema, depth, path)
        if type_name in ("integer", "number"):
            integer = type_name == "integer"
            return number_value(schema, self._rng, self._hints, path, integer=integer)
        if type_name == "boolean":
            return self._rng.random() < 0.5
        if type_name == "null":
            return None
        return string_value(schema, self._rng, self._hints, path)

    def _pick_enum(self, schema: dict[str, Any]) -> Any:
        rest = {key: value for key, value in schema.items() if key != "enum"}
        values = [value for value in schema["enum"] if is_valid(value, rest, self._root)]
        if not values:
            raise SchemaError("no enum value satisfies the schema")
        mentioned = {word.lower() for word in [*self._hints.keywords, *self._hints.proper_nouns]}
        for value in values:
            if isinstance(value, str) and value.lower() in mentioned:
                return value
        return copy.deepcopy(self._rng.choice(values))

    def _pick_example(self, schema: dict[str, Any]) -> Any:
        examples = schema.get("examples")
        if not isinstance(examples, list) or not examples:
            return None
        rest = {key: value for key, value in schema.items() if key != "examples"}
        valid = [item for item in examples if item is not None and is_valid(item, rest, self._root)]
        return copy.deepcopy(self._rng.choice(valid)) if valid else None

    def _pick_type(self, schema: dict[str, Any], depth: int) -> str:
        names = infer_types(schema)
        if "null" in names and (depth >= _SHALLOW_DEPTH or len(names) == 1):
            return "null"
        concrete = [name for name in names if name != "null"]
        if depth >= _SHALLOW_DEPTH:
            primitive = [name for name in concrete if name not in ("object", "array")]
            concrete = primitive or concrete
        return self._rng.choice(concrete) if concrete else "null"

    def _build_object(self, schema: dict[str, Any], depth: int, path: tuple[str, ...]) -> Any:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required: list[str] = list(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        minimum = int(schema.get("minProperties", 0))
        result: dict[str, Any] = {}
        optional: list[str] = []
        for name, sub in properties.items():
            chance = _OPTIONAL_PROPERTY_CHANCE - 0.1 * depth
            wanted = name in required or (depth < _SHALLOW_DEPTH and self._rng.random() < chance)
            if wanted:
                result[name] = self.build(sub, depth + 1, (*path, name))
            else:
                optional.append(name)
        for name in required:
            if name not in result:
                result[name] = self.build(extra, depth + 1, (*path, name))
        for name in optional:
            if len(result) >= minimum:
                break
            result[name] = self.build(properties[name], depth + 1, (*path, name))
        while len(result) < minimum and extra is not False:
            name = f"{path[-1] if path else 'field'}_{len(result) + 1}"
            result[name] = self.build(extra, depth + 1, (*path, name))
        return result

    def _build_array(self, schema: dict[str, Any], depth: int, path: tuple[str, ...]) -> Any:
        items: Any = schema.get("items", True)
        prefix: Sequence[Any] = schema.get("prefixItems", ())
        if isinstance(items, list):
            prefix, items = items, schema.get("additionalItems", True)
        low = int(schema.get("minItems", 0))
        high_value = schema.get("maxItems")
        high = int(high_value) if high_value is not None else None
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if high is not None and low > high:
            raise SchemaError("minItems is greater than maxItems")
        count = self._item_count(low, high, len(prefix), depth)
        item_path = (*path, _singular(path[-1]) if path else "item")
        values: list[Any] = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            value = self.build(sub, depth + 1, item_path)
            unique = self._unique_item(value, values, sub, depth, item_path)
            if unique is _DUPLICATE and schema.get("uniqueItems"):
                if len(values) >= low:
                    break
                raise SchemaError("cannot produce enough distinct array items")
            values.append(value if unique is _DUPLICATE else unique)
        return values

    def _item_count(self, low: int, high: int | None, prefix: int, depth: int) -> int:
        if depth >= _SHALLOW_DEPTH:
            count = low
        elif prefix:
            count = max(low, prefix)
        else:
            count = self._rng.randint(max(low, 1), max(low, 3 - depth // 2, 1))
        return count if high is None else min(count, high)

    def _unique_item(
        self, value: Any, values: list[Any], sub: Any, depth: int, path: tuple[str, ...]
    ) -> Any:
        def is_new(candidate: Any) -> bool:
            return not any(is_valid(candidate, {"const": other}, {}) for other in values)

        for _ in range(_UNIQUE_ATTEMPTS):
            if is_new(value):
                return value
            value = self.build(sub, depth + 1, path)
        resolved = self._resolve(sub)
        for option in resolved.get("enum", ()):
            if is_new(option) and is_valid(option, resolved, self._root):
                return copy.deepcopy(option)
        return _DUPLICATE


_DUPLICATE = object()


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def _singular(name: str) -> str:
    if name.endswith("ies") and len(name) > 4:
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss") and len(name) > 3:
        return name[:-1]
    return name
