from __future__ import annotations

import pytest
from lmstudio_core import Chat, PredictionResult, PredictionStats, Tool, ToolCallRequest
from lmstudio_core.act import ActLoop
from lmstudio_core.tools import to_tool


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def round_result(*calls: ToolCallRequest, text: str = "") -> PredictionResult:
    stop = "toolCalls" if calls else "eosFound"
    return PredictionResult(text, tool_calls=list(calls), stats=PredictionStats(stop))


def test_loop_runs_tools_until_answer() -> None:
    loop = ActLoop(Chat.from_history("2+3?"), [to_tool(add)], max_rounds=None)
    chat, tools = loop.next_round()
    assert tools
    assert len(chat) == 1
    invocations = loop.finish_round(round_result(ToolCallRequest("c1", "add", {"a": 2, "b": "3"})))
    assert len(invocations) == 1
    assert invocations[0].arguments == {"a": 2, "b": 3}
    loop.record(invocations[0], invocations[0].function(**invocations[0].arguments))  # type: ignore[misc]
    assert not loop.done
    assert loop.finish_round(round_result(text="5")) == []
    assert loop.done
    result = loop.result()
    assert result.content == "5"
    assert len(result.rounds) == 2
    assert [m.role for m in result.chat] == ["user", "assistant", "tool", "assistant"]
    assert result.chat.messages[2].content == "5"
    assert result.chat.messages[2].tool_call_id == "c1"


def test_bad_calls_are_reported_to_the_model() -> None:
    loop = ActLoop(Chat.from_history("x"), [to_tool(add)], max_rounds=None)
    unknown, invalid = loop.finish_round(
        round_result(ToolCallRequest("u", "nope", {}), ToolCallRequest("i", "add", {"a": "x"}))
    )
    assert unknown.error is not None
    assert "no tool named 'nope'" in unknown.error
    assert invalid.error is not None
    assert "invalid arguments" in invalid.error
    loop.record(unknown)
    loop.record(invalid)
    errors = [m.content for m in loop.chat if m.role == "tool"]
    assert errors[0].startswith("Error: there is no tool")
    assert errors[1].startswith("Error:")


def test_tool_exception_reported() -> None:
    loop = ActLoop(Chat.from_history("x"), [to_tool(add)], max_rounds=None)
    (inv,) = loop.finish_round(round_result(ToolCallRequest("c", "add", {"a": 1, "b": 2})))
    loop.record(inv, error=ZeroDivisionError("boom"))
    assert "ZeroDivisionError: boom" in loop.chat.messages[-1].content


def test_last_round_withdraws_tools() -> None:
    loop = ActLoop(Chat.from_history("x"), [to_tool(add)], max_rounds=2)
    assert loop.next_round()[1]
    loop.finish_round(round_result(ToolCallRequest("c", "add", {"a": 1, "b": 2})))
    assert loop.next_round()[1] == []


def test_unimplemented_tool_stops_the_loop() -> None:
    loop = ActLoop(Chat.from_history("x"), [Tool("ext")], max_rounds=None)
    assert loop.finish_round(round_result(ToolCallRequest("c", "ext", {}))) == []
    assert loop.done
    assert loop.result().result.tool_calls[0].name == "ext"


def test_arguments_validated() -> None:
    with pytest.raises(ValueError, match="max_rounds"):
        ActLoop(Chat(), [to_tool(add)], max_rounds=0)
    with pytest.raises(ValueError, match="at least one tool"):
        ActLoop(Chat(), [], max_rounds=None)
