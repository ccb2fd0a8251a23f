"""The ``system`` namespace: catalog listing, version, notifications, flags."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ._endpoint import ABSENT, Channel, Endpoint, Request, channel, rpc
from ._params import NotifyParams, SetExperimentFlagParams
from ._record import NotificationRecord

__all__ = ["system_endpoints"]


async def _list_downloaded(req: Request, _params: None) -> Any:
    return [spec.to_wire() for spec in req.state.store.catalog]


async def _version(req: Request, _params: None) -> Any:
    settings = req.state.settings
    return {"version": settings.version, "build": settings.build}


async def _info(req: Request, _params: None) -> Any:
    return {"pid": os.getpid(), "isDaemon": False, "version": req.state.settings.version}


async def _notify(req: Request, params: NotifyParams) -> Any:
    req.state.record.add_notification(
        NotificationRecord(params.title, params.description, params.no_auto_dismiss, req.client)
    )
    return ABSENT


async def _set_flag(req: Request, params: SetExperimentFlagParams) -> Any:
    flags = req.state.experiment_flags
    if params.value:
        flags.add(params.code)
    else:
        flags.discard(params.code)
    return ABSENT


async def _get_flags(req: Request, _params: None) -> Any:
    return sorted(req.state.experiment_flags)


async def _alive(ch: Channel, _params: None) -> None:
    """Never sends anything and never ends on its own (until the socket closes)."""
    del ch
    await asyncio.get_running_loop().create_future()


def system_endpoints() -> list[Endpoint]:
    return [
        rpc("listDownloadedModels", None, _list_downloaded),
        rpc("version", None, _version),
        rpc("info", None, _info),
        rpc("notify", NotifyParams, _notify),
        rpc("setExperimentFlag", SetExperimentFlagParams, _set_flag),
        rpc("getExperimentFlags", None, _get_flags),
        channel("alive", None, _alive, client_packets=frozenset()),
    ]
