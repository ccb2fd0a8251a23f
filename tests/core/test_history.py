from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from lmstudio_core import Chat, ChatMessage, FileHandle, ToolCallRequest
from lmstudio_core.history import ImageData, image_data

PNG = b"\x89PNG\r\n\x1a\nfake"
HANDLE = FileHandle("a.png", "123 - 1.png", 10, "image")


def wire(history: object) -> list[dict[str, object]]:
    return Chat.from_history(history).to_wire()["messages"]  # type: ignore[arg-type,no-any-return]


def test_prompt_string() -> None:
    assert wire("hi") == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_openai_style_dicts() -> None:
    messages = wire(
        [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "add 1 and 2"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "3"},
            {"role": "tool", "tool_call_id": "c2", "content": {"x": 1}},
        ]
    )
    assert messages[0] == {"role": "system", "content": [{"type": "text", "text": "be brief"}]}
    assert messages[2]["content"] == [
        {"type": "text", "text": ""},
        {
            "type": "toolCallRequest",
            "toolCallRequest": {
                "type": "function",
                "id": "c1",
                "name": "add",
                "arguments": {"a": 1, "b": 2},
            },
        },
    ]
    # consecutive tool results become one tool message
    assert messages[3] == {
        "role": "tool",
        "content": [
            {"type": "toolCallResult", "content": "3", "toolCallId": "c1"},
            {"type": "toolCallResult", "content": '{"x": 1}', "toolCallId": "c2"},
        ],
    }
    assert len(messages) == 4


def test_langchain_style_tool_calls_and_tuples() -> None:
    messages = wire(
        [
            ("human", "hi"),
            {"role": "ai", "content": "", "tool_calls": [{"id": "x", "name": "f", "args": {}}]},
        ]
    )
    assert messages[0]["role"] == "user"
    assert messages[1]["content"][1]["toolCallRequest"]["name"] == "f"  # type: ignore[index]


def test_native_lmstudio_messages_round_trip() -> None:
    native = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "q"}, HANDLE.to_wire()]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "a"},
                    {
                        "type": "toolCallRequest",
                        "toolCallRequest": {"type": "function", "id": "i", "name": "n",
                                            "arguments": {}},
                    },
                ],
            },
            {"role": "tool", "content": [{"type": "toolCallResult", "content": "r",
                                          "toolCallId": "i"}]},
        ]
    }  # fmt: skip
    assert Chat.from_history(native).to_wire() == native


def test_missing_role_and_unknown_role() -> None:
    with pytest.raises(ValueError, match="no 'role'"):
        Chat.from_history([{"content": "x"}])
    with pytest.raises(ValueError, match="unknown message role"):
        Chat.from_history([{"role": "robot", "content": "x"}])
    with pytest.raises(ValueError, match="tool_call_id"):
        Chat.from_history([{"role": "tool", "content": "x"}])
    with pytest.raises(TypeError):
        Chat.from_history(42)  # type: ignore[arg-type]


def test_builder_methods() -> None:
    chat = Chat("sys")
    chat.add_user_message("hello")
    request = ToolCallRequest("id1", "f", {"a": 1})
    chat.add_assistant_response("", [request])
    chat.add_tool_result(request, {"ok": True})
    assert [m.role for m in chat] == ["system", "user", "assistant", "tool"]
    assert chat.messages[-1] == ChatMessage("tool", '{"ok": true}', tool_call_id="id1", name="f")
    copy = chat.copy()
    copy.add_user_message("more")
    assert len(chat) == 4
    assert len(copy) == 5


@pytest.mark.parametrize("kind", ["bytes", "path", "file", "data_uri", "pathlike"])
def test_image_sources(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    source: object = {
        "bytes": PNG,
        "path": str(path),
        "pathlike": path,
        "file": io.BytesIO(PNG),
        "data_uri": "data:image/png;base64," + base64.b64encode(PNG).decode(),
    }[kind]
    data = image_data(source)  # type: ignore[arg-type]
    assert isinstance(data, ImageData)
    assert data.content == PNG


def test_image_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        image_data(str(tmp_path / "missing.png"))
    with pytest.raises(ValueError, match="cannot fetch"):
        image_data("https://example.com/a.png")
    with pytest.raises(TypeError, match="binary mode"):
        image_data(io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base64"):
        image_data("data:image/png,abc")


def test_pending_images_are_deduplicated_and_resolved() -> None:
    chat = Chat()
    chat.add_user_message("look", images=[PNG, PNG, HANDLE])
    pending = chat.pending_images()
    assert len(pending) == 1
    with pytest.raises(RuntimeError, match="not uploaded"):
        chat.to_wire()
    uploaded = FileHandle("x.png", "id-1", 4)
    content = chat.to_wire({pending[0].key: uploaded})["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "file", "file", "file"]
    assert chat.with_uploads({pending[0].key: uploaded}).pending_images() == []


def test_openai_image_url_part() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    chat = Chat.from_history(
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}}]}]
    )
    assert len(chat.pending_images()) == 1


def test_assistant_reasoning_goes_in_think_tags_before_the_answer() -> None:
    chat = Chat.from_history(
        [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning_content": "2 plus 2"},
            ChatMessage("assistant", "5", reasoning="again"),
        ]
    )
    assert chat.messages[1].reasoning == "2 plus 2"
    wire = chat.to_wire()["messages"]
    assert wire[1]["content"] == [{"type": "text", "text": "<think>2 plus 2</think>4"}]
    assert wire[2]["content"] == [{"type": "text", "text": "<think>again</think>5"}]
    assert chat.copy().messages[2].reasoning == "again"


def test_reasoning_with_tool_calls_and_without_answer_text() -> None:
    chat = Chat()
    call = ToolCallRequest("call_1", "add", {"a": 1})
    chat.add_assistant_response("", [call], reasoning="need a tool")
    content = chat.to_wire()["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "<think>need a tool</think>"}
    assert content[1]["type"] == "toolCallRequest"


def test_reasoning_of_a_prediction_result_is_kept() -> None:
    from lmstudio_core import PredictionResult, PredictionStats

    result = PredictionResult(content="4", reasoning="sum", stats=PredictionStats())
    message = Chat().add_assistant_response(result)
    assert (message.content, message.reasoning) == ("4", "sum")


def test_only_assistant_messages_carry_reasoning() -> None:
    with pytest.raises(ValueError, match="assistant"):
        Chat.from_history([{"role": "user", "content": "q", "reasoning_content": "x"}])
    with pytest.raises(ValueError, match="assistant"):
        ChatMessage("user", "q", reasoning="x")
