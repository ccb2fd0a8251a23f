"""Choosing which tools a prompt asks for, and filling in their arguments.

A tool *matches* a request when the request mentions the tool's name (case-, ``_``-, ``-``-
and space-insensitive, e.g. ``get_weather`` ~ "get weather"), or mentions every distinctive
word of the name through a known synonym ("plus" for ``add``, "weather" for
``get_current_weather``), or shares at least two significant words with the description
(an action concept such as "add" or "weather" counts twice, so "What is 12 + 30?" calls a
tool described as "Add two numbers."). A prompt that explicitly asks for a tool ("use the
tool") calls the best scoring one even without a match.

With ``tool_choice="required"`` the model must call a tool after tool results too
(:func:`plan_call_after_results`), as a framework that forces its structured-answer tool
expects (LangChain's ``create_agent(..., response_format=ToolStrategy(Schema))``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._text import numbers_in, quoted_strings_in, significant_words, stem, words_of
from .phrases import PHRASE_PARAMETER_WORDS, string_candidates
from .schema_instance import generate_instance
from .schema_refs import SchemaError
from .schema_validation import is_valid
from .vocabulary import word_list

MAX_CALLS_PER_REPLY = 5
_CLAUSE_SPLIT_RE = re.compile(r"\s*(?:\band\b|\bthen\b|\balso\b|;|,)\s*", re.IGNORECASE)
_NAME_SPLIT_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_GENERIC_NAME_WORDS = frozenset(
    word_list(
        """get set fetch find list create make do run compute calculate calc lookup look up
    retrieve current tool func function the a an to of by for with from my new"""
    )
)
_OPERATOR_RE = re.compile(r"(?<=\d)\s*([+*/x-])\s*(?=-?\d)")
_SYMBOL_CONCEPTS = {"+": "add", "-": "subtract", "*": "multiply", "x": "multiply", "/": "divide"}
_SYNONYMS: dict[str, str] = {
    word: concept
    for concept, words in {
        "add": "add plus sum addition total",
        "subtract": "subtract minus difference subtraction",
        "multiply": "multiply times product multiplication multiplied",
        "divide": "divide divided division quotient",
        "weather": "weather temperature forecast rain sunny warm humid snow windy cloudy stormy",
        "search": "search lookup google browse",
        "time": "time clock",
    }.items()
    for word in words.split()
}
_STRONG_CONCEPTS = frozenset({"add", "subtract", "multiply", "divide", "weather", "search", "time"})
_LOOK_UP_RE = re.compile(r"\blook(?:ing|s|ed)?\s+up\b", re.IGNORECASE)
_EXPLICIT_TOOL_RE = re.compile(
    r"\b(?:use|call|using|invoke|run|with|via)\s+(?:the|a|an|your|this|that|any|one|some)?\s*"
    r"(?:tool|tools|function|functions)\b",
    re.IGNORECASE,
)
_EMPTY_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as declared by the client.

    Attributes:
        name: Tool name.
        description: Tool description (``""`` when absent).
        parameters: JSON Schema of the arguments object.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]

    @classmethod
    def from_wire(cls, tool: Mapping[str, Any]) -> ToolSpec:
        """Read a wire ``LLMTool`` (``{"type": "function", "function": {...}}``)."""
        function: Mapping[str, Any] = tool.get("function", tool)
        parameters = function.get("parameters")
        return cls(
            name=str(function.get("name", "")),
            description=str(function.get("description") or ""),
            parameters=parameters
            if isinstance(parameters, Mapping) and parameters
            else _EMPTY_PARAMETERS,
        )


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A tool call the reply will make.

    Attributes:
        tool: The tool to call.
        request_text: The part of the prompt that asks for this call (source of arguments).
        known: Argument values already known by parameter name (from tool results); a
            value fills the parameter it names when it fits that parameter's schema.
    """

    tool: ToolSpec
    request_text: str
    known: Mapping[str, Any] | None = None


def plan_tool_calls(
    tools: Sequence[ToolSpec], user_text: str, *, required: bool
) -> list[PlannedCall]:
    """Decide which tools to call for ``user_text``.

    Several calls are planned when the prompt joins several matching requests ("... and
    ...") or names several tools. With ``required`` a call is always planned (the best
    scoring tool, or the first one).
    """
    if not tools:
        return []
    grouped = _calls_per_clause(tools, user_text)
    if len(grouped) >= 2:
        return grouped[:MAX_CALLS_PER_REPLY]
    named = [tool for tool in tools if _mentions_name(tool, user_text)]
    if len(named) >= 2:
        return [PlannedCall(tool, user_text) for tool in named][:MAX_CALLS_PER_REPLY]
    best = best_tool(tools, user_text)
    if best is not None:
        return [PlannedCall(best, user_text)]
    if required or _EXPLICIT_TOOL_RE.search(user_text):
        scores = [_score(tool, user_text) for tool in tools]
        return [PlannedCall(tools[scores.index(max(scores))], user_text)]
    return []


def plan_call_after_results(
    tools: Sequence[ToolSpec], user_text: str, results: Sequence[str], called: Collection[str]
) -> list[PlannedCall]:
    """The one call a model that must call a tool makes after tool results.

    It moves on rather than repeating itself: among the tools not called since the user's
    message (``called`` names those that were), the one the request asks for, else the
    last one offered (frameworks that force a call to get a structured answer add their
    answer tool after the user's tools); when every tool was called already (one forced
    tool), the same choice among all. The arguments come from the results: a JSON object
    result fills the parameters its keys name, other results come before the user's text
    in the text numbers and phrases are read from.
    """
    if not tools:
        return []
    pool = [tool for tool in tools if tool.name not in called] or list(tools)
    chosen = best_tool(pool, user_text) or pool[-1]
    texts, known = _result_values(results)
    return [PlannedCall(chosen, " ".join([*texts, user_text]), known)]


def _result_values(results: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """The texts of the results, and the fields of those that are JSON objects."""
    texts: list[str] = []
    known: dict[str, Any] = {}
    for content in results:
        try:
            value = json.loads(content)
        except ValueError:
            value = None
        if isinstance(value, dict):
            known.update(value)
        else:
            texts.append(content)
    return texts, known


def best_tool(tools: Sequence[ToolSpec], text: str) -> ToolSpec | None:
    """Return the best matching tool for ``text`` (earliest on ties), or ``None``."""
    best: ToolSpec | None = None
    best_score = 0
    for tool in tools:
        score = _score(tool, text)
        if score > best_score and score >= 2:
            best, best_score = tool, score
    return best


def tool_arguments(call: PlannedCall, *, hints: Sequence[str], seed: int) -> dict[str, Any]:
    """Return arguments for ``call`` that validate against the tool's parameters schema.

    Numbers written in the request fill numeric parameters in order (when within bounds),
    quoted strings fill string parameters in order, mentioned enum values fill enums, and
    required (or place, person, query and expression) string parameters take a phrase of
    the request (:func:`.phrases.string_candidates`: ``"San Francisco"``, ``"population of
    France"``, ``"12 * 7"``); the rest is generated. Values that break the schema are skipped.

    Raises:
        ValueError: If the parameters schema has no instance or is not supported.
    """
    schema = call.tool.parameters
    generated = generate_instance(schema, seed=seed, hints=hints)
    if not isinstance(generated, dict):
        if not is_valid({}, schema, schema):
            raise SchemaError(f"parameters of tool {call.tool.name!r} do not describe an object")
        generated = {}
    filled = _filled_from_request(schema, call.request_text, call.tool.name)
    known = _known_arguments(schema, call.known or {})
    for candidate in ({**generated, **filled, **known}, {**generated, **filled}):
        if is_valid(candidate, schema, schema):
            return candidate
    return generated


def _known_arguments(schema: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """The known values that fit the parameter they name (names match loosely)."""
    properties = schema.get("properties")
    if not known or not isinstance(properties, Mapping):
        return {}
    by_name = {_loose(str(key)): value for key, value in known.items()}
    found: dict[str, Any] = {}
    for name, sub in properties.items():
        key = _loose(name)
        if key in by_name and is_valid(by_name[key], sub, schema):
            found[name] = by_name[key]
    return found


def _loose(name: str) -> str:
    return "".join(_name_parts(name))


def _filled_from_request(schema: Mapping[str, Any], text: str, tool_name: str) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    numbers = list(numbers_in(text))
    quoted = quoted_strings_in(text)
    mentioned = {word.lower() for word in words_of(text)}
    required = set(schema.get("required", ()))
    exclude = frozenset(_name_parts(tool_name)) | {"tool", "tools", "function"}
    used: set[str] = set()
    filled: dict[str, Any] = {}
    for name, sub in properties.items():
        value = _first_valid(numbers, sub, schema)
        if value is None:
            value = _first_valid(quoted, sub, schema)
        if value is None:
            value = _mentioned_enum_value(sub, schema, mentioned)
        if value is None and _takes_phrase(sub, name, required):
            phrases = string_candidates(text, _name_parts(name), exclude=exclude)
            value = _first_valid([p for p in phrases if p not in used], sub, schema)
        if value is not None:
            filled[name] = value
            used.add(str(value))
    return filled


def _takes_phrase(sub: Any, name: str, required: set[str]) -> bool:
    """Tell whether a free-form phrase of the prompt may fill this string parameter."""
    if not isinstance(sub, Mapping):
        return False
    types = sub.get("type")
    if types != "string" and not (isinstance(types, list) and "string" in types):
        return False
    if any(key in sub for key in ("enum", "const", "format")):
        return False
    return name in required or bool(set(_name_parts(name)) & PHRASE_PARAMETER_WORDS)


def _first_valid(pool: list[Any], sub: Any, root: Mapping[str, Any]) -> Any:
    for index, value in enumerate(pool):
        if is_valid(value, sub, root):
            del pool[index]
            return value
    return None


def _mentioned_enum_value(sub: Any, root: Mapping[str, Any], mentioned: set[str]) -> Any:
    if not isinstance(sub, Mapping) or not isinstance(sub.get("enum"), list):
        return None
    for value in sub["enum"]:
        if isinstance(value, str) and value.lower() in mentioned and is_valid(value, sub, root):
            return value
    return None


def _calls_per_clause(tools: Sequence[ToolSpec], text: str) -> list[PlannedCall]:
    groups: list[tuple[ToolSpec | None, str]] = []
    for clause in (part for part in _CLAUSE_SPLIT_RE.split(text) if part.strip()):
        tool = best_tool(tools, clause)
        if tool is None and groups:
            previous_tool, previous_text = groups[-1]
            groups[-1] = (previous_tool, f"{previous_text} and {clause}")
        else:
            groups.append((tool, clause))
    if len(groups) > 1 and groups[0][0] is None:
        groups[1] = (groups[1][0], f"{groups[0][1]} {groups[1][1]}")
        groups.pop(0)
    return [PlannedCall(tool, clause) for tool, clause in groups if tool is not None]


def _score(tool: ToolSpec, text: str) -> int:
    """Score how well ``text`` asks for ``tool``: 100+ for a name mention, else the overlap.

    The overlap counts the concepts shared with the description, action concepts such
    as "add" or "weather" twice (so "What is 12 + 30?" is enough for "Add two numbers.").
    """
    concepts = _concepts(text)
    shared = _concepts(tool.description) & concepts
    overlap = len(shared) + len(shared & _STRONG_CONCEPTS)
    return 100 + overlap if _mentions_name(tool, text) else overlap


def _mentions_name(tool: ToolSpec, text: str) -> bool:
    parts = _name_parts(tool.name)
    if not parts:
        return False
    compact = "".join(parts)
    lowered = [word.lower() for word in words_of(text)]
    for start in range(len(lowered)):
        joined = ""
        for word in lowered[start : start + len(parts) + 1]:
            joined += word
            if joined == compact:
                return True
    distinctive = {_concept(part) for part in parts if part not in _GENERIC_NAME_WORDS}
    return bool(distinctive) and distinctive <= _concepts(text)


def _name_parts(name: str) -> list[str]:
    return [part.lower() for part in _NAME_SPLIT_RE.findall(name)]


def _concepts(text: str) -> set[str]:
    text = _LOOK_UP_RE.sub("lookup", text)
    concepts = {_concept(word.lower()) for word in significant_words(text)}
    symbols = _OPERATOR_RE.findall(text)
    return concepts | {_SYMBOL_CONCEPTS[symbol] for symbol in symbols}


def _concept(word: str) -> str:
    return _SYNONYMS.get(word, _SYNONYMS.get(stem(word), stem(word)))
