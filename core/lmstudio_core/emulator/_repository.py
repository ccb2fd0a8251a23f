"""The ``repository`` namespace: model search and (simulated) downloads.

Search covers every model of the catalog, downloaded or not; results are identified by
their Hugging Face repository (``publisher/repo``). Downloading a model that is not
downloaded yet streams progress, then marks it downloaded.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import _errors
from ._catalog import ModelSpec
from ._endpoint import Channel, Endpoint, Request, channel, rpc
from ._params import DownloadModelParams, DownloadOptionsParams, SearchModelsParams

__all__ = ["repository_endpoints"]

_DEFAULT_LIMIT = 10
_DOWNLOAD_STEPS = (0.25, 0.5, 0.75, 1.0)
_SPEED = 48_000_000.0


def _repo(spec: ModelSpec) -> str:
    return "/".join(spec.path.split("/")[:2])


def _matches(spec: ModelSpec, term: str) -> bool:
    haystack = f"{spec.model_key} {spec.display_name} {spec.path}".lower()
    return all(word in haystack for word in term.lower().split())


async def _search(req: Request, params: SearchModelsParams) -> Any:
    opts = params.opts
    term = opts.search_term or ""
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    for spec in req.state.store.hub:
        repo = _repo(spec)
        if repo in seen or not _matches(spec, term):
            continue
        if opts.compatibility_types is not None and spec.format not in opts.compatibility_types:
            continue
        seen.add(repo)
        results.append(
            {
                "name": repo,
                "identifier": {"type": "hf", "identifier": repo},
                "exact": term.lower() in (spec.model_key.lower(), repo.lower()),
                "staffPick": spec.effective_publisher == "lmstudio-community",
            }
        )
    return {"results": results[: opts.limit or _DEFAULT_LIMIT]}


async def _download_options(req: Request, params: DownloadOptionsParams) -> Any:
    repo = params.model_search_result_identifier.identifier
    options: list[dict[str, Any]] = []
    for spec in req.state.store.hub:
        if _repo(spec) != repo and spec.model_key != repo:
            continue
        option: dict[str, Any] = {
            "name": spec.path.rsplit("/", 1)[-1],
            "sizeBytes": spec.size_bytes,
            "fitEstimation": "fullGPUOffload",
            "recommended": not options,
            "downloadIdentifier": spec.path,
            "indexedModelIdentifier": spec.path,
            "compatibilityType": spec.format,
        }
        if spec.quantization is not None:
            option["quantization"] = spec.quantization.name
        options.append(option)
    return {"results": options}


async def _download(ch: Channel, params: DownloadModelParams) -> None:
    store = ch.state.store
    spec = next((s for s in store.hub if s.path == params.download_identifier), None)
    if spec is None:
        raise _errors.EmulatorError(
            f'Cannot find a download matching "{params.download_identifier}"'
        )
    if spec not in store.catalog:
        pause = ch.state.settings.load_seconds / len(_DOWNLOAD_STEPS)
        for step in _DOWNLOAD_STEPS:
            if ch.cancelled.is_set():
                raise _errors.EmulatorError("Download cancelled")
            update = {
                "downloadedBytes": int(spec.size_bytes * step),
                "totalBytes": spec.size_bytes,
                "speedBytesPerSecond": _SPEED,
            }
            await ch.send({"type": "downloadProgress", "update": update})
            await asyncio.sleep(pause)
        await ch.send({"type": "startFinalizing"})
        store.mark_downloaded(spec)
    await ch.send({"type": "success", "defaultIdentifier": spec.model_key})


def repository_endpoints() -> list[Endpoint]:
    return [
        rpc("searchModels", SearchModelsParams, _search),
        rpc("getModelDownloadOptions", DownloadOptionsParams, _download_options),
        channel("downloadModel", DownloadModelParams, _download, counted_type="downloadProgress"),
    ]
