"""The real engines behind an emulator, through the official ``lmstudio`` client."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence

import jsonschema
import lmstudio
import pytest
from lmstudio_core.emulator import EmulatorThread
from lmstudio_core.emulator.real import MINILM_KEY, SMOLLM2_KEY, RealEngines

pytestmark = pytest.mark.usefixtures("real")  # skips when the real engines are missing

CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 20},
        "country": {"type": "string", "maxLength": 20},
    },
    "required": ["city", "country"],
    "additionalProperties": False,
}


@pytest.fixture
def client(real_emu: EmulatorThread) -> Iterator[lmstudio.Client]:
    with lmstudio.Client(real_emu.api_host) as client:
        yield client


def test_catalog_lists_the_real_models(client: lmstudio.Client) -> None:
    models = {m.model_key: m for m in client.list_downloaded_models()}

    assert set(models) == {SMOLLM2_KEY, MINILM_KEY}
    llm = models[SMOLLM2_KEY].info
    assert llm.architecture == "llama"
    assert llm.size_bytes > 90_000_000
    assert not llm.vision
    assert not llm.trained_for_tool_use


def test_chat_reply(client: lmstudio.Client) -> None:
    result = client.llm.model(SMOLLM2_KEY).respond("What is the capital of France?")

    assert result.content.strip()
    assert result.stats.stop_reason in ("eosFound", "maxPredictedTokensReached")
    assert result.stats.prompt_tokens_count is not None
    assert result.stats.prompt_tokens_count > 5


def test_streamed_completion_with_stats(client: lmstudio.Client) -> None:
    stream = client.llm.model(SMOLLM2_KEY).respond_stream(
        "Write a poem about the sea.", config={"maxTokens": 12}
    )

    fragments = [fragment.content for fragment in stream]
    result = stream.result()

    assert len(fragments) > 1
    assert result.content == "".join(fragments)
    stats = result.stats
    assert stats.stop_reason in ("eosFound", "maxPredictedTokensReached")
    assert stats.predicted_tokens_count is not None
    assert 1 < stats.predicted_tokens_count <= 12
    assert stats.tokens_per_second is not None
    assert stats.tokens_per_second > 0
    assert stats.time_to_first_token_sec is not None
    assert stats.time_to_first_token_sec >= 0


def test_structured_output(client: lmstudio.Client) -> None:
    result = client.llm.model(SMOLLM2_KEY).respond(
        "Name a city and its country.", response_format=CITY
    )

    assert isinstance(result.parsed, dict)
    jsonschema.validate(result.parsed, CITY)
    assert json.loads(result.content) == result.parsed


def test_cancel_stops_llama_cpp(client: lmstudio.Client, real: RealEngines) -> None:
    stream = client.llm.model(SMOLLM2_KEY).respond_stream(
        "Tell me a very long story about a castle.", config={"maxTokens": 400}
    )
    for _ in stream:
        stream.cancel()
    result = stream.result()

    assert result.stats.stop_reason == "userStopped"
    assert real.llm.wait_idle(10)
    stats = real.llm.last_stats
    assert stats is not None
    assert stats.stop_reason == "userStopped"
    assert stats.predicted_tokens < 100


def test_tokenizer_is_the_models_own(client: lmstudio.Client) -> None:
    model = client.llm.model(SMOLLM2_KEY)

    assert model.tokenize("Hello world") == [19556, 905]
    assert model.count_tokens("Hello world") == 2


def test_embedding(client: lmstudio.Client) -> None:
    model = client.embedding.model(MINILM_KEY)

    cat, kitten, spreadsheet = (_vector(model.embed(t)) for t in ("cat", "kitten", "spreadsheet"))

    assert len(cat) == 384
    assert math.isclose(math.sqrt(sum(x * x for x in cat)), 1.0, abs_tol=1e-4)
    assert _dot(cat, kitten) > _dot(cat, spreadsheet)


def _vector(value: object) -> list[float]:
    assert isinstance(value, list)
    return [float(x) for x in value]


def _dot(left: Sequence[float], right: Sequence[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))
