"""Streaming a reply (reasoning apart from the answer, then statistics) and cancelling one.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine. ``LMSTUDIO_MODEL``
selects the model (default ``qwen3-4b``, a reasoning model; any LLM works).
"""

from __future__ import annotations

import os

from lmstudio_core import Client, ReasoningFragment, TextFragment

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen3-4b")


def main() -> None:
    with Client(BASE_URL) as client:
        model = client.llm.model(MODEL)

        # 1. Iterate over typed events: reasoning fragments first, then the answer.
        section = ""
        with model.respond_stream("Why is the sky blue?", max_tokens=300) as stream:
            for event in stream:
                kind = "Thinking" if isinstance(event, ReasoningFragment) else "Answer"
                if isinstance(event, ReasoningFragment | TextFragment):
                    if kind != section:
                        section = kind
                        print(f"\n{kind}: ", end="")
                    print(event.text, end="", flush=True)
            result = stream.result()
        stats = result.stats
        print(f"\nStats: {stats.predicted_tokens} tokens in {stats.total_time or 0:.2f} s,")
        print(
            f"  first token after {stats.time_to_first_token or 0:.3f} s, stop: {stats.stop_reason}"
        )

        # 2. Cancel: ask LM Studio to stop, keep iterating to collect the partial result.
        with model.respond_stream("Tell me a long story about a dragon.") as stream:
            for count, text in enumerate(stream.text_stream, start=1):
                print(text, end="", flush=True)
                if count == 5:
                    stream.cancel()
            partial = stream.result()
        print(f"\nCancelled: {len(partial.content)} characters, stop reason {partial.stop_reason}")

        # 3. Leaving the `with` block early (break, exception, Ctrl-C) cancels as well.
        with model.respond_stream("Recite the alphabet slowly.") as stream:
            first = next(iter(stream.text_stream))
        print(f"Stopped after the first fragment {first!r}; the server stopped generating.")


if __name__ == "__main__":
    main()
