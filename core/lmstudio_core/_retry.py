"""Retry rules shared by both clients (tenacity keyword arguments).

Only connecting and idempotent RPCs are retried, and only after failures that a new
attempt can fix: LM Studio unreachable (not a rejected token) or the connection dropping
while the request was pending. A running prediction is never retried.
"""

from __future__ import annotations

import logging
from typing import Any

from tenacity import (
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from .config import RetryPolicy
from .errors import AuthenticationError, ConnectError, DisconnectedError

__all__ = ["is_retryable", "retry_arguments"]

logger = logging.getLogger(__name__)


def is_retryable(exc: BaseException) -> bool:
    """Whether a new attempt may succeed where ``exc`` failed."""
    if isinstance(exc, AuthenticationError):
        return False
    return isinstance(exc, ConnectError | DisconnectedError)


def retry_arguments(policy: RetryPolicy) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying``."""
    return {
        "stop": stop_after_attempt(policy.max_retries + 1),
        "wait": wait_exponential(multiplier=policy.initial_delay, max=policy.max_delay)
        + wait_random(0, policy.initial_delay),
        "retry": retry_if_exception(is_retryable),
        "reraise": True,
        "before_sleep": before_sleep_log(logger, logging.DEBUG),
    }
