"""Structured output with LM Studio's server-side JSON schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn
from pydantic import BaseModel

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

    from lmstudio_integrations.llamaindex import LMStudio


class City(BaseModel):
    """A city and its country."""

    name: str
    country: str
    population: int


PROMPT = PromptTemplate("Describe the capital of {country}.")
PARIS = '{"name": "Paris", "country": "France", "population": 2100000}'


def sent_schema(emulator: EmulatorThread) -> dict[str, Any]:
    structured = emulator.record.predictions[-1].config["llm.prediction.structured"]
    assert structured["type"] == "json"
    schema: dict[str, Any] = structured["jsonSchema"]
    return schema


def test_structured_predict(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    city = llm.structured_predict(City, PROMPT, country="France")
    assert city == City(name="Paris", country="France", population=2100000)
    assert set(sent_schema(emulator)["properties"]) == {"name", "country", "population"}
    assert "capital of France" in emulator.record.predictions[-1].history[-1]["content"][0]["text"]


def test_structured_predict_from_the_default_engine(llm: LMStudio) -> None:
    city = llm.structured_predict(City, PROMPT, country="France")
    assert isinstance(city, City)  # schema-valid JSON, generated under the schema


async def test_astructured_predict(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    city = await llm.astructured_predict(City, PROMPT, country="France")
    assert city.name == "Paris"


def test_stream_structured_predict(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    partials = list(llm.stream_structured_predict(City, PROMPT, country="France"))
    assert len(partials) > 2
    assert partials[-1] == City(name="Paris", country="France", population=2100000)
    assert any(getattr(p, "population", None) is None for p in partials)  # fields fill in


async def test_astream_structured_predict(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    stream = await llm.astream_structured_predict(City, PROMPT, country="France")
    partials = [partial async for partial in stream]
    assert partials[-1] == City(name="Paris", country="France", population=2100000)


def test_as_structured_llm(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    structured = llm.as_structured_llm(City)
    response = structured.chat([ChatMessage(content="Describe the capital of France.")])
    assert response.raw == City(name="Paris", country="France", population=2100000)
    assert sent_schema(emulator)


# StructuredLLM.astream_chat calls pydantic's deprecated .json() on each partial object.
@pytest.mark.filterwarnings(
    "ignore:The `json` method is deprecated:pydantic.warnings.PydanticDeprecationWarning:"
    "llama_index.core.llms.structured_llm"
)
async def test_as_structured_llm_async_stream(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply(PARIS)
    structured = llm.as_structured_llm(City)
    stream = await structured.astream_chat([ChatMessage(content="The capital of France?")])
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].raw == City(name="Paris", country="France", population=2100000)


def test_system_prompt_is_used(emulator: EmulatorThread) -> None:
    from lmstudio_integrations.llamaindex import LMStudio

    llm = LMStudio(
        model_name="qwen2.5-0.5b-instruct", base_url=emulator.base_url, system_prompt="Be exact."
    )
    try:
        llm.structured_predict(City, PROMPT, country="France")
    finally:
        llm.close()
    history = emulator.record.predictions[-1].history
    assert history[0]["role"] == "system"
    assert history[0]["content"][0]["text"] == "Be exact."


def test_function_program_mode_uses_a_tool(emulator: EmulatorThread) -> None:
    from lmstudio_integrations.llamaindex import LMStudio

    llm = LMStudio(
        model_name="qwen2.5-0.5b-instruct",
        base_url=emulator.base_url,
        pydantic_program_mode=PydanticProgramMode.FUNCTION,
    )
    arguments = {"name": "Paris", "country": "France", "population": 2100000}
    emulator.engine.script(None, ScriptedTurn(tool_calls=[ScriptedToolCall("City", arguments)]))
    try:
        city = llm.structured_predict(City, PROMPT, country="France")
    finally:
        llm.close()
    assert city == City(**arguments)
    config = emulator.record.predictions[-1].config
    assert config["llm.prediction.toolChoice"] == {"type": "generic", "mode": "required"}


def test_invalid_json_raises(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply('{"name": "Paris"}')
    with pytest.raises(ValueError, match="City"):
        llm.structured_predict(City, PROMPT, country="France")
