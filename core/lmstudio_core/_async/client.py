"""The asyncio client and its namespaces: ``llm``, ``embedding``, ``system``, ``files``."""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from .._progress import ProgressBar
from ..catalog import (
    DownloadedModelInfo,
    LoadedModelInfo,
    ModelDomain,
    ModelQuery,
    ServerVersion,
    build_get_or_load,
    build_load,
)
from ..config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TTL,
    RetryPolicy,
    Timeouts,
    resolve_base_url,
    resolve_credentials,
    resolve_timeouts,
)
from ..endpoints import ModelEndpoints, parse_info, unload_call
from ..history import FileHandle, ImageData, ImageInput, image_data
from ..options import LoadOptions
from ..protocol import ABSENT as _ABSENT
from .models import AsyncEmbeddingModel, AsyncLLM
from .streams import AsyncLoadStream
from .transport import Locator, Transport, release_unclosed

__all__ = [
    "AsyncClient",
    "AsyncEmbeddingNamespace",
    "AsyncFilesNamespace",
    "AsyncLLMNamespace",
    "AsyncSystemNamespace",
]

H = TypeVar("H", AsyncLLM, AsyncEmbeddingModel)
Progress = bool | Callable[[float], None]


class AsyncClient:
    """An asyncio LM Studio client, safe to share between the tasks of one event loop.

    Nothing is sent until the first request; each namespace opens its own socket then.
    Use it as an async context manager, or await :meth:`close`. One garbage-collected
    unclosed frees its sockets and warns (``ResourceWarning``), as an unclosed file does. The
    sockets belong to the event loop they were opened in; if that loop is closed while they
    are open, the next request (in another loop) or :meth:`close` (awaited in any loop)
    frees them.

    Args:
        base_url: ``http://host:port``, ``ws(s)://...`` or ``host:port`` (a trailing ``/v1``
            is ignored; a path prefix is kept). Default: the ``LMSTUDIO_BASE_URL``
            environment variable if set and not empty, else find a local LM Studio.
        api_token: An ``sk-lm-...`` token. Default: ``LM_API_TOKEN`` or
            ``LMSTUDIO_API_TOKEN`` from the environment, else none.
        timeout: Seconds for every timeout, or a :class:`Timeouts`.
        max_retries: Retries for connecting and idempotent requests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_token: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self._base_url = resolve_base_url(base_url)
        self._credentials = resolve_credentials(api_token)
        self._timeouts = resolve_timeouts(timeout, Timeouts())
        self._retry = RetryPolicy(max_retries)
        self._locator = Locator(self._base_url)
        self._transports: dict[str, Transport] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Collected without close(): free the sockets (the callback gets the transports,
        # not the client); __del__ warns.
        self._finalizer = weakref.finalize(self, release_unclosed, self._transports)
        self.llm = AsyncLLMNamespace(self)
        self.embedding = AsyncEmbeddingNamespace(self)
        self.system = AsyncSystemNamespace(self)
        self.files = AsyncFilesNamespace(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str | None:
        """The WebSocket base URL (``None`` until a local LM Studio has been found)."""
        return self._base_url or self._locator._base_url

    @property
    def closed(self) -> bool:
        return self._closed

    def _transport(self, namespace: str) -> Transport:
        transport = self._transports.get(namespace)
        if transport is not None:
            return transport
        with self._lock:
            if self._closed:
                raise RuntimeError("this client is closed; create a new one")
            transport = self._transports.get(namespace)
            if transport is None:
                transport = Transport(
                    namespace, self._locator, self._credentials, self._timeouts.connect,
                    self._retry,
                )  # fmt: skip
                self._transports[namespace] = transport
            return transport

    async def close(self) -> None:
        """Close every socket; pending requests fail with ``DisconnectedError``."""
        with self._lock:
            self._closed = True
            transports = list(self._transports.values())
        error: BaseException | None = None
        for transport in transports:
            try:
                await transport.close()
            except BaseException as exc:  # cut short (a cancel): still close the others
                error = error or exc
        if error is not None:
            raise error

    def __del__(self, _finalizing: Callable[[], bool] = sys.is_finalizing) -> None:
        # Like an unclosed file: a ResourceWarning if the client still held a connection
        # and close() was never called. Run the finalizer first (the collector may not
        # have run it yet) to learn that.
        finalizer: weakref.finalize[Any, Any] | None = self.__dict__.get("_finalizer")
        if finalizer is None:  # __init__ failed
            return
        finalizer()
        if _finalizing() or self._closed or not any(t.leaked for t in self._transports.values()):
            return
        warnings.warn(
            f"unclosed <{type(self).__name__} base_url={self.base_url!r}>",
            ResourceWarning,
            stacklevel=2,
            source=self,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _ModelNamespace(Generic[H]):
    """Loading, finding and listing models of one kind."""

    _domain: ModelDomain

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _handle(self, info: LoadedModelInfo) -> H:
        raise NotImplementedError

    async def _call(self, endpoint: str, parameter: Any) -> Any:
        transport = self._client._transport(self._domain)
        timeout = self._client._timeouts.request
        return await transport.call(endpoint, parameter, timeout=timeout, idempotent=True)

    def _load_stream(
        self, endpoint: str, parameter: dict[str, Any], timeout: Timeouts | float | None
    ) -> AsyncLoadStream[H]:
        transport = self._client._transport(self._domain)
        timeouts = resolve_timeouts(timeout, self._client._timeouts)
        return AsyncLoadStream(
            lambda: transport.open_channel(endpoint, parameter), timeouts, self._handle
        )

    async def model(
        self,
        key: str | None = None,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: LoadOptions | Mapping[str, Any] | None = None,
        progress: Progress = False,
        timeout: Timeouts | float | None = None,
    ) -> H:
        """A handle to a loaded model, loading it first if needed.

        Args:
            key: Model key, path or instance identifier. ``None``: any loaded model.
            ttl: Seconds an idle model stays loaded, if this loads it (``None``: forever).
            config: Load options (``context_length``, ``gpu_offload``, ...).
            progress: ``True`` for a terminal progress bar, or a callback taking 0.0-1.0.
            timeout: Override the client's timeouts for this load.
        """
        if key is None:
            return await self.get({})
        parameter = build_get_or_load(self._domain, key, ttl=ttl, config=config)
        return await _wait_for_load(
            self._load_stream("getOrLoad", parameter, timeout), progress, key
        )

    def load_stream(
        self,
        key: str,
        *,
        identifier: str | None = None,
        ttl: float | None = DEFAULT_TTL,
        config: LoadOptions | Mapping[str, Any] | None = None,
        timeout: Timeouts | float | None = None,
    ) -> AsyncLoadStream[H]:
        """Start loading a new instance; iterate the stream for progress, then ``result()``."""
        parameter = build_load(self._domain, key, identifier=identifier, ttl=ttl, config=config)
        return self._load_stream("loadModel", parameter, timeout)

    async def load(
        self,
        key: str,
        *,
        identifier: str | None = None,
        ttl: float | None = DEFAULT_TTL,
        config: LoadOptions | Mapping[str, Any] | None = None,
        progress: Progress = False,
        timeout: Timeouts | float | None = None,
    ) -> H:
        """Load a new instance of ``key`` (even if one is loaded already)."""
        parameter = build_load(self._domain, key, identifier=identifier, ttl=ttl, config=config)
        stream = self._load_stream("loadModel", parameter, timeout)
        return await _wait_for_load(stream, progress, key)

    async def get(self, target: str | ModelQuery | Mapping[str, Any]) -> H:
        """A handle to a loaded model, by identifier or query (never loads)."""
        endpoint, parameter = ModelEndpoints(self._domain, target).info()
        return self._handle(parse_info(await self._call(endpoint, parameter)))

    async def list_loaded(self) -> list[H]:
        """Handles to every loaded model of this kind."""
        result = await self._call("listLoaded", _ABSENT)
        return [self._handle(parse_info(item)) for item in result or []]

    async def list_downloaded(self) -> list[DownloadedModelInfo]:
        """Models of this kind on disk."""
        models = await self._client.system.list_downloaded_models()
        return [model for model in models if model.type == self._domain]

    async def unload(self, identifier: str) -> None:
        """Unload the model instance with this identifier."""
        await self._call(*unload_call(identifier))


class AsyncLLMNamespace(_ModelNamespace[AsyncLLM]):
    """``client.llm``: load, find and list LLMs."""

    _domain: ModelDomain = "llm"

    def _handle(self, info: LoadedModelInfo) -> AsyncLLM:
        return AsyncLLM(self._client, info.identifier, info)


class AsyncEmbeddingNamespace(_ModelNamespace[AsyncEmbeddingModel]):
    """``client.embedding``: load, find and list embedding models."""

    _domain: ModelDomain = "embedding"

    def _handle(self, info: LoadedModelInfo) -> AsyncEmbeddingModel:
        return AsyncEmbeddingModel(self._client, info.identifier, info)


async def _wait_for_load(stream: AsyncLoadStream[H], progress: Progress, key: str) -> H:
    bar = ProgressBar(f"Loading {key}") if progress is True else None
    callback = progress if callable(progress) else None
    async with stream:
        async for event in stream:
            if bar is not None:
                bar.update(event.fraction)
            if callback is not None:
                callback(event.fraction)
        handle = await stream.result()
    if bar is not None:
        bar.finish()
    return handle


class AsyncSystemNamespace:
    """``client.system``: server version, downloaded models, notifications."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _call(self, endpoint: str, parameter: Any = None, *, idempotent: bool = True) -> Any:
        transport = self._client._transport("system")
        timeout = self._client._timeouts.request
        return await transport.call(
            endpoint, _ABSENT if parameter is None else parameter, timeout=timeout,
            idempotent=idempotent,
        )  # fmt: skip

    async def version(self) -> ServerVersion:
        """LM Studio's version."""
        return ServerVersion.model_validate(await self._call("version"))

    async def list_downloaded_models(self) -> list[DownloadedModelInfo]:
        """Every model on disk (LLMs and embedding models)."""
        return [
            DownloadedModelInfo.model_validate(item)
            for item in await self._call("listDownloadedModels") or []
        ]

    async def notify(self, title: str, description: str | None = None) -> None:
        """Show a desktop notification in LM Studio."""
        parameter: dict[str, Any] = {"title": title}
        if description is not None:
            parameter["description"] = description
        await self._call("notify", parameter, idempotent=False)


class AsyncFilesNamespace:
    """``client.files``: upload images for chats."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _upload(self, image: ImageData) -> FileHandle:
        transport = self._client._transport("files")
        timeout = self._client._timeouts.request
        result = await transport.call("uploadFileBase64", image.upload_parameter(), timeout=timeout)
        return FileHandle.from_upload(image.name, result)

    async def _upload_images(self, images: list[ImageData]) -> dict[str, FileHandle]:
        return {image.key: await self._upload(image) for image in images}

    async def prepare_image(self, source: ImageInput, name: str | None = None) -> FileHandle:
        """Upload an image (path, bytes, binary file object or data URI) for use in chats."""
        data = image_data(source, name)
        if isinstance(data, FileHandle):
            return data
        return await self._upload(data)
