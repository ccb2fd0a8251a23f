"""Tool calling through ``LMStudio`` (FunctionCallingLLM), sync and async."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import FunctionTool
from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

    from lmstudio_integrations.llamaindex import LMStudio


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


TOOLS = [FunctionTool.from_defaults(fn=add), FunctionTool.from_defaults(fn=multiply)]


def script_calls(emulator: EmulatorThread, *calls: tuple[str, dict[str, int]]) -> None:
    emulator.engine.script(
        None, ScriptedTurn(tool_calls=[ScriptedToolCall(name, args) for name, args in calls])
    )


def test_prepare_chat_with_tools(llm: LMStudio) -> None:
    history = [ChatMessage(role=MessageRole.SYSTEM, content="Use tools.")]
    prepared = llm._prepare_chat_with_tools(
        TOOLS, user_msg="What is 2 plus 3?", chat_history=history, tool_required=True, top_k=3
    )
    assert [m.content for m in prepared["messages"]] == ["Use tools.", "What is 2 plus 3?"]
    assert [tool["function"]["name"] for tool in prepared["tools"]] == ["add", "multiply"]
    assert prepared["tool_choice"] == "required"
    assert prepared["top_k"] == 3
    assert history == [ChatMessage(role=MessageRole.SYSTEM, content="Use tools.")]


def test_chat_with_tools(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 2, "b": 3}))
    response = llm.chat_with_tools(TOOLS, user_msg="What is 2 plus 3?")
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("add", {"a": 2, "b": 3})]
    assert calls[0].tool_id.startswith("call_")  # LM Studio's id, never the tool name
    wire_tools = emulator.record.predictions[-1].config["llm.prediction.tools"]
    assert [t["function"]["name"] for t in wire_tools["tools"]] == ["add", "multiply"]


async def test_achat_with_tools(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("multiply", {"a": 4, "b": 5}))
    response = await llm.achat_with_tools(TOOLS, user_msg="What is 4 times 5?")
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("multiply", {"a": 4, "b": 5})]


def test_the_default_engine_calls_a_matching_tool(llm: LMStudio) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg="Please add 2 and 3")
    calls = llm.get_tool_calls_from_response(response)
    assert [c.tool_name for c in calls] == ["add"]


@pytest.mark.parametrize(
    ("tool_required", "tool_choice", "expected"),
    [
        (True, None, {"type": "generic", "mode": "required"}),
        (False, None, {"type": "generic", "mode": "auto"}),
        (False, "none", {"type": "generic", "mode": "none"}),
        (False, "multiply", {"type": "generic", "mode": "required"}),
    ],
    ids=["required", "auto", "none", "named tool"],
)
def test_tool_choice_reaches_lm_studio(
    llm: LMStudio,
    emulator: EmulatorThread,
    tool_required: bool,
    tool_choice: str | None,
    expected: dict[str, str] | None,
) -> None:
    script_calls(emulator, ("multiply", {"a": 1, "b": 2}))
    llm.chat_with_tools(
        TOOLS, user_msg="Compute", tool_required=tool_required, tool_choice=tool_choice
    )
    config = emulator.record.predictions[-1].config
    assert config.get("llm.prediction.toolChoice") == expected
    if tool_choice == "multiply":  # LM Studio cannot force one tool: only that one is sent
        names = [t["function"]["name"] for t in config["llm.prediction.tools"]["tools"]]
        assert names == ["multiply"]


def test_parallel_calls_get_unique_ids(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4}))
    response = llm.chat_with_tools(
        TOOLS, user_msg="Add 1 and 2, and add 3 and 4", allow_parallel_tool_calls=True
    )
    calls = llm.get_tool_calls_from_response(response)
    assert [c.tool_kwargs for c in calls] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert len({c.tool_id for c in calls}) == 2
    assert llm.get_tool_calls_from_response(response) == calls  # stable


def test_parallel_calls_trimmed_unless_allowed(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4}))
    response = llm.chat_with_tools(TOOLS, user_msg="Add 1 and 2, and add 3 and 4")
    calls = llm.get_tool_calls_from_response(response)
    assert [c.tool_kwargs for c in calls] == [{"a": 1, "b": 2}]


def test_no_tool_call(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("No tool needed.")
    response = llm.chat_with_tools(TOOLS, user_msg="Hello")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="0 tool calls"):
        llm.get_tool_calls_from_response(response)


def test_stream_chat_with_tools(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 2, "b": 3}))
    chunks = list(llm.stream_chat_with_tools(TOOLS, user_msg="What is 2 plus 3?"))
    partial = [llm.get_tool_calls_from_response(c, error_on_no_tool_call=False) for c in chunks]
    with_calls = [calls for calls in partial if calls]
    assert len(with_calls) > 1  # the call shows up before it is complete
    ids = {calls[0].tool_id for calls in with_calls}
    assert len(ids) == 1  # one id from start to end
    assert with_calls[-1][0].tool_kwargs == {"a": 2, "b": 3}


async def test_astream_chat_with_tools(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 2, "b": 3}))
    stream = await llm.astream_chat_with_tools(TOOLS, user_msg="What is 2 plus 3?")
    chunks = [chunk async for chunk in stream]
    calls = llm.get_tool_calls_from_response(chunks[-1])
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("add", {"a": 2, "b": 3})]


def test_tool_round_trip_history(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("add", {"a": 2, "b": 3}))
    first = llm.chat_with_tools(TOOLS, user_msg="What is 2 plus 3?")
    call = llm.get_tool_calls_from_response(first)[0]
    history = [
        ChatMessage(role=MessageRole.USER, content="What is 2 plus 3?"),
        first.message,
        ChatMessage(
            role=MessageRole.TOOL, content="5", additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    emulator.engine.script_reply("2 plus 3 is 5.")
    final = llm.chat_with_tools(TOOLS, chat_history=history)
    assert final.message.content == "2 plus 3 is 5."
    sent = emulator.record.predictions[-1].history
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    request = next(p for p in sent[1]["content"] if p["type"] == "toolCallRequest")
    assert request["toolCallRequest"]["id"] == call.tool_id
    assert sent[2]["content"][0]["toolCallId"] == call.tool_id
    assert not any(isinstance(b, ToolCallBlock) for b in final.message.blocks)


def test_predict_and_call(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("multiply", {"a": 6, "b": 7}))
    output = llm.predict_and_call(TOOLS, user_msg="What is 6 times 7?")
    assert output.response == "42"


async def test_apredict_and_call(llm: LMStudio, emulator: EmulatorThread) -> None:
    script_calls(emulator, ("multiply", {"a": 6, "b": 7}))
    output = await llm.apredict_and_call(TOOLS, user_msg="What is 6 times 7?")
    assert output.response == "42"
