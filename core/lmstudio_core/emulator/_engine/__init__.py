"""Deterministic generation engine of the emulator (pure Python, no I/O).

It turns a chat request into reproducible pieces of text and tool calls, generates values
for JSON Schemas and strings for GBNF grammars, tokenizes text and embeds it.
"""

from __future__ import annotations

from .embedder import HashingEmbedder
from .engine import THINK_END, THINK_START, DeterministicEngine
from .gbnf import generate_from_gbnf, parse_gbnf
from .pieces import Piece, TextPiece, ToolCallPiece
from .prompt_template import apply_prompt_template
from .request import DEFAULT_REPLY_TOKENS, GenerationRequest, ToolChoice
from .schema_instance import generate_instance
from .schema_refs import SchemaError
from .script import ScriptedError, ScriptedFailure, ScriptedToolCall, ScriptedTurn
from .tokenizer import BOS_TOKEN_ID, EOS_TOKEN_ID, PAD_TOKEN_ID, Tokenizer

__all__ = [
    "BOS_TOKEN_ID",
    "DEFAULT_REPLY_TOKENS",
    "EOS_TOKEN_ID",
    "PAD_TOKEN_ID",
    "THINK_END",
    "THINK_START",
    "DeterministicEngine",
    "GenerationRequest",
    "HashingEmbedder",
    "Piece",
    "SchemaError",
    "ScriptedError",
    "ScriptedFailure",
    "ScriptedToolCall",
    "ScriptedTurn",
    "TextPiece",
    "Tokenizer",
    "ToolCallPiece",
    "ToolChoice",
    "apply_prompt_template",
    "generate_from_gbnf",
    "generate_instance",
    "parse_gbnf",
]
