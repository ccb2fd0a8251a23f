"""A small JSON Schema checker covering the keywords the instance generator produces.

It is used to keep generated values honest (``oneOf`` exclusivity, filled-in tool arguments,
final verification), not as a general validator: ``format``, ``dependentSchemas``,
``patternProperties``, ``contains`` and ``unevaluated*`` are not checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .json_values import is_number, json_equal, json_type_matches
from .schema_refs import SchemaError, resolve_ref


def is_valid(value: Any, schema: Any, root: Any) -> bool:
    """Tell whether ``value`` satisfies ``schema`` (``$ref`` resolved against ``root``)."""
    try:
        return _check(value, schema, root, 0)
    except (SchemaError, RecursionError, re.error):
        return False


def _check(value: Any, schema: Any, root: Any, depth: int) -> bool:
    if schema is True or schema is None:
        return True
    if schema is False or not isinstance(schema, Mapping) or depth > 64:
        return False
    if "$ref" in schema and not _check(value, resolve_ref(root, schema["$ref"]), root, depth + 1):
        return False
    checks = (_check_generic, _check_combinators, _check_number, _check_string)
    if not all(check(value, schema, root, depth) for check in checks):
        return False
    if isinstance(value, Mapping):
        return _check_object(value, schema, root, depth)
    if isinstance(value, list | tuple):
        return _check_array(value, schema, root, depth)
    return True


def _check_generic(value: Any, schema: Mapping[str, Any], root: Any, depth: int) -> bool:
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(json_type_matches(value, name) for name in names):
            return False
    if "const" in schema and not json_equal(value, schema["const"]):
        return False
    return "enum" not in schema or any(json_equal(value, item) for item in schema["enum"])


def _check_combinators(value: Any, schema: Mapping[str, Any], root: Any, depth: int) -> bool:
    if not all(_check(value, sub, root, depth + 1) for sub in schema.get("allOf", ())):
        return False
    if "anyOf" in schema and not any(_check(value, s, root, depth + 1) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema:
        matches = sum(1 for sub in schema["oneOf"] if _check(value, sub, root, depth + 1))
        if matches != 1:
            return False
    return "not" not in schema or not _check(value, schema["not"], root, depth + 1)


def _check_number(value: Any, schema: Mapping[str, Any], root: Any, depth: int) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if ex_low is True:
        ex_low, low = low, None
    if ex_high is True:
        ex_high, high = high, None
    if (low is not None and value < low) or (high is not None and value > high):
        return False
    if (is_number(ex_low) and value <= ex_low) or (is_number(ex_high) and value >= ex_high):
        return False
    step = schema.get("multipleOf")
    return step is None or is_multiple_of(value, step)


def is_multiple_of(value: int | float, step: int | float) -> bool:
    """Tell whether ``value`` is a multiple of ``step`` (the same test as common validators)."""
    if isinstance(step, float) or isinstance(value, float):
        quotient = value / step
        return math.isfinite(quotient) and int(quotient) == quotient
    return value % step == 0


def _check_string(value: Any, schema: Mapping[str, Any], root: Any, depth: int) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) < schema.get("minLength", 0):
        return False
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    return "pattern" not in schema or re.search(schema["pattern"], value) is not None


def _check_object(
    value: Mapping[str, Any], schema: Mapping[str, Any], root: Any, depth: int
) -> bool:
    if any(name not in value for name in schema.get("required", ())):
        return False
    if len(value) < schema.get("minProperties", 0):
        return False
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        return False
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        sub = properties.get(name, extra)
        if not _check(item, sub, root, depth + 1):
            return False
    return True


def _check_array(value: Sequence[Any], schema: Mapping[str, Any], root: Any, depth: int) -> bool:
    if len(value) < schema.get("minItems", 0):
        return False
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return False
    items = schema.get("items", True)
    prefix: Sequence[Any] = schema.get("prefixItems", ())
    if isinstance(items, list):
        prefix, items = items, schema.get("additionalItems", True)
    for index, item in enumerate(value):
        sub = prefix[index] if index < len(prefix) else items
        if not _check(item, sub, root, depth + 1):
            return False
    if schema.get("uniqueItems"):
        keys = [json.dumps(item, sort_keys=True, default=repr) for item in value]
        return len(set(keys)) == len(keys)
    return True
