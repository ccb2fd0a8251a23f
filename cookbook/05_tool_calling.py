"""Tool calling: one round by hand (run the tool, send its result back), then ``act()``.

Tools are plain Python functions: the name, docstring and type hints become the schema.
``respond(tools=...)`` returns the model's tool calls without running anything;
``act()`` runs them and loops until the model answers.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine; ``LMSTUDIO_MODEL``
selects the model (default ``qwen2.5-0.5b-instruct``; use one trained for tool use).
"""

from __future__ import annotations

import os

from lmstudio_core import Chat, Client

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: Name of the city, e.g. "Paris".
    """
    return {"paris": "18 °C, sunny"}.get(city.lower(), "21 °C, cloudy")


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


def main() -> None:
    with Client(BASE_URL) as client:
        model = client.llm.model(MODEL)

        # 1. One round by hand.
        chat = Chat("Use the tools when they help.")
        chat.add_user_message("What is the weather in Paris right now?")
        result = model.respond(chat, tools=[get_weather], temperature=0)
        chat.add_assistant_response(result)  # keeps the tool calls in the history
        for call in result.tool_calls:
            output = get_weather(**call.arguments)
            print(f"Tool call: {call.name}({call.arguments}) -> {output}")
            chat.add_tool_result(call, output)
        if result.tool_calls:  # send the results back for the final answer
            result = model.respond(chat, tools=[get_weather], temperature=0)
        print(f"Answer: {result.content}")

        # 2. act(): the SDK runs the tools, over as many rounds as the model needs.
        done = model.act("What is 12 + 30? Use the add tool.", [add, get_weather], max_rounds=4)
        for number, prediction in enumerate(done.rounds, start=1):
            calls = ", ".join(f"{c.name}({c.arguments})" for c in prediction.tool_calls)
            print(f"Round {number}: {calls or 'final answer'}")
        print(f"act() answer: {done.content}")


if __name__ == "__main__":
    main()
