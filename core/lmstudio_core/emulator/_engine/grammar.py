"""Grammar trees (shared by the GBNF and regular-expression front ends) and a bounded sampler."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .charset import CharSet


@dataclass(frozen=True, slots=True)
class Literal:
    """A fixed string."""

    text: str


@dataclass(frozen=True, slots=True)
class CharClass:
    """One character out of a set."""

    charset: CharSet


@dataclass(frozen=True, slots=True)
class Concat:
    """Items one after the other."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """Exactly one of several alternatives."""

    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    """An item repeated between ``minimum`` and ``maximum`` times (``None`` = unbounded)."""

    item: Node
    minimum: int
    maximum: int | None


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A reference to a named rule."""

    name: str


Node = Literal | CharClass | Concat | Choice | Repeat | RuleRef

_Measure = Callable[[Node, Mapping[str, float]], float]
_FIXPOINT_ROUNDS = 500


class GrammarSampler:
    """Produce strings of a grammar by a seeded random walk that is guaranteed to stop.

    The sampler precomputes, for every rule, its *rank* (height of the shortest derivation
    tree) and the length of its shortest derivation. While the walk is shallow and the
    output short it picks alternatives and repetition counts at random; as depth or length
    grow it increasingly (and past the limits, always) picks the alternative of lowest rank
    and the minimum repetition count, which strictly decreases the rank and so terminates.
    """

    __slots__ = ("_cost", "_depth_limit", "_length", "_length_limit", "_rank", "_rng", "_rules")

    def __init__(
        self,
        rules: Mapping[str, Node],
        *,
        seed: int,
        depth_limit: int = 24,
        length_limit: int = 600,
    ) -> None:
        """Prepare a sampler.

        Args:
            rules: The named rules; every :class:`RuleRef` must name one of them.
            seed: Seed of the random walk.
            depth_limit: Nesting depth after which only terminating choices are made.
            length_limit: Output length after which only terminating choices are made.
        """
        self._rules = dict(rules)
        self._rng = random.Random(seed)
        self._depth_limit = depth_limit
        self._length_limit = length_limit
        self._length = 0
        self._rank = _rule_fixpoint(self._rules, _rank_of)
        self._cost = _rule_fixpoint(self._rules, _cost_of)

    def can_terminate(self, node: Node) -> bool:
        """Tell whether ``node`` derives at least one finite string."""
        return math.isfinite(_rank_of(node, self._rank))

    def sample(self, node: Node) -> str:
        """Return one string derived from ``node``."""
        self._length = 0
        parts: list[str] = []
        self._emit(node, 0, parts)
        return "".join(parts)

    def _emit(self, node: Node, depth: int, out: list[str]) -> None:
        if isinstance(node, Literal):
            self._write(node.text, out)
        elif isinstance(node, CharClass):
            self._write(node.charset.sample(self._rng), out)
        elif isinstance(node, Concat):
            for item in node.items:
                self._emit(item, depth, out)
        elif isinstance(node, Choice):
            self._emit(self._pick_option(node, depth), depth + 1, out)
        elif isinstance(node, Repeat):
            for _ in range(self._repeat_count(node, depth)):
                self._emit(node.item, depth + 1, out)
        else:
            self._emit(self._rules[node.name], depth + 1, out)

    def _write(self, text: str, out: list[str]) -> None:
        out.append(text)
        self._length += len(text)

    def _forced(self, depth: int) -> bool:
        if depth >= self._depth_limit or self._length >= self._length_limit:
            return True
        return self._rng.random() < (depth / self._depth_limit) ** 2

    def _pick_option(self, node: Choice, depth: int) -> Node:
        finite = [option for option in node.options if self.can_terminate(option)]
        candidates = finite or list(node.options)
        if self._forced(depth):
            return min(
                candidates,
                key=lambda option: (_rank_of(option, self._rank), _cost_of(option, self._cost)),
            )
        # Shorter alternatives are likelier: grammars put escapes and rare cases in long ones.
        weights = [1.0 / (1.0 + _cost_of(option, self._cost)) ** 2 for option in candidates]
        return self._rng.choices(candidates, weights=weights)[0]

    def _repeat_count(self, node: Repeat, depth: int) -> int:
        if not self.can_terminate(node.item) or self._forced(depth):
            return node.minimum
        spread = 6 if isinstance(node.item, CharClass) else 3
        if node.maximum is not None:
            spread = min(spread, node.maximum - node.minimum)
        return node.minimum + self._rng.randint(0, max(spread, 0))


def _rule_fixpoint(rules: Mapping[str, Node], measure: _Measure) -> dict[str, float]:
    values = dict.fromkeys(rules, math.inf)
    for _ in range(_FIXPOINT_ROUNDS):
        updated = {name: measure(body, values) for name, body in rules.items()}
        if updated == values:
            break
        values = updated
    return values


def _rank_of(node: Node, rules: Mapping[str, float]) -> float:
    if isinstance(node, Literal | CharClass):
        return 0.0
    if isinstance(node, Concat):
        return max((_rank_of(item, rules) for item in node.items), default=0.0)
    if isinstance(node, Choice):
        return min((_rank_of(option, rules) for option in node.options), default=math.inf)
    if isinstance(node, Repeat):
        return 0.0 if node.minimum == 0 else _rank_of(node.item, rules)
    return rules.get(node.name, math.inf) + 1.0


def _cost_of(node: Node, rules: Mapping[str, float]) -> float:
    if isinstance(node, Literal):
        return float(len(node.text))
    if isinstance(node, CharClass):
        return 1.0
    if isinstance(node, Concat):
        return sum(_cost_of(item, rules) for item in node.items)
    if isinstance(node, Choice):
        return min((_cost_of(option, rules) for option in node.options), default=math.inf)
    if isinstance(node, Repeat):
        return 0.0 if node.minimum == 0 else node.minimum * _cost_of(node.item, rules)
    return rules.get(node.name, math.inf)
