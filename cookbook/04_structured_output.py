"""Structured output: the reply is constrained to a pydantic model's JSON schema.

LM Studio enforces the schema while generating, so ``result.parsed`` is an instance of
the model. A plain JSON schema dict works too (``parsed`` is then a dict).

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``).
"""

from __future__ import annotations

import os

from lmstudio_core import Client
from pydantic import BaseModel, Field

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


class Book(BaseModel):
    title: str
    author: str
    year: int = Field(description="Year of first publication")
    genres: list[str] = Field(max_length=3)


def main() -> None:
    with Client(BASE_URL) as client:
        model = client.llm.model(MODEL)

        result = model.respond(
            "Describe the novel 'Dune' by Frank Herbert.", response_format=Book, temperature=0
        )
        book = result.parsed
        if not isinstance(book, Book):  # only if the model ran out of tokens, for example
            raise SystemExit(f"no structured result: {result.parse_error}")
        print(f"Raw JSON: {result.content}")
        print(f"Book: {book.title!r} by {book.author}, {book.year}, genres {book.genres}")

        # The same with a JSON schema dict: `parsed` is plain JSON.
        schema = {
            "type": "object",
            "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
            "required": ["city", "population"],
        }
        city = model.respond("Give me a large city and its population.", response_format=schema)
        print(f"City: {city.parsed['city']}, population {city.parsed['population']}")


if __name__ == "__main__":
    main()
