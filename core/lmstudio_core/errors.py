"""Every exception and warning the SDK raises.

::

    LMStudioError                  base of everything below
    ├── ConnectError               could not reach LM Studio (retried while connecting)
    │   └── AuthenticationError    LM Studio refused the API token (never retried)
    ├── DisconnectedError          the connection dropped, or the client was closed,
    │                              while a request was pending
    ├── RequestTimeoutError        also a builtin TimeoutError: no reply, no first token,
    │                              or a stream stayed idle for too long
    ├── ServerError                LM Studio reported an error (.title .cause .suggestion .code)
    │   ├── ModelNotFoundError     no model matches the key, identifier or query
    │   ├── PresetNotFoundError    the named preset does not exist
    │   ├── DomainMismatchError    an embedding model used as an LLM, or the reverse
    │   └── ContextOverflowError   the prompt does not fit into the loaded context length
    └── ProtocolError              LM Studio sent something this SDK cannot interpret

    UnknownMessageWarning          a newer LM Studio sent a packet type this SDK does not
                                   know; it was ignored (a UserWarning)

Misuse of the API (a bad URL, an unknown option, a malformed token, a closed client)
raises the builtin ``ValueError``, ``TypeError`` or ``RuntimeError`` with a message that
says what to do.
"""

from __future__ import annotations

from typing import Any

from .protocol import (
    ChannelFailed,
    ConnectionFailed,
    ProtocolViolation,
    RpcFailed,
    SerializedError,
)

__all__ = [
    "AuthenticationError",
    "ConnectError",
    "ContextOverflowError",
    "DisconnectedError",
    "DomainMismatchError",
    "LMStudioError",
    "ModelNotFoundError",
    "PresetNotFoundError",
    "ProtocolError",
    "RequestTimeoutError",
    "ServerError",
    "UnknownMessageWarning",
    "failure_error",
]


class LMStudioError(Exception):
    """Base class of every error raised by this SDK."""


class ConnectError(LMStudioError):
    """LM Studio could not be reached (refused, unreachable, handshake failed, timed out)."""


class AuthenticationError(ConnectError):
    """LM Studio rejected the client's credentials (check the API token).

    ``reason`` is LM Studio's own explanation, without the SDK's advice; an adapter that
    names the token parameter differently builds its own message from it.
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> Any:
        return (_rebuild_authentication_error, (type(self), str(self), self.reason))


def _rebuild_authentication_error(
    cls: type[AuthenticationError], message: str, reason: str | None
) -> AuthenticationError:
    return cls(message, reason=reason)


class DisconnectedError(LMStudioError):
    """The connection was lost, or the client closed, while a request was pending.

    The next request reconnects. ``__cause__`` holds the underlying I/O error, if any.
    """


class RequestTimeoutError(LMStudioError, TimeoutError):
    """A reply, the first token, or the next stream packet did not arrive in time."""


class ProtocolError(LMStudioError):
    """LM Studio sent a message this SDK cannot interpret (often a version mismatch)."""


class ServerError(LMStudioError):
    """An error reported by LM Studio.

    Attributes:
        title: The one-line summary.
        cause: Why it happened, when LM Studio says.
        suggestion: What to do about it, when LM Studio says.
        code: The ``displayData.code`` discriminator (e.g. ``generic.noModelMatchingQuery``).
        data: The whole ``displayData`` object (code-specific details).
        error_data: The ``errorData`` object, if any.
    """

    def __init__(
        self,
        title: str,
        *,
        cause: str | None = None,
        suggestion: str | None = None,
        code: str | None = None,
        data: dict[str, Any] | None = None,
        error_data: dict[str, Any] | None = None,
        context: str | None = None,
    ) -> None:
        self.title = title
        self.cause = cause
        self.suggestion = suggestion
        self.code = code
        self.data = data or {}
        self.error_data = error_data or {}
        self.context = context
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"{self.context}: {self.title}" if self.context else self.title
        if self.cause:
            text += f"\n  Cause: {self.cause}"
        detail = _describe_display_data(self.code, self.data)
        if detail:
            text += f"\n  Details: {detail}"
        if self.suggestion:
            text += f"\n  Suggestion: {self.suggestion}"
        return text

    @classmethod
    def from_serialized(cls, error: SerializedError, *, context: str | None = None) -> ServerError:
        """Build the most specific subclass for ``error``: chosen by its display code, or
        by its text for errors LM Studio sends without one (context overflow)."""
        code = error.code
        subclass = _SUBCLASS_BY_CODE.get(code or "", ServerError)
        if code is None and _is_context_overflow(error.title, error.cause, error.root_title):
            subclass = ContextOverflowError
        title = error.title
        if error.root_title and error.root_title != error.title:
            title = f"{error.root_title}: {error.title}"
        return subclass(
            title,
            cause=error.cause,
            suggestion=error.suggestion,
            code=code,
            data=error.display_data,
            error_data=error.error_data,
            context=context,
        )


class ModelNotFoundError(ServerError):
    """No downloaded or loaded model matches the key, identifier or query."""


class PresetNotFoundError(ServerError):
    """The preset named in the request does not exist."""


class DomainMismatchError(ServerError):
    """The model exists but is of the other kind (LLM versus embedding model)."""


class ContextOverflowError(ServerError):
    """The prompt does not fit into the context length the model is loaded with.

    Load the model with a larger ``context_length``, shorten the history, or pick a
    ``context_overflow_policy`` that truncates it.
    """


class UnknownMessageWarning(UserWarning):
    """LM Studio sent a message type this SDK does not know; it was ignored."""


_SUBCLASS_BY_CODE: dict[str, type[ServerError]] = {
    "generic.noModelMatchingQuery": ModelNotFoundError,
    "generic.pathNotFound": ModelNotFoundError,
    "generic.identifierNotFound": ModelNotFoundError,
    "generic.specificModelUnloaded": ModelNotFoundError,
    "generic.presetNotFound": PresetNotFoundError,
    "generic.domainMismatch": DomainMismatchError,
}


_CONTEXT_OVERFLOW_PHRASES = (
    "context the overflows",  # LM Studio's own (sic) wording
    "when context overflows",
    "context length of only",
    "context overflow",
    "exceeds the context length",
    "exceeds context length",
)
"""Lower-case phrases of LM Studio's context overflow errors (they carry no display code)."""


def _is_context_overflow(*texts: str | None) -> bool:
    joined = " ".join(text for text in texts if text).lower()
    return any(phrase in joined for phrase in _CONTEXT_OVERFLOW_PHRASES)


def _describe_display_data(code: str | None, data: dict[str, Any]) -> str:
    """One line of code-specific detail (what is loaded, what is available)."""
    if code in ("generic.noModelMatchingQuery", "generic.identifierNotFound"):
        loaded = data.get("loadedModelsSample") or []
        total = data.get("totalLoadedModels", len(loaded))
        if not loaded:
            return "no models are loaded"
        return f"loaded models ({total}): {', '.join(map(str, loaded))}"
    if code == "generic.pathNotFound":
        paths = data.get("availablePathsSample") or []
        total = data.get("totalModels", len(paths))
        return f"downloaded models ({total}): {', '.join(map(str, paths)) or 'none'}"
    if code == "generic.domainMismatch":
        return (
            f"{data.get('path', 'the model')} is a {data.get('actualDomain', '?')} model, "
            f"not a {data.get('expectedDomain', '?')} model"
        )
    if code == "generic.presetNotFound":
        presets = data.get("availablePresetsSample") or []
        names = [str(p.get("identifier", p)) if isinstance(p, dict) else str(p) for p in presets]
        return f"available presets: {', '.join(names) or 'none'}"
    return ""


def failure_error(event: object, context: str) -> LMStudioError:
    """The exception for a failure event routed to a waiting request.

    ``event`` is a protocol event: ``RpcFailed`` / ``ChannelFailed`` (a server error),
    ``ProtocolViolation`` (a malformed reply) or ``ConnectionFailed`` (the socket died).
    """
    if isinstance(event, RpcFailed | ChannelFailed):
        return ServerError.from_serialized(event.error, context=context)
    if isinstance(event, ProtocolViolation):
        return ProtocolError(f"{context}: {event.description}")
    if isinstance(event, ConnectionFailed):
        return DisconnectedError(f"{context}: {event.reason}")
    return ProtocolError(f"{context}: unexpected {type(event).__name__}")
