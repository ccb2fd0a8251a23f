"""The tokenizer splits text losslessly, hashes pieces to stable ids and decodes its ids."""

from __future__ import annotations

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
        " Inter",
        "nation",
        "alizat",
        "ion",
        " 123",
        "45",
    ]
    assert all(len(piece) <= 6 for piece in pieces)


def test_newlines_and_punctuation_runs_are_pieces_of_their_own() -> None:
    assert Tokenizer().pieces('a\n\n{"b": 1}') == ["a", "\n\n", '{"', "b", '":', " 1", "}"]


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

    assert tokenizer.count(text) == len(tokenizer.encode(text)) == len(tokenizer.pieces(text))
    assert tokenizer.count("") == 0


def test_decode_of_single_ids_uses_the_instance_cache() -> None:
    tokenizer = Tokenizer()
    ids = tokenizer.encode("zebra crossing")

    assert [tokenizer.decode([token_id]) for token_id in ids] == ["zebra", " cross", "ing"]


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
