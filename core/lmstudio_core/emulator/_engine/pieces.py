"""What the engine yields: visible text tokens and complete tool calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextPiece:
    """One token of generated text.

    Reasoning is text too: a reasoning model's output starts with a ``"<think>"`` piece,
    then the reasoning pieces, then a ``"</think>"`` piece, then the answer.

    Attributes:
        text: The token's text.
        tokens: How many tokens it stands for: 1, or 2 for a character the tokenizer
            counts as two (a CJK character, an emoji; LM Studio sends such a character
            in one fragment once its last token is generated).
    """

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class ToolCallPiece:
    """One complete tool call requested by the model.

    Attributes:
        call_id: Identifier of the call, unique within the reply (``"call_" + 9 characters``).
        name: Name of the tool to call.
        arguments_json: The call's arguments as a JSON object text.
    """

    call_id: str
    name: str
    arguments_json: str


Piece = TextPiece | ToolCallPiece
