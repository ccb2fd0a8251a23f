"""``ChatLMStudio``: LM Studio as a LangChain chat model, over the native WebSocket API."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing, closing
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.language_models.chat_models import (
    _ChatModelBinding,  # what BaseChatModel.bind returns (a typed RunnableBinding)
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from lmstudio_core import (
    LLM,
    AsyncLLM,
    AsyncPredictionStream,
    Chat,
    PredictionResult,
    PredictionStream,
)
from pydantic import BaseModel, ConfigDict, PrivateAttr
from typing_extensions import override

from ._connection import LMStudioPredictionModel, lmstudio_errors, merge_options
from ._convert import (
    ChunkBuilder,
    TransformStream,
    adapter_profile,
    messages_to_history,
    profile_from_info,
    tool_choice_for_core,
    usage_metadata,
)

__all__ = ["BlockingCallWarning", "ChatLMStudio"]

logger = logging.getLogger(__name__)

StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]


class BlockingCallWarning(RuntimeWarning):
    """A ``ChatLMStudio`` method that waits for LM Studio was called in a thread whose
    event loop is running, so the whole loop waited with it.

    Await the async twin the message names instead (``aget_num_tokens``,
    ``aget_num_tokens_from_messages``, ``afetch_profile``), or run the blocking call in a
    worker thread (``await asyncio.to_thread(llm.get_num_tokens, text)``).
    """


def _warn_if_loop_running(method: str, alternative: str) -> None:
    """Warn when called in a thread whose event loop is running (from a public method)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    warnings.warn(
        f"ChatLMStudio.{method}() waits for LM Studio and blocks the running event loop "
        f"meanwhile; use 'await llm.{alternative}(...)' in async code",
        BlockingCallWarning,
        stacklevel=3,
    )


@dataclass(frozen=True, slots=True)
class _Request:
    """One prediction, ready to start on a model handle."""

    model: str
    history: list[dict[str, Any]]
    arguments: dict[str, Any]
    single_tool_call: bool = False
    """Keep the first tool call only (``parallel_tool_calls=False``)."""

    @property
    def tools_then_schema(self) -> bool:
        """Whether tools and a response format were both given (see ``bind_tools``)."""
        arguments = self.arguments
        return arguments["tools"] is not None and arguments["response_format"] is not None

    def with_tools_only(self) -> _Request:
        return dataclasses.replace(self, arguments={**self.arguments, "response_format": None})

    def with_schema_only(self) -> _Request:
        arguments = {**self.arguments, "tools": None, "tool_choice": None}
        return dataclasses.replace(self, arguments=arguments, single_tool_call=False)

    def start(self, llm: LLM) -> PredictionStream:
        return llm.respond_stream(self.history, **self.arguments)

    def astart(self, llm: AsyncLLM) -> AsyncPredictionStream:
        return llm.respond_stream(self.history, **self.arguments)


class _Conversion:
    """Turns the events and the result of one prediction into chunks."""

    def __init__(
        self, owner: ChatLMStudio, request: _Request, earlier_usage: UsageMetadata | None = None
    ) -> None:
        self.owner = owner
        self.request = request
        self.builder = ChunkBuilder(single_tool_call=request.single_tool_call)
        self.earlier_usage = earlier_usage

    def __call__(self, item: Any) -> ChatGenerationChunk | None:
        if isinstance(item, PredictionResult):
            self.owner._note_result(self.request.model, item)
            return self.builder.last_chunk(item, self.request.model, self.earlier_usage)
        return self.builder.chunk(item)

    def usage(self, result: PredictionResult) -> UsageMetadata | None:
        return usage_metadata(result.stats, self.builder.reasoning_tokens)


class _ToolsFirst:
    """The first prediction of a call with tools and a response format.

    Its chunks are held back until the model completes a tool call: from then on the
    reply is a tool-call reply and streams through. A reply that ends without a tool call
    is discarded (:attr:`answer_needed`): the answer comes from a second prediction,
    constrained to the schema, without tools.
    """

    def __init__(self, owner: ChatLMStudio, request: _Request) -> None:
        self.owner = owner
        self.request = request.with_tools_only()
        self.convert = _Conversion(owner, self.request)
        self.held: list[ChatGenerationChunk] = []
        self.discarded_usage: UsageMetadata | None = None
        self.answer_needed = False

    @property
    def calling(self) -> bool:
        """Whether the model completed a tool call (the reply is a tool-call reply)."""
        return self.convert.builder.ended_tool_calls > 0

    def feed(self, item: Any) -> list[ChatGenerationChunk]:
        """The chunks to yield now for an event or the result."""
        if isinstance(item, PredictionResult) and not self.calling:
            self.owner._note_result(self.request.model, item)
            self.discarded_usage = self.convert.usage(item)
            self.answer_needed = True
            self.held.clear()
            return []
        chunk = self.convert(item)
        if chunk is not None:
            self.held.append(chunk)
        if not self.calling:
            return []
        ready, self.held = self.held, []
        return ready


class _StreamBinding(_ChatModelBinding):  # type: ignore[no-redef]  # as langchain-core's
    """The binding of :meth:`ChatLMStudio.bind`: a chain can be left early through it too
    (see :meth:`ChatLMStudio.transform`). It serializes as a plain ``RunnableBinding``."""

    @override
    def transform(
        self,
        input: Iterator[LanguageModelInput],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessage]:
        return TransformStream(super().transform(input, config, **kwargs))


class ChatLMStudio(LMStudioPredictionModel, BaseChatModel):
    """LM Studio chat model, on LM Studio's native WebSocket API.

    Setup: install ``lmstudio-integrations``, start LM Studio's server (or
    ``python -m lmstudio_core.emulator``). No connection is made until the first call;
    the model is loaded on demand.

    Example:
        ```python
        from lmstudio_integrations.langchain import ChatLMStudio

        llm = ChatLMStudio(model="qwen2.5-7b-instruct", temperature=0)
        llm.invoke("Hello!")
        for chunk in llm.stream("Tell me a story"):
            print(chunk.text, end="")
        llm.invoke("Hi", model="qwen3-4b")  # another model for one call
        ```

    Tool calling (``bind_tools``), structured output (``with_structured_output``, by
    default constrained server-side to the JSON schema; with tools too, as in
    ``langchain.agents.create_agent(..., response_format=Schema)``: see
    :meth:`bind_tools`), reasoning (separate reasoning content blocks), images (base64 or
    data-URI blocks), usage and timing metadata, token counting with the model's
    tokenizer and cancellation are supported. Errors are langchain-core ``ModelError``
    subclasses that are also ``lmstudio_core`` errors.

    Cancellation: leaving a stream early stops the generation in LM Studio as soon as the
    stream is closed. ``for chunk in llm.stream(...): break`` and the same over a chain
    (``(prompt | llm | StrOutputParser()).stream(...)``) close it at once; so does
    ``async for chunk in llm.astream(...): break``, where the event loop finalizes the
    generator. A stream kept in a variable stays open (and LM Studio keeps generating)
    until it is closed or garbage collected: close it yourself, e.g.
    ``async with contextlib.aclosing(llm.astream(...)) as stream:`` (or
    ``await stream.aclose()``; ``stream.close()`` or ``contextlib.closing`` for ``stream``).
    Cancelling the task that iterates an async stream stops the generation too.
    """

    model_config = ConfigDict(extra="forbid")

    reasoning: bool | None = None
    """Whether reasoning models think before answering (``None``: the model's default).
    Reasoning is returned apart from the answer either way."""
    reasoning_budget: int | None = None
    """Maximum number of reasoning tokens, where the model supports a budget."""

    _profile_from_server: bool = PrivateAttr(default=False)

    # -- LangChain plumbing --------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "lmstudio-chat"

    def _model_options(self) -> dict[str, Any]:
        return {"enable_thinking": self.reasoning, "reasoning_budget": self.reasoning_budget}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        temperature = kwargs.get("temperature", self.temperature)
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        return self._ls_params("chat", stop, kwargs.get("model"), temperature, max_tokens)

    def _resolve_model_profile(self) -> ModelProfile | None:
        return adapter_profile()

    # -- requests ------------------------------------------------------------------------

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _Request:
        kwargs = dict(kwargs)
        model = kwargs.pop("model", None) or self.model
        tools = kwargs.pop("tools", None) or None
        tool_choice = kwargs.pop("tool_choice", None)
        parallel_tool_calls = kwargs.pop("parallel_tool_calls", None)
        response_format = kwargs.pop("response_format", None)
        if tools is not None:
            names = [tool["function"]["name"] for tool in tools if "function" in tool]
            tool_choice = tool_choice_for_core(tool_choice, names)
            if response_format is not None and tool_choice == "none":
                tools = tool_choice = None  # no tool may be called: one constrained answer
        arguments: dict[str, Any] = {
            "response_format": response_format,
            "tools": tools,
            "tool_choice": tool_choice,
            "preset": kwargs.pop("preset", None) or self.preset,
        }
        kwargs.pop("stream", None)
        arguments["config"] = merge_options(self._prediction_options(), kwargs, {"stop": stop})
        return _Request(
            str(model),
            messages_to_history(messages),
            arguments,
            single_tool_call=parallel_tool_calls is False,
        )

    def _note_result(self, model: str, result: PredictionResult) -> None:
        """Keep the profile up to date with the model info of a result (no extra I/O)."""
        if model != self.model or result.model_info is None:
            return
        if self.profile is None or self._profile_from_server or self.profile == adapter_profile():
            self.profile = profile_from_info(result.model_info)
            self._profile_from_server = True

    def _predict(
        self, request: _Request, earlier_usage: UsageMetadata | None = None
    ) -> Iterator[ChatGenerationChunk]:
        convert = _Conversion(self, request, earlier_usage)
        with closing(self.clients.stream(request.model, request.start)) as items:
            for item in items:
                chunk = convert(item)
                if chunk is not None:
                    yield chunk

    async def _apredict(
        self, request: _Request, earlier_usage: UsageMetadata | None = None
    ) -> AsyncGenerator[ChatGenerationChunk, None]:
        convert = _Conversion(self, request, earlier_usage)
        async with aclosing(self.clients.astream(request.model, request.astart)) as items:
            async for item in items:
                chunk = convert(item)
                if chunk is not None:
                    yield chunk

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        with lmstudio_errors():
            if not request.tools_then_schema:
                yield from self._predict(request)
                return
            first = _ToolsFirst(self, request)
            with closing(self.clients.stream(request.model, first.request.start)) as items:
                for item in items:
                    yield from first.feed(item)
            if first.answer_needed:
                yield from self._predict(request.with_schema_only(), first.discarded_usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        with lmstudio_errors():
            if not request.tools_then_schema:
                async with aclosing(self._apredict(request)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                return
            first = _ToolsFirst(self, request)
            items = self.clients.astream(request.model, first.request.astart)
            async with aclosing(items):
                async for item in items:
                    for chunk in first.feed(item):
                        yield chunk
            if first.answer_needed:
                answer = self._apredict(request.with_schema_only(), first.discarded_usage)
                async with aclosing(answer) as chunks:
                    async for chunk in chunks:
                        yield chunk

    @override
    def transform(
        self,
        input: Iterator[LanguageModelInput],
        config: RunnableConfig | None = None,
        **kwargs: Any | None,
    ) -> Iterator[AIMessage]:
        """Stream the reply to the input (as a step of a chain).

        Leaving the chain's stream early cancels the generation, also when a later step
        (an output parser) keeps the rest of its input for tracing: see
        ``lmstudio_integrations.langchain._convert.TransformStream``. The bindings made by
        :meth:`bind`, :meth:`bind_tools` and :meth:`with_config` stream the same way.
        """
        return TransformStream(super().transform(input, config, **kwargs))

    @override
    def bind(self, **kwargs: Any) -> _ChatModelBinding:
        """Bind arguments to every call (a ``RunnableBinding``; see :meth:`transform`)."""
        return _StreamBinding(bound=self, kwargs=kwargs, config={})

    @override
    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind a config to every call (a ``RunnableBinding``; see :meth:`transform`)."""
        merged = cast("RunnableConfig", {**(config or {}), **kwargs})
        return _StreamBinding(bound=self, kwargs={}, config=merged)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))

    # -- tools and structured output ---------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its tool calls come back in ``AIMessage.tool_calls``.

        Args:
            tools: LangChain tools, functions, pydantic models or OpenAI tool dicts.
            tool_choice: ``"auto"``, ``"none"``, ``"any"`` / ``"required"`` / ``True``
                (force a tool call), or a tool's name (LM Studio cannot name a tool: only
                that tool is sent and a call is forced).
            strict: Accepted for compatibility; LM Studio always constrains tool-call
                arguments to the tool's schema when it can.
            parallel_tool_calls: ``False``: at most one tool call per reply. LM Studio
                has no such switch, so the model may still ask for several; only the
                first one it starts is returned (and streamed), and
                ``response_metadata["dropped_tool_calls"]`` counts the others.
                ``True`` / ``None``: every call the model makes.
            **kwargs: Other arguments bound to the model (e.g. ``temperature``), including
                ``response_format`` (a JSON schema; what LangChain's ``ProviderStrategy``
                binds in ``create_agent``).

        Tools with a ``response_format``: a reply constrained to a schema cannot contain
        a tool call (LM Studio enforces the schema with a grammar), so one call takes up
        to two predictions. The first offers the tools without the schema; if the model
        calls a tool, that is the reply. If it answers instead, that unconstrained
        answer is discarded and a second prediction, constrained to the schema and
        without tools, gives the reply (its usage includes the tokens of both). With
        ``tool_choice="none"`` only the constrained prediction runs.
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [tool["function"]["name"] for tool in formatted]
        choice = tool_choice_for_core(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredOutputMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A runnable that returns output matching ``schema``.

        Args:
            schema: A pydantic class, a TypedDict, a JSON schema or an OpenAI tool dict.
                Pydantic classes give instances; the others give dicts.
            method: ``"json_schema"`` (default): LM Studio constrains generation to the
                schema. ``"function_calling"``: the schema becomes a tool the model is
                forced to call. ``"json_mode"``: JSON output; LM Studio has no schema-free
                JSON mode, so this constrains to ``schema`` when given (else to any JSON
                object) and parses like ``"json_schema"``.
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
            strict: Accepted for compatibility; constrained generation is always strict.
        """
        if kwargs:
            raise ValueError(f"unsupported arguments for with_structured_output: {sorted(kwargs)}")
        if schema is None and method != "json_mode":
            raise ValueError(f"method={method!r} needs a schema")
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        # Tracing metadata (LangSmith); langchain-core requires a schema in it.
        trace: dict[str, Any] = {}
        if schema is not None:
            trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        parser: Runnable[Any, Any]
        if method == "function_calling":
            assert schema is not None
            name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=name, strict=strict, **_traced(trace))
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            json_schema = convert_to_json_schema(schema) if schema is not None else None
            llm = self.bind(response_format=json_schema or {"type": "object"}, **_traced(trace))
            parser = (
                PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
            )
        else:
            raise ValueError(
                f"unknown method {method!r}: use 'json_schema', 'function_calling' or 'json_mode'"
            )
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )

    # -- tokens and model info ---------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """Number of tokens of ``text`` with the model's own tokenizer.

        This asks LM Studio (loading the model if needed) and blocks until it answers; in
        a thread whose event loop is running it warns (:class:`BlockingCallWarning`):
        use :meth:`aget_num_tokens` there.
        """
        _warn_if_loop_running("get_num_tokens", "aget_num_tokens")
        with lmstudio_errors():
            return self.clients.llm(self.model).count_tokens(text)

    async def aget_num_tokens(self, text: str) -> int:
        """Async twin of :meth:`get_num_tokens`."""
        with lmstudio_errors():
            return await (await self.clients.allm(self.model)).count_tokens(text)

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """Tokens of the prompt LM Studio builds from ``messages`` (and ``tools``) with the
        model's prompt template and tokenizer (images are not counted).

        Blocks like :meth:`get_num_tokens` (and warns the same way in a running event
        loop): use :meth:`aget_num_tokens_from_messages` in async code.
        """
        _warn_if_loop_running("get_num_tokens_from_messages", "aget_num_tokens_from_messages")
        history, formatted = _prompt_of(messages, tools)
        with lmstudio_errors():
            llm = self.clients.llm(self.model)
            prompt = llm.apply_prompt_template(history, tools=formatted)
            return llm.count_tokens(prompt)

    async def aget_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """Async twin of :meth:`get_num_tokens_from_messages`."""
        history, formatted = _prompt_of(messages, tools)
        with lmstudio_errors():
            llm = await self.clients.allm(self.model)
            prompt = await llm.apply_prompt_template(history, tools=formatted)
            return await llm.count_tokens(prompt)

    def fetch_profile(self) -> ModelProfile:
        """Read the model's profile from LM Studio (loading the model if needed) and
        set :attr:`profile` to it: context length, vision, tool use.

        Blocks until LM Studio answers (and warns in a running event loop, see
        :class:`BlockingCallWarning`): use :meth:`afetch_profile` in async code.
        """
        _warn_if_loop_running("fetch_profile", "afetch_profile")
        with lmstudio_errors():
            info = self.clients.llm(self.model).get_info()
        self.profile = profile_from_info(info)
        self._profile_from_server = True
        return self.profile

    async def afetch_profile(self) -> ModelProfile:
        """Async twin of :meth:`fetch_profile`."""
        with lmstudio_errors():
            info = await (await self.clients.allm(self.model)).get_info()
        self.profile = profile_from_info(info)
        self._profile_from_server = True
        return self.profile


def _prompt_of(
    messages: list[BaseMessage],
    tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None,
) -> tuple[Chat, list[dict[str, Any]] | None]:
    """The history and tools whose prompt the token counts measure (without images)."""
    history = Chat.from_history(messages_to_history(convert_to_messages(messages), images=False))
    formatted = [convert_to_openai_tool(tool) for tool in tools] if tools else None
    return history, formatted


def _traced(trace: dict[str, Any]) -> dict[str, Any]:
    return {"ls_structured_output_format": trace} if trace else {}
