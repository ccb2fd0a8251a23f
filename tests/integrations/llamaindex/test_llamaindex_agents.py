"""LlamaIndex agent workflows driving ``LMStudio`` through multi-step tool tasks."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.agent.workflow import (
    AgentStream,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)
from llama_index.core.tools import FunctionTool
from llamaindex_models import REASONING_MODEL, VISION_MODEL
from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

    from lmstudio_integrations.llamaindex import LMStudio

# llama-index-workflows lists an agent's steps with inspect.getmembers(), which reads the
# deprecated ``__fields__``-style properties of the pydantic agent model: only
# those deprecations raised from inside ``inspect`` are ignored.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecationWarning:inspect"
)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]
QUESTION = "What is (2 plus 3) times 4?"


def script_two_steps(emulator: EmulatorThread) -> None:
    engine = emulator.engine
    engine.script(None, ScriptedTurn(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3})]))
    engine.script(None, ScriptedTurn(tool_calls=[ScriptedToolCall("multiply", {"a": 5, "b": 4})]))
    engine.script_reply("(2 plus 3) times 4 is 20.")


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not streaming"])
async def test_function_agent_multi_step(
    llm: LMStudio, emulator: EmulatorThread, streaming: bool
) -> None:
    script_two_steps(emulator)
    agent = FunctionAgent(tools=TOOLS, llm=llm, streaming=streaming)
    handler = agent.run(user_msg=QUESTION)
    results: list[ToolCallResult] = []
    deltas: list[str] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            results.append(event)
        elif isinstance(event, AgentStream):
            deltas.append(event.delta)
    output = await handler
    assert str(output) == "(2 plus 3) times 4 is 20."
    assert [(r.tool_name, r.tool_output.content) for r in results] == [
        ("add", "5"),
        ("multiply", "20"),
    ]
    if streaming:
        assert "".join(deltas) == "(2 plus 3) times 4 is 20."

    # Each tool result went back to LM Studio under the id of the call it answers.
    history = emulator.record.predictions[-1].history
    requests = [
        part["toolCallRequest"]
        for message in history
        for part in message["content"]
        if part["type"] == "toolCallRequest"
    ]
    answers = [
        part
        for message in history
        for part in message["content"]
        if part["type"] == "toolCallResult"
    ]
    assert [r["name"] for r in requests] == ["add", "multiply"]
    assert [a["toolCallId"] for a in answers] == [r["id"] for r in requests]
    assert [a["content"] for a in answers] == ["5", "20"]
    assert len({r["id"] for r in requests}) == 2


async def test_function_agent_refuses_a_model_declared_without_tool_calling(
    emulator: EmulatorThread,
) -> None:
    from lmstudio_integrations.llamaindex import LMStudio

    llm = LMStudio(
        model_name=VISION_MODEL, base_url=emulator.base_url, is_function_calling_model=False
    )
    try:
        agent = FunctionAgent(tools=TOOLS, llm=llm)
        with pytest.raises(ValueError, match="FunctionCallingLLM"):
            await agent.run(user_msg=QUESTION)
        assert emulator.record.predictions == []
    finally:
        llm.close()


LOAD_SECONDS = 2.5


async def test_function_agent_loads_the_model_without_blocking_the_loop(
    lmstudio_emulator_factory: Any,
) -> None:
    """LlamaIndex reads ``llm.metadata`` synchronously in the loop: it must not load the
    model; the load happens on the first await, while the loop keeps running."""
    from lmstudio_integrations.llamaindex import LMStudio

    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.05)
            now = loop.time()
            gaps.append(now - last)
            last = now

    with lmstudio_emulator_factory(load_seconds=LOAD_SECONDS) as emu:
        script_two_steps(emu)
        llm = LMStudio(model_name=REASONING_MODEL, base_url=emu.base_url, request_timeout=20)
        assert REASONING_MODEL not in emu.loaded_identifiers()
        ticker = asyncio.create_task(tick())
        started = loop.time()
        try:
            output = await FunctionAgent(tools=TOOLS, llm=llm).run(user_msg=QUESTION)
        finally:
            done.set()
            await ticker
            llm.close()
            await llm.aclose()
        assert str(output) == "(2 plus 3) times 4 is 20."
        assert loop.time() - started >= LOAD_SECONDS  # the model was loaded meanwhile
        assert REASONING_MODEL in emu.loaded_identifiers()
    assert max(gaps) < 0.5


REACT_STEPS = [
    'Thought: I need to add first.\nAction: add\nAction Input: {"a": 2, "b": 3}',
    'Thought: Now multiply the sum.\nAction: multiply\nAction Input: {"a": 5, "b": 4}',
    "Thought: I can answer without using any more tools.\nAnswer: The result is 20.",
]


# ReActAgent.take_step reads ctx.is_running, which llama-index-workflows deprecated.
@pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning")
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not streaming"])
async def test_react_agent_multi_step(
    llm: LMStudio, emulator: EmulatorThread, streaming: bool
) -> None:
    for step in REACT_STEPS:
        emulator.engine.script_reply(step)
    agent = ReActAgent(tools=TOOLS, llm=llm, streaming=streaming)
    handler = agent.run(user_msg=QUESTION)
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    output = await handler
    assert str(output) == "The result is 20."
    assert [(r.tool_name, r.tool_output.content) for r in results] == [
        ("add", "5"),
        ("multiply", "20"),
    ]
    # ReAct is plain chat: no tools on the wire, observations in the prompt.
    last = emulator.record.predictions[-1]
    assert "llm.prediction.tools" not in {
        field["key"] for layer in last.config_stack["layers"] for field in layer["config"]["fields"]
    }
    assert "Observation: 20" in last.prompt
