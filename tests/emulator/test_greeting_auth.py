"""HTTP greeting, namespaces and the authentication handshake."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from emulator_wire import Wire, WireFactory
from lmstudio_core.emulator import EmulatorThread
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

TOKEN = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def test_greeting_answers_on_the_websocket_port(emu: EmulatorThread) -> None:
    status, body, content_type = _get(f"http://{emu.api_host}/lmstudio-greeting")

    assert status == 200
    assert json.loads(body) == {"lmstudio": True}
    assert content_type == "application/json"


def test_unknown_http_path_is_404(emu: EmulatorThread) -> None:
    assert _get(f"http://{emu.api_host}/nope")[0] == 404
    assert _get(f"http://{emu.api_host}/llm")[0] == 404  # plain GET, no upgrade


def test_unknown_namespace_upgrade_is_refused(emu: EmulatorThread) -> None:
    with pytest.raises(InvalidStatus) as info, connect(f"{emu.base_url}/nonsense", open_timeout=5):
        pass
    assert info.value.response.status_code == 404


@pytest.mark.parametrize(
    "namespace",
    ["llm", "embedding", "system", "diagnostics", "files", "repository", "plugins", "runtime"],
)
def test_every_namespace_authenticates(wire: WireFactory, namespace: str) -> None:
    assert wire(namespace).auth_result == {"success": True}


def test_frames_before_auth_are_ignored(emu: EmulatorThread) -> None:
    with connect(f"{emu.base_url}/llm", open_timeout=5) as ws:
        ws.send("not json")
        ws.send(json.dumps({"type": "rpcCall", "endpoint": "listLoaded", "callId": 1}))
        ws.send(json.dumps({"authVersion": 1, "clientIdentifier": "c", "clientPasskey": "p"}))
        assert json.loads(ws.recv(timeout=5)) == {"success": True}


def test_same_identifier_needs_same_passkey(wire: WireFactory) -> None:
    first = wire("llm", client="alice", passkey="one")
    assert first.auth_result == {"success": True}
    assert wire("system", client="alice", passkey="one").auth_result == {"success": True}

    refused = wire("embedding", client="alice", passkey="two")

    assert refused.auth_result["success"] is False
    assert 'Invalid client passkey for client "alice"' in refused.auth_result["error"]
    with pytest.raises(ConnectionClosed):
        refused.recv(timeout=2)


def test_passkey_binding_is_released_with_the_last_connection(wire: WireFactory) -> None:
    first = wire("llm", client="bob", passkey="one")
    first.close()
    # The binding goes away asynchronously once the server sees the close.
    for _ in range(50):
        again = wire("llm", client="bob", passkey="two")
        if again.auth_result["success"]:
            break
    assert again.auth_result == {"success": True}


@pytest.mark.parametrize("lmstudio_emulator_options", [{"api_tokens": [TOKEN]}])
def test_token_mode_accepts_the_right_token(wire: WireFactory) -> None:
    good = wire("llm", client="abcDEF78", passkey="abcDEF7890abcDEF7890")
    assert good.auth_result == {"success": True}
    assert good.result("listLoaded")[0]["identifier"] == "qwen2.5-0.5b-instruct"


@pytest.mark.parametrize("lmstudio_emulator_options", [{"api_tokens": [TOKEN]}])
@pytest.mark.parametrize(
    ("client", "passkey"),
    [("abcDEF78", "WRONGWRONGWRONGWRONG"), ("guest:1234", "whatever"), ("zzzzzzzz", "x")],
)
def test_token_mode_refuses_wrong_or_missing_tokens(
    wire: WireFactory, client: str, passkey: str
) -> None:
    refused = wire("llm", client=client, passkey=passkey)

    assert refused.auth_result["success"] is False
    assert isinstance(refused.auth_result["error"], str)
    with pytest.raises(ConnectionClosed):
        refused.recv(timeout=2)


@pytest.mark.parametrize("lmstudio_emulator_options", [{"auth_timeout": 0.2}])
def test_authentication_times_out(emu: EmulatorThread) -> None:
    with connect(f"{emu.base_url}/llm", open_timeout=5) as ws:
        reply = json.loads(ws.recv(timeout=5))
        assert reply == {"success": False, "error": "Authentication timed out"}
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=2)


def test_malformed_token_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="sk-lm-"):
        EmulatorThread(api_tokens=["sk-lm-short:token"])


def test_keep_alive_is_acknowledged(llm: Wire) -> None:
    llm.send({"type": "keepAlive"})
    assert llm.recv() == {"type": "keepAliveAck"}
