"""``LMStudio`` chat and completion, sync and async, against the LM Studio emulator."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llamaindex_models import CHAT_MODEL, EMBEDDING_MODEL, REASONING_MODEL, VISION_MODEL
from lmstudio_core import AuthenticationError, Client, ContextOverflowError, Timeouts
from lmstudio_core.emulator import ScriptedTurn

from lmstudio_integrations.llamaindex import LMStudio, LMStudioEmbedding
from lmstudio_integrations.llamaindex.llms import DEFAULT_CONTEXT_WINDOW_FRACTION

if TYPE_CHECKING:
    from lmstudio_core.emulator import EmulatorThread

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HELLO = [ChatMessage(role=MessageRole.USER, content="Say hello")]


def test_is_a_function_calling_llm() -> None:
    assert issubclass(LMStudio, FunctionCallingLLM)
    assert LMStudio.class_name() == "LMStudio_llm"


def test_constructor_does_no_io() -> None:
    llm = LMStudio(model_name="m", base_url="http://127.0.0.1:9", api_token=None)
    assert llm.to_payload()["model_name"] == "m"  # observability needs no server either
    assert "api_token" not in llm.to_dict()
    llm.close()


def test_api_token_is_not_serialised() -> None:
    llm = LMStudio(model_name="m", api_token="sk-lm-abcDEF78:abcDEF7890abcDEF7890")
    assert "sk-lm" not in repr(llm)
    assert "sk-lm" not in str(llm.to_dict())
    assert "sk-lm" not in str(llm.to_payload())


def _resolutions(emulator: EmulatorThread) -> list[str]:
    """The requests that find or load a model."""
    return [
        r.endpoint for r in emulator.record.requests if r.endpoint in ("getOrLoad", "loadModel")
    ]


def test_metadata_comes_from_the_server_once_known(emulator: EmulatorThread) -> None:
    emulator.load_model(REASONING_MODEL, context_length=8192)
    llm = LMStudio(model_name=REASONING_MODEL, base_url=emulator.base_url, max_tokens=100)
    try:
        before = llm.metadata  # asks nobody: LlamaIndex's default window
        assert _resolutions(emulator) == []
        llm.chat(HELLO)
        metadata = llm.metadata
    finally:
        llm.close()
    assert before.context_window == 3900 // 2
    assert metadata.context_window == 8192 // 2  # DEFAULT_CONTEXT_WINDOW_FRACTION
    assert metadata.is_function_calling_model is True
    assert metadata.is_chat_model is True
    assert metadata.model_name == REASONING_MODEL
    assert metadata.num_output == 100
    assert DEFAULT_CONTEXT_WINDOW_FRACTION == 0.5


def test_metadata_context_window_fraction(emulator: EmulatorThread) -> None:
    emulator.load_model(REASONING_MODEL, context_length=8192)
    llm = LMStudio(
        model_name=REASONING_MODEL, base_url=emulator.base_url, context_window_fraction=1.0
    )
    try:
        llm.chat(HELLO)
        assert llm.metadata.context_window == 8192
    finally:
        llm.close()
    with pytest.raises(ValueError, match="context_window_fraction"):
        LMStudio(model_name="m", context_window_fraction=1.5)


def test_every_model_may_call_tools_unless_told_otherwise(emulator: EmulatorThread) -> None:
    """LM Studio offers tools to models not trained for tool use too (with its default
    tool-use prompt); the flag does not change once the model is known."""
    llm = LMStudio(model_name=VISION_MODEL, base_url=emulator.base_url)
    try:
        assert llm.metadata.is_function_calling_model is True
        llm.chat(HELLO)
        assert llm.metadata.is_function_calling_model is True
    finally:
        llm.close()
    react = LMStudio(model_name=VISION_MODEL, is_function_calling_model=False)
    assert react.metadata.is_function_calling_model is False


def test_explicit_metadata_needs_no_server() -> None:
    llm = LMStudio(
        model_name="m",
        base_url="http://127.0.0.1:9",
        context_window=2048,
        is_function_calling_model=True,
    )
    assert llm.metadata.context_window == 2048  # as given, no fraction
    assert llm.metadata.is_function_calling_model is True


def test_load_config_and_ttl_apply_when_loading(emulator: EmulatorThread) -> None:
    llm = LMStudio(
        model_name=REASONING_MODEL,
        base_url=emulator.base_url,
        load_config={"context_length": 2048},
        ttl=120,
    )
    try:
        assert llm.metadata.context_window == 1024  # of the context it will be loaded with
        assert _resolutions(emulator) == []
        llm.chat(HELLO)
        assert llm.metadata.context_window == 1024
    finally:
        llm.close()
    request = next(r for r in emulator.record.requests if r.endpoint == "getOrLoad")
    assert request.parameter["loadTtlMs"] == 120_000


@pytest.mark.parametrize(
    ("ttl", "sent"), [(None, None), (..., 3_600_000)], ids=["until unloaded", "default"]
)
def test_ttl(emulator: EmulatorThread, ttl: Any, sent: int | None) -> None:
    options = {} if ttl is ... else {"ttl": ttl}
    llm = LMStudio(model_name=REASONING_MODEL, base_url=emulator.base_url, **options)
    try:
        llm.chat(HELLO)
    finally:
        llm.close()
    request = next(r for r in emulator.record.requests if r.endpoint == "getOrLoad")
    assert request.parameter.get("loadTtlMs") == sent


def test_serialisation_round_trip() -> None:
    llm = LMStudio(model_name="m", temperature=0.5, ttl=None, request_timeout=Timeouts(idle=5))
    copy = LMStudio.from_json(llm.to_json())
    assert (copy.model_name, copy.temperature, copy.ttl) == ("m", 0.5, None)
    assert copy.request_timeout == Timeouts(idle=5)


def test_chat(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Hello there!")
    response = llm.chat(HELLO)
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.content == "Hello there!"
    assert response.raw is not None
    assert response.raw["stop_reason"] == "eosFound"
    assert response.raw["stats"]["tokens_per_second"] is not None
    assert response.additional_kwargs["completion_tokens"] > 0
    assert response.additional_kwargs["prompt_tokens"] > 0


async def test_achat(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Hello there!")
    response = await llm.achat(HELLO)
    assert response.message.content == "Hello there!"
    assert response.additional_kwargs["completion_tokens"] > 0


def test_stream_chat(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("One two three four")
    chunks = list(llm.stream_chat(HELLO))
    assert "".join(chunk.delta or "" for chunk in chunks) == "One two three four"
    assert len(chunks) > 2
    assert chunks[-2].message.content == "One two three four"
    assert chunks[-1].message.content == "One two three four"
    assert chunks[-1].raw is not None
    assert chunks[-1].raw["usage"]["completion_tokens"] > 0


async def test_astream_chat(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("One two three four")
    chunks = [chunk async for chunk in await llm.astream_chat(HELLO)]
    assert "".join(chunk.delta or "" for chunk in chunks) == "One two three four"
    assert chunks[-1].message.content == "One two three four"
    assert chunks[-1].additional_kwargs["completion_tokens"] > 0


def test_complete(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Paris")
    response = llm.complete("The capital of France is", formatted=True)
    assert response.text == "Paris"
    assert response.additional_kwargs["completion_tokens"] > 0
    history = emulator.record.predictions[-1].history
    assert history[-1]["role"] == "user"
    assert history[-1]["content"][0]["text"] == "The capital of France is"


async def test_acomplete(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Paris")
    response = await llm.acomplete("The capital of France is")
    assert response.text == "Paris"


def test_stream_complete(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Paris is lovely")
    chunks = list(llm.stream_complete("Tell me about Paris"))
    assert "".join(chunk.delta or "" for chunk in chunks) == "Paris is lovely"
    assert chunks[-1].text == "Paris is lovely"


async def test_astream_complete(llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script_reply("Paris is lovely")
    chunks = [chunk async for chunk in await llm.astream_complete("Tell me about Paris")]
    assert "".join(chunk.delta or "" for chunk in chunks) == "Paris is lovely"
    assert chunks[-1].text == "Paris is lovely"


def test_options_reach_lm_studio(emulator: EmulatorThread) -> None:
    llm = LMStudio(
        model_name=CHAT_MODEL,
        base_url=emulator.base_url,
        temperature=0.3,
        max_tokens=50,
        additional_kwargs={"top_k": 7},
    )
    try:
        llm.chat(HELLO, seed=5, temperature=0.9)
    finally:
        llm.close()
    config = emulator.record.predictions[-1].config
    assert config["llm.prediction.temperature"] == 0.9  # per call wins
    assert config["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 50}
    assert config["llm.prediction.topKSampling"] == 7
    assert config["llm.prediction.seed"] == {"checked": True, "value": 5}


def test_unknown_option_is_refused(llm: LMStudio) -> None:
    with pytest.raises(TypeError, match="temprature"):
        llm.chat(HELLO, temprature=0.1)


def test_history_and_system_prompt_reach_lm_studio(llm: LMStudio, emulator: EmulatorThread) -> None:
    llm.chat(
        [
            ChatMessage(role=MessageRole.SYSTEM, content="You are terse."),
            ChatMessage(role=MessageRole.USER, content="Hi"),
            ChatMessage(role=MessageRole.ASSISTANT, content="Hello."),
            ChatMessage(role=MessageRole.USER, content="Bye"),
        ]
    )
    history = emulator.record.predictions[-1].history
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]
    assert history[0]["content"][0]["text"] == "You are terse."


def test_reasoning_becomes_thinking_blocks(
    reasoning_llm: LMStudio, emulator: EmulatorThread
) -> None:
    emulator.engine.script(REASONING_MODEL, ScriptedTurn(text="4", reasoning="2 plus 2 is 4"))
    response = reasoning_llm.chat([ChatMessage(content="What is 2+2?")])
    thinking = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    assert [b.content for b in thinking] == ["2 plus 2 is 4"]
    assert thinking[0].num_tokens
    assert response.message.content == "4"


def test_stream_carries_thinking_deltas(reasoning_llm: LMStudio, emulator: EmulatorThread) -> None:
    emulator.engine.script(REASONING_MODEL, ScriptedTurn(text="4", reasoning="2 plus 2 is 4"))
    chunks = list(reasoning_llm.stream_chat([ChatMessage(content="What is 2+2?")]))
    thinking = "".join(c.additional_kwargs.get("thinking_delta") or "" for c in chunks)
    assert thinking == "2 plus 2 is 4"
    assert "".join(c.delta or "" for c in chunks) == "4"


async def test_astream_carries_thinking_deltas(
    reasoning_llm: LMStudio, emulator: EmulatorThread
) -> None:
    emulator.engine.script(REASONING_MODEL, ScriptedTurn(text="4", reasoning="2 plus 2 is 4"))
    stream = await reasoning_llm.astream_chat([ChatMessage(content="What is 2+2?")])
    chunks = [chunk async for chunk in stream]
    thinking = "".join(c.additional_kwargs.get("thinking_delta") or "" for c in chunks)
    assert thinking == "2 plus 2 is 4"
    last = chunks[-1].message.blocks[0]
    assert isinstance(last, ThinkingBlock)


def test_thinking_option(emulator: EmulatorThread) -> None:
    llm = LMStudio(
        model_name=REASONING_MODEL, base_url=emulator.base_url, thinking=False, reasoning_budget=64
    )
    try:
        llm.chat(HELLO)
    finally:
        llm.close()
    config = emulator.record.predictions[-1].config
    assert config["llm.prediction.reasoning.enableThinking"] is False
    assert config["llm.prediction.reasoning.budgetTokens"] == {"checked": True, "value": 64}


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_image_blocks_are_uploaded(emulator: EmulatorThread, asynchronous: bool) -> None:
    llm = LMStudio(model_name=VISION_MODEL, base_url=emulator.base_url)
    message = ChatMessage(blocks=[TextBlock(text="What is this?"), ImageBlock(image=PNG)])
    try:
        response = asyncio.run(llm.achat([message])) if asynchronous else llm.chat([message])
    finally:
        llm.close()
    assert response.message.content
    content = emulator.record.predictions[-1].history[-1]["content"]
    assert [part["type"] for part in content] == ["text", "file"]
    uploads = [r for r in emulator.record.requests if r.endpoint == "uploadFileBase64"]
    assert base64.b64decode(uploads[0].parameter["contentBase64"]) == PNG


def test_images_need_a_vision_model(llm: LMStudio) -> None:
    message = ChatMessage(blocks=[TextBlock(text="What is this?"), ImageBlock(image=PNG)])
    with pytest.raises(Exception, match="does not support images"):
        llm.chat([message])


def test_the_model_is_loaded_again_after_an_unload(llm: LMStudio, emulator: EmulatorThread) -> None:
    llm.chat(HELLO)
    assert emulator.unload_model(CHAT_MODEL)
    emulator.engine.script_reply("Back again")
    assert llm.chat(HELLO).message.content == "Back again"


def test_an_injected_client_is_used_and_not_closed(emulator: EmulatorThread) -> None:
    with Client(emulator.base_url) as client:
        llm = LMStudio(model_name=CHAT_MODEL, client=client)  # no base_url needed
        emulator.engine.script_reply("Injected")
        assert llm.chat(HELLO).message.content == "Injected"
        llm.close()
        assert not client.closed


def test_one_async_client_per_event_loop(llm: LMStudio, emulator: EmulatorThread) -> None:
    async def ask() -> str:
        return (await llm.achat(HELLO)).message.content or ""

    assert asyncio.run(ask())
    assert asyncio.run(ask())  # a new loop: a new client, the old one closed with its loop
    clients = {r.client_identifier for r in emulator.record.requests if r.endpoint == "predict"}
    assert len(clients) == 2


async def test_aclose_closes_the_loop_client(llm: LMStudio, emulator: EmulatorThread) -> None:
    await llm.achat(HELLO)
    await llm.aclose()
    await llm.achat(HELLO)  # reconnects
    await llm.aclose()
    clients = {r.client_identifier for r in emulator.record.requests if r.endpoint == "predict"}
    assert len(clients) == 2


class _Events(BaseEventHandler):
    seen: list[BaseEvent]

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.seen.append(event)


@pytest.fixture
def events() -> Any:
    handler = _Events(seen=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    yield handler.seen
    dispatcher.event_handlers.remove(handler)


def test_instrumentation_events(llm: LMStudio, events: list[BaseEvent]) -> None:
    list(llm.stream_chat(HELLO))
    llm.complete("Hi")
    kinds = [type(event) for event in events]
    assert kinds[0] is LLMChatStartEvent
    assert LLMChatInProgressEvent in kinds
    assert LLMCompletionStartEvent in kinds
    assert LLMCompletionEndEvent in kinds
    end = next(e for e in events if isinstance(e, LLMChatEndEvent))
    assert isinstance(end.response, ChatResponse)
    start = next(e for e in events if isinstance(e, LLMChatStartEvent))
    assert start.model_dict["model_name"] == CHAT_MODEL


async def test_token_counting_callback_reads_lm_studio_usage(emulator: EmulatorThread) -> None:
    counter = TokenCountingHandler()
    llm = LMStudio(
        model_name=CHAT_MODEL,
        base_url=emulator.base_url,
        callback_manager=CallbackManager([counter]),
    )
    response = await llm.achat(HELLO)
    await llm.aclose()
    assert counter.completion_llm_token_count == response.additional_kwargs["completion_tokens"]
    assert counter.prompt_llm_token_count == response.additional_kwargs["prompt_tokens"]


async def _call(llm: LMStudio, method: str) -> Any:
    """Call ``method`` with a prompt (or HELLO) and read it to the end; the last response."""
    prompt: Any = HELLO if "chat" in method else "Say hello"
    if method.startswith("a"):
        result = await getattr(llm, method)(prompt)
        if "stream" not in method:
            return result
        return [r async for r in result][-1]
    result = await asyncio.to_thread(getattr(llm, method), prompt)
    return list(result)[-1] if "stream" in method else result


@pytest.mark.parametrize(
    "method",
    [
        "complete",
        "stream_complete",
        "acomplete",
        "astream_complete",
        "chat",
        "stream_chat",
        "achat",
        "astream_chat",
    ],
)
async def test_each_call_is_counted_once(emulator: EmulatorThread, method: str) -> None:
    """As in LlamaIndex's token counting docs, with the handler on the LLM's manager."""
    counter = TokenCountingHandler()
    llm = LMStudio(
        model_name=CHAT_MODEL,
        base_url=emulator.base_url,
        callback_manager=CallbackManager([counter]),
    )
    try:
        response = await _call(llm, method)
        usage = response.raw["usage"]
        assert len(counter.llm_token_counts) == 1
        assert counter.prompt_llm_token_count == usage["prompt_tokens"]
        assert counter.completion_llm_token_count == usage["completion_tokens"]
        assert counter.total_llm_token_count == usage["total_tokens"]
    finally:
        llm.close()
        await llm.aclose()


TOKEN = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"
WRONG_TOKEN = "sk-lm-abcDEF78:zzzzzzzzzzzzzzzzzzzz"


def _check_token_advice(error: AuthenticationError) -> None:
    """The message names LlamaIndex's parameter and keeps LM Studio's reason."""
    message = str(error)
    assert error.reason
    assert error.reason in message
    assert "api_token=..." in message
    assert "LM_API_TOKEN" in message
    assert "LMSTUDIO_API_TOKEN" in message  # both variables the adapter reads
    assert "api_key" not in message
    assert ".." not in message.replace("api_token=...", "")


@pytest.mark.parametrize("token", [WRONG_TOKEN, None], ids=["wrong token", "no token"])
async def test_authentication_errors_name_api_token(
    lmstudio_emulator_factory: Any, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.delenv("LM_API_TOKEN", raising=False)
    monkeypatch.delenv("LMSTUDIO_API_TOKEN", raising=False)
    with lmstudio_emulator_factory(api_tokens=[TOKEN]) as emu:
        llm = LMStudio(model_name=CHAT_MODEL, base_url=emu.base_url, api_token=token)
        embed = LMStudioEmbedding(
            model_name=EMBEDDING_MODEL, base_url=emu.base_url, api_token=token
        )
        try:
            with pytest.raises(AuthenticationError) as caught:
                await asyncio.to_thread(llm.complete, "hi")
            _check_token_advice(caught.value)
            with pytest.raises(AuthenticationError) as caught:
                await llm.achat(HELLO)
            _check_token_advice(caught.value)
            with pytest.raises(AuthenticationError) as caught:
                [r async for r in await llm.astream_chat(HELLO)]
            _check_token_advice(caught.value)
            with pytest.raises(AuthenticationError) as caught:
                await asyncio.to_thread(embed.get_text_embedding, "hi")
            _check_token_advice(caught.value)
            with pytest.raises(AuthenticationError) as caught:
                await embed.aget_query_embedding("hi")
            _check_token_advice(caught.value)
            good = LMStudio(model_name=CHAT_MODEL, base_url=emu.base_url, api_token=TOKEN)
            assert (await good.acomplete("hi")).text
            await good.aclose()
        finally:
            for model in (llm, embed):
                model.close()
                await model.aclose()


def test_base_url_from_the_environment(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSTUDIO_BASE_URL", emulator.base_url)
    llm = LMStudio(model_name=CHAT_MODEL)
    try:
        emulator.engine.script_reply("From the environment")
        assert llm.chat(HELLO).message.content == "From the environment"
    finally:
        llm.close()


def test_context_overflow_is_the_core_error(llm: LMStudio) -> None:
    with pytest.raises(ContextOverflowError):
        llm.complete("word " * 5000)


async def test_context_overflow_is_the_core_error_async(llm: LMStudio) -> None:
    with pytest.raises(ContextOverflowError):
        await llm.acomplete("word " * 5000)
    await llm.aclose()


def test_thinking_blocks_reach_lm_studio_as_reasoning(
    reasoning_llm: LMStudio, emulator: EmulatorThread
) -> None:
    first = reasoning_llm.chat([ChatMessage(role=MessageRole.USER, content="2+2?")])
    assert any(isinstance(b, ThinkingBlock) for b in first.message.blocks)
    reasoning_llm.chat(
        [ChatMessage(role=MessageRole.USER, content="2+2?"), first.message, HELLO[0]]
    )
    sent = emulator.record.predictions[-1].history[1]["content"][0]["text"]
    assert sent.startswith("<think>")
    assert "</think>" in sent
