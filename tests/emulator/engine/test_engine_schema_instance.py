"""Generated instances validate against a wide range of JSON Schemas."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import validators
from lmstudio_core.emulator._engine import SchemaError, generate_instance

SEEDS = range(25)

_LINKED_LIST = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
            },
            "required": ["value", "next"],
        }
    },
    "$ref": "#/$defs/Node",
}
_TREE = {
    "definitions": {
        "Tree": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/definitions/Tree"}},
            },
            "required": ["label", "children"],
            "additionalProperties": False,
        }
    },
    "type": "object",
    "properties": {"root": {"$ref": "#/definitions/Tree"}},
    "required": ["root"],
}

SCHEMAS: dict[str, Any] = {
    "empty": {},
    "true": True,
    "string": {"type": "string"},
    "string-lengths": {"type": "string", "minLength": 5, "maxLength": 8},
    "string-long": {"type": "string", "minLength": 60},
    "string-tiny": {"type": "string", "maxLength": 1},
    "enum": {"enum": ["red", 2, None, {"a": 1}]},
    "typed-enum": {"type": "string", "enum": ["a", 1, "b"]},
    "const": {"const": {"nested": [1, 2]}},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "email": {"type": "string", "format": "email"},
    "uri": {"type": "string", "format": "uri"},
    "uuid": {"type": "string", "format": "uuid"},
    "hostname": {"type": "string", "format": "hostname"},
    "ipv4": {"type": "string", "format": "ipv4"},
    "ipv6": {"type": "string", "format": "ipv6"},
    "pattern-lower": {"type": "string", "pattern": "^[a-z]+$"},
    "pattern-phone": {"type": "string", "pattern": r"^\d{3}-\d{4}$"},
    "pattern-code": {"type": "string", "pattern": r"^[A-Z]{3}-\d{2,4}$", "maxLength": 8},
    "pattern-alternation": {"type": "string", "pattern": "^(alpha|beta|gamma)-[0-9]+$"},
    "integer-bounds": {"type": "integer", "minimum": -3, "maximum": 3},
    "integer-exclusive": {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 12},
    "integer-multiple": {"type": "integer", "minimum": 100, "multipleOf": 7},
    "number-multiple": {"type": "number", "minimum": 0.1, "maximum": 2, "multipleOf": 0.25},
    "number-narrow": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "number-negative": {"type": "number", "maximum": -1000},
    "draft4-exclusive": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "integer",
        "minimum": 5,
        "exclusiveMinimum": True,
        "maximum": 6,
    },
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "nullable-string": {"type": ["string", "null"]},
    "integer-or-string": {"type": ["integer", "string"], "minimum": 2, "minLength": 2},
    "object": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "nickname": {"type": "string"},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    },
    "object-required-without-properties": {"type": "object", "required": ["id", "label"]},
    "object-min-properties": {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "minProperties": 3,
        "additionalProperties": {"type": "boolean"},
    },
    "array": {"type": "array", "items": {"type": "integer"}},
    "array-bounds": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 5},
    "array-empty-only": {"type": "array", "maxItems": 0},
    "prefix-items": {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string", "format": "date"}],
        "items": False,
        "minItems": 2,
    },
    "draft7-tuple": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "boolean"}, {"const": "x"}],
        "additionalItems": False,
    },
    "unique-items": {
        "type": "array",
        "items": {"enum": ["a", "b", "c"]},
        "minItems": 3,
        "uniqueItems": True,
    },
    "nested-arrays": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    "linked-list": _LINKED_LIST,
    "tree": _TREE,
    "self-root-ref": {
        "type": "object",
        "properties": {"child": {"$ref": "#"}, "name": {"type": "string"}},
        "required": ["name"],
    },
    "any-of": {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "string", "maxLength": 3}]},
    "one-of-overlapping": {
        "oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}],
    },
    "one-of-multiples": {
        "type": "integer",
        "minimum": 1,
        "maximum": 30,
        "oneOf": [{"multipleOf": 2}, {"multipleOf": 3}],
    },
    "one-of-tagged": {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "circle"}, "radius": {"type": "number"}},
                "required": ["kind", "radius"],
            },
            {
                "type": "object",
                "properties": {"kind": {"const": "square"}, "side": {"type": "number"}},
                "required": ["kind", "side"],
            },
        ]
    },
    "all-of": {
        "$defs": {"Named": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "allOf": [
            {"$ref": "#/$defs/Named"},
            {"properties": {"size": {"type": "integer", "minimum": 1}}, "required": ["size"]},
            {"required": ["name"]},
        ],
    },
    "all-of-bounds": {"allOf": [{"type": "number", "minimum": 10}, {"type": "integer"}]},
    "ref-with-siblings": {
        "$defs": {"Text": {"type": "string"}},
        "$ref": "#/$defs/Text",
        "minLength": 12,
    },
    "examples": {"type": "string", "examples": ["first example", "second example"]},
}


def _validator(schema: Any) -> Any:
    cls = validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_instances_validate_for_many_seeds(name: str) -> None:
    schema = SCHEMAS[name]
    validator = _validator(schema)

    for seed in SEEDS:
        instance = generate_instance(schema, seed=seed, hints=("Lisbon", "harbor", "42"))
        errors = [error.message for error in validator.iter_errors(instance)]
        assert errors == [], f"seed {seed}: {instance!r}"


@pytest.mark.parametrize("name", ["object", "tree", "one-of-tagged", "pattern-code"])
def test_generation_is_deterministic(name: str) -> None:
    schema = SCHEMAS[name]

    first = [generate_instance(schema, seed=seed, hints=("a", "b")) for seed in range(5)]
    second = [generate_instance(schema, seed=seed, hints=("a", "b")) for seed in range(5)]

    assert first == second


@pytest.mark.parametrize("name", ["object", "integer-bounds", "string", "array"])
def test_different_seeds_give_different_values(name: str) -> None:
    values = {repr(generate_instance(SCHEMAS[name], seed=seed)) for seed in SEEDS}

    assert len(values) > 1


def test_optional_properties_are_sometimes_included_and_sometimes_omitted() -> None:
    instances = [generate_instance(SCHEMAS["object"], seed=seed) for seed in SEEDS]

    with_nickname = [instance for instance in instances if "nickname" in instance]
    assert 0 < len(with_nickname) < len(instances)
    assert all(set(instance) <= {"name", "age", "nickname"} for instance in instances)


def test_recursive_schema_terminates_with_bounded_depth() -> None:
    def depth(node: Any) -> int:
        return 0 if node is None else 1 + depth(node["next"])

    depths = [depth(generate_instance(_LINKED_LIST, seed=seed)) for seed in SEEDS]

    assert max(depths) <= 12
    assert min(depths) >= 1


def test_one_of_value_matches_exactly_one_branch() -> None:
    for seed in SEEDS:
        value = generate_instance(SCHEMAS["one-of-overlapping"], seed=seed)
        assert len(value) > 3


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 5, "maximum": 1},
        {"type": "string", "minLength": 4, "maxLength": 2},
        False,
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        {"type": "object", "required": ["x"], "additionalProperties": False},
        {"$ref": "#/$defs/Missing"},
        {"$ref": "https://example.com/schema.json"},
        {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"},
        {"type": "array", "items": {"$ref": "#"}, "minItems": 1},
    ],
)
def test_schemas_without_instances_raise_value_error(schema: Any) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        generate_instance(schema, seed=1)


def test_schema_error_is_a_value_error() -> None:
    assert issubclass(SchemaError, ValueError)


def test_refs_to_keys_containing_slashes_resolve() -> None:
    schema = {"definitions": {"llm/rpc/x": {"const": 7}}, "$ref": "#/definitions/llm/rpc/x"}

    assert generate_instance(schema, seed=0) == 7
