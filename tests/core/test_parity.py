"""The sync and async public classes have the same methods with the same parameters, and
the generated blocking modules are current (``scripts/unasync.py --check``)."""

from __future__ import annotations

import ast
import difflib
import importlib.util
import inspect
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import lmstudio_core as sdk
import pytest

PAIRS = [
    (sdk.Client, sdk.AsyncClient),
    (sdk.LLMNamespace, sdk.AsyncLLMNamespace),
    (sdk.EmbeddingNamespace, sdk.AsyncEmbeddingNamespace),
    (sdk.SystemNamespace, sdk.AsyncSystemNamespace),
    (sdk.FilesNamespace, sdk.AsyncFilesNamespace),
    (sdk.LLM, sdk.AsyncLLM),
    (sdk.EmbeddingModel, sdk.AsyncEmbeddingModel),
    (sdk.PredictionStream, sdk.AsyncPredictionStream),
    (sdk.LoadStream, sdk.AsyncLoadStream),
]
# Methods that return a stream (or only send) and so are plain functions on both sides.
STARTS_WITHOUT_AWAIT = {"respond_stream", "complete_stream", "load_stream", "cancel"}
# Protocol methods that differ by nature between the two worlds.
SYNC_ONLY = {"__enter__", "__exit__", "__iter__", "__next__"}
ASYNC_ONLY = {"__aenter__", "__aexit__", "__aiter__", "__anext__"}
DUNDER_TWINS = {"__aenter__": "__enter__", "__aexit__": "__exit__", "__aiter__": "__iter__",
                "__anext__": "__next__"}  # fmt: skip


def public_members(cls: type, excluded: set[str]) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if (not name.startswith("_") or name in SYNC_ONLY | ASYNC_ONLY)
        and name not in excluded
        and name not in dir(object)
    }


def normalise(annotation: object) -> str:
    text = str(annotation)
    text = re.sub(r"\bAsync(?=[A-Z])", "", text)
    return text.replace("AsyncIterator", "Iterator").replace("Awaitable", "")


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_same_public_members(sync_cls: type, async_cls: type) -> None:
    sync_members = public_members(sync_cls, ASYNC_ONLY)
    async_members = public_members(async_cls, SYNC_ONLY)
    renamed = {DUNDER_TWINS.get(name, name) for name in async_members}
    assert sorted(sync_members) == sorted(renamed)
    assert async_cls.__name__ == "Async" + sync_cls.__name__


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__name__)
def test_same_signatures(sync_cls: type, async_cls: type) -> None:
    for name, member in public_members(sync_cls, ASYNC_ONLY).items():
        if name in SYNC_ONLY or isinstance(member, property):
            continue
        other = getattr(async_cls, name)
        sync_sig = inspect.signature(member)  # type: ignore[arg-type]
        async_sig = inspect.signature(other)
        sync_params = [(p.name, p.kind, p.default, normalise(p.annotation))
                       for p in sync_sig.parameters.values()]  # fmt: skip
        async_params = [(p.name, p.kind, p.default, normalise(p.annotation))
                        for p in async_sig.parameters.values()]  # fmt: skip
        assert sync_params == async_params, f"{sync_cls.__name__}.{name}"
        assert normalise(sync_sig.return_annotation) == normalise(async_sig.return_annotation)
        assert not inspect.iscoroutinefunction(member), f"{sync_cls.__name__}.{name}"
        expected_async = name not in STARTS_WITHOUT_AWAIT
        assert inspect.iscoroutinefunction(other) == expected_async, f"{async_cls.__name__}.{name}"


def test_client_attributes_match() -> None:
    sync_client = sdk.Client("localhost:1")
    async_client = sdk.AsyncClient("localhost:1")
    for name in ("llm", "embedding", "system", "files"):
        assert (
            type(getattr(async_client, name)).__name__
            == "Async" + type(getattr(sync_client, name)).__name__
        )
    sync_client.close()


# -- the generator -------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def load_unasync() -> Any:
    if "unasync" in sys.modules:
        return sys.modules["unasync"]
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unasync"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    unasync = load_unasync()
    assert unasync.main(["--check"]) == 0, capsys.readouterr().out
    for target in unasync.TARGETS:
        first = (ROOT / target.target).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# Generated from {target.source} by scripts/unasync.py: do not edit."


def copy_tree(unasync: Any, into: Path) -> None:
    for target in unasync.TARGETS:
        for name in (target.source, target.target):
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, into / name)


@pytest.mark.parametrize("edited", ["source", "target"])
def test_the_check_fails_on_a_stale_file(
    tmp_path: Path, edited: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unasync = load_unasync()
    copy_tree(unasync, tmp_path)
    assert unasync.main(["--check", "--root", str(tmp_path)]) == 0
    stream = next(t for t in unasync.TARGETS if t.source.endswith("_async/streams.py"))
    path = tmp_path / getattr(stream, edited)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("self._pending.popleft()", "self._pending.pop()"), "utf-8")
    capsys.readouterr()
    assert unasync.main(["--check", "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert stream.target in captured.err
    assert "popleft" in captured.out  # the diff is shown
    assert unasync.main(["--root", str(tmp_path)]) == 0  # regenerating mends it
    assert unasync.main(["--check", "--root", str(tmp_path)]) == 0
    regenerated = (tmp_path / stream.target).read_text(encoding="utf-8")
    assert ("self._pending.pop()" in regenerated) == (edited == "source")


def test_the_generated_code_is_blocking() -> None:
    unasync = load_unasync()
    for target in unasync.TARGETS:
        tree = ast.parse((ROOT / target.target).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{target.target}:{getattr(node, 'lineno', '?')}"
            assert not isinstance(
                node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith
            ), where
            names = [getattr(node, "id", ""), getattr(node, "attr", "")]
            names += [alias.name for alias in getattr(node, "names", [])]
            assert not [n for n in names if re.match(r"Async[A-Z]|asyncio\b", n)], where


def shared_lines(first: Path, second: Path) -> float:
    """The share of lines (of the longer file) that the two files have to the letter."""
    a, b = ([line.strip() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()] for path in (first, second))  # fmt: skip
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(len(a), len(b))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("core/lmstudio_core/_async/_io.py", "core/lmstudio_core/_sync/_io.py"),
        ("tests/core/io/test_only_async.py", "tests/core/io/test_only_sync.py"),
    ],
)
def test_hand_written_twins_share_little(first: str, second: str) -> None:
    assert shared_lines(ROOT / first, ROOT / second) <= 0.4
