"""ChatLMStudio against the emulator: what the standard suites do not cover."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

import pytest
from langchain_core import exceptions as lc_errors
from langchain_core.load import dumpd, load
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBinding, RunnableLambda
from langchain_core.tools import tool
from langchain_models import CHAT_MODEL, EMBEDDING_MODEL, REASONING_MODEL, VISION_MODEL
from lmstudio_core import AuthenticationError as CoreAuthenticationError
from lmstudio_core import Client
from lmstudio_core import ModelNotFoundError as CoreModelNotFoundError
from lmstudio_core.emulator import EmulatorThread, ScriptedError, ScriptedToolCall, ScriptedTurn
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings, LMStudioLLM
from lmstudio_integrations.langchain.chat_models import BlockingCallWarning

# A 1x1 PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
TOKEN = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"


@tool
def get_weather(location: str) -> str:
    """Get the current weather in a location."""
    return f"It's sunny in {location}."


class Joke(BaseModel):
    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


def _slow(emu: EmulatorThread) -> None:
    emu.faults.set_tokens_per_second(20)
    emu.engine.script_reply(" ".join(["word"] * 200))


def _collect(chunks: Iterable[BaseMessage]) -> AIMessageChunk:
    """The sum of streamed chunks (bound runnables type them as messages)."""
    full: AIMessageChunk | None = None
    for chunk in chunks:
        assert isinstance(chunk, AIMessageChunk)
        full = chunk if full is None else full + chunk
    assert isinstance(full, AIMessageChunk)
    return full


def _config(emu: EmulatorThread) -> dict[str, Any]:
    return emu.record.predictions[-1].config


# -- construction and options ---------------------------------------------------------------


def test_construction_does_no_io() -> None:
    model = ChatLMStudio(model=CHAT_MODEL, base_url="http://127.0.0.1:9", max_retries=0)
    assert model._clients is None
    assert model.profile is not None
    assert model.profile["tool_calling"] is True  # what the adapter offers every model
    assert "max_input_tokens" not in model.profile  # known once LM Studio was asked


def test_misspelled_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ChatLMStudio(model=CHAT_MODEL, temprature=0.2)  # type: ignore[call-arg]


def test_options_reach_lm_studio(emu: EmulatorThread) -> None:
    model = ChatLMStudio(
        model=CHAT_MODEL,
        base_url=emu.base_url,
        temperature=0.3,
        max_tokens=50,
        top_k=5,
        top_p=0.9,
        repeat_penalty=1.2,
        seed=7,
        stop=["END"],
        extra_config={"min_p": 0.1},
    )
    model.invoke("hi")
    config = _config(emu)
    assert config["llm.prediction.temperature"] == 0.3
    assert config["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 50}
    assert config["llm.prediction.topKSampling"] == 5
    assert config["llm.prediction.topPSampling"] == {"checked": True, "value": 0.9}
    assert config["llm.prediction.repeatPenalty"] == {"checked": True, "value": 1.2}
    assert config["llm.prediction.seed"] == {"checked": True, "value": 7}
    assert config["llm.prediction.stopStrings"] == ["END"]
    assert config["llm.prediction.minPSampling"] == {"checked": True, "value": 0.1}

    model.invoke("hi", temperature=0.9, stop=["STOP"], min_p=0.2)  # per-call overrides
    config = _config(emu)
    assert config["llm.prediction.temperature"] == 0.9
    assert config["llm.prediction.stopStrings"] == ["STOP"]
    assert config["llm.prediction.minPSampling"] == {"checked": True, "value": 0.2}


def test_unknown_options_are_refused(chat: ChatLMStudio) -> None:
    with pytest.raises(TypeError, match="did you mean 'temperature'"):
        chat.invoke("hi", temprature=0.5)


def test_per_call_model_override(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    result = chat.invoke("hi", model=REASONING_MODEL)
    assert result.response_metadata["model_name"] == REASONING_MODEL
    assert emu.record.predictions[-1].model_key == REASONING_MODEL
    assert chat._get_ls_params(model=REASONING_MODEL)["ls_model_name"] == REASONING_MODEL


def test_stale_model_handles_are_resolved_again(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=REASONING_MODEL, base_url=emu.base_url)
    model.invoke("one")
    model.invoke("two", model=VISION_MODEL)  # just-in-time load evicts the first model
    assert REASONING_MODEL not in emu.loaded_identifiers("llm")
    assert model.invoke("three").response_metadata["model_name"] == REASONING_MODEL


def test_load_options(emu: EmulatorThread) -> None:
    model = ChatLMStudio(
        model=REASONING_MODEL,
        base_url=emu.base_url,
        context_length=2048,
        ttl=60,
        gpu_offload="max",
        load_config={"flash_attention": True},
    )
    model.invoke("hi")
    assert model.profile is not None
    assert model.profile["max_input_tokens"] == 2048
    with Client(emu.base_url) as client:
        info = client.llm.get(REASONING_MODEL).get_info()
        load_config = client.llm.get(REASONING_MODEL).get_load_config()
    assert info.context_length == 2048
    assert info.ttl == 60
    assert load_config["flash_attention"] is True


def test_profile_from_model_info(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=VISION_MODEL, base_url=emu.base_url)
    assert model.profile is not None
    assert "max_input_tokens" not in model.profile
    profile = model.fetch_profile()
    assert profile["image_inputs"] is True
    assert profile["tool_calling"] is False
    assert profile["max_input_tokens"] == 4096
    assert profile["structured_output"] is True
    custom = ChatLMStudio(model=VISION_MODEL, base_url=emu.base_url, profile={"name": "mine"})
    custom.invoke("hi")
    assert custom.profile == {"name": "mine"}


async def test_profile_async(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url)
    profile = await model.afetch_profile()
    await model.aclose()
    assert profile["tool_calling"] is True


def test_token_counting_uses_the_model(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    with Client(emu.base_url) as client:
        llm = client.llm.model(CHAT_MODEL)
        expected = llm.count_tokens("Hello there, how are you?")
        prompt = llm.apply_prompt_template([{"role": "user", "content": "Hello"}])
        expected_prompt = llm.count_tokens(prompt)
    assert chat.get_num_tokens("Hello there, how are you?") == expected
    assert chat.get_num_tokens_from_messages([HumanMessage("Hello")]) == expected_prompt
    with_tools = chat.get_num_tokens_from_messages([HumanMessage("Hello")], tools=[get_weather])
    assert with_tools > expected_prompt


async def test_token_counting_in_async_code(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    """The blocking counts warn in a running event loop; the async twins do not block."""
    messages = [HumanMessage("Hello")]
    expected = await asyncio.to_thread(chat.get_num_tokens, "Hello there")  # no loop there
    expected_prompt = await asyncio.to_thread(chat.get_num_tokens_from_messages, messages)
    assert await chat.aget_num_tokens("Hello there") == expected
    assert await chat.aget_num_tokens_from_messages(messages) == expected_prompt
    with_tools = await chat.aget_num_tokens_from_messages(messages, tools=[get_weather])
    assert with_tools > expected_prompt

    with pytest.warns(BlockingCallWarning, match=r"await llm\.aget_num_tokens\(") as caught:
        assert chat.get_num_tokens("Hello there") == expected
    assert caught[0].filename == __file__  # points at the caller
    assert issubclass(BlockingCallWarning, RuntimeWarning)
    with pytest.warns(BlockingCallWarning, match="aget_num_tokens_from_messages"):
        assert chat.get_num_tokens_from_messages(messages) == expected_prompt
    with pytest.warns(BlockingCallWarning, match="afetch_profile"):
        chat.fetch_profile()
    await chat.aclose()


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serialization_round_trip() -> None:
    model = ChatLMStudio(model=CHAT_MODEL, api_key=TOKEN, temperature=0.5)
    data = dumpd(model)
    assert TOKEN not in str(data)
    assert data["kwargs"]["api_key"]["id"] == ["LM_API_TOKEN"]
    loaded = load(
        data,
        allowed_objects=[ChatLMStudio],
        valid_namespaces=["lmstudio_integrations"],
        secrets_map={"LM_API_TOKEN": TOKEN},
    )
    assert isinstance(loaded, ChatLMStudio)
    assert loaded.api_key is not None
    assert loaded.api_key.get_secret_value() == TOKEN
    assert loaded.temperature == 0.5


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_bound_models_serialize_as_runnable_bindings() -> None:
    bound = ChatLMStudio(model=CHAT_MODEL).bind_tools([get_weather]).with_config(tags=["a"])
    assert isinstance(bound, RunnableBinding)
    data = dumpd(bound)
    assert data["id"] == ["langchain", "schema", "runnable", "RunnableBinding"]
    loaded = load(
        data,
        allowed_objects=[ChatLMStudio, RunnableBinding],
        valid_namespaces=["lmstudio_integrations"],
    )
    assert isinstance(loaded, RunnableBinding)
    assert isinstance(loaded.bound, ChatLMStudio)
    assert loaded.kwargs["tools"][0]["function"]["name"] == "get_weather"
    assert loaded.config["tags"] == ["a"]


# -- streaming, usage, reasoning -------------------------------------------------------------


def test_stream_usage_and_metadata(chat: ChatLMStudio) -> None:
    chunks = list(chat.stream("Write a haiku"))
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    last = chunks[-1]
    assert last.chunk_position == "last"
    metadata = last.response_metadata
    assert metadata["model_name"] == CHAT_MODEL
    assert metadata["finish_reason"] == "stop"
    assert metadata["time_to_first_token"] >= 0
    assert metadata["tokens_per_second"] > 0


def test_reasoning_is_separated(reasoning_chat: ChatLMStudio) -> None:
    result = reasoning_chat.invoke("What is 2 + 2? Think first.")
    reasoning = result.additional_kwargs["reasoning_content"]
    assert reasoning
    assert "<think>" not in result.text
    assert reasoning not in result.text
    blocks = result.content_blocks
    assert blocks[0] == {"type": "reasoning", "reasoning": reasoning}
    assert blocks[1]["type"] == "text"
    assert result.usage_metadata is not None
    assert result.usage_metadata["output_token_details"]["reasoning"] > 0

    full = _collect(reasoning_chat.stream("What is 2 + 2? Think first."))
    assert full is not None
    assert full.additional_kwargs["reasoning_content"] == reasoning
    assert full.text == result.text


def test_reasoning_as_v1_blocks(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=REASONING_MODEL, base_url=emu.base_url, output_version="v1")
    result = model.invoke("What is 2 + 2?")
    assert [block["type"] for block in result.content] == ["reasoning", "text"]  # type: ignore[index]
    full = _collect(model.bind_tools([get_weather]).stream("What is the weather in Paris?"))
    assert full is not None
    assert [block["type"] for block in full.content] == ["reasoning", "tool_call"]  # type: ignore[index]
    assert full.tool_calls[0]["args"] == {"location": "Paris"}


def test_reasoning_is_sent_back_in_history(
    emu: EmulatorThread, reasoning_chat: ChatLMStudio
) -> None:
    first = reasoning_chat.invoke("What is 2 + 2?")
    reasoning_chat.invoke([HumanMessage("What is 2 + 2?"), first, HumanMessage("And 3 + 3?")])
    assistant = emu.record.predictions[-1].history[1]
    assert assistant["role"] == "assistant"
    text = assistant["content"][0]["text"]
    assert text.startswith("<think>" + first.additional_kwargs["reasoning_content"] + "</think>")
    assert text.endswith(first.text)


def test_reasoning_can_be_switched_off(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=REASONING_MODEL, base_url=emu.base_url, reasoning=False)
    result = model.invoke("What is 2 + 2?")
    assert "reasoning_content" not in result.additional_kwargs
    assert _config(emu)["llm.prediction.reasoning.enableThinking"] is False


# -- tools ---------------------------------------------------------------------------------


def test_tool_calling_agent_loop(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    llm = chat.bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in San Francisco?")]
    for _ in range(3):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(get_weather.invoke(call))
    answer = messages[-1]
    assert isinstance(answer, AIMessage)
    assert not answer.tool_calls
    assert answer.text
    call_id = messages[1].tool_calls[0]["id"]
    assert isinstance(messages[2], ToolMessage)
    assert messages[2].tool_call_id == call_id
    history = emu.record.predictions[-1].history
    request = history[1]["content"][-1]["toolCallRequest"]
    result = history[2]["content"][0]
    assert request["id"] == call_id
    assert request["name"] == "get_weather"
    assert result == {
        "type": "toolCallResult",
        "content": messages[2].content,
        "toolCallId": call_id,
        "name": "get_weather",
    }


async def test_tool_calling_agent_loop_async_streaming(chat: ChatLMStudio) -> None:
    llm = chat.bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in Paris?")]
    full = _collect([chunk async for chunk in llm.astream(messages)])
    assert full is not None
    assert len(full.tool_calls) == 1
    messages += [full, await get_weather.ainvoke(full.tool_calls[0])]
    answer = await llm.ainvoke(messages)
    assert answer.text
    assert not answer.tool_calls


def test_tool_choice_none_and_named(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    @tool
    def magic(value: int) -> int:
        """Apply magic."""
        return value

    reply = chat.bind_tools([get_weather, magic], tool_choice="none").invoke("Weather in Paris?")
    assert not reply.tool_calls
    reply = chat.bind_tools([get_weather, magic], tool_choice="magic").invoke("Hello!")
    assert [call["name"] for call in reply.tool_calls] == ["magic"]
    config = _config(emu)
    tools = config["llm.prediction.tools"]["tools"]
    assert [t["function"]["name"] for t in tools] == ["magic"]
    assert config["llm.prediction.toolChoice"] == {"type": "generic", "mode": "required"}
    with pytest.raises(ValueError, match="names no bound tool"):
        chat.bind_tools([get_weather], tool_choice="magic")


def test_scripted_parallel_tool_calls_have_distinct_ids(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    calls = [ScriptedToolCall("get_weather", {"location": c}) for c in ("Oslo", "Rome")]
    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    chunks = [
        chunk
        for chunk in chat.bind_tools([get_weather]).stream("Weather in Oslo and Rome?")
        if isinstance(chunk, AIMessageChunk)
    ]
    full = _collect(chunks)
    assert [call["args"]["location"] for call in full.tool_calls] == ["Oslo", "Rome"]
    ids = [call["id"] for call in full.tool_calls]
    assert len(set(ids)) == 2
    assert all(ids)
    first_chunks = [c for c in chunks if c.tool_call_chunks and c.tool_call_chunks[0]["id"]]
    assert all(c.tool_call_chunks[0]["name"] == "get_weather" for c in first_chunks)


def test_parallel_tool_calls_false_keeps_the_first_call(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    """LM Studio has no switch for it: the first call is kept, the others dropped."""
    calls = [ScriptedToolCall("get_weather", {"location": c}) for c in ("Oslo", "Rome", "Bern")]
    single = chat.bind_tools([get_weather], parallel_tool_calls=False)

    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    reply = single.invoke("Weather in Oslo, Rome and Bern?")
    assert [call["args"] for call in reply.tool_calls] == [{"location": "Oslo"}]
    assert reply.response_metadata["dropped_tool_calls"] == 2
    assert "parallel_tool_calls" not in str(_config(emu))  # nothing LM Studio cannot take

    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    chunks = [c for c in single.stream("Weather in Oslo, Rome and Bern?")]
    streamed = [
        part for c in chunks if isinstance(c, AIMessageChunk) for part in c.tool_call_chunks
    ]
    assert {part["index"] for part in streamed} == {streamed[0]["index"]}
    assert [call["args"] for call in _collect(chunks).tool_calls] == [{"location": "Oslo"}]

    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    every = chat.bind_tools([get_weather], parallel_tool_calls=True).invoke("Weather?")
    assert len(every.tool_calls) == 3
    assert "dropped_tool_calls" not in every.response_metadata
    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    per_call = chat.bind_tools([get_weather]).invoke("Weather?", parallel_tool_calls=False)
    assert len(per_call.tool_calls) == 1


async def test_parallel_tool_calls_false_async(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    calls = [ScriptedToolCall("get_weather", {"location": c}) for c in ("Oslo", "Rome")]
    emu.engine.script(None, ScriptedTurn(tool_calls=calls))
    single = chat.bind_tools([get_weather], parallel_tool_calls=False)
    reply = await single.ainvoke("Weather in Oslo and Rome?")
    await chat.aclose()
    assert [call["args"] for call in reply.tool_calls] == [{"location": "Oslo"}]


# -- structured output -----------------------------------------------------------------------


def test_structured_output_methods(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    joke = chat.with_structured_output(Joke).invoke("Tell me a joke about cats")
    assert isinstance(joke, Joke)
    assert _config(emu)["llm.prediction.structured"]["type"] == "json"

    called = chat.with_structured_output(Joke, method="function_calling").invoke("A cat joke")
    assert isinstance(called, Joke)
    assert _config(emu)["llm.prediction.toolChoice"] == {"type": "generic", "mode": "required"}

    class JokeDict(TypedDict):
        setup: str
        punchline: str

    as_dict = chat.with_structured_output(JokeDict, method="function_calling").invoke("Joke")
    assert isinstance(as_dict, dict)
    assert set(as_dict) == {"setup", "punchline"}

    anything = chat.with_structured_output(method="json_mode").invoke("Any JSON object")
    assert isinstance(anything, dict)
    assert _config(emu)["llm.prediction.structured"]["jsonSchema"] == {"type": "object"}


def test_structured_output_include_raw(chat: ChatLMStudio) -> None:
    result = chat.with_structured_output(Joke, include_raw=True).invoke("Tell me a joke")
    assert isinstance(result, dict)
    assert isinstance(result["raw"], AIMessage)
    assert isinstance(result["parsed"], Joke)
    assert result["parsing_error"] is None


def test_structured_output_parsing_errors_with_include_raw(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    emu.engine.script_reply("not json at all")
    result = chat.with_structured_output(method="json_mode", include_raw=True).invoke("x")
    assert isinstance(result, dict)
    assert result["parsed"] is None
    assert result["parsing_error"] is not None


async def test_structured_output_streams_parsed_chunks(chat: ChatLMStudio) -> None:
    structured = chat.with_structured_output(Joke.model_json_schema())
    chunks = [chunk async for chunk in structured.astream("Tell me a joke")]
    assert chunks
    assert all(isinstance(chunk, dict) for chunk in chunks)
    assert set(chunks[-1]) == {"setup", "punchline"}
    with pytest.raises(ValueError, match="needs a schema"):
        chat.with_structured_output(None)


# -- images ----------------------------------------------------------------------------------


def test_image_inputs_offline(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=VISION_MODEL, base_url=emu.base_url)
    for image in (
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ):
        message = HumanMessage([{"type": "text", "text": "Describe this image."}, image])
        assert model.invoke([message]).text
        parts = emu.record.predictions[-1].history[0]["content"]
        assert [part["type"] for part in parts] == ["text", "file"]
        assert parts[1]["fileType"] == "image"


def test_anthropic_inputs_offline(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model=VISION_MODEL, base_url=emu.base_url)
    color_picker = {
        "name": "color_picker",
        "input_schema": {
            "type": "object",
            "properties": {"fav_color": {"type": "string"}},
            "required": ["fav_color"],
        },
        "description": "Input your fav color and get a random fact about it.",
        "cache_control": {"type": "ephemeral"},
    }
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    messages = [
        SystemMessage("you're a good assistant"),
        HumanMessage(
            [
                {"type": "text", "text": "favorite color?", "cache_control": {"type": "ephemeral"}},
                image,
            ]
        ),
        AIMessage(
            [
                {"type": "text", "text": "Hmm let me think about that"},
                {
                    "type": "tool_use",
                    "input": {"fav_color": "purple"},
                    "id": "foo",
                    "name": "color_picker",
                },
            ],
            tool_calls=[{"name": "color_picker", "args": {"fav_color": "purple"}, "id": "foo"}],
        ),
        ToolMessage("That's a great pick!", tool_call_id="foo"),
    ]
    assert isinstance(model.bind_tools([color_picker]).invoke(messages), AIMessage)
    history = emu.record.predictions[-1].history
    assert [part["type"] for part in history[1]["content"]] == ["text", "file"]


def test_images_need_a_vision_model(chat: ChatLMStudio) -> None:
    message = HumanMessage([{"type": "image", "base64": PNG, "mime_type": "image/png"}])
    with pytest.raises(lc_errors.ModelInvalidRequestError, match="does not support images"):
        chat.invoke([message])


# -- errors --------------------------------------------------------------------------------


def test_model_not_found(emu: EmulatorThread) -> None:
    model = ChatLMStudio(model="no-such-model", base_url=emu.base_url)
    with pytest.raises(lc_errors.ModelNotFoundError) as caught:
        model.invoke("hi")
    assert isinstance(caught.value, CoreModelNotFoundError)
    assert isinstance(caught.value.__cause__, CoreModelNotFoundError)


def test_context_overflow(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    with pytest.raises(lc_errors.ContextOverflowError):
        chat.invoke("word " * 5000)


async def test_context_overflow_async(chat: ChatLMStudio) -> None:
    with pytest.raises(lc_errors.ContextOverflowError):
        await chat.ainvoke("word " * 5000)


def test_timeout(emu: EmulatorThread) -> None:
    emu.faults.set_first_token_delay(3)
    model = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url, timeout=0.3)
    with pytest.raises(lc_errors.ModelTimeoutError) as caught:
        model.invoke("hi")
    assert isinstance(caught.value, TimeoutError)


def _check_token_advice(error: BaseException) -> None:
    """The message names the LangChain parameter and variable, and keeps LM Studio's reason."""
    assert isinstance(error, CoreAuthenticationError)
    message = str(error)
    assert error.reason
    assert error.reason in message
    assert "api_key=..." in message
    assert "LM_API_TOKEN" in message
    assert "LMSTUDIO_API_TOKEN" in message  # both variables the adapter reads
    assert "api_token" not in message
    assert ".." not in message.replace("api_key=...", "")


def test_authentication(lmstudio_emulator_factory: Any) -> None:
    with lmstudio_emulator_factory(api_tokens=[TOKEN]) as emu:
        wrong = "sk-lm-abcDEF78:zzzzzzzzzzzzzzzzzzzz"
        for api_key in (wrong, None):
            model = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url, api_key=api_key)
            with pytest.raises(lc_errors.ModelAuthenticationError) as caught:
                model.invoke("hi")
            _check_token_advice(caught.value)
        good = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url, api_key=TOKEN)
        assert good.invoke("hi").text
        good.close()


async def test_authentication_async_and_other_models(lmstudio_emulator_factory: Any) -> None:
    wrong = "sk-lm-abcDEF78:zzzzzzzzzzzzzzzzzzzz"
    with lmstudio_emulator_factory(api_tokens=[TOKEN]) as emu:
        options = {"base_url": emu.base_url, "api_key": wrong}
        chat = ChatLMStudio(model=CHAT_MODEL, **options)
        completion = LMStudioLLM(model=CHAT_MODEL, **options)
        embeddings = LMStudioEmbeddings(model=EMBEDDING_MODEL, **options)
        with pytest.raises(lc_errors.ModelAuthenticationError) as caught:
            await chat.ainvoke("hi")
        _check_token_advice(caught.value)
        with pytest.raises(lc_errors.ModelAuthenticationError) as caught:
            completion.invoke("hi")
        _check_token_advice(caught.value)
        with pytest.raises(lc_errors.ModelAuthenticationError) as caught:
            await embeddings.aembed_query("hi")
        _check_token_advice(caught.value)
        for model in (chat, completion, embeddings):
            model.close()
            await model.aclose()


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LM_API_TOKEN", TOKEN)
    with EmulatorThread(host="127.0.0.1", port=0, api_tokens=[TOKEN]) as emu:
        model = ChatLMStudio(model=CHAT_MODEL, base_url=emu.base_url)
        assert model.invoke("hi").text
        model.close()


def test_connection_refused() -> None:
    model = ChatLMStudio(model=CHAT_MODEL, base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(lc_errors.ModelConnectionError):
        model.invoke("hi")


def test_server_errors(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    emu.engine.script(None, ScriptedTurn(error=ScriptedError("Boom", cause="scripted")))
    with pytest.raises(lc_errors.ModelAPIError, match="Boom"):
        chat.invoke("hi")


# -- cancellation ------------------------------------------------------------------------------


def _wait_for_cancel(emu: EmulatorThread) -> None:
    assert emu.record.wait_for(lambda r: bool(r.cancels), timeout=5)
    assert emu.record.cancels[0].endpoint == "predict"


def test_breaking_out_of_stream_cancels(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    _slow(emu)
    seen = 0
    for chunk in chat.stream("Tell me a long story"):
        seen += bool(chunk.text)
        if seen == 3:
            break
    _wait_for_cancel(emu)
    assert chat.invoke("still usable?").text


LONG_REPLY = " ".join(["word"] * 300)
"""Six seconds at 50 tokens/s."""


def _slow_long_reply(emu: EmulatorThread) -> None:
    emu.faults.set_tokens_per_second(50)
    emu.engine.script_reply(LONG_REPLY)


def _leave_early(open_stream: Callable[[], Iterable[Any]]) -> float:
    """Read three chunks, leave the loop (which closes the stream); the seconds it took."""
    started = time.monotonic()
    for seen, _ in enumerate(open_stream(), start=1):
        if seen == 3:
            break
    return time.monotonic() - started


CHAIN_STEPS: dict[str, Callable[[ChatLMStudio], Any]] = {
    "model": lambda chat: chat,
    "bind": lambda chat: chat.bind(temperature=0),
    "bind_tools": lambda chat: chat.bind_tools([get_weather]),
    "with_config": lambda chat: chat.with_config(tags=["story"]),
    "completion model": lambda chat: LMStudioLLM(model=CHAT_MODEL, base_url=chat.base_url),
    "bound completion model": lambda chat: LMStudioLLM(
        model=CHAT_MODEL, base_url=chat.base_url
    ).bind(stop=["THE END"]),
}


@pytest.mark.parametrize("step", list(CHAIN_STEPS))
def test_breaking_out_of_a_chain_stream_cancels(
    emu: EmulatorThread, chat: ChatLMStudio, step: str
) -> None:
    """The output parser after the model must not read the rest of the reply (it does so
    to trace its input), or leaving would wait for the whole generation."""
    model = CHAIN_STEPS[step](chat)
    prompt = ChatPromptTemplate.from_messages([("user", "{topic}")])
    chain = prompt | model | StrOutputParser()
    try:
        chain.invoke({"topic": "load the model first"})
        _slow_long_reply(emu)
        assert _leave_early(lambda: chain.stream({"topic": "Tell me a long story"})) < 1
        assert emu.record.wait_for(lambda r: bool(r.cancels), timeout=1)
        assert emu.record.cancels[0].endpoint == "predict"
        emu.faults.clear()
        assert chain.invoke({"topic": "still usable?"})
    finally:
        getattr(model, "bound", model).close()


def test_a_chain_stream_read_to_the_end(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{topic}")]) | chat | StrOutputParser()
    emu.engine.script_reply("One two three four five.")
    assert "".join(chain.stream({"topic": "Count"})) == "One two three four five."
    emu.engine.script_reply("One two three.")
    pieces = list((chain | RunnableLambda(str.upper)).stream({"topic": "Count"}))
    assert "".join(pieces) == "ONE TWO THREE."
    assert not emu.record.cancels


async def test_breaking_out_of_an_async_chain_stream_cancels(
    emu: EmulatorThread, chat: ChatLMStudio
) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{topic}")]) | chat | StrOutputParser()
    await chat.ainvoke("load the model first")
    _slow_long_reply(emu)
    stream = chain.astream({"topic": "Tell me a long story"})
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            if chunk:
                break
    assert await asyncio.to_thread(emu.record.wait_for, lambda r: bool(r.cancels), 1)
    await chat.aclose()


async def test_breaking_out_of_astream_cancels(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    _slow(emu)
    stream = chat.astream("Tell me a long story")
    assert isinstance(stream, AsyncGenerator)
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            if chunk.text:
                break
    await asyncio.to_thread(_wait_for_cancel, emu)


async def test_abandoned_astream_cancels(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    _slow(emu)
    async for chunk in chat.astream("Tell me a long story"):
        if chunk.text:
            break  # the generator is finalized by the event loop
    await asyncio.to_thread(_wait_for_cancel, emu)


async def test_cancelling_the_task_cancels(emu: EmulatorThread, chat: ChatLMStudio) -> None:
    _slow(emu)
    started = asyncio.Event()

    async def consume() -> None:
        async for chunk in chat.astream("Tell me a long story"):
            if chunk.text:
                started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(_wait_for_cancel, emu)


# -- event loops ------------------------------------------------------------------------------


def test_one_model_in_several_event_loops(chat: ChatLMStudio) -> None:
    first = asyncio.run(chat.ainvoke("hi"))
    second = asyncio.run(chat.ainvoke("hello"))
    assert first.text
    assert second.text
    assert chat.invoke("and blocking").text


async def test_batch_and_abatch(chat: ChatLMStudio) -> None:
    results = await chat.abatch(["one", "two", "three"])
    assert all(result.text for result in results)
    results = await asyncio.to_thread(chat.batch, ["four", "five"])
    assert all(result.text for result in results)
    await chat.aclose()
