"""A deterministic word-piece tokenizer with hashed token ids, counting like a model's.

LlamaIndex packs prompts with tiktoken's ``cl100k_base`` counts; the small models people
run in LM Studio have smaller vocabularies, learnt mostly from English prose, and count
more for anything else (SmolLM2-135M: 606 tokens where tiktoken says 305). So that a
prompt packed by tiktoken's counts can overflow the emulated context as it would the real
one, this tokenizer charges about what tiktoken does for English words and more for the
rest, byte-level style: every non-ASCII character is a token of its own (two for one of
three or four UTF-8 bytes, such as CJK or an emoji), and every digit and punctuation
character is one.
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from .vocabulary import ADJECTIVES, CONNECTORS, NOUNS, OPENERS, VERBS

BOS_TOKEN_ID = 0
EOS_TOKEN_ID = 1
PAD_TOKEN_ID = 2
FIRST_PIECE_ID = 3
MAX_PIECE_LENGTH = 8
"""Letters of a word per piece (plus its leading space): about where tiktoken splits too."""

_SPECIAL_PIECES = {BOS_TOKEN_ID: "", EOS_TOKEN_ID: "", PAD_TOKEN_ID: ""}
_RECENT_ENCODINGS = 256
_RECENT_TEXT_LIMIT = 65536
_WIDE = 0x800
"""The first code point of three UTF-8 bytes: from here on a character costs two tokens."""

_PIECE_RE = re.compile(
    r"""
    \ ?[A-Za-z]+          # an ASCII word, with its leading space
    | \ ?[^\sA-Za-z]      # one digit, punctuation mark or non-ASCII character, same
    | \n+                 # newlines
    | [^\S\n]+(?!\S)      # spaces that do not belong to the next piece
    | [^\S\n]+            # remaining horizontal whitespace
    | .                   # anything else, one character at a time
    """,
    re.VERBOSE | re.DOTALL,
)


def piece_tokens(piece: str) -> int:
    """Return how many tokens one piece costs.

    One, except for non-ASCII characters: one each, two for one of three or four UTF-8
    bytes (the leading space comes with the first).
    """
    if piece.isascii():
        return 1
    return max(1, sum(2 if ord(char) >= _WIDE else 1 for char in piece if ord(char) > 0x7F))


class Tokenizer:
    """A deterministic, stateless-by-contract tokenizer.

    Text is split into pieces: ASCII words with their leading space (cut into chunks of
    eight letters), single digits, punctuation marks and non-ASCII characters (each with its
    leading space), newline runs and whitespace runs. A piece is one token, except a
    character of three or four UTF-8 bytes (CJK, emoji...), which is two
    (:func:`piece_tokens`). The first token id of a piece is
    ``3 + crc32(piece) % (vocab_size - 3)`` (a second one hashes the piece's bytes with a
    marker), so ids never depend on the history of the instance, and ``0``, ``1`` and ``2``
    stay reserved for bos, eos and pad. :meth:`count` is always ``len(encode(text))``.

    Hashed ids cannot be reversed without a table, so :meth:`decode` is best-effort: it uses
    a per-instance cache filled by :meth:`encode` (and primed with common words).
    ``decode(encode(text)) == text`` holds for any text (up to 64 KiB) among the last 256
    encoded by the same instance; other id sequences are decoded piece by piece from the
    cache (exact unless two distinct pieces share an id; the second token of a wide
    character decodes to ``""``), and ids never seen by the instance decode to ``""``.
    """

    __slots__ = ("_piece_by_id", "_recent", "vocab_size")

    def __init__(self, vocab_size: int = 32000) -> None:
        """Create a tokenizer.

        Args:
            vocab_size: Size of the id space; ids are in ``range(vocab_size)``.

        Raises:
            ValueError: If ``vocab_size`` leaves no room for regular pieces.
        """
        if vocab_size <= FIRST_PIECE_ID:
            raise ValueError(f"vocab_size must be greater than {FIRST_PIECE_ID}")
        self.vocab_size = vocab_size
        self._piece_by_id: dict[int, str] = {}
        self._recent: OrderedDict[tuple[int, ...], str] = OrderedDict()
        self._remember(_common_pieces())

    def pieces(self, text: str) -> list[str]:
        """Split ``text`` into token strings whose concatenation is exactly ``text``."""
        result: list[str] = []
        for match in _PIECE_RE.finditer(text):
            piece = match.group(0)
            spaced_word = piece[0] == " " and not piece.isspace()
            first = MAX_PIECE_LENGTH + 1 if spaced_word else MAX_PIECE_LENGTH
            if len(piece) <= first:
                result.append(piece)
            else:  # a long word: chunks of eight letters, the space with the first
                result.append(piece[:first])
                result.extend(
                    piece[start : start + MAX_PIECE_LENGTH]
                    for start in range(first, len(piece), MAX_PIECE_LENGTH)
                )
        return result

    def piece_id(self, piece: str) -> int:
        """Return the (first) id of one piece (no caching, pure function of the piece)."""
        return self._hashed_id(piece.encode("utf-8", "surrogatepass"))

    def piece_ids(self, piece: str) -> list[int]:
        """Return the ids of one piece, :func:`piece_tokens` of them."""
        data = piece.encode("utf-8", "surrogatepass")
        ids = [self._hashed_id(data)]
        # the next ones hash the bytes, 0xFF (never in UTF-8: no other piece's bytes), a count
        ids.extend(self._hashed_id(b"%b\xff%d" % (data, n)) for n in range(1, piece_tokens(piece)))
        return ids

    def _hashed_id(self, data: bytes) -> int:
        return FIRST_PIECE_ID + zlib.crc32(data) % (self.vocab_size - FIRST_PIECE_ID)

    def encode(self, text: str) -> list[int]:
        """Return the token ids of ``text``."""
        ids: list[int] = []
        known = self._piece_by_id
        for piece in self.pieces(text):
            first, *rest = self.piece_ids(piece)
            ids.append(first)
            known[first] = piece
            for token_id in rest:
                ids.append(token_id)
                known.setdefault(token_id, "")
        if len(text) <= _RECENT_TEXT_LIMIT:
            key = tuple(ids)
            self._recent[key] = text
            self._recent.move_to_end(key)
            while len(self._recent) > _RECENT_ENCODINGS:
                self._recent.popitem(last=False)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Return the text of ``ids`` (best-effort, see the class documentation)."""
        key = tuple(ids)
        if key in self._recent:
            return self._recent[key]
        return "".join(self._decode_one(token_id) for token_id in ids)

    def count(self, text: str) -> int:
        """Return the number of tokens of ``text`` (``len(encode(text))``)."""
        return count_pieces(self.pieces(text), text.isascii())

    def _decode_one(self, token_id: int) -> str:
        if token_id in _SPECIAL_PIECES:
            return _SPECIAL_PIECES[token_id]
        return self._piece_by_id.get(token_id, "")

    def _remember(self, pieces: Iterable[str]) -> None:
        for text in pieces:
            for piece in self.pieces(text):
                self._piece_by_id.setdefault(self.piece_id(piece), piece)


def count_pieces(pieces: Sequence[str], ascii_only: bool = False) -> int:
    """Return the number of tokens of ``pieces`` (``ascii_only``: they are all ASCII)."""
    if ascii_only:
        return len(pieces)
    return sum(piece_tokens(piece) for piece in pieces)


def _common_pieces() -> list[str]:
    words: list[str] = []
    for group in (NOUNS, ADJECTIVES, VERBS, CONNECTORS, OPENERS):
        for phrase in group:
            words.extend(phrase.replace(",", " ,").replace(".", " .").split())
    basics = [*words, "the", "a", "is", "of", "and", "to", "in", "it", "that", "result"]
    pieces = [*basics, *(" " + word for word in basics)]
    pieces.extend(str(digit) for digit in range(10))
    pieces.extend([".", ",", "!", "?", ":", ";", " ", "\n", "\n\n", '"', "{", "}", "[", "]"])
    return pieces
