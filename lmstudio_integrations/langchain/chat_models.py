"""``ChatLMStudio``: LM Studio as a LangChain chat model, over the native WebSocket API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
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

from ._connection import LMStudioPredictionModel, lmstudio_errors, merge_options
from ._convert import (
    ChunkBuilder,
    adapter_profile,
    messages_to_history,
    profile_from_info,
    tool_choice_for_core,
)

__all__ = ["ChatLMStudio"]

logger = logging.getLogger(__name__)

StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]


@dataclass(frozen=True, slots=True)
class _Request:
    """One prediction, ready to start on a model handle."""

    model: str
    history: list[dict[str, Any]]
    arguments: dict[str, Any]

    def start(self, llm: LLM) -> PredictionStream:
        return llm.respond_stream(self.history, **self.arguments)

    def astart(self, llm: AsyncLLM) -> AsyncPredictionStream:
        return llm.respond_stream(self.history, **self.arguments)


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
    default constrained server-side to the JSON schema), reasoning (separate reasoning
    content blocks), images (base64 or data-URI blocks), usage and timing metadata,
    token counting with the model's tokenizer and cancellation (leaving a stream early
    stops the generation) are supported. Errors are langchain-core ``ModelError``
    subclasses that are also ``lmstudio_core`` errors.
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
        if tools is not None:
            names = [tool["function"]["name"] for tool in tools if "function" in tool]
            tool_choice = tool_choice_for_core(tool_choice, names)
        arguments: dict[str, Any] = {
            "response_format": kwargs.pop("response_format", None),
            "tools": tools,
            "tool_choice": tool_choice,
            "preset": kwargs.pop("preset", None) or self.preset,
        }
        kwargs.pop("stream", None)
        arguments["config"] = merge_options(self._prediction_options(), kwargs, {"stop": stop})
        return _Request(str(model), messages_to_history(messages), arguments)

    def _note_result(self, model: str, result: PredictionResult) -> None:
        """Keep the profile up to date with the model info of a result (no extra I/O)."""
        if model != self.model or result.model_info is None:
            return
        if self.profile is None or self._profile_from_server or self.profile == adapter_profile():
            self.profile = profile_from_info(result.model_info)
            self._profile_from_server = True

    def _chunks(self, request: _Request) -> Callable[[Any], ChatGenerationChunk | None]:
        """A converter of this request's events and result into chunks."""
        builder = ChunkBuilder()

        def convert(item: Any) -> ChatGenerationChunk | None:
            if isinstance(item, PredictionResult):
                self._note_result(request.model, item)
                return builder.last_chunk(item, request.model)
            return builder.chunk(item)

        return convert

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        convert = self._chunks(request)
        with lmstudio_errors():
            for item in self.clients.stream(request.model, request.start):
                chunk = convert(item)
                if chunk is not None:
                    yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs)
        convert = self._chunks(request)
        with lmstudio_errors():
            async for item in self.clients.astream(request.model, request.astart):
                chunk = convert(item)
                if chunk is not None:
                    yield chunk

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
            **kwargs: Other arguments bound to the model (e.g. ``temperature``).
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        names = [tool["function"]["name"] for tool in formatted]
        choice = tool_choice_for_core(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

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
        """Number of tokens of ``text`` with the model's own tokenizer."""
        with lmstudio_errors():
            return self.clients.llm(self.model).count_tokens(text)

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """Tokens of the prompt LM Studio builds from ``messages`` (and ``tools``) with the
        model's prompt template and tokenizer (images are not counted)."""
        history = Chat.from_history(
            messages_to_history(convert_to_messages(messages), images=False)
        )
        formatted = [convert_to_openai_tool(tool) for tool in tools] if tools else None
        with lmstudio_errors():
            llm = self.clients.llm(self.model)
            prompt = llm.apply_prompt_template(history, tools=formatted)
            return llm.count_tokens(prompt)

    def fetch_profile(self) -> ModelProfile:
        """Read the model's profile from LM Studio (loading the model if needed) and
        set :attr:`profile` to it: context length, vision, tool use."""
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


def _traced(trace: dict[str, Any]) -> dict[str, Any]:
    return {"ls_structured_output_format": trace} if trace else {}
