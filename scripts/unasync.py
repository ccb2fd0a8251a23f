"""Write the blocking twins of the asyncio modules: one source, two APIs.

The asyncio code is the source. Each generated file is its source with the substitutions
of :data:`RULES` applied (``async def`` -> ``def``, ``await x`` -> ``x``, ``AsyncClient`` ->
``Client``, ...), then its imports sorted and pruned and its layout formatted by ruff, so
that the result reads as if written by hand. What genuinely differs between the two worlds
(the reader thread or task, locks, waiting, sockets) is not generated: it lives in the
hand-written ``_io.py`` of each side, behind the same names.

Usage::

    python scripts/unasync.py          # regenerate every target
    python scripts/unasync.py --check  # exit 1 and show a diff if a target is stale
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Rule = tuple[str, str]


def phrase(text: str) -> str:
    """A regex for ``text`` in a docstring, where any run of white space may wrap."""
    return r"\s+".join(re.escape(word) for word in text.split())


# Keywords and names first, then docstring wording. Order matters: each rule sees the text
# the rules before it produced.
PROSE: list[Rule] = [
    (phrase("safe to share between the tasks of one event loop"), "safe to share between threads"),
    (phrase(
        "The sockets belong to the event loop they were opened in; if that loop is closed "
        "while they are open, the next request (in another loop) or :meth:`close` (awaited in "
        "any loop) frees them."
    ), ""),
    (phrase("a cancelled task"), "Ctrl-C"),
    (phrase("with the asyncio client"), "with ``AsyncClient`` only"),
    (r"\bAn asyncio\b", "A blocking"),
    (r"\ban asyncio\b", "a blocking"),
    (r"\bAsyncio\b", "Blocking"),
    (r"\basyncio\b", "blocking"),
    (r"\ban async (?=[a-z])", "a "),
    (r"\basync (?=context manager|iterator)", ""),
    (r"\bawait (?=:meth:|``)", "call "),
]  # fmt: skip
CODE: list[Rule] = [
    # ``(await x.f(y)).z`` -> ``x.f(y).z``; ``[e async for e in s]`` -> ``list(s)``
    (r"(?<![\w)\]])\(await ([\w.]++(?:\([^()]*+\)[\w.]*+)*+)\)", r"\1"),
    (r"\[(\w+) async for \1 in ([\w.]+)\]", r"list(\2)"),
    (r"\basync (def|with|for)\b", r"\1"),
    (r"\bawait (?!:meth:|``)", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\baiter\(", "iter("),
    (r"\banext\(", "next("),
    (r"\bAwaitable\[(\w+)\]", r"\1"),
    (r"\bAsync(?=[A-Z])", ""),
]
RULES: list[Rule] = CODE + PROSE
TEST_RULES: list[Rule] = [
    (r"\baclient\b", "client"),
    (r"\basyncio\.sleep\(", "time.sleep("),
    (r"\basyncio\.to_thread\(([\w.]+), ", r"\1("),
    (r"^import asyncio$", "import time"),
    (r"\bthe asyncio client\b", "the blocking client"),
]


@dataclass(frozen=True)
class Target:
    source: str
    target: str
    extra: tuple[Rule, ...] = ()

    @property
    def rules(self) -> list[Rule]:
        return [*self.extra, *RULES]


CORE = "core/lmstudio_core"
TESTS = "tests/core/io"
TARGETS = [
    *(Target(f"{CORE}/_async/{name}.py", f"{CORE}/_sync/{name}.py")
      for name in ("client", "models", "streams", "transport")),
    *(Target(f"{TESTS}/test_{name}_async.py", f"{TESTS}/test_{name}_sync.py", tuple(TEST_RULES))
      for name in ("client", "cancellation", "faults", "retry")),
]  # fmt: skip


def header(target: Target) -> str:
    return f"# Generated from {target.source} by scripts/unasync.py: do not edit.\n"


def substitute(text: str, rules: Sequence[Rule]) -> str:
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def ruff(args: list[str], text: str, filename: str) -> str:
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", filename, "-"]
    done = subprocess.run(
        command, input=text, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise SystemExit(f"ruff {' '.join(args)} failed on {filename}:\n{done.stderr}")
    return done.stdout


def generate(target: Target, root: Path = ROOT) -> str:
    """The text the target file should have."""
    source = (root / target.source).read_text(encoding="utf-8")
    text = header(target) + substitute(source, target.rules)
    text = ruff(["check", "--fix", "--quiet", "--select", "I,F401,RUF022", "--exit-zero"], text,
                target.target)  # fmt: skip
    return ruff(["format", "--quiet"], text, target.target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a target is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = []
    for target in TARGETS:
        expected = generate(target, args.root)
        path = args.root / target.target
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == expected:
            continue
        if args.check:
            stale.append(target.target)
            sys.stdout.writelines(difflib.unified_diff(
                current.splitlines(keepends=True), expected.splitlines(keepends=True),
                f"{target.target} (committed)", f"{target.target} (generated)",
            ))  # fmt: skip
        else:
            path.write_text(expected, encoding="utf-8")
            print(f"wrote {target.target}")
    if stale:
        print(f"\nstale generated files: {', '.join(stale)}", file=sys.stderr)
        print("run: python scripts/unasync.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
