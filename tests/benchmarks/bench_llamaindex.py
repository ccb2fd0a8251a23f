"""Streaming throughput of ``LMStudio.stream_chat`` against the core SDK's own stream.

Both read the same scripted reply from one LM Studio emulator in the same run, alternately,
so the ratio shows what the LlamaIndex layer (message conversion, one ``ChatResponse``
per fragment, LlamaIndex's callback and instrumentation wrappers) costs per token.

    python tests/benchmarks/bench_llamaindex.py [--tokens 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from llama_index.core.base.llms.types import ChatMessage
from lmstudio_core import AsyncClient, Client, TextFragment
from lmstudio_core.emulator import EmulatorThread

from lmstudio_integrations.llamaindex import LMStudio

MODEL = "qwen2.5-0.5b-instruct"
PROMPT = "Tell me a long story"


def reply_text(tokens: int) -> str:
    return " ".join(f"word{i % 50}" for i in range(tokens))


def timed(run: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    count = run()
    return count, time.perf_counter() - start


async def atimed(run: Callable[[], Awaitable[int]]) -> tuple[int, float]:
    start = time.perf_counter()
    count = await run()
    return count, time.perf_counter() - start


def report(name: str, baseline: list[float], adapter: list[float]) -> None:
    base, ours = statistics.median(baseline), statistics.median(adapter)
    print(
        f"{name:<6} core SDK {base:10.0f} fragments/s   LMStudio {ours:10.0f} chunks/s   "
        f"ratio {ours / base:5.2f}"
    )


def bench_sync(emu: EmulatorThread, text: str, rounds: int) -> None:
    client = Client(emu.base_url)
    model = client.llm.model(MODEL)
    llm = LMStudio(model_name=MODEL, base_url=emu.base_url)

    def core() -> int:
        emu.engine.script_reply(text)
        with model.respond_stream(PROMPT) as stream:
            return sum(1 for event in stream if isinstance(event, TextFragment))

    def adapter() -> int:
        emu.engine.script_reply(text)
        return sum(1 for chunk in llm.stream_chat([ChatMessage(content=PROMPT)]) if chunk.delta)

    core(), adapter()  # warm up: connections, model handles
    baseline, ours = [], []
    for _ in range(rounds):
        count, seconds = timed(core)
        baseline.append(count / seconds)
        count, seconds = timed(adapter)
        ours.append(count / seconds)
    report("sync", baseline, ours)
    llm.close()
    client.close()


async def bench_async(emu: EmulatorThread, text: str, rounds: int) -> None:
    client = AsyncClient(emu.base_url)
    model = await client.llm.model(MODEL)
    llm = LMStudio(model_name=MODEL, base_url=emu.base_url)

    async def core() -> int:
        emu.engine.script_reply(text)
        async with model.respond_stream(PROMPT) as stream:
            return sum([1 async for event in stream if isinstance(event, TextFragment)])

    async def adapter() -> int:
        emu.engine.script_reply(text)
        stream = await llm.astream_chat([ChatMessage(content=PROMPT)])
        return sum([1 async for chunk in stream if chunk.delta])

    await core()
    await adapter()
    baseline, ours = [], []
    for _ in range(rounds):
        count, seconds = await atimed(core)
        baseline.append(count / seconds)
        count, seconds = await atimed(adapter)
        ours.append(count / seconds)
    report("async", baseline, ours)
    await llm.aclose()
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000, help="reply length in words")
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of each side")
    args = parser.parse_args()
    text = reply_text(args.tokens)
    with EmulatorThread(port=0) as emu:
        print(f"{args.tokens}-word reply, median of {args.rounds} runs, emulator at full speed")
        bench_sync(emu, text, args.rounds)
        asyncio.run(bench_async(emu, text, args.rounds))


if __name__ == "__main__":
    main()
