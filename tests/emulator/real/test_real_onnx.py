"""The ONNX all-MiniLM-L6-v2 embedder, driven directly."""

from __future__ import annotations

import math

import pytest
from lmstudio_core.emulator.real import OnnxEmbeddingEngine, RealEngines

pytestmark = pytest.mark.usefixtures("real")  # skips when the real engines are missing


@pytest.fixture
def embedder(real: RealEngines) -> OnnxEmbeddingEngine:
    return real.embedder


def _cosine(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


def test_vectors_are_384_dimensional_unit_vectors(embedder: OnnxEmbeddingEngine) -> None:
    vector = embedder.embed("The quick brown fox jumps over the lazy dog.")

    assert len(vector) == embedder.dimension == 384
    assert all(math.isfinite(x) for x in vector)
    assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)


def test_similar_meanings_are_closer(embedder: OnnxEmbeddingEngine) -> None:
    cat, kitten, spreadsheet = embedder.embed_batch(["cat", "kitten", "spreadsheet"])

    assert _cosine(cat, kitten) > _cosine(cat, spreadsheet) + 0.1


def test_batches_match_single_texts_and_keep_order(embedder: OnnxEmbeddingEngine) -> None:
    texts = ["a short one", "a much longer sentence with many more words in it", ""] * 15

    batch = embedder.embed_batch(texts)  # 45 texts: two onnxruntime calls of up to 32

    assert len(batch) == len(texts)
    for text, vector in zip(texts[:3], batch[:3], strict=True):
        assert _cosine(vector, embedder.embed(text)) > 0.9999
    assert batch[0] == batch[3]


def test_tokenizer_adds_special_tokens_and_truncates(embedder: OnnxEmbeddingEngine) -> None:
    tokens = embedder.tokenize("hello world")

    assert tokens == [101, 7592, 2088, 102]  # [CLS] hello world [SEP]
    assert embedder.count_tokens("hello world") == 4
    assert embedder.count_tokens("word " * 1000) == embedder.max_tokens == 256
