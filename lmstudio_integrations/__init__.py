"""LM Studio as a first-class model in LangChain and LlamaIndex."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
