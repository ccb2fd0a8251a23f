"""The official JavaScript SDK (``@lmstudio/sdk``) against the LM Studio emulator.

``scenarios.mjs`` drives one SDK feature per scenario and prints what it observed as one JSON
line. Most scenarios run in a single node process against one emulator shared by this module
(node and the SDK take about half a second to start); the scenarios that need a differently
configured emulator (API tokens, slow generation) run in their own process against the
``lmstudio_emulator`` fixture. The tests compare the observations with the emulator's catalog,
tokenizer and record of what it received.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
from lmstudio_core.emulator import (
    EmulatorThread,
    ModelSpec,
    PredictionRecord,
    run_in_thread,
)

JS_DIR = Path(__file__).resolve().parent
SCRIPT = JS_DIR / "scenarios.mjs"
SDK_PACKAGE = JS_DIR / "node_modules" / "@lmstudio" / "sdk" / "package.json"
SDK_VERSION = "2.0.0"

# Every scenario of the shared run gets SCENARIO_TIMEOUT_MS; the whole run stops starting new
# scenarios after RUN_BUDGET_MS so that a hanging SDK promise cannot exceed the test timeout.
SCENARIO_TIMEOUT_MS = 10_000
RUN_BUDGET_MS = 38_000
PROCESS_TIMEOUT_S = 55.0

SHARED_SCENARIOS = (
    "version",
    "list_downloaded",
    "list_loaded",
    "model_any",
    "model_info",
    "dynamic_handle",
    "context_length",
    "tokenize",
    "embed",
    "apply_prompt_template",
    "respond",
    "complete",
    "streaming",
    "structured_json_schema",
    "structured_zod",
    "act_tool",
    "tool_call_streaming",
    "diagnostics_logs",
    "reasoning",
    "vision",
    "model_errors",
    "load_with_progress",
    "model_get_or_load",
    "unload",
)

GOOD_TOKEN = "sk-lm-JsConf01:a1B2c3D4e5F6g7H8i9J0"
WRONG_PASSKEY_TOKEN = "sk-lm-JsConf01:WrongWrongWrongWrong"
UNKNOWN_TOKEN = "sk-lm-Unknown9:a1B2c3D4e5F6g7H8i9J0"

STOP_REASONS_OF_A_FINISHED_REPLY = {"eosFound", "maxPredictedTokensReached", "stopStringFound"}


class ScenarioLine(TypedDict):
    scenario: str
    ok: bool
    result: Any
    error: str | None
    warnings: list[str]
    client: str | None
    ms: int


@dataclass(frozen=True)
class ScenarioRun:
    lines: dict[str, ScenarioLine]
    stderr: str

    def line(self, name: str) -> ScenarioLine:
        found = self.lines.get(name)
        assert found is not None, (
            f"scenarios.mjs printed nothing for {name!r}; stderr tail:\n{self.stderr[-3000:]}"
        )
        return found

    def result(self, name: str) -> dict[str, Any]:
        """The observed values of a scenario that must have passed without SDK complaints."""
        line = self.line(name)
        warnings = "\n".join(line["warnings"]) or "(none)"
        assert line["ok"], f"scenario {name!r} failed: {line['error']}\nSDK warnings:\n{warnings}"
        assert not line["warnings"], f"the SDK logged warnings during {name!r}:\n{warnings}"
        result: dict[str, Any] = line["result"]
        return result

    def client(self, name: str) -> str:
        client = self.line(name)["client"]
        assert client is not None
        return client


@dataclass(frozen=True)
class ModelKeys:
    """Which catalog models the scenarios use."""

    llm: ModelSpec
    embedding: ModelSpec
    load: ModelSpec
    reasoning: ModelSpec
    vision: ModelSpec

    @classmethod
    def from_catalog(cls, catalog: Sequence[ModelSpec]) -> ModelKeys:
        llms = [spec for spec in catalog if spec.type == "llm"]
        return cls(
            llm=next(spec for spec in llms if spec.preload and not spec.reasoning),
            embedding=next(spec for spec in catalog if spec.type == "embedding" and spec.preload),
            load=next(spec for spec in llms if not spec.preload),
            reasoning=next(spec for spec in llms if spec.reasoning and not spec.preload),
            vision=next(spec for spec in llms if spec.vision and not spec.preload),
        )

    def cli_args(self) -> list[str]:
        return [
            *("--llm", self.llm.model_key),
            *("--embedding", self.embedding.model_key),
            *("--load-key", self.load.model_key),
            *("--reasoning-key", self.reasoning.model_key),
            *("--vision-key", self.vision.model_key),
        ]


@dataclass(frozen=True)
class Shared:
    emulator: EmulatorThread
    keys: ModelKeys
    run: ScenarioRun

    def predictions_of(self, scenario: str) -> list[PredictionRecord]:
        client = self.run.client(scenario)
        return [p for p in self.emulator.record.predictions if p.client_identifier == client]


# -- running node ------------------------------------------------------------------------------


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the JavaScript SDK conformance tests need Node.js 20+")
    if not SDK_PACKAGE.is_file():
        pytest.fail(
            f"{SDK_PACKAGE.parent} is missing: run ./dev.sh test (it runs npm ci in {JS_DIR})",
            pytrace=False,
        )
    installed = json.loads(SDK_PACKAGE.read_text(encoding="utf-8"))["version"]
    if installed != SDK_VERSION:
        pytest.fail(
            f"@lmstudio/sdk {installed} is installed, {SDK_VERSION} is pinned: run ./dev.sh test",
            pytrace=False,
        )
    return node


def run_scenarios(
    base_url: str,
    scenarios: Sequence[str],
    *options: str,
    env: Mapping[str, str] | None = None,
    timeout_ms: int = SCENARIO_TIMEOUT_MS,
    budget_ms: int = RUN_BUDGET_MS,
) -> ScenarioRun:
    """Run ``scenarios.mjs`` once and parse its JSON lines."""
    node = node_executable()
    child_env = {k: v for k, v in os.environ.items() if k != "LM_API_TOKEN"}
    child_env.update({"NO_COLOR": "1", "FORCE_COLOR": "0", "LMS_NO_FANCY_ERRORS": "1"})
    child_env.update(env or {})
    command = [
        node,
        str(SCRIPT),
        base_url,
        ",".join(scenarios),
        *("--timeout", str(timeout_ms)),
        *("--budget", str(budget_ms)),
        *options,
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=JS_DIR,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        pytest.fail(f"scenarios.mjs did not exit in time; stderr tail:\n{stderr[-3000:]}")
    if completed.returncode not in (0, 1):
        pytest.fail(
            f"scenarios.mjs exited with {completed.returncode}:\n{completed.stderr[-3000:]}"
        )
    lines: dict[str, ScenarioLine] = {}
    for raw in completed.stdout.splitlines():
        try:
            parsed: ScenarioLine = json.loads(raw)
        except json.JSONDecodeError:
            pytest.fail(f"scenarios.mjs printed a line that is not JSON: {raw!r}")
        lines[parsed["scenario"]] = parsed
    return ScenarioRun(lines, completed.stderr)


@pytest.fixture(scope="module")
def shared() -> Iterator[Shared]:
    """One emulator and one node run of every shared scenario, for the whole module."""
    node_executable()
    with run_in_thread(host="127.0.0.1", port=0) as emulator:
        keys = ModelKeys.from_catalog(emulator.emulator.catalog)
        run = run_scenarios(emulator.base_url, SHARED_SCENARIOS, *keys.cli_args())
        yield Shared(emulator, keys, run)


# -- helpers -----------------------------------------------------------------------------------


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


def assert_progress(values: Sequence[float], *, must_finish: bool) -> None:
    assert all(0.0 <= v <= 1.0 for v in values), values
    assert list(values) == sorted(values), f"progress went backwards: {values}"
    if must_finish:
        assert values, "no progress was reported"
        assert values[-1] == 1.0, f"progress did not reach 1: {values}"


def assert_stats_add_up(stats: Mapping[str, Any]) -> None:
    assert stats["promptTokensCount"] + stats["predictedTokensCount"] == stats["totalTokensCount"]


def text_of(message: Mapping[str, Any]) -> str:
    return "".join(part.get("text", "") for part in message["content"])


def config_value(prediction: PredictionRecord, key: str) -> Any:
    assert key in prediction.config, f"{key} missing from {sorted(prediction.config)}"
    return prediction.config[key]


def sent_fields(prediction: PredictionRecord) -> dict[str, Any]:
    """The ``apiOverride`` fields exactly as the SDK sent them."""
    layers = prediction.config_stack["layers"]
    override = [layer for layer in layers if layer["layerName"] == "apiOverride"]
    assert len(override) == 1, layers
    return {field["key"]: field.get("value") for field in override[0]["config"]["fields"]}


# -- system and model management ---------------------------------------------------------------


def test_version_info_and_notify(shared: Shared) -> None:
    result = shared.run.result("version")
    assert re.fullmatch(r"\d+\.\d+\.\d+", result["version"]), result
    assert isinstance(result["build"], int)
    assert result["info"]["version"] == result["version"]
    assert result["info"]["pid"] == os.getpid()  # the emulator runs in this process
    (notification,) = shared.emulator.record.notifications
    assert (notification.title, notification.description) == (
        "JS conformance",
        "Hello from the SDK",
    )
    assert notification.client_identifier == shared.run.client("version")


def test_list_downloaded_models(shared: Shared) -> None:
    result = shared.run.result("list_downloaded")
    catalog = {spec.model_key: spec for spec in shared.emulator.emulator.catalog}
    assert [m["modelKey"] for m in result["models"]] == list(catalog)
    for model in result["models"]:
        spec = catalog[model["modelKey"]]
        assert model["type"] == spec.type
        assert model["path"] == spec.path
        assert model["displayName"] == spec.display_name
        assert model["sizeBytes"] == spec.size_bytes
        assert model["maxContextLength"] == spec.max_context_length
        assert model["deviceIdentifier"] is None
        if spec.type == "llm":
            assert model["vision"] == spec.vision
            assert model["trainedForToolUse"] == spec.trained_for_tool_use
    assert result["llmKeys"] == [k for k, s in catalog.items() if s.type == "llm"]
    assert result["embeddingKeys"] == [k for k, s in catalog.items() if s.type == "embedding"]


def test_list_loaded_models(shared: Shared) -> None:
    result = shared.run.result("list_loaded")
    preloaded = [spec for spec in shared.emulator.emulator.catalog if spec.preload]
    llms = {m["identifier"]: m for m in result["llms"]}
    embeddings = {m["identifier"]: m for m in result["embeddings"]}
    assert set(llms) == {s.model_key for s in preloaded if s.type == "llm"}
    assert set(embeddings) == {s.model_key for s in preloaded if s.type == "embedding"}
    for model in [*llms.values(), *embeddings.values()]:
        assert model["modelKey"] == model["identifier"]
        assert model["instanceReference"]
    references = [m["instanceReference"] for m in [*llms.values(), *embeddings.values()]]
    assert len(set(references)) == len(references)


def test_model_without_key_returns_a_loaded_model(shared: Shared) -> None:
    result = shared.run.result("model_any")
    loaded = shared.run.result("list_loaded")
    assert result["llm"]["identifier"] in {m["identifier"] for m in loaded["llms"]}
    assert result["embedding"]["identifier"] in {m["identifier"] for m in loaded["embeddings"]}


def test_load_reports_increasing_progress_up_to_one(shared: Shared) -> None:
    result = shared.run.result("load_with_progress")
    key = shared.keys.load.model_key
    assert result["key"] == key
    assert_progress(result["progress"], must_finish=True)
    model = result["model"]
    assert model["modelKey"] == key
    assert model["identifier"] == key  # the default identifier is the model key
    assert model["path"] == shared.keys.load.path
    assert key in result["loadedAfterLoad"]
    assert key not in result["loadedAfterUnload"]
    load = [r for r in shared.emulator.record.requests if r.endpoint == "loadModel"]
    assert any(r.parameter["modelKey"] == key for r in load)


def test_model_with_key_gets_or_loads(shared: Shared) -> None:
    result = shared.run.result("model_get_or_load")
    key = shared.keys.load.model_key
    assert result["alreadyLoaded"]["identifier"] == shared.keys.llm.model_key
    assert result["alreadyLoaded"]["identifier"] in result["loadedBefore"]
    assert key not in result["loadedBefore"]
    assert_progress(result["progress"], must_finish=False)
    assert result["jitLoaded"]["modelKey"] == key
    assert result["jitLoaded"]["identifier"] in result["loadedAfter"]
    # A second get-or-load returns the same instance instead of loading another one.
    assert result["again"]["instanceReference"] == result["jitLoaded"]["instanceReference"]
    assert result["loadedAfterAgain"] == result["loadedAfter"]
    assert result["jitLoaded"]["identifier"] not in result["loadedAfterUnload"]


def test_unload_by_identifier(shared: Shared) -> None:
    result = shared.run.result("unload")
    assert result["model"]["identifier"] == "js-conformance-unload"
    assert result["model"]["modelKey"] == shared.keys.load.model_key
    assert "js-conformance-unload" in result["loadedBefore"]
    assert "js-conformance-unload" not in result["loadedAfter"]
    assert result["unloadAgainError"], "unloading an unknown identifier must fail"
    assert "js-conformance-unload" not in shared.emulator.loaded_identifiers("llm")


def test_model_info(shared: Shared) -> None:
    result = shared.run.result("model_info")
    for info, spec in (
        (result["llm"], shared.keys.llm),
        (result["embedding"], shared.keys.embedding),
    ):
        assert info["type"] == spec.type
        assert info["modelKey"] == spec.model_key
        assert info["identifier"] == spec.model_key
        assert info["path"] == spec.path
        assert info["displayName"] == spec.display_name
        assert info["publisher"] == spec.effective_publisher
        assert info["sizeBytes"] == spec.size_bytes
        assert info["maxContextLength"] == spec.max_context_length
        assert info["contextLength"] == spec.initial_context_length
        assert info["instanceReference"]
        assert "ttlMs" in info
        assert "lastUsedTime" in info
    assert result["llm"]["trainedForToolUse"] == shared.keys.llm.trained_for_tool_use
    assert result["llm"]["vision"] == shared.keys.llm.vision
    # The SDK turns the load configs back into its option objects.
    assert result["llmLoadConfig"]["contextLength"] == shared.keys.llm.initial_context_length
    embedding_context = shared.keys.embedding.initial_context_length
    assert result["embeddingLoadConfig"]["contextLength"] == embedding_context
    base = result["basePredictionConfig"]
    assert isinstance(base["temperature"], int | float)
    assert base["structured"] == {"type": "none"}


def test_dynamic_handles_resolve_queries_on_the_server(shared: Shared) -> None:
    result = shared.run.result("dynamic_handle")
    key = shared.keys.llm.model_key
    assert result["byIdentifier"]["identifier"] == key
    assert result["byPath"]["identifier"] == key
    assert result["byPathCount"] == shared.emulator.engine.tokenizer.count("one two three")
    assert result["missingInfo"] is None
    missing = result["missingRespond"]
    assert missing["settled"], "a prediction on an unknown identifier never settled"
    assert "no-such-identifier" in missing["error"]
    assert result["modelIdentifier"] == key
    (prediction,) = shared.predictions_of("dynamic_handle")
    specifiers = [
        r.parameter["modelSpecifier"]
        for r in shared.emulator.record.requests
        if r.endpoint == "predict" and r.client_identifier == shared.run.client("dynamic_handle")
    ]
    assert specifiers == [
        {"type": "query", "query": {"path": result["repo"]}},
        {"type": "query", "query": {"identifier": "no-such-identifier"}},
    ]
    assert prediction.model_identifier == key


def test_context_length(shared: Shared) -> None:
    result = shared.run.result("context_length")
    assert result["llm"] == shared.keys.llm.initial_context_length
    assert result["llm"] == result["llmInfoContextLength"]
    assert result["llm"] <= result["llmMaxContextLength"]
    assert result["embedding"] == shared.keys.embedding.initial_context_length
    assert result["embedding"] == result["embeddingInfoContextLength"]


# -- tokens and embeddings ---------------------------------------------------------------------


def test_tokenize_and_count_tokens_match_the_emulator_tokenizer(shared: Shared) -> None:
    result = shared.run.result("tokenize")
    tokenizer = shared.emulator.engine.tokenizer
    text = result["text"]
    assert result["llmModel"] == shared.keys.llm.model_key
    assert result["llmTokens"] == tokenizer.encode(text)
    assert result["llmCount"] == tokenizer.count(text) == len(result["llmTokens"])
    assert result["llmListTokens"] == [tokenizer.encode(item) for item in result["list"]]
    assert result["llmListTokens"][-1] == []
    assert result["embeddingModel"] == shared.keys.embedding.model_key
    assert result["embeddingTokens"] == tokenizer.encode(text)
    assert result["embeddingCount"] == tokenizer.count(text)


def test_embed_a_string_and_a_list(shared: Shared) -> None:
    result = shared.run.result("embed")
    dimension = shared.keys.embedding.embedding_dimension
    single, many = result["single"], result["many"]
    assert len(single) == dimension
    assert [len(vector) for vector in many] == [dimension] * len(result["texts"])
    assert result["singleNorm"] == pytest.approx(1.0, abs=1e-6)
    assert result["manyNorms"] == pytest.approx([1.0] * len(many), abs=1e-6)
    # The list comes back in input order: its first vector is the one of the single call.
    assert many[0] == single
    assert many[0] != many[1]
    # Related texts are closer than unrelated ones.
    cat, dog, short_cat = many
    assert cosine(cat, short_cat) > cosine(cat, dog)
    embeds = [r for r in shared.emulator.record.requests if r.endpoint == "embedString"]
    assert {r.parameter["inputString"] for r in embeds} == set(result["texts"])


# -- predictions -------------------------------------------------------------------------------


def test_respond(shared: Shared) -> None:
    result = shared.run.result("respond")
    assert result["content"].strip()
    assert result["nonReasoningContent"] == result["content"]
    assert result["reasoningContent"] == ""
    assert result["stats"]["stopReason"] in STOP_REASONS_OF_A_FINISHED_REPLY
    assert_stats_add_up(result["stats"])
    assert result["modelIdentifier"] == shared.keys.llm.model_key
    assert result["onMessage"] == [result["content"]]
    (prediction,) = shared.predictions_of("respond")
    assert prediction.endpoint == "predict"
    assert [m["role"] for m in prediction.history] == ["system", "user"]
    assert text_of(prediction.history[1]) == (
        "What is the capital of France? Answer in one short sentence."
    )
    sent = sent_fields(prediction)
    assert sent["llm.prediction.temperature"] == 0
    assert sent["llm.prediction.maxPredictedTokens"] == {"checked": True, "value": 64}
    tokenizer = shared.emulator.engine.tokenizer
    assert result["stats"]["promptTokensCount"] == tokenizer.count(prediction.prompt)
    # The effective config the server reports back is the one it used.
    reported = {field["key"]: field.get("value") for field in result["predictionConfig"]}
    assert reported["llm.prediction.temperature"] == 0


def test_complete(shared: Shared) -> None:
    result = shared.run.result("complete")
    assert result["content"].strip()
    assert result["stats"]["stopReason"] in STOP_REASONS_OF_A_FINISHED_REPLY
    assert_stats_add_up(result["stats"])
    (prediction,) = shared.predictions_of("complete")
    # SDK 2.0.0 completes raw text on its own endpoint, with the prompt used verbatim.
    assert prediction.endpoint == "completeRawText"
    assert prediction.prompt == "The three primary colors are"
    assert sent_fields(prediction)["llm.prediction.stopStrings"] == []


def test_streaming_fragments_add_up_to_the_result(shared: Shared) -> None:
    result = shared.run.result("streaming")
    fragments = result["fragments"]
    assert len(fragments) > 1
    assert result["joined"] == result["content"]
    assert result["firstTokenCallbacks"] == 1
    for fragment in fragments:
        assert fragment["reasoningType"] == "none"
        assert fragment["isStructural"] is False
        assert fragment["containsDrafted"] is False
    stats = result["stats"]
    assert stats["predictedTokensCount"] == sum(f["tokensCount"] for f in fragments)
    assert_stats_add_up(stats)


def test_structured_response_with_a_json_schema(shared: Shared) -> None:
    result = shared.run.result("structured_json_schema")
    parsed = result["parsed"]
    assert set(parsed) >= {"city", "population", "landmarks"}
    assert isinstance(parsed["city"], str)
    assert isinstance(parsed["population"], int)
    assert isinstance(parsed["landmarks"], list)
    assert all(isinstance(item, str) for item in parsed["landmarks"])
    (prediction,) = shared.predictions_of("structured_json_schema")
    assert sent_fields(prediction)["llm.prediction.structured"] == {
        "type": "json",
        "jsonSchema": result["jsonSchema"],
    }


def test_structured_response_with_a_zod_schema(shared: Shared) -> None:
    result = shared.run.result("structured_zod")
    assert result["zodAccepts"] is True
    parsed = result["parsed"]
    assert parsed == json.loads(result["content"])
    assert isinstance(parsed["title"], str)
    assert isinstance(parsed["year"], int)
    assert isinstance(parsed["inPrint"], bool)
    assert all(isinstance(genre, str) for genre in parsed["genres"])
    (prediction,) = shared.predictions_of("structured_zod")
    structured = sent_fields(prediction)["llm.prediction.structured"]
    assert structured["type"] == "json"
    schema = structured["jsonSchema"]
    assert set(schema["properties"]) == {"title", "year", "genres", "inPrint"}
    assert schema["properties"]["year"]["type"] == "integer"


def test_act_calls_the_tool_and_answers_with_its_result(shared: Shared) -> None:
    result = shared.run.result("act_tool")
    assert result["calls"] == [{"a": 12, "b": 30}]
    (request,) = result["requests"]
    assert request["request"]["name"] == "add"
    assert request["request"]["arguments"] == {"a": 12, "b": 30}
    assert result["rounds"] == 2
    assert result["roundsStarted"] == [0, 1]
    roles = [message["role"] for message in result["messages"]]
    assert roles == ["assistant", "tool", "assistant"]
    tool_call_id = request["request"].get("id")
    assert result["messages"][0]["toolCallRequests"] == [request["request"]]
    (tool_result,) = result["messages"][1]["toolCallResults"]
    assert tool_result["content"] == "42"
    assert tool_result.get("toolCallId") == tool_call_id
    assert "42" in result["finalText"]

    first, second = shared.predictions_of("act_tool")
    tools = sent_fields(first)["llm.prediction.tools"]
    assert tools["type"] == "toolArray"
    (tool_def,) = tools["tools"]
    assert tool_def["function"]["name"] == "add"
    assert set(tool_def["function"]["parameters"]["properties"]) == {"a", "b"}
    # The second round carries the assistant's tool call and the tool's answer.
    assert [m["role"] for m in second.history] == ["user", "assistant", "tool"]
    (part,) = second.history[2]["content"]
    assert part["type"] == "toolCallResult"
    assert part["content"] == "42"
    assert part.get("toolCallId") == tool_call_id


def test_tool_call_streaming_with_raw_tools(shared: Shared) -> None:
    result = shared.run.result("tool_call_streaming")
    events = result["events"]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "start"
    assert kinds[-1] == "end"
    assert "failure" not in kinds
    assert {event["callId"] for event in events} == {0}
    assert [event["name"] for event in events if event["event"] == "name"] == ["get_weather"]
    end = events[-1]["toolCallRequest"]
    assert end["name"] == "get_weather"
    assert end["arguments"] == {"city": "Paris"}
    streamed = "".join(event["content"] for event in events if event["event"] == "arguments")
    assert json.loads(streamed) == end["arguments"]
    assert result["stats"]["stopReason"] == "toolCalls"


def test_reasoning_is_separated_from_the_answer(shared: Shared) -> None:
    result = shared.run.result("reasoning")
    fragments = result["fragments"]
    kinds = [fragment["reasoningType"] for fragment in fragments]
    assert "reasoningStartTag" in kinds
    assert "reasoningEndTag" in kinds
    assert kinds.index("reasoningStartTag") < kinds.index("reasoning")
    assert kinds.index("reasoningEndTag") < len(kinds) - 1
    reasoning = "".join(f["content"] for f in fragments if f["reasoningType"] == "reasoning")
    answer = "".join(f["content"] for f in fragments if f["reasoningType"] == "none")
    assert result["reasoningContent"] == reasoning
    assert result["nonReasoningContent"] == answer
    assert result["reasoningContent"].strip()
    assert result["nonReasoningContent"].strip()
    assert result["content"] == "".join(f["content"] for f in fragments)
    assert result["modelKey"] == shared.keys.reasoning.model_key


def test_diagnostics_log_stream_shows_the_prediction_input(shared: Shared) -> None:
    result = shared.run.result("diagnostics_logs")
    inputs = [e for e in result["events"] if e["data"]["type"] == "llm.prediction.input"]
    assert inputs, f"no llm.prediction.input event among {result['events']}"
    prompts = {p.prompt for p in shared.predictions_of("diagnostics_logs")}
    assert len(shared.predictions_of("diagnostics_logs")) == result["predictions"]
    for event in inputs:
        assert isinstance(event["timestamp"], int | float)
        assert event["data"]["input"] in prompts
        assert result["prompt"] in event["data"]["input"]
        assert event["data"]["modelIdentifier"] == result["model"]["identifier"]
        assert event["data"]["modelPath"] == result["model"]["path"]
    stops = [c for c in shared.emulator.record.cancels if c.endpoint == "streamLogs"]
    assert [c.packet_type for c in stops] == ["stop"]


def test_images_reach_a_vision_model_and_are_refused_by_others(shared: Shared) -> None:
    result = shared.run.result("vision")
    image, text = result["image"], result["text"]
    assert (image["type"], image["name"], image["sizeBytes"]) == ("image", "pixel.png", 70)
    assert (text["type"], text["name"], text["sizeBytes"]) == ("text/plain", "notes.txt", 17)
    for handle in (image, text):
        assert not re.search(r"[/\\]", handle["identifier"]), handle
    assert image["identifier"] != text["identifier"]
    assert result["visionModel"]["modelKey"] == shared.keys.vision.model_key
    assert result["visionModel"]["vision"] is True
    assert result["content"].strip()
    assert result["stats"]["stopReason"] in STOP_REASONS_OF_A_FINISHED_REPLY
    refused = result["textOnlyModelOutcome"]
    assert refused["settled"], "the prediction on a text-only model never settled"
    assert "error" in refused, "a text-only model accepted an image"
    assert "image" in refused["error"].lower()
    (prediction,) = shared.predictions_of("vision")  # the refused one never reached a model
    (user,) = prediction.history
    files = [part for part in user["content"] if part["type"] == "file"]
    assert files == [
        {
            "type": "file",
            "name": "pixel.png",
            "identifier": image["identifier"],
            "sizeBytes": 70,
            "fileType": "image",
        }
    ]
    assert shared.keys.vision.model_key not in shared.emulator.loaded_identifiers("llm")


def test_model_errors_reject_instead_of_hanging(shared: Shared) -> None:
    result = shared.run.result("model_errors")
    for name, observed in result.items():
        assert observed["settled"], f"{name}: the SDK promise never settled"
        assert "error" in observed, f"{name}: succeeded but should have failed: {observed}"
    assert "no-such-model-key" in result["loadUnknown"]["error"]
    assert "no-such-model-key" in result["getUnknown"]["error"]
    assert "no-such-identifier" in result["unloadUnknown"]["error"]
    assert "unloaded" in result["staleRespond"]["error"]
    assert "unloaded" in result["staleInfo"]["error"]


def test_apply_prompt_template(shared: Shared) -> None:
    formatted = shared.run.result("apply_prompt_template")["formatted"]
    assert formatted.index("Be brief.") < formatted.index("Hello there")


def test_no_protocol_warnings_reached_the_emulator(shared: Shared) -> None:
    """The SDK reports every server message it rejects with a communicationWarning."""
    warnings = [
        frame
        for _, _, frame in shared.emulator.record.frames
        if isinstance(frame, Mapping) and frame.get("type") == "communicationWarning"
    ]
    assert warnings == []


# -- cancellation (slow generation) ------------------------------------------------------------

LONG_REPLY = " ".join(
    f"Sentence number {n} of a long scripted story about the sea." for n in range(40)
)


class TestCancel:
    @pytest.fixture
    def lmstudio_emulator_options(self) -> dict[str, Any]:
        return {"tokens_per_second": 60.0}

    def test_cancel_stops_the_prediction_with_user_stopped(
        self, lmstudio_emulator: EmulatorThread
    ) -> None:
        lmstudio_emulator.engine.script_reply(LONG_REPLY)
        run = run_scenarios(lmstudio_emulator.base_url, ["cancel"])
        result = run.result("cancel")
        assert result["stats"]["stopReason"] == "userStopped"
        assert result["fragmentsBeforeCancel"] == 2
        assert result["joined"] == result["content"]
        assert LONG_REPLY.startswith(result["content"])
        assert len(result["content"]) < len(LONG_REPLY) // 2
        cancels = [c for c in lmstudio_emulator.record.cancels if c.endpoint == "predict"]
        assert len(cancels) == 1
        assert cancels[0].client_identifier == run.client("cancel")
        assert cancels[0].packet_type == "cancel"


def test_stop_strings_and_token_limits(lmstudio_emulator: EmulatorThread) -> None:
    lmstudio_emulator.engine.script_reply("The answer is 42. STOP and more")
    result = run_scenarios(lmstudio_emulator.base_url, ["stop_reasons"]).result("stop_reasons")
    stopped, limited = result["stopped"], result["limited"]
    assert stopped["content"] == "The answer is 42. "
    assert stopped["stats"]["stopReason"] == "stopStringFound"
    assert stopped["stats"]["stopString"] == "STOP"
    assert limited["stats"]["stopReason"] == "maxPredictedTokensReached"
    assert limited["stats"]["predictedTokensCount"] == 4
    assert lmstudio_emulator.engine.tokenizer.count(limited["content"]) == 4


# -- model repository ------------------------------------------------------------------------


def test_search_and_download_a_model(lmstudio_emulator: EmulatorThread) -> None:
    run = run_scenarios(lmstudio_emulator.base_url, ["repository"])
    result = run.result("repository")
    assert result["entries"], "searching for 'qwen' found nothing"
    assert all(entry["name"] for entry in result["entries"])
    assert result["options"], "the first search result has no download options"
    for option in result["options"]:
        assert option["name"]
        assert option["sizeBytes"] > 0
        assert option["indexedModelIdentifier"]
    progress = result["progress"]
    downloaded = [update["downloadedBytes"] for update in progress]
    assert downloaded == sorted(downloaded)
    assert all(u["downloadedBytes"] <= u["totalBytes"] for u in progress)
    assert result["modelKey"] in result["downloadedKeys"]


# -- injected server faults --------------------------------------------------------------------


class TestInjectedFaults:
    @pytest.mark.parametrize("after_fragments", [None, 3])
    def test_prediction_errors_reach_the_caller(
        self, lmstudio_emulator: EmulatorThread, after_fragments: int | None
    ) -> None:
        title = f"Injected failure after {after_fragments} fragments"
        lmstudio_emulator.faults.fail_next("predict", title=title, after_fragments=after_fragments)
        result = run_scenarios(lmstudio_emulator.base_url, ["prediction_error"]).result(
            "prediction_error"
        )
        assert result["settled"], "the prediction error never reached the SDK"
        assert "error" in result, f"the prediction succeeded: {result}"
        assert title in result["error"]
        assert len(result["fragments"]) == (after_fragments or 0)

    def test_the_harness_sees_packets_the_sdk_rejects(
        self, lmstudio_emulator: EmulatorThread
    ) -> None:
        """An unknown packet makes the SDK warn: the no-warning checks above are not vacuous."""
        lmstudio_emulator.faults.inject_unknown_packet(endpoint="predict", after_fragments=2)
        run = run_scenarios(lmstudio_emulator.base_url, ["streaming"])
        line = run.line("streaming")
        assert line["ok"], line["error"]
        assert line["result"]["joined"] == line["result"]["content"]
        assert any("Received invalid message for channel" in w for w in line["warnings"])
        kinds = [
            frame.get("kind")
            for _, _, frame in lmstudio_emulator.record.frames
            if isinstance(frame, Mapping) and frame.get("type") == "communicationWarning"
        ]
        assert kinds == ["channelMessageTypeError"]


# -- API tokens --------------------------------------------------------------------------------


class TestApiToken:
    @pytest.fixture
    def lmstudio_emulator_options(self) -> dict[str, Any]:
        return {"api_tokens": [GOOD_TOKEN]}

    def auth(
        self, emulator: EmulatorThread, *options: str, env: Mapping[str, str] | None = None
    ) -> ScenarioLine:
        run = run_scenarios(emulator.base_url, ["auth"], *options, env=env)
        line = run.line("auth")
        assert line["ok"], line["error"]
        return line

    def test_good_token_is_accepted(self, lmstudio_emulator: EmulatorThread) -> None:
        line = self.auth(lmstudio_emulator, "--token", GOOD_TOKEN)
        assert line["result"] == {
            "accepted": True,
            "modelCount": len(lmstudio_emulator.emulator.catalog),
        }
        assert line["client"] == "JsConf01"
        assert line["warnings"] == []

    def test_token_from_the_environment_is_accepted(
        self, lmstudio_emulator: EmulatorThread
    ) -> None:
        line = self.auth(lmstudio_emulator, env={"LM_API_TOKEN": GOOD_TOKEN})
        assert line["result"]["accepted"] is True
        assert line["client"] == "JsConf01"

    @pytest.mark.parametrize("token", [WRONG_PASSKEY_TOKEN, UNKNOWN_TOKEN])
    def test_wrong_token_is_rejected(self, lmstudio_emulator: EmulatorThread, token: str) -> None:
        line = self.auth(lmstudio_emulator, "--token", token)
        assert line["result"]["accepted"] is False
        assert "Failed to authenticate" in line["result"]["error"]
        assert lmstudio_emulator.record.requests == []

    def test_missing_token_is_rejected(self, lmstudio_emulator: EmulatorThread) -> None:
        line = self.auth(lmstudio_emulator)
        assert line["result"]["accepted"] is False
        assert "Failed to authenticate" in line["result"]["error"]
        assert line["client"] is not None
        assert line["client"].startswith("guest:")
