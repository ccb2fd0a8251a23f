"""LangChain chat model: invoke, stream, a prompt | model | parser chain, and async.

``ChatLMStudio`` is a regular LangChain chat model: messages in, ``AIMessage`` out, with
token usage and timings in its metadata. Nothing connects until the first call.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``).
``ChatLMStudio`` reads ``LMSTUDIO_BASE_URL`` (else finds a local LM Studio);
``LMSTUDIO_MODEL`` selects the model (default ``qwen2.5-0.5b-instruct``).
"""

from __future__ import annotations

import asyncio
import os

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from lmstudio_integrations.langchain import ChatLMStudio

MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")


def main() -> None:
    llm = ChatLMStudio(model=MODEL, temperature=0.2, max_tokens=200)

    reply = llm.invoke([SystemMessage("You are terse."), HumanMessage("What is a haiku?")])
    print(f"invoke: {reply.text}")
    print(f"usage: {reply.usage_metadata}")

    print("stream: ", end="")
    for chunk in llm.stream("Name three rivers in Europe."):
        print(chunk.text, end="", flush=True)
    print()

    prompt = ChatPromptTemplate.from_messages(
        [("system", "You translate English into {language}."), ("human", "{text}")]
    )
    chain = prompt | llm | StrOutputParser()
    print(f"chain: {chain.invoke({'language': 'French', 'text': 'Good morning!'})}")
    for answer in chain.batch([{"language": "German", "text": t} for t in ("Yes", "No")]):
        print(f"batch: {answer}")

    async def ask_async() -> str:
        message = await llm.ainvoke("Say hello asynchronously.")
        return message.text

    print(f"ainvoke: {asyncio.run(ask_async())}")


if __name__ == "__main__":
    main()
