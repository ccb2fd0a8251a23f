"""The emulator uses the protocol layer and its own modules, never client code."""

from __future__ import annotations

import ast
from pathlib import Path

import lmstudio_core.emulator as emulator_package

ALLOWED_INTERNAL = ("lmstudio_core.protocol", "lmstudio_core.emulator")


def _imports(path: Path, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


def test_emulator_imports_no_client_code() -> None:
    root = Path(emulator_package.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root.parent.parent).with_suffix("")
        package = ".".join(relative.parts[:-1])
        for name in _imports(path, package):
            if name.startswith("lmstudio_core") and not name.startswith(ALLOWED_INTERNAL):
                offenders.append((str(path.relative_to(root)), name))
            if name == "lmstudio" or name.startswith(("lmstudio.", "lmstudio_integrations")):
                offenders.append((str(path.relative_to(root)), name))
    assert offenders == []
