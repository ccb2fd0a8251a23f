# Generated from core/lmstudio_core/_async/client.py by scripts/unasync.py: do not edit.
"""The blocking client and its namespaces: ``llm``, ``embedding``, ``system``, ``files``."""

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
from .models import LLM, EmbeddingModel
from .streams import LoadStream
from .transport import Locator, Transport, release_unclosed

__all__ = [
    "Client",
    "EmbeddingNamespace",
    "FilesNamespace",
    "LLMNamespace",
    "SystemNamespace",
]

H = TypeVar("H", LLM, EmbeddingModel)
Progress = bool | Callable[[float], None]


class Client:
    """A blocking LM Studio client, safe to share between threads.

    Nothing is sent until the first request; each namespace opens its own socket then.
    Use it as a context manager, or call :meth:`close`. One garbage-collected
    unclosed frees its sockets and warns (``ResourceWarning``), as an unclosed file does.

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
        self.llm = LLMNamespace(self)
        self.embedding = EmbeddingNamespace(self)
        self.system = SystemNamespace(self)
        self.files = FilesNamespace(self)

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

    def close(self) -> None:
        """Close every socket; pending requests fail with ``DisconnectedError``."""
        with self._lock:
            self._closed = True
            transports = list(self._transports.values())
        error: BaseException | None = None
        for transport in transports:
            try:
                transport.close()
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _ModelNamespace(Generic[H]):
    """Loading, finding and listing models of one kind."""

    _domain: ModelDomain

    def __init__(self, client: Client) -> None:
        self._client = client

    def _handle(self, info: LoadedModelInfo) -> H:
        raise NotImplementedError

    def _call(self, endpoint: str, parameter: Any) -> Any:
        transport = self._client._transport(self._domain)
        timeout = self._client._timeouts.request
        return transport.call(endpoint, parameter, timeout=timeout, idempotent=True)

    def _load_stream(
        self, endpoint: str, parameter: dict[str, Any], timeout: Timeouts | float | None
    ) -> LoadStream[H]:
        transport = self._client._transport(self._domain)
        timeouts = resolve_timeouts(timeout, self._client._timeouts)
        return LoadStream(
            lambda: transport.open_channel(endpoint, parameter), timeouts, self._handle
        )

    def model(
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
            return self.get({})
        parameter = build_get_or_load(self._domain, key, ttl=ttl, config=config)
        return _wait_for_load(self._load_stream("getOrLoad", parameter, timeout), progress, key)

    def load_stream(
        self,
        key: str,
        *,
        identifier: str | None = None,
        ttl: float | None = DEFAULT_TTL,
        config: LoadOptions | Mapping[str, Any] | None = None,
        timeout: Timeouts | float | None = None,
    ) -> LoadStream[H]:
        """Start loading a new instance; iterate the stream for progress, then ``result()``."""
        parameter = build_load(self._domain, key, identifier=identifier, ttl=ttl, config=config)
        return self._load_stream("loadModel", parameter, timeout)

    def load(
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
        return _wait_for_load(stream, progress, key)

    def get(self, target: str | ModelQuery | Mapping[str, Any]) -> H:
        """A handle to a loaded model, by identifier or query (never loads)."""
        endpoint, parameter = ModelEndpoints(self._domain, target).info()
        return self._handle(parse_info(self._call(endpoint, parameter)))

    def list_loaded(self) -> list[H]:
        """Handles to every loaded model of this kind."""
        result = self._call("listLoaded", _ABSENT)
        return [self._handle(parse_info(item)) for item in result or []]

    def list_downloaded(self) -> list[DownloadedModelInfo]:
        """Models of this kind on disk."""
        models = self._client.system.list_downloaded_models()
        return [model for model in models if model.type == self._domain]

    def unload(self, identifier: str) -> None:
        """Unload the model instance with this identifier."""
        self._call(*unload_call(identifier))


class LLMNamespace(_ModelNamespace[LLM]):
    """``client.llm``: load, find and list LLMs."""

    _domain: ModelDomain = "llm"

    def _handle(self, info: LoadedModelInfo) -> LLM:
        return LLM(self._client, info.identifier, info)


class EmbeddingNamespace(_ModelNamespace[EmbeddingModel]):
    """``client.embedding``: load, find and list embedding models."""

    _domain: ModelDomain = "embedding"

    def _handle(self, info: LoadedModelInfo) -> EmbeddingModel:
        return EmbeddingModel(self._client, info.identifier, info)


def _wait_for_load(stream: LoadStream[H], progress: Progress, key: str) -> H:
    bar = ProgressBar(f"Loading {key}") if progress is True else None
    callback = progress if callable(progress) else None
    with stream:
        for event in stream:
            if bar is not None:
                bar.update(event.fraction)
            if callback is not None:
                callback(event.fraction)
        handle = stream.result()
    if bar is not None:
        bar.finish()
    return handle


class SystemNamespace:
    """``client.system``: server version, downloaded models, notifications."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _call(self, endpoint: str, parameter: Any = None, *, idempotent: bool = True) -> Any:
        transport = self._client._transport("system")
        timeout = self._client._timeouts.request
        return transport.call(
            endpoint, _ABSENT if parameter is None else parameter, timeout=timeout,
            idempotent=idempotent,
        )  # fmt: skip

    def version(self) -> ServerVersion:
        """LM Studio's version."""
        return ServerVersion.model_validate(self._call("version"))

    def list_downloaded_models(self) -> list[DownloadedModelInfo]:
        """Every model on disk (LLMs and embedding models)."""
        return [
            DownloadedModelInfo.model_validate(item)
            for item in self._call("listDownloadedModels") or []
        ]

    def notify(self, title: str, description: str | None = None) -> None:
        """Show a desktop notification in LM Studio."""
        parameter: dict[str, Any] = {"title": title}
        if description is not None:
            parameter["description"] = description
        self._call("notify", parameter, idempotent=False)


class FilesNamespace:
    """``client.files``: upload images for chats."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _upload(self, image: ImageData) -> FileHandle:
        transport = self._client._transport("files")
        timeout = self._client._timeouts.request
        result = transport.call("uploadFileBase64", image.upload_parameter(), timeout=timeout)
        return FileHandle.from_upload(image.name, result)

    def _upload_images(self, images: list[ImageData]) -> dict[str, FileHandle]:
        return {image.key: self._upload(image) for image in images}

    def prepare_image(self, source: ImageInput, name: str | None = None) -> FileHandle:
        """Upload an image (path, bytes, binary file object or data URI) for use in chats."""
        data = image_data(source, name)
        if isinstance(data, FileHandle):
            return data
        return self._upload(data)
