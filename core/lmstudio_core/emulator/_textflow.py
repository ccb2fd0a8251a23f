"""Pure helpers for streaming text: stop strings and reasoning classification."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ReasoningClassifier", "StopStringScanner"]


class StopStringScanner:
    """Find stop strings across fragment boundaries without emitting them.

    ``feed`` returns the text that is safe to emit now and the stop string found (if
    any). Text that could be the start of a stop string is held back until the next
    piece decides it; ``flush`` releases it at the end of generation.
    """

    def __init__(self, stop_strings: Sequence[str]) -> None:
        self._stops = tuple(s for s in stop_strings if s)
        self._pending = ""

    def feed(self, piece: str) -> tuple[str, str | None]:
        if not self._stops:
            return piece, None
        text = self._pending + piece
        found: tuple[int, str] | None = None
        for stop in self._stops:
            index = text.find(stop)
            if index >= 0 and (found is None or index < found[0]):
                found = (index, stop)
        if found is not None:
            self._pending = ""
            return text[: found[0]], found[1]
        hold = self._held_suffix(text)
        self._pending = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold], None

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return text

    def _held_suffix(self, text: str) -> int:
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if stop.startswith(text[len(text) - size :]):
                    longest = size
                    break
        return longest


class ReasoningClassifier:
    """Assign LM Studio's ``reasoningType`` to each generated piece.

    With parsing enabled, the piece holding the start string is ``reasoningStartTag``,
    pieces after it ``reasoning``, the piece holding the end string ``reasoningEndTag``
    and everything else ``none``.
    """

    def __init__(self, enabled: bool, start: str, end: str) -> None:
        self._enabled = enabled and bool(start) and bool(end)
        self._start = start
        self._end = end
        self._inside = False

    def classify(self, piece: str) -> str:
        if not self._enabled:
            return "none"
        if not self._inside:
            if self._start in piece:
                self._inside = self._end not in piece.split(self._start, 1)[1]
                return "reasoningStartTag"
            return "none"
        if self._end in piece:
            self._inside = False
            return "reasoningEndTag"
        return "reasoning"
