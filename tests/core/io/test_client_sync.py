# Generated from tests/core/io/test_client_async.py by scripts/unasync.py: do not edit.
"""Client against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lmstudio_core import (
    LLM,
    AuthenticationError,
    Chat,
    Client,
    ConnectError,
    DomainMismatchError,
    EmbeddingModel,
    GbnfGrammar,
    LoadProgress,
    ModelNotFoundError,
    PromptProgress,
    ReasoningFragment,
    ServerError,
    TextFragment,
    ToolCallEnded,
    ToolCallStarted,
)
from pydantic import BaseModel

from .conftest import EMBEDDING_KEY, LLM_KEY, REASONING_KEY, VISION_KEY

PNG = (Path(__file__).parent / "pixel.png").read_bytes()


class Person(BaseModel):
    name: str
    age: int


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_no_io_until_first_use(lmstudio_emulator: Any) -> None:
    with Client(lmstudio_emulator.base_url):
        pass
    assert lmstudio_emulator.record.requests == []


def test_respond(client: Client, lmstudio_emulator: Any) -> None:
    lmstudio_emulator.engine.script_reply("Hello there!")
    model = client.llm.model(LLM_KEY)
    result = model.respond("Hi", temperature=0.1, max_tokens=50)
    assert result.content == "Hello there!"
    assert result.stats.stop_reason == "eosFound"
    assert result.model_info is not None
    assert result.model_info.identifier == LLM_KEY
    config = lmstudio_emulator.record.predictions[-1].config
    assert config["llm.prediction.temperature"] == 0.1
    assert config["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 50}


def test_respond_stream_events(client: Client) -> None:
    model = client.llm.model(LLM_KEY)
    with model.respond_stream([{"role": "user", "content": "Tell me something"}]) as stream:
        events = list(stream)
        result = stream.result()
    texts = [e.text for e in events if isinstance(e, TextFragment)]
    assert "".join(texts) == result.content != ""
    assert any(isinstance(e, PromptProgress) for e in events)


def test_text_stream(client: Client) -> None:
    with client.llm.model(LLM_KEY).respond_stream("hi") as stream:
        text = "".join(list(stream.text_stream))
    assert text == stream.result().content


def test_reasoning_separated(client: Client, lmstudio_emulator: Any) -> None:
    model = client.llm.model(REASONING_KEY)
    with model.respond_stream("What is 2+2?") as stream:
        events = list(stream)
    result = stream.result()
    assert result.reasoning
    assert "<think>" not in result.content
    assert any(isinstance(e, ReasoningFragment) for e in events)


def test_complete(client: Client, lmstudio_emulator: Any) -> None:
    result = client.llm.model(LLM_KEY).complete("Once upon a time", max_tokens=5)
    assert result.content
    record = lmstudio_emulator.record.predictions[-1]
    names = [layer["layerName"] for layer in record.config_stack["layers"]]
    assert "completeModeFormatting" in names


def test_structured_output_pydantic_and_schema(client: Client) -> None:
    model = client.llm.model(LLM_KEY)
    result = model.respond("A person please", response_format=Person)
    assert isinstance(result.parsed, Person)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    result = model.respond("json", response_format=schema)
    assert isinstance(result.parsed, dict)
    assert isinstance(result.parsed["ok"], bool)


def test_gbnf(client: Client) -> None:
    result = client.llm.model(LLM_KEY).respond(
        "yes or no?", response_format=GbnfGrammar('root ::= "yes" | "no"')
    )
    assert result.content in ("yes", "no")


def test_tool_calls_returned_not_executed(client: Client, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    lmstudio_emulator.engine.script(
        None, ScriptedTurn(tool_calls=[ScriptedToolCall("add", {"a": 1, "b": 2})])
    )
    model = client.llm.model(LLM_KEY)
    with model.respond_stream("add 1 and 2", tools=[add]) as stream:
        events = list(stream)
    result = stream.result()
    (call,) = result.tool_calls
    assert call.name == "add"
    assert call.arguments == {"a": 1, "b": 2}
    assert call.id
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    ended = [e for e in events if isinstance(e, ToolCallEnded)]
    assert started[0].id == ended[0].request.id == call.id
    assert result.stats.finish_reason == "tool_calls"
    # send the result back in the history
    chat = Chat.from_history("add 1 and 2")
    chat.add_assistant_response(result)
    chat.add_tool_result(call, 3)
    final = model.respond(chat, tools=[add])
    assert final.content
    history = lmstudio_emulator.record.predictions[-1].history
    assert history[-1]["content"][0]["toolCallId"] == call.id


def test_tool_choice_named(client: Client, lmstudio_emulator: Any) -> None:
    def other(x: str) -> str:
        """Other tool."""
        return x

    model = client.llm.model(LLM_KEY)
    model.respond("hi", tools=[add, other], tool_choice="other")
    config = lmstudio_emulator.record.predictions[-1].config
    tools = config["llm.prediction.tools"]["tools"]
    assert [t["function"]["name"] for t in tools] == ["other"]


def test_act_runs_tools(client: Client, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    call = ScriptedToolCall("add_tracked", {"a": 12, "b": 30})
    lmstudio_emulator.engine.script(None, ScriptedTurn(tool_calls=[call]))
    calls: list[tuple[int, int]] = []

    def add_tracked(a: int, b: int) -> int:
        """Add two integers."""
        calls.append((a, b))
        return a + b

    model = client.llm.model(LLM_KEY)
    result = model.act("What is 12 + 30? Use the tool.", [add_tracked])
    assert calls
    assert len(result.rounds) >= 2
    assert [m.role for m in result.chat][-1] == "assistant"
    assert result.content


def test_images_uploaded(client: Client, lmstudio_emulator: Any, tmp_path: Path) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    chat = Chat()
    chat.add_user_message("What is this?", images=[path])
    result = client.llm.model(VISION_KEY).respond(chat)
    assert result.content
    assert "uploadFileBase64" in lmstudio_emulator.record.endpoints("files")
    parts = lmstudio_emulator.record.predictions[-1].history[0]["content"]
    assert [p["type"] for p in parts] == ["text", "file"]
    handle = client.files.prepare_image(PNG, "pixel.png")
    assert handle.file_type == "image"


def test_image_on_text_model_is_a_server_error(client: Client) -> None:
    chat = Chat()
    chat.add_user_message("look", images=[PNG])
    with pytest.raises(ServerError, match="images"):
        client.llm.model(LLM_KEY).respond(chat)


def test_model_management(client: Client, lmstudio_emulator: Any) -> None:
    progress: list[float] = []
    config = {"context_length": 2048}
    model = client.llm.load(
        REASONING_KEY, identifier="mine", ttl=600, progress=progress.append, config=config
    )
    assert isinstance(model, LLM)
    assert model.identifier == "mine"
    assert progress
    assert progress[-1] == 1.0
    assert model.get_context_length() == 2048
    assert model.get_load_config()["context_length"] == 2048
    assert "mine" in [m.identifier for m in client.llm.list_loaded()]
    assert client.llm.get("mine").identifier == "mine"
    assert client.llm.get({"identifier": "mine"}).info is not None
    model.unload()
    assert "mine" not in lmstudio_emulator.loaded_identifiers()
    downloaded = client.llm.list_downloaded()
    assert {m.model_key for m in downloaded} >= {LLM_KEY, REASONING_KEY}
    assert all(m.type == "llm" for m in downloaded)


def test_load_stream(client: Client) -> None:
    with client.llm.load_stream(REASONING_KEY) as stream:
        events = list(stream)
        model = stream.result()
    assert all(isinstance(e, LoadProgress) for e in events)
    assert model.identifier.startswith(REASONING_KEY)


def test_model_without_key_returns_a_loaded_model(client: Client) -> None:
    assert client.llm.model().identifier == LLM_KEY
    assert client.embedding.model().identifier == EMBEDDING_KEY


def test_model_not_found_errors(client: Client) -> None:
    with pytest.raises(ModelNotFoundError, match="not-a-model"):
        client.llm.model("not-a-model")
    with pytest.raises(ModelNotFoundError):
        client.llm.get("nope")
    with pytest.raises(ModelNotFoundError):
        client.llm.load("not-a-model")
    with pytest.raises(ModelNotFoundError):
        client.llm.unload("nope")


def test_domain_mismatch(client: Client) -> None:
    with pytest.raises(DomainMismatchError):
        client.llm.load(EMBEDDING_KEY)


def test_handle_rpcs(client: Client) -> None:
    model = client.llm.model(LLM_KEY)
    tokens = model.tokenize("hello world")
    assert tokens
    assert all(isinstance(t, int) for t in tokens)
    assert model.count_tokens("hello world") == len(tokens)
    pair = [model.tokenize("a b"), model.tokenize("c")]
    assert model.tokenize(["a b", "c"]) == pair
    assert model.get_info().identifier == LLM_KEY
    assert model.get_context_length() == 4096
    formatted = model.apply_prompt_template([{"role": "user", "content": "hi"}])
    assert "hi" in formatted


def test_embedding(client: Client, lmstudio_emulator: Any) -> None:
    model = client.embedding.model(EMBEDDING_KEY)
    assert isinstance(model, EmbeddingModel)
    vector = model.embed("hello")
    assert len(vector) == 768
    texts = [f"text {i}" for i in range(50)]
    vectors = model.embed(texts)
    assert len(vectors) == 50
    assert vectors[3] == model.embed("text 3")
    assert model.embed([]) == []
    assert model.count_tokens("a b c") > 0
    assert model.get_context_length() == 2048


def test_embedding_requests_are_pipelined(client: Client, lmstudio_emulator: Any) -> None:
    from lmstudio_core.config import EMBEDDING_WINDOW

    lmstudio_emulator.faults.delay("embedString", 0.05)
    model = client.embedding.model(EMBEDDING_KEY)
    import time

    start = time.monotonic()
    model.embed([f"t{i}" for i in range(EMBEDDING_WINDOW * 2)])
    elapsed = time.monotonic() - start
    # one at a time this would take >= 32 * 0.05 s
    assert elapsed < EMBEDDING_WINDOW * 2 * 0.05 / 2


def test_system(client: Client, lmstudio_emulator: Any) -> None:
    assert client.system.version().version
    client.system.notify("Done", "all good")
    assert lmstudio_emulator.record.notifications[-1].title == "Done"
    kinds = {m.type for m in client.system.list_downloaded_models()}
    assert kinds == {"llm", "embedding"}


def test_api_token(lmstudio_emulator_factory: Any) -> None:
    token = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"
    with lmstudio_emulator_factory(api_tokens=[token]) as emu:
        with Client(emu.base_url, api_token=token) as good:
            assert good.system.version()
        bad = "sk-lm-abcDEF78:zzzzzzzzzzzzzzzzzzzz"
        with Client(emu.base_url, api_token=bad) as client:
            with pytest.raises(AuthenticationError):
                client.system.version()


def test_connect_error(unused_port: int) -> None:
    with Client(f"localhost:{unused_port}", max_retries=0) as client:
        with pytest.raises(ConnectError, match="Is LM Studio running"):
            client.system.version()


def test_closed_client(lmstudio_emulator: Any) -> None:
    client = Client(lmstudio_emulator.base_url)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.system.version()


def test_invalid_arguments_fail_before_io(client: Client, lmstudio_emulator: Any) -> None:
    model = client.llm.model(LLM_KEY)
    before = len(lmstudio_emulator.record.requests)
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        model.respond("hi", temprature=0.5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not a JSON schema"):
        model.respond("hi", response_format={"foo": "bar"})
    with pytest.raises(ValueError, match="top_p"):
        model.respond_stream("hi", top_p=3)
    assert len(lmstudio_emulator.record.requests) == before
    with pytest.raises(ValueError, match="base_url"):
        Client("ftp://x")
    with pytest.raises(ValueError, match="malformed"):
        Client("localhost:1", api_token="nope")
