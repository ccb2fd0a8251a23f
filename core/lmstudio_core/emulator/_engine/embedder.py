"""Deterministic text embeddings built by feature hashing."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

_WORD_RE = re.compile(r"[^\W_]+")
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.35
_EMPTY_TEXT_FEATURE = "\x00empty"


class HashingEmbedder:
    """Map text to a unit vector by hashing word unigrams and character trigrams.

    Every feature (a lowercased word, or a trigram of the lowercased, space-padded text)
    is hashed to one coordinate with a sign taken from a second hash, weighted by a
    sublinear term frequency; the result is L2-normalised. Texts sharing words therefore
    have a clearly higher cosine similarity than unrelated texts. The mapping depends only
    on the text and the dimension, so it is identical across processes.
    """

    __slots__ = ("dimension",)

    def __init__(self, dimension: int) -> None:
        """Create an embedder.

        Args:
            dimension: Length of the produced vectors.

        Raises:
            ValueError: If ``dimension`` is not positive.
        """
        if dimension < 1:
            raise ValueError("dimension must be a positive integer")
        self.dimension = dimension

    def embed(self, text: str) -> list[float]:
        """Return the L2-normalised embedding of ``text`` (a fixed unit vector for blank text)."""
        features = _features(text)
        if not features:
            features = Counter({_EMPTY_TEXT_FEATURE: 1})
        vector = [0.0] * self.dimension
        for feature, count in features.items():
            encoded = feature.encode("utf-8", "surrogatepass")
            index = zlib.crc32(encoded) % self.dimension
            sign = 1.0 if zlib.adler32(encoded) & 1 else -1.0
            kind_weight = _TRIGRAM_WEIGHT if feature.startswith("c:") else _WORD_WEIGHT
            vector[index] += sign * kind_weight * (1.0 + math.log(count))
        norm = math.sqrt(sum(component * component for component in vector))
        if norm == 0.0:
            # Every feature cancelled out: fall back to a fixed, valid unit vector.
            vector = [0.0] * self.dimension
            vector[zlib.crc32(_EMPTY_TEXT_FEATURE.encode()) % self.dimension] = 1.0
            return vector
        return [component / norm for component in vector]


def _features(text: str) -> Counter[str]:
    lowered = text.lower()
    features: Counter[str] = Counter()
    for word in _WORD_RE.findall(lowered):
        features["w:" + word] += 1
    padded = " " + " ".join(lowered.split()) + " "
    if padded.strip():
        for start in range(len(padded) - 2):
            features["c:" + padded[start : start + 3]] += 1
    return features
