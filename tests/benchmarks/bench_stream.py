"""Streaming and embedding throughput: our clients vs the official SDK vs a bare reader.

Starts the emulator in a subprocess (unlimited token rate, long replies) and measures, in
the same run:

* one long streamed reply: fragments per second;
* 32 concurrent predictions on one socket: total fragments per second;
* embedding 1,000 strings: strings per second;

for our sync client, our async client, the official ``lmstudio`` SDK, and a bare
``websockets`` reader that only ``json.loads`` each frame. Each figure is the median of
``--repeat`` runs (the spread, min-max, is printed next to it), and is shown as a ratio to
the bare reader's median (higher is better; 1.00 = as fast as doing nothing but decode
JSON). A client that fails a run (e.g. its connection timing out) is reported as failed.

Run: ``.venv/bin/python tests/benchmarks/bench_stream.py [--tokens N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from lmstudio_core import AsyncClient, Client, TextFragment
from websockets.sync.client import connect

LLM_KEY = "qwen2.5-0.5b-instruct"
EMBEDDING_KEY = "text-embedding-nomic-embed-text-v1.5"
CONCURRENCY = 32
EMBED_COUNT = 1000

SERVER = """
import sys, time
from lmstudio_core.emulator import EmulatorThread
with EmulatorThread(host="127.0.0.1", port=0, reply_tokens=int(sys.argv[1])) as emu:
    print(emu.port, flush=True)
    sys.stdin.read()
"""


def start_server(tokens: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tokens)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    return process, f"127.0.0.1:{port}"


# -- bare reader ------------------------------------------------------------------------

_AUTH = json.dumps({"authVersion": 1, "clientIdentifier": "bench", "clientPasskey": "bench"})


def _predict_frame(channel_id: int, prompt: str) -> str:
    param = {
        "modelSpecifier": {"type": "query", "query": {"identifier": LLM_KEY}},
        "history": {"messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]},
        "predictionConfigStack": {
            "layers": [{"layerName": "apiOverride", "config": {"fields": []}}]
        },
    }
    return json.dumps(
        {"type": "channelCreate", "endpoint": "predict", "channelId": channel_id,
         "creationParameter": param}
    )  # fmt: skip


def bare_stream(host: str, channels: int) -> int:
    fragments = 0
    with connect(f"ws://{host}/llm", compression=None, max_size=None) as ws:
        ws.send(_AUTH)
        ws.recv()
        for channel_id in range(1, channels + 1):
            ws.send(_predict_frame(channel_id, f"Tell me a long story {channel_id}"))
        open_channels = channels
        while open_channels:
            message = json.loads(ws.recv())
            if message["type"] == "channelSend":
                if message["message"]["type"] == "fragment":
                    fragments += 1
            elif message["type"] in ("channelClose", "channelError"):
                open_channels -= 1
    return fragments


def bare_embed(host: str, texts: list[str]) -> int:
    with connect(f"ws://{host}/embedding", compression=None, max_size=None) as ws:
        ws.send(_AUTH)
        ws.recv()
        spec = {"type": "query", "query": {"identifier": EMBEDDING_KEY}}
        for call_id, text in enumerate(texts, 1):
            param = {"modelSpecifier": spec, "inputString": text}
            ws.send(json.dumps({"type": "rpcCall", "endpoint": "embedString",
                                "callId": call_id, "parameter": param}))  # fmt: skip
        for _ in texts:
            json.loads(ws.recv())
    return len(texts)


# -- our clients ------------------------------------------------------------------------


def run_threads(run: Callable[[int], None], count: int) -> None:
    """``run(i)`` in ``count`` threads; re-raise the first failure (a partial run is no run)."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            run(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def ours_sync_stream(host: str, channels: int) -> int:
    with Client(host) as client:
        model = client.llm.model(LLM_KEY)
        counts = [0] * channels

        def run(index: int) -> None:
            with model.respond_stream(f"Tell me a long story {index + 1}") as stream:
                for event in stream:
                    if type(event) is TextFragment:
                        counts[index] += 1

        run_threads(run, channels)
        return sum(counts)


def ours_async_stream(host: str, channels: int) -> int:
    async def main() -> int:
        async with AsyncClient(host) as client:
            model = await client.llm.model(LLM_KEY)

            async def run(index: int) -> int:
                count = 0
                async with model.respond_stream(f"Tell me a long story {index + 1}") as stream:
                    async for event in stream:
                        if type(event) is TextFragment:
                            count += 1
                return count

            return sum(await asyncio.gather(*(run(i) for i in range(channels))))

    return asyncio.run(main())


def ours_sync_embed(host: str, texts: list[str]) -> int:
    with Client(host) as client:
        return len(client.embedding.model(EMBEDDING_KEY).embed(texts))


def ours_async_embed(host: str, texts: list[str]) -> int:
    async def main() -> int:
        async with AsyncClient(host) as client:
            model = await client.embedding.model(EMBEDDING_KEY)
            return len(await model.embed(texts))

    return asyncio.run(main())


# -- the official SDK -------------------------------------------------------------------


def official_stream(host: str, channels: int) -> int:
    import lmstudio

    with lmstudio.Client(host) as client:
        model = client.llm.model(LLM_KEY)
        counts = [0] * channels

        def run(index: int) -> None:
            stream = model.respond_stream(f"Tell me a long story {index + 1}")
            for _fragment in stream:
                counts[index] += 1

        run_threads(run, channels)
        return sum(counts)


def official_embed(host: str, texts: list[str]) -> int:
    import lmstudio

    with lmstudio.Client(host) as client:
        return len(client.embedding.model(EMBEDDING_KEY).embed(texts))


# -- measurement ------------------------------------------------------------------------


def rates(fn: Callable[..., int], *args: Any, repeat: int) -> list[float]:
    """Items per second of each of ``repeat`` runs (empty if a run failed)."""
    found = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            count = fn(*args)
        except Exception as exc:
            print(f"  ({fn.__name__} failed: {type(exc).__name__}: {exc})")
            return []
        found.append(count / (time.perf_counter() - start))
    return found


def report(title: str, unit: str, runs: dict[str, list[float]]) -> None:
    print(f"\n{title}")
    bare = runs["bare websockets + json.loads"]
    baseline = statistics.median(bare) if bare else None
    for name, values in runs.items():
        if not values:
            print(f"  {name:32s} {'failed':>12s}")
            continue
        value = statistics.median(values)
        spread = f"{min(values):,.0f}-{max(values):,.0f}"
        ratio = f"{value / baseline:5.2f}x" if baseline else "    -"
        print(f"  {name:32s} {value:12,.0f} {unit}/s  {ratio}   (runs: {spread})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20000, help="fragments in the long reply")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median shown)")
    args = parser.parse_args()
    process, host = start_server(args.tokens)
    try:
        streams: dict[str, Callable[[str, int], int]] = {
            "bare websockets + json.loads": bare_stream,
            "lmstudio_core Client (sync)": ours_sync_stream,
            "lmstudio_core AsyncClient": ours_async_stream,
            "official lmstudio SDK (sync)": official_stream,
        }
        for channels, title in ((1, "One long reply"), (CONCURRENCY, "32 concurrent replies")):
            runs = {name: rates(fn, host, channels, repeat=args.repeat)
                    for name, fn in streams.items()}  # fmt: skip
            report(f"{title} ({args.tokens} fragments each)", "fragments", runs)
        texts = [f"sentence number {i} about benchmarks" for i in range(EMBED_COUNT)]
        embeds: dict[str, Callable[[str, list[str]], int]] = {
            "bare websockets + json.loads": bare_embed,
            "lmstudio_core Client (sync)": ours_sync_embed,
            "lmstudio_core AsyncClient": ours_async_embed,
            "official lmstudio SDK (sync)": official_embed,
        }
        runs = {name: rates(fn, host, texts, repeat=args.repeat) for name, fn in embeds.items()}
        report(f"Embedding {EMBED_COUNT} strings", "strings", runs)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)


if __name__ == "__main__":
    main()
