"""LlamaIndex agent: a ``FunctionAgent`` whose tools are plain Python functions.

The agent uses LM Studio's native tool calling; its events show each tool call as it
happens.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``; use one trained for tool use).
"""

from __future__ import annotations

import asyncio
import os

from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

from lmstudio_integrations.llamaindex import LMStudio

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


async def main() -> None:
    llm = LMStudio(model_name=MODEL, base_url=BASE_URL, temperature=0)
    agent = FunctionAgent(
        tools=[add, multiply],
        llm=llm,
        system_prompt="You are a calculator. Always use the tools for arithmetic.",
    )

    handler = agent.run("What is 12 + 30? Use the add tool.")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
    response = await handler
    print(f"Agent answer: {response}")
    await llm.aclose()


if __name__ == "__main__":
    asyncio.run(main())
