"""The input of one generation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ToolChoice = Literal["auto", "none", "required"]
DEFAULT_REPLY_TOKENS = 24


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything the engine needs to produce one reply.

    Attributes:
        model_key: Key of the model that generates (used to pick scripted turns).
        messages: Chat history as on the wire: ``{"role": ..., "content": [parts...]}``.
        tools: Tools as on the wire: ``{"type": "function", "function": {"name", ...}}``.
        tool_choice: ``"auto"`` (call a tool when the prompt asks for it; answer in
            text after tool results), ``"none"`` (never) or ``"required"`` (always call
            one after a user message or tool results).
        json_schema: When set, the reply is a JSON value that validates against it.
        gbnf_grammar: When set (and no ``json_schema``), the reply is a string of the grammar.
        reasoning: Whether the model is a reasoning model (prefixes a think block).
        reply_tokens: Target length of free-text replies, in tokens.
        seed: Extra seed; replies are reproducible for the same history and seed.
        completion: The request is a raw text completion (the server sets it for raw
            prompts: ``completeRawText`` and predictions whose prompt template the
            client supplied); the text of the last user message is then continued
            verbatim instead of answered, and no tool is called.
    """

    model_key: str
    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: ToolChoice = "auto"
    json_schema: Mapping[str, Any] | None = None
    gbnf_grammar: str | None = None
    reasoning: bool = False
    reply_tokens: int = DEFAULT_REPLY_TOKENS
    seed: int | None = None
    completion: bool = False

    def __post_init__(self) -> None:
        """Reject impossible settings early.

        Raises:
            ValueError: If ``reply_tokens`` is not positive or ``tool_choice`` is unknown.
        """
        if self.reply_tokens < 1:
            raise ValueError("reply_tokens must be at least 1")
        if self.tool_choice not in ("auto", "none", "required"):
            raise ValueError(f"unknown tool_choice {self.tool_choice!r}")
