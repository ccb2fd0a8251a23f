"""Model management: list models, load one with a config while showing progress, unload.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``; loading needs memory for a copy).
"""

from __future__ import annotations

import os

from lmstudio_core import Client, LoadOptions

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def main() -> None:
    with Client(BASE_URL) as client:
        print("Downloaded LLMs:")
        for info in client.llm.list_downloaded():
            print(f"  {info.model_key:<28} {info.params_string or '?':>5}  {info.display_name}")

        # Load a new instance with its own identifier, a load config and an idle TTL.
        config: LoadOptions = {"context_length": 2048}
        stream = client.llm.load_stream(MODEL, identifier="cookbook-loaded", config=config, ttl=600)
        with stream:
            for progress in stream:  # LoadProgress events, 0.0 to 1.0
                bar = "#" * int(progress.fraction * 20)
                print(f"\rLoading {MODEL} [{bar:<20}] {progress.fraction:4.0%}", end="", flush=True)
            model = stream.result()
        print(f"\nLoaded as {model.identifier!r}, context length {model.get_context_length()}")

        # The shortcut: progress=True draws a bar on stderr, or pass a callback.
        fractions: list[float] = []
        again = client.llm.load(MODEL, identifier="cookbook-again", progress=fractions.append)
        print(f"Loaded {again.identifier!r} ({len(fractions)} progress updates)")

        print("Loaded LLMs:", ", ".join(m.identifier for m in client.llm.list_loaded()))
        for handle in (model, again):
            handle.unload()
        print("Unloaded both; still loaded:", [m.identifier for m in client.llm.list_loaded()])


if __name__ == "__main__":
    main()
