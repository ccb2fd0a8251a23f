"""The deterministic generation engine behind the emulated models."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._text import json_compact, quoted_strings_in, stable_hash, words_of
from .chat_history import (
    files_of,
    last_user_text,
    role_of,
    text_of,
    tools_called_since_user,
    trailing_tool_results,
)
from .completion import continue_text
from .gbnf import generate_from_gbnf
from .open_object import is_open_object, open_object_instance
from .phrases import capitalised_names
from .pieces import Piece, TextPiece, ToolCallPiece
from .prompt_template import apply_prompt_template
from .replies import (
    free_text_reply,
    think_text,
    tool_call_thought,
    tool_results_reply,
    tool_results_thought,
)
from .request import GenerationRequest
from .schema_instance import generate_instance
from .script import ScriptedFailure, ScriptedTurn, ScriptQueue
from .tokenizer import Tokenizer, piece_tokens
from .tool_selection import (
    PlannedCall,
    ToolSpec,
    plan_call_after_results,
    plan_tool_calls,
    tool_arguments,
)

THINK_START = "<think>"
THINK_END = "</think>"
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_ID_LENGTH = 9


class DeterministicEngine:
    """Produces reproducible replies (text, reasoning, tool calls, structured output).

    Without a script, replies are derived from the chat history and the request seed:
    the same request always yields the same pieces. Tests can queue exact replies with
    :meth:`script` / :meth:`script_reply`; queued turns are consumed first-in first-out by
    the next generation of the matching model.
    """

    __slots__ = ("_script", "tokenizer")

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        """Create an engine.

        Args:
            tokenizer: Tokenizer used to split replies into pieces (a default one if omitted).
        """
        self.tokenizer = tokenizer or Tokenizer()
        self._script = ScriptQueue()

    def script(self, model_key: str | None, turn: ScriptedTurn) -> None:
        """Queue ``turn`` for the next generation of ``model_key`` (any model when ``None``)."""
        self._script.push(model_key, turn)

    def script_reply(self, text: str, model_key: str | None = None) -> None:
        """Queue a plain text reply (shortcut for ``script(model_key, ScriptedTurn(text))``)."""
        self.script(model_key, ScriptedTurn(text=text))

    def clear_script(self) -> None:
        """Drop every queued scripted turn."""
        self._script.clear()

    @property
    def scripted_turns_pending(self) -> int:
        """Number of scripted turns not consumed yet."""
        return len(self._script)

    def generate(self, request: GenerationRequest) -> Iterator[Piece]:
        """Produce the reply to ``request`` as pieces.

        The reply is computed when this is called (a scripted turn is consumed right away).

        Raises:
            ScriptedFailure: If the scripted turn for this model carries an error.
            ValueError: If the JSON schema or GBNF grammar is invalid or unsupported.
        """
        turn = self._script.pop_for(request.model_key)
        if turn is None:
            return iter(self._default_pieces(request))
        if turn.error is not None:
            raise ScriptedFailure(turn.error)
        return iter(self._scripted_pieces(turn, request))

    def apply_prompt_template(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Render ``messages`` with the ChatML-style template of :func:`apply_prompt_template`."""
        return apply_prompt_template(messages, tools)

    def count_prompt_tokens(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        """Return the number of tokens of the rendered prompt."""
        return self.tokenizer.count(apply_prompt_template(messages, tools))

    def _text_pieces(self, text: str) -> list[Piece]:
        return [TextPiece(piece, piece_tokens(piece)) for piece in self.tokenizer.pieces(text)]

    def _think_pieces(self, reasoning: str) -> list[Piece]:
        return [TextPiece(THINK_START), *self._text_pieces(reasoning), TextPiece(THINK_END)]

    def _scripted_pieces(self, turn: ScriptedTurn, request: GenerationRequest) -> list[Piece]:
        pieces: list[Piece] = []
        if turn.reasoning is not None:
            pieces.extend(self._think_pieces(turn.reasoning))
        if turn.text:
            pieces.extend(self._text_pieces(turn.text))
        history = _history_seed(request)
        ids = _CallIds(history)
        for call in turn.tool_calls:
            call_id = call.id if call.id is not None else ids.next()
            pieces.append(ToolCallPiece(call_id, call.name, json_compact(dict(call.arguments))))
        return pieces

    def _default_pieces(self, request: GenerationRequest) -> list[Piece]:
        history = _history_seed(request)
        rng = random.Random(history)
        messages = request.messages
        user_text = last_user_text(messages)
        names = [name for name in capitalised_names(user_text) if " " in name]
        hints = [*words_of(user_text), *quoted_strings_in(user_text), *names]
        if request.json_schema is not None:
            return self._text_pieces(json_compact(_json_value(request, user_text, history, hints)))
        if request.gbnf_grammar is not None:
            return self._text_pieces(generate_from_gbnf(request.gbnf_grammar, seed=history))
        if request.completion:
            return self._text_pieces(
                continue_text(user_text, rng, self.tokenizer, request.reply_tokens)
            )
        last_role = role_of(messages[-1]) if messages else ""
        if last_role == "tool":
            results = trailing_tool_results(messages)
            if request.tools and request.tool_choice == "required":
                tools = [ToolSpec.from_wire(tool) for tool in request.tools]
                called = tools_called_since_user(messages)
                contents = [result.content for result in results]
                forced = plan_call_after_results(tools, user_text, contents, called)
                return self._tool_call_pieces(request, forced, hints, history, user_text)
            return self._answer(request, tool_results_thought(results), tool_results_reply(results))
        calls = self._planned_calls(request, user_text) if last_role == "user" else []
        if calls:
            return self._tool_call_pieces(request, calls, hints, history, user_text)
        files = files_of(messages[-1]) if messages else []
        answer = free_text_reply(user_text, files, rng, self.tokenizer, request.reply_tokens)
        return self._answer(request, think_text(user_text, rng), answer)

    def _answer(self, request: GenerationRequest, thought: str, answer: str) -> list[Piece]:
        pieces = self._think_pieces(thought) if request.reasoning else []
        return [*pieces, *self._text_pieces(answer)]

    def _planned_calls(self, request: GenerationRequest, user_text: str) -> list[PlannedCall]:
        if not request.tools or request.tool_choice == "none":
            return []
        tools = [ToolSpec.from_wire(tool) for tool in request.tools]
        return plan_tool_calls(tools, user_text, required=request.tool_choice == "required")

    def _tool_call_pieces(
        self,
        request: GenerationRequest,
        calls: Sequence[PlannedCall],
        hints: Sequence[str],
        history: int,
        user_text: str,
    ) -> list[Piece]:
        pieces = (
            self._think_pieces(tool_call_thought(user_text, calls)) if request.reasoning else []
        )
        ids = _CallIds(history)
        for index, call in enumerate(calls):
            arguments = tool_arguments(call, hints=hints, seed=stable_hash(history, index))
            pieces.append(ToolCallPiece(ids.next(), call.tool.name, json_compact(arguments)))
        return pieces


class _CallIds:
    """Deterministic ``call_`` ids, unique within one reply."""

    __slots__ = ("_history", "_index", "_issued")

    def __init__(self, history: int) -> None:
        self._history = history
        self._index = 0
        self._issued: set[str] = set()

    def next(self) -> str:
        while True:
            value = stable_hash("call", self._history, self._index)
            self._index += 1
            chars = []
            for _ in range(_ID_LENGTH):
                value, digit = divmod(value, len(_ID_ALPHABET))
                chars.append(_ID_ALPHABET[digit])
            call_id = "call_" + "".join(chars)
            if call_id not in self._issued:
                self._issued.add(call_id)
                return call_id


def _json_value(
    request: GenerationRequest, user_text: str, history: int, hints: Sequence[str]
) -> Any:
    schema = request.json_schema
    if is_open_object(schema):
        assert schema is not None
        instructions = " ".join(
            text_of(message) for message in request.messages if role_of(message) == "system"
        )
        value = open_object_instance(schema, user_text, instructions, seed=history, hints=hints)
        if value is not None:
            return value
    return generate_instance(schema, seed=history, hints=hints)


def _history_seed(request: GenerationRequest) -> int:
    return stable_hash(_plain(request.messages), request.seed)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value
