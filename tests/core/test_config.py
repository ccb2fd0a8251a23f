from __future__ import annotations

import pytest
from lmstudio_core.config import (
    DEFAULT_PORT,
    DISCOVERY_PORTS,
    Credentials,
    RetryPolicy,
    Timeouts,
    discovery_candidates,
    is_greeting,
    parse_api_token,
    parse_http_response,
    resolve_base_url,
    resolve_credentials,
    resolve_timeouts,
    websocket_base_url,
)

TOKEN = "sk-lm-abcDEF78:abcDEF7890abcDEF7890"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://localhost:1234", "ws://localhost:1234"),
        ("http://localhost:1234/", "ws://localhost:1234"),
        ("http://localhost:1234/v1", "ws://localhost:1234"),
        ("http://localhost:1234/v1/", "ws://localhost:1234"),
        ("https://lms.example.com", "wss://lms.example.com"),
        ("https://lms.example.com/lmstudio/v1", "wss://lms.example.com/lmstudio"),
        ("ws://127.0.0.1:5000", "ws://127.0.0.1:5000"),
        ("wss://host:443/prefix/", "wss://host:443/prefix"),
        ("localhost:4321", "ws://localhost:4321"),
        ("192.168.1.10:1234/v1", "ws://192.168.1.10:1234"),
        ("localhost", "ws://localhost:1234"),
        ("HTTP://Host:1234", "ws://host:1234"),
        ("http://[::1]:1234", "ws://[::1]:1234"),
    ],
)
def test_base_url_normalised(given: str, expected: str) -> None:
    assert websocket_base_url(given) == expected


@pytest.mark.parametrize(
    "bad", ["", "   ", "ftp://host:1", "http://host:1234?x=1", "http://u:p@host:1", "http://:99"]
)
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        websocket_base_url(bad)


def test_bad_port() -> None:
    with pytest.raises(ValueError, match="invalid base_url"):
        websocket_base_url("localhost:notaport")


def test_token_parsed() -> None:
    assert parse_api_token(TOKEN) == Credentials("abcDEF78", "abcDEF7890abcDEF7890")
    assert parse_api_token(f"  {TOKEN}\n").identifier == "abcDEF78"


@pytest.mark.parametrize(
    "bad", ["sk-lm-short:abcDEF7890abcDEF7890", "abcDEF78:abcDEF7890abcDEF7890", "sk-lm-", "x"]
)
def test_malformed_token_rejected_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="malformed LM Studio API token") as info:
        parse_api_token(bad)
    assert len(bad) < 8 or bad not in str(info.value)


def test_credentials_precedence() -> None:
    other = "sk-lm-zzzzzzzz:zzzzzzzzzzzzzzzzzzzz"
    assert resolve_credentials(TOKEN, {"LM_API_TOKEN": other}).identifier == "abcDEF78"
    env = {"LM_API_TOKEN": other, "LMSTUDIO_API_TOKEN": TOKEN}
    assert resolve_credentials(None, env).identifier == "zzzzzzzz"
    assert resolve_credentials(None, {"LMSTUDIO_API_TOKEN": TOKEN}).identifier == "abcDEF78"
    assert resolve_credentials(None, {"LM_API_TOKEN": "  "}).identifier.startswith("guest:")


def test_bad_env_token_names_the_variable() -> None:
    with pytest.raises(ValueError, match="LM_API_TOKEN"):
        resolve_credentials(None, {"LM_API_TOKEN": "nope"})


def test_credentials_repr_hides_passkey() -> None:
    assert "abcDEF7890" not in repr(parse_api_token(TOKEN))


def test_guest_credentials_are_fresh() -> None:
    first, second = resolve_credentials(None, {}), resolve_credentials(None, {})
    assert first.identifier != second.identifier
    assert first.passkey


def test_timeouts() -> None:
    default = Timeouts()
    assert resolve_timeouts(None, default) is default
    assert resolve_timeouts(5, default) == Timeouts(5, 5, 5, 5)
    custom = Timeouts(idle=None)
    assert resolve_timeouts(custom, default) is custom
    with pytest.raises(ValueError, match="positive"):
        Timeouts(connect=0)
    with pytest.raises(TypeError):
        resolve_timeouts("5", default)  # type: ignore[arg-type]


def test_retry_policy_validated() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        RetryPolicy(-1)
    with pytest.raises(TypeError):
        RetryPolicy(True)


def test_discovery_order() -> None:
    ports = [port for _, port in discovery_candidates()]
    assert ports == [DEFAULT_PORT, *DISCOVERY_PORTS]


def test_greeting_detection() -> None:
    assert is_greeting(200, b'{"lmstudio": true}')
    assert not is_greeting(200, b'{"lmstudio": "yes"}')
    assert not is_greeting(404, b'{"lmstudio": true}')
    assert not is_greeting(200, b"<html>")
    raw = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"lmstudio": true}'
    assert parse_http_response(raw) == (200, b'{"lmstudio": true}')
    assert parse_http_response(b"garbage") == (0, b"")


def test_base_url_from_the_environment() -> None:
    env = {"LMSTUDIO_BASE_URL": "http://10.0.0.2:1234/v1"}
    assert resolve_base_url(None, env) == "ws://10.0.0.2:1234"
    assert resolve_base_url("localhost:5678", env) == "ws://localhost:5678"
    assert resolve_base_url(None, {}) is None
    assert resolve_base_url(None, {"LMSTUDIO_BASE_URL": "  "}) is None
    with pytest.raises(ValueError, match="LMSTUDIO_BASE_URL"):
        resolve_base_url(None, {"LMSTUDIO_BASE_URL": "ftp://host"})
