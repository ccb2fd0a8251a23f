"""A minimal terminal progress bar for model loads (``progress=True``)."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Draws ``label [#####     ]  50%`` on one terminal line, redrawn in place."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._shown = -1

    def update(self, fraction: float, label: str | None = None) -> None:
        if label:
            self._label = label
        percent = int(max(0.0, min(fraction, 1.0)) * 100)
        if percent == self._shown:
            return
        self._shown = percent
        filled = self._width * percent // 100
        bar = "#" * filled + " " * (self._width - filled)
        self._stream.write(f"\r{self._label} [{bar}] {percent:3d}%")
        self._stream.flush()

    def finish(self) -> None:
        if self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()
