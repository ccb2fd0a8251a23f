"""Model handles: :class:`AsyncLLM` and :class:`AsyncEmbeddingModel` (asyncio)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from typing_extensions import Unpack

from ..act import ActLoop, ToolInvocation
from ..catalog import LoadedModelInfo, ModelDomain
from ..config import EMBEDDING_WINDOW, Timeouts, resolve_timeouts
from ..endpoints import (
    Call,
    ModelEndpoints,
    parse_count,
    parse_embedding,
    parse_formatted,
    parse_info,
    parse_tokens,
    unload_call,
)
from ..history import Chat, HistoryLike
from ..options import PredictionOptions, config_from_fields
from ..prediction import PredictRequest, prepare_predict
from ..results import ActResult, PredictionResult
from ..structured import ResponseFormat
from ..tools import ToolChoice, ToolLike, UnsupportedToolError, to_tool
from ._io import call_tool
from .streams import AsyncPredictionStream

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = ["AsyncEmbeddingModel", "AsyncLLM"]


class _ModelHandle:
    """What every loaded model offers."""

    _domain: ModelDomain = "llm"

    def __init__(
        self, client: AsyncClient, identifier: str, info: LoadedModelInfo | None = None
    ) -> None:
        self._client = client
        self._endpoints = ModelEndpoints(self._domain, identifier)
        self.identifier = identifier
        self.info = info
        """The model's description when the handle was made (``get_info()`` refreshes)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.identifier!r})"

    async def _call(self, call: Call) -> Any:
        endpoint, parameter = call
        transport = self._client._transport(self._domain)
        timeout = self._client._timeouts.request
        return await transport.call(endpoint, parameter, timeout=timeout, idempotent=True)

    async def _call_many(self, calls: list[Call], timeout: Timeouts | float | None) -> list[Any]:
        if not calls:
            return []
        transport = self._client._transport(self._domain)
        request_timeout = resolve_timeouts(timeout, self._client._timeouts).request
        return await transport.call_many(
            calls[0][0], [p for _, p in calls], timeout=request_timeout, window=EMBEDDING_WINDOW
        )

    async def get_info(self) -> LoadedModelInfo:
        """Fetch the model's current description from LM Studio."""
        self.info = parse_info(await self._call(self._endpoints.info()))
        return self.info

    async def get_load_config(self) -> dict[str, Any]:
        """The effective load options (known keys by option name, others by KV key)."""
        return config_from_fields(await self._call(self._endpoints.load_config()))

    async def get_context_length(self) -> int:
        """The context length the model was loaded with."""
        info = await self.get_info()
        return int(info.context_length or info.max_context_length or 0)

    @overload
    async def tokenize(self, text: str) -> list[int]: ...  # type: ignore[overload-overlap]
    @overload
    async def tokenize(self, text: Sequence[str]) -> list[list[int]]: ...
    async def tokenize(self, text: str | Sequence[str]) -> list[int] | list[list[int]]:
        """Token ids of a string, or of each string of a list."""
        if isinstance(text, str):
            return parse_tokens(await self._call(self._endpoints.tokenize(text)))
        calls = [self._endpoints.tokenize(item) for item in text]
        return [parse_tokens(result) for result in await self._call_many(calls, None)]

    async def count_tokens(self, text: str) -> int:
        """Number of tokens in ``text``."""
        return parse_count(await self._call(self._endpoints.count_tokens(text)))

    async def unload(self) -> None:
        """Unload this model instance from memory."""
        await self._call(unload_call(self.identifier))


class AsyncLLM(_ModelHandle):
    """A loaded LLM: chat, completion, tools, structured output."""

    _domain: ModelDomain = "llm"

    def _stream(
        self, request: PredictRequest, timeout: Timeouts | float | None
    ) -> AsyncPredictionStream:
        transport = self._client._transport("llm")
        files = self._client.files

        async def start() -> Any:
            uploads = await files._upload_images(request.images())
            return await transport.open_channel("predict", request.parameter(uploads))

        timeouts = resolve_timeouts(timeout, self._client._timeouts)
        return AsyncPredictionStream(start, request.new_state(), timeouts)

    def respond_stream(
        self,
        history: HistoryLike,
        *,
        response_format: ResponseFormat | None = None,
        tools: Sequence[ToolLike] | None = None,
        tool_choice: ToolChoice | None = None,
        config: Mapping[str, Any] | None = None,
        preset: str | None = None,
        timeout: Timeouts | float | None = None,
        **options: Unpack[PredictionOptions],
    ) -> AsyncPredictionStream:
        """Start a chat response; returns a stream to use as a context manager.

        Args:
            history: A prompt string, a :class:`Chat`, or a list of message dicts.
            response_format: A pydantic model class, a JSON schema or a GbnfGrammar.
            tools: Tools offered to the model; its calls are returned, not executed.
            tool_choice: ``"auto"``, ``"none"``, ``"required"`` or a tool name.
            config: Prediction options as a dict (keyword options override it).
            preset: Name of an LM Studio preset to apply.
            timeout: Override the client's timeouts for this prediction.
            **options: Prediction options such as ``temperature`` or ``max_tokens``.
        """
        request = prepare_predict(
            self._endpoints.specifier, history, options=options, config=config,
            response_format=response_format, tools=tools, tool_choice=tool_choice, preset=preset,
        )  # fmt: skip
        return self._stream(request, timeout)

    async def respond(
        self,
        history: HistoryLike,
        *,
        response_format: ResponseFormat | None = None,
        tools: Sequence[ToolLike] | None = None,
        tool_choice: ToolChoice | None = None,
        config: Mapping[str, Any] | None = None,
        preset: str | None = None,
        timeout: Timeouts | float | None = None,
        **options: Unpack[PredictionOptions],
    ) -> PredictionResult:
        """Generate a chat response (see :meth:`respond_stream` for the arguments)."""
        request = prepare_predict(
            self._endpoints.specifier, history, options=options, config=config,
            response_format=response_format, tools=tools, tool_choice=tool_choice, preset=preset,
        )  # fmt: skip
        async with self._stream(request, timeout) as stream:
            return await stream.result()

    def complete_stream(
        self,
        prompt: str,
        *,
        response_format: ResponseFormat | None = None,
        config: Mapping[str, Any] | None = None,
        preset: str | None = None,
        timeout: Timeouts | float | None = None,
        **options: Unpack[PredictionOptions],
    ) -> AsyncPredictionStream:
        """Start a raw text completion of ``prompt`` (no chat template)."""
        request = prepare_predict(
            self._endpoints.specifier, prompt, options=options, config=config,
            response_format=response_format, completion=True, preset=preset,
        )  # fmt: skip
        return self._stream(request, timeout)

    async def complete(
        self,
        prompt: str,
        *,
        response_format: ResponseFormat | None = None,
        config: Mapping[str, Any] | None = None,
        preset: str | None = None,
        timeout: Timeouts | float | None = None,
        **options: Unpack[PredictionOptions],
    ) -> PredictionResult:
        """Complete ``prompt`` as raw text (no chat template)."""
        request = prepare_predict(
            self._endpoints.specifier, prompt, options=options, config=config,
            response_format=response_format, completion=True, preset=preset,
        )  # fmt: skip
        async with self._stream(request, timeout) as stream:
            return await stream.result()

    async def act(
        self,
        history: HistoryLike,
        tools: Sequence[ToolLike],
        *,
        max_rounds: int | None = None,
        config: Mapping[str, Any] | None = None,
        preset: str | None = None,
        timeout: Timeouts | float | None = None,
        **options: Unpack[PredictionOptions],
    ) -> ActResult:
        """Let the model call Python tools over several rounds until it answers.

        Tools are plain functions (``async`` ones too, with the asyncio client). Tool
        exceptions are reported to the model as errors and the loop continues.
        """
        chat = Chat.from_history(history)
        chat = chat.with_uploads(await self._client.files._upload_images(chat.pending_images()))
        loop = ActLoop(chat, [to_tool(tool) for tool in tools], max_rounds)
        while not loop.done:
            round_chat, round_tools = loop.next_round()
            request = prepare_predict(
                self._endpoints.specifier, round_chat, options=options, config=config,
                tools=round_tools, preset=preset,
            )  # fmt: skip
            async with self._stream(request, timeout) as stream:
                result = await stream.result()
            for invocation in loop.finish_round(result):
                await _invoke(loop, invocation)
        return loop.result()

    async def apply_prompt_template(
        self, history: HistoryLike, *, tools: Sequence[ToolLike] | None = None
    ) -> str:
        """Render ``history`` with the model's prompt template."""
        call = self._endpoints.apply_prompt_template(Chat.from_history(history), tools)
        return parse_formatted(await self._call(call))


async def _invoke(loop: ActLoop, invocation: ToolInvocation) -> None:
    if invocation.function is None:
        loop.record(invocation)
        return
    try:
        value = await call_tool(invocation)
    except UnsupportedToolError:
        raise
    except Exception as exc:
        loop.record(invocation, error=exc)
        return
    loop.record(invocation, value)


class AsyncEmbeddingModel(_ModelHandle):
    """A loaded embedding model."""

    _domain: ModelDomain = "embedding"

    @overload
    async def embed(self, text: str, *, timeout: Timeouts | float | None = None) -> list[float]: ...  # type: ignore[overload-overlap]
    @overload
    async def embed(
        self, text: Sequence[str], *, timeout: Timeouts | float | None = None
    ) -> list[list[float]]: ...
    async def embed(
        self, text: str | Sequence[str], *, timeout: Timeouts | float | None = None
    ) -> list[float] | list[list[float]]:
        """The embedding of a string, or of each string of a list (pipelined)."""
        if isinstance(text, str):
            results = await self._call_many([self._endpoints.embed(text)], timeout)
            return parse_embedding(results[0])
        calls = [self._endpoints.embed(item) for item in text]
        return [parse_embedding(result) for result in await self._call_many(calls, timeout)]
