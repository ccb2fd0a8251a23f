"""ChatLMStudio driving LangChain agents and LangGraph graphs, as their docs use them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from lmstudio_core.emulator import EmulatorThread, ScriptedToolCall, ScriptedTurn
from pydantic import BaseModel, Field

from lmstudio_integrations.langchain import ChatLMStudio

QUESTION = "What is the weather in Paris?"
PARIS = {"city": "Paris"}


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 24 degrees in {city}."


class CityReport(BaseModel):
    """A short report about a city."""

    city: str = Field(description="the city")
    conditions: str = Field(description="what it is like there")


STRATEGIES: dict[str, Any] = {
    "default": CityReport,
    "ToolStrategy": ToolStrategy(CityReport),
    "ProviderStrategy": ProviderStrategy(CityReport),
}


def _agent(chat: ChatLMStudio, strategy: str) -> Any:
    return create_agent(chat, tools=[get_weather], response_format=STRATEGIES[strategy])


def _check_run(emu: EmulatorThread, strategy: str, result: dict[str, Any]) -> None:
    """The tool ran once, and the structured response is the model's final answer."""
    report = result["structured_response"]
    assert isinstance(report, CityReport)
    assert report.city
    assert report.conditions
    weather = [
        m for m in result["messages"] if isinstance(m, ToolMessage) and m.name == "get_weather"
    ]
    assert [m.content for m in weather] == ["It is sunny and 24 degrees in Paris."]
    first_call = next(m for m in result["messages"] if isinstance(m, AIMessage))
    assert first_call.tool_calls[0]["name"] == "get_weather"
    assert first_call.tool_calls[0]["args"] == {"city": "Paris"}
    configs = [p.config for p in emu.record.predictions]
    if strategy == "ToolStrategy":
        # The schema is a tool, and every prediction must call a tool.
        assert all(c["llm.prediction.toolChoice"]["mode"] == "required" for c in configs)
        assert all(c["llm.prediction.structured"]["type"] == "none" for c in configs)
        return
    # LM Studio constrains the final answer to the schema: the last reply is its JSON.
    final = result["messages"][-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert CityReport.model_validate(json.loads(final.text)) == report
    assert configs[-1]["llm.prediction.structured"]["type"] == "json"
    assert configs[-1]["llm.prediction.tools"] == {"type": "none"}
    assert all(c["llm.prediction.structured"]["type"] == "none" for c in configs[:-1])


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_create_agent_with_tools_and_response_format(
    emu: EmulatorThread, chat: ChatLMStudio, strategy: str
) -> None:
    agent = _agent(chat, strategy)
    result = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})
    _check_run(emu, strategy, result)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
async def test_create_agent_with_tools_and_response_format_async(
    emu: EmulatorThread, chat: ChatLMStudio, strategy: str
) -> None:
    agent = _agent(chat, strategy)
    result = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})
    await chat.aclose()
    _check_run(emu, strategy, result)


async def test_tool_strategy_with_a_model_that_calls_the_schema_tool(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    """ToolStrategy's two rounds as a model plays them: the tool first, then the schema
    as a tool (scripted, so this holds whatever the emulator does with a forced choice)."""
    emu.engine.script(None, ScriptedTurn(tool_calls=[ScriptedToolCall("get_weather", PARIS)]))
    report = {"city": "Paris", "conditions": "sunny, 24 degrees"}
    emu.engine.script(None, ScriptedTurn(tool_calls=[ScriptedToolCall("CityReport", report)]))
    agent = create_agent(chat, tools=[get_weather], response_format=ToolStrategy(CityReport))
    result = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})
    await chat.aclose()
    assert result["structured_response"] == CityReport(**report)
    _check_run(emu, "ToolStrategy", result)


def test_default_strategy_is_lm_studios_structured_output(chat: ChatLMStudio) -> None:
    """The profile says LM Studio constrains output to a schema, so create_agent's default
    strategy is the provider's (the schema is not offered as a tool)."""
    assert chat.profile is not None
    assert chat.profile["structured_output"] is True
    agent = create_agent(chat, tools=[get_weather], response_format=CityReport)
    result = agent.invoke({"messages": [{"role": "user", "content": QUESTION}]})
    called = [
        c["name"] for m in result["messages"] if isinstance(m, AIMessage) for c in m.tool_calls
    ]
    assert called == ["get_weather"]


def test_tools_with_a_response_format_stream_and_count_both_predictions(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    """A bound response format with tools: a tool call is the reply, else the answer comes
    from a prediction constrained to the schema, and its usage counts the discarded one."""
    schema = CityReport.model_json_schema()
    bound = chat.bind_tools([get_weather], response_format=schema)

    emu.engine.script_reply("Hello! Ask me about the weather.")  # first: unconstrained
    chunks = list(bound.stream("Who are you?"))
    answer = chunks[0]
    for chunk in chunks[1:]:
        answer += chunk
    assert "Hello!" not in answer.text  # the unconstrained draft never shows
    CityReport.model_validate_json(answer.text)
    first, second = emu.record.predictions[-2:]
    assert first.config["llm.prediction.structured"]["type"] == "none"
    assert second.config["llm.prediction.structured"]["type"] == "json"
    usage = answer.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > chat.get_num_tokens_from_messages([HumanMessage("Who are you?")])

    emu.record.clear()
    call = bound.invoke(QUESTION)
    assert [c["name"] for c in call.tool_calls] == ["get_weather"]
    assert len(emu.record.predictions) == 1  # a tool call needs no second prediction

    emu.record.clear()
    answer_only = chat.bind_tools([get_weather], tool_choice="none", response_format=schema)
    CityReport.model_validate_json(answer_only.invoke(QUESTION).text)
    assert len(emu.record.predictions) == 1


def test_langgraph_state_graph_with_a_tool_node(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    tools = [get_weather]
    model = chat.bind_tools(tools)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", call_model)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    graph = builder.compile()

    result = graph.invoke({"messages": [HumanMessage(QUESTION)]})
    messages = result["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert messages[1].tool_calls[0]["args"] == {"city": "Paris"}
    assert messages[2].tool_call_id == messages[1].tool_calls[0]["id"]
    assert messages[3].text
    assert not messages[3].tool_calls
    # The tool result went back to LM Studio under the id of the call it answers.
    history = emu.record.predictions[-1].history
    answers = [
        part["toolCallId"]
        for message in history
        for part in message["content"]
        if part["type"] == "toolCallResult"
    ]
    assert answers == [messages[1].tool_calls[0]["id"]]
