"""Quickstart (blocking): connect, get a model, ask a question, hold a conversation.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` (e.g. ``http://localhost:1234``) unless LM Studio runs on this
machine; set ``LMSTUDIO_MODEL`` to use another model than ``qwen2.5-0.5b-instruct``.
"""

from __future__ import annotations

import os

from lmstudio_core import Chat, Client

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def main() -> None:
    with Client(BASE_URL) as client:
        print(f"Connected to LM Studio {client.system.version().version}")

        # model() returns a handle to a loaded instance, loading the model if needed.
        model = client.llm.model(MODEL)
        result = model.respond("Name three primary colours.", temperature=0.2, max_tokens=100)
        print(f"Answer: {result.content}")
        stats = result.stats
        print(
            f"Stats: {stats.predicted_tokens} tokens, {stats.tokens_per_second or 0:.0f} tok/s,"
            f" stop reason {result.stop_reason}"
        )

        # A conversation: keep the history in a Chat and append each reply to it.
        chat = Chat("You are a terse geography assistant.")
        chat.add_user_message("What is the capital of France?")
        reply = model.respond(chat, max_tokens=100)
        chat.add_assistant_response(reply)
        chat.add_user_message("And the capital of Italy?")
        follow_up = model.respond(chat, max_tokens=100)
        print(f"Turn 1: {reply.content}")
        print(f"Turn 2: {follow_up.content}")
        print(f"Conversation: {len(chat)} messages")


if __name__ == "__main__":
    main()
