"""``LMStudio``: an LM Studio model as a LlamaIndex function-calling LLM."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictInProgressEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.program.utils import FlexibleModel, process_streaming_objects
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import Model, PydanticProgramMode
from llama_index_instrumentation import get_dispatcher
from lmstudio_core import (
    DEFAULT_TTL,
    LLM,
    AsyncLLM,
    AsyncPredictionStream,
    PredictionResult,
    PredictionStream,
    Timeouts,
)

from ._connection import LMStudioConnection
from ._convert import (
    ResponseBuilder,
    keep_first_tool_call,
    to_history,
    token_errors,
    tool_selections,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["DEFAULT_CONTEXT_WINDOW_FRACTION", "LMStudio"]

DEFAULT_CONTEXT_WINDOW_FRACTION = 0.5
"""Share of a model's context length that ``LMStudio.metadata`` reports by default.

LlamaIndex packs prompts (``PromptHelper``, chat memory) counting tokens with its own
tokenizer, tiktoken's ``cl100k_base`` unless ``Settings.tokenizer`` says otherwise. Local
models' tokenizers count up to about twice as many tokens for non-English text and code,
so packing against the whole window overflows it; half of it leaves room for that."""

logger = logging.getLogger(__name__)
dispatcher = get_dispatcher(__name__)


class LMStudio(LMStudioConnection, FunctionCallingLLM):
    """An LM Studio model as a LlamaIndex LLM, over LM Studio's native WebSocket API.

    Chat, completion, streaming (with reasoning as ``ThinkingBlock`` values), tool calling,
    structured output with server-side JSON schema, images, and cancellation: leaving a
    stream early or cancelling the task stops the generation in LM Studio. A stream stops
    when its generator is closed: at once after ``break`` out of ``for``, and when the
    event loop finalizes it after ``break`` out of ``async for``; a generator kept in a
    variable stays open, and LM Studio keeps generating, until it is closed or garbage
    collected, so close it (``gen.close()``, ``await gen.aclose()``, or
    ``contextlib.closing`` / ``contextlib.aclosing``).

    Nothing connects in the constructor, and reading ``metadata`` never does (LlamaIndex
    reads it synchronously, also inside the event loop). The model is loaded on first use
    if it is not loaded yet (``load_config`` and ``ttl`` apply then); ``await`` calls load
    it without blocking the loop. ``metadata`` reports a share of the loaded context
    length (``context_window_fraction``; see there) once a request has resolved the model,
    and until then of ``load_config["context_length"]`` or LlamaIndex's default.

    Examples:
        ```python
        from lmstudio_integrations.llamaindex import LMStudio

        llm = LMStudio(model_name="qwen2.5-7b-instruct", temperature=0.2)
        print(llm.complete("Why is the sky blue?"))
        ```
    """

    model_name: str = Field(
        description="Model key, path or loaded instance identifier, e.g. 'qwen2.5-7b-instruct'."
    )
    base_url: str | None = Field(
        default=None,
        description="LM Studio's address: 'http://host:port', 'ws://host:port' or 'host:port' "
        "(a '/v1' suffix is ignored). Default: LMSTUDIO_BASE_URL, else find a local LM Studio.",
    )
    api_token: str | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="An 'sk-lm-...' API token. Default: LM_API_TOKEN or LMSTUDIO_API_TOKEN.",
    )
    temperature: float | None = Field(
        default=None, ge=0, description="Sampling temperature (default: the model's setting)."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="Most tokens to generate (default: no limit)."
    )
    request_timeout: float | Timeouts | None = Field(
        default=None,
        description="Seconds for every timeout (connecting, replies, first token, silence "
        "between tokens), or a Timeouts value. Default: the SDK's (10 minutes to first token).",
    )
    max_retries: int | None = Field(
        default=None, ge=0, description="Retries for connecting (never for a prediction)."
    )
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="Context window reported in metadata, as given. Default: "
        "context_window_fraction of the loaded instance's context length.",
    )
    context_window_fraction: float = Field(
        default=DEFAULT_CONTEXT_WINDOW_FRACTION,
        gt=0,
        le=1,
        description="Share of the model's context length reported as "
        "metadata.context_window when context_window is not set. LlamaIndex packs prompts "
        "counting tokens with its own tokenizer (tiktoken), and models' tokenizers count up "
        "to about twice as many for non-English text and code, so a full window would "
        "overflow; 0.5 keeps such prompts inside it. 1.0 reports the whole window.",
    )
    is_function_calling_model: bool | None = Field(
        default=None,
        description="Whether agents may use tool calling. Default: True, LM Studio offers "
        "tools to every model (natively to models trained for tool use, through its "
        "default tool-use prompt to the others); False makes AgentWorkflow use ReAct.",
    )
    load_config: dict[str, Any] | None = Field(
        default=None,
        description="Load options if this LLM loads the model, e.g. {'context_length': 8192}.",
    )
    ttl: float | None = Field(
        default=DEFAULT_TTL,
        gt=0,
        description="Seconds a model loaded by this object stays loaded while idle (None: "
        "until unloaded). A model that is already loaded keeps its own TTL.",
    )
    thinking: bool | None = Field(
        default=None,
        description="Turn reasoning on or off for models that support both (default: the "
        "model's setting).",
    )
    reasoning_budget: int | None = Field(
        default=None, gt=0, description="Most tokens the model may spend reasoning."
    )
    preset: str | None = Field(default=None, description="An LM Studio preset to apply.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="More prediction options for every call, e.g. {'top_k': 40, 'seed': 1}.",
    )

    @classmethod
    def class_name(cls) -> str:
        return "LMStudio_llm"

    # -- clients and metadata -----------------------------------------------------------

    def _context_length(self) -> int:
        """The model's context length as far as known without asking LM Studio."""
        info = self._clients.info("llm", self.model_name)
        if info is not None and (info.context_length or info.max_context_length):
            return int(info.context_length or info.max_context_length or 0)
        configured = (self.load_config or {}).get("context_length")
        if isinstance(configured, int) and configured > 0:
            return configured
        return DEFAULT_CONTEXT_WINDOW

    @property
    def metadata(self) -> LLMMetadata:
        """What LlamaIndex plans prompts with; never asks LM Studio (no I/O, no loading).

        ``context_window``: the field if set, else ``context_window_fraction`` of the
        context length of the loaded instance once a request resolved the model, before
        that of ``load_config["context_length"]``, else of LlamaIndex's default (3900).
        Set ``context_window`` for a model already loaded with a smaller context that
        LlamaIndex plans prompts for before the first request (e.g. ``as_query_engine``).
        ``is_function_calling_model``: the field if set, else True.
        """
        context_window = self.context_window
        if context_window is None:
            context_window = max(1, int(self._context_length() * self.context_window_fraction))
        function_calling = self.is_function_calling_model
        return LLMMetadata(
            context_window=context_window,
            num_output=self.max_tokens or DEFAULT_NUM_OUTPUTS,
            is_chat_model=True,
            is_function_calling_model=True if function_calling is None else function_calling,
            model_name=self.model_name,
        )

    def to_payload(self) -> dict[str, Any]:
        """What instrumentation events show of this LLM (no I/O, no credentials)."""
        return {"class_name": self.class_name(), **self.metadata.model_dump()}

    # -- the two I/O paths ---------------------------------------------------------------

    def _call_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for ``respond_stream``: instance options, then per call."""
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        if self.thinking is not None:
            options["enable_thinking"] = self.thinking
        if self.reasoning_budget is not None:
            options["reasoning_budget"] = self.reasoning_budget
        if self.preset is not None:
            options["preset"] = self.preset
        options.update(self.additional_kwargs)
        options.update(kwargs)
        if not options.get("tools"):
            options.pop("tools", None)
            options.pop("tool_choice", None)
        return options

    def _stream_responses(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> Generator[ChatResponse, None, None]:
        history = to_history(messages)
        arguments = self._call_arguments(kwargs)
        return self._run_stream(history, arguments)

    def _run_stream(
        self, history: list[dict[str, Any]], arguments: dict[str, Any]
    ) -> Generator[ChatResponse, None, None]:
        def start(model: LLM) -> PredictionStream:
            return model.respond_stream(history, **arguments)

        builder = ResponseBuilder()
        with token_errors(), closing(self._clients.stream(self.model_name, start)) as items:
            for item in items:
                response = _response(builder, item)
                if response is not None:
                    yield response

    def _astream_responses(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> AsyncGenerator[ChatResponse, None]:
        history = to_history(messages)
        arguments = self._call_arguments(kwargs)
        return self._arun_stream(history, arguments)

    async def _arun_stream(
        self, history: list[dict[str, Any]], arguments: dict[str, Any]
    ) -> AsyncGenerator[ChatResponse, None]:
        def start(model: AsyncLLM) -> AsyncPredictionStream:
            return model.respond_stream(history, **arguments)

        builder = ResponseBuilder()
        with token_errors():
            async with aclosing(self._clients.astream(self.model_name, start)) as items:
                async for item in items:
                    response = _response(builder, item)
                    if response is not None:
                        yield response

    # -- chat and completion --------------------------------------------------------------

    # The callback decorators report each call (events, token counts) once: the completion
    # methods run the undecorated chat methods, not the public ones.

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        last = None
        with closing(self._stream_responses(messages, kwargs)) as responses:
            for response in responses:
                last = response
        assert last is not None
        return last

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_responses(messages, kwargs)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        last = None
        async with aclosing(self._astream_responses(messages, kwargs)) as responses:
            async for response in responses:
                last = response
        assert last is not None
        return last

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        return self._astream_responses(messages, kwargs)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # -- tools ----------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The arguments of ``chat()`` offering ``tools``.

        ``tool_required`` asks LM Studio to force a call; ``tool_choice`` may also name one
        tool. Parallel calls are trimmed to the first by
        :meth:`_validate_chat_with_tools_response` unless allowed.
        """
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        specs = [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
        if tool_choice is None and tool_required:
            tool_choice = "required"
        return {"messages": messages, "tools": specs, "tool_choice": tool_choice, **kwargs}

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            keep_first_tool_call(response.message)
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls of a response, each with its own id (LM Studio's or a new one)."""
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            raise ValueError("Expected at least one tool call, but got 0 tool calls.")
        return selections

    # -- structured output ----------------------------------------------------------------

    def _structured_messages(
        self, prompt: PromptTemplate, prompt_args: dict[str, Any]
    ) -> list[ChatMessage]:
        return self._extend_messages(prompt.format_messages(llm=self, **prompt_args))

    def _start_structured(
        self, output_cls: type[Model], prompt: PromptTemplate, prompt_args: dict[str, Any]
    ) -> list[ChatMessage]:
        """Report the start of a structured prediction; its messages."""
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        return self._structured_messages(prompt, prompt_args)

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Fill ``output_cls`` with LM Studio's JSON-schema constrained generation
        (the ``DEFAULT`` program mode; other modes use LlamaIndex's programs)."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            result: Model = super().structured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return result
        messages = self._start_structured(output_cls, prompt, prompt_args)
        response = self.chat(messages, response_format=output_cls, **(llm_kwargs or {}))
        output: Model = output_cls.model_validate_json(response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            result: Model = await super().astructured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return result
        messages = self._start_structured(output_cls, prompt, prompt_args)
        response = await self.achat(messages, response_format=output_cls, **(llm_kwargs or {}))
        output: Model = output_cls.model_validate_json(response.message.content or "")
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    @dispatcher.span
    def stream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | FlexibleModel, None, None]:
        """Partial ``output_cls`` objects as the JSON arrives (fields fill in over time)."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return super().stream_structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
        messages = self._structured_messages(prompt, prompt_args)
        responses = self.stream_chat(messages, response_format=output_cls, **(llm_kwargs or {}))

        def gen() -> Generator[Model | FlexibleModel, None, None]:
            dispatcher.event(
                LLMStructuredPredictStartEvent(
                    output_cls=output_cls, template=prompt, template_args=prompt_args
                )
            )
            partial: Any = None
            with closing(responses):
                for response in responses:
                    partial = _partial_object(response, output_cls, partial)
                    dispatcher.event(LLMStructuredPredictInProgressEvent(output=partial))
                    yield partial
            dispatcher.event(LLMStructuredPredictEndEvent(output=partial))

        return gen()

    @dispatcher.span
    async def astream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | FlexibleModel, None]:
        """Async :meth:`stream_structured_predict`."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return await super().astream_structured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
        messages = self._structured_messages(prompt, prompt_args)
        responses = await self.astream_chat(
            messages, response_format=output_cls, **(llm_kwargs or {})
        )

        async def gen() -> AsyncGenerator[Model | FlexibleModel, None]:
            dispatcher.event(
                LLMStructuredPredictStartEvent(
                    output_cls=output_cls, template=prompt, template_args=prompt_args
                )
            )
            partial: Any = None
            async with aclosing(responses):
                async for response in responses:
                    partial = _partial_object(response, output_cls, partial)
                    dispatcher.event(LLMStructuredPredictInProgressEvent(output=partial))
                    yield partial
            dispatcher.event(LLMStructuredPredictEndEvent(output=partial))

        return gen()


def _response(builder: ResponseBuilder, item: Any) -> ChatResponse | None:
    """The response for a stream event, or the final one for the result."""
    if isinstance(item, PredictionResult):
        return builder.finish(item)
    return builder.feed(item)


def _partial_object(response: ChatResponse, output_cls: type[Model], previous: Any) -> Any:
    """The best object the JSON so far describes (the previous one if it got no better)."""
    objects = None if previous is None else [previous]
    return process_streaming_objects(response, output_cls, cur_objects=objects, llm=None)
