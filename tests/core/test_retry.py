"""Which failures are retried, and how the tenacity wiring counts attempts (no I/O)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from lmstudio_core import (
    AuthenticationError,
    ConnectError,
    DisconnectedError,
    DomainMismatchError,
    LMStudioError,
    ModelNotFoundError,
    PresetNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
)
from lmstudio_core._retry import is_retryable, retry_arguments
from lmstudio_core.config import RetryPolicy
from tenacity import AsyncRetrying, Retrying

RETRIED = [
    ConnectError("refused"),
    DisconnectedError("the connection to LM Studio was lost"),
]

NEVER_RETRIED = [
    AuthenticationError("LM Studio rejected the credentials"),
    ServerError("Boom", code="generic.somethingElse"),
    ModelNotFoundError("no model", code="generic.noModelMatchingQuery"),
    PresetNotFoundError("no preset"),
    DomainMismatchError("wrong domain"),
    ProtocolError("garbage"),
    RequestTimeoutError("no reply"),
    LMStudioError("base"),
    # What the transports translate (or never catch) must not be retried raw either.
    OSError("raw socket error"),
    TimeoutError("raw timeout"),
    ValueError("misuse"),
    RuntimeError("this client is closed"),
    KeyboardInterrupt(),
    asyncio.CancelledError(),
]


@pytest.mark.parametrize("error", RETRIED, ids=lambda e: type(e).__name__)
def test_unreachable_or_dropped_is_retried(error: BaseException) -> None:
    assert is_retryable(error)


@pytest.mark.parametrize("error", NEVER_RETRIED, ids=lambda e: type(e).__name__)
def test_everything_else_is_never_retried(error: BaseException) -> None:
    assert not is_retryable(error)


def test_subclasses_follow_their_base() -> None:
    class Refused(ConnectError):
        pass

    class Rejected(AuthenticationError):
        pass

    assert is_retryable(Refused("x"))
    assert not is_retryable(Rejected("x"))


def _policy(max_retries: int) -> RetryPolicy:
    return RetryPolicy(max_retries, initial_delay=0.0, max_delay=0.0)


def _failing(errors: list[BaseException], attempts: list[int]) -> Callable[[], str]:
    def attempt() -> str:
        attempts.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return attempt


def _retry(policy: RetryPolicy, call: Callable[[], str]) -> str:
    """Run ``call`` the way the sync transport runs a retried request."""
    for attempt in Retrying(**retry_arguments(policy)):
        with attempt:
            return call()
    raise AssertionError("unreachable")


async def _retry_async(policy: RetryPolicy, call: Callable[[], str]) -> str:
    """Run ``call`` the way the async transport runs a retried request."""
    async for attempt in AsyncRetrying(**retry_arguments(policy)):
        with attempt:
            return call()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_retryable_failures_get_max_retries_more_attempts(max_retries: int) -> None:
    attempts: list[int] = []
    errors: list[BaseException] = [ConnectError(f"attempt {i}") for i in range(10)]
    call = _failing(errors, attempts)
    with pytest.raises(ConnectError, match=f"attempt {max_retries}$"):
        _retry(_policy(max_retries), call)
    assert len(attempts) == max_retries + 1


def test_a_retry_that_succeeds_returns_normally() -> None:
    attempts: list[int] = []
    call = _failing([DisconnectedError("dropped"), ConnectError("refused")], attempts)
    assert _retry(_policy(2), call) == "ok"
    assert len(attempts) == 3


@pytest.mark.parametrize("error", NEVER_RETRIED[:6], ids=lambda e: type(e).__name__)
def test_other_failures_are_raised_after_one_attempt(error: BaseException) -> None:
    attempts: list[int] = []
    call = _failing([error], attempts)
    with pytest.raises(type(error)) as info:
        _retry(_policy(3), call)
    assert info.value is error
    assert len(attempts) == 1


async def test_async_wiring_counts_the_same() -> None:
    attempts: list[int] = []
    call = _failing([DisconnectedError(str(n)) for n in (1, 2, 3)], attempts)
    with pytest.raises(DisconnectedError, match="2"):
        await _retry_async(_policy(1), call)
    assert len(attempts) == 2


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(-1)
    with pytest.raises(TypeError, match="max_retries"):
        RetryPolicy(True)
