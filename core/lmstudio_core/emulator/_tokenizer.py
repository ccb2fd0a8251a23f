"""The emulator's tokenizer: the engine's word-piece tokenizer with incremental counting.

The deterministic engine grows a free-text reply sentence by sentence and counts the
tokens of the whole text after each one, so counting from scratch makes a long reply cost
quadratic time (seconds for a few thousand tokens). :class:`IncrementalTokenizer` gives
exactly the same counts but remembers where the last counted text can be resumed: when the
next text extends it, only the tail is split again.

Why resuming is exact: a piece is an ASCII word with its *leading* space, one other
character with its leading space, a newline run or a whitespace run. So no piece contains
a non-whitespace character followed by a space, and deciding a piece that starts before
such a position ``q`` (``text[q - 1]`` not whitespace, ``text[q] == " "``) never looks
past ``q``. ``q`` is therefore a piece boundary of every text that starts with
``text[: q + 1]``, and the pieces from ``q`` on are the pieces of ``text[q:]``; a piece's
token count depends on the piece alone.
"""

from __future__ import annotations

from ._engine import Tokenizer
from ._engine.tokenizer import count_pieces

__all__ = ["IncrementalTokenizer"]


class IncrementalTokenizer(Tokenizer):
    """A :class:`Tokenizer` whose :meth:`count` resumes from the previously counted text."""

    __slots__ = ("_resume",)

    def __init__(self, vocab_size: int = 32000) -> None:
        super().__init__(vocab_size)
        # (last counted text, resume position in it, pieces before that position)
        self._resume: tuple[str, int, int] = ("", 0, 0)

    def count(self, text: str) -> int:
        """Return the number of tokens of ``text`` (same result as :meth:`Tokenizer.count`)."""
        known, position, before = self._resume
        if position and text.startswith(known):
            start, counted = position, before
        else:
            start, counted = 0, 0
        rest = text[start:]
        tail = self.pieces(rest)
        ascii_only = rest.isascii()
        resume = _resume_position(text, start)
        if resume > start:
            offset, index = start, 0
            while offset < resume:
                offset += len(tail[index])
                index += 1
            before_resume = count_pieces(tail[:index], ascii_only)
            self._resume = (text, resume, counted + before_resume)
        elif start == 0:
            self._resume = ("", 0, 0)
        return counted + count_pieces(tail, ascii_only)


def _resume_position(text: str, floor: int) -> int:
    """The last ``q > floor`` with ``text[q] == " "`` after a non-whitespace character."""
    q = text.rfind(" ", floor + 1)
    while q > floor:
        if not text[q - 1].isspace():
            return q
        q = text.rfind(" ", floor + 1, q)
    return 0
