"""The engine interface the emulator drives, and the deterministic default engines.

The server never depends on a concrete engine: it talks to :class:`TextEngine` and
:class:`EmbeddingEngine`. An engine whose calls block (a real llama.cpp or ONNX
engine) sets ``blocking = True`` and the server runs each call in a worker thread; the
deterministic engine is fast and runs inline.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, cast, runtime_checkable

from ._catalog import ModelSpec
from ._engine import (
    DeterministicEngine,
    GenerationRequest,
    HashingEmbedder,
    ScriptedFailure,
    TextPiece,
    Tokenizer,
    ToolCallPiece,
)
from ._errors import EmulatorError
from ._tokenizer import IncrementalTokenizer

__all__ = [
    "DeterministicEmbeddingEngine",
    "DeterministicTextEngine",
    "EmbeddingEngine",
    "EngineSet",
    "TextChunk",
    "TextEngine",
    "TextRequest",
    "ToolCallChunk",
    "call_engine",
    "close_engine",
    "load_engine",
]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class TextRequest:
    """What a text engine is asked to generate.

    Attributes:
        model_key: Model key of the instance (scripts are looked up by it).
        messages: Wire chat messages (``role`` + ``content`` parts).
        tools: Wire ``LLMTool`` definitions offered to the model.
        tool_choice: ``auto``, ``none`` or ``required``.
        json_schema: JSON schema the reply must satisfy (``None``: free text).
        gbnf_grammar: GBNF grammar the reply must match (``None``: free text).
        reasoning: Whether to think in a ``<think>`` block first.
        reply_tokens: Preferred reply length in tokens.
        seed: Sampling seed (``None``: derived from the request).
        max_tokens: Most tokens to generate (``None``: no limit set by the client).
        temperature: Sampling temperature, only when the client set one (``None``:
            the engine's default; real engines are greedy then).
        stop_strings: Generation stops before any of these.
        top_k: Top-k sampling (``None``: the engine's default).
        top_p: Top-p sampling (``None``: off or the engine's default).
        min_p: Min-p sampling (``None``: off or the engine's default).
        repeat_penalty: Repetition penalty (``None``: off or the engine's default).
        raw_prompt: Text to complete verbatim, without a chat template (raw completions:
            ``completeRawText`` and the Python client's ``complete``); ``messages`` then
            hold it as one user message for engines that only chat.

    The deterministic engine ignores the sampling fields and continues the text of a
    ``raw_prompt`` instead of answering it; the server applies stop strings and the token
    limit itself whatever the engine does.
    """

    model_key: str
    messages: tuple[Mapping[str, Any], ...]
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: str = "auto"
    json_schema: Any = None
    gbnf_grammar: str | None = None
    reasoning: bool = False
    reply_tokens: int = 24
    seed: int | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stop_strings: tuple[str, ...] = ()
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    raw_prompt: str | None = None


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Generated text: about one token, or a character of ``tokens`` tokens."""

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class ToolCallChunk:
    """A complete tool call request."""

    call_id: str
    name: str
    arguments_json: str


@runtime_checkable
class TextEngine(Protocol):
    """An LLM engine: generation, tokenizer and prompt template."""

    blocking: bool

    def generate(self, request: TextRequest) -> Iterator[TextChunk | ToolCallChunk]:
        """Yield the reply piece by piece; raise :class:`EmulatorError` to fail it."""
        ...

    def tokenize(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...

    def apply_prompt_template(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        """Render a chat with the model's own template."""
        ...


@runtime_checkable
class EmbeddingEngine(Protocol):
    """An embedding engine: vectors and tokenizer."""

    blocking: bool

    def embed(self, text: str) -> list[float]: ...

    def tokenize(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...


async def call_engine(
    engine: TextEngine | EmbeddingEngine, fn: Callable[..., _T], *args: Any, **kwargs: Any
) -> _T:
    """Call ``fn`` (a method of ``engine``): in a worker thread when the engine blocks."""
    if engine.blocking:
        return await asyncio.to_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)


async def load_engine(engine: TextEngine | EmbeddingEngine, context_length: int) -> None:
    """Call the engine's optional ``load()`` (with ``context_length`` if it takes one)."""
    load = getattr(engine, "load", None)
    if not callable(load):
        return
    kwargs: dict[str, Any] = {}
    try:
        parameters = inspect.signature(load).parameters
    except (TypeError, ValueError):
        parameters = {}  # type: ignore[assignment]
    if "context_length" in parameters:
        kwargs["context_length"] = context_length
    await call_engine(engine, load, **kwargs)


async def close_engine(engine: TextEngine | EmbeddingEngine) -> None:
    """Call the engine's optional ``close()``."""
    close = getattr(engine, "close", None)
    if callable(close):
        await call_engine(engine, close)


class DeterministicTextEngine:
    """Adapter from the deterministic generation engine to :class:`TextEngine`."""

    blocking = False

    def __init__(self, engine: DeterministicEngine) -> None:
        self.engine = engine
        self.tokenizer = engine.tokenizer

    def generate(self, request: TextRequest) -> Iterator[TextChunk | ToolCallChunk]:
        wire_request = GenerationRequest(
            model_key=request.model_key,
            messages=[dict(m) for m in request.messages],
            tools=[dict(t) for t in request.tools],
            tool_choice=cast(Literal["auto", "none", "required"], request.tool_choice),
            json_schema=request.json_schema,
            gbnf_grammar=request.gbnf_grammar,
            reasoning=request.reasoning,
            reply_tokens=request.reply_tokens,
            seed=request.seed,
            completion=request.raw_prompt is not None,
        )
        try:
            for piece in self.engine.generate(wire_request):
                if isinstance(piece, TextPiece):
                    yield TextChunk(piece.text, piece.tokens)
                elif isinstance(piece, ToolCallPiece):
                    yield ToolCallChunk(piece.call_id, piece.name, piece.arguments_json)
        except ScriptedFailure as failure:
            err = failure.error
            raise EmulatorError(err.title, cause=err.cause, suggestion=err.suggestion) from None
        except ValueError as exc:
            raise EmulatorError("Failed to constrain generation", cause=str(exc)) from None

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def count_tokens(self, text: str) -> int:
        return self.tokenizer.count(text)

    def apply_prompt_template(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        return self.engine.apply_prompt_template(
            [dict(m) for m in messages], [dict(t) for t in tools] or None
        )


class DeterministicEmbeddingEngine:
    """Hashing embedder of a fixed dimension, normalised and deterministic."""

    blocking = False

    def __init__(self, dimension: int, tokenizer: Tokenizer) -> None:
        self.embedder = HashingEmbedder(dimension)
        self.tokenizer = tokenizer

    def embed(self, text: str) -> list[float]:
        return self.embedder.embed(text)

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def count_tokens(self, text: str) -> int:
        return self.tokenizer.count(text)


class EngineSet:
    """Engines per model key; deterministic engines unless overridden.

    Args:
        engine: The shared deterministic engine (scripts live here); by default one with
            an :class:`IncrementalTokenizer`, which keeps long replies linear in time.
        text_engines: Replacement text engines by model key.
        embedding_engines: Replacement embedding engines by model key.
    """

    def __init__(
        self,
        engine: DeterministicEngine | None = None,
        *,
        text_engines: Mapping[str, TextEngine] | None = None,
        embedding_engines: Mapping[str, EmbeddingEngine] | None = None,
    ) -> None:
        self.engine = engine if engine is not None else DeterministicEngine(IncrementalTokenizer())
        self.tokenizer = self.engine.tokenizer
        self._default_text = DeterministicTextEngine(self.engine)
        self._text = dict(text_engines or {})
        self._embedding = dict(embedding_engines or {})

    def text(self, spec: ModelSpec) -> TextEngine:
        return self._text.get(spec.model_key, self._default_text)

    def embedding(self, spec: ModelSpec) -> EmbeddingEngine:
        found = self._embedding.get(spec.model_key)
        if found is None:
            found = DeterministicEmbeddingEngine(spec.embedding_dimension, self.tokenizer)
            self._embedding[spec.model_key] = found
        return found

    def tokenizer_for(self, spec: ModelSpec) -> TextEngine | EmbeddingEngine:
        return self.text(spec) if spec.type == "llm" else self.embedding(spec)

    def replacements(self) -> Iterable[TextEngine | EmbeddingEngine]:
        """The engines given by model key (each once), e.g. to close them."""
        seen: list[TextEngine | EmbeddingEngine] = []
        engines: list[TextEngine | EmbeddingEngine] = [*self._text.values()]
        engines.extend(self._embedding.values())
        for engine in engines:
            if not any(engine is other for other in seen):
                seen.append(engine)
        return seen
