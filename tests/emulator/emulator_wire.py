"""Raw WebSocket helpers for emulator tests (no client library involved)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from lmstudio_core.emulator import EmulatorThread
from websockets.sync.client import ClientConnection, connect

TIMEOUT = 5.0


class Wire:
    """One authenticated namespace socket speaking raw JSON frames."""

    def __init__(self, emulator: EmulatorThread, namespace: str, client: str, passkey: str):
        self.namespace = namespace
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(f"{emulator.base_url}/{namespace}", open_timeout=TIMEOUT, max_size=None)
        )
        self.next_id = 1
        self.auth_result = self.authenticate(client, passkey)

    def authenticate(self, client: str, passkey: str) -> dict[str, Any]:
        self.send({"authVersion": 1, "clientIdentifier": client, "clientPasskey": passkey})
        return self.recv()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = self.ws.recv(timeout=timeout)
        value = json.loads(frame)
        assert isinstance(value, dict)
        return value

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def call(self, endpoint: str, parameter: Any = ..., call_id: int | None = None) -> int:
        call_id = self.new_id() if call_id is None else call_id
        message: dict[str, Any] = {"type": "rpcCall", "endpoint": endpoint, "callId": call_id}
        if parameter is not ...:
            message["parameter"] = parameter
        self.send(message)
        return call_id

    def rpc(self, endpoint: str, parameter: Any = ...) -> dict[str, Any]:
        """Call and return the reply envelope (rpcResult or rpcError)."""
        call_id = self.call(endpoint, parameter)
        reply = self.recv()
        assert reply.get("callId") == call_id, reply
        return reply

    def result(self, endpoint: str, parameter: Any = ...) -> Any:
        reply = self.rpc(endpoint, parameter)
        assert reply["type"] == "rpcResult", reply
        return reply.get("result")

    def open(self, endpoint: str, parameter: Any = ...) -> int:
        channel_id = self.new_id()
        message: dict[str, Any] = {
            "type": "channelCreate",
            "endpoint": endpoint,
            "channelId": channel_id,
        }
        if parameter is not ...:
            message["creationParameter"] = parameter
        self.send(message)
        return channel_id

    def channel_send(self, channel_id: int, message: dict[str, Any]) -> None:
        self.send({"type": "channelSend", "channelId": channel_id, "message": message})

    def drain(self, channel_id: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Packets of a channel until it ends; returns (packets, final envelope)."""
        packets = []
        while True:
            message = self.recv()
            assert message.get("channelId") == channel_id, message
            if message["type"] == "channelSend":
                packets.append(message["message"])
            else:
                return packets, message

    def stream(self, endpoint: str, parameter: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self.drain(self.open(endpoint, parameter))

    def close(self) -> None:
        self._stack.close()


class WireFactory:
    def __init__(self, emulator: EmulatorThread) -> None:
        self.emulator = emulator
        self.opened: list[Wire] = []

    def __call__(
        self, namespace: str = "llm", client: str = "test-client", passkey: str = "passkey"
    ) -> Wire:
        wire = Wire(self.emulator, namespace, client, passkey)
        self.opened.append(wire)
        return wire

    def close_all(self) -> None:
        for wire in self.opened:
            wire.close()


def query(identifier: str) -> dict[str, Any]:
    return {"type": "query", "query": {"identifier": identifier}}


LLM_KEY = "qwen2.5-0.5b-instruct"
REASONING_KEY = "qwen3-4b"
VISION_KEY = "qwen2-vl-2b-instruct"
EMBEDDING_KEY = "text-embedding-nomic-embed-text-v1.5"


def predict_params(
    text: str = "Hello there",
    *,
    model: str = LLM_KEY,
    fields: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    history = messages or [{"role": "user", "content": [{"type": "text", "text": text}]}]
    return {
        "modelSpecifier": query(model),
        "history": {"messages": history},
        "predictionConfigStack": {
            "layers": [{"layerName": "apiOverride", "config": {"fields": fields or []}}]
        },
    }


def fragments(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["fragment"] for p in packets if p["type"] == "fragment"]


def text_of(packets: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in fragments(packets))
