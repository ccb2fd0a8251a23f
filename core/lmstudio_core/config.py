"""Client configuration: defaults, timeouts, retries, base URL and credentials.

Every default the SDK uses is a named constant in this module. Nothing here performs I/O.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "BASE_URL_ENV_VAR",
    "CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_PORT",
    "DEFAULT_TTL",
    "DISCOVERY_PORTS",
    "EMBEDDING_WINDOW",
    "FIRST_TOKEN_TIMEOUT",
    "GREETING_TIMEOUT",
    "IDLE_TIMEOUT",
    "REQUEST_TIMEOUT",
    "Credentials",
    "RetryPolicy",
    "Timeouts",
    "discovery_candidates",
    "greeting_request",
    "is_greeting",
    "parse_api_token",
    "parse_http_response",
    "resolve_base_url",
    "resolve_credentials",
    "resolve_timeouts",
    "websocket_base_url",
]

# -- defaults -----------------------------------------------------------------------

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 1234
"""LM Studio's default API port."""
DISCOVERY_PORTS: Final = (41343, 52993, 16141, 39414, 22931)
"""Ports LM Studio answers the SDK greeting on (probed after :data:`DEFAULT_PORT`)."""
GREETING_PATH: Final = "/lmstudio-greeting"
GREETING_TIMEOUT: Final = 1.0
"""Seconds to wait for each greeting probe during discovery."""

CONNECT_TIMEOUT: Final = 10.0
"""Seconds to open a namespace socket and authenticate."""
REQUEST_TIMEOUT: Final = 60.0
"""Seconds to wait for an RPC reply."""
FIRST_TOKEN_TIMEOUT: Final = 600.0
"""Seconds from a prediction's start to its first generated fragment (prompt processing
of a long context on slow hardware can take minutes)."""
IDLE_TIMEOUT: Final = 60.0
"""Seconds allowed between two packets of a stream once it is producing output."""

DEFAULT_MAX_RETRIES: Final = 2
"""Retries for connecting and for idempotent RPCs (never for predictions)."""
RETRY_INITIAL_DELAY: Final = 0.5
RETRY_MAX_DELAY: Final = 8.0

DEFAULT_TTL: Final = 3600.0
"""Seconds an idle model loaded through the SDK stays loaded (``ttl=None``: forever)."""
EMBEDDING_WINDOW: Final = 16
"""Embedding or tokenizing RPCs kept in flight at once for a list of inputs."""
MAX_MESSAGE_SIZE: Final = 256 * 1024 * 1024
"""Largest incoming WebSocket message accepted (image uploads, long results)."""
CLOSE_TIMEOUT: Final = 5.0
"""Seconds to wait for a socket and its reader to shut down on close."""

BASE_URL_ENV_VAR: Final = "LMSTUDIO_BASE_URL"
"""Environment variable read when no ``base_url`` is passed (empty: unset)."""
TOKEN_ENV_VARS: Final = ("LM_API_TOKEN", "LMSTUDIO_API_TOKEN")
"""Environment variables read, in order, when no ``api_token`` is passed."""
_TOKEN_RE: Final = re.compile(r"^sk-lm-(?P<id>[A-Za-z0-9]{8}):(?P<key>[A-Za-z0-9]{20})$")


# -- timeouts and retries -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeouts in seconds; ``None`` disables one.

    Attributes:
        connect: Opening a namespace socket and authenticating.
        request: Waiting for an RPC reply (model info, tokenize, embed, ...).
        first_token: From the start of a prediction (or load) to its first output.
        idle: Between two packets of a stream once output has started.
    """

    connect: float | None = CONNECT_TIMEOUT
    request: float | None = REQUEST_TIMEOUT
    first_token: float | None = FIRST_TOKEN_TIMEOUT
    idle: float | None = IDLE_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("connect", "request", "first_token", "idle"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ValueError(f"timeout {name!r} must be a positive number or None")


def resolve_timeouts(value: Timeouts | float | None, default: Timeouts) -> Timeouts:
    """``None`` keeps ``default``; a number applies to every timeout."""
    if value is None:
        return default
    if isinstance(value, Timeouts):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("timeout must be a number of seconds, a Timeouts instance or None")
    return Timeouts(connect=value, request=value, first_token=value, idle=value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How connecting and idempotent RPCs are retried (exponential backoff with jitter)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = RETRY_INITIAL_DELAY
    max_delay: float = RETRY_MAX_DELAY

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError("max_retries must be an int")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")


# -- base URL -----------------------------------------------------------------------

_SCHEMES: Final = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def websocket_base_url(base_url: str) -> str:
    """Normalise a user-supplied base URL to ``ws[s]://host:port[/prefix]``.

    Accepts ``http(s)://``, ``ws(s)://`` or a bare ``host[:port]``, with or without a
    trailing ``/`` or ``/v1`` (the OpenAI-compatible path). A path prefix is kept, for
    LM Studio behind a reverse proxy.
    """
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("base_url must be a non-empty string such as 'http://localhost:1234'")
    text = base_url.strip()
    if "://" not in text:
        text = f"ws://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid base_url {base_url!r}: {exc}") from exc
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(
            f"invalid base_url {base_url!r}: the scheme must be http, https, ws or wss"
        )
    if not parts.hostname:
        raise ValueError(f"invalid base_url {base_url!r}: it has no host name")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"invalid base_url {base_url!r}: remove the query, fragment or user info")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None and parts.scheme.lower() in ("ws", "http") and "://" not in base_url:
        port = DEFAULT_PORT
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{scheme}://{netloc}{path}"


def discovery_candidates() -> list[tuple[str, int]]:
    """``(host, port)`` pairs probed, in order, when no base URL is given."""
    return [(DEFAULT_HOST, port) for port in (DEFAULT_PORT, *DISCOVERY_PORTS)]


def is_greeting(status: int, body: bytes) -> bool:
    """Whether an HTTP reply to ``GET /lmstudio-greeting`` comes from LM Studio."""
    if status != 200:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("lmstudio") is True


# -- credentials --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """The identifier/passkey pair sent on every namespace socket."""

    identifier: str
    passkey: str = ""

    def __repr__(self) -> str:
        return f"Credentials(identifier={self.identifier!r}, passkey=<hidden>)"


def parse_api_token(token: str) -> Credentials:
    """Split an ``sk-lm-<8>:<20>`` token into its identifier and passkey."""
    match = _TOKEN_RE.match(token.strip())
    if match is None:
        raise ValueError(
            "malformed LM Studio API token: expected 'sk-lm-' followed by 8 letters or "
            "digits, ':' and 20 letters or digits (copy it from LM Studio's Developer tab)"
        )
    return Credentials(match["id"], match["key"])


def resolve_base_url(base_url: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The normalised base URL: the argument, else ``LMSTUDIO_BASE_URL``, else ``None``
    (find a local LM Studio)."""
    if base_url is None:
        env = os.environ if environ is None else environ
        base_url = env.get(BASE_URL_ENV_VAR, "").strip() or None
        if base_url is None:
            return None
        try:
            return websocket_base_url(base_url)
        except ValueError as exc:
            raise ValueError(f"environment variable {BASE_URL_ENV_VAR}: {exc}") from None
    return websocket_base_url(base_url)


def resolve_credentials(
    api_token: str | None, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials from the argument, else the environment, else a fresh guest identity."""
    env = os.environ if environ is None else environ
    if api_token is not None:
        if not isinstance(api_token, str):
            raise TypeError("api_token must be a string")
        return parse_api_token(api_token)
    for name in TOKEN_ENV_VARS:
        value = env.get(name, "").strip()
        if value:
            try:
                return parse_api_token(value)
            except ValueError as exc:
                raise ValueError(f"environment variable {name}: {exc}") from None
    return Credentials(f"guest:{uuid.uuid4()}", str(uuid.uuid4()))


def greeting_request(host: str, port: int) -> bytes:
    """The raw HTTP/1.0 request of a greeting probe."""
    return (
        f"GET {GREETING_PATH} HTTP/1.0\r\nHost: {host}:{port}\r\n"
        "Accept: application/json\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def parse_http_response(raw: bytes) -> tuple[int, bytes]:
    """Status code and body of a raw HTTP/1.x response (status 0 if unreadable)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
        return 0, b""
    try:
        return int(status_line[1]), body
    except ValueError:
        return 0, b""
