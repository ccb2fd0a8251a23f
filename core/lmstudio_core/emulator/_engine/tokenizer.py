"""A deterministic word-piece tokenizer with hashed token ids."""

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
MAX_PIECE_LENGTH = 6

_SPECIAL_PIECES = {BOS_TOKEN_ID: "", EOS_TOKEN_ID: "", PAD_TOKEN_ID: ""}
_RECENT_ENCODINGS = 256
_RECENT_TEXT_LIMIT = 65536

_PIECE_RE = re.compile(
    r"""
    \ ?[^\W\d_]+              # a word, with its leading space
    | \ ?\d{1,3}              # up to three digits, with a leading space
    | \ ?(?:[^\s\w]|_)+       # a run of punctuation / symbols
    | \n+                     # newlines
    | [^\S\n]+(?!\S)          # spaces that do not belong to the next word
    | [^\S\n]+                # remaining horizontal whitespace
    | .                       # anything else, one character at a time
    """,
    re.VERBOSE | re.DOTALL,
)


class Tokenizer:
    """A deterministic, stateless-by-contract tokenizer.

    Text is split into pieces (words with their leading space, groups of up to three digits,
    punctuation runs, whitespace runs; words longer than six characters are cut into chunks).
    A piece's id is ``3 + crc32(piece) % (vocab_size - 3)``, so ids never depend on the
    history of the instance, and ``0``, ``1`` and ``2`` stay reserved for bos, eos and pad.

    Hashed ids cannot be reversed without a table, so :meth:`decode` is best-effort: it uses
    a per-instance cache filled by :meth:`encode` (and primed with common words).
    ``decode(encode(text)) == text`` holds for any text (up to 64 KiB) among the last 256
    encoded by the same instance; other id sequences are decoded piece by piece from the
    cache (exact unless two distinct pieces share an id), and ids never seen by the instance
    decode to ``""``.
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
            if len(piece) <= MAX_PIECE_LENGTH:
                result.append(piece)
            else:
                result.extend(
                    piece[start : start + MAX_PIECE_LENGTH]
                    for start in range(0, len(piece), MAX_PIECE_LENGTH)
                )
        return result

    def piece_id(self, piece: str) -> int:
        """Return the id of one piece (no caching, pure function of the piece)."""
        checksum = zlib.crc32(piece.encode("utf-8", "surrogatepass"))
        return FIRST_PIECE_ID + checksum % (self.vocab_size - FIRST_PIECE_ID)

    def encode(self, text: str) -> list[int]:
        """Return the token ids of ``text``."""
        pieces = self.pieces(text)
        ids = [self.piece_id(piece) for piece in pieces]
        for token_id, piece in zip(ids, pieces, strict=True):
            self._piece_by_id[token_id] = piece
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
        """Return the number of tokens of ``text``."""
        return len(self.pieces(text))

    def _decode_one(self, token_id: int) -> str:
        if token_id in _SPECIAL_PIECES:
            return _SPECIAL_PIECES[token_id]
        return self._piece_by_id.get(token_id, "")

    def _remember(self, pieces: Iterable[str]) -> None:
        for text in pieces:
            for piece in self.pieces(text):
                self._piece_by_id.setdefault(self.piece_id(piece), piece)


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
