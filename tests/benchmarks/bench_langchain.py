"""The LangChain adapter's overhead: ChatLMStudio.stream against lmstudio-core's stream.

Starts the emulator in a subprocess (unlimited token rate) and measures, in the same run
and against the same server:

* one long streamed reply: chunks (fragments) per second;
* many short replies: calls per second (per-call overhead: message conversion,
  callbacks, chunk merging);

for lmstudio-core's blocking and async streams (the baseline) and ``ChatLMStudio.stream``
/ ``astream``. Each figure is the best of ``--repeat`` runs, runs interleaved; the ratio
is adapter / core (1.00 = no overhead, higher is better).

Run: ``.venv/bin/python tests/benchmarks/bench_langchain.py [--tokens N] [--calls N]``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

from lmstudio_core import AsyncClient, Client, TextFragment

from lmstudio_integrations.langchain import ChatLMStudio

MODEL = "qwen2.5-0.5b-instruct"
PROMPT = "Tell me a long story about a lighthouse."

SERVER = """
import sys
from lmstudio_core.emulator import EmulatorThread
with EmulatorThread(host="127.0.0.1", port=0, reply_tokens=int(sys.argv[1])) as emu:
    print(emu.base_url, flush=True)
    sys.stdin.read()
"""

Run = Callable[[int], int]
"""Runs ``n`` predictions and returns the number of text chunks received."""


def start_server(tokens: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tokens)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def core_sync(url: str) -> tuple[Run, Callable[[], None]]:
    client = Client(url)
    model = client.llm.model(MODEL)

    def run(calls: int) -> int:
        count = 0
        for _ in range(calls):
            with model.respond_stream(PROMPT) as stream:
                for event in stream:
                    count += type(event) is TextFragment
        return count

    return run, client.close


def adapter_sync(url: str) -> tuple[Run, Callable[[], None]]:
    chat = ChatLMStudio(model=MODEL, base_url=url)

    def run(calls: int) -> int:
        count = 0
        for _ in range(calls):
            for chunk in chat.stream(PROMPT):
                count += bool(chunk.content)
        return count

    return run, chat.close


def core_async(url: str) -> tuple[Run, Callable[[], None]]:
    def run(calls: int) -> int:
        async def main() -> int:
            async with AsyncClient(url) as client:
                model = await client.llm.model(MODEL)
                count = 0
                for _ in range(calls):
                    async with model.respond_stream(PROMPT) as stream:
                        async for event in stream:
                            count += type(event) is TextFragment
                return count

        return asyncio.run(main())

    return run, lambda: None


def adapter_async(url: str) -> tuple[Run, Callable[[], None]]:
    chat = ChatLMStudio(model=MODEL, base_url=url)

    def run(calls: int) -> int:
        async def main() -> int:
            count = 0
            for _ in range(calls):
                async for chunk in chat.astream(PROMPT):
                    count += bool(chunk.content)
            return count

        return asyncio.run(main())

    return run, chat.close


def best_rates(runs: dict[str, Run], calls: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Best (chunks per second, calls per second) of each run, runs interleaved."""
    best = dict.fromkeys(runs, (0.0, 0.0))
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            chunks = run(calls)
            elapsed = time.perf_counter() - start
            figures = (chunks / elapsed, calls / elapsed)
            best[name] = max(best[name], figures)
    return best


def report(title: str, rates: dict[str, tuple[float, float]], unit: int) -> None:
    print(f"\n{title}")
    names = {"sync": ("core sync", "adapter sync"), "async": ("core async", "adapter async")}
    for kind, (core, adapter) in names.items():
        core_rate, adapter_rate = rates[core][unit], rates[adapter][unit]
        label = "chunks/s" if unit == 0 else "calls/s"
        print(
            f"  {kind:5}  core {core_rate:10.0f} {label}   adapter {adapter_rate:10.0f} {label}"
            f"   ratio {adapter_rate / core_rate:5.2f}"
        )


def measure(tokens: int, calls: int, repeat: int, title: str, unit: int) -> None:
    process, url = start_server(tokens)
    closers: list[Callable[[], None]] = []
    try:
        runs: dict[str, Run] = {}
        for name, make in (
            ("core sync", core_sync),
            ("adapter sync", adapter_sync),
            ("core async", core_async),
            ("adapter async", adapter_async),
        ):
            run, close = make(url)
            run(1)  # warm up: connect, load, caches
            runs[name] = run
            closers.append(close)
        report(title, best_rates(runs, calls, repeat), unit)
    finally:
        for close in closers:
            close()
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=4000, help="tokens of the long reply")
    parser.add_argument("--calls", type=int, default=100, help="number of short replies")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best kept)")
    args = parser.parse_args()
    measure(args.tokens, 1, args.repeat, f"one reply of {args.tokens} tokens", unit=0)
    measure(24, args.calls, args.repeat, f"{args.calls} replies of 24 tokens", unit=1)


if __name__ == "__main__":
    main()
