"""The clients of the LlamaIndex models: built from their connection fields, closed on
request.

The clients themselves (lazy, one async client per event loop, model handles resolved
again after an unload) are built by :mod:`lmstudio_integrations._clients`, shared with the
LangChain adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.bridge.pydantic import BaseModel, PrivateAttr
from lmstudio_core import AsyncClient, Client, Timeouts

from .._clients import ClientSettings, ModelClients

__all__ = ["LMStudioConnection"]


class LMStudioConnection(BaseModel):
    """Builds the clients of a model from its connection fields, which each model declares
    with its own descriptions. List it before the LlamaIndex base class."""

    if TYPE_CHECKING:
        base_url: str | None
        api_token: str | None
        request_timeout: float | Timeouts | None
        max_retries: int | None
        load_config: dict[str, Any] | None
        ttl: float | None

    _clients: ModelClients = PrivateAttr()

    def __init__(
        self,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        **data: Any,
    ) -> None:
        """Args: the fields above; ``client`` / ``async_client``: SDK clients to use
        instead of building new ones (they are not closed by :meth:`close`)."""
        super().__init__(**data)
        settings = ClientSettings(
            self.base_url,
            self.api_token,
            self.request_timeout,
            self.max_retries,
            {"config": self.load_config, "ttl": self.ttl},
        )
        self._clients = ModelClients(settings, client=client, async_client=async_client)

    def close(self) -> None:
        """Close the blocking connection (a later call reconnects)."""
        self._clients.close()

    async def aclose(self) -> None:
        """Close the connection of the running event loop (a later call reconnects).

        Not required: the connection of a loop is also closed when ``asyncio.run`` ends.
        """
        await self._clients.aclose()
