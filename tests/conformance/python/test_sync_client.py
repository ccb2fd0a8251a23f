"""The official lmstudio sync client against the emulator."""

from __future__ import annotations

import json
import math
from typing import Any, cast

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import lmstudio
import pytest
from conftest import EMBEDDING_KEY, LLM_KEY, REASONING_KEY, TOKEN, TokenClient
from lmstudio_core.emulator import EmulatorThread
from pydantic import BaseModel


class Book(BaseModel):
    title: str
    author: str
    year: int


BOOK_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "pages": {"type": "integer", "minimum": 1},
        "genres": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "pages", "genres"],
}


def test_list_downloaded_and_loaded(client: lmstudio.Client) -> None:
    downloaded = client.list_downloaded_models()
    loaded = client.list_loaded_models()

    keys = {m.model_key for m in downloaded}
    assert {LLM_KEY, REASONING_KEY, EMBEDDING_KEY, "qwen2-vl-2b-instruct"} <= keys
    assert {m.type for m in downloaded} == {"llm", "embedding"}
    assert {m.model_key for m in client.llm.list_downloaded()} == keys - {EMBEDDING_KEY}
    assert sorted(m.identifier for m in loaded) == sorted([LLM_KEY, EMBEDDING_KEY])


def test_load_with_progress_then_unload(emu: EmulatorThread, client: lmstudio.Client) -> None:
    progress: list[float] = []

    model = client.llm.load_new_instance(
        REASONING_KEY,
        "my-thinker",
        config={"contextLength": 8192},
        on_load_progress=progress.append,
    )

    assert model.identifier == "my-thinker"
    assert progress == sorted(set(progress))
    assert progress[-1] == 1.0
    assert len(progress) > 2
    assert model.get_context_length() == 8192
    assert model.get_load_config().context_length == 8192
    assert "my-thinker" in [m.identifier for m in client.llm.list_loaded()]
    model.unload()
    assert "my-thinker" not in emu.loaded_identifiers()


def test_load_errors(client: lmstudio.Client) -> None:
    # lmstudio 1.5.0 maps only noModelMatchingQuery to LMStudioModelNotFoundError.
    with pytest.raises(lmstudio.LMStudioServerError, match=r"generic\.pathNotFound"):
        client.llm.load_new_instance("no-such-model")
    with pytest.raises(lmstudio.LMStudioServerError, match=r"Model load error.*already exists"):
        client.llm.load_new_instance(LLM_KEY, LLM_KEY)
    with pytest.raises(lmstudio.LMStudioModelNotFoundError):
        client.llm.unload("no-such-instance")


def test_model_handle_info_and_any_model(client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)
    any_model = client.llm.model()

    info = model.get_info()
    assert isinstance(info, lmstudio.LlmInstanceInfo)
    assert any_model.identifier == LLM_KEY
    assert info.model_key == LLM_KEY
    assert info.trained_for_tool_use is True
    assert info.max_context_length == 32768
    assert model.get_context_length() == 4096
    with pytest.raises(lmstudio.LMStudioModelNotFoundError):
        client.llm.get_model_info("no-such-instance")


def test_jit_load_with_model(client: lmstudio.Client) -> None:
    progress: list[float] = []
    model = client.llm.model(REASONING_KEY, on_load_progress=progress.append)
    assert model.identifier == REASONING_KEY
    assert progress[-1] == 1.0


def test_respond_and_complete(emu: EmulatorThread, client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)
    chat = lmstudio.Chat("You are terse.")
    chat.add_user_message("Say hello.")

    reply = model.respond(chat, config={"temperature": 0.2, "maxTokens": 50})
    completion = model.complete("The capital of France is")

    assert reply.content
    assert reply.stats.stop_reason == "eosFound"
    assert (reply.stats.predicted_tokens_count or 0) > 0
    assert reply.model_info.model_key == LLM_KEY
    assert reply.prediction_config.temperature == 0.2
    assert reply.prediction_config.max_tokens == 50
    assert reply.load_config.context_length == 4096
    assert completion.content
    assert emu.record.predictions[-1].prompt == "The capital of France is"


def test_respond_stream_fragments_concatenate(client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)
    progress: list[float] = []
    with model.respond_stream(
        "Tell me about otters", on_prompt_processing_progress=progress.append
    ) as stream:
        pieces = [fragment.content for fragment in stream]
    result = stream.result()

    assert len(pieces) > 3
    assert "".join(pieces) == result.content
    assert progress[0] == 0.0
    assert progress[-1] == 1.0


def test_scripted_reply_and_stop_reasons(emu: EmulatorThread, client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)
    emu.engine.script_reply("The answer is 42. STOP and more")

    stopped = model.respond("Q?", config={"stopStrings": ["STOP"]})
    limited = model.respond("Tell me a long story", config={"maxTokens": 4})

    assert stopped.content == "The answer is 42. "
    assert stopped.stats.stop_reason == "stopStringFound"
    assert limited.stats.stop_reason == "maxPredictedTokensReached"
    assert limited.stats.predicted_tokens_count == 4


def test_structured_response_with_schema_and_pydantic(client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)

    raw = model.respond("A book, please", response_format=BOOK_SCHEMA)
    typed = model.respond("A book, please", response_format=Book)

    assert isinstance(raw.parsed, dict)
    jsonschema.validate(raw.parsed, BOOK_SCHEMA)
    assert json.loads(raw.content) == raw.parsed
    Book.model_validate(typed.parsed)


def test_act_runs_a_python_tool_over_two_rounds(client: lmstudio.Client) -> None:
    calls: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        """Add two integers and return their sum."""
        calls.append((a, b))
        return a + b

    messages: list[Any] = []
    model = client.llm.model(LLM_KEY)
    result = model.act("What is 12 plus 30?", [add], on_message=messages.append)

    assert calls == [(12, 30)]
    assert result.rounds == 2
    final = messages[-1]
    assert final.role == "assistant"
    assert "42" in final.content[0].text


def test_cancel_stream(emu: EmulatorThread, client: lmstudio.Client) -> None:
    emu.faults.set_tokens_per_second(100)
    model = client.llm.model(LLM_KEY)
    with model.respond_stream("Write a long story", config={"maxTokens": 400}) as stream:
        for index, _ in enumerate(stream):
            if index == 0:
                stream.cancel()
    result = stream.result()

    assert result.stats.stop_reason == "userStopped"
    assert emu.record.wait_for(lambda r: bool(r.cancels))
    cancel = emu.record.cancels[0]
    assert (cancel.namespace, cancel.endpoint) == ("llm", "predict")


def test_reasoning_model(client: lmstudio.Client) -> None:
    model = client.llm.model(REASONING_KEY)
    with model.respond_stream("Why is the sky blue?") as stream:
        kinds = [fragment.reasoning_type for fragment in stream]
    result = stream.result()

    assert kinds[0] == "reasoningStartTag"
    assert "reasoning" in kinds
    assert "reasoningEndTag" in kinds
    assert kinds[-1] == "none"
    assert result.content.startswith("<think>")


def test_embeddings(client: lmstudio.Client) -> None:
    model = client.embedding.model(EMBEDDING_KEY)

    one = cast(list[float], model.embed("The quick brown fox"))
    many = cast(list[list[float]], model.embed(["The quick brown fox", "jumps over"]))

    assert len(one) == 768
    assert math.isclose(math.fsum(x * x for x in one), 1.0, rel_tol=1e-9)
    assert list(many[0]) == list(one)
    assert list(many[1]) != list(one)
    assert model.get_context_length() == 2048
    with pytest.raises(lmstudio.LMStudioServerError, match=r"generic\.domainMismatch"):
        client.embedding.model(LLM_KEY)


def test_tokenize_and_count(client: lmstudio.Client) -> None:
    model = client.llm.model(LLM_KEY)

    tokens = model.tokenize("Hello world, how are you?")
    batches = model.tokenize(["Hello", "world"])

    assert model.count_tokens("Hello world, how are you?") == len(tokens)
    assert len(batches) == 2
    assert model.tokenize("Hello") == batches[0]


def test_apply_prompt_template(client: lmstudio.Client) -> None:
    chat = lmstudio.Chat("System prompt.")
    chat.add_user_message("User message")
    formatted = client.llm.model(LLM_KEY).apply_prompt_template(chat)
    assert formatted.startswith("<|im_start|>system\nSystem prompt.<|im_end|>")
    assert formatted.endswith("<|im_start|>assistant\n")


def test_image_needs_vision_model(emu: EmulatorThread, client: lmstudio.Client) -> None:
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005010201a4b4a0460000000049454e44ae426082"
    )
    image = client.files.prepare_image(png, "dot.png")
    chat = lmstudio.Chat()
    chat.add_user_message("What is this?", images=[image])

    with pytest.raises(lmstudio.LMStudioServerError, match="does not support images"):
        client.llm.model(LLM_KEY).respond(chat)
    reply = client.llm.model("qwen2-vl-2b-instruct").respond(chat)
    assert reply.content


def test_api_token_mode(lmstudio_emulator_options: dict[str, Any]) -> None:
    with EmulatorThread(api_tokens=[TOKEN]) as emu:
        with TokenClient(emu.api_host) as good:
            assert good.llm.model(LLM_KEY).respond("Hi").content
        # The server answers {"success": false, "error": "<text>"} like LM Studio; lmstudio
        # 1.5.0 then fails while formatting that text (ValueError), newer versions raise
        # LMStudioServerError("Authentication failed: ..."). Either way the call fails.
        with (
            pytest.raises((lmstudio.LMStudioServerError, ValueError)),
            lmstudio.Client(emu.api_host) as bad,
        ):
            bad.list_loaded_models()
        assert emu.loaded_identifiers()  # the server is still fine


def test_injected_faults_surface_as_client_errors(
    emu: EmulatorThread, client: lmstudio.Client
) -> None:
    model = client.llm.model(LLM_KEY)
    emu.faults.fail_next("predict", title="GPU on fire", after_fragments=2)
    with pytest.raises(lmstudio.LMStudioServerError, match="GPU on fire"):
        model.respond("Tell me a story")
    emu.faults.fail_next("countTokens", title="Tokenizer broke")
    with pytest.raises(lmstudio.LMStudioServerError, match="Tokenizer broke"):
        model.count_tokens("x")
    assert model.respond("Still alive?").content


def test_dropped_connection(emu: EmulatorThread, client: lmstudio.Client) -> None:
    emu.faults.drop_connection_after(2)
    with pytest.raises(lmstudio.LMStudioWebsocketError):
        client.llm.model(LLM_KEY).respond("Tell me a story")


def test_recorded_history_and_config(emu: EmulatorThread, client: lmstudio.Client) -> None:
    chat = lmstudio.Chat("Be brief.")
    chat.add_user_message("Hi!")
    client.llm.model(LLM_KEY).respond(chat, config={"temperature": 0.4, "stopStrings": ["X"]})

    record = emu.record.predictions[-1]
    assert [m["role"] for m in record.history] == ["system", "user"]
    assert record.config["llm.prediction.temperature"] == 0.4
    assert record.config["llm.prediction.stopStrings"] == ["X"]
    assert record.model_identifier == LLM_KEY


def test_repository_search_and_download(emu: EmulatorThread, client: lmstudio.Client) -> None:
    results = client.repository.search_models("SmolLM2", limit=5)
    assert [r.search_result.name for r in results] == [
        "lmstudio-community/SmolLM2-135M-Instruct-GGUF"
    ]
    options = results[0].get_download_options()
    assert options[0].info.quantization == "Q8_0"
    progress: list[Any] = []

    model_key = options[0].download(on_progress=progress.append)

    assert model_key == "smollm2-135m-instruct"
    assert progress[-1].downloaded_bytes == progress[-1].total_bytes
    assert model_key in [m.model_key for m in client.list_downloaded_models()]
    assert client.llm.model(model_key).respond("Hi").content
