"""The sync and async public classes have the same methods with the same parameters."""

from __future__ import annotations

import inspect
import re

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
