"""The demo (``python -m lmstudio_integrations.demo``) runs from start to end.

It is run in a subprocess, as ``./dev.sh demo`` runs it: against an LM Studio address
(an emulator started here), with its own deterministic emulator, and falling back to the
emulator with the real engines when nothing answers at ``LMSTUDIO_BASE_URL``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lmstudio_core.emulator import run_in_thread
from lmstudio_core.emulator.real import real_engines_available

ROOT = Path(__file__).resolve().parent.parent

SECTIONS = [
    "=== 1. Core SDK",
    "Loading ",
    "100%",
    "Answer: ",
    "Stats: ",
    "=== 2. LangChain: prompt | ChatLMStudio | StrOutputParser",
    "=== 3. LangChain: structured output",
    "City(name=",
    "=== 4. LlamaIndex: VectorStoreIndex",
    "retrieved (",
    "A: ",
    "=== 5. Cancelling a stream",
    "[cancelled]",
    "Stop reason: userStopped",
    "Done in ",
]


def _env(base_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMSTUDIO_") and key != "LM_API_TOKEN"
    }
    if base_url is not None:
        env["LMSTUDIO_BASE_URL"] = base_url
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def _run_demo(env: dict[str, str], *args: str, timeout: float) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "lmstudio_integrations.demo", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    report = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    assert completed.returncode == 0, report
    assert "Traceback" not in completed.stderr, report
    return completed.stdout


def _assert_in_order(output: str, expected: list[str]) -> None:
    position = 0
    for text in expected:
        found = output.find(text, position)
        assert found >= 0, f"expected {text!r} (in this order) in the output:\n{output}"
        position = found + len(text)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_uses_lm_studio_at_the_configured_address() -> None:
    with run_in_thread(load_seconds=0.2, tokens_per_second=100) as emulator:
        env = _env(emulator.base_url, LMSTUDIO_MODEL="qwen3-4b")
        output = _run_demo(env, timeout=50)
        loaded = emulator.loaded_identifiers("embedding")
    _assert_in_order(output, ["Backend: LM Studio 0.", emulator.base_url, *SECTIONS[:1]])
    _assert_in_order(output, ["Thinking: ", "Answer: "])  # a reasoning model
    _assert_in_order(output, SECTIONS)
    assert "text-embedding-nomic-embed-text-v1.5: already loaded" in output
    assert loaded == ["text-embedding-nomic-embed-text-v1.5"]


@pytest.mark.slow
def test_demo_with_its_deterministic_emulator() -> None:
    output = _run_demo(_env(), "--deterministic", timeout=50)
    _assert_in_order(output, ["Backend: the LM Studio emulator", "deterministic engine"])
    _assert_in_order(output, ["Thinking: ", "Answer: "])
    _assert_in_order(output, SECTIONS)


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.skipif(not real_engines_available(), reason="the real engines are not installed")
def test_demo_falls_back_to_the_emulator_with_real_models() -> None:
    env = _env(f"http://127.0.0.1:{_closed_port()}")
    output = _run_demo(env, timeout=140)
    _assert_in_order(output, ["No LM Studio answers on", "starting the emulator"])
    _assert_in_order(output, ["with real models: SmolLM2-135M", "Loading all-minilm-l6-v2"])
    _assert_in_order(output, SECTIONS)
