"""Type tests and equality for Python values that represent JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard


def is_number(value: Any) -> TypeGuard[int | float]:
    """Tell whether ``value`` is a JSON number (``bool`` excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type_matches(value: Any, type_name: str) -> bool:
    """Tell whether ``value`` has the JSON Schema type ``type_name``."""
    if type_name == "null":
        return value is None
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, Mapping)
    if type_name == "array":
        return isinstance(value, list | tuple)
    if type_name == "string":
        return isinstance(value, str)
    if not is_number(value):
        return False
    if type_name == "integer":
        return isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return type_name == "number"


def json_equal(left: Any, right: Any) -> bool:
    """Compare two JSON values the JSON Schema way (``1 == 1.0``, but ``True != 1``)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if is_number(left) and is_number(right):
        return left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)
