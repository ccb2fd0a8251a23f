"""A web service (FastAPI + uvicorn) that builds its model objects per request.

Prerequisites: ``pip install fastapi uvicorn httpx``, LM Studio with its server running (or
``python -m lmstudio_core.emulator``); ``LMSTUDIO_BASE_URL`` / ``LMSTUDIO_MODEL`` as usual.

Model objects hold settings, not connections: building one per request is cheap.
Connections are shared by every object with the same settings (one per event loop for
async code) and closed when no object uses them. ``--serve`` serves on port 8000; without
it the script serves on a free port, calls itself and stops.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from lmstudio_integrations.langchain import ChatLMStudio, LMStudioEmbeddings

MODEL = os.environ.get("LMSTUDIO_MODEL", "qwen2.5-0.5b-instruct")
EMBEDDING_MODEL = os.environ.get("LMSTUDIO_EMBEDDING_MODEL", "text-embedding-nomic-embed-text-v1.5")

app = FastAPI(title="LM Studio chat service")


class Question(BaseModel):
    text: str


@app.post("/chat")
def chat(question: Question) -> dict[str, str]:
    # A plain ``def`` endpoint: FastAPI runs it in its thread pool.
    llm = ChatLMStudio(model=MODEL, temperature=0.2, max_tokens=64)
    return {"answer": llm.invoke(question.text).text}


@app.post("/achat")
async def achat(question: Question) -> dict[str, str]:
    # An ``async def`` endpoint: it runs in the server's event loop.
    llm = ChatLMStudio(model=MODEL, temperature=0.2, max_tokens=64)
    return {"answer": (await llm.ainvoke(question.text)).text}


@app.post("/embed")
async def embed(question: Question) -> dict[str, int]:
    embeddings = LMStudioEmbeddings(model=EMBEDDING_MODEL)
    return {"dimensions": len(await embeddings.aembed_query(question.text))}


def serve_in_background(port: int = 0) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="web-service", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread


async def call_the_service(base_url: str, requests: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for path in ("/chat", "/achat", "/embed"):
            replies = await asyncio.gather(
                *(http.post(path, json={"text": f"Question {i}?"}) for i in range(requests))
            )
            assert all(reply.status_code == 200 for reply in replies), replies[0].text
            print(f"{path}: {len(replies)} requests answered, e.g. {replies[0].json()}")


def main() -> None:
    if "--serve" in sys.argv:
        uvicorn.run(app, host="127.0.0.1", port=8000)
        return
    server, thread = serve_in_background()
    port = server.servers[0].sockets[0].getsockname()[1]
    asyncio.run(call_the_service(f"http://127.0.0.1:{port}", requests=20))
    server.should_exit = True
    thread.join()
    print("Service stopped")


if __name__ == "__main__":
    main()
