"""LlamaIndex LLM: chat, complete, streaming (with reasoning) and async.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen3-4b``, a reasoning model; any LLM works).
"""

from __future__ import annotations

import asyncio
import os

from llama_index.core.base.llms.types import ThinkingBlock
from llama_index.core.llms import ChatMessage

from lmstudio_integrations.llamaindex import LMStudio

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen3-4b")


def main() -> None:
    llm = LMStudio(model_name=MODEL, base_url=BASE_URL, temperature=0.2, max_tokens=300)
    messages = [
        ChatMessage(role="system", content="You are a concise science teacher."),
        ChatMessage(role="user", content="Why do leaves change colour in autumn?"),
    ]
    response = llm.chat(messages)
    for block in response.message.blocks:
        if isinstance(block, ThinkingBlock):
            print(f"thinking: {block.content}")
    print(f"chat: {response.message.content}")
    # Known once a request resolved the model: half its context, a margin for LlamaIndex's
    # own token estimates (local tokenizers count more for code and non-English text).
    print(
        f"metadata: context window {llm.metadata.context_window}, "
        f"function calling {llm.metadata.is_function_calling_model}"
    )

    print(f"complete: {llm.complete('The three states of matter are').text}")

    print("stream_chat: ", end="")
    for chunk in llm.stream_chat(messages):
        print(chunk.delta or "", end="", flush=True)
    print()

    async def ask_async() -> str:
        return str(await llm.acomplete("Say hello asynchronously."))

    print(f"acomplete: {asyncio.run(ask_async())}")
    llm.close()


if __name__ == "__main__":
    main()
