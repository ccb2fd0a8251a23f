"""Quickstart (asyncio): the same API on ``AsyncClient``, with concurrent requests.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``).
"""

from __future__ import annotations

import asyncio
import os

from lmstudio_core import AsyncClient

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")

QUESTIONS = [
    "What is the boiling point of water in Celsius?",
    "Who wrote 'Pride and Prejudice'?",
    "What is the largest planet of the solar system?",
]


async def main() -> None:
    async with AsyncClient(BASE_URL) as client:
        model = await client.llm.model(MODEL)

        # One request.
        result = await model.respond("Say hello in French.", max_tokens=50)
        print(f"Answer: {result.content}")

        # Several at once: LM Studio queues (or runs in parallel) what it receives.
        answers = await asyncio.gather(
            *(model.respond(question, max_tokens=60) for question in QUESTIONS)
        )
        for question, answer in zip(QUESTIONS, answers, strict=True):
            print(f"Q: {question}\nA: {answer.content}")

        # Streaming: `async with` the stream, `async for` over its text.
        print("Streamed: ", end="", flush=True)
        async with model.respond_stream("Count from one to five.", max_tokens=60) as stream:
            async for text in stream.text_stream:
                print(text, end="", flush=True)
            final = await stream.result()
        print(f"\nStreamed {final.stats.predicted_tokens} tokens")


if __name__ == "__main__":
    asyncio.run(main())
