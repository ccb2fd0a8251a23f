"""Strings sampled for JSON Schema patterns match them; unsupported patterns are reported."""

from __future__ import annotations

import re

import pytest
from lmstudio_core.emulator._engine.regex_pattern import sample_pattern


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[a-z]+$",
        r"^\d{3}-\d{4}$",
        r"^[A-Z]{2,3}-\d+$",
        r"^(foo|bar)baz?$",
        r"^\w+@\w+\.com$",
        r"^[^,]+$",
        r"^#[0-9a-fA-F]{6}$",
        r"^\+?[1-9]\d{1,14}$",
        r"^(?:[a-z0-9_-]){3,16}$",
        r"^\S+\s\S+$",
        r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$",
        r"\bword\b",
        r"^[\w.-]+$",
        r"^a{2}b*?c+$",
    ],
)
def test_sampled_strings_match_their_pattern(pattern: str) -> None:
    for seed in range(10):
        sampled = sample_pattern(pattern, seed=seed)
        assert sampled is not None
        assert re.search(pattern, sampled), sampled


@pytest.mark.parametrize("pattern", [r"(?<=a)b", r"^(\d+)\1$", r"\p{L}+", "[unclosed"])
def test_unsupported_or_invalid_patterns_give_none(pattern: str) -> None:
    assert sample_pattern(pattern, seed=0) is None
