"""LangChain structured output: ``with_structured_output`` with a pydantic model.

The default method (``json_schema``) makes LM Studio constrain generation to the schema;
``method="function_calling"`` forces a tool call instead. A TypedDict or a JSON schema
dict works too (the result is then a dict).

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
``ChatLMStudio`` reads ``LMSTUDIO_BASE_URL`` (else finds a local LM Studio);
``LMSTUDIO_MODEL`` selects the model (default ``qwen2.5-0.5b-instruct``).
"""

from __future__ import annotations

import os

from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, Field

from lmstudio_integrations.langchain import ChatLMStudio

MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str = Field(description="Full name")
    age: int | None = Field(default=None, description="Age in years, if given")
    occupation: str = Field(description="What the person does")


def main() -> None:
    llm = ChatLMStudio(model=MODEL, temperature=0)

    extractor = llm.with_structured_output(Person)
    person = extractor.invoke("Marie Curie, 44, was a physicist and chemist.")
    assert isinstance(person, Person)
    print(f"json_schema: {person!r}")

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Extract the person described by the user."), ("human", "{text}")]
    )
    chain = prompt | llm.with_structured_output(Person, method="function_calling")
    print(f"function_calling: {chain.invoke({'text': 'Alan Turing was a mathematician.'})!r}")

    raw = llm.with_structured_output(Person, include_raw=True).invoke("Ada Lovelace, writer.")
    assert isinstance(raw, dict)
    print(f"include_raw: parsed={raw['parsed']!r} error={raw['parsing_error']}")
    print(f"             raw text: {raw['raw'].text}")


if __name__ == "__main__":
    main()
