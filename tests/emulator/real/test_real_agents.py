"""LangChain's ``create_agent`` with tools and a response format on the real llama.cpp
engine: each structured-output strategy ends with a schema-valid structured response."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from lmstudio_core.emulator import EmulatorThread
from pydantic import BaseModel, Field

from lmstudio_integrations.langchain import ChatLMStudio

MODEL = "smollm2-135m-instruct"


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 24 degrees in {city}."


class CityReport(BaseModel):
    """A short report about a city."""

    city: str = Field(description="the city")
    conditions: str = Field(description="what the weather is like there")


# ProviderStrategy runs first: after the other runs on the same engine, SmolLM2-135M's
# greedy output changes with what llama.cpp has cached, and it keeps calling the tool
# when it may choose (a trait of that tiny model; the deterministic engine covers every
# strategy in every order).
STRATEGIES: dict[str, Any] = {
    "ProviderStrategy": ProviderStrategy(CityReport),
    "default": CityReport,
    "ToolStrategy": ToolStrategy(CityReport),
}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
async def test_create_agent_on_a_real_model(real_emu: EmulatorThread, strategy: str) -> None:
    chat = ChatLMStudio(model=MODEL, base_url=real_emu.base_url, temperature=0, max_tokens=64)
    agent = create_agent(chat, tools=[get_weather], response_format=STRATEGIES[strategy])
    result = await agent.ainvoke(
        {"messages": [{"role": "user", "content": "What is the weather in Paris?"}]},
        {"recursion_limit": 12},
    )
    assert isinstance(result["structured_response"], CityReport)
    tool_results = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert all(m.status != "error" for m in tool_results if m.name == "get_weather")
    await chat.aclose()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_create_agent_on_a_real_model_sync(real_emu: EmulatorThread) -> None:
    chat = ChatLMStudio(model=MODEL, base_url=real_emu.base_url, temperature=0, max_tokens=64)
    agent = create_agent(chat, tools=[get_weather], response_format=ToolStrategy(CityReport))
    result = agent.invoke(
        {"messages": [{"role": "user", "content": "What is the weather in Paris?"}]},
        {"recursion_limit": 12},
    )
    assert isinstance(result["structured_response"], CityReport)
    chat.close()
