"""lmstudio-core: a native Python SDK for LM Studio's WebSocket API.

Blocking::

    from lmstudio_core import Client

    with Client() as client:                       # finds a local LM Studio
        model = client.llm.model("qwen2.5-7b-instruct")
        print(model.respond("Hello!", temperature=0.2).content)

Asyncio: the same API on :class:`AsyncClient`, with ``await`` / ``async with``.
"""

from __future__ import annotations

from ._async.client import (
    AsyncClient,
    AsyncEmbeddingNamespace,
    AsyncFilesNamespace,
    AsyncLLMNamespace,
    AsyncSystemNamespace,
)
from ._async.models import AsyncEmbeddingModel, AsyncLLM
from ._async.streams import AsyncLoadStream, AsyncPredictionStream
from ._sync.client import (
    Client,
    EmbeddingNamespace,
    FilesNamespace,
    LLMNamespace,
    SystemNamespace,
)
from ._sync.models import LLM, EmbeddingModel
from ._sync.streams import LoadStream, PredictionStream
from .catalog import DownloadedModelInfo, LoadedModelInfo, LoadProgress, ModelQuery, ServerVersion
from .config import DEFAULT_TTL, RetryPolicy, Timeouts
from .errors import (
    AuthenticationError,
    ConnectError,
    ContextOverflowError,
    DisconnectedError,
    DomainMismatchError,
    LMStudioError,
    ModelNotFoundError,
    PresetNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
    UnknownMessageWarning,
)
from .history import (
    Chat,
    ChatMessage,
    FileHandle,
    HistoryLike,
    ImageData,
    ImageInput,
    MessageLike,
)
from .options import LoadOptions, PredictionOptions
from .prediction import (
    PredictionEvent,
    PromptProgress,
    ReasoningFragment,
    TextFragment,
    ToolCallArgumentsDelta,
    ToolCallEnded,
    ToolCallFailed,
    ToolCallNameReceived,
    ToolCallStarted,
)
from .results import ActResult, PredictionResult, PredictionStats, ToolCallFailure
from .structured import GbnfGrammar, ResponseFormat
from .tools import Tool, ToolCallRequest, ToolChoice, ToolLike

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TTL",
    "LLM",
    "ActResult",
    "AsyncClient",
    "AsyncEmbeddingModel",
    "AsyncEmbeddingNamespace",
    "AsyncFilesNamespace",
    "AsyncLLM",
    "AsyncLLMNamespace",
    "AsyncLoadStream",
    "AsyncPredictionStream",
    "AsyncSystemNamespace",
    "AuthenticationError",
    "Chat",
    "ChatMessage",
    "Client",
    "ConnectError",
    "ContextOverflowError",
    "DisconnectedError",
    "DomainMismatchError",
    "DownloadedModelInfo",
    "EmbeddingModel",
    "EmbeddingNamespace",
    "FileHandle",
    "FilesNamespace",
    "GbnfGrammar",
    "HistoryLike",
    "ImageData",
    "ImageInput",
    "LLMNamespace",
    "LMStudioError",
    "LoadOptions",
    "LoadProgress",
    "LoadStream",
    "LoadedModelInfo",
    "MessageLike",
    "ModelNotFoundError",
    "ModelQuery",
    "PredictionEvent",
    "PredictionOptions",
    "PredictionResult",
    "PredictionStats",
    "PredictionStream",
    "PresetNotFoundError",
    "PromptProgress",
    "ProtocolError",
    "ReasoningFragment",
    "RequestTimeoutError",
    "ResponseFormat",
    "RetryPolicy",
    "ServerError",
    "ServerVersion",
    "SystemNamespace",
    "TextFragment",
    "Timeouts",
    "Tool",
    "ToolCallArgumentsDelta",
    "ToolCallEnded",
    "ToolCallFailed",
    "ToolCallFailure",
    "ToolCallNameReceived",
    "ToolCallRequest",
    "ToolCallStarted",
    "ToolChoice",
    "ToolLike",
    "UnknownMessageWarning",
    "__version__",
]
