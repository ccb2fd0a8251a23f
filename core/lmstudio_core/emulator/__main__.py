"""Command line: ``python -m lmstudio_core.emulator [--port 1234] ...``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from ._catalog import load_catalog_file
from ._real_options import with_real_engines
from ._server import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lmstudio_core.emulator",
        description="Serve LM Studio's SDK protocol with deterministic (or real) models.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1234, help="port (default 1234; 0 = free)")
    parser.add_argument("--catalog", metavar="FILE", help="catalog file (.json or .toml)")
    parser.add_argument(
        "--api-token",
        action="append",
        metavar="TOKEN",
        help="require this API token (sk-lm-xxxxxxxx:yyyy...); repeatable",
    )
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=None,
        help="generation rate (default: as fast as possible)",
    )
    parser.add_argument("--strict", action="store_true", help="also answer invalid requests")
    real = parser.add_mutually_exclusive_group()
    real.add_argument(
        "--real",
        action="store_true",
        help="add the real models (llama.cpp SmolLM2-135M, ONNX all-MiniLM-L6-v2) to the catalog",
    )
    real.add_argument(
        "--real-only", action="store_true", help="serve only the real models (preloaded)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    return parser


async def _serve(emulator: Emulator) -> None:
    await emulator.start()
    print(f"LM Studio emulator listening on {emulator.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    try:
        catalog = load_catalog_file(args.catalog) if args.catalog else None
        options = with_real_engines({"catalog": catalog}, real=args.real, real_only=args.real_only)
        emulator = Emulator(
            host=args.host,
            port=args.port,
            api_tokens=args.api_token,
            tokens_per_second=args.tokens_per_second,
            strict=args.strict,
            **options,
        )
    except (ImportError, OSError, ValueError) as exc:  # ImportError: no real engines
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(emulator))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("LM Studio emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
