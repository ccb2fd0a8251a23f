"""The tokenizer splits text losslessly, hashes pieces to stable ids and decodes its ids."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmstudio_core.emulator._engine import (
    BOS_TOKEN_ID,
    EOS_TOKEN_ID,
    PAD_TOKEN_ID,
    Tokenizer,
)


def test_pieces_keep_leading_spaces_and_split_long_words() -> None:
    pieces = Tokenizer().pieces("Hello, world!  Internationalization 12345")

    assert pieces == [
        "Hello",
        ",",
        " world",
        "!",
        " ",
        " Internat",
        "ionaliza",
        "tion",
        " 1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert all(len(piece.removeprefix(" ")) <= 8 for piece in pieces)


def test_newlines_are_pieces_and_punctuation_and_digits_split_one_by_one() -> None:
    pieces = Tokenizer().pieces('a\n\n{"b": 12}')

    assert pieces == ["a", "\n\n", "{", '"', "b", '"', ":", " 1", "2", "}"]


def test_non_ascii_characters_are_one_or_two_tokens_each() -> None:
    tokenizer = Tokenizer()

    assert tokenizer.pieces("café au lait") == ["caf", "é", " au", " lait"]
    assert tokenizer.pieces("Привет") == ["П", "р", "и", "в", "е", "т"]  # noqa: RUF001
    assert tokenizer.pieces("東京 は") == ["東", "京", " は"]
    # Two UTF-8 bytes: one token; three or four (CJK, kana, emoji): two.
    assert [tokenizer.count(text) for text in ("é", "П", "東", " は", "😀")] == [1, 1, 2, 2, 2]
    assert tokenizer.count("東京 は") == len(tokenizer.encode("東京 は")) == 6


def test_ids_are_stable_across_instances_and_avoid_reserved_ids() -> None:
    text = "The quick brown fox jumps over the lazy dog."

    first, second = Tokenizer().encode(text), Tokenizer().encode(text)

    assert first == second
    assert min(first) > max(BOS_TOKEN_ID, EOS_TOKEN_ID, PAD_TOKEN_ID)
    assert max(first) < 32000


def test_small_vocabulary_bounds_ids() -> None:
    ids = Tokenizer(vocab_size=50).encode("several different words in one sentence")

    assert all(3 <= token_id < 50 for token_id in ids)


def test_vocabulary_must_leave_room_for_pieces() -> None:
    with pytest.raises(ValueError, match="vocab_size"):
        Tokenizer(vocab_size=3)


def test_count_matches_encode_length() -> None:
    tokenizer = Tokenizer()
    text = "Counting tokens should agree with encoding them."
    wide = "数えたトークン数は encode と同じ 😀"

    assert tokenizer.count(text) == len(tokenizer.encode(text)) == len(tokenizer.pieces(text))
    assert tokenizer.count(wide) == len(tokenizer.encode(wide)) > len(tokenizer.pieces(wide))
    assert tokenizer.count("") == 0


def test_decode_of_single_ids_uses_the_instance_cache() -> None:
    tokenizer = Tokenizer()
    ids = tokenizer.encode("zebra crossings")

    assert [tokenizer.decode([token_id]) for token_id in ids] == ["zebra", " crossing", "s"]


def test_decode_of_unknown_and_special_ids_is_empty() -> None:
    tokenizer = Tokenizer()
    unknown = tokenizer.piece_id("qwxzv")

    assert tokenizer.decode([BOS_TOKEN_ID, unknown, EOS_TOKEN_ID]) == ""


def test_common_words_decode_in_a_fresh_instance() -> None:
    ids = Tokenizer().encode("the river")

    assert Tokenizer().decode(ids) == "the river"


@settings(max_examples=80, deadline=None)
@given(st.text())
def test_pieces_concatenate_to_the_text_and_decode_round_trips(text: str) -> None:
    tokenizer = Tokenizer()

    assert "".join(tokenizer.pieces(text)) == text
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.encode(text) == Tokenizer().encode(text)
    assert tokenizer.count(text) == len(tokenizer.encode(text))


def test_wide_characters_decode_piece_by_piece() -> None:
    tokenizer = Tokenizer()
    ids = tokenizer.encode("猫 cat")

    assert len(ids) == 3
    assert [tokenizer.decode([token_id]) for token_id in ids] == ["猫", "", " cat"]
    assert tokenizer.decode(ids[:2]) == "猫"


# -- counting like a model's tokenizer, not like tiktoken ------------------------------

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"

# A retrieval prompt as LlamaIndex builds them: instructions, passages in five languages,
# a code snippet, the question.
MIXED_PROMPT = """You are a helpful assistant. Answer with the context below only.

Context (de): Die Stadtbibliothek öffnet montags um 9:30 Uhr; am Wochenende schließt sie früher.
Context (fr): Les élèves étudient à la bibliothèque après l'école, où ils découvrent des histoires.
Context (ru): Библиотека работает ежедневно, кроме воскресенья, с девяти утра до шести вечера.
Context (zh): 图书馆每天上午九点开门，周日休息。学生们在图书馆学习历史和科学。
Context (ja): 図書館は毎朝九時に開きます。日曜日は休館です。

```python
def opening_hours(day: str) -> tuple[int, int] | None:
    hours = {"mon": (9, 18), "tue": (9, 18), "sun": None}
    return hours.get(day[:3].lower(), (9, 17))
```

Question: When does it open on Monday? What does opening_hours("sun") return?"""  # noqa: RUF001

ENGLISH_PROSE = (
    "The old lighthouse stood at the edge of the harbor for more than a century. Every "
    "evening the keeper climbed the narrow stairs, lit the lamp and watched the ships come "
    "home before the storm. People in the village said that the light never failed, not "
    "even during the worst winter anyone could remember. When the keeper grew old, his "
    "daughter took over the work, and she kept a careful record of every ship that passed. "
    "Today the lighthouse is a small museum, and visitors can read her notebooks, look out "
    "over the water and imagine what those long nights must have been like."
)


def _tiktoken_cache() -> str | None:
    """A directory holding tiktoken's cl100k_base file (tiktoken never downloads here)."""
    name = hashlib.sha1(CL100K_URL.encode()).hexdigest()  # how tiktoken names its cache
    candidates = [os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")]
    candidates.append(os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    llama_index = importlib.util.find_spec("llama_index.core")
    if llama_index is not None and llama_index.origin is not None:  # LlamaIndex ships it
        candidates.append(str(Path(llama_index.origin).parent / "_static" / "tiktoken_cache"))
    return next((d for d in candidates if d and (Path(d) / name).is_file()), None)


@pytest.fixture
def reference_count(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    """tiktoken's cl100k_base count (what LlamaIndex packs prompts by), else 1.25 a word."""
    cache = _tiktoken_cache() if importlib.util.find_spec("tiktoken") is not None else None
    if cache is None:
        return lambda text: round(len(text.split()) * 1.25)
    import tiktoken

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", cache)
    encoding = tiktoken.get_encoding("cl100k_base")
    return lambda text: len(encoding.encode(text))


def test_multilingual_and_code_cost_clearly_more_than_tiktoken_says(
    reference_count: Callable[[str], int],
) -> None:
    ours, reference = Tokenizer().count(MIXED_PROMPT), reference_count(MIXED_PROMPT)

    assert ours >= 1.25 * reference, (ours, reference)


def test_english_prose_costs_about_what_tiktoken_says(
    reference_count: Callable[[str], int],
) -> None:
    ours, reference = Tokenizer().count(ENGLISH_PROSE), reference_count(ENGLISH_PROSE)

    assert 0.8 * reference <= ours <= 1.2 * reference, (ours, reference)


def test_counting_long_texts_takes_linear_work() -> None:
    # Deterministic and linear: a text 50 times longer costs exactly 50 times as much.
    tokenizer = Tokenizer()
    once = tokenizer.count(MIXED_PROMPT + "\n")

    assert tokenizer.count((MIXED_PROMPT + "\n") * 50) == 50 * once
    assert tokenizer.encode(MIXED_PROMPT) == Tokenizer().encode(MIXED_PROMPT)
