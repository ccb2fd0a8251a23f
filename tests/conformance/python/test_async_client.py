"""The official lmstudio async client against the emulator."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any, cast

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import lmstudio
import pytest
from conftest import EMBEDDING_KEY, LLM_KEY, REASONING_KEY, TOKEN, TOKEN_ID, TOKEN_KEY
from lmstudio_core.emulator import EmulatorThread
from pydantic import BaseModel


class Answer(BaseModel):
    answer: int
    explanation: str


class TokenAsyncClient(lmstudio.AsyncClient):
    """Async client presenting an API token (see ``TokenClient`` in conftest)."""

    def _create_auth_message(self) -> Any:
        return self._format_auth_message(TOKEN_ID, TOKEN_KEY)


@pytest.fixture
async def aclient(emu: EmulatorThread) -> AsyncIterator[lmstudio.AsyncClient]:
    async with lmstudio.AsyncClient(emu.api_host) as client:
        yield client


async def test_listing(aclient: lmstudio.AsyncClient) -> None:
    downloaded = await aclient.list_downloaded_models()
    loaded = await aclient.list_loaded_models()

    assert {m.model_key for m in downloaded} >= {LLM_KEY, REASONING_KEY, EMBEDDING_KEY}
    assert sorted(m.identifier for m in loaded) == sorted([LLM_KEY, EMBEDDING_KEY])


async def test_load_with_progress_info_and_unload(
    emu: EmulatorThread, aclient: lmstudio.AsyncClient
) -> None:
    progress: list[float] = []
    model = await aclient.llm.load_new_instance(
        REASONING_KEY, config={"contextLength": 2048}, on_load_progress=progress.append
    )

    assert progress == sorted(set(progress))
    assert progress[-1] == 1.0
    assert await model.get_context_length() == 2048
    info = await model.get_info()
    assert info.model_key == REASONING_KEY
    await model.unload()
    assert REASONING_KEY not in emu.loaded_identifiers()


async def test_respond_complete_and_stream(aclient: lmstudio.AsyncClient) -> None:
    model = await aclient.llm.model(LLM_KEY)

    reply = await model.respond("Say hello.")
    completion = await model.complete("Once upon a time")
    stream = await model.respond_stream("Tell me about otters")
    async with stream:
        pieces = [fragment.content async for fragment in stream]
    result = stream.result()

    assert reply.content
    assert reply.stats.stop_reason == "eosFound"
    assert completion.content
    assert len(pieces) > 3
    assert "".join(pieces) == result.content


async def test_structured_response(aclient: lmstudio.AsyncClient) -> None:
    model = await aclient.llm.model(LLM_KEY)
    result = await model.respond("What is 6 times 7?", response_format=Answer)

    jsonschema.validate(result.parsed, Answer.model_json_schema())
    Answer.model_validate(result.parsed)


async def test_act_with_a_tool(aclient: lmstudio.AsyncClient) -> None:
    calls: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers and return their sum."""
        calls.append((a, b))
        return a + b

    messages: list[Any] = []
    model = await aclient.llm.model(LLM_KEY)
    result = await model.act("Please add 7 and 5.", [add], on_message=messages.append)

    assert calls == [(7, 5)]
    assert result.rounds == 2
    assert "12" in messages[-1].content[0].text


async def test_cancel(emu: EmulatorThread, aclient: lmstudio.AsyncClient) -> None:
    emu.faults.set_tokens_per_second(100)
    model = await aclient.llm.model(LLM_KEY)
    stream = await model.respond_stream("Write a long story", config={"maxTokens": 400})
    async with stream:
        index = 0
        async for _ in stream:
            if index == 0:
                await stream.cancel()
            index += 1
    result = stream.result()

    assert result.stats.stop_reason == "userStopped"
    assert emu.record.wait_for(lambda r: bool(r.cancels))
    assert emu.record.cancels[0].endpoint == "predict"


async def test_embed_tokenize_count(aclient: lmstudio.AsyncClient) -> None:
    embedder = await aclient.embedding.model(EMBEDDING_KEY)
    llm = await aclient.llm.model(LLM_KEY)

    vectors = cast(list[list[float]], await embedder.embed(["alpha", "beta"]))
    again = cast(list[float], await embedder.embed("alpha"))
    tokens = await llm.tokenize("Hello world")

    assert [len(v) for v in vectors] == [768, 768]
    assert list(vectors[0]) == list(again)
    assert math.isclose(math.fsum(x * x for x in again), 1.0, rel_tol=1e-9)
    assert await llm.count_tokens("Hello world") == len(tokens)
    assert await llm.get_context_length() == 4096


async def test_model_not_found(aclient: lmstudio.AsyncClient) -> None:
    with pytest.raises(lmstudio.LMStudioModelNotFoundError):
        await aclient.llm.get_model_info("no-such-instance")


async def test_api_token(lmstudio_emulator_options: dict[str, Any]) -> None:
    with EmulatorThread(api_tokens=[TOKEN]) as emu:
        async with TokenAsyncClient(emu.api_host) as good:
            model = await good.llm.model(LLM_KEY)
            assert (await model.respond("Hi")).content
        with pytest.raises((lmstudio.LMStudioServerError, ValueError)):
            async with lmstudio.AsyncClient(emu.api_host):
                pass
