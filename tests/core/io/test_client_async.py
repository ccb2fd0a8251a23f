"""AsyncClient against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lmstudio_core import (
    AsyncClient,
    AsyncEmbeddingModel,
    AsyncLLM,
    AuthenticationError,
    Chat,
    ConnectError,
    DomainMismatchError,
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


async def test_no_io_until_first_use(lmstudio_emulator: Any) -> None:
    async with AsyncClient(lmstudio_emulator.base_url):
        pass
    assert lmstudio_emulator.record.requests == []


async def test_respond(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    lmstudio_emulator.engine.script_reply("Hello there!")
    model = await aclient.llm.model(LLM_KEY)
    result = await model.respond("Hi", temperature=0.1, max_tokens=50)
    assert result.content == "Hello there!"
    assert result.stats.stop_reason == "eosFound"
    assert result.model_info is not None
    assert result.model_info.identifier == LLM_KEY
    config = lmstudio_emulator.record.predictions[-1].config
    assert config["llm.prediction.temperature"] == 0.1
    assert config["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 50}


async def test_respond_stream_events(aclient: AsyncClient) -> None:
    model = await aclient.llm.model(LLM_KEY)
    async with model.respond_stream([{"role": "user", "content": "Tell me something"}]) as stream:
        events = [event async for event in stream]
        result = await stream.result()
    texts = [e.text for e in events if isinstance(e, TextFragment)]
    assert "".join(texts) == result.content != ""
    assert any(isinstance(e, PromptProgress) for e in events)


async def test_text_stream(aclient: AsyncClient) -> None:
    async with (await aclient.llm.model(LLM_KEY)).respond_stream("hi") as stream:
        text = "".join([text async for text in stream.text_stream])
    assert text == (await stream.result()).content


async def test_reasoning_separated(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    model = await aclient.llm.model(REASONING_KEY)
    async with model.respond_stream("What is 2+2?") as stream:
        events = [event async for event in stream]
    result = await stream.result()
    assert result.reasoning
    assert "<think>" not in result.content
    assert any(isinstance(e, ReasoningFragment) for e in events)


async def test_complete(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    result = await (await aclient.llm.model(LLM_KEY)).complete("Once upon a time", max_tokens=5)
    assert result.content
    record = lmstudio_emulator.record.predictions[-1]
    names = [layer["layerName"] for layer in record.config_stack["layers"]]
    assert "completeModeFormatting" in names


async def test_structured_output_pydantic_and_schema(aclient: AsyncClient) -> None:
    model = await aclient.llm.model(LLM_KEY)
    result = await model.respond("A person please", response_format=Person)
    assert isinstance(result.parsed, Person)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    result = await model.respond("json", response_format=schema)
    assert isinstance(result.parsed, dict)
    assert isinstance(result.parsed["ok"], bool)


async def test_gbnf(aclient: AsyncClient) -> None:
    result = await (await aclient.llm.model(LLM_KEY)).respond(
        "yes or no?", response_format=GbnfGrammar('root ::= "yes" | "no"')
    )
    assert result.content in ("yes", "no")


async def test_tool_calls_returned_not_executed(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    lmstudio_emulator.engine.script(
        None, ScriptedTurn(tool_calls=[ScriptedToolCall("add", {"a": 1, "b": 2})])
    )
    model = await aclient.llm.model(LLM_KEY)
    async with model.respond_stream("add 1 and 2", tools=[add]) as stream:
        events = [event async for event in stream]
    result = await stream.result()
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
    final = await model.respond(chat, tools=[add])
    assert final.content
    history = lmstudio_emulator.record.predictions[-1].history
    assert history[-1]["content"][0]["toolCallId"] == call.id


async def test_tool_choice_named(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    def other(x: str) -> str:
        """Other tool."""
        return x

    model = await aclient.llm.model(LLM_KEY)
    await model.respond("hi", tools=[add, other], tool_choice="other")
    config = lmstudio_emulator.record.predictions[-1].config
    tools = config["llm.prediction.tools"]["tools"]
    assert [t["function"]["name"] for t in tools] == ["other"]


async def test_act_runs_tools(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    from lmstudio_core.emulator import ScriptedToolCall, ScriptedTurn

    call = ScriptedToolCall("add_tracked", {"a": 12, "b": 30})
    lmstudio_emulator.engine.script(None, ScriptedTurn(tool_calls=[call]))
    calls: list[tuple[int, int]] = []

    def add_tracked(a: int, b: int) -> int:
        """Add two integers."""
        calls.append((a, b))
        return a + b

    model = await aclient.llm.model(LLM_KEY)
    result = await model.act("What is 12 + 30? Use the tool.", [add_tracked])
    assert calls
    assert len(result.rounds) >= 2
    assert [m.role for m in result.chat][-1] == "assistant"
    assert result.content


async def test_images_uploaded(
    aclient: AsyncClient, lmstudio_emulator: Any, tmp_path: Path
) -> None:
    path = tmp_path / "pixel.png"
    path.write_bytes(PNG)
    chat = Chat()
    chat.add_user_message("What is this?", images=[path])
    result = await (await aclient.llm.model(VISION_KEY)).respond(chat)
    assert result.content
    assert "uploadFileBase64" in lmstudio_emulator.record.endpoints("files")
    parts = lmstudio_emulator.record.predictions[-1].history[0]["content"]
    assert [p["type"] for p in parts] == ["text", "file"]
    handle = await aclient.files.prepare_image(PNG, "pixel.png")
    assert handle.file_type == "image"


async def test_image_on_text_model_is_a_server_error(aclient: AsyncClient) -> None:
    chat = Chat()
    chat.add_user_message("look", images=[PNG])
    with pytest.raises(ServerError, match="images"):
        await (await aclient.llm.model(LLM_KEY)).respond(chat)


async def test_model_management(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    progress: list[float] = []
    config = {"context_length": 2048}
    model = await aclient.llm.load(
        REASONING_KEY, identifier="mine", ttl=600, progress=progress.append, config=config
    )
    assert isinstance(model, AsyncLLM)
    assert model.identifier == "mine"
    assert progress
    assert progress[-1] == 1.0
    assert await model.get_context_length() == 2048
    assert (await model.get_load_config())["context_length"] == 2048
    assert "mine" in [m.identifier for m in await aclient.llm.list_loaded()]
    assert (await aclient.llm.get("mine")).identifier == "mine"
    assert (await aclient.llm.get({"identifier": "mine"})).info is not None
    await model.unload()
    assert "mine" not in lmstudio_emulator.loaded_identifiers()
    downloaded = await aclient.llm.list_downloaded()
    assert {m.model_key for m in downloaded} >= {LLM_KEY, REASONING_KEY}
    assert all(m.type == "llm" for m in downloaded)


async def test_load_stream(aclient: AsyncClient) -> None:
    async with aclient.llm.load_stream(REASONING_KEY) as stream:
        events = [event async for event in stream]
        model = await stream.result()
    assert all(isinstance(e, LoadProgress) for e in events)
    assert model.identifier.startswith(REASONING_KEY)


async def test_model_without_key_returns_a_loaded_model(aclient: AsyncClient) -> None:
    assert (await aclient.llm.model()).identifier == LLM_KEY
    assert (await aclient.embedding.model()).identifier == EMBEDDING_KEY


async def test_model_not_found_errors(aclient: AsyncClient) -> None:
    with pytest.raises(ModelNotFoundError, match="not-a-model"):
        await aclient.llm.model("not-a-model")
    with pytest.raises(ModelNotFoundError):
        await aclient.llm.get("nope")
    with pytest.raises(ModelNotFoundError):
        await aclient.llm.load("not-a-model")
    with pytest.raises(ModelNotFoundError):
        await aclient.llm.unload("nope")


async def test_domain_mismatch(aclient: AsyncClient) -> None:
    with pytest.raises(DomainMismatchError):
        await aclient.llm.load(EMBEDDING_KEY)


async def test_handle_rpcs(aclient: AsyncClient) -> None:
    model = await aclient.llm.model(LLM_KEY)
    tokens = await model.tokenize("hello world")
    assert tokens
    assert all(isinstance(t, int) for t in tokens)
    assert await model.count_tokens("hello world") == len(tokens)
    pair = [await model.tokenize("a b"), await model.tokenize("c")]
    assert await model.tokenize(["a b", "c"]) == pair
    assert (await model.get_info()).identifier == LLM_KEY
    assert await model.get_context_length() == 4096
    formatted = await model.apply_prompt_template([{"role": "user", "content": "hi"}])
    assert "hi" in formatted


async def test_embedding(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    model = await aclient.embedding.model(EMBEDDING_KEY)
    assert isinstance(model, AsyncEmbeddingModel)
    vector = await model.embed("hello")
    assert len(vector) == 768
    texts = [f"text {i}" for i in range(50)]
    vectors = await model.embed(texts)
    assert len(vectors) == 50
    assert vectors[3] == await model.embed("text 3")
    assert await model.embed([]) == []
    assert await model.count_tokens("a b c") > 0
    assert await model.get_context_length() == 2048


async def test_embedding_requests_are_pipelined(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    from lmstudio_core.config import EMBEDDING_WINDOW

    lmstudio_emulator.faults.delay("embedString", 0.05)
    model = await aclient.embedding.model(EMBEDDING_KEY)
    import time

    start = time.monotonic()
    await model.embed([f"t{i}" for i in range(EMBEDDING_WINDOW * 2)])
    elapsed = time.monotonic() - start
    # one at a time this would take >= 32 * 0.05 s
    assert elapsed < EMBEDDING_WINDOW * 2 * 0.05 / 2


async def test_system(aclient: AsyncClient, lmstudio_emulator: Any) -> None:
    assert (await aclient.system.version()).version
    await aclient.system.notify("Done", "all good")
    assert lmstudio_emulator.record.notifications[-1].title == "Done"
    kinds = {m.type for m in await aclient.system.list_downloaded_models()}
    assert kinds == {"llm", "embedding"}


async def test_api_token(lmstudio_emulator_factory: Any) -> None:
    token = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"
    with lmstudio_emulator_factory(api_tokens=[token]) as emu:
        async with AsyncClient(emu.base_url, api_token=token) as good:
            assert await good.system.version()
        bad = "sk-lm-abcDEF78:zzzzzzzzzzzzzzzzzzzz"
        async with AsyncClient(emu.base_url, api_token=bad) as client:
            with pytest.raises(AuthenticationError):
                await client.system.version()


async def test_connect_error(unused_port: int) -> None:
    async with AsyncClient(f"localhost:{unused_port}", max_retries=0) as client:
        with pytest.raises(ConnectError, match="Is LM Studio running"):
            await client.system.version()


async def test_closed_client(lmstudio_emulator: Any) -> None:
    client = AsyncClient(lmstudio_emulator.base_url)
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.system.version()


async def test_invalid_arguments_fail_before_io(
    aclient: AsyncClient, lmstudio_emulator: Any
) -> None:
    model = await aclient.llm.model(LLM_KEY)
    before = len(lmstudio_emulator.record.requests)
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        await model.respond("hi", temprature=0.5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not a JSON schema"):
        await model.respond("hi", response_format={"foo": "bar"})
    with pytest.raises(ValueError, match="top_p"):
        model.respond_stream("hi", top_p=3)
    assert len(lmstudio_emulator.record.requests) == before
    with pytest.raises(ValueError, match="base_url"):
        AsyncClient("ftp://x")
    with pytest.raises(ValueError, match="malformed"):
        AsyncClient("localhost:1", api_token="nope")
