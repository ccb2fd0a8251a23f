"""Realistic numbers for JSON Schema ``integer`` and ``number`` types."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from typing import Any

from .hints import HintPool
from .json_values import is_number
from .schema_refs import SchemaError, normalise_bounds
from .schema_strings import name_parts
from .schema_validation import is_valid

_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_DEFAULT_WINDOW = (1.0, 100.0)
_WINDOWS: tuple[tuple[frozenset[str], tuple[float, float]], ...] = (
    (frozenset({"age"}), (18.0, 80.0)),
    (frozenset({"year"}), (1990.0, 2025.0)),
    (frozenset({"price", "cost", "amount", "salary", "total", "budget"}), (5.0, 500.0)),
    (frozenset({"rating", "score", "stars"}), (1.0, 5.0)),
    (frozenset({"probability", "confidence", "ratio"}), (0.0, 1.0)),
    (frozenset({"lat", "latitude"}), (-90.0, 90.0)),
    (frozenset({"lon", "lng", "longitude"}), (-180.0, 180.0)),
    (frozenset({"month"}), (1.0, 12.0)),
    (frozenset({"day"}), (1.0, 28.0)),
    (frozenset({"hour"}), (0.0, 23.0)),
    (frozenset({"temperature", "temp"}), (-5.0, 35.0)),
    (frozenset({"count", "quantity", "servings", "size", "num", "minutes"}), (1.0, 12.0)),
)
_SPAN = 100.0
_RANDOM_TRIES = 20
_SCAN_LIMIT = 2000


def number_value(
    schema: Mapping[str, Any],
    rng: random.Random,
    hints: HintPool,
    path: tuple[str, ...],
    *,
    integer: bool,
) -> int | float:
    """Return a number satisfying the numeric keywords of ``schema``.

    Numbers from the prompt hints are used first (in order) when they fit.

    Raises:
        SchemaError: If no number satisfies the bounds and ``multipleOf``.
    """
    check: dict[str, Any] = {key: schema[key] for key in _NUMBER_KEYS if key in schema}
    check["type"] = "integer" if integer else "number"

    def fits(value: int | float) -> bool:
        return is_valid(value, check, check)

    hinted = hints.take_number(fits)
    if hinted is not None:
        return int(hinted) if integer else hinted
    low, high = _window(normalise_bounds(schema), path)
    decimals = 1 if set(name_parts(path[-1] if path else "")) & {"rating", "score"} else 2
    for candidate in _candidates(schema.get("multipleOf"), low, high, rng, integer, decimals):
        if fits(candidate):
            return candidate
    raise SchemaError(f"no number satisfies {check}")


def _window(schema: Mapping[str, Any], path: tuple[str, ...]) -> tuple[float, float]:
    low, high = _bounds(schema)
    parts = set(name_parts(path[-1])) if path else set()
    preferred = next((window for names, window in _WINDOWS if parts & names), _DEFAULT_WINDOW)
    start, end = max(preferred[0], low), min(preferred[1], high)
    if start < end:
        return start, end
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    if math.isfinite(low):
        return low, low + _SPAN
    return high - _SPAN, high


def _bounds(schema: Mapping[str, Any]) -> tuple[float, float]:
    lows = [schema[key] for key in ("minimum", "exclusiveMinimum") if is_number(schema.get(key))]
    highs = [schema[key] for key in ("maximum", "exclusiveMaximum") if is_number(schema.get(key))]
    low = float(max(lows)) if lows else -math.inf
    high = float(min(highs)) if highs else math.inf
    if low > high:
        raise SchemaError("minimum is greater than maximum")
    return low, high


def _candidates(
    step: Any, low: float, high: float, rng: random.Random, integer: bool, decimals: int
) -> Iterator[int | float]:
    if is_number(step) and step > 0:
        yield from _multiples(step, low, high, rng, integer)
        return
    if integer:
        first, last = math.ceil(low), math.floor(high)
        if first > last:
            return
        for _ in range(_RANDOM_TRIES):
            yield rng.randint(first, last)
        yield from range(first, min(last, first + _SCAN_LIMIT) + 1)
        return
    for _ in range(_RANDOM_TRIES):
        yield round(rng.uniform(low, high), decimals)
    yield (low + high) / 2
    yield from (low + (high - low) * index / 64 for index in range(1, 64))


def _multiples(
    step: int | float, low: float, high: float, rng: random.Random, integer: bool
) -> Iterator[int | float]:
    first, last = math.ceil(low / step), math.floor(high / step)
    if first > last:
        return
    picks = [rng.randint(first, last) for _ in range(_RANDOM_TRIES)]
    picks += list(range(first, min(last, first + _SCAN_LIMIT) + 1))
    for factor in picks:
        value = factor * step
        if isinstance(step, int):
            yield value
            continue
        for rounded in (round(value, 10), value):
            if integer and float(rounded).is_integer():
                yield int(rounded)
            elif not integer:
                yield int(rounded) if float(rounded).is_integer() else rounded
