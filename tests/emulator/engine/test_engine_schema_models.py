"""Generated instances validate against pydantic-generated schemas and use prompt hints."""

from __future__ import annotations

import datetime
import enum
import re
import uuid
from typing import Annotated, Any, Literal

import pytest
from jsonschema import Draft202012Validator
from lmstudio_core.emulator._engine import generate_instance
from pydantic import BaseModel, Field


class Genre(enum.Enum):
    FANTASY = "fantasy"
    SCIENCE = "science"
    HISTORY = "history"


class Author(BaseModel):
    name: str
    email: str | None = None
    born: datetime.date | None = None


class Chapter(BaseModel):
    title: str
    pages: Annotated[int, Field(ge=1, le=500)]


class Book(BaseModel):
    id: uuid.UUID
    title: str
    author: Author
    genre: Genre
    status: Literal["draft", "published"]
    rating: Annotated[int, Field(ge=1, le=5)]
    price: Annotated[float, Field(gt=0, multiple_of=0.5)]
    tags: set[str]
    chapters: list[Chapter]
    dimensions: tuple[int, int]
    metadata: dict[str, int] = {}
    isbn: Annotated[str, Field(pattern=r"^\d{3}-\d{10}$")]
    summary: Annotated[str, Field(min_length=10, max_length=80)]


class Comment(BaseModel):
    text: str
    replies: list[Comment] = []
    parent: Comment | None = None


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: Annotated[int, Field(ge=0, le=9)]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Owner(BaseModel):
    pet: Cat | Dog = Field(discriminator="kind")
    pets: list[Annotated[Cat | Dog, Field(discriminator="kind")]]


MODELS: list[type[BaseModel]] = [Author, Chapter, Book, Comment, Owner]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_pydantic_schemas_validate_and_parse(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    for seed in range(25):
        instance = generate_instance(schema, seed=seed, hints=("A", "story", "about", "Rome"))
        assert [error.message for error in validator.iter_errors(instance)] == []
        model.model_validate(instance)


def test_title_is_a_readable_phrase_built_from_hints() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    hints = ["Write", "a", "book", "about", "dragons", "in", "Paris"]

    titles = {generate_instance(schema, seed=seed, hints=hints)["title"] for seed in range(10)}

    assert all(re.fullmatch(r"The [A-Z][a-z]+( of)? [A-Z][a-z]+", title) for title in titles)
    assert all("Dragons" in title for title in titles)


def test_place_fields_prefer_proper_nouns_from_hints() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

    value = generate_instance(
        schema, seed=3, hints=["What", "is", "the", "weather", "in", "Lisbon", "today"]
    )

    assert value == {"city": "Lisbon"}


def test_hint_numbers_fill_numeric_fields_in_order_when_within_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "integer", "maximum": 10},
            "c": {"type": "number"},
        },
        "required": ["a", "b", "c"],
    }

    value = generate_instance(schema, seed=0, hints=["add", "7", "and", "250", "and", "4"])

    assert value == {"a": 7, "b": 4, "c": 250}


def test_enum_value_mentioned_in_hints_is_preferred() -> None:
    schema = {"type": "string", "enum": ["celsius", "fahrenheit"]}

    values = {generate_instance(schema, seed=s, hints=["in", "Fahrenheit"]) for s in range(8)}

    assert values == {"fahrenheit"}


def test_unconstrained_fields_look_realistic() -> None:
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "website": {"type": "string"},
            "age": {"type": "integer"},
            "author": {"type": "string"},
        },
        "required": ["email", "website", "age", "author"],
    }

    value = generate_instance(schema, seed=5)

    assert re.fullmatch(r"[a-z.\-]+@example\.(com|org|net)", value["email"])
    assert value["website"].startswith("https://")
    assert 18 <= value["age"] <= 80
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][A-Za-z\-]+", value["author"])


def test_generated_values_are_json_types_only() -> None:
    def is_json(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and is_json(v) for k, v in value.items())
        if isinstance(value, list):
            return all(is_json(item) for item in value)
        return value is None or isinstance(value, str | int | float | bool)

    schema = Book.model_json_schema()

    assert all(is_json(generate_instance(schema, seed=seed)) for seed in range(10))
