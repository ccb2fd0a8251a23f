"""Testing your own app with the LM Studio emulator (this file is a pytest module).

lmstudio-core ships a pytest plugin: the ``lmstudio_emulator`` fixture starts an LM
Studio emulator on a free port for each test, so your tests run anywhere, fast and
without LM Studio. Script its replies, inject faults, and assert on what it received.

Run: ``pytest cookbook/test_my_app_example.py`` (needs pytest; no LM Studio, no
``LMSTUDIO_BASE_URL``: the emulator replaces them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lmstudio_core import AsyncClient, Chat, Client, ServerError
from lmstudio_core.emulator import EmulatorThread
from pydantic import BaseModel

MODEL = "qwen2.5-0.5b-instruct"


# -- the application code under test ------------------------------------------------------
class Triage(BaseModel):
    category: str
    urgent: bool


FALLBACK = Triage(category="unknown", urgent=True)


def triage(client: Client, ticket: str) -> Triage:
    """Classify a support ticket; a safe default when the model fails."""
    chat = Chat("Classify the ticket.")
    chat.add_user_message(ticket)
    try:
        result = client.llm.model(MODEL).respond(chat, response_format=Triage, temperature=0)
    except ServerError:
        return FALLBACK
    return result.parsed if isinstance(result.parsed, Triage) else FALLBACK


# -- the tests ----------------------------------------------------------------------------
@pytest.fixture
def client(lmstudio_emulator: EmulatorThread) -> Iterator[Client]:
    with Client(lmstudio_emulator.base_url) as client:
        yield client


def test_triage_parses_the_models_answer(lmstudio_emulator: EmulatorThread, client: Client) -> None:
    lmstudio_emulator.engine.script_reply('{"category": "billing", "urgent": false}')

    assert triage(client, "I was charged twice.") == Triage(category="billing", urgent=False)

    (prediction,) = lmstudio_emulator.record.predictions  # what the model was sent
    assert prediction.model_key == MODEL
    assert prediction.history[0]["role"] == "system"
    assert prediction.config["llm.prediction.temperature"] == 0


def test_triage_survives_a_server_error(lmstudio_emulator: EmulatorThread, client: Client) -> None:
    lmstudio_emulator.faults.fail_next("predict", title="Model crashed")

    assert triage(client, "Help!") == FALLBACK


def test_unscripted_replies_still_match_the_schema(client: Client) -> None:
    assert isinstance(triage(client, "The app is slow."), Triage)


async def test_async_code_works_too(lmstudio_emulator: EmulatorThread) -> None:
    lmstudio_emulator.engine.script_reply("pong")
    async with AsyncClient(lmstudio_emulator.base_url) as client:
        model = await client.llm.model(MODEL)
        assert (await model.respond("ping")).content == "pong"
