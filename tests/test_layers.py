"""The layer rules of the architecture, checked on the import statements of every module.

Run directly (``python tests/test_layers.py``) as a gate, or through pytest.

Rules:
- ``lmstudio_core.protocol`` and the emulator's engine are pure: no I/O, threads or event
  loops, and nothing from the rest of the SDK.
- The domain modules of ``lmstudio_core`` (everything but the public ``__init__``, the
  ``_sync``/``_async`` transports and facades, and the emulator) do no I/O either, and never
  import a transport or the emulator.
- The emulator never imports the client (``_sync``, ``_async``, or the package root that
  re-exports it).
- ``lmstudio_core`` never imports the frameworks, the adapters or the official SDK.
- The adapters use the public SDK API only and are independent of each other.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "lmstudio_core": ROOT / "core" / "lmstudio_core",
    "lmstudio_integrations": ROOT / "lmstudio_integrations",
}
IO_MODULES = ("asyncio", "threading", "socket", "selectors", "websockets", "concurrent")
FRAMEWORKS = ("langchain_core", "langchain", "llama_index", "lmstudio_integrations", "lmstudio")


def module_name(package: str, path: Path) -> str:
    parts = [package, *path.relative_to(PACKAGES[package]).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """Yield (line, absolute module name) for every import in the file."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = module.split(".")
                drop = node.level - 1 if is_package else node.level
                anchor = anchor[: len(anchor) - drop] if drop else anchor
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations_for(module: str, imported: str) -> Iterator[str]:
    if within(module, "lmstudio_core"):
        if within(imported, *FRAMEWORKS):
            yield "lmstudio_core must not import frameworks, adapters or the official SDK"
        pure = within(module, "lmstudio_core.protocol", "lmstudio_core.emulator._engine")
        transports = within(module, "lmstudio_core._sync", "lmstudio_core._async")
        emulator = within(module, "lmstudio_core.emulator")
        domain = not (pure or transports or emulator or module == "lmstudio_core")
        if (pure or domain) and within(imported, *IO_MODULES):
            yield "protocol, domain and engine code must not do I/O"
        protocol = within(module, "lmstudio_core.protocol")
        outside = within(imported, "lmstudio_core") and not within(
            imported, "lmstudio_core.protocol"
        )
        if protocol and outside:
            yield "the protocol layer imports nothing else from lmstudio_core"
        if (domain or pure or emulator) and within(
            imported, "lmstudio_core._sync", "lmstudio_core._async"
        ):
            yield "only the package root may import the transports and facades"
        if emulator and imported == "lmstudio_core":
            yield "the emulator must not import the client facades through the package root"
        if (domain or pure) and within(imported, "lmstudio_core.emulator") and not emulator:
            yield "the SDK must not depend on the emulator"
    if within(module, "lmstudio_integrations"):
        private = any(part.startswith("_") for part in imported.split(".")[1:])
        if within(imported, "lmstudio_core") and (
            private or within(imported, "lmstudio_core.protocol")
        ):
            yield "adapters use the public lmstudio_core API only"
        for own, other in (("langchain", "llamaindex"), ("llamaindex", "langchain")):
            if within(module, f"lmstudio_integrations.{own}") and within(
                imported, f"lmstudio_integrations.{other}"
            ):
                yield "the LangChain and LlamaIndex adapters are independent"


def find_violations() -> list[str]:
    found = []
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            module = module_name(package, path)
            for line, imported in imports_of(path, module):
                for rule in violations_for(module, imported):
                    rel = path.relative_to(ROOT)
                    found.append(f"{rel}:{line}: imports {imported}: {rule}")
    return sorted(set(found))


def test_layers_are_respected() -> None:
    assert find_violations() == []


def test_checker_catches_violations() -> None:
    assert list(violations_for("lmstudio_core.protocol.connection", "asyncio"))
    assert list(violations_for("lmstudio_core.protocol.events", "lmstudio_core.errors"))
    assert list(violations_for("lmstudio_core.chat", "lmstudio_core._sync.client"))
    assert list(violations_for("lmstudio_core.emulator._server", "lmstudio_core"))
    assert list(violations_for("lmstudio_core.errors", "langchain_core.messages"))
    assert list(violations_for("lmstudio_integrations.langchain.x", "lmstudio_core.protocol"))
    assert list(violations_for("lmstudio_integrations.langchain.x", "lmstudio_core._sync"))
    assert list(
        violations_for("lmstudio_integrations.llamaindex.x", "lmstudio_integrations.langchain")
    )
    assert not list(violations_for("lmstudio_core._async.transport", "asyncio"))
    assert not list(violations_for("lmstudio_core.emulator._server", "lmstudio_core.protocol"))
    assert not list(violations_for("lmstudio_integrations.langchain.x", "lmstudio_core"))


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    source = tmp_path / "__init__.py"
    source.write_text("from .events import X\nfrom ..errors import Y\n")
    found = [name for _, name in imports_of(source, "lmstudio_core.protocol")]
    assert "lmstudio_core.protocol.events.X" in found
    assert "lmstudio_core.errors.Y" in found


if __name__ == "__main__":
    problems = find_violations()
    for problem in problems:
        print(problem)  # noqa: T201
    print(f"layer check: {len(problems)} violation(s)")  # noqa: T201
    sys.exit(1 if problems else 0)
