"""Hashing embeddings are deterministic unit vectors that reflect shared words."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmstudio_core.emulator._engine import HashingEmbedder


def _cosine(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


@settings(max_examples=50, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=64))
def test_embeddings_are_finite_unit_vectors(text: str, dimension: int) -> None:
    vector = HashingEmbedder(dimension).embed(text)

    assert len(vector) == dimension
    assert all(math.isfinite(component) for component in vector)
    assert math.isclose(math.sqrt(sum(c * c for c in vector)), 1.0, rel_tol=1e-9)


def test_embeddings_are_deterministic() -> None:
    text = "The same text gives the same vector."

    assert HashingEmbedder(768).embed(text) == HashingEmbedder(768).embed(text)


def test_empty_text_has_a_fixed_unit_vector() -> None:
    embedder = HashingEmbedder(16)

    vector = embedder.embed("")

    assert vector == embedder.embed("   ")
    assert any(component != 0.0 for component in vector)
    assert math.isclose(sum(c * c for c in vector), 1.0)


def test_texts_sharing_words_are_more_similar_than_unrelated_texts() -> None:
    embedder = HashingEmbedder(384)
    anchor = embedder.embed("The cat sat on the warm mat")
    related = embedder.embed("A cat sat on a mat")
    unrelated = embedder.embed("Quarterly revenue forecasts for semiconductor exports")

    assert _cosine(anchor, related) > 0.5
    assert _cosine(anchor, related) > _cosine(anchor, unrelated) + 0.3


def test_case_does_not_change_the_embedding() -> None:
    embedder = HashingEmbedder(64)

    assert embedder.embed("Hello World") == embedder.embed("hello world")


def test_dimension_must_be_positive() -> None:
    with pytest.raises(ValueError, match="dimension"):
        HashingEmbedder(0)
