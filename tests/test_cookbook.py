"""Every cookbook recipe runs as a user would run it, against the emulator.

Each recipe is a script run in a subprocess with ``LMSTUDIO_BASE_URL`` pointing at a fresh
emulator; it must exit 0 and print what it promises. Recipes named ``test_*.py`` are pytest
modules (they bring their own emulator fixture) and are run with pytest. The test is
parametrized over the folder's files, and a recipe without expectations below fails, so a
new recipe cannot be forgotten.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lmstudio_core.emulator import EmulatorThread, default_catalog, run_in_thread

ROOT = Path(__file__).resolve().parent.parent
COOKBOOK = ROOT / "cookbook"
RECIPES = sorted(path.name for path in COOKBOOK.glob("*.py"))
RUN_TIMEOUT = 50.0
MAX_LINES = 90  # recipes aim at 60 lines; this catches one that grew into an application

# Lines each recipe must print, in this order (substrings of its standard output).
EXPECTED: dict[str, list[str]] = {
    "01_quickstart_sync.py": ["Connected to LM Studio", "Answer: ", "Stats: ", "Turn 2: "],
    "02_quickstart_async.py": ["Answer: ", "Q: Who wrote", "A: ", "Streamed "],
    "03_streaming_and_cancel.py": [
        "Thinking: ",
        "Answer: ",
        "Stats: ",
        "stop reason userStopped",
        "Stopped after the first fragment",
    ],
    "04_structured_output.py": ["Raw JSON: {", "Book: ", "City: "],
    "05_tool_calling.py": [
        "Tool call: get_weather({'city': 'Paris'}) -> 18 °C, sunny",
        "Answer: ",
        "Round 1: add(",
        "Round 2: final answer",
        "act() answer: ",
    ],
    "06_images.py": ["Uploaded red-square.png", "Answer: "],
    "07_embeddings_search.py": [
        "Embedded 5 documents, 768 dimensions each",
        "Query: Which tower is in Paris?",
        "Eiffel Tower",
        "Query: Who invented Python?",
        "Guido van Rossum",
    ],
    "08_model_loading.py": [
        "Downloaded LLMs:",
        "qwen3-4b",
        "100%",
        "Loaded as 'cookbook-loaded', context length 2048",
        "Loaded 'cookbook-again'",
        "Unloaded both",
    ],
    "09_errors_and_timeouts.py": [
        "ModelNotFoundError: ",
        "Answer: ",
        "DomainMismatchError (generic.domainMismatch)",
        "ConnectError: ",
    ],
    "10_langchain_chat.py": [
        "invoke: ",
        "usage: {'input_tokens'",
        "stream: ",
        "chain: ",
        "batch: ",
        "batch: ",
        "ainvoke: ",
    ],
    "11_langchain_tools_agent.py": [
        "tool get_population({'city': 'Paris'}) -> 2100000",
        "Answer: ",
        "AIMessage -> ToolMessage -> AIMessage",
    ],
    "12_langchain_structured_output.py": [
        "json_schema: Person(",
        "function_calling: Person(",
        "include_raw: parsed=Person(",
    ],
    "13_langchain_embeddings.py": [
        "embed_documents: 3 vectors of 768 dimensions",
        "aembed_documents: 3 vectors, same as the sync ones: True",
    ],
    "14_langchain_rag.py": ["retrieved: The office wifi password", "Q: ", "A: "],
    "15_web_service.py": [
        "/chat: 20 requests answered, e.g. {'answer': ",
        "/achat: 20 requests answered",
        "/embed: 20 requests answered, e.g. {'dimensions': ",
        "Service stopped",
    ],
    "20_llamaindex_chat.py": [
        "thinking: ",
        "chat: ",
        "metadata: context window 2048",
        "complete: ",
        "stream_chat: ",
        "acomplete: ",
    ],
    "21_llamaindex_agent.py": ["tool add(", "-> 42", "Agent answer: "],
    "22_llamaindex_rag.py": [
        "Indexed 4 documents",
        "retrieved (",
        "Saturn",
        "Q: What is the largest moon of Saturn?",
        "sources: 2 nodes",
    ],
    "test_my_app_example.py": ["4 passed"],
}

# Emulator options per recipe (default: none).
EMULATOR_OPTIONS: dict[str, dict[str, Any]] = {
    # slow enough that the cancel arrives mid-reply, on any machine
    "03_streaming_and_cancel.py": {"tokens_per_second": 200},
    # a visible load, so that there is progress to show
    "08_model_loading.py": {"load_seconds": 0.2},
}


def _cancels_were_sent(emulator: EmulatorThread) -> None:
    cancelled = [c for c in emulator.record.cancels if c.endpoint == "predict"]
    assert len(cancelled) >= 2, "the explicit cancel and the early exit both reach the server"


def _tool_results_went_back(emulator: EmulatorThread) -> None:
    roles = [[m["role"] for m in p.history] for p in emulator.record.predictions]
    assert sum("tool" in history for history in roles) >= 2, roles


# What the emulator must have received, for recipes whose point is a server-side effect.
SERVER_CHECKS: dict[str, Callable[[EmulatorThread], None]] = {
    "03_streaming_and_cancel.py": _cancels_were_sent,
    "05_tool_calling.py": _tool_results_went_back,
}


def _recipe_env(base_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMSTUDIO_") and key not in ("LM_API_TOKEN", "PYTEST_ADDOPTS")
    }
    if base_url is not None:
        env["LMSTUDIO_BASE_URL"] = base_url
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=RUN_TIMEOUT,
        check=False,
    )


def _assert_in_order(output: str, expected: list[str]) -> None:
    position = 0
    for text in expected:
        found = output.find(text, position)
        assert found >= 0, f"expected {text!r} (in this order) in the output:\n{output}"
        position = found + len(text)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_runs(recipe: str) -> None:
    assert recipe in EXPECTED, f"new recipe {recipe}: add what it must print to EXPECTED"
    if recipe.startswith("test_"):
        args = ["-m", "pytest", f"cookbook/{recipe}", "-q", "-p", "no:cacheprovider"]
        completed = _run(args, _recipe_env(None))
        check = None
    else:
        with run_in_thread(**EMULATOR_OPTIONS.get(recipe, {})) as emulator:
            completed = _run([f"cookbook/{recipe}"], _recipe_env(emulator.base_url))
            check = SERVER_CHECKS.get(recipe)
            if check is not None and completed.returncode == 0:
                check(emulator)
    report = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    assert completed.returncode == 0, report
    assert "Traceback" not in completed.stderr, report
    _assert_in_order(completed.stdout, EXPECTED[recipe])


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_shape(recipe: str) -> None:
    """A docstring with the prerequisites first, the public API only, and short."""
    source = (COOKBOOK / recipe).read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring, f"{recipe} must start with a docstring saying what it shows"
    if not recipe.startswith("test_"):
        assert "Prerequisites:" in docstring
        assert "LMSTUDIO_BASE_URL" in docstring
        assert 'if __name__ == "__main__":' in source
    assert len(source.splitlines()) <= MAX_LINES
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(("lmstudio_core", "lmstudio_integrations")):
                private = [part for part in name.split(".") if part.startswith("_")]
                assert not private, f"{recipe} imports {name}: recipes use the public API only"


JIT_ONLY = ["14_langchain_rag.py", "22_llamaindex_rag.py"]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", JIT_ONLY)
def test_rag_recipe_with_models_loaded_on_demand(recipe: str) -> None:
    """Nothing preloaded: loading the LLM on demand evicts the embedding model (LM Studio's
    default JIT auto-evict), and the recipe must still answer."""
    catalog = [dataclasses.replace(spec, preload=False) for spec in default_catalog()]
    with run_in_thread(catalog=catalog) as emulator:
        completed = _run([f"cookbook/{recipe}"], _recipe_env(emulator.base_url))
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    _assert_in_order(completed.stdout, EXPECTED[recipe])


def test_every_expectation_has_a_recipe() -> None:
    assert sorted(EXPECTED) == RECIPES
    assert set(EMULATOR_OPTIONS) <= set(RECIPES)
    assert set(SERVER_CHECKS) <= set(RECIPES)
