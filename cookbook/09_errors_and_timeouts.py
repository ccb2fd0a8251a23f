"""Errors and timeouts: what to catch, and how to set time limits.

Every SDK error derives from ``LMStudioError``; LM Studio's own errors are ``ServerError``
(with ``title``, ``cause``, ``suggestion``, ``code``), with subclasses such as
``ModelNotFoundError``. ``RequestTimeoutError`` is also a builtin ``TimeoutError``.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``).
"""

from __future__ import annotations

import os

from lmstudio_core import Client, ConnectError, ModelNotFoundError, ServerError, Timeouts

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def main() -> None:
    # Timeouts are set per client (a number sets them all) and can be overridden per call.
    # Prompt processing on a big prompt can take minutes: first_token is generous by default.
    timeouts = Timeouts(connect=5, request=30, first_token=120, idle=30)
    with Client(BASE_URL, timeout=timeouts) as client:
        try:
            client.llm.model("no-such-model-anywhere")
        except ModelNotFoundError as exc:
            print(f"ModelNotFoundError: {exc.title}")
        model = client.llm.model(MODEL)
        try:  # a per-call override
            print(f"Answer: {model.respond('Hi!', max_tokens=20, timeout=60).content}")
        except TimeoutError:
            print("No answer within 60 seconds")
        try:  # an embedding model used as an LLM, for example
            client.embedding.model(MODEL).embed("text")
        except ServerError as exc:
            print(f"{type(exc).__name__} ({exc.code}): {exc.title}")

    # Nothing listens on port 9: ConnectError (max_retries=0 skips the usual retries).
    with Client("127.0.0.1:9", timeout=2, max_retries=0) as offline:
        try:
            offline.system.version()
        except ConnectError as exc:
            print(f"ConnectError: {str(exc).splitlines()[0]}")


if __name__ == "__main__":
    main()
