"""The ``files`` namespace: client-scoped temporary files.

Uploads are written to a private temporary directory and belong to the client that
uploaded them; they are deleted when that client's last connection closes, and the
directory goes away when the emulator stops.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _errors
from ._endpoint import Endpoint, Request, rpc
from ._instances import now_ms
from ._params import FileNameParams, UploadFileParams

__all__ = ["FileStore", "StoredFile", "files_endpoints", "sniff_file_type"]

logger = logging.getLogger(__name__)

_IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
_TEXT_OTHER_EXTENSIONS = frozenset(
    {".md", ".csv", ".json", ".html", ".htm", ".xml", ".py", ".js", ".ts", ".yaml", ".yml"}
)
_WORD_EXTENSIONS = frozenset({".docx", ".doc"})


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One uploaded file."""

    identifier: str
    name: str
    path: Path
    file_type: str
    size_bytes: int
    client: str


def sniff_file_type(name: str, data: bytes) -> str:
    """Classify a file as LM Studio's ``FileType`` from magic bytes, then extension."""
    ext = Path(name).suffix.lower()
    if (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or data[:6] in (b"GIF87a", b"GIF89a")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    ):
        return "image"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if ext in _WORD_EXTENSIONS and (
        data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0")
    ):
        return "application/word"
    if ext in _IMAGE_EXTENSIONS:
        return "image"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    if ext in ("", ".txt", ".text", ".log"):
        return "text/plain"
    if ext in _TEXT_OTHER_EXTENSIONS:
        return "text/other"
    return "text/other"


class FileStore:
    """Uploaded files by client; files live in a private temporary directory."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._dir: Path | None = None
        self._counter = itertools.count(1)

    def _directory(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="lmstudio-emulator-files-"))
        return self._dir

    def add(self, client: str, name: str, data: bytes) -> StoredFile:
        ext = re.sub(r"[^A-Za-z0-9.]", "", Path(name).suffix)[:16]
        identifier = f"{now_ms()} - {next(self._counter)}{ext}"
        path = self._directory() / identifier
        path.write_bytes(data)
        stored = StoredFile(identifier, name, path, sniff_file_type(name, data), len(data), client)
        self._files[identifier] = stored
        return stored

    def get(self, client: str, identifier: str) -> StoredFile | None:
        stored = self._files.get(identifier)
        return stored if stored is not None and stored.client == client else None

    def drop_client(self, client: str) -> None:
        for identifier, stored in list(self._files.items()):
            if stored.client == client:
                del self._files[identifier]
                stored.path.unlink(missing_ok=True)

    def count(self, client: str | None = None) -> int:
        return sum(1 for f in self._files.values() if client in (None, f.client))

    def close(self) -> None:
        self._files.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


async def _upload(req: Request, params: UploadFileParams) -> dict[str, Any]:
    try:
        data = base64.b64decode(params.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise _errors.EmulatorError(
            "Failed to decode the uploaded file", cause="contentBase64 is not valid base64"
        ) from None
    stored = req.state.files.add(req.client, params.name, data)
    logger.debug("stored upload %s (%s)", stored.identifier, stored.file_type)
    return {
        "identifier": stored.identifier,
        "fileType": stored.file_type,
        "sizeBytes": stored.size_bytes,
    }


async def _absolute_path(req: Request, params: FileNameParams) -> dict[str, Any]:
    stored = req.state.files.get(req.client, params.file_name)
    if stored is None:
        raise _errors.file_not_found(params.file_name)
    return {"path": str(stored.path.resolve())}


def files_endpoints() -> list[Endpoint]:
    return [
        rpc("uploadFileBase64", UploadFileParams, _upload),
        rpc("getLocalFileAbsolutePath", FileNameParams, _absolute_path),
    ]
