"""LangChain tool calling: ``bind_tools`` and a small agent loop that runs the tools.

The model answers with ``tool_calls``; the loop runs each tool, sends back a
``ToolMessage`` and asks again until the model replies with text.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
``ChatLMStudio`` reads ``LMSTUDIO_BASE_URL`` (else finds a local LM Studio);
``LMSTUDIO_MODEL`` selects the model (default ``qwen2.5-0.5b-instruct``; use one trained
for tool use).
"""

from __future__ import annotations

import os

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, tool

from lmstudio_integrations.langchain import ChatLMStudio

MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@tool
def get_population(city: str) -> int:
    """Population of a city."""
    return {"paris": 2_100_000, "lyon": 520_000}.get(city.lower(), 100_000)


def main() -> None:
    tools: dict[str, BaseTool] = {t.name: t for t in (add, get_population)}
    llm = ChatLMStudio(model=MODEL, temperature=0).bind_tools(list(tools.values()))

    messages: list[BaseMessage] = [
        SystemMessage("Use the tools for facts and arithmetic."),
        HumanMessage("What is the population of Paris? Use get_population."),
    ]
    for _ in range(5):  # at most five model turns
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            result = tools[call["name"]].invoke(call)  # a ToolMessage with the call's id
            print(f"tool {call['name']}({call['args']}) -> {result.content}")
            messages.append(result)
    print(f"Answer: {messages[-1].text}")
    print(f"Conversation: {' -> '.join(type(m).__name__ for m in messages)}")


if __name__ == "__main__":
    main()
